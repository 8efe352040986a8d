#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""catch-up names the version a process runs from Debian's -dbgsym
build-ids when the apt hook recorded none (issue 15).

Two processes map libvictim.so, which libvictim1 owns; it was upgraded
(renamed over) to 1.0-2 without the hook (a `dpkg -i`, or a process older
than hotpatch). The process's root has apt lists with a debug archive's
index: libvictim1-dbgsym 1.0-1's `Build-Ids:` holds the running build's id
(among others), and another -dbgsym entry a longer id that starts with it.
`catch-up --list` then says it runs 1.0-1, and the CVE ids fixed since;
without the entry the version stays unknown.
"""
import gzip
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

CHANGELOG = """libvictim (1.0-2) bookworm-security; urgency=high

  * Refuse long names (CVE-2099-7001).

 -- Tests <tests@example.org>  Tue, 03 Jan 2023 10:00:00 +0000

libvictim (1.0-1) bookworm; urgency=medium

  * Initial release.

 -- Tests <tests@example.org>  Mon, 02 Jan 2023 10:00:00 +0000
"""


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    return out.split("Build ID: ")[1].split()[0]


def listed(env, pid):
    cmd = ["nsenter", "-t", str(pid), "-m", "--", HOTPATCH, "--root", env.root, "catch-up",
           "--list", "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    expect_eq(r.returncode, 0, f"{r.stdout}{r.stderr}")
    files = {p["pid"]: p["files"] for p in json.loads(r.stdout)["processes"]}
    expect(pid in files, f"pid {pid} runs a replaced library:\n{r.stdout}")
    return files[pid][0]


def test(env):
    os.makedirs(os.path.join(env.dir, "lib"))
    lib = unique_copy(env, "libvictim.so", "lib/libvictim.so")
    running = build_id(lib)
    admin = os.path.join(env.dir, "dpkg")
    os.makedirs(os.path.join(admin, "info"))
    open(os.path.join(admin, "info/libvictim1.list"), "w").write(lib + "\n")
    open(os.path.join(admin, "status"), "w").write(
        "Package: libvictim1\nStatus: install ok installed\nPriority: optional\n"
        "Maintainer: Tests <tests@example.org>\nArchitecture: amd64\n"
        "Version: 1.0-2\nDescription: test\n\n")
    doc = os.path.join(env.dir, "doc/libvictim1")
    os.makedirs(doc)
    with gzip.open(os.path.join(doc, "changelog.Debian.gz"), "wt") as f:
        f.write(CHANGELOG)
    lists = os.path.join(env.dir, "lists")
    os.makedirs(lists)
    index = os.path.join(lists, "deb.debian.org_debian-debug_dists_bookworm-debug_main_"
                                "binary-amd64_Packages")
    open(index, "w").write(
        f"Package: libother-dbgsym\nVersion: 9.9-9\nBuild-Ids: {running}ff\n\n")
    ns = ["unshare", "-m", "--propagation", "private", "sh", "-c",
          f"mount --bind {admin} /var/lib/dpkg && mount --bind {os.path.dirname(doc)} "
          f"/usr/share/doc && mount --bind {lists} /var/lib/apt/lists && exec \"$@\"", "sh"]
    v = env.victim("victim-lib", lib_dir=os.path.dirname(lib), wrap=ns)
    w = env.victim("victim-lib", lib_dir=os.path.dirname(lib), wrap=ns)
    for x in (v, w):
        expect_eq(x.ask("lib 500"), "500", f"pid {x.pid} runs the library")
    os.rename(unique_copy(env, "libvictim.so", "libvictim.new"), lib)

    f = listed(env, v.pid)
    expect_eq((f["package"], f["running_version"], f["running_version_from"], f["action"]),
              ("libvictim1", None, "unknown", "bundle-missing"),
              "no record, no -dbgsym entry for its build: the version is unknown "
              "(a longer id that starts with it is another build)")

    open(index, "a").write(
        "Package: libvictim1-dbgsym\nSource: libvictim\nVersion: 1.0-1\n"
        "Auto-Built-Package: debug-symbols\n"
        f"Build-Ids: 0123456789abcdef0123456789abcdef01234567 {running}\n\n")
    for x in (v, w):
        f = listed(env, x.pid)
        expect_eq((f["package"], f["running_version"], f["running_version_from"],
                   f["installed_version"], f["cves_fixed"]),
                  ("libvictim1", "1.0-1", "dbgsym", "1.0-2", ["CVE-2099-7001"]),
                  f"the -dbgsym entry names the version pid {x.pid} runs:\n{f}")


main(test)
