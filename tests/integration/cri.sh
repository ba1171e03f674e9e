#!/bin/bash
# Kubernetes' way in: the CRI of containerd's CRI plugin with a RuntimeClass
# handler "nohype" (deploy/containerd-nohype.toml), driven by tests/cri/cri.py
# as a kubelet would drive it. A private containerd (own root, state, socket
# and runtime root under a fresh directory), an image built here from
# busybox-static and imported (no registry), host-network pods (no CNI), a
# cgroup parent of its own; everything is removed at the end and the lane
# checks that nothing is left.
set -u
. "$(dirname "$0")/../lib/tap.sh"
need() { skip "CRI lane" "$1"; exit 0; }
command -v containerd >/dev/null || need "containerd is not installed (scripts/setup.sh installs it)"
command -v protoc >/dev/null || need "protoc is not installed (protobuf-compiler)"
/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null || need "python3-grpcio / python3-protobuf are not installed"
case $(file -L "$(command -v busybox 2>/dev/null || echo /nonexistent)") in
  *statically*) ;; *) need "busybox-static is not installed" ;;
esac
W=$(mktemp -d /tmp/nohype-cri.XXXXXX)
SOCK=$W/containerd.sock
CG=nohype-cri-$$
export CRI_TIMEOUT=60
CRI="/usr/bin/python3 $SRC/tests/cri/cri.py -s $SOCK"
# the runc shim adds the containerd namespace to the runtime root
NHR="$NOHYPE --root $W/nohype-root/k8s.io"
CPID=""
run_ctrd_existed=$([ -d /run/containerd ] && echo 1)
cleanup() {
  if [ -n "$CPID" ]; then
    for p in $($CRI pods 2>/dev/null | grep -o '"id": "[0-9a-f]*"' | cut -d'"' -f4); do
      $CRI stopp "$p" >/dev/null 2>&1; $CRI rmp "$p" >/dev/null 2>&1
    done
    kill "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null
  fi
  pkill -f -- "-address $SOCK" 2>/dev/null  # shims outlive containerd by design
  for c in $($NHR list -q 2>/dev/null); do $NHR delete -f "$c" >/dev/null 2>&1; done
  grep -F " $W/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  for d in /sys/fs/cgroup/*/"$CG"; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  rm -rf --one-file-system "$W"
  # the shims' sockets live in /run/containerd/s whatever the config says
  [ -z "$run_ctrd_existed" ] && rmdir /run/containerd/s /run/containerd 2>/dev/null
  true
}
trap cleanup EXIT

