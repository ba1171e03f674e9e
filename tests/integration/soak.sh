#!/bin/bash
# Soak: many full lifecycles (create, start, exec, kill, delete) over a mix of
# configs, and many up/down cycles of a three-service app, while another
# cell is queried, exec'd into, paused and resumed all along. Afterwards
# everything nohype can leave must be as before: mounts, cgroups, network
# devices, nft tables, nohype processes and their fds, files under the state
# directories; and the memory the kernel holds must not have grown.
# CI runs SOAK_LIFECYCLES=200 SOAK_APPS=20 (the defaults); README gives the
# full run (1000 and 200) and its last result.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LIFECYCLES=${SOAK_LIFECYCLES:-200}
APPS=${SOAK_APPS:-20}
W=$(mktemp -d /tmp/nohype-soak.XXXXXX)
chmod 755 "$W"
ROOT=$W/root
export NOHYPE_CELLS_DIR=$W/cells NOHYPE_APPS_DIR=$W/apps NOHYPE_IMAGES_DIR=$W/images
NH="$NOHYPE --root $ROOT"
TAG=sk$$
APP=sk$(($$ % 100000))
PY=/usr/bin/python3
cleanup() {
  touch "$W/stop"
  wait 2>/dev/null
  $NH down --timeout 0s "$W/app.toml" >/dev/null 2>&1
  for id in $($NH list -q 2>/dev/null); do $NH delete -f "$id" >/dev/null 2>&1; done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT

# What nohype can leave behind, as one line per kind; the neighbour's own
# (its cgroups, its state) are left out, and it is quiet while this runs.
snapshot() {
  echo "mounts $(grep -c " $W" /proc/self/mountinfo)"
  echo "cgroups $(find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -path '*/nohype/*' -name "$TAG*" ! -name "$TAG-bg*" 2>/dev/null | wc -l)"
  echo "devices $(ip -o link | grep -c "nh-$APP\|nhv")"
  echo "nft tables $(nft list tables 2>/dev/null | grep -c "nohype_$APP")"
  local procs fds=0
  procs=$(pgrep -x nohype | tr '\n' ' ')
  for p in $procs; do fds=$((fds + $(ls /proc/$p/fd 2>/dev/null | wc -l))); done
  echo "nohype processes $(echo $procs | wc -w) with $fds fds"
  state_files > "$W/files.$1"
  echo "state files $(wc -l < "$W/files.$1")"
}
state_files() { find "$ROOT" "$W/cells" "$W/apps" 2>/dev/null | grep -v "/$TAG-bg" | sort; }
# Memory: the page cache and reclaimable slab come and go with whatever the
# host reads, and a removed memory cgroup lingers ("dying") until the cache
# it was charged for is reclaimed. So both snapshots drop the caches first
# (harmless to other work: it only has to read again), then count what no
# reclaim frees: memory in use, and live plus dying memory cgroups.
# The assertion is on what the kernel holds (tmpfs and shm pages,
# unreclaimable slab, per-cpu areas, kernel stacks, page tables): that is
# what outlives a process nohype forgot to clean up. Memory in use as a
# whole is only reported: the clang-tidy lane runs beside this one, and its
# processes alone moved it by -100 and +127 MiB between two snapshots.
# A process nohype left would show in the process, cgroup and fd counts.
memory_snapshot() {
  sync; echo 3 > /proc/sys/vm/drop_caches; sleep 2
  awk '/^MemTotal/{t=$2} /^MemAvailable/{a=$2} /^Shmem:/{sh=$2} /^SUnreclaim/{su=$2} /^Percpu/{pc=$2}
       /^KernelStack/{ks=$2} /^PageTables/{pt=$2}
       END{printf "%d %d %d %d %d", (t-a)/1024, sh/1024, su/1024, pc/1024, (sh+su+pc+ks+pt)/1024}' /proc/meminfo
  awk '$1 == "memory" {printf " %d\n", $3}' /proc/cgroups
}

# Configs: the default; read-only root and no pid namespace (the init's
# children outlive it); a cell with a dedicated core and 64M; no seccomp.
sh "$SRC/tests/lib/make-rootfs.sh" "$W/rootfs" >/dev/null
# The apps directory, like the state root, stays once made.
mkdir -p "$W/apps" "$W/cells" && echo '{"cores": "0-1", "memory": "2G"}' > "$W/cells/host.json"
for c in plain ro cell open; do
  mkdir -p "$W/$c" && ln -s ../rootfs "$W/$c/rootfs"
  (cd "$W/$c" && $NOHYPE spec)
  $PY - "$W/$c/config.json" "$c" <<'EOF'
import json, sys
path, kind = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["sleep", "600"]
c["root"]["readonly"] = kind == "ro"
if kind == "ro":
    c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "pid"]
