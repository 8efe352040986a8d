#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hotpatchd around a commit and a rollback.

An enabled patch with a fixed file is staged; hotpatchd patches the running
process. After `commit --staged` that process keeps its live patch, and a
process started from the committed file (another build-id) is left alone:
never patched, never pending or failed in the daemon's view, nothing in the
audit log, and it behaves fixed on its own. After `rollback` the original is
on disk again, and hotpatchd patches a process started from it (the control:
the daemon was watching that very file all along).
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from commitlib import (FIXED_ANSWER, PROBE, build_tree, diff_bundle, sha256,  # noqa: E402
                       state)
from daemon import Daemon  # noqa: E402
from hptest import Failure, expect, expect_eq, main, trust_key, wait_for  # noqa: E402


def daemon_pids(d, bid):
    """{state: {pid}} of the daemon's view of patch @bid."""
    p = d.patch_view(bid) or {}
    return {st: {e["pid"] for e in p.get(st, [])}
            for st in ("patched", "pending", "excluded", "failed")}


def audited_pids(env):
    with open(os.path.join(env.root, "var/log/hotpatch/audit.log")) as f:
        return {json.loads(line).get("pid") for line in f}


def patched_by_daemon(d, bid, v):
    try:
        wait_for(lambda: v.pid in daemon_pids(d, bid)["patched"] and v.maps_objects(),
                 timeout=30, what=f"hotpatchd to patch pid {v.pid}")
    except Failure as e:
        raise Failure(f"{e}\nview: {d.patch_view(bid)}\nlog:\n{d.log()}")
    expect_eq(v.ask(PROBE), FIXED_ANSWER, f"pid {v.pid} patched by hotpatchd")


def test(env):
    key = trust_key(env)
    tree = build_tree(env)
    target = os.path.join(tree, "server")
    bundle = diff_bundle(env, tree, key)
    bid = env.bundle_id(bundle)
    orig = sha256(target)
    d = Daemon(env)

    old = env.victim(target)
    r = env.hp("enable", bundle)
    expect(f"staged {bid} for commit" in r.stdout, f"enable stages: {r.stdout}")
    patched_by_daemon(d, bid, old)

    r = env.hp("commit", "--staged")
    expect("committed" in r.stdout, f"commit --staged: {r.stdout}")
    expect(sha256(target) != orig, "the fixed file is on disk")

    new = env.victim(target)
    # Let every path that could reach it run: the exec event, a full rescan.
    d.request("reconcile")
    time.sleep(1.0)
    d.request("reconcile")
    expect_eq(new.maps_objects(), [], "hotpatchd left the process of the fixed file alone")
    expect_eq(new.ask(PROBE), FIXED_ANSWER, "it behaves fixed without a live patch")
    seen = daemon_pids(d, bid)
    expect(all(new.pid not in pids for pids in seen.values()),
           f"pid {new.pid} is in no list of the daemon's view: {seen}")
    expect(old.pid in seen["patched"], f"the old process is still patched: {seen}")
    expect_eq(old.ask(PROBE), FIXED_ANSWER, "the old process keeps its live patch")
    expect(new.pid not in audited_pids(env), "nothing was done to it (audit log)")
    expect(f"pid {new.pid} " not in d.log(), "the daemon's log does not mention it")

    r = env.hp("rollback", bid)
    expect("rolled back" in r.stdout, f"rollback: {r.stdout}")
    expect("hotpatchd keeps it applied" in r.stdout, f"rollback tells hotpatchd: {r.stdout}")
    expect_eq(sha256(target), orig, "the original is back")
    again = env.victim(target)
    patched_by_daemon(d, bid, again)
    expect_eq(new.maps_objects(), [], "the process of the fixed file is still left alone")
    expect_eq(state(env, bid), "rolled-back", "status after the rollback")
    d.stop()


if __name__ == "__main__":
    main(test)
