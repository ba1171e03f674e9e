#!/bin/bash
# bench/startup.sh: start-to-exit latency of `run` for /bin/true with the
# same config for every runtime (nohype's default spec: all namespaces but
# user, default mounts, masked and read-only paths, cgroups, capabilities,
# rlimits), with and without nohype's default seccomp profile, against runc,
# crun, `bwrap --unshare-all` and the fork+exec floor, all in ONE interleaved
# run (bench/interleave.py). Then where nohype's time goes, step by step
# (--debug timings, medians). Needs root. Writes bench/results/startup.md and
# the README's "Startup latency" section. Run it with no cell holding a
# dedicated core (take the demo down first): the cells it starts run in the
# shared pool, which a held core narrows.
#   RUNS (default 200), WARMUP (10), STEP_RUNS (60)
set -euo pipefail
cd "$(dirname "$0")/.."
NOHYPE=${NOHYPE:-$PWD/build/nohype}
RUNS=${RUNS:-200} WARMUP=${WARMUP:-10} STEP_RUNS=${STEP_RUNS:-60}
PY=/usr/bin/python3

# crun 1.8 refuses a hybrid host whose cgroup2 mount has a controller: run
# the whole bench (every runtime alike) in a private mount namespace
# without that mount. The host's mounts are untouched.
if command -v crun >/dev/null && [ -z "${STARTUP_PRIVATE_NS:-}" ] &&
   [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
  STARTUP_PRIVATE_NS=1 exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi
hidden=""
if [ -n "${STARTUP_PRIVATE_NS:-}" ]; then
  umount /sys/fs/cgroup/unified
  hidden=" (in a private mount namespace without the empty cgroup2 mount, for crun)"
fi

W=$(mktemp -d /tmp/nohype-bench.XXXXXX)
trap 'rm -rf --one-file-system "$W"' EXIT
# A root of its own per bundle: runc refuses a symlinked one.
for d in rootfs seccomp/rootfs bare/rootfs; do sh tests/lib/make-rootfs.sh "$W/$d" >/dev/null; done
"$NOHYPE" spec --bundle "$W/seccomp"
# Terminal off, /bin/true; ociVersion 1.0.2: crun 1.8.1 refuses newer ones.
$PY - "$W" <<'PY'
import json, sys
w = sys.argv[1]
c = json.load(open(w + "/seccomp/config.json"))
c["ociVersion"] = "1.0.2"
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, open(w + "/seccomp/config.json", "w"), indent=1)
del c["linux"]["seccomp"]
json.dump(c, open(w + "/bare/config.json", "w"), indent=1)
PY

# nohype's compiled default profile, for bwrap --seccomp: the program part
# of the one entry a fresh seccomp cache holds after one run.
"$NOHYPE" --root "$W/prime" run --bundle "$W/seccomp" prime
$PY - "$W/prime/.seccomp-cache" "$W/profile.bpf" <<'PY'
import glob, struct, sys
(path,) = glob.glob(sys.argv[1] + "/*.bpf")
data = open(path, "rb").read()
magic, key_len, flags, notify, insns = struct.unpack("<8sIIII", data[:24])
assert magic == b"NHSCBPF1", magic
prog = data[24 + key_len:]
assert len(prog) == insns * 8
open(sys.argv[2], "wb").write(prog)
PY

