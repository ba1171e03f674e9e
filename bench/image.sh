#!/bin/bash
# bench/image.sh: ten cells of one 100 MB image (busybox and 100 MiB of
# incompressible data, an oci-archive), each reading all of the data once,
# brought up with `nohype up`, against ten `podman run -d` of the same
# archive: the first start (nohype: check, unpack, mkfs.erofs, sealed copy;
# podman: load, then run), a warm start (image already stored), and the
# page cache (shared memory included) the ten use once they have read the
# data, from a dropped page cache.
# Writes bench/results/image.md and the README section bench:image.
set -euo pipefail
cd "$(dirname "$0")/.."
NOHYPE=${NOHYPE:-$PWD/build/nohype}
N=10
W=$(mktemp -d /var/tmp/nohype-bench-image.XXXXXX)
export NOHYPE_APPS_DIR="$W/apps" NOHYPE_CELLS_DIR="$W/root" NOHYPE_IMAGES_DIR="$W/images"
export NOHYPE_POLICY="$W/policy.json"
echo '{"default": [{"type": "insecureAcceptAnything"}]}' > "$NOHYPE_POLICY"
nh() { "$NOHYPE" --root "$W/root" "$@"; }
printf '[containers]\ndefault_ulimits = []\n' > "$W/containers.conf"
export CONTAINERS_CONF="$W/containers.conf"
podman() { command podman --root "$W/podman" --runroot "$W/podman-run" --cgroup-manager cgroupfs --events-backend file --runtime runc "$@"; }
cleanup() {
  nh down --timeout 1s "$W/app.toml" >/dev/null 2>&1 || true
  for i in $(seq 0 $((N - 1))); do podman rm -f -t 0 "nhimg-$i" >/dev/null 2>&1 || true; done
  podman rmi -af >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT

sh tests/lib/make-rootfs.sh "$W/rootfs" >/dev/null
mkdir -p "$W/rootfs/data"
for i in $(seq 100); do head -c 1048576 /dev/urandom > "$W/rootfs/data/$i"; done
/usr/bin/python3 examples/shop/make-image.py "$W/rootfs" "$W/big.tar"
size=$(du -m "$W/big.tar" | cut -f1)
# Each cell reads the whole image once, then idles.
run='cat /data/* > /dev/null; echo read > /tmp/done; exec sleep 100000'
{
  echo 'name = "nhimg"'
  echo '[network]'
  echo 'subnet = "10.214.8.0/24"'
  for i in $(seq 0 $((N - 1))); do
    echo "[services.s$i]"
    echo 'image = "oci-archive:big.tar"'
    echo "command = [\"sh\", \"-c\", \"$run\"]"
    echo 'memory = "256M"'
  done
} > "$W/app.toml"

now() { date +%s%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) / 1e6 }'; }
# Page cache and shared memory (what images cost; the cells' own memory is the same for both).
used_mb() { awk '/^Cached:/ {printf "%d", $2 / 1024}' /proc/meminfo; }
settle() { sync; echo 3 > /proc/sys/vm/drop_caches; sleep 1; }
nohype_read() { for i in $(seq 0 $((N - 1))); do until nh exec "nhimg-s$i" cat /tmp/done >/dev/null 2>&1; do sleep 0.1; done; done; }
podman_read() { for i in $(seq 0 $((N - 1))); do until podman exec "nhimg-$i" cat /tmp/done >/dev/null 2>&1; do sleep 0.1; done; done; }

# nohype: first start, then down, then a warm start measured for memory.
t0=$(now); nh up "$W/app.toml" >/dev/null; t1=$(now)
n_first=$(ms "$t0" "$t1")
nh down --timeout 1s "$W/app.toml" >/dev/null
settle; base=$(used_mb)
t0=$(now); nh up "$W/app.toml" >/dev/null; t1=$(now)
n_warm=$(ms "$t0" "$t1")
nohype_read
# Steady state: what reading the data costs once the start's own reads
# (the archive, the erofs files) are out of the cache.
settle; for i in $(seq 0 $((N - 1))); do nh exec "nhimg-s$i" sh -c 'cat /data/* > /dev/null'; done
n_mem=$(( $(used_mb) - base ))
shmem=$(awk '/^Shmem:/ {printf "%d", $2 / 1024}' /proc/meminfo)
nh down --timeout 1s "$W/app.toml" >/dev/null

# podman: load + ten runs, then the same ten runs warm.
prun() { for i in $(seq 0 $((N - 1))); do podman run -d --name "nhimg-$i" --memory 256m localhost/big:latest sh -c "$run" >/dev/null; done; }
prm() { for i in $(seq 0 $((N - 1))); do podman rm -f -t 0 "nhimg-$i" >/dev/null 2>&1; done; }
t0=$(now); podman load -q -i "$W/big.tar" >/dev/null; podman tag "$(podman images -q | head -1)" localhost/big:latest; prun; t1=$(now)
p_first=$(ms "$t0" "$t1")
prm; settle; base=$(used_mb)
t0=$(now); prun; t1=$(now)
p_warm=$(ms "$t0" "$t1")
podman_read
settle; for i in $(seq 0 $((N - 1))); do podman exec "nhimg-$i" sh -c 'cat /data/* > /dev/null'; done
p_mem=$(( $(used_mb) - base ))
prm

mkdir -p bench/results
{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, kernel $(uname -r); one run; ten cells of one ${size} MB oci-archive, each reading its 100 MiB of data."
  echo
  echo "| | first start (10) | warm start (10) | page cache used by the ten |"
  echo "|---|---:|---:|---:|"
  echo "| \`nohype up\` (check, unpack, mkfs.erofs, sealed memfd, 10 overlays) | $n_first ms | $n_warm ms | $n_mem MiB |"
  echo "| \`podman load\` + \`podman run -d\` ×10 (overlay store, runc) | $p_first ms | $p_warm ms | $p_mem MiB |"
  echo
  echo "Page cache is /proc/meminfo's Cached once the ten have read the data again after the page cache was dropped (so the start's own reads of the archive and layer files are gone), minus the same before the start; nohype's includes the sealed copies of the image's layers (Shmem on the host then: $shmem MiB, other users' included)."
} > bench/results/image.md
cat bench/results/image.md
./bench/update-readme.sh image bench/results/image.md