if kind == "cell":
    c["annotations"] = {"org.nohype.cores": "1", "org.nohype.memory": "64M"}
if kind == "open":
    c["linux"].pop("seccomp", None)
json.dump(c, open(path, "w"))
EOF
done

# The neighbour: queried and disturbed for as long as the soak runs.
$NH run -d --bundle "$W/plain" "$TAG-bg" >/dev/null 2>&1 || nok "the neighbour cell runs"
before=$(snapshot before)
read -r used_before shmem_before slab_before percpu_before kernel_before memcgs_before < <(memory_snapshot)
(
  while [ ! -e "$W/stop" ]; do
    $NH state "$TAG-bg" >/dev/null 2>&1
    $NH exec "$TAG-bg" true >/dev/null 2>&1
    $NH pause "$TAG-bg" >/dev/null 2>&1
    $NH ps "$TAG-bg" >/dev/null 2>&1
    $NH resume "$TAG-bg" >/dev/null 2>&1
    $NH list >/dev/null 2>&1
  done
) &

failures=0
first_failure=""
note() { failures=$((failures + 1)); [ -z "$first_failure" ] && first_failure="$1"; }
kinds=(plain ro cell open)
for i in $(seq 1 "$LIFECYCLES"); do
  kind=${kinds[$((i % 4))]}
  id=$TAG-$i
  # The container's process inherits create's stdio: a file, not a pipe
  # that $(...) would wait on for as long as the container runs.
  $NH create --bundle "$W/$kind" "$id" > "$W/create.out" 2>&1 || { note "create $id ($kind): $(cat "$W/create.out")"; continue; }
  $NH start "$id" >/dev/null 2>&1 || note "start $id ($kind)"
  out=$($NH exec "$id" sh -c 'echo in-$0' "$i" 2>&1)
  [ "$out" = "in-$i" ] || note "exec $id ($kind): $out"
  $NH kill "$id" KILL >/dev/null 2>&1 || note "kill $id ($kind)"
  for _ in $(seq 1 200); do
    $NH state "$id" 2>/dev/null | grep -q '"status": *"stopped"' && break
    sleep 0.01
  done
  out=$($NH delete "$id" 2>&1) || note "delete $id ($kind): $out"
done
check "$LIFECYCLES lifecycles over four configs beside a busy neighbour" "0" "$failures${first_failure:+ (first: $first_failure)}"

cat > "$W/app.toml" <<EOF
name = "$APP"
[network]
subnet = "10.212.$(($$ % 200)).0/24"
[services.a]
image = "$W/rootfs"
memory = "16M"
command = ["sleep", "600"]
ports = [80]
[services.b]
image = "$W/rootfs"
memory = "16M"
command = ["sleep", "600"]
calls = ["a:80"]
[services.c]
image = "$W/rootfs"
memory = "16M"
command = ["sleep", "600"]
EOF
failures=0
first_failure=""
for i in $(seq 1 "$APPS"); do
  out=$($NH up "$W/app.toml" 2>&1) || { note "up #$i: $out"; continue; }
  out=$($NH down --timeout 0s "$W/app.toml" 2>&1) || note "down #$i: $out"
done
check "$APPS up/down cycles of a three-service app" "0" "$failures${first_failure:+ (first: $first_failure)}"

touch "$W/stop"
wait
after=$(snapshot after)
check "nothing left: mounts, cgroups, devices, nft tables, nohype processes and fds, state files" "$before" "$after"
diff "$W/files.before" "$W/files.after" | sed 's/^/# /' 
read -r used_after shmem_after slab_after percpu_after kernel_after memcgs_after < <(memory_snapshot)
echo "# memory in use $used_before -> $used_after MiB (shmem $shmem_before -> $shmem_after, unreclaimable slab" \
  "$slab_before -> $slab_after, percpu $percpu_before -> $percpu_after); memory cgroups $memcgs_before -> $memcgs_after"
echo "# kernel-held (shmem, unreclaimable slab, percpu, kernel stacks, page tables) $kernel_before -> $kernel_after MiB"
grown=$((kernel_after - kernel_before))
if [ "$grown" -lt 16 ]; then ok "kernel-held memory grew by less than 16 MiB ($grown MiB)"; else nok "kernel-held memory did not grow" "grew by $grown MiB"; fi
# Dying memory cgroups that no reclaim frees are a leak of their own.
memcgs_grown=$((memcgs_after - memcgs_before))
if [ "$memcgs_grown" -lt 10 ]; then ok "memory cgroups (live and dying) grew by less than 10 ($memcgs_grown)"; else nok "memory cgroups did not pile up" "grew by $memcgs_grown"; fi
$NH delete -f "$TAG-bg" >/dev/null 2>&1
out=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -path '*/nohype/*' -name "$TAG*" 2>/dev/null)
check "the neighbour's delete leaves no cgroup" "" "$out"
