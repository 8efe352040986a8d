#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hotpatch build --upgrade-to where the security update is a new upstream
release, not Debian patches (issue 22 item 2): hpup 1.0-1 -> 1.1-1
(tests/lib/debup.py). The upstream difference is split by file: the fixes
in parse.c and name.c are live, each with its CVE id (from the Debian
changelog and upstream's NEWS), the struct layout change in stats.c is
refused with its own, and does not sink the others. The running installed
program, patched, answers as 1.1 does for the two fixes and keeps its live
data (the hit count) in the old layout."""
import json
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *
import debup


def test(env):
    archive = debup.make_sources(env.dir)
    cache = os.path.join(env.dir, "cache")
    twin_path = os.path.join(cache, "build/reproducible-path/hpup-1.0")
    sysroot = os.path.join(env.dir, "sysroot")
    target = debup.install(env.dir, archive, sysroot, twin_path)
    out = os.path.join(env.dir, "up.hpb")
    r = env.hp("build", "--target", "/usr/bin/hpup", "--sysroot", sysroot,
               "--upgrade-to", "1.1-1", "--build-root", "/", "--sources", archive,
               "--cache", cache, "--explain", "-o", out, timeout=600)
    text = r.stdout
    expect("fix upstream 1.1: parse.c: in the live patch" in text, f"{text}{r.stderr}")
    expect("fix upstream 1.1: name.c: in the live patch" in text, text)
    expect("fix upstream 1.1: stats.c: refused (the fix changes the layout of struct counter"
           in text, f"the layout change is refused, the rest still patched:\n{text}")

    info = json.loads(env.hp("info", "--json", out).stdout)
    fixes = {f["name"]: f for f in info["fixes"]}
    expect_eq((fixes["upstream 1.1: parse.c"]["verdict"], fixes["upstream 1.1: parse.c"]["cves"]),
              ("live", ["CVE-2099-2001"]), f"parse.c's fix: {info['fixes']}")
    expect_eq((fixes["upstream 1.1: name.c"]["verdict"], fixes["upstream 1.1: name.c"]["cves"]),
              ("live", ["CVE-2099-2002"]), "name.c's fix")
    expect_eq((fixes["upstream 1.1: stats.c"]["verdict"], fixes["upstream 1.1: stats.c"]["cves"]),
              ("refused", ["CVE-2099-2003"]), "stats.c's layout change")
    expect_eq(fixes["upstream 1.1: NEWS"]["verdict"], "not-in-file", "the release notes")
    expect_eq(sorted(info["cves"]), ["CVE-2099-2001", "CVE-2099-2002"],
              "the bundle claims the two live fixes' ids, not the refused one")
    expect_eq(sorted(f["name"] for f in info["functions"]), ["name_ok", "parse_len"],
              "it replaces the two fixed functions")

    sock = os.path.join(env.dir, "up.sock")
    log = open(os.path.join(env.dir, "up.log"), "w")
    p = subprocess.Popen([target, sock], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    env.procs.append(p)
    wait_for(lambda: os.path.exists(sock), what="hpup listening")
    expect_eq(ask_unix(sock, "100 a/b"), (100, 1, 1), "1.0 accepts both")
    env.hp("apply", out, "--pid", p.pid, "--insecure")
    expect_eq(ask_unix(sock, "100 a/b"), (-1, 0, 2), "patched: 1.1's answers, the count goes on")
    expect_eq(ask_unix(sock, "10 ab"), (10, 1, 3), "valid input answers as both versions do")


main(test)