# The image: busybox-static; its command sleeps (a pod's pause container, or
# an app that names its own command); tagged twice.
img() {
  local r=$W/img/rootfs l=$W/img/layout a layer lsize cfg csize man msize entries="" n
  mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/proc" "$r/sys" "$r/dev" "$l/blobs/sha256"
  cp "$(command -v busybox)" "$r/bin/busybox"
  for a in $("$r/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"; done
  echo "root:x:0:0:root:/root:/bin/sh" > "$r/etc/passwd"; echo "root:x:0:" > "$r/etc/group"
  chmod 1777 "$r/tmp"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$r" -cf "$W/img/layer.tar" .
  blob() { local d; d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$l/blobs/sha256/$d"; echo "$d $(stat -c %s "$1")"; }
  read -r layer lsize < <(blob "$W/img/layer.tar")
  printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["/bin/sleep","2147483647"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$layer" > "$W/img/config.json"
  read -r cfg csize < <(blob "$W/img/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' "$cfg" "$csize" "$layer" "$lsize" > "$W/img/manifest.json"
  read -r man msize < <(blob "$W/img/manifest.json")
  for n in localhost/nohype-pause:1 localhost/nohype-busybox:1; do
    entries+="${entries:+,}{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$man\",\"size\":$msize,\"annotations\":{\"io.containerd.image.name\":\"$n\",\"org.opencontainers.image.ref.name\":\"1\"}}"
  done
  echo "{\"schemaVersion\":2,\"manifests\":[$entries]}" > "$l/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$l/oci-layout"
  tar -C "$l" -cf "$W/image.tar" oci-layout index.json blobs
}
img || { nok "build the test image"; exit 0; }

# containerd: the shipped handler configuration, with this run's paths.
sed -e "s|/usr/local/bin/nohype|$NOHYPE|" -e "s|# Root = .*|Root = \"$W/nohype-root\"|" \
  "$SRC/deploy/containerd-nohype.toml" > "$W/handler.toml"
cat > "$W/config.toml" <<EOT
version = 2
root = "$W/root"
state = "$W/state"
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$W/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/nohype-pause:1"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # root here has no CAP_SYS_RESOURCE: a sandbox's oom_score_adj of -998
  # would fail for runc and nohype alike
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$W/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
EOT
cat "$W/handler.toml" >> "$W/config.toml"
# A partition table of its own (the shim passes containerd's environment on
# to nohype), with one core to hand out: the lane runs beside the demo's
# cells and makes pods compete for that core.
mkdir -p "$W/cni" "$W/logs" "$W/cells"
echo '{"cores": "1", "memory": "1G"}' > "$W/cells/host.json"
NOHYPE_CELLS_DIR=$W/cells containerd --config "$W/config.toml" > "$W/containerd.log" 2>&1 &
CPID=$!
for i in $(seq 100); do [ -S "$SOCK" ] && $CRI version >/dev/null 2>&1 && break; sleep 0.2; done
out=$($CRI version 2>&1)
case "$out" in
  *'"runtimeApiVersion": "v1"'*) ok "containerd's CRI plugin answers (runtime.v1)" ;;
  *) nok "containerd's CRI plugin answers" "$out $(tail -3 "$W/containerd.log")"; exit 0 ;;
esac
out=$(ctr -a "$SOCK" -n k8s.io images import "$W/image.tar" 2>&1) || { nok "import the image" "$out"; exit 0; }
check "the image is listed through the CRI" 1 "$($CRI images | grep -c '"localhost/nohype-busybox:1"')"

netns_before=$(ls /run/netns 2>/dev/null | sort)
pod() { # pod NAME [ANNOTATIONS_JSON]: a host-network PodSandboxConfig in $W/NAME.json
  cat > "$W/$1.json" <<EOT
{"metadata": {"name": "$1", "uid": "uid-$1-$$", "namespace": "nohype-cri-test"},
 "log_directory": "$W/logs/$1", "annotations": ${2:-{\}},
 "linux": {"cgroup_parent": "/$CG",
           "security_context": {"namespace_options": {"network": "NODE", "pid": "CONTAINER"}}}}
EOT
  mkdir -p "$W/logs/$1"
}
app() { # app NAME: a ContainerConfig in $W/NAME.ctr.json: sleeps, under the runtime's default seccomp profile
  cat > "$W/$1.ctr.json" <<EOT
{"metadata": {"name": "$1"}, "image": {"image": "localhost/nohype-busybox:1"},
 "command": ["/bin/sleep", "100000"], "log_path": "$1.log",
 "linux": {"security_context": {"seccomp": {"profile_type": "RuntimeDefault"}}}}
EOT
}

# 1. A pod with handler nohype: nohype runs both its containers.
pod p1; app a1
P1=$($CRI runp "$W/p1.json" nohype 2>&1)
check "RunPodSandbox with handler nohype" running "$($NHR state "$P1" 2>&1 | grep -o '"status": "[a-z]*"' | cut -d'"' -f4)"
C1=$($CRI create "$P1" "$W/a1.ctr.json" "$W/p1.json" 2>&1) && $CRI start "$C1" 2>&1
check "CreateContainer and StartContainer" CONTAINER_RUNNING "$($CRI status "$C1" 2>&1 | grep -o 'CONTAINER_[A-Z]*')"
check "the container is nohype's" running "$($NHR state "$C1" 2>&1 | grep -o '"status": "[a-z]*"' | cut -d'"' -f4)"
out=$($CRI exec "$C1" sh -c 'grep -E "^Seccomp:" /proc/self/status; cat /proc/1/cmdline | tr "\0" " "' 2>&1)
case "$out" in
  *"Seccomp:"*2*"/bin/sleep 2147483647"*) ok "ExecSync: seccomp mode 2 (the runtime default), the pod's pause is pid 1" ;;
  *) nok "ExecSync" "$out" ;;
esac
$CRI exec "$C1" sh -c 'exit 7' >/dev/null 2>&1
check "ExecSync passes the exit code" 7 "$?"
attached=""
for p in /proc/[0-9]*; do [ "$(readlink "$p/exe" 2>/dev/null)" = "$NOHYPE" ] && attached+=" ${p#/proc/}"; done
check "no nohype process stays attached" "" "$attached"

# 2. Refusals reach the CRI caller with nohype's line.
pod bad '{"org.nohype.cores": "zero"}'
out=$($CRI runp "$W/bad.json" nohype 2>&1)
case "$out" in
  *'annotations["org.nohype.cores"]: "zero" is not a whole number'*) ok "a bad pod annotation is refused with nohype's line" ;;
  *) nok "a bad pod annotation is refused with nohype's line" "$out" ;;
esac
pod p2
out=$($CRI runp "$W/p2.json" no-such-handler 2>&1)
case "$out" in
  *"no runtime for \"no-such-handler\" is configured"*) ok "a handler that is not configured is refused" ;;
  *) nok "a handler that is not configured is refused" "$out" ;;
esac

