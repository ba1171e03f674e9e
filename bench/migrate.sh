#!/bin/bash
# bench/migrate.sh: how long a cell is frozen when it moves, by memory size.
# The service is tests/helpers/counter_probe (N MiB of pseudo-random memory,
# a counter, a client on an open TCP connection), in a cell without Landlock
# (CRIU cannot save one). For 64 MiB, 512 MiB and 2 GiB it measures:
#   - `nohype migrate --to ROOT` (post-copy): the frozen time, and the total
#     until the last page arrived;
#   - `nohype migrate --stop-and-copy`: the frozen time (= the total);
#   - `nohype checkpoint` then `nohype restore` as separate commands.
# Writes bench/results/migrate.md and migrate.png (installing Debian's
# python3-matplotlib when missing) and the README section bench:migrate.
set -euo pipefail
cd "$(dirname "$0")/.."
NOHYPE=${NOHYPE:-$PWD/build/nohype}
PROBE=${PROBE:-$PWD/build/tests/helpers/counter_probe}
SIZES=${SIZES:-"64 512 2048"}
W=$(mktemp -d /var/tmp/nohype-bench-migrate.XXXXXX)
export NOHYPE_KEYS_DIR="$W/keys" NOHYPE_CELLS_DIR="$W/cells"
cleanup() {
  for r in a b; do "$NOHYPE" --root "$W/$r" delete -f mig >/dev/null 2>&1 || true; done
  rm -rf "$W"
}
trap cleanup EXIT
sh tests/lib/make-rootfs.sh "$W/bundle/rootfs" >/dev/null
cp "$PROBE" "$W/bundle/rootfs/counter_probe"
now() { date +%s%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) / 1e6 }'; }
rows=()
for mib in $SIZES; do
  rm -f "$W/bundle/config.json" && "$NOHYPE" spec --bundle "$W/bundle"
  /usr/bin/python3 - "$W/bundle/config.json" "$mib" <<'PY'
import json, sys
p, mib = sys.argv[1], int(sys.argv[2])
c = json.load(open(p))
c["process"]["args"] = ["sh", "-c", "/counter_probe serve 7070 %d & exec /counter_probe client 7070 /dev/shm/last" % mib]
c["process"]["terminal"] = False
c.setdefault("annotations", {}).update({"org.nohype.landlock": "off", "org.nohype.memory": "%dM" % (mib + 256)})
c["linux"]["resources"].pop("memory", None)
json.dump(c, open(p, "w"))
PY
  "$NOHYPE" --root "$W/a" run -d -b "$W/bundle" mig </dev/null >/dev/null 2>&1
  for _ in $(seq 600); do
    n=$("$NOHYPE" --root "$W/a" exec mig cat /dev/shm/last 2>/dev/null || true)
    [ -n "$n" ] && [ "$n" -ge 5 ] 2>/dev/null && break
    sleep 0.1
  done
  alive() {
    sleep 1
    "$NOHYPE" --root "$W/$1" state mig | grep -q '"status": "running"' || {
      echo "bench/migrate.sh: the $mib MiB cell did not survive its migration" >&2
      "$NOHYPE" --root "$W/$1" events --history mig >&2 || true
      exit 1
    }
  }
  out=$("$NOHYPE" --root "$W/a" migrate --to "$W/b" --tcp-established mig); echo "# $mib MiB: $out" >&2
  post_frozen=$(echo "$out" | sed -n 's/.*frozen \([0-9.]*\) ms.*/\1/p')
  post_total=$(echo "$out" | sed -n 's/.*total \([0-9.]*\) ms.*/\1/p')
  alive b
  out=$("$NOHYPE" --root "$W/b" migrate --to "$W/a" --stop-and-copy --tcp-established mig); echo "# $mib MiB: $out" >&2
  stop_frozen=$(echo "$out" | sed -n 's/.*frozen \([0-9.]*\) ms.*/\1/p')
  alive a
  "$NOHYPE" --root "$W/a" migrate --to "$W/b" --tcp-established mig >/dev/null
  alive b
  t0=$(now)
  "$NOHYPE" --root "$W/b" checkpoint --tcp-established --image-path "$W/img" mig
  t1=$(now)
  "$NOHYPE" --root "$W/b" restore --tcp-established --image-path "$W/img" -b "$W/bundle" mig </dev/null >/dev/null
  t2=$(now)
  "$NOHYPE" --root "$W/b" delete -f mig
  rm -rf "$W/img"
  rows+=("$mib $post_frozen $post_total $stop_frozen $(ms "$t0" "$t1") $(ms "$t1" "$t2")")
done

mkdir -p bench/results
{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, kernel $(uname -r), $($(command -v /opt/nohype/criu/sbin/criu || echo criu) --version | head -1); one run per size."
  echo
  echo "| memory | \`migrate\` frozen | \`migrate\` total | \`migrate --stop-and-copy\` frozen | \`checkpoint\` | \`restore\` |"
  echo "|---:|---:|---:|---:|---:|---:|"
  for r in "${rows[@]}"; do
    set -- $r
    echo "| $1 MiB | $2 ms | $3 ms | $4 ms | $5 ms | $6 ms |"
  done
  echo
  echo "\`migrate\` is post-copy: the cell runs at the target once everything but its anonymous memory is there; that memory follows, each page on first touch and the rest in the background, until the total. Stop-and-copy (and a checkpoint) writes, signs and reads back every page before the cell runs again. Both roots are on this host: the memory crosses loopback."
} > bench/results/migrate.md
if ! /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-matplotlib >/dev/null
fi
/usr/bin/python3 - bench/results/migrate.png "${rows[@]}" <<'PY'
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = [r.split() for r in sys.argv[2:]]
x = [int(r[0]) for r in rows]
plt.figure(figsize=(7, 4.5))
plt.plot(x, [float(r[1]) for r in rows], "o-", label="migrate (post-copy): frozen")
plt.plot(x, [float(r[2]) for r in rows], "o:", label="migrate (post-copy): until the last page")
plt.plot(x, [float(r[3]) for r in rows], "s-", label="migrate --stop-and-copy: frozen")
plt.plot(x, [float(r[4]) + float(r[5]) for r in rows], "s--", label="checkpoint + restore")
plt.xscale("log", base=2); plt.yscale("log"); plt.xticks(x, [str(v) for v in x])
plt.xlabel("cell memory (MiB)"); plt.ylabel("ms"); plt.legend(); plt.grid(True, which="both", alpha=0.3)
plt.title("nohype migrate: downtime by memory size")
plt.tight_layout(); plt.savefig(sys.argv[1], dpi=100)
PY
cat bench/results/migrate.md
./bench/update-readme.sh migrate bench/results/migrate.md
