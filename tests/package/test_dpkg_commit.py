#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""commit keeps dpkg truthful, in a fresh bookworm root (the cache of
deb_install) with the hotpatch package installed and a real dpkg database.

hptiny 1.0-1 (tests/lib/debtiny.py, built the way Debian builds it) is
installed there with dpkg; `hotpatch build --upgrade-to 1.0-2` (this
checkout's, on the host, reading that root's dpkg database) makes a bundle
whose fixed file is Debian's 1.0-2 binary, signed with a key the root
trusts. Inside the root:

1. Only a damaged .deb of 1.0-2 is at hand (right name, wrong checksum): commit
   does not use it; it replaces the file, says that dpkg --verify now reports
   it, and status says so too; `dpkg --verify hptiny` does report the file's
   checksum changed. Rollback puts the original back.
2. Debian's 1.0-2 .deb in var/lib/hotpatch/debs: commit installs it with
   dpkg. `dpkg -s hptiny` says 1.0-2, `dpkg --verify hptiny` reports
   nothing, the file is the bundle's fixed file, and status --json says
   dpkg installed it."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
import debtiny  # noqa: E402
from hptest import HOTPATCH, Failure, expect, expect_eq  # noqa: E402
from test_deb_install import (CHROOT_ENV, Chroot, build_deb, log, minbase,  # noqa: E402
                              package_main, run)

TARGET = "/usr/bin/hptiny"


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def tiny_bundle(work, ch):
    """hptiny 1.0-1 installed in the root with dpkg; the --upgrade-to 1.0-2
    bundle built on the host against that root, signed; the trusted key in
    the root. Returns the bundle's path in the root and Debian's 1.0-2 .deb."""
    tiny = os.path.join(work, "tiny")
    os.makedirs(tiny)
    archive = debtiny.make_sources(tiny)
    cache = os.path.join(tiny, "cache")
    twin_path = os.path.join(cache, "build/reproducible-path/hptiny-1.0")
    old = debtiny.build_binary(archive, "1.0-1", twin_path)
    new = debtiny.publish(archive, "1.0-2", twin_path)
    shutil.copy(old, ch.path("/tmp/"))
    ch.run("dpkg", "-i", "/tmp/" + os.path.basename(old))
    out = os.path.join(tiny, "tiny.hpb")
    run([HOTPATCH, "build", "--target", TARGET, "--sysroot", ch.root, "--upgrade-to", "1.0-2",
         "--build-root", "/", "--sources", archive, "--cache", cache, "-o", out], timeout=900)
    key = os.path.join(tiny, "key")
    run([HOTPATCH, "keygen", "-k", key])
    run([HOTPATCH, "sign", out, "-k", key])
    shutil.copy(key + ".pub", ch.path("/etc/hotpatch/trusted.d/tiny.pub"))
    os.chmod(ch.path("/etc/hotpatch/trusted.d/tiny.pub"), 0o644)
    shutil.copy(out, ch.path("/tmp/tiny.hpb"))
    # The bundle names its target by the path the builder saw it at, the
    # root's path on this host: inside the root, that path leads to / (as
    # it would on a host whose file the bundle was built from).
    os.makedirs(os.path.dirname(ch.path(ch.root)), exist_ok=True)
    os.symlink("/", ch.path(ch.root))
    return "/tmp/tiny.hpb", new


def verify(ch):
    """dpkg --verify hptiny: its output lines (dpkg exits 1 when it reports)."""
    r = subprocess.run(ch.cmd("dpkg", "--verify", "hptiny"), capture_output=True, text=True,
                       env=CHROOT_ENV)
    return r.stdout.splitlines()


def stored(ch):
    """The store's part of status (which --pid leaves out)."""
    return json.loads(ch.run("hotpatch", "status", "--json").stdout)["stored"][0]


