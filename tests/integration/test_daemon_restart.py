# SPDX-License-Identifier: MIT
"""hotpatchd killed (SIGKILL) right after a patch is enabled, while its
workers are busy with 20 processes, then started again: it rebuilds its view
from the processes themselves and converges. Every process ends up with
exactly one copy of the patch object mapped and one "patched" audit entry:
nothing applied twice, nothing missed."""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from daemon import PROBE_PATCH, Daemon, spawn_probe  # noqa: E402
from hptest import expect, expect_eq, main, signed_bundle, trust_key, unique_copy  # noqa: E402
from hptest import wait_for  # noqa: E402

N = 20


def hpo_maps(pid):
    """Distinct patch objects mapped in @pid."""
    with open(f"/proc/{pid}/maps") as f:
        return {line.split()[-1] for line in f if line.rstrip().endswith(".hpo")}


def test(env):
    key = trust_key(env)
    probe = unique_copy(env, "probe")
    bundle = signed_bundle(env, probe, PROBE_PATCH, key)
    pid_id = env.bundle_id(bundle)
    procs = [spawn_probe(probe, ["--hold", "--wait-ms", 60000]) for _ in range(N)]
    env.procs.extend(procs)
    pids = {p.pid for p in procs}

    d = Daemon(env, "--jobs", "2")
    env.hp("enable", bundle)
    d.kill()  # mid-way: some applied, some in flight, most not started
    first = d.log()
    with open(os.path.join(env.root, "var/log/hotpatch/audit.log")) as f:
        before = sum(1 for x in f if '"op":"apply"' in x)
    print(f"applies recorded when the daemon was killed: {before} of {N}")
    d.start()
    wait_for(lambda: pids <= d.pids_in(pid_id, "patched"), timeout=60,
             what="the restarted daemon to patch every process")
    for p in procs:
        line = p.stdout.readline()
        expect(line.startswith("patched=1"), f"probe {p.pid} sees the patch: {line!r}")
        expect_eq(len(hpo_maps(p.pid)), 1, f"patch objects mapped in {p.pid}")
    with open(os.path.join(env.root, "var/log/hotpatch/audit.log")) as f:
        entries = [json.loads(x) for x in f]
    count = collections.Counter(e["pid"] for e in entries
                                if e["op"] == "apply" and e["result"] == "patched")
    for pid in pids:
        expect_eq(count[pid], 1, f"'patched' audit entries for {pid}")
    expect("enabled" in first, "the first daemon had started work")
    d.stop()


if __name__ == "__main__":
    main(test)
