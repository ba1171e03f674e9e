#!/bin/bash
# scripts/fuzz.sh [SECONDS]: builds the libFuzzer targets in fuzz/ with clang
# (ASan + UBSan) into build-fuzz/ and runs each for SECONDS (default 60) from
# its seed corpus in fuzz/corpus/ (copied: the repo's seeds stay as they
# are). A crash, a leak, a sanitizer report or an exception other than
# nohype's own error fails the run; the input that did it is kept under
# build-fuzz/findings/ and named in the output. FUZZ_RUNS=N runs N inputs
# per target instead of SECONDS; FUZZ_SEED=S fixes the mutations (with
# FUZZ_RUNS the run is the same every time: what the test lane does). The
# long run in README:
#   FUZZ_RUNS=10000000 scripts/fuzz.sh
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
build=${NOHYPE_FUZZ_BUILD:-build-fuzz}
cmake -S fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null || exit 1
ninja -C "$build" >/dev/null || { ninja -C "$build" | tail -20; exit 1; }
mkdir -p "$build/findings"
rc=0
for t in spec kmsg cells state manifest profile trust tar layout; do
  work=$(mktemp -d /tmp/nohype-fuzz-$t.XXXXXX)
  cp fuzz/corpus/$t/* "$work/"
  dict=(); [ -f fuzz/$t.dict ] && dict=(-dict=fuzz/$t.dict)
  # tar_fuzz and layout_fuzz write and remove files for every input: a
  # twentieth of the runs
  runs=${FUZZ_RUNS:-}; [ -n "$runs" ] && { [ "$t" = tar ] || [ "$t" = layout ]; } && runs=$((runs / 20))
  limit=(-max_total_time="$secs"); [ -n "$runs" ] && limit=(-runs="$runs")
  [ -n "${FUZZ_SEED:-}" ] && limit+=(-seed="$FUZZ_SEED")
  log="$build/findings/$t.log"
  "$build/${t}_fuzz" "${limit[@]}" "${dict[@]}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$t-" "$work" > "$log" 2>&1
  r=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
  if [ $r -eq 0 ]; then
    echo "${t}_fuzz: ${runs:-?} runs, no finding"
  else
    rc=1
    echo "${t}_fuzz: FINDING (exit $r), input: $(ls "$build/findings/$t-"* 2>/dev/null | head -1)"
    grep -E 'ERROR|runtime error|what\(\)|terminate' "$log" | head -5 | sed 's/^/  /'
  fi
  rm -rf "$work"
done
exit $rc
