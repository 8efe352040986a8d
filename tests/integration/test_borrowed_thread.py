#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hotpatch's system calls (loading the patch object) borrow the live
thread that has used the least CPU: a server's idle helper, not the thread
that answers its clients."""
import os
import re
import signal
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

DEBUG = {"HOTPATCH_DEBUG": "1"}


def thread_table(pid):
    out = []
    for t in tasks(pid):
        with open(f"/proc/{pid}/task/{t}/stat") as f:
            st = f.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/task/{t}/schedstat") as f:
            ns = f.read().split()[0]
        out.append(f"{t}:{st}:{ns}")
    return " ".join(out)


def tasks(pid):
    return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))


def test(env):
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)

    # The main thread answers the requests; two helpers sleep in pause().
    v = env.victim("victim", "--sleepers", 2)
    for _ in range(300):
        v.call(10)
    helpers = [t for t in tasks(v.pid) if t != v.pid]
    r = env.hp("apply", bundle, "--pid", v.pid, "--insecure", env_vars=DEBUG)
    tid = borrowed_thread(r.stderr)
    expect(tid in helpers, f"a sleeping helper is borrowed, not the busy main thread "
                           f"({tid}; helpers {helpers}, main {v.pid})")
    expect_eq(v.call(100), -1, "patched")
    r = env.hp("revert", bid, "--pid", v.pid, env_vars=DEBUG)
    tid = borrowed_thread(r.stderr)
    expect(tid in helpers, f"revert borrows a helper too ({tid}; helpers {helpers}, main "
                           f"{v.pid}; {thread_table(v.pid)})")
    expect_eq(v.call(100), 100, "reverted")

    # Stopped (every thread in T): one of them is borrowed, and it works.
    os.kill(v.pid, signal.SIGSTOP)
    wait_for(lambda: v.state() == "T", what="target stopped")
    r = env.hp("apply", bundle, "--pid", v.pid, "--insecure", env_vars=DEBUG)
    expect(borrowed_thread(r.stderr) in tasks(v.pid), "a stopped process lends one of its threads")
    os.kill(v.pid, signal.SIGCONT)
    expect_eq(v.call(100), -1, "patched while stopped")


main(test)
