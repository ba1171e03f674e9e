#!/bin/bash
# bench/syscall.sh: what a seccomp filter costs per system call, nohype's
# compiled filter against runc's libseccomp filter for the same profile
# (podman's default seccomp.json, imported to OCI by `nohype profile import`),
# plus the same container with no filter and with nohype's default profile
# (profiles/default.json, what `nohype spec` writes). One run; best of 5 rounds of
# 2M calls each. Needs root, g++, runc, containers-common.
set -euo pipefail
cd "$(dirname "$0")/.."
NOHYPE=${NOHYPE:-$PWD/build/nohype}
PROFILE=${PROFILE:-/usr/share/containers/seccomp.json}
W=$(mktemp -d /tmp/nohype-syscall.XXXXXX)
trap 'rm -rf --one-file-system "$W"' EXIT
sh tests/lib/make-rootfs.sh "$W/rootfs" >/dev/null
g++ -O2 -static -std=c++20 -o "$W/rootfs/bin/syscalls" bench/syscall.cc
"$NOHYPE" profile import "$PROFILE" > "$W/profile.json"
mkdir -p "$W/b"
"$NOHYPE" spec --bundle "$W/b"
python3 - "$W" <<'PY'
import json, sys
w = sys.argv[1]
c = json.load(open(w + "/b/config.json"))
c["ociVersion"] = "1.0.2"
c["root"] = {"path": w + "/rootfs", "readonly": True}
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/syscalls"]
json.dump(c, open(w + "/b/default.json", "w"))  # nohype spec's own profile
del c["linux"]["seccomp"]
json.dump(c, open(w + "/b/none.json", "w"))
c["linux"]["seccomp"] = json.load(open(w + "/profile.json"))
json.dump(c, open(w + "/b/filtered.json", "w"))
PY
rows=()
measure() { # measure NAME RUNTIME CONFIG
  cp "$W/b/$3.json" "$W/b/config.json"
  local out
  out=$("$2" --root "$W/root-$(basename "$2")" run --bundle "$W/b" "sys-$$" </dev/null)
  echo "$1: $out" >&2
  rows+=("$(python3 -c 'import json,sys; r=json.loads(sys.argv[2]); print("| %s | %.0f | %.0f | %.0f |" % (sys.argv[1], r["allowed"], r["checked"], r["denied"]))' "$1" "$out")")
}
measure "no filter (nohype)" "$NOHYPE" none
measure "nohype, nohype's default profile" "$NOHYPE" default
measure "runc, nohype's default profile" runc default
measure "nohype, podman's default profile" "$NOHYPE" filtered
measure "runc, podman's default profile" runc filtered

mkdir -p bench/results
{
  echo "ns per call, best of 5 rounds of 2M calls; podman's profile: $PROFILE ($(grep -c '"names"' "$W/profile.json") rules after import); nohype's default: profiles/default.json."
  echo "allowed = getpid, arg-checked = personality(0xffffffff), denied = acct(NULL) answered EPERM by the filter."
  echo
  echo "| filter | allowed | arg-checked | denied |"
  echo "|---|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
} > bench/results/syscall.md
cat bench/results/syscall.md
if grep -q '<!-- bench:syscall -->' README.md; then bash bench/update-readme.sh syscall bench/results/syscall.md; fi
