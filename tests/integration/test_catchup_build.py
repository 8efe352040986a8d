#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`catch-up = build` (hotpatch.conf): the host builds its own live patch
in the apt hook (issue 15).

hptiny 1.0-1 (a tiny Debian package built in the test) runs, in a mount
namespace whose dpkg database says it is installed; no bundle exists for
it. apt is about to upgrade it to 1.0-2 (one fix, CVE-2099-1234, in
check_len()). The Pre hook records the running build and, in this mode,
runs `build --upgrade-to 1.0-2` (sources from `build-sources`, built on the
host: `build-root = /`), signs the bundle with the host key it makes and
trusts, and installs it; after the upgrade, the Post hook's catch-up applies
it: the same process now refuses 100. A second Pre run reuses the cached
build. A build that fails (no sources for 1.0-3) costs the apt run nothing:
one line, exit 0, and it is not retried until its .failed file goes.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *
import debtiny

CHANGELOG_NEW = """hptiny (1.0-2) bookworm-security; urgency=high

  * 0001-check-len.patch: refuse lengths above 64 (CVE-2099-1234).

 -- Hotpatch Tests <tests@example.org>  Tue, 03 Jan 2023 10:00:00 +0000

""" + debtiny.CHANGELOG_OLD


def set_status(root, version):
    """hptiny @version in @root's dpkg database (the host's, in an overlay)."""
    path = os.path.join(root, "var/lib/dpkg/status")
    text = open(path).read().split("\n\nPackage: hptiny\n")[0].rstrip("\n")
    open(path, "w").write(
        text + "\n\nPackage: hptiny\nStatus: install ok installed\n"
        "Priority: optional\nMaintainer: Tests <tests@example.org>\nArchitecture: amd64\n"
        f"Version: {version}\nDescription: test\n\n")


def hook(env, pid, phase, stdin=None):
    """The apt hook in @pid's mount namespace and root, where hptiny is
    installed."""
    cmd = ["nsenter", "-t", str(pid), "-m", "-r", "--", HOTPATCH, "--root", env.root, "catch-up",
           "--apt-hook", phase]
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=900)
    expect_eq(r.returncode, 0, f"the hook never fails apt:\n{r.stdout}{r.stderr}")
    return r


def apt_input(new):
    return ("VERSION 3\nAPT::Architecture=amd64\nDir=/\n\n"
            f"hptiny 1.0-1 amd64 none < {new} amd64 none /var/cache/apt/archives/x.deb\n")


