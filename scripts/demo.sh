#!/bin/bash
# demo.sh: the main job. Sets up (install + build), signs the example app's
# image and shows a tampered copy refused, then brings up the example app
# (examples/shop: web -> api -> kv, three static C++ services, each in its own
# cell under a learned seccomp profile, behind a host-side firewall, on one
# shared read-only root from the signed image), uses it, shows what the cells
# cannot do, and leaves it running.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
NOHYPE=$PWD/build/nohype
APP=examples/shop/nohype.toml
get() { printf 'GET %s HTTP/1.0\r\n\r\n' "$2" | busybox nc -w 3 "$1" "${3:-8080}" | tail -1; echo; }

"$NOHYPE" down "$APP" >/dev/null 2>&1 || true   # a previous demo's app
SHOP=$PWD/examples/shop
echo "== publishing: the shop's image (examples/shop/shop.tar), signed with the publisher's minisign key"
mkdir -p "$SHOP/keys"
[ -f "$SHOP/keys/publisher.key" ] || minisign -G -W -p "$SHOP/keys/publisher.pub" -s "$SHOP/keys/publisher.key" >/dev/null
"$NOHYPE" image sign --key "$SHOP/keys/publisher.key" "oci-archive:$SHOP/shop.tar"
# The demo's trust policy: an oci-archive runs only with the publisher's signature; nothing else runs.
printf '{"default": [{"type": "reject"}],\n "transports": {"oci-archive": {"": [{"type": "minisign", "keyPath": "%s"}]}}}\n' \
  "$SHOP/keys/publisher.pub" > "$SHOP/policy.json"
export NOHYPE_POLICY=$SHOP/policy.json
"$NOHYPE" image verify "oci-archive:$SHOP/shop.tar"
echo
echo "== a tampered copy: web's binary changed, the image rebuilt, the publisher's signature kept"
T=$SHOP/tampered
rm -rf "$T" && mkdir -p "$T" && cp -a "$SHOP/rootfs" "$SHOP/profiles" "$T/"
printf 'tampered' >> "$T/rootfs/bin/web"
/usr/bin/python3 "$SHOP/make-image.py" "$T/rootfs" "$T/shop.tar"
cp "$SHOP/shop.tar.minisig" "$T/shop.tar.minisig"
sed 's/^name = "shop"/name = "shopx"/' "$APP" > "$T/nohype.toml"
"$NOHYPE" up "$T/nohype.toml" || echo "(refused: nothing was created)"
echo "recorded: $("$NOHYPE" image events | tail -1)"
echo
echo "== nohype up $APP"
"$NOHYPE" up "$APP"
echo
echo "== using it through the published port"
for _ in $(seq 100); do get 127.0.0.1 /api/health | grep -q ok && break; sleep 0.05; done   # web listens
echo "GET /            -> $(printf 'GET / HTTP/1.0\r\n\r\n' | busybox nc -w 3 127.0.0.1 8080 | grep -o '<title>.*</title>')"
echo "GET /api/visits  -> $(get 127.0.0.1 /api/visits)"
echo "GET /api/visits  -> $(get 127.0.0.1 /api/visits)"
echo
web_pid=$("$NOHYPE" state shop-web | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
from_web() { printf 'GET %s HTTP/1.0\r\n\r\n' "$3" | nsenter --net=/proc/$web_pid/ns/net busybox nc -w 2 "$1" "$2" 2>&1 | tail -1; }
echo "== the firewall, from inside web's network namespace"
echo "web -> api:8000 (declared):    $(from_web 10.89.0.2 8000 /api/health)"
echo "web -> kv:7000 (not declared): $(from_web 10.89.0.3 7000 /kv/visits)"
echo "web -> host 10.89.0.1:22:      $(from_web 10.89.0.1 22 /)"
echo
echo "== the learned seccomp profile: a shell in the web cell makes calls web never made"
"$NOHYPE" exec shop-web sh -c 'echo this never prints' || echo "sh exited with $? (128 + SIGSYS 31)"
sleep 0.3
"$NOHYPE" events --history shop-web | tail -1
echo
echo "== the kv cell: its own core and memory, and what it can reach"
"$NOHYPE" inspect shop-kv
echo
echo "== a changed manifest, applied to the running app: kv gets 96M (the balloon: admitted, no restart), then back"
pid_of() { "$NOHYPE" state "$1" | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])'; }
kv_pid=$(pid_of shop-kv)
# Next to the manifest: its relative paths (the image, the profiles) resolve there.
sed '/^\[services.kv\]/,$ s/^memory = "64M"/memory = "96M"/' "$APP" > "$SHOP/.grown.toml"
"$NOHYPE" up "$SHOP/.grown.toml" | sed -n 1p
echo "kv's pid: $kv_pid before, $(pid_of shop-kv) after; in its cell: $(grep MemTotal "/proc/$(pid_of shop-kv)/root/proc/meminfo")"
rm -f "$SHOP/.grown.toml"
"$NOHYPE" up "$APP" | sed -n 1p
echo
"$NOHYPE" status "$APP"
echo
echo "The app is running: open http://127.0.0.1:8080/ (or: busybox wget -qO- http://127.0.0.1:8080/api/visits)."
echo "Stop it with: sudo $NOHYPE down $APP"
