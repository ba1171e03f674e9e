#!/bin/sh
# make-apps-rootfs.sh DIR: a Debian 12 root filesystem holding real services
# (redis-server, nginx-light, python3 for its http.server) for the learned-profile tests and the README's
# walk-through, made by mmdebstrap from the archive apt is configured with.
# Cached: a DIR holding all three is kept. Also writes the nginx
# config a cell runs it with (port 8080, everything writable under /tmp).
set -eu
dir=${1:?usage: make-apps-rootfs.sh DIR}
if [ ! -x "$dir/usr/sbin/nginx" ] || [ ! -x "$dir/usr/bin/redis-server" ] || [ ! -x "$dir/usr/bin/python3" ]; then
  command -v mmdebstrap >/dev/null || { echo "make-apps-rootfs.sh: mmdebstrap not found (apt-get install mmdebstrap)" >&2; exit 1; }
  rm -rf "$dir.tmp"
  mmdebstrap --variant=essential --include=redis-server,nginx-light,python3 --mode=root --quiet bookworm "$dir.tmp"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
fi
cat > "$dir/etc/nginx/cell.conf" <<'CONF'
# nginx as an unprivileged cell process: no user switch, state under /tmp.
worker_processes 2;
pid /tmp/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path /tmp/body;
  proxy_temp_path /tmp/proxy;
  fastcgi_temp_path /tmp/fastcgi;
  uwsgi_temp_path /tmp/uwsgi;
  scgi_temp_path /tmp/scgi;
  server {
    listen 8080;
    root /usr/share/nginx/html;
  }
}
CONF