def test(env):
    # A build of its own: the Post hook's catch-up patches every process of
    # the build, and other tests run hptiny 1.0-1 too.
    archive = debtiny.make_sources(env.dir, CHANGELOG_NEW,
                                   {"0001-check-len.patch": debtiny.FIX_OWN},
                                   debtiny.TINY_C + 'const char hp_tag[] = "catchup-build";\n')
    cache = os.path.join(env.root, "var/cache/hotpatch")
    twin_path = os.path.join(cache, "build/reproducible-path/hptiny-1.0")
    unpacked = os.path.join(env.dir, "unpacked")
    subprocess.run(["dpkg-deb", "-x", debtiny.build_binary(archive, "1.0-1", twin_path),
                    unpacked], check=True)
    conf = os.path.join(env.root, "etc/hotpatch/hotpatch.conf")
    os.makedirs(os.path.dirname(conf), exist_ok=True)
    open(conf, "w").write("catch-up = build\nbuild-root = build\n")
    r = env.hp("catch-up", "--list", check=False)
    expect(r.returncode == 2 and f"{conf}:2:" in r.stderr,
           f"a relative build-root is refused, naming the line:\n{r.stderr}")
    open(conf, "w").write(f"catch-up = build\nbuild-sources = {archive}\nbuild-root = /\n")

    # A root of its own for the process: the host's, in a writable overlay,
    # with hptiny 1.0-1 installed (its file and its dpkg entries).
    upper, merged = os.path.join(env.dir, "upper"), os.path.join(env.dir, "merged")
    os.makedirs(upper)
    os.makedirs(merged)
    setup = (f"mount -t tmpfs tmpfs {upper} && mkdir {upper}/u {upper}/w && "
             f"mount -t overlay overlay -o lowerdir=/,upperdir={upper}/u,workdir={upper}/w "
             f"{merged} && for d in proc dev sys; do mount --rbind /$d {merged}/$d; done && "
             f"mount --bind /tmp {merged}/tmp && mount --bind /work {merged}/work && "
             f"cp {unpacked}/usr/bin/hptiny {merged}/usr/bin/hptiny && "
             f"echo /usr/bin/hptiny > {merged}/var/lib/dpkg/info/hptiny.list && "
             f'exec chroot {merged} "$@"')
    sock = os.path.join(env.dir, "tiny.sock")
    log = open(os.path.join(env.dir, "tiny.log"), "w")
    p = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", setup, "sh",
                          "/usr/bin/hptiny", sock],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    env.procs.append(p)
    wait_for(lambda: os.path.exists(sock), what="hptiny listening")
    root = f"/proc/{p.pid}/root"
    set_status(root, "1.0-1")
    target = "/usr/bin/hptiny"
    expect_eq(ask_unix(sock, 100)[0], 100, "1.0-1 accepts 100")

    # No sources for 1.0-3: the build fails, and costs the apt run nothing.
    r = hook(env, p.pid, "pre", apt_input("1.0-3"))
    failed = [f for f in os.listdir(os.path.join(cache, "catch-up")) if f.endswith(".failed")]
    expect("1.0-3): the build failed; see " in r.stdout and len(failed) == 1,
           f"a failed build is one line, and the apt run goes on:\n{r.stdout}{r.stderr}")
    r = hook(env, p.pid, "pre", apt_input("1.0-3"))
    expect("its build failed before" in r.stdout and "building" not in r.stdout,
           f"and it is not retried on every apt run:\n{r.stdout}")

    r = hook(env, p.pid, "pre", apt_input("1.0-2"))
    expect(f"building a live patch for {target} (hptiny 1.0-1 -> 1.0-2)" in r.stdout,
           f"the Pre hook builds the missing live patch:\n{r.stdout}{r.stderr}")
    store = os.path.join(env.root, "var/lib/hotpatch/bundles")
    bundles = os.listdir(store) if os.path.isdir(store) else []
    logs = "".join(open(os.path.join(cache, "catch-up", f)).read()[-3000:]
                   for f in os.listdir(os.path.join(cache, "catch-up")) if f.endswith(".log"))
    expect_eq(len(bundles), 1, f"the bundle is in the store:\n{r.stdout}{r.stderr}{logs}")
    bid = bundles[0][:-4]
    info = json.loads(env.hp("info", "--json", os.path.join(store, bundles[0])).stdout)
    expect_eq((info["signature"], info["cves"]), ("valid", ["CVE-2099-1234"]),
              "signed with a trusted key, for the fix's CVE")
    trusted = os.path.join(env.root, "etc/hotpatch/trusted.d/host.pub")
    expect(os.path.exists(trusted) and os.path.exists(
        os.path.join(env.root, "etc/hotpatch/host.key")), "the host key is made and trusted")
    expect_eq(ask_unix(sock, 100)[0], 100, "nothing is applied before dpkg runs")

    r = hook(env, p.pid, "pre", apt_input("1.0-2"))
    expect(f"is installed already: {bid}" in r.stdout and "building" not in r.stdout,
           f"a build with a live patch in the store is not built again:\n{r.stdout}")
    env.hp("remove", bid)
    r = hook(env, p.pid, "pre", apt_input("1.0-2"))
    expect("building" not in r.stdout and os.listdir(store) == bundles,
           f"the cached build is installed again, not rebuilt:\n{r.stdout}{r.stderr}")

    # dpkg replaces the file; the Post hook catches the process up.
    shutil.copy(unique_copy(env, os.path.join(unpacked, "usr/bin/hptiny"), "hptiny.new"),
                root + target + ".new")
    os.rename(root + target + ".new", root + target)
    set_status(root, "1.0-2")
    r = hook(env, p.pid, "post")
    expect("caught up" in r.stdout, f"the Post hook applies it:\n{r.stdout}{r.stderr}")
    expect_eq(ask_unix(sock, 100)[0], -1, "the same process now refuses 100")
    expect(p.poll() is None, "and lives on")


main(test)
