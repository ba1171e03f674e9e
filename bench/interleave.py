#!/usr/bin/python3
# interleave.py RUNS WARMUP LABEL=CMD...: start-to-exit time of each command,
# run round robin (A B C, B C A, C A B, ...) so that the machine's drift and
# the work one command leaves to the kernel (namespace and cgroup teardown)
# fall on every command alike. Each command is spawned and reaped here
# (posix_spawn, wait4), stdout and stderr to /dev/null. "N<FILE " before a
# command opens FILE as fd N for each run (bwrap --seccomp N).
# Prints one JSON object: per label the runs in ms, in order, and failures.
import json
import os
import re
import sys
import time

runs, warm = int(sys.argv[1]), int(sys.argv[2])
cmds = []
for arg in sys.argv[3:]:
    label, cmd = arg.split("=", 1)
    opens = []
    while m := re.match(r"(\d+)<(\S+) ", cmd):
        opens.append((int(m.group(1)), m.group(2)))
        cmd = cmd[m.end():]
    cmds.append((label, cmd.split(), opens))
null = os.open("/dev/null", os.O_WRONLY)
out = {label: {"ms": [], "fails": 0} for label, _, _ in cmds}
for r in range(warm + runs):
    for i in range(len(cmds)):
        label, argv, opens = cmds[(r + i) % len(cmds)]
        actions = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]
        actions += [(os.POSIX_SPAWN_OPEN, fd, path, os.O_RDONLY, 0) for fd, path in opens]
        start = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
        _, status, _ = os.wait4(pid, 0)
        ms = (time.perf_counter() - start) * 1000
        if r < warm:
            continue
        if status != 0:
            out[label]["fails"] += 1
        else:
            out[label]["ms"].append(ms)
json.dump(out, sys.stdout)
