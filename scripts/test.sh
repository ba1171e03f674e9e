#!/bin/bash
# test.sh: set up (install + build) and run every test lane that runs in CI:
# unit (no privileges), privileged (real namespaces, cgroups, mounts, seccomp),
# integration (the binary driven as podman and containerd drive it).
# Prints one line per suite and a closing "N passed, M failed, K skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh || exit 1
build=${NOHYPE_BUILD_DIR:-build}
out=$(mktemp -d /tmp/nohype-tests.XXXXXX)
pass=0; fail=0; skip=0; failed_suites=""

# gtest binaries: unit_* run without privileges, priv_* as root.
run_gtest() {
  local bin=$1 name; name=$(basename "$bin")
  local log=$out/$name.log
  if [ "${name#unit_}" != "$name" ] && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$bin" 2>/dev/null; then
    # Unit tests claim to need no privileges: hold them to it.
    setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" > "$log" 2>&1
  else
    "$bin" > "$log" 2>&1
  fi
  local rc=$?
  local p f s
  p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$log" | grep -oE '[0-9]+' | head -1)
  f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$log" | grep -oE '[0-9]+' | head -1)
  s=$(grep -E '^\[  SKIPPED \] [0-9]+ test' "$log" | grep -oE '[0-9]+' | head -1)
  p=${p:-0}; f=${f:-0}; s=${s:-0}
  if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi   # crashed before reporting
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
  printf '%-28s %4d passed, %d failed, %d skipped\n' "$name" "$p" "$f" "$s"
  if [ "$f" != 0 ]; then
    failed_suites="$failed_suites $name"
    grep -E '^\[  FAILED  \]|Failure|error:' "$log" | head -20 | sed 's/^/    /'
  fi
  [ "$s" != 0 ] && grep -E '^\[  SKIPPED \] [A-Za-z]' -B3 "$log" | grep -E 'Skipped|SKIPPED' | head -10 | sed 's/^/    /'
}

# Shell suites print "ok N - name" / "not ok N - name # why" / "ok N - name # SKIP why".
run_tap() {
  local script=$1 name; name=$(basename "$script" .sh)
  local log=$out/$name.log
  NOHYPE="$PWD/$build/nohype" bash "$script" > "$log" 2>&1
  local rc=$?
  local p f s
  s=$(grep -cE '^ok [0-9]+ .*# SKIP' "$log")
  p=$(( $(grep -cE '^ok [0-9]+' "$log") - s ))
  f=$(grep -cE '^not ok [0-9]+' "$log")
  if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; echo "    $name exited $rc:"; tail -5 "$log" | sed 's/^/    /'; fi
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
  printf '%-28s %4d passed, %d failed, %d skipped\n' "$name" "$p" "$f" "$s"
  [ "$f" != 0 ] && { failed_suites="$failed_suites $name"; grep -E '^not ok' "$log" | head -20 | sed 's/^/    /'; }
  grep -E '^ok [0-9]+ .*# SKIP' "$log" | sed 's/^/    /'
}

for b in "$build"/unit_*; do [ -x "$b" ] && run_gtest "$b"; done
for b in "$build"/priv_*; do [ -x "$b" ] && run_gtest "$b"; done
for t in tests/integration/*.sh; do [ -f "$t" ] && run_tap "$t"; done

echo "logs: $out"
[ -n "$failed_suites" ] && echo "failed suites:$failed_suites"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
