#!/bin/bash
# demo-cell.sh: set up (install + build), then look closely at one cell:
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
mkdir -p "$W/web/rootfs/www/cgi-bin"
printf '#!/bin/sh\nsleep 0.3\necho "Content-type: text/plain"\necho\necho slow\n' > "$W/web/rootfs/www/cgi-bin/slow"
chmod +x "$W/web/rootfs/www/cgi-bin/slow"
"$NOHYPE" spec --bundle "$W/web"
# A web server in a cell: 64 MiB, 64 pids, no capabilities beyond binding port 80.
sed -i -e 's/"terminal": true/"terminal": false/' \
       -e 's|"sh"$|"httpd", "-f", "-p", "80", "-h", "/www"|' "$W/web/config.json"
sed -i 's|"resources": {|"resources": {"memory": {"limit": 67108864}, "pids": {"limit": 64},|' "$W/web/config.json"

# Learn the web cell's syscalls from a trusted run: httpd serves one page to wget, then stops.
cp "$W/web/config.json" "$W/web/config.base.json"
# What the demo later runs inside the cell, so the learned profile covers it too.
cat > "$W/web/rootfs/probe.sh" <<'SH'
echo "pid 1 is: $(cat /proc/1/comm)"; echo "interfaces: $(ls /sys/class/net | tr "\n" " ")"
echo "cpus online: $(cat /sys/devices/system/cpu/online), $(grep -c ^processor /proc/cpuinfo) in /proc/cpuinfo"
grep MemTotal /proc/meminfo; echo "capabilities: $(grep CapEff /proc/self/status)"
touch /etc/x 2>/dev/null && echo "root fs: writable" || echo "root fs: read-only"
SH
cat > "$W/web/rootfs/learn.sh" <<'SH'
httpd -f -p 80 -h /www &
for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1/index.html && break; sleep 0.2; done
# A slow answer too: wget polls when the reply is not there yet, which a fast page may never show.
wget -q -O /dev/null http://127.0.0.1/cgi-bin/slow
sh /probe.sh
kill $!
SH
sed -i 's|"httpd", "-f", "-p", "80", "-h", "/www"|"sh", "/learn.sh"|' "$W/web/config.json"
echo "== learning the web service's syscalls (nohype profile learn)"
"$NOHYPE" --root "$ROOT" profile learn --bundle "$W/web" --output "$W/web/seccomp.json" demo-learn >/dev/null
"$NOHYPE" profile show "$W/web/seccomp.json"
# The production cell: the learned profile, and (on 2+ cores) a dedicated core and 64 MiB reserved.
python3 - "$W/web/config.base.json" "$W/web/seccomp.json" "$W/web/config.json" <<'PY'
import json, os, sys
c = json.load(open(sys.argv[1]))
c["linux"]["seccomp"] = json.load(open(sys.argv[2]))
c["annotations"] = {"org.nohype.memory": "64M"}
if os.cpu_count() >= 2:
    c["annotations"]["org.nohype.cores"] = "1"
json.dump(c, open(sys.argv[3], "w"), indent=2)
PY

echo "== starting the web cell"
"$NOHYPE" --root "$ROOT" run --detach --bundle "$W/web" demo-web
"$NOHYPE" --root "$ROOT" list
echo "== a second process in the same cell fetches the page over the cell's own loopback"
for i in $(seq 50); do
  "$NOHYPE" --root "$ROOT" exec demo-web wget -q -O - http://127.0.0.1/index.html 2>/dev/null && break
  sleep 0.1
done
echo "== what the cell sees: its own machine, not the host's"
"$NOHYPE" --root "$ROOT" exec demo-web sh /probe.sh
echo "== a syscall the service never made kills the process (seccomp, learned profile)"
"$NOHYPE" --root "$ROOT" exec demo-web chroot / true || echo "chroot exited with $? (128 + SIGSYS 31)"
echo "== everything the cell can reach (nohype inspect)"
"$NOHYPE" --root "$ROOT" inspect demo-web
echo "== the host partition table (nohype host)"
"$NOHYPE" --root "$ROOT" host
echo "== processes of the cell (seen from the host)"
"$NOHYPE" --root "$ROOT" ps demo-web
"$NOHYPE" --root "$ROOT" kill --timeout 2s demo-web TERM
"$NOHYPE" --root "$ROOT" delete demo-web
echo "== done: the cell, its cgroups and its reservation are gone"
