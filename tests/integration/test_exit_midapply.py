#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Targets that exit on their own while being patched: every run ends with a
clean outcome and one line per process, never a crash or a hang."""
import random
import subprocess
import time
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def test(env):
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    rng = random.Random(1234)
    outcomes = {}
    for i in range(40):
        # Not waiting for it to listen: it may already be gone.
        v = subprocess.Popen([fixture("victim"), os.path.join(env.dir, f"x{i}.sock"), "--hot", "2",
                              "--exit-after-us", str(rng.randrange(500, 6000))])
        env.procs.append(v)
        time.sleep(rng.randrange(0, 3000) / 1e6)
        r = env.hp("apply", bundle, "--pid", v.pid, "--insecure", "--json", check=False)
        expect(r.returncode in (0, 1), f"run {i}: exit code {r.returncode}: {r.stderr}")
        proc = json.loads(r.stdout)["processes"][0]
        res = proc["result"]
        outcomes[res] = outcomes.get(res, 0) + 1
        if res == "failed":
            expect("\n" not in proc["reason"], "one-line reason")
            expect(any(w in proc["reason"] for w in ("exited", "does not exist", "no mappings")),
                   f"run {i}: reason names the exit: {proc['reason']}")
        else:
            expect(res in ("patched", "skipped"), f"run {i}: outcome {res}")
        v.wait(timeout=10)
    print("outcomes:", outcomes)


main(test)
