#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile targets: seccomp filters that kill or refuse the system calls the
loader needs (a clear error or a fallback, never a dead target); threads
created and destroyed during the flip; a process that forks and execs in a
loop during --all; 10 000 threads; a target in its own PID and mount
namespace, patched from the host."""
import subprocess
import time
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

LONG = os.environ.get("HP_STRESS_LONG") == "1"


def seccomp_cases(env, bundle):
    exe = fixture("victim")
    original = function_file_bytes(exe, "check_len")
    for policy, outcome, why in [
            ("kill-mmap", "failed", "seccomp filter would kill the process on mmap"),
            ("errno-mmap", "failed", "mmap in process"),
            ("kill-socketpair", "patched", None)]:
        v = env.victim("victim", "--seccomp", policy)
        r = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure", check=False)
        r = r["processes"][0]
        expect_eq(r["result"], outcome, f"{policy}: {r}")
        expect(v.alive(), f"{policy}: the target is alive")
        if why:
            expect(why in r["reason"], f"{policy}: {r['reason']}")
            expect_eq(function_bytes(v.pid, exe, "check_len"), original, f"{policy}: untouched")
            expect_eq(v.maps_objects(), [], f"{policy}: nothing mapped")
            expect_eq(v.call(100), 100, f"{policy}: original code")
        else:
            expect_eq(v.call(100), -1, f"{policy}: patched through the openat fallback")
        v.kill()


def churn(env, bundle, bid):
    v = env.victim("victim", "--churn", "--hot", 2)
    for cycle in range(10 if not LONG else 200):
        env.hp("apply", bundle, "--pid", v.pid, "--insecure")
        expect_eq(v.call(100), -1, f"churn cycle {cycle}")
        env.hp("revert", bid, "--pid", v.pid)
        expect_eq(v.call(100), 100, f"churn cycle {cycle} reverted")
    v.kill()


def fork_exec_storm(env):
    exe = unique_copy(env, "victim", "victim-storm")
    bundle = env.build(exe, FIX_CHECK_LEN, name="storm")
    steady = [env.victim(exe) for _ in range(5)]
    # A shell that forks and execs the target in a loop, each living briefly.
    loop = subprocess.Popen(["bash", "-c", f"while :; do {exe} {env.dir}/x.sock "
                             f"--exit-after-us 3000 >/dev/null 2>&1; done"])
    env.procs.append(loop)
    time.sleep(0.3)
    for i in range(5 if not LONG else 50):
        r = env.hp("apply", bundle, "--all", "--insecure", "--json", check=False)
        expect(r.returncode in (0, 1), f"--all during a fork/exec storm: {r.stderr}")
        res = json.loads(r.stdout)
        for p in res["processes"]:
            if p["result"] == "failed":
                expect("exited" in p["reason"] or "does not exist" in p["reason"],
                       f"only vanishing processes may fail: {p}")
        for v in steady:
            expect_eq(v.call(100), -1, f"round {i}: steady targets patched")
        env.hp("revert", env.bundle_id(bundle), "--all", check=False)
    loop.kill()


def many_threads(env, bundle, bid):
    n = 10000
    v = env.victim("victim", "--sleepers", n)
    wait_for(lambda: len(os.listdir(f"/proc/{v.pid}/task")) >= n + 1, timeout=120,
             what=f"{n} threads")
    r = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure", "--timeout", "60")
    r = r["processes"][0]
    expect_eq(r["result"], "patched", f"{n} threads")
    expect_eq(r["threads"], n + 1, "every thread was stopped")
    print(f"{n} threads: pause {r['pause_us']} us")
    expect_eq(v.call(100), -1, "patched")
    r = env.hp_json("revert", bid, "--pid", v.pid, "--timeout", "60")["processes"][0]
    expect_eq(r["result"], "reverted", "reverted")
    v.kill()


def namespaced(env, bundle, bid):
    sock = os.path.join(env.dir, "ns.sock")
    outer = subprocess.Popen(["unshare", "--pid", "--mount", "--fork", "--mount-proc",
                              fixture("victim"), sock], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    env.procs.append(outer)
    wait_for(lambda: os.path.exists(sock), what="namespaced victim listening")
    kids = open(f"/proc/{outer.pid}/task/{outer.pid}/children").read().split()
    pid = int(kids[0])
    expect(os.readlink(f"/proc/{pid}/ns/pid") != os.readlink("/proc/self/ns/pid"),
           "the target has its own PID namespace")
    expect(os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt"),
           "the target has its own mount namespace")
    r = env.hp_json("apply", bundle, "--pid", pid, "--insecure")["processes"][0]
    expect_eq(r["result"], "patched", f"namespaced target: {r}")
    import socket as s
    c = s.socket(s.AF_UNIX)
    c.connect(sock)
    c.sendall(b"call 100\n")
    expect_eq(c.recv(64).strip(), b"-1", "the namespaced target runs the fix")
    env.hp("revert", bid, "--pid", pid)
    c.sendall(b"call 100\n")
    expect_eq(c.recv(64).strip(), b"100", "and is reverted")
    outer.kill()


def test(env):
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)
    bid = env.bundle_id(bundle)
    seccomp_cases(env, bundle)
    churn(env, bundle, bid)
    fork_exec_storm(env)
    namespaced(env, bundle, bid)
    many_threads(env, bundle, bid)


main(test)
