#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Looking for the target module in a process (module.c, issue 19): the
live thread whose /proc entries are read is found once per scan, not once
per mapped file (/proc/PID/task/PID/stat opened, read and formatted by the
kernel for each module: 33 times for a `sleep`, 16 files mapped, on every
process an `apply --all` passes over). Counted with strace on a process
that does not run the target, whose every mapped file is looked at; the
apply then says it was skipped."""
import json
import re
import subprocess
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def mapped_files(pid):
    """Files mapped from their start: the modules a scan looks at."""
    with open(f"/proc/{pid}/maps") as f:
        return {l.split()[5] for l in f
                if len(l.split()) >= 6 and l.split()[2] == "00000000" and l.split()[5][0] == "/"}


def test(env):
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    other = subprocess.Popen(["sleep", "600"])
    env.procs.append(other)
    wait_for(lambda: len(mapped_files(other.pid)) >= 3, what="sleep started")
    files = mapped_files(other.pid)

    r, trace = hp_strace(env, "openat", "apply", bundle, "--insecure", "--pid", other.pid,
                         "--json")
    p = json.loads(r.stdout)["processes"][0]
    expect_eq(p["result"], "skipped", f"sleep does not run the target: {p}")
    reads = len(re.findall(rf'"/proc/{other.pid}/task/{other.pid}/stat"', trace))
    expect(reads <= 3, f"the leader's state read {reads} times for a scan of {len(files)} "
                       f"mapped files (once per file before)")


main(test)
