#!/bin/bash
# containerd driving nohype through containerd-shim-runc-v2, the path
# Kubernetes uses, with the project's shared peer check (../shared/peer).
set -u
. "$(dirname "$0")/../lib/tap.sh"
peer=$SRC/../shared/peer/containerd.sh
[ -f "$peer" ] || { skip "containerd peer check" "$peer not found (shared/ is not beside the repository)"; exit 0; }
command -v containerd >/dev/null || { skip "containerd peer check" "containerd is not installed"; exit 0; }
# The peer script prints TAP-style lines and "N passed, M failed"; keep its lines.
bash "$peer" "$NOHYPE" 2>&1 | grep -E '^(ok|not ok) [0-9]+|^#|passed'