cmds=("floor=/bin/true" "floor (static busybox true)=$W/rootfs/bin/true")
notes=""
try() { # try LABEL CMD...: add LABEL=CMD if one run of it succeeds
  local label=$1 out
  shift
  if out=$("$@" 2>&1); then cmds+=("$label=$*"); else notes="$notes
- $label cannot run on this host: \"$(echo "$out" | tail -1)\""; fi
}
n=0
for rt in nohype runc crun; do
  bin=$rt
  [ $rt = nohype ] && bin=$NOHYPE
  command -v "$bin" >/dev/null || { notes="$notes
- $rt is not installed"; continue; }
  extra=""
  [ $rt = crun ] && extra="--cgroup-manager=cgroupfs"
  n=$((n + 1))
  try "$rt" $bin $extra --root "$W/$rt" run --bundle "$W/bare" "b$n"
  try "$rt+seccomp" $bin $extra --root "$W/$rt" run --bundle "$W/seccomp" "s$n"
done
if command -v bwrap >/dev/null; then
  bw="--ro-bind $W/rootfs / --proc /proc --dev /dev /bin/true"
  try "bwrap --unshare-all" bwrap --unshare-all $bw
  cmds+=("bwrap --unshare-all+seccomp=9<$W/profile.bpf bwrap --unshare-all --seccomp 9 $bw")
fi
$PY bench/interleave.py "$RUNS" "$WARMUP" "${cmds[@]}" > "$W/times.json"

# Where nohype's own time goes: STEP_RUNS runs with --debug; each step's
# median, and what the process's steps do not cover (exec and exit of the
# process, measured from outside).
$PY - "$NOHYPE" "$W" "$STEP_RUNS" > "$W/steps.txt" <<'PY'
import re, statistics, subprocess, sys, time
nohype, w, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for bundle in ("bare", "seccomp"):
    steps, outside, floor, template = {}, [], [], None
    for i in range(n):
        start = time.perf_counter()
        subprocess.run(["/bin/true"], check=True)
        floor.append((time.perf_counter() - start) * 1e6)
        log = "%s/debug-%s.log" % (w, bundle)
        open(log, "w").close()
        start = time.perf_counter()
        subprocess.run([nohype, "--debug", "--log", log, "--root", w + "/steps", "run", "--bundle", w + "/" + bundle,
                        "t%d" % i], check=True, stderr=subprocess.DEVNULL)
        wall = (time.perf_counter() - start) * 1e6
        line = re.search(r"run steps \(us\): ([^\"]*)", open(log).read()).group(1).strip()
        template = template or line
        top = re.sub(r"\[[^\]]*\]", "", line)  # nested timings are parts of their step
        outside.append(wall - sum(int(v) for v in re.findall(r"=(\d+)", top)))
        for k, v in re.findall(r"([a-z_ ]+)=(\d+)", line):
            steps.setdefault(k.strip(), []).append(int(v))
    med = {k: statistics.median(v) for k, v in steps.items()}
    text = re.sub(r"([a-z_ ]+)=(\d+)", lambda m: "%s=%d" % (m.group(1), med[m.group(1).strip()]), template)
    print("- %s: `%s`; outside the process's steps (its exec and exit): %d, of which a fork and exec of "
          "/bin/true takes %d" % ("with the default seccomp profile" if bundle == "seccomp" else "without seccomp",
                                 text, statistics.median(outside), statistics.median(floor)))
PY

{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, kernel $(uname -r), $RUNS interleaved rounds$hidden."
  echo
  $PY - "$W/times.json" <<'PY'
import json, statistics, sys
t = json.load(open(sys.argv[1]))
floor = statistics.median(t["floor"]["ms"])
print("| command | median ms | min ms | p90 ms | x floor | failed |")
print("|:---|---:|---:|---:|---:|---:|")
for label, r in t.items():
    ms = sorted(r["ms"])
    if not ms:
        print("| `%s` | - | - | - | - | %d |" % (label, r["fails"]))
        continue
    med = statistics.median(ms)
    print("| `%s` | %.2f | %.2f | %.2f | %.2f | %d |" % (label, med, ms[0], ms[int(len(ms) * 0.9)], med / floor, r["fails"]))
print()
med = {k: statistics.median(v["ms"]) for k, v in t.items() if v["ms"]}
for k in med:
    if k.startswith("nohype"):
        continue
    ours = "nohype+seccomp" if k.endswith("+seccomp") else "nohype"
    if ours in med:
        print("- %s takes %.2f of %s's time (%.2f ms vs %.2f ms)" % (ours, med[ours] / med[k], k, med[ours], med[k]))
PY
  echo
  echo "Where nohype's time goes (median of $STEP_RUNS runs with --debug, microseconds; bracketed figures are"
  echo "parts of the step before them, the init's own steps overlap the parent's):"
  echo
  cat "$W/steps.txt"
  [ -n "$notes" ] && echo "$notes"
  true
} > bench/results/startup.md
cat bench/results/startup.md
./bench/update-readme.sh startup bench/results/startup.md
