#!/bin/bash
# bench/startup.sh: start-to-exit latency of `run` for /bin/true with a full
# default spec (all namespaces but user, default mounts, masked/readonly
# paths, cgroups, capabilities, rlimits), against runc, crun and bwrap in the
# same run. Needs root and hyperfine. Writes bench/results/startup.md and the
# README's "Startup latency" section.
set -euo pipefail
cd "$(dirname "$0")/.."
NOHYPE=${NOHYPE:-$PWD/build/nohype}
RUNS=${RUNS:-200}
W=$(mktemp -d /tmp/nohype-bench.XXXXXX)
trap 'rm -rf --one-file-system "$W"' EXIT
sh tests/lib/make-rootfs.sh "$W/bundle/rootfs" >/dev/null
"$NOHYPE" spec --bundle "$W/bundle"
# The same config for every OCI runtime: terminal off, /bin/true.
# ociVersion 1.0.2: crun 1.8.1 refuses newer versions it does not know.
sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"sh"$/"true"/' \
       -e 's/"ociVersion": "1.2.0"/"ociVersion": "1.0.2"/' "$W/bundle/config.json"
grep -q '"true"' "$W/bundle/config.json" || { echo "bench: could not set args" >&2; exit 1; }
# The same without nohype's default seccomp profile: what the default costs at start.
mkdir -p "$W/bare"
ln -s "$W/bundle/rootfs" "$W/bare/rootfs"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); del c["linux"]["seccomp"]; json.dump(c, open(sys.argv[2], "w"))' \
  "$W/bundle/config.json" "$W/bare/config.json"

cmds=()
names=()
add() { names+=("$1"); cmds+=("$2"); }
add nohype "$NOHYPE --root $W/nohype run --bundle $W/bundle b-nohype"
command -v runc >/dev/null && add runc "runc --root $W/runc run --bundle $W/bundle b-runc"
# A peer that cannot run here is reported with its own words, not timed.
notes=""
try() { # try NAME CMD: add it if one run succeeds
  local out
  if out=$($2 2>&1); then add "$1" "$2"; else notes="$notes
- $1 cannot run on this host: \"$(echo "$out" | tail -1)\""; fi
}
command -v crun >/dev/null && try crun "crun --root $W/crun run --bundle $W/bundle b-crun"
command -v bwrap >/dev/null && add "bwrap --unshare-all" "bwrap --unshare-all --bind $W/bundle/rootfs / --proc /proc --dev /dev /bin/true"
args=()
for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
mkdir -p bench/results
hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$W/startup.json" --export-markdown "$W/startup.md" "${args[@]}"

# What the default seccomp profile costs at start is smaller than the noise
# between hyperfine's blocks: time the two nohype configs interleaved, pair by pair.
PAIRS=${PAIRS:-300}
python3 - "$NOHYPE" "$W" "$PAIRS" > "$W/seccomp-cost.txt" <<'PY'
import statistics, subprocess, sys, time
nohype, w, pairs = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = {"bundle": [], "bare": []}
for i in range(pairs):
    for v in t:
        s = time.perf_counter()
        subprocess.run([nohype, "--root", w + "/pairs", "run", "--bundle", w + "/" + v, "p-" + v], check=True)
        t[v].append((time.perf_counter() - s) * 1000)
d = [a - b for a, b in zip(t["bundle"], t["bare"])]
print("- nohype's default seccomp profile adds %.2f ms at start (median of %d interleaved pairs; medians %.2f ms with it, "
      "%.2f ms without a filter)" % (statistics.median(d), pairs, statistics.median(t["bundle"]), statistics.median(t["bare"])))
PY

# Per-step breakdown of one nohype run (--debug logs the timings).
"$NOHYPE" --debug --log "$W/debug.log" --root "$W/nohype" run --bundle "$W/bundle" b-steps
steps=$(grep -o 'steps (us): [^"]*' "$W/debug.log" | sed 's/steps (us): //' | tr '\n' ' ')

{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, kernel $(uname -r), $RUNS runs each (hyperfine -N)."
  echo
  cat "$W/startup.md"
  echo
  python3 - "$W/startup.json" <<'PY'
import json, sys
mean = {r["command"]: r["mean"] * 1000 for r in json.load(open(sys.argv[1]))["results"]}
base = mean["nohype"]
for c, m in mean.items():
    if c != "nohype":
        print("- nohype takes %.2f of %s's time (%.1f ms vs %.1f ms)" % (base / m, c, base, m))
PY
  cat "$W/seccomp-cost.txt"
  echo
  echo "Where nohype's time goes (one run, microseconds): $steps"
  [ -n "$notes" ] && echo "$notes"
} > bench/results/startup.md
cat bench/results/startup.md
./bench/update-readme.sh startup bench/results/startup.md
