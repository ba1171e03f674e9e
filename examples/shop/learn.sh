#!/bin/bash
# learn.sh: (re)learns each shop service's seccomp profile into
# examples/shop/profiles/, from a trusted run of the real binary under
# `nohype profile learn`. Each service runs alone in a cell that shares the
# host's loopback (no network namespace) so this script can drive it, with
# the services it calls running on the host. Run after a build, as root.
set -euo pipefail
cd "$(dirname "$0")"
NOHYPE=${NOHYPE:-$PWD/../../build/nohype}
BIN=${SHOP_BIN:-$PWD/../../build/shop}
W=$(mktemp -d /tmp/nohype-shop-learn.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$NOHYPE" --root "$W/root" delete --force learn-kv learn-api learn-web >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
mkdir -p profiles
printf '127.0.0.1\tlocalhost kv api\n' > "$W/hosts"

get() { printf '%s %s HTTP/1.0\r\nContent-Length: %s\r\n\r\n%s' "$1" "$3" "${#4}" "$4" | busybox nc -w 3 127.0.0.1 "$2" || true; }
wait_port() { for _ in $(seq 100); do get GET "$1" / "" | grep -q HTTP && return 0; sleep 0.05; done; return 1; }

# bundle SERVICE PORT ENV...: the service's cell, as `up` makes it but on the host's network.
bundle() {
  local svc=$1 port=$2; shift 2
  mkdir -p "$W/$svc"
  "$NOHYPE" spec --bundle "$W/$svc"
  python3 - "$W/$svc/config.json" "$PWD/rootfs" "$svc" "$port" "$@" <<'PY'
import json, sys
path, rootfs, svc, port, *env = sys.argv[1:]
c = json.load(open(path))
c["root"] = {"path": rootfs, "readonly": True}
p = c["process"]
p.update(terminal=False, args=["/bin/" + svc], cwd="/", noNewPrivileges=True,
         user={"uid": 65534, "gid": 65534},
         env=["PATH=/bin", "HOME=/tmp", "PORT=" + port] + env,
         capabilities={"bounding": [], "effective": [], "permitted": []})
c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
# Names resolve through /etc/hosts as in the app, here to the host's loopback.
c["mounts"].append({"destination": "/etc/hosts", "type": "bind", "source": path.rsplit("/", 2)[0] + "/hosts",
                    "options": ["rbind", "ro"]})
json.dump(c, open(path, "w"), indent=2)
PY
}

learn() {
  local svc=$1 port=$2; shift 2
  "$NOHYPE" --root "$W/root" profile learn --bundle "$W/$svc" --output "profiles/$svc.json" "learn-$svc" >/dev/null &
  local learner=$!
  wait_port "$port"
  "$@"
  "$NOHYPE" --root "$W/root" kill "learn-$svc" TERM
  wait "$learner"
  echo "learned profiles/$svc.json: $("$NOHYPE" profile show "profiles/$svc.json" | head -1)"
}

drive_kv() {
  get PUT 17100 /kv/a hello >/dev/null; get GET 17100 /kv/a "" >/dev/null
  get GET 17100 /kv/missing "" >/dev/null; get PUT 17100 /kv/bad%key x >/dev/null
  get DELETE 17100 /kv/a "" >/dev/null; printf 'garbage\r\n\r\n' | busybox nc -w 2 127.0.0.1 17100 >/dev/null || true
}
bundle kv 17100
learn kv 17100 drive_kv

# api, with kv on the host; once with kv down, for the error path.
PORT=17200 "$BIN/kv" 2>/dev/null & pids+=($!)
wait_port 17200
drive_api() {
  for p in /api/visits /api/visits /api/health /nope; do get GET 17101 "$p" "" >/dev/null; done
  get POST 17101 /api/visits x >/dev/null
  kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
  get GET 17101 /api/visits "" >/dev/null
}
bundle api 17101 KV=kv:17200
learn api 17101 drive_api

PORT=17300 "$BIN/kv" 2>/dev/null & pids+=($!)
PORT=17301 KV=127.0.0.1:17300 "$BIN/api" 2>/dev/null & pids+=($!)
wait_port 17301
drive_web() {
  for p in / /api/visits /api/health /nope; do get GET 17102 "$p" "" >/dev/null; done
  get PUT 17102 / x >/dev/null
  kill "${pids[2]}"; wait "${pids[2]}" 2>/dev/null || true
  get GET 17102 /api/visits "" >/dev/null
}
bundle web 17102 API=api:17301
learn web 17102 drive_web
