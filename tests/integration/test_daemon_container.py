# SPDX-License-Identifier: MIT
"""Containers: a process in its own PID and mount namespaces, chrooted into
a root where the target program lives at another path, on a tmpfs that only
its mount namespace sees. hotpatchd (outside) matches it by build-id and
patches it; a library the container's process dlopens later from the
container's own copy is patched too."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from daemon import LIB_PATCH, PROBE_PATCH, Daemon  # noqa: E402
from hptest import (expect, expect_eq, main, signed_bundle, trust_key,  # noqa: E402
                    unique_copy)


def libraries(path):
    """The shared objects @path needs, as ldd resolves them on the host."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        parts = line.split()
        for p in parts:
            if p.startswith("/"):
                libs.append(p)
                break
    return libs


def make_root(env, probe):
    root = os.path.join(env.dir, "container")
    for lib in libraries(probe):
        dest = os.path.join(root, lib.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(os.path.realpath(lib), dest)
    return root


def run_in_container(root, files, argv, timeout=30):
    """In new PID and mount namespaces, mounts a tmpfs on each directory of
    @files (paths inside ROOT), copies the files there, and runs @argv
    chrooted in ROOT; returns (code, output)."""
    steps = []
    for d in sorted({os.path.dirname(f) for f in files}):
        steps.append(f"mkdir -p {root}{d} && mount -t tmpfs hp-test {root}{d}")
    steps += [f"cp {src} {root}{dest}" for dest, src in files.items()]
    script = " && ".join(steps) + f" && exec chroot {root} {' '.join(map(str, argv))}"
    r = subprocess.run(["unshare", "--pid", "--mount", "--fork", "--propagation", "private",
                        "sh", "-c", script], capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def test(env):
    key = trust_key(env)
    probe = unique_copy(env, "probe")
    lib = unique_copy(env, "libvictim.so")
    prog_bundle = signed_bundle(env, probe, PROBE_PATCH, key, name="prog")
    lib_bundle = signed_bundle(env, lib, LIB_PATCH, key, name="lib")
    root = make_root(env, probe)
    d = Daemon(env)

    # Before enabling: the container's probe runs unpatched.
    code, out = run_in_container(root, {"/opt/app/app": probe}, ["/opt/app/app", "--wait-ms", 500])
    expect_eq(code, 3, f"the container's probe is not patched before enable: {out}")

    env.hp("enable", prog_bundle)
    env.hp("enable", lib_bundle)
    code, out = run_in_container(root, {"/opt/app/app": probe},
                                 ["/opt/app/app", "--wait-ms", 5000])
    expect_eq(code, 0, f"the container's probe is patched by build-id: {out}")
    expect("patched=1" in out, f"probe report: {out}")
    print("container program:", out.strip())

    # The container's own copy of the library, at the library's usual path
    # in its root (as with a distribution's image): its opens are watched
    # through /proc/PID/root. (A copy at another path is found by the
    # periodic rescan instead: docs/daemon.md.)
    code, out = run_in_container(root, {"/opt/app/app": probe, lib: lib},
                                 ["/opt/app/app", "--dlopen", lib,
                                  "--after-ms", 500, "--wait-ms", 5000])
    expect_eq(code, 0, f"the library the container dlopens is patched: {out}")
    print("container dlopen:", out.strip())
    expect(d.ping_ok(), "the daemon is alive")
    d.stop()


if __name__ == "__main__":
    main(test)
