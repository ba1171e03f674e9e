#!/bin/bash
# install-criu.sh: CRIU >= 4.1 for checkpoint, restore and migrate.
# Debian 12's criu 3.17 fails on newer kernels ("Unexpected rt vDSO area
# bounds": the [vvar_vclock] mapping is handled from CRIU 4.1). Debian's next
# release packages criu 4.1.1; this builds that source on Debian 12:
#   - the archive is the one apt is configured with (no host is named here);
#   - the chain of trust is Debian's: InRelease verified with gpgv against
#     debian-archive-keyring, Sources.xz checked against InRelease, the
#     tarball checked against Sources;
#   - three patches of ours (criu-4.1.1-*.patch):
#     - so-pass: Linux 6.16 answers EOPNOTSUPP to SO_PASSCRED/SO_PASSSEC on
#       inet sockets, which makes 4.1.1 fail to dump any TCP or UDP socket;
#       such sockets cannot have them on;
#     - pipe-size: without CAP_SYS_RESOURCE (as in our sandboxes) a pipe
#       cannot grow past fs.pipe-max-size; the lazy-pages server then tees
#       into a 64 KiB pipe and every post-copy migration fails;
#     - rlimits: without CAP_SYS_RESOURCE, prlimit() cannot even read the
#       limits of another user's task, so no cell running as nobody could
#       be dumped; /proc/PID/limits shows the same numbers;
#   - `make criu` only (no plugins, no docs), installed under $PREFIX with a
#     BUILD marker naming the source and the patches.
# Skips everything when that build, or another CRIU >= 4.1 given as
# $NOHYPE_CRIU, is already there. Idempotent; root.
set -euo pipefail
PREFIX=${NOHYPE_CRIU_PREFIX:-/opt/nohype/criu}
SUITE=trixie VERSION=4.1.1
HERE=$(cd "$(dirname "$0")" && pwd)
PATCHES=("$HERE"/criu-$VERSION-*.patch)
BUILD="criu $VERSION from $SUITE + $(cat "${PATCHES[@]}" | sha256sum | cut -c1-16)"
good() { "$1" --version 2>/dev/null | awk '/^Version:/ { split($2, v, "."); exit !(v[1] > 4 || (v[1] == 4 && v[2] >= 1)) }'; }
if [ -x "$PREFIX/sbin/criu" ] && [ "$(cat "$PREFIX/BUILD" 2>/dev/null)" = "$BUILD" ] && good "$PREFIX/sbin/criu"; then
  echo "install-criu.sh: $PREFIX/sbin/criu is installed ($BUILD)"
  exit 0
fi
if [ -n "${NOHYPE_CRIU:-}" ] && good "$NOHYPE_CRIU"; then echo "install-criu.sh: using $NOHYPE_CRIU"; exit 0; fi

deps="pkg-config libprotobuf-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler python3-protobuf
  libnl-3-dev libnet1-dev libcap-dev libbsd-dev libnftables-dev libgnutls28-dev gpgv xz-utils debian-archive-keyring
  iptables patch"
missing=""
for p in $deps; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"; done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(LABEL)' | awk -v c="$codename" '$2 == c && $3 == "Debian" { print $1; exit }')
[ -n "$mirror" ] || { echo "install-criu.sh: apt has no Debian source for $codename" >&2; exit 1; }
W=$(mktemp -d /var/tmp/nohype-criu.XXXXXX)
trap 'rm -rf "$W"' EXIT
fetch() { /usr/lib/apt/apt-helper -qq -o APT::Sandbox::User=root download-file "$1" "$2" ${3:+"SHA256:$3"} >/dev/null; }

fetch "${mirror}dists/$SUITE/InRelease" "$W/InRelease"
gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg --output "$W/Release" "$W/InRelease" 2>/dev/null \
  || { echo "install-criu.sh: $SUITE's InRelease is not signed by a Debian archive key" >&2; exit 1; }
sources_sha=$(awk '/^SHA256:/ { s = 1; next } /^[^ ]/ { s = 0 } s && $3 == "main/source/Sources.xz" { print $1 }' "$W/Release")
fetch "${mirror}dists/$SUITE/main/source/Sources.xz" "$W/Sources.xz" "$sources_sha"
read -r tar_sha tar_size tar_name dir < <(xzcat "$W/Sources.xz" | awk -v v="$VERSION" '
  /^Package: / { p = ($2 == "criu") } p && /^Directory: / { d = $2 }
  p && /^Checksums-Sha256:/ { s = 1; next } p && s && /^ / && $3 == "criu_" v ".orig.tar.xz" { h = $1 " " $2 " " $3 }
  /^[^ ]/ && !/^Checksums-Sha256:/ { s = 0 } END { if (h) print h, d }')
[ -n "${tar_sha:-}" ] || { echo "install-criu.sh: no criu $VERSION in $SUITE's Sources" >&2; exit 1; }
fetch "${mirror}$dir/$tar_name" "$W/$tar_name" "$tar_sha"
echo "install-criu.sh: building criu $VERSION ($tar_name, sha256 $tar_sha, checked against $SUITE's signed index)"
tar -xf "$W/$tar_name" -C "$W"
for p in "${PATCHES[@]}"; do patch -d "$W/criu-$VERSION" -p1 -s < "$p"; done
make -C "$W/criu-$VERSION" -j"$(nproc)" criu >"$W/build.log" 2>&1 || { tail -30 "$W/build.log" >&2; exit 1; }
install -D -m 0755 "$W/criu-$VERSION/criu/criu" "$PREFIX/sbin/criu"
echo "$BUILD" > "$PREFIX/BUILD"
good "$PREFIX/sbin/criu" || { echo "install-criu.sh: the built criu does not report >= 4.1" >&2; exit 1; }
"$PREFIX/sbin/criu" check >/dev/null 2>&1 || echo "install-criu.sh: warning: criu check reports problems on this kernel" >&2
echo "install-criu.sh: installed $PREFIX/sbin/criu ($("$PREFIX/sbin/criu" --version | head -1))"
