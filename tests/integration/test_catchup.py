#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hotpatch catch-up: processes still running a library that an "upgrade"
replaced on disk (renamed over, as dpkg does), each in its own situation:

A  runs in a mount namespace of its own whose dpkg database and
   /usr/share/doc say its library belongs to libvictim1, upgraded from
   1.0-1 (the apt hook, run before the upgrade, recorded that) to 1.0-2,
   whose changelog names two CVE ids; a signed bundle for A's build is
   installed, not applied, and staged for commit;
B  runs a replaced library no package owns, with no bundle;
C  runs a replaced library whose bundle's builder refused one fix; that
   bundle was applied (and staged) before the upgrade;
D  runs a library nobody replaced.

`catch-up --list` reports A as pending, B as bundle missing, C as needing
a restart (which fix was refused, and why), and not D, changing nothing;
`catch-up` applies A's bundle, with the same pid: A is caught up (its code
answers with the fix); A's and C's patches are enabled and no longer staged
(the disk already has the upgrade), and `status` says "caught-up"; a
process of A's old build started later is patched by hotpatchd. A bundle
with a fixed file applied after its target was replaced is not staged.
needrestart's snippet is given A's library only."""
import gzip
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *
from commitlib import FIXED_ANSWER, ORIGINAL_ANSWER, PROBE, build_tree, diff_bundle, state
from daemon import Daemon

LIB_FIX = """
#include <hotpatch/patch.h>
extern int lib_check(int n);
extern int lib_limit;  /* static in the library */
HOTPATCH_CVE("%s");
HOTPATCH_REPLACE(lib_check, lib_check_fixed);
int lib_check_fixed(int n)
{
	return n < lib_limit / 10 ? n : -lib_limit;
}
"""

CHANGELOG = """libvictim (1.0-2) bookworm-security; urgency=high

  * Refuse long names (CVE-2099-7001).
  * Fix a counter overflow (CVE-2099-7002).

 -- Tests <tests@example.org>  Tue, 03 Jan 2023 10:00:00 +0000

libvictim (1.0-1) bookworm; urgency=medium

  * Initial release (mentions CVE-2099-0001, fixed long before).

 -- Tests <tests@example.org>  Mon, 02 Jan 2023 10:00:00 +0000
