# Shared helpers for the integration suites: TAP-style lines that
# scripts/test.sh counts ("ok N - name", "not ok N - name # why", "# SKIP why").
N=0
ok()   { N=$((N+1)); echo "ok $N - $1"; }
nok()  { N=$((N+1)); echo "not ok $N - $1${2:+ # $2}"; }
skip() { N=$((N+1)); echo "ok $N - $1 # SKIP $2"; }
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "expected '$2', got '$(printf %s "$3" | head -c 300 | tr '\n' ' ')'"; fi
}
NOHYPE=${NOHYPE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/nohype}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