# 3. One cell per pod: a pod asking for a dedicated core and memory holds
# them, its app container runs in that cell (containerd copies the pod's
# annotations into every container: the app joins, it does not ask again),
# and a second pod is refused with nohype's admission line.
pod c1 '{"org.nohype.cores": "1", "org.nohype.memory": "64M"}'; app c1a
PC1=$($CRI runp "$W/c1.json" nohype 2>&1)
check "a pod's cell holds the core it asked for" '"cores": "1"' \
  "$(NOHYPE_CELLS_DIR=$W/cells $NHR inspect --format json "$PC1" 2>&1 | grep -o '"cores": "[0-9-]*"' | head -1)"
CC1=$($CRI create "$PC1" "$W/c1a.ctr.json" "$W/c1.json" 2>&1) && $CRI start "$CC1" 2>&1
out=$($CRI exec "$CC1" sh -c 'nproc; grep -E "Cpus_allowed_list|^Seccomp:" /proc/self/status; grep MemTotal /proc/meminfo' 2>&1)
check "the app container runs in the pod's cell (nproc, cores, seccomp, /proc/meminfo)" \
  "1 Seccomp: 2 Cpus_allowed_list: 1 MemTotal: 65536 kB" "$(echo $out)"
attached=""
for p in /proc/[0-9]*; do [ "$(readlink "$p/exe" 2>/dev/null)" = "$NOHYPE" ] && attached+=" ${p#/proc/}"; done
check "no nohype process stays attached to the pod's cell" "" "$attached"
check "the app container's memory limit is the pod's reservation" 67108864 \
  "$(cat "/sys/fs/cgroup/memory/$CG/$CC1/memory.limit_in_bytes" 2>&1)"
pod c2 '{"org.nohype.cores": "1"}'
out=$($CRI runp "$W/c2.json" nohype 2>&1)
case "$out" in
  *"admission: "*"$PC1"*) ok "a second pod needing the same core is refused, naming the holder"; echo "# ${out##*OCI runtime create failed: }" ;;
  *) nok "a second pod needing the same core is refused, naming the holder" "$out" ;;
esac
check "the refused pod left no state" "" "$($NHR list -q 2>&1 | grep -v -e "$P1" -e "$C1" -e "$PC1" -e "$CC1")"
$CRI stopp "$PC1" >/dev/null && $CRI rmp "$PC1" >/dev/null
check "the pod's cell is released" "" "$(grep -so -e "$PC1" -e "$CC1" "$W/cells/.partition.json")"

# 4. A Guaranteed pod under the kubelet's static CPU manager: no nohype
# annotation, but the container comes with the exclusive cpuset the kubelet
# chose and a memory limit: exact cores the host allocates become a cell
# (dedicated), and the limit its reservation.
pod g1
cat > "$W/g1a.ctr.json" <<EOT
{"metadata": {"name": "g1a"}, "image": {"image": "localhost/nohype-busybox:1"},
 "command": ["/bin/sleep", "100000"], "log_path": "g1a.log",
 "linux": {"resources": {"cpuset_cpus": "1", "memory_limit_in_bytes": 33554432,
                         "cpu_period": 100000, "cpu_quota": 100000}}}
EOT
PG1=$($CRI runp "$W/g1.json" nohype 2>&1)
CG1=$($CRI create "$PG1" "$W/g1a.ctr.json" "$W/g1.json" 2>&1) && $CRI start "$CG1" 2>&1
out=$($CRI exec "$CG1" sh -c 'nproc; grep Cpus_allowed_list /proc/self/status; grep MemTotal /proc/meminfo' 2>&1)
check "a kubelet-pinned Guaranteed container is a cell (nproc, cores, /proc/meminfo)" \
  "1 Cpus_allowed_list: 1 MemTotal: 32768 kB" "$(echo $out)"
check "its core is dedicated in the partition table" '"cores": "1"' \
  "$(NOHYPE_CELLS_DIR=$W/cells $NHR inspect --format json "$CG1" 2>&1 | grep -o '"cores": "[0-9-]*"' | head -1)"
$CRI stopp "$PG1" >/dev/null && $CRI rmp "$PG1" >/dev/null

# 5. Stop and remove: nothing left of the pod.
t0=$(date +%s)
$CRI stopp "$P1" && $CRI rmp "$P1"
check "StopPodSandbox and RemovePodSandbox succeed" "0" "$?"
check "stopping the pod took less than 30 s (no shim timeout)" 1 "$(( $(date +%s) - t0 < 30 ))"
check "no pod is listed" "{}" "$($CRI pods | tr -d ' \n')"
check "no nohype state is left" "" "$($NHR list -q 2>&1)"
check "the partition table is empty (no file)" "host.json" "$(ls -A "$W/cells")"
check "no cgroup is left under /$CG" "" "$(find /sys/fs/cgroup/*/"$CG" -mindepth 1 -type d 2>/dev/null)"
check "no network namespace is left" "$netns_before" "$(ls /run/netns 2>/dev/null | sort)"
check "no mount is left under the pod's rootfs" "" "$(grep -F "/k8s.io/$P1" /proc/self/mountinfo; grep -F "/k8s.io/$C1" /proc/self/mountinfo)"
