#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hotpatch build --upgrade-to on a tiny Debian package built in the test.

The installed version (hptiny 1.0-1, built with dpkg-buildpackage, unpacked
into a system root with its dpkg database) runs; the builder finds its
package and version in that root, rebuilds its twin, checks it (exact), and
makes a live patch from the fixes of 1.0-2: the check_len() fix is in the
patch, the fix of the other binary is "not in this file", the struct layout
change is refused and left out (the patch is built again without it), each
with its CVE. The fixed file for commit is Debian's own 1.0-2 binary, since
the builder's build of 1.0-2 reproduces it; when the archive's 1.0-2 was
built another way, there is no fixed file, and the bundle says why.
Applied to the running process, its answers change while it keeps serving.
An installed build with another compiler flag is refused by the twin check,
naming the differing sections, with the target untouched and no bundle.
"""
import hashlib
import re
import shutil
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *
import debtiny


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def build(env, sysroot, cache, archive, out, check=True):
    return env.hp("build", "--target", "/usr/bin/hptiny", "--sysroot", sysroot,
                  "--upgrade-to", "1.0-2", "--build-root", "/", "--sources", archive,
                  "--cache", cache, "--explain", "-o", out, check=check, timeout=600)


def test(env):
    # Built the way Debian builds, so the twin must reproduce it exactly.
    archive, cache, sysroot, twin_path, target, shipped_new = debtiny.scene(env.dir)
    out = os.path.join(env.dir, "tiny.hpb")
    r = build(env, sysroot, cache, archive, out)
    text = r.stdout
    expect("twin check: exact" in text, f"an exact twin:\n{text}{r.stderr}")
    expect("fix 0001-check-len.patch: in the live patch" in text, text)
    expect("cves: CVE-2099-1234\n  functions: check_len()" in text, text)
    expect("fix 0002-other-len.patch: not in this file" in text, text)
    expect("fix 0003-counter-misses.patch: refused (the fix changes the layout of struct "
           "counter" in text, f"the layout change is refused, the rest still patched:\n{text}")
    expect("cves: CVE-2099-5678" in text, "the changelog's CVE goes to the patch it names")
    info = json.loads(env.hp("info", "--json", out).stdout)
    expect_eq(info["cves"], ["CVE-2099-1234"], "the bundle claims the CVE it fixes, no other")
    # Where the hosts have it (commit writes there), not the build host's sysroot.
    expect_eq(info["target"], "/usr/bin/hptiny", "the target's path inside the sysroot")
    # The refusal as data: what kind, which struct, which file, blamed on which fix.
    expect_eq([(x["kind"], x["symbol"], x["fix"]) for x in info["refusals"]],
              [("struct-layout", "counter", "0003-counter-misses.patch")],
              f"the refusal travels structured:\n{info['refusals']}")
    expect(info["refusals"][0]["source"].endswith(".c")
           and "layout of struct counter" in info["refusals"][0]["reason"],
           f"it names its source file and says why: {info['refusals'][0]}")
    # Each fix's verdict as data (issue 21): name, CVE ids, verdict, reason.
    fixes = {f["name"]: f for f in info["fixes"]}
    expect_eq(sorted(fixes), ["0001-check-len.patch", "0002-other-len.patch",
                              "0003-counter-misses.patch"], f"every fix: {info['fixes']}")
    expect_eq((fixes["0001-check-len.patch"]["cves"], fixes["0001-check-len.patch"]["verdict"],
               fixes["0001-check-len.patch"]["reason"]), (["CVE-2099-1234"], "live", None),
              "the live fix, with its CVE id")
    expect_eq(fixes["0002-other-len.patch"]["verdict"], "not-in-file", "another file's fix")
    refused = fixes["0003-counter-misses.patch"]
    expect(refused["verdict"] == "refused" and refused["cves"] == ["CVE-2099-4321"]
           and "layout of struct counter" in refused["reason"],
           f"the refused fix, its CVE id and why: {refused}")
    funcs = info["completeness"]["functions"]
    expect(funcs["compared"] > funcs["differ"] >= funcs["replaced"] == 1,
           f"the completeness check's counts, as numbers: {info['completeness']}")
    explain = env.hp("info", out).stdout
    expect("0002-other-len.patch: not in this file" in explain,
           f"the verdicts travel in the bundle:\n{explain}")
    expect("fixed file: Debian's hptiny 1.0-2 itself, which the build of that version "
           "reproduces (exact" in text, f"the fixed file is the archive's, proven:\n{text}")
    expect(info["file_update"], "the bundle carries the fixed file")
    unpacked = os.path.join(env.dir, "shipped-1.0-2")
    subprocess.run(["dpkg-deb", "-x", shipped_new, unpacked], check=True)
    expect_eq(info["file_sha_fixed"], sha(os.path.join(unpacked, "usr/bin/hptiny")),
              "the fixed file is Debian's 1.0-2 file, byte for byte")
    # The package it comes from, for commit to install with dpkg.
    expect_eq(info.get("package"), {"name": "hptiny", "version": "1.0-2",
                                    "from_version": "1.0-1", "architecture": "amd64",
                                    "deb_sha256": sha(shipped_new),
                                    "deb_size": os.path.getsize(shipped_new)},
              "the bundle names Debian's 1.0-2 package and its .deb's checksum")

    # The installed binary, running, before and after the live patch.
    p, sock = debtiny.serve(env, target)
    expect_eq(ask_unix(sock, 100), (100, 1), "the installed version accepts 100")
    before = sha(target)
    env.hp("apply", out, "--pid", p.pid, "--insecure")
    expect_eq(ask_unix(sock, 100), (-1, 2), "the patched process refuses 100, counting on")
    expect_eq(ask_unix(sock, 10), (10, 3), "and still serves")
    expect_eq(sha(target), before, "apply leaves the file on disk alone")

    # The archive's 1.0-2 built with another flag: the live patch, no fixed file.
    archive_o1 = os.path.join(env.dir, "archive-O1")
    shutil.copytree(archive, archive_o1)
    os.unlink(os.path.join(archive_o1, os.path.basename(shipped_new)))
    debtiny.publish(archive_o1, "1.0-2", twin_path, cflags="-O1")
    out4 = os.path.join(env.dir, "nofixed.hpb")
    r = build(env, sysroot, cache, archive_o1, out4)
    expect("fixed file: none, so commit cannot make this patch permanent (upgrade the package "
           "instead): the build of hptiny 1.0-2 does not reproduce Debian's" in r.stdout,
           f"no fixed file, and why:\n{r.stdout}")
    info4 = json.loads(env.hp("info", "--json", out4).stdout)
    expect(not info4["file_update"], "no fixed file in the bundle")
    expect("package" not in info4, "and no package for commit to install")
    expect_eq([f["name"] for f in info4["functions"]], ["check_len"],
              "the live patch is built all the same")

    # --diff: one given fix to the installed version's source, same twin.
    fix = env.write("own.patch", debtiny.FIX_OWN)
    out3 = os.path.join(env.dir, "own.hpb")
    r = env.hp("build", "--target", "/usr/bin/hptiny", "--sysroot", sysroot, "--diff", fix,
               "--build-root", "/", "--sources", archive, "--cache", cache, "--explain",
               "-o", out3, timeout=600)
    expect("fix own.patch: in the live patch" in r.stdout, r.stdout)
    info = json.loads(env.hp("info", "--json", out3).stdout)
    expect_eq([f["name"] for f in info["functions"]], ["check_len"], "--diff replaces check_len")
    expect(info["file_update"] and "package" not in info,
           "--diff's fixed file is no Debian package's: commit replaces the file")

    # A bundle that would leave check_len's change out (a test-only hook
    # hides its replacement from the completeness check): the difference is
    # blamed, by check_len's source path, on the fix that changed tiny.c,
    # which is refused and left out; the build goes on with the others.
    out5 = os.path.join(env.dir, "omits.hpb")
    r = env.hp("build", "--target", "/usr/bin/hptiny", "--sysroot", sysroot,
               "--upgrade-to", "1.0-2", "--build-root", "/", "--sources", archive,
               "--cache", cache, "--explain", "-o", out5, check=False, timeout=600,
               env_vars={"HOTPATCH_TEST_BUNDLE_OMITS": "check_len"})
    expect("hotpatch: refused: completeness check: function check_len (" in r.stderr
           and "trying again with the other" in r.stderr,
           f"the unaccounted difference refuses its fix, and the build goes on:\n{r.stderr}")
    expect(re.search(r"fix 0001-check-len\.patch: refused \(completeness check: function "
                     r"check_len \(\S*/tiny\.c\)", r.stdout),
           f"the verdict names the function and its source path:\n{r.stdout}")
    expect(r.returncode != 0 and not os.path.exists(out5)
           and "changes the code of /" in r.stderr and "was refused" in r.stderr,
           f"with no fix left live there is no bundle, and it says why:\n{r.stderr}")

    # Installed from a build with another flag: no twin, no bundle.
    other = os.path.join(env.dir, "sysroot-O1")
    target2 = debtiny.install(env.dir, archive, other, twin_path, cflags="-O1")
    before = sha(target2)
    out2 = os.path.join(env.dir, "refused.hpb")
    r = build(env, other, cache, archive, out2, check=False)
    expect(r.returncode != 0, "a twin that does not reproduce is refused")
    expect("twin check: refused" in r.stderr and ".text" in r.stderr and
           "likely cause" in r.stderr, f"names the sections and the cause:\n{r.stderr}")
    expect(not os.path.exists(out2), "no bundle written")
    expect_eq(sha(target2), before, "the target is untouched")


main(test)
