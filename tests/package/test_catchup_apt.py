#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""After `apt-get upgrade`, a running server catches up without a restart,
the way a fleet gets it: from an ordinary apt repository.

A build host (this test, on the host) builds hpcu 1.0-1 and 1.0-2 (a
library with a security fix, tests/lib/debcu.py) and hpcu-server (which
uses it), makes the live patch from the fixes between the versions with
`hotpatch build --upgrade-to` (its fixed file is Debian's 1.0-2 itself),
signs it, and publishes it as hotpatch-patch-hpcu (`hotpatch package`), the
subscription to that name first (`package --subscribe`), with reprepro in a
repository served by `python3 -m http.server` on 127.0.0.1.

A host (a debootstrapped bookworm root, the cache of deb_install) installs
the hotpatch package built from this tree, needrestart, the server and the
subscription, with apt, and runs the server under load. The repository gets
1.0-2 and the live patch; `apt-get upgrade` installs both: the hook
records the running build before dpkg replaces the library, and catches up
after. Then: the fix's reproducer passes on the running server, its pid is
the same, no request failed, `catch-up --list` says caught up (running
1.0-1 by the hook's record, 1.0-2 installed, the CVE fixed), status says
caught up, nothing is staged for commit, and needrestart lists the server
without hotpatch's snippet and not with it. With hotpatch removed (its hook
kept, a conffile), apt still installs."""
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
import debcu  # noqa: E402
from hptest import HOTPATCH, Failure, expect, expect_eq, wait_for  # noqa: E402
from redis import free_port  # noqa: E402
from test_deb_install import (CHROOT_ENV, Chroot, build_deb, log, minbase,  # noqa: E402
                              package_main, run)

CVE = "CVE-2099-8001"
MAINTAINER = "Fleet Security <security@example.org>"


def hp(root, *args):
    """The build host's hotpatch (this tree's build), in its own --root."""
    return run([HOTPATCH, "--root", root, *args], timeout=900)


def build_host(work):
    """Everything the build host publishes: {"old": [...], "new": [...]}
    .debs, and the public key the hosts trust."""
    nice = ["nice", "-n", "19"]
    out = os.path.join(work, "debs")
    os.makedirs(out)
    archive = debcu.make_sources(work)
    cache = os.path.join(work, "cache")
    twin = os.path.join(cache, "build/reproducible-path/hpcu-1.0")
    old = debcu.build_binary(archive, "1.0-1", twin, out)
    new = debcu.build_binary(archive, "1.0-2", twin, out)
    for deb in new.values():
        shutil.copy(deb, archive)
    server = debcu.build_server(work, out)
    sysroot = os.path.join(work, "sysroot")
    debcu.install_sysroot(old, sysroot)
    root = os.path.join(work, "buildhost")
    key = os.path.join(work, "fleet.key")
    hp(root, "keygen", "-k", key)
    os.makedirs(os.path.join(root, "etc/hotpatch/trusted.d"))
    shutil.copy(key + ".pub", os.path.join(root, "etc/hotpatch/trusted.d/fleet.pub"))
    t0 = time.time()
    bundle = os.path.join(work, "hpcu.hpb")
    r = run([*nice, HOTPATCH, "--root", root, "build", "--target", debcu.LIB,
             "--sysroot", sysroot, "--upgrade-to", "1.0-2", "--build-root", "/",
             "--sources", archive, "--cache", cache, "--explain", "-o", bundle], timeout=1200)
    expect("fix 0001-check-range.patch: in the live patch" in r.stdout, r.stdout)
    expect("fixed file: Debian's libhpcu1 1.0-2 itself" in r.stdout, r.stdout)
    log(f"built the live patch for libhpcu1 1.0-1 -> 1.0-2 in {time.time() - t0:.0f} s")
    hp(root, "sign", bundle, "-k", key)
    hp(root, "package", "--subscribe", "hpcu", "-o", out, "--maintainer", MAINTAINER)
    hp(root, "package", bundle, "--name", "hpcu", "-o", out, "--maintainer", MAINTAINER)
    patch = [p for p in glob.glob(os.path.join(out, "hotpatch-patch-hpcu_*.deb"))
             if "_0_" not in p]
    expect_eq(len(patch), 1, "one live patch package")
    return {"old": [old["libhpcu1"], server, os.path.join(out, "hotpatch-patch-hpcu_0_amd64.deb")],
            "new": [new["libhpcu1"], patch[0]]}, key + ".pub"


class Repo:
    """A reprepro repository (unsigned: the hosts' sources say trusted=yes)
    served over HTTP on 127.0.0.1."""

    def __init__(self, work):
        self.dir = os.path.join(work, "repo")
        os.makedirs(os.path.join(self.dir, "conf"))
        with open(os.path.join(self.dir, "conf/distributions"), "w") as f:
            f.write("Origin: fleet\nLabel: fleet\nCodename: fleet\nArchitectures: amd64\n"
                    "Components: main\nDescription: live patches and their packages\n")
        self.port = free_port()
        self.log = open(os.path.join(work, "http.log"), "w")
        self.http = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                                      str(self.port), "--directory", self.dir],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self._up, timeout=20, what="the repository's HTTP server")

    def _up(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def publish(self, debs):
        for deb in debs:
            run(["reprepro", "-b", self.dir, "includedeb", "fleet", deb])

    def source_line(self):
        return f"deb [trusted=yes] http://127.0.0.1:{self.port} fleet main\n"

    def stop(self):
        self.http.terminate()
        self.http.wait(timeout=10)


def ask(port, n):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"{n}\n".encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(64)
            if not chunk:
                raise OSError("closed before the answer")
            data += chunk
        return int(data)


class Load:
    """Requests one after another, as fast as the server answers, counted."""

    def __init__(self, port):
        self.port, self.ok, self.failed, self.errors = port, 0, 0, []
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_flag:
            try:
                if ask(self.port, 10) == 10:
                    self.ok += 1
                else:
                    self.failed += 1
            except OSError as e:
                self.failed += 1
                self.errors.append(str(e))

    def stop(self):
        self.stop_flag = True
        self.thread.join(timeout=10)


def apt(ch, *args, timeout=1800):
    """apt-get in the root; the download cache is shared with the other
    package tests (and other checkouts' runs): a lock held there is waited
    for, not a failure."""
    for _ in range(60):
        r = subprocess.run(ch.cmd("apt-get", *args), env=CHROOT_ENV, capture_output=True,
                           text=True, timeout=timeout)
        if r.returncode == 0 or "Could not get lock" not in r.stderr:
            break
        time.sleep(10)
    if r.returncode != 0:
        raise Failure(f"apt-get {' '.join(args)} exited {r.returncode}:\n{r.stdout[-3000:]}"
                      f"{r.stderr[-3000:]}")
    return r


def needrestart_names(ch, pid):
    """Does needrestart (verbose, list only) say process @pid needs a restart?"""
    r = subprocess.run(ch.cmd("needrestart", "-r", "l", "-v", "-b"), env=CHROOT_ENV,
                       capture_output=True, text=True, timeout=300)
    return f"#{pid} uses" in r.stderr


def host(work, debs, pub, repo, hotpatch_deb):
    root = minbase(work)
    ch = Chroot(root)
    server = load = None
    try:
        ch.setup()
        with open(ch.path("/etc/apt/sources.list.d/fleet.list"), "w") as f:
            f.write(repo.source_line())
        shutil.copy(hotpatch_deb, ch.path("/tmp/"))
        apt(ch, "update", "-q")
        apt(ch, "install", "-y", "-q", "/tmp/" + os.path.basename(hotpatch_deb), "needrestart")
        shutil.copy(pub, ch.path("/etc/hotpatch/trusted.d/fleet.pub"))
        os.chmod(ch.path("/etc/hotpatch/trusted.d/fleet.pub"), 0o644)
        apt(ch, "install", "-y", "-q", "hpcu-server", "hotpatch-patch-hpcu")
        port = free_port()
        server = subprocess.Popen(ch.cmd("/usr/bin/hpcu-server", "127.0.0.1", str(port)),
                                  stdout=subprocess.PIPE, env=CHROOT_ENV)
        expect_eq(server.stdout.readline().strip(), b"listening", "the server started")
        expect_eq(ask(port, 100), 100, "1.0-1 answers 100 for 100 (the vulnerability)")
        load = Load(port)
        wait_for(lambda: load.ok > 20, timeout=20, what="the load to run")

        repo.publish(debs["new"])
        apt(ch, "update", "-q")
        t0 = time.time()
        r = apt(ch, "upgrade", "-y", "-q")
        out = r.stdout + r.stderr
        log(f"apt-get upgrade in {time.time() - t0:.0f} s")
        versions = ch.run("dpkg-query", "-W", "-f", "${Package} ${Version}\n", "libhpcu1",
                          "hotpatch-patch-hpcu").stdout
        expect("libhpcu1 1.0-2" in versions and "hotpatch-patch-hpcu 0" not in versions,
               f"apt-get upgrade installed the new library and the live patch:\n{versions}")
        expect("recorded 1 running build" in out, f"the hook's record, before dpkg:\n{out}")
        expect(f"pid {server.pid} (hpcu-server):" in out and "caught up" in out,
               f"the hook's report after dpkg:\n{out}")

        expect_eq(ask(port, 100), -1, "the fix's reproducer passes on the running server")
        expect_eq(server.poll(), None, "the server ran throughout")
        load.stop()
        expect_eq((load.failed, load.errors[:3]), (0, []), f"no request failed of {load.ok}")
        log(f"caught up under load: {load.ok} requests, none failed, pid {server.pid} unchanged")

        listed = json.loads(ch.run("hotpatch", "catch-up", "--list", "--json").stdout)
        mine = [p for p in listed["processes"] if p["pid"] == server.pid]
        expect_eq(len(mine), 1, f"the server is listed: {listed}")
        f, = mine[0]["files"]
        expect_eq((f["path"], f["package"], f["running_version"], f["running_version_from"],
                   f["installed_version"], f["cves_fixed"], f["action"]),
                  (debcu.LIB, "libhpcu1", "1.0-1", "apt-hook", "1.0-2", [CVE], "caught-up"),
                  "catch-up --list: caught up, no restart asked")
        st = json.loads(ch.run("hotpatch", "status", "--json").stdout)
        procs = [p for x in st["patches"] for p in x["processes"] if p["pid"] == server.pid]
        expect_eq([p["state"] for p in procs], ["caught-up"], "status: the server is caught up")
        expect_eq([s["state"] for s in st["stored"]], ["caught-up"],
                  "status: the bundle is caught up, not staged")
        expect(not os.listdir(ch.path("/var/lib/hotpatch/state/commit"))
               if os.path.isdir(ch.path("/var/lib/hotpatch/state/commit")) else True,
               "nothing is staged for commit")

        snippet = ch.path("/etc/needrestart/conf.d/hotpatch.conf")
        os.rename(snippet, snippet + ".off")
        expect(needrestart_names(ch, server.pid),
               "without hotpatch's snippet, needrestart wants the server restarted")
        os.rename(snippet + ".off", snippet)
        expect(not needrestart_names(ch, server.pid),
               "with it, needrestart leaves the caught-up server alone")
        log("catch-up --list, status and needrestart: no restart needed")

        # Removed (its apt hook stays, a conffile): apt still works.
        apt(ch, "remove", "-y", "-q", "hotpatch", "hotpatch-patch-hpcu")
        expect(os.path.exists(ch.path("/etc/apt/apt.conf.d/70hotpatch")), "the hook is kept")
        apt(ch, "install", "-y", "-q", "--reinstall", "libhpcu1")
        log("hotpatch removed, its hook kept: apt runs as before")
    finally:
        if load:
            load.stop()
        if server and server.poll() is None:
            server.kill()
            server.wait()
        if not ch.teardown():
            raise Failure(f"could not unmount everything under {root}")


def test(work):
    hotpatch_deb = build_deb(work)
    debs, pub = build_host(work)
    repo = Repo(work)
    try:
        repo.publish(debs["old"])
        host(work, debs, pub, repo, hotpatch_deb)
    finally:
        repo.stop()


def main():
    package_main(test, "hp-catchup-", needs="debootstrap, chroot, mount, ptrace, reprepro")


if __name__ == "__main__":
    main()