"""

# What the builder of a bundle from an upgrade writes when it refuses a fix
# (src/lib/bundle/verdict.c: kind, symbol, source, made from, fix, reason).
REFUSAL = ("refusal\tstruct-layout\tcounter\t./stats.c\t\t0003-counter-misses.patch\t"
           "the fix changes the layout of struct counter, which live data uses\n")


def add_verdict(path, text):
    """Adds a verdict section (type 5) to the unsigned bundle at @path, as
    the builder of --upgrade-to bundles does."""
    data = open(path, "rb").read()
    nsec, = struct.unpack_from("<I", data, 12)
    secs = []
    for i in range(nsec):
        typ, flags, off, size = struct.unpack_from("<IIQQ", data, 32 + 56 * i)
        secs.append((typ, flags, data[off:off + size]))
    secs.append((5, 0, text.encode()))
    off = 32 + 56 * len(secs)
    table = b""
    for typ, flags, body in secs:
        table += struct.pack("<IIQQ", typ, flags, off, len(body)) + hashlib.sha256(body).digest()
        off += len(body)
    head = b"HPBUNDL1" + struct.pack("<IIQ", 32, len(secs), off)
    head += hashlib.sha256(head + table).digest()[:8]
    open(path, "wb").write(head + table + b"".join(body for _, _, body in secs))


def lib_copy(env, name):
    os.makedirs(os.path.join(env.dir, name))
    return unique_copy(env, "libvictim.so", f"{name}/libvictim.so")


def upgrade(env, lib):
    """Replaces @lib the way dpkg does: a new file renamed over the old."""
    new = unique_copy(env, "libvictim.so", os.path.basename(os.path.dirname(lib)) + ".new")
    os.rename(new, lib)


def fake_dpkg(env, lib):
    """A dpkg database and /usr/share/doc in which libvictim1 owns @lib."""
    admin = os.path.join(env.dir, "dpkg")
    os.makedirs(os.path.join(admin, "info"))
    open(os.path.join(admin, "info/libvictim1.list"), "w").write(lib + "\n")
    status(env, "1.0-1")
    doc = os.path.join(env.dir, "doc/libvictim1")
    os.makedirs(doc)
    with gzip.open(os.path.join(doc, "changelog.Debian.gz"), "wt") as f:
        f.write(CHANGELOG)
    return admin, os.path.dirname(doc)


def status(env, version):
    open(os.path.join(env.dir, "dpkg/status"), "w").write(
        f"Package: libvictim1\nStatus: install ok installed\nPriority: optional\n"
        f"Maintainer: Tests <tests@example.org>\nArchitecture: amd64\n"
        f"Version: {version}\nDescription: test\n\n")


def in_ns(env, pid, *args, stdin=None):
    """hotpatch in @pid's mount namespace (where the fake dpkg is), as apt
    runs the hook on a host whose dpkg says so."""
    cmd = ["nsenter", "-t", str(pid), "-m", "--", HOTPATCH, "--root", env.root, *args]
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise Failure(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


def by_pid(report):
    return {p["pid"]: p["files"] for p in report["processes"]}


def needrestart_lines(env):
    return env.hp("catch-up", "--needrestart").stdout.splitlines()


def test(env):
    key = trust_key(env)
    lib_a, lib_b, lib_c, lib_d = (lib_copy(env, n) for n in ("liba", "libb", "libc", "libd"))
    admin, doc = fake_dpkg(env, lib_a)
    old_a = os.path.join(env.dir, "old-a/libvictim.so")
    os.makedirs(os.path.dirname(old_a))
    shutil.copy2(lib_a, old_a)
    ns = ["unshare", "-m", "--propagation", "private", "sh", "-c",
          f"mount --bind {admin} /var/lib/dpkg && mount --bind {doc} /usr/share/doc && "
          'exec "$@"', "sh"]
    a = env.victim("victim-lib", lib_dir=os.path.dirname(lib_a), wrap=ns)
    b, c, d = (env.victim("victim-lib", lib_dir=os.path.dirname(l)) for l in (lib_b, lib_c, lib_d))
    for v in (a, b, c, d):
        expect_eq(v.ask("lib 500"), "500", f"pid {v.pid} runs the original lib_check")
    bundle_a = signed_bundle(env, lib_a, LIB_FIX % "CVE-2099-7001", key, name="fix-a")
    bundle_c = env.build(lib_c, LIB_FIX % "CVE-2099-7101", name="fix-c")
    add_verdict(bundle_c, REFUSAL)
    env.hp("sign", bundle_c, "-k", key)
    id_a, id_c = env.bundle_id(bundle_a), env.bundle_id(bundle_c)
    for bundle in (bundle_a, bundle_c):
        env.hp("install", bundle)
    commit_dir = os.path.join(env.root, "var/lib/hotpatch/state/commit")
    os.makedirs(commit_dir, exist_ok=True)
    for bid, lib in ((id_a, lib_a), (id_c, lib_c)):
        open(os.path.join(commit_dir, bid), "w").write(f"state=staged\ntime=1\ntarget={lib}\n")
    env.hp("apply", id_c, "--pid", c.pid)

    # The apt hook, before dpkg runs: apt's protocol version 3 on stdin.
    hook_in = ("VERSION 3\nAPT::Architecture=amd64\nDir=/\n\n"
               "libvictim1 1.0-1 amd64 none < 1.0-2 amd64 none "
               "/var/cache/apt/archives/libvictim1_1.0-2_amd64.deb\n"
               "newpkg - - none < 2.0 amd64 none /var/cache/apt/archives/newpkg_2.0_amd64.deb\n")
    r = env.hp("catch-up", "--apt-hook", "pre", input="VERSION 1\n/x.deb\n")
    expect("the catch-up hook (pre) failed; the upgrade goes on: apt did not speak protocol "
           "version 3" in r.stderr, f"a failing hook says so, and exits 0: {r.stderr}")
    out = in_ns(env, a.pid, "catch-up", "--apt-hook", "pre", stdin=hook_in).stdout
    expect("recorded 1 running build" in out, out)
    record = open(os.path.join(env.root, "var/lib/hotpatch/state/catch-up/builds")).read()
    expect(f"\tlibvictim1\t1.0-1\t1.0-2\t{lib_a}\n" in record, record)
    for lib in (lib_a, lib_b, lib_c):
        upgrade(env, lib)
    status(env, "1.0-2")

    listed = json.loads(in_ns(env, a.pid, "catch-up", "--list", "--json").stdout)
    procs = by_pid(listed)
    expect(d.pid not in procs, "a process whose library was not replaced is not listed")
    fa, = procs[a.pid]
    expect_eq((fa["path"], fa["deleted"], fa["package"], fa["running_version"],
               fa["running_version_from"], fa["installed_version"]),
              (lib_a, True, "libvictim1", "1.0-1", "apt-hook", "1.0-2"), "A's versions")
    expect_eq(fa["cves_fixed"], ["CVE-2099-7001", "CVE-2099-7002"],
              "the changelog's CVE ids between the running and the installed version")
    expect_eq((fa["action"], [(x["id"], x["applied"]) for x in fa["bundles"]]),
              ("pending", [(id_a, False)]), "A: a bundle is installed, not applied")
    fb, = procs[b.pid]
    expect_eq((fb["action"], fb["package"], fb["bundles"]), ("bundle-missing", None, []),
              "B: no package, no bundle")
    fc, = procs[c.pid]
    expect_eq((fc["action"], fc["bundles"][0]["applied"]), ("restart-needed", True),
              "C: a fix was refused")
    expect_eq([(x["kind"], x["symbol"], x["fix"]) for x in fc["bundles"][0]["refused"]],
              [("struct-layout", "counter", "0003-counter-misses.patch")],
              "C: which fix was refused, from the bundle's structured refusals")
    expect("layout of struct counter" in fc["bundles"][0]["refused"][0]["reason"], str(fc))
    expect_eq(a.ask("lib 500"), "500", "--list changed nothing")
    expect_eq(needrestart_lines(env), [], "nothing is caught up yet: needrestart ignores nothing")

    r = in_ns(env, a.pid, "catch-up", "--json")
    done = json.loads(r.stdout)
    procs = by_pid(done)
    expect_eq(done["summary"]["applied"], 1, f"A's bundle applied:\n{r.stdout}")
    fa, = procs[a.pid]
    expect_eq((fa["action"], fa["bundles"][0]["applied"], fa["bundles"][0]["cves"]),
              ("caught-up", True, ["CVE-2099-7001"]), "A is caught up")
    expect_eq(procs[c.pid][0]["action"], "restart-needed", "C still needs a restart")
    expect_eq(procs[b.pid][0]["action"], "bundle-missing", "B is left alone")
    for v in (a, c):
        expect(v.alive(), f"pid {v.pid} lives on")
        expect_eq(v.ask("lib 500"), "-1000", f"pid {v.pid} runs the fix")
    expect_eq(b.ask("lib 500"), "500", "B runs what it ran")
    for bid in (id_a, id_c):
        expect(f"{bid} is no longer staged for commit" in r.stderr, r.stderr)
        expect(not os.path.exists(os.path.join(commit_dir, bid)), f"nothing staged for {bid}")
    enabled = os.path.join(env.root, "var/lib/hotpatch/state/enabled")
    expect_eq(sorted(os.listdir(enabled)), sorted([id_a, id_c]),
              "caught-up patches are enabled: hotpatchd keeps later processes of the build so")
    audit = [json.loads(l) for l in open(os.path.join(env.root, "var/log/hotpatch/audit.log"))]
    expect_eq([(x["op"], x["result"]) for x in audit if x.get("pid") == a.pid],
              [("apply", "patched")], "A's catch-up is on record")
    expect_eq(sorted(x["patch"] for x in audit if x["op"] == "enable"), sorted([id_a, id_c]),
              "the enables are on record")

    stored = {s["id"]: s["state"] for s in env.hp_json("status")["stored"]}
    expect_eq(stored[id_a], "caught-up", "status: the disk already has the fix, nothing to commit")
    st = env.hp_json("status", "--pid", a.pid)["patches"]
    expect_eq([(x["id"], x["processes"][0]["state"]) for x in st], [(id_a, "caught-up")],
              "status: A runs its patch over a file the upgrade replaced")
    expect_eq(env.hp_json("status", "--pid", d.pid)["patches"], [], "D carries nothing")
    text = env.hp("catch-up", "--list").stdout
    expect(f"pid {a.pid} (" in text and "caught up: no restart needed" in text, text)
    expect("restart needed" in text and "0003-counter-misses.patch: struct-layout" in text, text)
    expect_eq(needrestart_lines(env), [f"mapping\t{lib_a}"],
              "needrestart is told to ignore A's library only")
    again = json.loads(env.hp("catch-up", "--json").stdout)
    expect_eq(again["summary"]["applied"], 0, "a second catch-up has nothing to apply")
    later_of_old_build(env, old_a)
    never_staged(env, key)


def later_of_old_build(env, old_a):
    """A process of A's old build started after the catch-up (here from a
    copy of the old file) gets the caught-up patch from hotpatchd."""
    Daemon(env)
    e = env.victim("victim-lib", lib_dir=os.path.dirname(old_a))
    wait_for(lambda: e.ask("lib 500") == "-1000", timeout=20,
             what="hotpatchd to patch a later process of the old build")


def never_staged(env, key):
    """A bundle that carries a fixed file, applied after a package upgrade
    replaced its target: the process is patched, nothing is staged (the
    fixed file would undo the upgrade), status says caught up."""
    tree = build_tree(env, "stage-app")
    target = os.path.join(tree, "server")
    bundle = diff_bundle(env, tree, key, name="stage-fix")
    bid = env.bundle_id(bundle)
    v = env.victim(target)
    expect_eq(v.ask(PROBE), ORIGINAL_ANSWER, "the original answers as the original")
    os.rename(unique_copy(env, target, "stage-app/server.new"), target)
    r = env.hp("apply", bundle, "--all")
    expect(f"pid {v.pid}" in r.stdout and "patched" in r.stdout, r.stdout)
    expect(f"not staged for commit: a package upgrade already replaced {target}" in r.stdout,
           r.stdout)
    expect_eq(v.ask(PROBE), FIXED_ANSWER, "patched in memory")
    expect_eq(state(env, bid), "caught-up", "status: caught up, nothing staged")


main(test)
