#!/bin/sh
# make-apps-rootfs.sh DIR: a Debian 12 root filesystem holding real services
# (redis-server, nginx-light, python3 for its http.server, postgresql) for the learned-profile tests and the README's
# walk-through, made by mmdebstrap from the archive apt is configured with.
# Cached: a DIR holding all four is kept. Also writes the nginx config a
# cell runs it with (port 8080, everything writable under /tmp), and the
# script a cell starts postgres with.
set -eu
dir=${1:?usage: make-apps-rootfs.sh DIR}
if [ ! -x "$dir/usr/sbin/nginx" ] || [ ! -x "$dir/usr/bin/redis-server" ] || [ ! -x "$dir/usr/bin/python3" ] ||
   [ ! -x "$dir/usr/lib/postgresql/15/bin/postgres" ]; then
  command -v mmdebstrap >/dev/null || { echo "make-apps-rootfs.sh: mmdebstrap not found (apt-get install mmdebstrap)" >&2; exit 1; }
  rm -rf "$dir.tmp"
  mmdebstrap --variant=essential --include=redis-server,nginx-light,python3,postgresql --mode=root --quiet bookworm "$dir.tmp"
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
cat > "$dir/etc/postgresql/cell-start.sh" <<'SCRIPT'
#!/bin/sh
# postgres as an unprivileged cell process: a fresh cluster in the volume
# mounted at /mnt, trusting every client (the firewall decides who gets in).
set -e
rm -rf /mnt/pg
/usr/lib/postgresql/15/bin/initdb -D /mnt/pg --auth=trust -U postgres >/dev/null
echo 'host all all 0.0.0.0/0 trust' >> /mnt/pg/pg_hba.conf
exec /usr/lib/postgresql/15/bin/postgres -D /mnt/pg -k /tmp -c listen_addresses='*' -c shared_buffers=16MB
SCRIPT
chmod 755 "$dir/etc/postgresql/cell-start.sh"
