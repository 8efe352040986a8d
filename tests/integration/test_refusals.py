#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Each failure gives one clear line and leaves the target untouched: a
process traced by someone else, a non-root user, a process gone, a process
that does not run the target build."""
import subprocess
import json, sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *


def untouched(v, original):
    expect_eq(function_bytes(v.pid, fixture("victim"), "check_len"), original, "code bytes")
    expect_eq(v.maps_objects(), [], "no patch object mapped")
    expect_eq(v.call(100), 100, "original behaviour")


def test(env):
    v = env.victim("victim")
    original = function_bytes(v.pid, fixture("victim"), "check_len")
    bundle = env.build(fixture("victim"), FIX_CHECK_LEN)

    tracer = subprocess.Popen([fixture("tracer"), str(v.pid)], stdout=subprocess.PIPE, text=True)
    env.procs.append(tracer)
    expect_eq(tracer.stdout.readline().strip(), "attached", "tracer attached")
    r = env.hp("apply", bundle, "--pid", v.pid, "--insecure", check=False)
    expect_eq(r.returncode, 1, "exit code for a traced target")
    expect(f"already traced by process {tracer.pid} (tracer)" in r.stdout, r.stdout)
    tracer.kill()
    tracer.wait()
    untouched(v, original)

    # Not root: a clear refusal, not a ptrace errno.
    os.chmod(env.dir, 0o755)
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", HOTPATCH, "--root", env.root, "apply", bundle,
                        "--pid", str(v.pid), "--insecure"], capture_output=True, text=True)
    expect_eq(r.returncode, 2, "exit code as nobody")
    expect("needs root (CAP_SYS_PTRACE)" in r.stderr, r.stderr)
    untouched(v, original)

    # A process that does not map the build: skipped, with the reason.
    other = env.victim("victim-nopie")
    r = env.hp("apply", bundle, "--pid", other.pid, "--insecure", "--json", check=False)
    expect_eq(r.returncode, 1, "exit code when the named process was skipped")
    r = json.loads(r.stdout)["processes"][0]
    expect_eq(r["result"], "skipped", "another build")
    expect("with build-id" in r["reason"], r["reason"])

    # A process that is gone: bad input, said in one line (was "exited
    # during the apply", exit 1).
    gone = env.victim("victim")
    gone.kill()
    r = env.hp("apply", bundle, "--pid", gone.pid, "--insecure", check=False)
    expect_eq(r.returncode, 2, "exit code for a missing process")
    expect(f"there is no process {gone.pid}" in r.stderr and not r.stdout, r.stderr)
    untouched(v, original)


main(test)