def replaced_file(ch, bid, new):
    """A .deb with the right name and the wrong checksum is not installed:
    the file is replaced, and where dpkg shows it is said."""
    debs = ch.path("/var/lib/hotpatch/debs")
    os.makedirs(debs, exist_ok=True)
    damaged = os.path.join(debs, os.path.basename(new))
    shutil.copy(new, damaged)
    with open(damaged, "ab") as f:
        f.write(b"\0")
    out = ch.run("hotpatch", "commit", bid).stdout
    expect("committed:" in out and "no hptiny_1.0-2_amd64.deb with the bundle's checksum" in out
           and "`dpkg --verify hptiny` reports it changed" in out, out)
    lines = verify(ch)
    expect(any(l.startswith("??5") and l.endswith(TARGET) for l in lines),
           f"dpkg --verify reports the replaced file: {lines}")
    expect("Version: 1.0-1" in ch.run("dpkg", "-s", "hptiny").stdout, "dpkg still has 1.0-1")
    expect_eq(stored(ch).get("dpkg"), "modified", "status --json says dpkg sees it changed")
    text = ch.run("hotpatch", "status").stdout
    expect("dpkg --verify and debsums report it changed" in text, text)
    ch.run("hotpatch", "rollback", bid, "--no-apply")
    expect_eq(verify(ch), [], "dpkg --verify is clean after the rollback")
    os.unlink(damaged)
    log("a damaged .deb is not installed: the file replaced, dpkg --verify and status say so")


def installed_package(ch, bid, new, fixed_sha):
    shutil.copy(new, ch.path("/var/lib/hotpatch/debs/"))
    out = ch.run("hotpatch", "commit", bid).stdout
    expect("committed:" in out and "installed hptiny 1.0-2 with dpkg" in out, out)
    status = ch.run("dpkg", "-s", "hptiny").stdout
    expect("Version: 1.0-2" in status and "Status: install ok installed" in status, status)
    expect_eq(verify(ch), [], "dpkg --verify hptiny after the commit")
    expect_eq(sha(ch.path(TARGET)), fixed_sha, "the file is the bundle's fixed file")
    st = stored(ch)
    expect_eq((st["state"], st.get("dpkg"), st.get("package")),
              ("committed", "installed", "hptiny 1.0-2"), "status --json")
    log("with Debian's .deb at hand, commit installed hptiny 1.0-2: dpkg -s and --verify agree")


def apt_install(ch, deb):
    """apt-get install, waiting while another package test holds the lock of
    the apt cache all of them share (deb_install's Chroot bind-mounts it)."""
    for _ in range(120):
        r = subprocess.run(ch.cmd("apt-get", "install", "-y", "-q", deb), capture_output=True,
                           text=True, env=CHROOT_ENV, timeout=1800)
        if r.returncode == 0:
            return
        if "Could not get lock /var/cache/apt/archives/lock" not in r.stderr:
            raise Failure(f"apt-get install {deb} exited {r.returncode}:\n{r.stdout}{r.stderr}")
        time.sleep(5)
    raise Failure("apt's cache stayed locked by another test for 10 minutes")


def test(work):
    deb = build_deb(work)
    root = minbase(work)
    ch = Chroot(root)
    try:
        ch.setup()
        shutil.copy(deb, ch.path("/tmp/"))
        ch.run("apt-get", "update", "-q")
        apt_install(ch, "/tmp/" + os.path.basename(deb))
        bundle, new = tiny_bundle(work, ch)
        info = json.loads(ch.run("hotpatch", "info", "--json", bundle).stdout)
        expect_eq(info["package"]["version"], "1.0-2", "the bundle names hptiny 1.0-2")
        bid = info["id"]
        ch.run("hotpatch", "install", bundle)
        replaced_file(ch, bid, new)
        installed_package(ch, bid, new, info["file_sha_fixed"])
    finally:
        if not ch.teardown():
            raise Failure(f"could not unmount everything under {root}; left it in place")


def main():
    package_main(test, "hp-dpkg-")


if __name__ == "__main__":
    main()
