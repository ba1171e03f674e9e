#!/bin/bash
# podman driving nohype (through conmon), with an image imported from a local
# busybox rootfs. Private storage so nothing touches the machine's podman state.
set -u
. "$(dirname "$0")/../lib/tap.sh"
command -v podman >/dev/null || { skip "podman" "podman is not installed"; exit 0; }
W=$(mktemp -d /tmp/nohype-podman.XXXXXX)
P="podman --root $W/root --runroot $W/runroot --runtime $NOHYPE --cgroup-manager cgroupfs --events-backend file"
U="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
IMG=localhost/nohype-busybox:test
cleanup() {
  $P rm -af -t 0 >/dev/null 2>&1
  $P rmi -af >/dev/null 2>&1
  $P system reset -f >/dev/null 2>&1
  awk '{print $5}' /proc/self/mountinfo | grep "^$W/" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT

sh "$SRC/tests/lib/make-rootfs.sh" "$W/rootfs" >/dev/null
out=$(tar -C "$W/rootfs" -c . | $P import - $IMG 2>&1) && ok "import a local rootfs as an image" || nok "import a local rootfs as an image" "$out"

out=$($P run --rm $U --network none $IMG echo hello-from-podman 2>&1)
check "podman run --rm --network none: output" "hello-from-podman" "$out"

$P run --rm $U --network none $IMG sh -c 'exit 5' >/dev/null 2>&1
check "exit status reaches podman" 5 "$?"

out=$($P run --rm $U --network none -e FOO=bar -w /tmp --user 1000:1000 $IMG sh -c 'echo $FOO $(pwd) $(id -u)' 2>&1)
check "env, workdir and user" "bar /tmp 1000" "$out"

out=$($P run --rm $U --network none --read-only $IMG sh -c 'touch /x 2>/dev/null && echo rw || echo ro' 2>&1)
check "--read-only" "ro" "$out"

out=$($P run --rm $U --network none --memory 64m $IMG cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1)
check "--memory limit seen inside" 67108864 "$out"

# podman passes its own seccomp profile: nohype applies that one, not its default
# (podman's allows a user namespace; nohype's default refuses it). And podman
# takes nohype's default profile file as it is.
out=$($P run --rm $U --network none $IMG sh -c 'unshare -U true && echo userns-ok' 2>&1)
check "podman's own seccomp profile is the one applied" userns-ok "$out"
out=$($P run --rm $U --network none --security-opt seccomp="$SRC/profiles/default.json" $IMG \
  sh -c 'unshare -U true 2>&1 || echo refused' 2>&1)
check "nohype's default profile through podman refuses a user namespace" "refused" "$(echo "$out" | tail -1)"

out=$($P run --rm $U $IMG sh -c 'ip -o -4 addr show | grep -v " lo " | wc -l' 2>&1)
check "podman's default network: the container has an interface besides lo" 1 "$out"

id=$($P run -d $U --network none $IMG sleep 300 2>&1)
if [ $? -eq 0 ]; then
  ok "run -d"
  out=$($P exec "$id" sh -c 'echo exec-ok' 2>&1); check "podman exec" exec-ok "$out"
  st=$($P inspect -f '{{.State.Status}}' "$id" 2>&1); check "inspect: running" running "$st"
  $P pause "$id" >/dev/null 2>&1; st=$($P inspect -f '{{.State.Status}}' "$id" 2>&1); check "pause" paused "$st"
  $P unpause "$id" >/dev/null 2>&1; st=$($P inspect -f '{{.State.Status}}' "$id" 2>&1); check "unpause" running "$st"
  out=$($P top "$id" pid args 2>&1 | tail -n +2 | wc -l); check "top lists the process" 1 "$out"
  $P stop -t 1 "$id" >/dev/null 2>&1; st=$($P inspect -f '{{.State.Status}}' "$id" 2>&1); check "stop" exited "$st"
  $P rm "$id" >/dev/null 2>&1; check "rm" 0 $?
else
  nok "run -d" "$id"
fi
# Checkpoint and restore through podman (nohype drives CRIU 4.1; podman's own
# check only asks that some criu exists). Landlock is off for this container:
# CRIU cannot save a Landlock domain, and nohype refuses to lose it.
if [ -x /opt/nohype/criu/sbin/criu ] || [ -n "${NOHYPE_CRIU:-}" ]; then
  id=$($P run -d $U --network none --annotation org.nohype.landlock=off $IMG \
    sh -c 'i=0; while true; do i=$((i+1)); echo $i > /dev/shm/n; echo tick $i; sleep 0.05; done' 2>&1)
  for _ in $(seq 50); do [ "$($P exec "$id" cat /dev/shm/n 2>/dev/null || echo 0)" -ge 5 ] && break; sleep 0.1; done
  before=$($P exec "$id" cat /dev/shm/n 2>&1)
  out=$($P container checkpoint "$id" 2>&1); check "podman container checkpoint" 0 "$?"
  st=$($P inspect -f '{{.State.Status}}' "$id" 2>&1); check "checkpointed: exited" exited "$st"
  out=$($P container restore "$id" 2>&1); check "podman container restore" 0 "$?"
  after=$($P exec "$id" cat /dev/shm/n 2>&1)
  [ "$after" -ge "$before" ] 2>/dev/null && ok "restored: the count goes on ($before -> $after)" \
    || nok "restored: the count goes on" "before $before, after $after"
  sleep 0.3
  last=$($P logs "$id" 2>&1 | tail -1 | awk '{print $2}')
  [ "$last" -gt "$after" ] 2>/dev/null && ok "restored: its output still reaches podman's log" \
    || nok "restored: its output still reaches podman's log" "last log line: $last, count $after"
  $P rm -f -t 0 "$id" >/dev/null 2>&1
else
  skip "podman checkpoint and restore" "no CRIU >= 4.1 (scripts/install-criu.sh)"
fi
echo "# podman $(podman --version | awk '{print $3}')"
