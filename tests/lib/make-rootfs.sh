#!/bin/sh
# make-rootfs.sh DIR: a minimal busybox-static root filesystem for test containers.
# Needs Debian's busybox-static. Idempotent: an existing DIR/bin/busybox is kept.
set -eu
dir=${1:?usage: make-rootfs.sh DIR}
bb=$(command -v busybox) || { echo "make-rootfs.sh: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
case $(file -L "$bb" 2>/dev/null || echo static) in *dynamically*) echo "make-rootfs.sh: $bb is not static" >&2; exit 1;; esac
mkdir -p "$dir/bin" "$dir/sbin" "$dir/etc" "$dir/tmp" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/root" "$dir/var" "$dir/run" "$dir/usr/bin"
if [ ! -x "$dir/bin/busybox" ]; then
  cp "$bb" "$dir/bin/busybox"
  for a in $("$dir/bin/busybox" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"
  done
fi
echo "root:x:0:0:root:/root:/bin/sh" > "$dir/etc/passwd"
echo "nobody:x:65534:65534:nobody:/:/bin/sh" >> "$dir/etc/passwd"
echo "root:x:0:" > "$dir/etc/group"
echo "nogroup:x:65534:" >> "$dir/etc/group"
chmod 1777 "$dir/tmp"
