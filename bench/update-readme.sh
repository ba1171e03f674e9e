#!/bin/bash
# update-readme.sh NAME FILE: replaces the README section between
# <!-- bench:NAME --> and <!-- /bench:NAME --> with FILE's contents.
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1 file=$2
grep -q "<!-- bench:$name -->" README.md || { echo "README.md has no bench:$name section" >&2; exit 1; }
awk -v name="$name" -v file="$file" '
  $0 == "<!-- bench:" name " -->" { print; while ((getline line < file) > 0) print line; skip=1; next }
  $0 == "<!-- /bench:" name " -->" { skip=0 }
  !skip { print }' README.md > README.md.tmp && mv README.md.tmp README.md
