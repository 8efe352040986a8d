# SPDX-License-Identifier: MIT
"""A library patch reaches processes that load the library later with
dlopen, whether they started before or after the patch was enabled; a
process that never loads it is left alone."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from daemon import LIB_PATCH, Daemon, probe_result, spawn_probe  # noqa: E402
from hptest import (expect, expect_eq, fixture, main, signed_bundle, trust_key,  # noqa: E402
                    unique_copy)

PROBE = fixture("probe")


def maps_hpo(pid):
    with open(f"/proc/{pid}/maps") as f:
        return [line for line in f if line.rstrip().endswith(".hpo")]


def test(env):
    key = trust_key(env)
    lib = unique_copy(env, "libvictim.so")
    bundle = signed_bundle(env, lib, LIB_PATCH, key)
    d = Daemon(env)
    env.hp("enable", bundle)

    # Started after enable, loads the library 0.5 s later.
    late = [spawn_probe(PROBE,
                        ["--dlopen", lib, "--after-ms", 500, "--wait-ms", 5000])
            for _ in range(5)]
    # Never loads it.
    bystander = spawn_probe(PROBE, ["--hold", "--wait-ms", 300])
    env.procs.append(bystander)
    for p in late:
        code, rep, err = probe_result(p)
        expect_eq(code, 0, f"a probe that dlopens the library later is patched "
                           f"({rep}, {err.strip()!r})")
        print(f"dlopen to patched: {int(rep['exec_to_patched_us']) / 1000 - 500:.1f} ms")
    time.sleep(0.5)
    expect(not maps_hpo(bystander.pid), "a process without the library is left alone")

    # Running before the library is loaded, and loading it 2 s later.
    early = spawn_probe(PROBE,
                        ["--dlopen", lib, "--after-ms", 2000, "--wait-ms", 7000])
    code, rep, err = probe_result(early)
    expect_eq(code, 0, f"a running process that dlopens later is patched ({rep})")

    # The library is put in place again, as a package reinstall does: a new
    # inode at the same path, the same build. Opens of the new file are
    # watched from the next exec on, well before the 10 s rescan would come.
    tmp = lib + ".new"
    with open(lib, "rb") as src, open(tmp, "wb") as dst:
        dst.write(src.read())
    os.chmod(tmp, 0o755)
    old_ino = os.stat(lib).st_ino
    os.rename(tmp, lib)
    expect(os.stat(lib).st_ino != old_ino, "the reinstalled library is a new inode")
    again = spawn_probe(PROBE, ["--dlopen", lib, "--after-ms", 300, "--wait-ms", 3000])
    code, rep, err = probe_result(again)
    expect_eq(code, 0, f"a process that loads the reinstalled library is patched "
                       f"within 3 s ({rep}, {err.strip()!r})")
    d.stop()


if __name__ == "__main__":
    main(test)
