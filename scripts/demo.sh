#!/bin/bash
# demo.sh: set up (install + build), then run real services in cells:
# a busybox web server in its own cell (all namespaces, cgroup limits, dropped
# capabilities, read-only root), queried from a second process exec'd into
# it, and a one-shot cell that shows what a process inside can see.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
NOHYPE=$PWD/build/nohype
W=$(mktemp -d /tmp/nohype-demo.XXXXXX)
ROOT=$W/state
cleanup() { "$NOHYPE" --root "$ROOT" delete --force demo-web >/dev/null 2>&1 || true; rm -rf --one-file-system "$W"; }
trap cleanup EXIT

sh tests/lib/make-rootfs.sh "$W/web/rootfs" >/dev/null
mkdir -p "$W/web/rootfs/www" && echo "hello from a nohype cell" > "$W/web/rootfs/www/index.html"
"$NOHYPE" spec --bundle "$W/web"
# A web server in a cell: 64 MiB, 64 pids, no capabilities beyond binding port 80.
sed -i -e 's/"terminal": true/"terminal": false/' \
       -e 's|"sh"$|"httpd", "-f", "-p", "80", "-h", "/www"|' "$W/web/config.json"
sed -i 's|"resources": {|"resources": {"memory": {"limit": 67108864}, "pids": {"limit": 64},|' "$W/web/config.json"

echo "== starting the web cell"
"$NOHYPE" --root "$ROOT" run --detach --bundle "$W/web" demo-web
"$NOHYPE" --root "$ROOT" list
echo "== a second process in the same cell fetches the page over the cell's own loopback"
for i in $(seq 50); do
  "$NOHYPE" --root "$ROOT" exec demo-web wget -q -O - http://127.0.0.1/index.html 2>/dev/null && break
  sleep 0.1
done
echo "== what the cell sees"
"$NOHYPE" --root "$ROOT" exec demo-web sh -c 'echo "pid 1 is: $(cat /proc/1/comm)"; echo "interfaces: $(ls /sys/class/net | tr "\n" " ")";
  echo "memory limit: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"; echo "capabilities: $(grep CapEff /proc/self/status)";
  touch /etc/x 2>/dev/null && echo "root fs: writable" || echo "root fs: read-only"'
echo "== processes of the cell (seen from the host)"
"$NOHYPE" --root "$ROOT" ps demo-web
"$NOHYPE" --root "$ROOT" delete --force demo-web
echo "== done: the cell and its cgroups are gone"
