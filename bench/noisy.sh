#!/bin/bash
# bench/noisy.sh: isolation under a noisy neighbour. A latency-sensitive task
# (bench/latency.cc: wake every 1 ms, fixed work, measure) runs in one
# container while another burns CPU and memory bandwidth on every CPU it
# sees (bench/noise.cc). Scenarios, in one run, with the same config.json:
#   nohype, alone          the task's cell with a dedicated core, no neighbour
#   nohype, dedicated core  the task's cell holds a core (org.nohype.cores=1);
#                           the neighbour runs in the shared pool
#   runc, default settings  the same pair (runc ignores nohype's annotations)
# Needs root, g++, runc. Writes bench/results/noisy.md and README's section.
set -euo pipefail
cd "$(dirname "$0")/.."
NOHYPE=${NOHYPE:-$PWD/build/nohype}
N=${N:-10000}  # 1 ms ticks per scenario
W=$(mktemp -d /tmp/nohype-noisy.XXXXXX)
R1="$W/nohype-root" R2="$W/runc-root"
cleanup() {
  for id in lat noise; do
    "$NOHYPE" --root "$R1" delete -f "$id" >/dev/null 2>&1 || true
    runc --root "$R2" delete -f "$id" >/dev/null 2>&1 || true
  done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT

sh tests/lib/make-rootfs.sh "$W/rootfs" >/dev/null
g++ -O2 -static -std=c++20 -o "$W/rootfs/bin/latency" bench/latency.cc
g++ -O2 -static -std=c++20 -pthread -o "$W/rootfs/bin/noise" bench/noise.cc
bundle() { # bundle DIR ARGS-JSON ANNOTATIONS-JSON
  mkdir -p "$1"
  "$NOHYPE" spec --bundle "$1"
  python3 - "$1/config.json" "$W/rootfs" "$2" "$3" <<'PY'
import json, sys
path, rootfs, args, ann = sys.argv[1:]
c = json.load(open(path))
c["ociVersion"] = "1.0.2"
c["root"] = {"path": rootfs, "readonly": True}
c["process"]["terminal"] = False
c["process"]["args"] = json.loads(args)
c["annotations"] = json.loads(ann)
json.dump(c, open(path, "w"), indent=2)
PY
}
bundle "$W/lat" "[\"/bin/latency\", \"$N\"]" '{"org.nohype.cores": "1", "org.nohype.memory": "64M"}'
bundle "$W/noise" '["/bin/noise"]' '{}'

results=()
measure() { # measure NAME RUNTIME ROOT WITH_NOISE
  local name=$1 rt=$2 root=$3 noise=$4 out
  if [ "$noise" = yes ]; then
    "$rt" --root "$root" run -d --bundle "$W/noise" noise </dev/null >/dev/null 2>&1
    sleep 1  # let the neighbour fill the caches and the memory bus
  fi
  out=$("$rt" --root "$root" run --bundle "$W/lat" lat </dev/null 2>"$W/err") || { cat "$W/err" >&2; exit 1; }
  "$rt" --root "$root" delete -f lat >/dev/null 2>&1 || true
  [ "$noise" = yes ] && "$rt" --root "$root" delete -f noise >/dev/null 2>&1
  echo "$name: $out" >&2
  results+=("$(python3 -c 'import json,sys; r=json.loads(sys.argv[2]); print("| %s | %.0f | %.0f | %.0f | %.0f |" % (sys.argv[1], r["p50"], r["p99"], r["p999"], r["max"]))' "$name" "$out")")
}
measure "nohype, task alone" "$NOHYPE" "$R1" no
measure "nohype, task on a dedicated core, neighbour in the shared pool" "$NOHYPE" "$R1" yes
measure "runc (default settings), same pair" runc "$R2" yes

mkdir -p bench/results
{
  echo "Latency of a 1 ms periodic task (wake-up to end of its fixed work), $N ticks per row, in µs."
  echo "The neighbour runs one CPU+memcpy-64MiB thread per CPU it sees. Host: $(nproc) vCPUs, $(uname -r)."
  echo
  echo "| scenario | p50 | p99 | p99.9 | max |"
  echo "|---|---:|---:|---:|---:|"
  printf '%s\n' "${results[@]}"
} > bench/results/noisy.md
cat bench/results/noisy.md
if grep -q '<!-- bench:noisy -->' README.md; then
  bash bench/update-readme.sh noisy bench/results/noisy.md
else
  echo "noisy.sh: README.md has no bench:noisy section; results only in bench/results/noisy.md" >&2
fi
