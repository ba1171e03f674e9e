#!/bin/bash
# The fuzz smoke: every libFuzzer target in fuzz/ (config.json, the kernel
# log's seccomp records, the partition table and host.json) for
# FUZZ_SECONDS (default 30) each, through scripts/fuzz.sh. A finding fails
# its target with the input's path; an input that crashed once stays in
# fuzz/corpus/ as a seed (and a unit test) so it is retried every run.
set -u
. "$(dirname "$0")/../lib/tap.sh"
command -v clang++ >/dev/null || { nok "fuzz build" "clang++ is not installed (scripts/setup.sh installs it)"; exit 0; }
out=$(bash "$SRC/scripts/fuzz.sh" "${FUZZ_SECONDS:-30}" 2>&1)
targets=$(printf '%s\n' "$out" | grep -cE '^[a-z]+_fuzz: ')
[ "$targets" = 3 ] || { nok "fuzz build and run" "$(printf '%s' "$out" | tail -5 | tr '\n' ' ')"; exit 0; }
while read -r line; do
  name=${line%%:*}
  case "$line" in
    *"no finding"*) ok "$name: ${line#*: }" ;;
    *) nok "$name" "${line#*: }" ;;
  esac
done < <(printf '%s\n' "$out" | grep -E '^[a-z]+_fuzz: ')
