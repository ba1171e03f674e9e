#!/bin/bash
# The fuzz smoke: every libFuzzer target in fuzz/ (config.json, the kernel
# log's seccomp records, the partition table and host.json, state.json, the
# app manifest, OCI and Docker seccomp profiles, signature payloads, trust
# policies and minisign text, image archives as tar, image layouts opened
# and unpacked) through
# scripts/fuzz.sh, FUZZ_RUNS inputs each (200000) from a fixed FUZZ_SEED
# (1): the same inputs on every run and machine, so a red lane means a
# change broke something, never that this run was luckier than the last.
# New ground is for the long runs (README "Fuzzing"). A finding fails its
# target with the input's path; an input that crashed once stays in
# fuzz/corpus/ as a seed (and a unit test) so it is retried every run.
set -u
. "$(dirname "$0")/../lib/tap.sh"
command -v clang++ >/dev/null || { nok "fuzz build" "clang++ is not installed (scripts/setup.sh installs it)"; exit 0; }
out=$(FUZZ_RUNS=${FUZZ_RUNS:-200000} FUZZ_SEED=${FUZZ_SEED:-1} bash "$SRC/scripts/fuzz.sh" 2>&1)
targets=$(printf '%s\n' "$out" | grep -cE '^[a-z]+_fuzz: ')
[ "$targets" = 9 ] || { nok "fuzz build and run" "$(printf '%s' "$out" | tail -5 | tr '\n' ' ')"; exit 0; }
while read -r line; do
  name=${line%%:*}
  case "$line" in
    *"no finding"*) ok "$name: ${line#*: }" ;;
    *) nok "$name" "${line#*: }" ;;
  esac
done < <(printf '%s\n' "$out" | grep -E '^[a-z]+_fuzz: ')
