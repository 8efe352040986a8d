# SPDX-License-Identifier: MIT
"""An exec storm: 500 short-lived processes of the target, started in waves
of 50, about one in ten run by an excluded user. Every other one sees the
patch before it gives up (5 s); no excluded one is ever touched, and the
audit log has no apply for any of them."""
import json
import os
import pwd
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from daemon import PROBE_PATCH, Daemon, probe_result, spawn_probe  # noqa: E402
from hptest import (expect, expect_eq, main, signed_bundle, trust_key,  # noqa: E402
                    unique_copy)

TOTAL, WAVE, EVERY = 500, 50, 10


def audit_applies(env):
    with open(os.path.join(env.root, "var/log/hotpatch/audit.log")) as f:
        return {e.get("pid") for e in map(json.loads, f) if e["op"] == "apply"}


def test(env):
    key = trust_key(env)
    probe = unique_copy(env, "probe")
    bundle = signed_bundle(env, probe, PROBE_PATCH, key)
    os.chmod(env.dir, 0o755)
    conf = os.path.join(env.root, "etc/hotpatch/hotpatch.conf")
    os.makedirs(os.path.dirname(conf), exist_ok=True)
    with open(conf, "w") as f:
        f.write("exclude-user = nobody\n")
    nobody = pwd.getpwnam("nobody")

    def as_nobody():
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)

    d = Daemon(env)
    env.hp("enable", bundle)
    missed, touched, excluded_pids, worst, n_patched = [], [], set(), 0, 0
    for start in range(0, TOTAL, WAVE):
        wave = []
        for i in range(start, start + WAVE):
            excluded = i % EVERY == EVERY - 1
            p = spawn_probe(probe, ["--wait-ms", 2000 if excluded else 5000],
                            preexec=as_nobody if excluded else None)
            wave.append((p, excluded))
        for p, excluded in wave:
            code, rep, err = probe_result(p)
            if excluded:
                excluded_pids.add(p.pid)
                if code != 3:
                    touched.append((p.pid, code, rep))
            elif code != 0:
                missed.append((p.pid, code, rep, err.strip()))
            else:
                n_patched += 1
                worst = max(worst, int(rep["exec_to_patched_us"]))
    print(f"{n_patched} patched, {len(excluded_pids)} excluded, "
          f"slowest exec-to-patched {worst / 1000:.1f} ms")
    expect(not missed, f"{len(missed)} processes missed the patch: {missed[:5]}")
    expect(not touched, f"excluded processes were touched: {touched[:5]}")
    expect_eq(n_patched, TOTAL - TOTAL // EVERY, "processes patched")
    applied = audit_applies(env)
    expect(not (applied & excluded_pids), "no apply recorded for an excluded process")
    expect(d.ping_ok(), "the daemon is alive after the storm")
    d.stop()


if __name__ == "__main__":
    main(test)
