#!/bin/bash
# bench/noisy.sh: isolation under a noisy neighbour. A latency-sensitive task
# (bench/latency.cc: wake every 1 ms, do ~50 us of work over 256 KiB, measure
# from the tick it was due at to the end of the work) runs in one container
# while a neighbour container burns CPU and memory bandwidth with one
# spin+memcpy-64MiB thread per online CPU (bench/noise.cc). In one run:
#   nohype, task alone       the task's cell holds a dedicated core
#                            (org.nohype.cores=1), no neighbour: the floor
#   nohype, dedicated core   the same cell; the neighbour runs in the shared
#                            pool (no annotation)
#   runc, default settings   the same pair, the same configs minus nohype's
#                            annotations (so no cpuset: both may use every CPU)
# Needs root, g++ (static libstdc++), python3, runc. About 70 s with the
# defaults. Writes bench/results/noisy.md and the README's noisy section.
set -euo pipefail
cd "$(dirname "$0")/.."
NOHYPE=${NOHYPE:-$PWD/build/nohype}
N=${N:-20000}    # 1 ms ticks measured per scenario
PASSES=${PASSES:-4}  # passes over the task's 256 KiB per tick (~50 us here)
for tool in g++ python3 runc "$NOHYPE"; do
  command -v "$tool" >/dev/null || { echo "noisy.sh: $tool not found" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "noisy.sh: needs root" >&2; exit 1; }

W=$(mktemp -d /tmp/nohype-noisy.XXXXXX)
R1="$W/nohype-root" R2="$W/runc-root"
LAT_ID="noisy-lat-$$" NOISE_ID="noisy-noise-$$"
job=""
cleanup() {
  if [ -n "$job" ]; then kill "$job" 2>/dev/null || true; fi
  for id in "$LAT_ID" "$NOISE_ID"; do
    "$NOHYPE" --root "$R1" delete -f "$id" >/dev/null 2>&1 || true
    runc --root "$R2" delete -f "$id" >/dev/null 2>&1 || true
  done
  if [ -n "$job" ]; then wait "$job" 2>/dev/null || true; fi
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sh tests/lib/make-rootfs.sh "$W/rootfs" >/dev/null
g++ -O2 -static -std=c++20 -o "$W/rootfs/bin/latency" bench/latency.cc
g++ -O2 -static -std=c++20 -pthread -o "$W/rootfs/bin/noise" bench/noise.cc

# One default spec, edited per bundle: terminal off, read-only shared rootfs,
# the bundle's args and annotations. The runc bundles differ only in having
# no annotations.
bundle() { # bundle DIR ARGS-JSON ANNOTATIONS-JSON
  mkdir -p "$1"
  "$NOHYPE" spec --bundle "$1"
  python3 - "$1/config.json" "$W/rootfs" "$2" "$3" <<'PY'
import json, sys
path, rootfs, args, ann = sys.argv[1:]
c = json.load(open(path))
c["root"] = {"path": rootfs, "readonly": True}
c["process"]["terminal"] = False
c["process"]["args"] = json.loads(args)
c.pop("annotations", None)
if json.loads(ann):
    c["annotations"] = json.loads(ann)
json.dump(c, open(path, "w"), indent=2)
PY
}
lat_args="[\"/bin/latency\", \"$N\", \"$PASSES\"]"
bundle "$W/lat-nohype" "$lat_args" '{"org.nohype.cores": "1", "org.nohype.memory": "64M"}'
bundle "$W/lat-runc" "$lat_args" '{}'
bundle "$W/noise" '["/bin/noise"]' '{}'

pid_of() { # pid_of RUNTIME ROOT ID
  "$1" --root "$2" state "$3" | python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])'
}
cpu_ticks() { # cpu_ticks PID: user+system clock ticks of all its threads
  awk '{print $14 + $15}' "/proc/$1/stat"
}
hz=$(getconf CLK_TCK)

