#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Debian's redis-server under load (redis-benchmark plus a checking
client): 20 apply/revert cycles of a patch to PING, with no failed or wrong
reply and no crash; the server answers the patched PING while patched."""
import subprocess
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *
from redis import Redis, Checker, PING_PATCH


def test(env):
    redis = Redis(env)
    bundle = env.build("/usr/bin/redis-server", PING_PATCH, name="ping")
    bid = env.bundle_id(bundle)
    checker = Checker(redis.port)
    checker.start()
    bench = subprocess.Popen(["redis-benchmark", "-p", str(redis.port), "-c", "20",
                              "-n", "100000000", "-t", "ping,set,get", "-q", "--csv"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    env.procs.append(bench)
    time.sleep(0.5)
    pauses = []
    for cycle in range(20):
        r = env.hp_json("apply", bundle, "--pid", redis.pid, "--insecure")["processes"][0]
        expect_eq(r["result"], "patched", f"cycle {cycle}: apply")
        pauses.append(r["pause_us"])
        expect_eq(redis.command("PING"), "+HOTPATCHED", f"cycle {cycle}: patched PING")
        r = env.hp_json("revert", bid, "--pid", redis.pid)["processes"][0]
        expect_eq(r["result"], "reverted", f"cycle {cycle}: revert")
        pauses.append(r["pause_us"])
        expect_eq(redis.command("PING"), "+PONG", f"cycle {cycle}: original PING")
    checker.stop = True
    checker.join(timeout=10)
    bench.terminate()
    out = bench.communicate()[0]
    expect(redis.proc.poll() is None, "redis-server is alive")
    expect_eq(checker.errors, [], "wrong or failed replies")
    expect(checker.ok > 100, f"the checking client made progress ({checker.ok})")
    expect("Error" not in out and "error" not in out, f"redis-benchmark saw errors: {out}")
    pauses.sort()
    print(f"checked replies: {checker.ok}, pause median {pauses[len(pauses)//2]} us, "
          f"max {pauses[-1]} us")


main(test)
