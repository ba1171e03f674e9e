#!/bin/bash
# bench/memory.sh: memory that moves, measured.
#  - KSM per trust group: N cells (N = 2, 4, 8) each holding the same 64 MiB
#    (counter_probe serve: one seed), in one group; the sum of their cgroups'
#    usage before and after ksmd merged them, the rise of general_profit, and
#    how long merging took (ksmd at 20000 pages per 10 ms, put back after).
#  - The balloon: a cell with a 1.5 GiB reservation fills 1 GiB of page cache;
#    the time `nohype update --memory 128M` takes to give it back.
# Writes bench/results/memory.md and the README section bench:memory.
set -euo pipefail
cd "$(dirname "$0")/.."
NOHYPE=${NOHYPE:-$PWD/build/nohype}
PROBE=${PROBE:-$PWD/build/tests/helpers/counter_probe}
W=$(mktemp -d /var/tmp/nohype-bench-memory.XXXXXX)
export NOHYPE_CELLS_DIR="$W/cells"
mkdir -p "$NOHYPE_CELLS_DIR"
echo '{"cores": "1", "memory": "4G"}' > "$NOHYPE_CELLS_DIR/host.json"
nh() { "$NOHYPE" --root "$W/root" "$@"; }
K=/sys/kernel/mm/ksm
saved_scan=$(cat $K/pages_to_scan) saved_sleep=$(cat $K/sleep_millisecs) saved_run=$(cat $K/run)
cleanup() {
  for id in $(nh list -q 2>/dev/null); do nh delete --force "$id" >/dev/null 2>&1 || true; done
  echo "$saved_scan" > $K/pages_to_scan
  echo "$saved_sleep" > $K/sleep_millisecs
  echo "$saved_run" > $K/run
  rm -rf "$W"
}
trap cleanup EXIT
echo 20000 > $K/pages_to_scan
echo 10 > $K/sleep_millisecs

sh tests/lib/make-rootfs.sh "$W/rootfs" >/dev/null
cp "$PROBE" "$W/rootfs/counter_probe"
# bundle DIR MEMORY GROUP ARGS...: nohype's default spec, writable root.
bundle() {
  local dir=$1 memory=$2 group=$3
  shift 3
  mkdir -p "$dir"
  ln -sfn "$W/rootfs" "$dir/rootfs"
  (cd "$dir" && nh spec >/dev/null)
  /usr/bin/python3 - "$dir/config.json" "$memory" "$group" "$@" <<'EOF'
import json, sys
path, memory, group, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
c = json.load(open(path))
c["process"]["args"] = args
c["process"]["terminal"] = False
c["root"]["readonly"] = False
c.setdefault("annotations", {})["org.nohype.memory"] = memory
if group:
    c["annotations"]["org.nohype.ksm"] = group
json.dump(c, open(path, "w"))
EOF
}
now() { date +%s%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) / 1e6 }'; }
memcg() {
  local pid
  pid=$(nh state "$1" | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])')
  echo "/sys/fs/cgroup/memory$(grep -m1 ':memory:' "/proc/$pid/cgroup" | cut -d: -f3)"
}
usage_mb() {
  local sum=0 id
  for id in "$@"; do sum=$((sum + $(cat "$(memcg "$id")/memory.usage_in_bytes"))); done
  echo $((sum >> 20))
}

bundle "$W/ksm" 80M "bench$$" /counter_probe serve 7075 64
rows=""
for n in 2 4 8; do
  ids=()
  # ksmd held back while the cells fill their buffers, so "before" is unmerged.
  echo 100000 > $K/sleep_millisecs
  sleep 0.5
  p0=$(cat $K/general_profit)
  for i in $(seq 1 "$n"); do
    ids+=("ksm$n-$i")
    nh run -d -b "$W/ksm" "ksm$n-$i" </dev/null >/dev/null
  done
  for id in "${ids[@]}"; do until [ -n "$(nh exec "$id" /counter_probe ask 7075 n 2>/dev/null)" ]; do sleep 0.1; done; done
  before=$(usage_mb "${ids[@]}") t0=$(now)
  echo 10 > $K/sleep_millisecs
  # Merged when general_profit has risen and then stops rising for a second (or after 120 s).
  last=-1 cur=$p0
  while { [ "$cur" = "$p0" ] || [ "$cur" != "$last" ]; } && [ $(( ($(now) - t0) / 1000000000 )) -lt 120 ]; do
    last=$cur
    sleep 1
    cur=$(cat $K/general_profit)
  done
  took=$(ms "$t0" "$(now)")
  after=$(usage_mb "${ids[@]}")
  profit=$(( (cur - p0) >> 20 ))
  rows+="| $n | $before MiB | $after MiB | $profit MiB | $((took - 1000)) ms |"$'\n'
  for id in "${ids[@]}"; do nh delete --force "$id" >/dev/null; done
done

bundle "$W/balloon" 1536M "" sh -c 'dd if=/dev/zero of=/cache bs=1M count=1024 2>/dev/null; sync; echo full > /tmp/full; exec sleep 100000'
nh run -d -b "$W/balloon" balloon </dev/null >/dev/null
until nh exec balloon cat /tmp/full >/dev/null 2>&1; do sleep 0.2; done
b_before=$(usage_mb balloon)
t0=$(now); msg=$(nh update --memory 128M balloon 2>&1); t1=$(now)
b_after=$(usage_mb balloon)
b_ms=$(ms "$t0" "$t1")
nh delete --force balloon >/dev/null

mkdir -p bench/results
{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, kernel $(uname -r); one run."
  echo
  echo "KSM, one trust group; each cell holds the same 64 MiB (ksmd at 20000 pages per 10 ms):"
  echo
  echo "| cells | usage of the cells, before | after merging | general_profit rise | time to merge |"
  echo "|---:|---:|---:|---:|---:|"
  printf '%s' "$rows"
  echo
  echo "The balloon: a cell with 1.5 GiB reserved and 1 GiB of page cache, \`nohype update --memory 128M\`:"
  echo "usage $b_before MiB before, $b_after MiB after, in $b_ms ms (the whole command: admission, reclaim, table, static view).${msg:+ It said: $msg}"
} > bench/results/memory.md
cat bench/results/memory.md
./bench/update-readme.sh memory bench/results/memory.md