rows=() notes=""
measure() { # measure NAME RUNTIME ROOT LAT-BUNDLE with|without
  local name=$1 rt=$2 root=$3 lat=$4 npid="" ncpus="-" busy="-" t0 t1 c0 c1 out other rc=0
  if [ "$5" = with ]; then
    "$rt" --root "$root" run -d --bundle "$W/noise" "$NOISE_ID" </dev/null >"$W/noise.out" 2>"$W/noise.err" ||
      { cat "$W/noise.err" >&2; exit 1; }
    npid=$(pid_of "$rt" "$root" "$NOISE_ID")
    sleep 1  # let the neighbour fault its buffers in and fill the caches and the memory bus
    t0=$(date +%s%N) c0=$(cpu_ticks "$npid")
  fi
  "$rt" --root "$root" run --bundle "$lat" "$LAT_ID" </dev/null >"$W/lat.out" 2>"$W/lat.err" &
  job=$!
  if [ -n "$npid" ]; then
    # Where the neighbour may run once the task's container is up.
    sleep 2
    ncpus=$(grep -h Cpus_allowed_list "/proc/$npid/task/"*/status | awk '{print $2}' | sort -u | paste -sd/)
  fi
  if [ "$rt" = "$NOHYPE" ]; then
    sleep 1
    other=$(others)
    [ -z "$other" ] || notes="$notes
- During \"$name\", nohype containers of another --root were running: $other."
  fi
  wait "$job" || rc=$?
  job=""
  if [ -n "$npid" ]; then
    t1=$(date +%s%N) c1=$(cpu_ticks "$npid")
    busy=$(awk -v c="$((c1 - c0))" -v hz="$hz" -v ns="$((t1 - t0))" 'BEGIN{printf "%.2f", c / hz / (ns / 1e9)}')
    "$rt" --root "$root" delete -f "$NOISE_ID" >/dev/null 2>&1
  fi
  "$rt" --root "$root" delete -f "$LAT_ID" >/dev/null 2>&1 || true
  out=$(tail -1 "$W/lat.out")
  if [ "$rc" != 0 ] || [ -z "$out" ]; then
    echo "noisy.sh: $name: the task failed (exit $rc):" >&2
    cat "$W/lat.err" >&2
    exit 1
  fi
  echo "$name: $out${npid:+; neighbour on CPUs $ncpus, $busy cores busy}" >&2
  rows+=("$(python3 -c '
import json, sys
name, ncpus, busy, out = sys.argv[1:]
r = json.loads(out)
nb = "-" if ncpus == "-" else "%s (%s)" % (ncpus, busy)
print("| %s | %.0f | %.0f | %.0f | %.0f | %s | %s |" % (name, r["p50"], r["p99"], r["p999"], r["max"], r["cpus"], nb))
' "$name" "$ncpus" "$busy" "$out")")
  echo "$out" >"$W/last.json"
}
others() { # nohype containers of other roots holding cores: each --root keeps its own partition table
  local d procs
  for d in /sys/fs/cgroup/cpuset/nohype/*/ /sys/fs/cgroup/nohype/*/; do
    if [ ! -f "$d/cgroup.procs" ] || [ ! -f "$d/cpuset.cpus" ]; then continue; fi
    case $(basename "$d") in "$LAT_ID" | "$NOISE_ID") continue;; esac
    procs=$(head -c1 "$d/cgroup.procs" 2>/dev/null) || continue
    if [ -n "$procs" ]; then echo "$(basename "$d") on CPUs $(cat "$d/cpuset.cpus" 2>/dev/null)"; fi
  done | paste -sd, | sed 's/,/, /g'
}
dedicated_check() { # the task under nohype must not share its core with the pool
  local cpus
  cpus=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["cpus"])' "$W/last.json")
  case $cpus in *-*|*,*) notes="$notes
- nohype did not give the task a dedicated core: it ran on CPUs $cpus.";; esac
}

measure "nohype, task alone (dedicated core)" "$NOHYPE" "$R1" "$W/lat-nohype" without
dedicated_check
measure "nohype, task on a dedicated core, neighbour in the shared pool" "$NOHYPE" "$R1" "$W/lat-nohype" with
dedicated_check
measure "runc (default settings), same pair" runc "$R2" "$W/lat-runc" with

mkdir -p bench/results
{
  echo "Latency of a 1 ms periodic task (wake-up due to end of ~50 µs of work over 256 KiB), $N ticks per row, in µs,"
  echo "measured $(date -u +%Y-%m-%d) on $(nproc) vCPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), kernel $(uname -r))."
  echo "The neighbour runs one spin + memcpy-64MiB thread per online CPU in another container."
  echo
  echo "| scenario | p50 | p99 | p99.9 | max | task on CPUs | neighbour on CPUs (cores it kept busy) |"
  echo "|---|---:|---:|---:|---:|---|---|"
  printf '%s\n' "${rows[@]}"
  [ -z "$notes" ] || echo "$notes"
} >bench/results/noisy.md
cat bench/results/noisy.md
if grep -q '<!-- bench:noisy -->' README.md; then
  bash bench/update-readme.sh noisy bench/results/noisy.md
else
  echo "noisy.sh: README.md has no <!-- bench:noisy --> section; the results are only in bench/results/noisy.md" >&2
fi
