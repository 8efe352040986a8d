#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Bounded waits: a thread that never leaves the function being replaced,
and a thread that cannot be stopped at all (blocked in vfork() until its
child exits), each end in a clean retry, then a clean timeout with one line
naming the thread, and a target that runs on untouched."""
import glob
import json
import signal
import subprocess
import time
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

STUCK = """
#include <hotpatch/patch.h>
extern void stuck_here(void);
HOTPATCH_REPLACE(stuck_here, stuck_fixed);
void stuck_fixed(void) { }
"""


def untouched(v, fn, original):
    expect_eq(function_bytes(v.pid, fixture("victim"), fn), original, f"{fn} bytes")
    expect_eq(v.maps_objects(), [], "nothing mapped")
    expect(v.alive(), "still running")


TINY = """
#include <hotpatch/patch.h>
extern int tight_first(void);
HOTPATCH_REPLACE(tight_first, tight_fixed);
int tight_fixed(void) { return 2; }
"""


def test(env):
    exe = fixture("victim")
    r = env.hp("build", "--target", exe, "-o", os.path.join(env.dir, "tiny.hpb"),
               env.write("tiny.c", TINY), check=False)
    expect_eq(r.returncode, 2, "a function shorter than the jump, with no filler after it, "
              "is refused at build")
    expect("only 3 bytes long, shorter than the 5-byte jump" in r.stderr and
           "no alignment filler" in r.stderr, r.stderr)
    v = env.victim("victim", "--stuck")
    original = function_bytes(v.pid, exe, "stuck_here")
    bundle = env.build(exe, STUCK, name="stuck")
    t0 = time.time()
    r = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure", "--timeout", "1",
                    check=False)["processes"][0]
    took = time.time() - t0
    expect_eq(r["result"], "failed", "a thread never leaves the function")
    expect("gave up after" in r["reason"] and "stuck_here" in r["reason"], r["reason"])
    expect(r["attempts"] > 1, f"it retried ({r['attempts']} attempts)")
    expect(took < 5, f"the timeout bounds the wait ({took:.1f} s)")
    untouched(v, "stuck_here", original)

    w = env.victim("victim", "--vfork")
    original = function_bytes(w.pid, exe, "check_len")
    wait_for(lambda: any(open(f"/proc/{w.pid}/task/{t}/stat").read().rsplit(")", 1)[1].split()[0]
                         == "D" for t in os.listdir(f"/proc/{w.pid}/task")),
             what="a thread waiting in vfork")
    fix = env.build(exe, FIX_CHECK_LEN)
    r = env.hp_json("apply", fix, "--pid", w.pid, "--insecure", "--timeout", "1",
                    "--stop-budget", "50ms", check=False)["processes"][0]
    expect_eq(r["result"], "failed", "a thread that cannot stop")
    expect("did not stop in time (state D)" in r["reason"], r["reason"])
    untouched(w, "check_len", original)
    expect_eq(w.call(100), 100, "serves the original code")
    # Once the vfork child is gone, the same apply goes through.
    for child in glob.glob(f"/proc/{w.pid}/task/*/children"):
        for pid in open(child).read().split():
            os.kill(int(pid), signal.SIGKILL)
    r = env.hp_json("apply", fix, "--pid", w.pid, "--insecure", "--timeout", "5",
                    check=False)["processes"][0]
    expect(r["result"] in ("patched", "failed"), r)
    w.kill()
    load_counts(env, exe, bundle)
    many_threads(env, exe, bundle)
    sleeping_inside(env, exe)


SLEEPY = """
#include <hotpatch/patch.h>
#include <unistd.h>
extern int check_len(int n);
HOTPATCH_REPLACE(check_len, check_len_sleepy);
int check_len_sleepy(int n)
{
	if (n == 999)
		usleep(3000000);
	return n > 64 ? -1 : n;
}
"""


def sleeping_inside(env, exe):
    """A revert refused because a thread sleeps inside the patch says so,
    with the thread, not "a function that never returns"; once the thread
    is out, the revert goes through."""
    v = env.victim("victim")
    bundle = env.build(exe, SLEEPY, name="sleepy")
    bid = env.bundle_id(bundle)
    env.hp("apply", bundle, "--pid", v.pid, "--insecure")
    # The server answers one connection at a time: ask on its own.
    v._conn.sendall(b"call 999\n")
    server = [t for t in os.listdir(f"/proc/{v.pid}/task")][0]
    time.sleep(0.3)
    r = env.hp_json("revert", bid, "--pid", v.pid, "--timeout", "500ms", check=False)
    reason = r["processes"][0].get("reason", str(r))
    expect(f"thread {server} is sleeping inside the patch's code" in reason, reason)
    expect("never returns" not in reason and "once the thread has returned" in reason, reason)
    expect_eq(v._conn.recv(64), b"-1\n", "the sleeping call finished in the patch")
    env.hp("revert", bid, "--pid", v.pid)
    expect_eq(v.call(100), 100, "reverted once the thread was out")


def load_counts(env, exe, bundle):
    """The time spent loading counts against --timeout: a tool held (frozen
    by a fault point) after loading until its timeout has run out makes one
    flip attempt, not a full timeout's worth of them."""
    v = env.victim("victim", "--stuck")
    original = function_bytes(v.pid, exe, "stuck_here")
    e = dict(os.environ, HOTPATCH_FAULT="load-done", HOTPATCH_FAULT_ACTION="stop")
    tool = subprocess.Popen([HOTPATCH, "--root", env.root, "apply", bundle, "--pid", str(v.pid),
                             "--insecure", "--timeout", "1", "--json"], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: open(f"/proc/{tool.pid}/stat").read().rsplit(")", 1)[1].split()[0] == "T",
             what="the tool frozen after loading")
    time.sleep(1.2)
    os.kill(tool.pid, signal.SIGCONT)
    out, err = tool.communicate(timeout=60)
    r = json.loads(out)["processes"][0]
    expect_eq(r["result"], "failed", f"timed out: {r}")
    expect_eq(r["attempts"], 1, f"one attempt once the timeout has run out: {r}")
    untouched(v, "stuck_here", original)


def many_threads(env, exe, bundle):
    """--timeout bounds the whole operation, loading included, on a target
    with 2000 threads (it once returned after 24 s for --timeout 10: the flip
    got a full timeout of its own after a long load). Not a timing test: the
    bound is four times the timeout, about twice what it takes here."""
    v = env.victim("victim", "--stuck", "--sleepers", 2000)
    wait_for(lambda: len(os.listdir(f"/proc/{v.pid}/task")) >= 2002, what="2000 threads")
    original = function_bytes(v.pid, exe, "stuck_here")
    t0 = time.time()
    r = env.hp_json("apply", bundle, "--pid", v.pid, "--insecure", "--timeout", "1",
                    check=False)["processes"][0]
    took = time.time() - t0
    print(f"--timeout 1 with 2000 threads: returned after {took:.2f} s")
    expect_eq(r["result"], "failed", "a thread never leaves the function")
    expect(took < 4, f"--timeout 1 holds with 2000 threads ({took:.1f} s)")
    untouched(v, "stuck_here", original)


main(test)
