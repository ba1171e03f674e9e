#!/bin/bash
# containerd's checkpoint path with nohype as the runc of its runc shim:
# `ctr containers checkpoint --task` (containerd pauses the task, the shim
# runs `nohype checkpoint --image-path --work-path`, the images go into a
# checkpoint image in containerd's store) and `ctr containers restore --live`
# (a new container and snapshot, the shim runs `nohype restore`). A private
# containerd (own root, state, socket; CRI off) and an image built here from
# busybox-static: nothing is pulled, and everything is removed at the end.
set -u
. "$(dirname "$0")/../lib/tap.sh"
command -v containerd >/dev/null || { skip "containerd checkpoint" "containerd is not installed"; exit 0; }
criu_ok() { "$1" --version 2>/dev/null | awk '/^Version:/ { split($2, v, "."); exit !(v[1] > 4 || (v[1] == 4 && v[2] >= 1)) }'; }
criu_ok /opt/nohype/criu/sbin/criu || criu_ok "${NOHYPE_CRIU:-/nonexistent}" ||
  { skip "containerd checkpoint" "no CRIU >= 4.1 (scripts/install-criu.sh builds one)"; exit 0; }
RT=$(readlink -f "$NOHYPE")
W=$(mktemp -d /tmp/nohype-ctrd-cp.XXXXXX)
SOCK=$W/containerd.sock NS=nohype-cp$$
CTR="ctr -a $SOCK -n $NS"
# A name no registry answers for: ctr must find it in the local store.
IMG=nohype.invalid/busybox:1 CP=nohype.invalid/checkpoint-$$:1
export NOHYPE_KEYS_DIR=$W/keys
CPID=""
RUN_CTRD_EXISTED=$([ -d /run/containerd ] && echo 1)
cleanup() {
  if [ -n "$CPID" ]; then
    for c in $($CTR containers ls -q 2>/dev/null); do
      $CTR tasks kill -s SIGKILL "$c" >/dev/null 2>&1; sleep 0.3
      $CTR tasks delete -f "$c" >/dev/null 2>&1; $CTR containers delete "$c" >/dev/null 2>&1
    done
    for i in $($CTR images ls -q 2>/dev/null); do $CTR images rm "$i" >/dev/null 2>&1; done
    $CTR content prune references >/dev/null 2>&1
    $CTR namespaces rm "$NS" >/dev/null 2>&1
    kill "$CPID"; for _ in $(seq 50); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$CPID" 2>/dev/null
  fi
  find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "$NS" 2>/dev/null | while read -r d; do
    find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null; rmdir "$d" 2>/dev/null; done
  rmdir "/run/containerd/runc/$NS" 2>/dev/null
  [ -n "$RUN_CTRD_EXISTED" ] || rmdir /run/containerd/runc /run/containerd/s /run/containerd/fifo /run/containerd 2>/dev/null
  awk '{print $5}' /proc/self/mountinfo | grep "^$W/" | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT

# An OCI archive of one uncompressed layer: busybox-static and its links.
R=$W/img/rootfs L=$W/img/layout
mkdir -p "$R/bin" "$R/tmp" "$R/proc" "$R/sys" "$R/dev" "$L/blobs/sha256"
cp "$(command -v busybox)" "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$R/bin/$a"; done
chmod 1777 "$R/tmp"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$R" -cf "$W/img/layer" .
blob() { local d; d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$L/blobs/sha256/$d"; echo "$d $(stat -c %s "$1")"; }
read -r ld ls < <(blob "$W/img/layer")
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$ld" > "$W/img/config"
read -r cd cs < <(blob "$W/img/config")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' "$cd" "$cs" "$ld" "$ls" > "$W/img/manifest"
read -r md ms < <(blob "$W/img/manifest")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s"}}]}' "$md" "$ms" "$IMG" > "$L/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$L/oci-layout"
tar -C "$L" -cf "$W/image.tar" oci-layout index.json blobs

cat > "$W/config.toml" <<EOF
version = 2
root = "$W/root"
state = "$W/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
EOF
containerd --config "$W/config.toml" > "$W/containerd.log" 2>&1 &
CPID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && $CTR version >/dev/null 2>&1 && break; sleep 0.2; done
$CTR version >/dev/null 2>&1 || { nok "containerd starts" "$(tail -3 "$W/containerd.log")"; exit 0; }
$CTR images import "$W/image.tar" >/dev/null 2>&1
check "the image is imported" "$IMG" "$($CTR images ls -q | grep -x "$IMG")"

count() { $CTR tasks exec --exec-id "e$RANDOM" c1 cat /tmp/count 2>/dev/null; }
# A counter in a shell variable (memory CRIU saves), written to the
# container's /tmp, in a cell without Landlock (CRIU cannot save one).
$CTR run -d --runc-binary "$RT" --annotation org.nohype.landlock=off "$IMG" c1 \
  sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done' >"$W/run.out" 2>&1
check "ctr run -d with nohype" 0 "$?$(sed 's/^/: /' "$W/run.out")"
for _ in $(seq 100); do [ "$(count)" -ge 10 ] 2>/dev/null && break; sleep 0.05; done
before=$(count)
out=$($CTR containers checkpoint --task c1 "$CP" 2>&1)
check "ctr containers checkpoint --task (paused by containerd, dumped by nohype)" "0 $CP" "$? $($CTR images ls -q | grep -x "$CP")"
check "the task runs on after the checkpoint" RUNNING "$($CTR tasks ls | awk '$1 == "c1" { print $3 }')"
$CTR tasks kill -s SIGKILL c1 >/dev/null 2>&1; sleep 0.3
$CTR tasks delete c1 >/dev/null 2>&1; $CTR containers delete c1 >/dev/null 2>&1
if $CTR images ls -q | grep -qx "$CP"; then
  out=$($CTR containers restore --live c1 "$CP" 2>&1); rc=$?
else
  out="no checkpoint image"; rc=1
fi
[ "$rc" = 0 ] && out=""
check "ctr containers restore --live (nohype restore into a new snapshot)" "0" "$rc$out"
after=$(count)
sleep 0.3
later=$(count)
if [ -n "$after" ] && [ -n "$before" ] && [ "$after" -ge "$before" ] 2>/dev/null && [ "$later" -gt "$after" ] 2>/dev/null; then
  ok "the restored counter goes on from its saved value ($before before the checkpoint, $after then $later)"
else
  nok "the restored counter goes on from its saved value" "checkpoint $before, restored $after, later $later"
fi
cg=$(cat /proc/"$($CTR tasks ls | awk '$1 == "c1" { print $2 }')"/cgroup 2>/dev/null | grep -m1 ':memory:' | cut -d: -f3)
check "the restored task is in the container's own cgroup" "/$NS/c1" "$cg"
