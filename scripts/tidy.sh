#!/bin/bash
# tidy.sh [BUILD_DIR] [FILES...]: clang-tidy with the checked-in .clang-tidy
# over src/ (or the files given), using BUILD_DIR's compile_commands.json
# (default build). Prints each finding; exits non-zero if there is any.
# TIDY_ANALYZER=1 adds the clang static analyzer's checks (twice as slow).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
files=("$@")
[ ${#files[@]} -eq 0 ] && mapfile -t files < <(ls src/*/*.cc src/*.cc)
extra=(); [ "${TIDY_ANALYZER:-0}" = 1 ] && extra=(-checks='clang-analyzer-*')
out=$(run-clang-tidy -quiet -p "$build" -j "${TIDY_JOBS:-$(nproc)}" "${extra[@]}" "${files[@]}" 2>&1)
rc=$?
# a finding in a header shows once for each file that includes it
found=$(echo "$out" | grep -E "(warning|error):" | sed 's/\x1b\[[0-9;]*m//g' | sort -u)
[ -n "$found" ] && echo "$found"
n=$(echo -n "$found" | grep -c .)
echo "clang-tidy: ${#files[@]} files, $n findings"
[ $rc -eq 0 ] && [ "$n" -eq 0 ]
