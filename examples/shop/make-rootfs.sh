#!/bin/sh
# make-rootfs.sh DIR BINDIR: the shop's rootfs, shared read-only by its
# cells: Debian's busybox-static (a shell and nc for poking around) and the
# three services. Idempotent.
set -eu
dir=$1 bin=$2
mkdir -p "$dir/bin" "$dir/etc" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/tmp"
install -m 0755 /bin/busybox "$dir/bin/busybox"
for a in sh cat ls echo sleep nc ps; do ln -sf busybox "$dir/bin/$a"; done
for s in kv api web; do install -m 0755 "$bin/$s" "$dir/bin/$s"; done
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
: > "$dir/etc/hosts"
