#!/bin/bash
# bench/up.sh: time to bring up 10 services, each in its own cell with its
# NIC and the firewall between them (`nohype up`), against the same 10
# services started with `podman run -d` on podman's default bridge network
# (one rootfs, busybox httpd each), and the time to take them down.
# Writes bench/results/up.md and the README section bench:up.
set -euo pipefail
cd "$(dirname "$0")/.."
NOHYPE=${NOHYPE:-$PWD/build/nohype}
RUNS=${RUNS:-5}
N=10
W=$(mktemp -d /tmp/nohype-bench-up.XXXXXX)
cleanup() {
  NOHYPE_APPS_DIR="$W/apps" NOHYPE_CELLS_DIR="$W/root" "$NOHYPE" --root "$W/root" down --timeout 1s "$W/app.toml" >/dev/null 2>&1 || true
  for i in $(seq 0 $((N - 1))); do podman rm -f -t 0 "nhbench-$i" >/dev/null 2>&1 || true; done
  rm -rf "$W"
}
trap cleanup EXIT
# podman's own storage; no default ulimits (this machine's hard limits are
# below podman's defaults) and runc (crun refuses hybrid cgroups).
printf '[containers]\ndefault_ulimits = []\n' > "$W/containers.conf"
export CONTAINERS_CONF="$W/containers.conf"
podman() { command podman --root "$W/podman" --runroot "$W/podman-run" --cgroup-manager cgroupfs --events-backend file --runtime runc "$@"; }
sh tests/lib/make-rootfs.sh "$W/rootfs" >/dev/null
mkdir -p "$W/rootfs/www" && echo ok > "$W/rootfs/www/index.html"

# svc-i may call svc-(i+1): a chain, so the firewall has one flow per cell.
{
  echo 'name = "bench"'
  echo '[network]'
  echo 'subnet = "10.214.0.0/24"'
  for i in $(seq 0 $((N - 1))); do
    echo "[services.svc-$i]"
    echo 'image = "rootfs"'
    echo 'command = ["httpd", "-f", "-p", "8000", "-h", "/www"]'
    echo 'memory = "32M"'
    echo 'ports = [8000]'
    [ "$i" -lt $((N - 1)) ] && echo "calls = [\"svc-$((i + 1)):8000\"]"
  done
} > "$W/app.toml"

now() { date +%s%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }
best() { sort -n | head -1; }

up_t=() down_t=() pup_t=() pdown_t=()
for r in $(seq "$RUNS"); do
  t0=$(now); NOHYPE_APPS_DIR="$W/apps" NOHYPE_CELLS_DIR="$W/root" "$NOHYPE" --root "$W/root" up "$W/app.toml" >/dev/null
  t1=$(now)
  NOHYPE_APPS_DIR="$W/apps" NOHYPE_CELLS_DIR="$W/root" "$NOHYPE" --root "$W/root" down --timeout 1s "$W/app.toml" >/dev/null
  t2=$(now)
  up_t+=("$(ms "$t0" "$t1")"); down_t+=("$(ms "$t1" "$t2")")

  t0=$(now)
  for i in $(seq 0 $((N - 1))); do
    podman run -d --name "nhbench-$i" --memory 32m --rootfs "$W/rootfs" httpd -f -p 8000 -h /www >/dev/null
  done
  t1=$(now)
  for i in $(seq 0 $((N - 1))); do podman rm -f -t 1 "nhbench-$i" >/dev/null 2>&1; done
  t2=$(now)
  pup_t+=("$(ms "$t0" "$t1")"); pdown_t+=("$(ms "$t1" "$t2")")
done

b_up=$(printf '%s\n' "${up_t[@]}" | best); b_down=$(printf '%s\n' "${down_t[@]}" | best)
p_up=$(printf '%s\n' "${pup_t[@]}" | best); p_down=$(printf '%s\n' "${pdown_t[@]}" | best)
mkdir -p bench/results
{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, kernel $(uname -r); best of $RUNS runs; 10 busybox httpd services."
  echo
  echo "| | up (10 services) | down |"
  echo "|---|---:|---:|"
  echo "| \`nohype up\` (cells, veths on a bridge, nftables firewall) | $b_up ms | $b_down ms |"
  echo "| \`podman run -d\` ×10 (default bridge network) | $p_up ms | $p_down ms |"
  echo
  echo "All runs (ms): nohype up ${up_t[*]}; podman ${pup_t[*]}."
} > bench/results/up.md
cat bench/results/up.md
./bench/update-readme.sh up bench/results/up.md
