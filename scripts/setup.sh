#!/bin/bash
# setup.sh: install what nohype needs from Debian's archive and build it.
# Idempotent; safe to run again. Needs root (apt-get, and nohype itself runs as root).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "setup.sh: run as root (nohype creates namespaces and cgroups)" >&2; exit 1; fi

# Build: compiler, CMake+Ninja, GoogleTest; libraries nohype links (see README "Dependencies");
# clang and its runtime for the libFuzzer targets in fuzz/; clang-tidy for the lint lane.
build_pkgs="g++ cmake ninja-build pkg-config libgtest-dev nlohmann-json3-dev libseccomp-dev libnl-route-3-dev
  libtomlplusplus-dev libarchive-dev libzstd-dev zlib1g-dev libsodium-dev libgpgme-dev libssl-dev
  clang libclang-rt-14-dev clang-tidy"
# Run and test: busybox-static for test rootfs, procps for `ps`, iproute2/nftables for cell networking,
# the peers we compare with and drive (runc, crun, bwrap, podman, containerd); bench/ times with its own interleave.py;
# python3 and a JDK: the discovery tests check that they size themselves to a cell; mmdebstrap builds
# a Debian rootfs with redis and nginx for the learned-profile tests (tests/lib/make-apps-rootfs.sh);
# zstd compresses a layer of the test image (tests/lib/make-test-image.py); gnupg is what gpgme
# runs to check GPG signatures; erofs-utils makes the shared read-only image roots; skopeo and minisign are the oracles the signature tests compare with;
# python3-grpcio and protobuf-compiler make tests/cri/cri.py, the CRI client that stands in for a kubelet.
run_pkgs="busybox-static procps iproute2 nftables file runc crun bubblewrap podman containerd criu mmdebstrap
  python3 openjdk-17-jdk-headless zstd gnupg skopeo minisign erofs-utils python3-grpcio python3-protobuf
  protobuf-compiler"
missing=""
for p in $build_pkgs $run_pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup.sh: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# CRIU >= 4.1 (checkpoint, restore, migrate): Debian 12's 3.17 fails on this kernel; built from
# Debian's next release's source, verified against its signed index (scripts/install-criu.sh).
./scripts/install-criu.sh

build=${NOHYPE_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${NOHYPE_CMAKE_ARGS:-} >/dev/null
ninja -C "$build"
echo "setup.sh: built $build/nohype"
