#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""catch-up tells "nothing to patch" from "bundle missing" (issue 15).

hptiny 1.0-2 (a tiny Debian source package built in the test) has one
security fix, CVE-2099-5678, and it changes hptiny-other only: no code of
/usr/bin/hptiny (memcached's case). The build host's `build --upgrade-to
--no-fix-record` finds nothing to patch and writes that verdict instead of
a bundle; `hotpatch package --no-fix` ships it as hotpatch-patch-hptiny.
A process of hptiny 1.0-1 whose file an upgrade to 1.0-2 replaced is then
reported by `catch-up` as needing no fix (the record also names the version
it runs), where it was "bundle missing" before the package came, and
needrestart is told to leave it alone. A record that does not cover the
installed version (1.0-3 came since), or that others can write, settles
nothing.
"""
import gzip
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *
import debtiny

FIX_OTHER = debtiny.FIX_OTHER.replace("--- a/other.c",
                                      "CVE: CVE-2099-5678\n--- a/other.c", 1)

CHANGELOG_NEW = """hptiny (1.0-2) bookworm-security; urgency=high

  * 0002-other-len.patch: fix hptiny-other (CVE-2099-5678).

 -- Hotpatch Tests <tests@example.org>  Tue, 03 Jan 2023 10:00:00 +0000

""" + debtiny.CHANGELOG_OLD


def fake_dpkg(env, target, version):
    """A dpkg database and /usr/share/doc, for the process's mount
    namespace, in which hptiny @version owns @target."""
    admin = os.path.join(env.dir, "dpkg")
    os.makedirs(os.path.join(admin, "info"), exist_ok=True)
    open(os.path.join(admin, "info/hptiny.list"), "w").write(target + "\n")
    open(os.path.join(admin, "status"), "w").write(
        f"Package: hptiny\nStatus: install ok installed\nPriority: optional\n"
        f"Maintainer: Tests <tests@example.org>\nArchitecture: amd64\n"
        f"Version: {version}\nDescription: test\n\n")
    doc = os.path.join(env.dir, "doc/hptiny")
    os.makedirs(doc, exist_ok=True)
    with gzip.open(os.path.join(doc, "changelog.Debian.gz"), "wt") as f:
        f.write(CHANGELOG_NEW)
    return admin, os.path.dirname(doc)


def catchup(env, pid, *args):
    """hotpatch in @pid's mount namespace, where the fake dpkg is."""
    cmd = ["nsenter", "-t", str(pid), "-m", "--", HOTPATCH, "--root", env.root, "catch-up",
           *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise Failure(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


def listed(env, pid):
    r = catchup(env, pid, "--list", "--json")
    files = {p["pid"]: p["files"] for p in json.loads(r.stdout)["processes"]}
    expect(pid in files, f"pid {pid} runs a replaced file:\n{r.stdout}")
    return files[pid][0], r.stderr


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    return out.split("Build ID: ")[1].split()[0]


def test(env):
    archive = debtiny.make_sources(env.dir, CHANGELOG_NEW, {"0002-other-len.patch": FIX_OTHER})
    cache = os.path.join(env.dir, "cache")
    twin_path = os.path.join(cache, "build/reproducible-path/hptiny-1.0")
    sysroot = os.path.join(env.dir, "sysroot")
    target = debtiny.install(env.dir, archive, sysroot, twin_path)
    running_id = build_id(target)

    # The build host: nothing to patch, and a record that says so.
    record = os.path.join(env.dir, "hptiny.nofix")
    out = os.path.join(env.dir, "hptiny.hpb")
    r = env.hp("build", "--target", "/usr/bin/hptiny", "--sysroot", sysroot, "--upgrade-to",
               "1.0-2", "--build-root", "/", "--sources", archive, "--cache", cache,
               "--no-fix-record", record, "-o", out, timeout=600)
    expect(f"nothing to patch: wrote the no-fix record {record}" in r.stdout
           and "none of the 1 fixes between 1.0-1 and 1.0-2 changes the code of" in r.stderr,
           f"the verdict is published, not a failure:\n{r.stdout}{r.stderr}")
    expect(not os.path.exists(out), "no bundle")
    head, fixes = open(record).read().split("\n\n", 1)
    expect_eq(head.splitlines()[:6],
              ["hotpatch-no-fix\t1", f"build-id\t{running_id}", "target\t/usr/bin/hptiny",
               "package\thptiny", "from\t1.0-1", "to\t1.0-2"],
              "the record names the build, its package and both versions")
    expect("fix\t0002-other-len.patch\tnot-in-file\tCVE-2099-5678\t" in fixes,
           f"and each fix's verdict, with its CVE id:\n{fixes}")

    debs = os.path.join(env.dir, "debs")
    os.makedirs(debs)
    r = env.hp("package", "--no-fix", record, "--name", "hptiny", "-o", debs,
               "--maintainer", "Tests <tests@example.org>")
    deb, = [os.path.join(debs, f) for f in os.listdir(debs)]
    expect(f"packaged the no-fix record for build {running_id} as {deb}" in r.stdout, r.stdout)
    fields = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Depends"], check=True,
                            capture_output=True, text=True).stdout
    expect_eq(fields, "Package: hotpatch-patch-hptiny\nDepends: hotpatch\n",
              "published under the name hptiny's live patches have (it upgrades a "
              "subscription)")
    contents = subprocess.run(["dpkg-deb", "-c", deb], check=True, capture_output=True,
                              text=True).stdout
    expect(f"./usr/share/hotpatch/no-fix/{running_id}\n" in contents, contents)
    bad = env.write("bad.nofix", "hotpatch-no-fix\t1\nbuild-id\tab\n\n")
    r = env.hp("package", "--no-fix", bad, "-o", debs, check=False)
    expect(r.returncode == 2 and "build-id, package, from and to are required" in r.stderr,
           f"a malformed record is bad input:\n{r.stderr}")

    # A host: hptiny 1.0-1 runs; apt upgrades it to 1.0-2.
    admin, doc = fake_dpkg(env, target, "1.0-1")
    ns = ["unshare", "-m", "--propagation", "private", "sh", "-c",
          f"mount --bind {admin} /var/lib/dpkg && mount --bind {doc} /usr/share/doc && "
          'exec "$@"', "sh"]
    sock = os.path.join(env.dir, "tiny.sock")
    log = open(os.path.join(env.dir, "tiny.log"), "w")
    p = subprocess.Popen(ns + [target, sock], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    env.procs.append(p)
    wait_for(lambda: os.path.exists(sock), what="hptiny listening")
    os.rename(unique_copy(env, target, "hptiny.new"), target)
    fake_dpkg(env, target, "1.0-2")

    f, _ = listed(env, p.pid)
    expect_eq((f["package"], f["running_version"], f["action"]),
              ("hptiny", None, "bundle-missing"),
              "without the record: the version it runs is unknown, and a bundle missing")

    subprocess.run(["dpkg-deb", "-x", deb, env.root], check=True)
    f, _ = listed(env, p.pid)
    expect_eq((f["package"], f["running_version"], f["running_version_from"],
               f["installed_version"], f["cves_fixed"], f["action"]),
              ("hptiny", "1.0-1", "no-fix-record", "1.0-2", ["CVE-2099-5678"],
               "no-fix-needed"), f"the record settles it:\n{f}")
    expect_eq((f["no_fix"]["from"], f["no_fix"]["to"],
               [(x["name"], x["verdict"], x["cves"]) for x in f["no_fix"]["fixes"]]),
              ("1.0-1", "1.0-2", [("0002-other-len.patch", "not-in-file", ["CVE-2099-5678"])]),
              "with the build host's verdict per fix")
    text = catchup(env, p.pid, "--list").stdout
    expect("no-fix record: no fix between 1.0-1 and 1.0-2 changes the code of /usr/bin/hptiny"
           in text and "0002-other-len.patch: not-in-file CVE-2099-5678" in text
           and "no fix needed: nothing to patch live" in text, text)
    lines = catchup(env, p.pid, "--needrestart").stdout.splitlines()
    expect(f"exe\t{target}" in lines and f"mapping\t{target}" in lines,
           f"needrestart is told to leave it alone: {lines}\n{text}")
    done = json.loads(catchup(env, p.pid, "--json").stdout)
    expect_eq((done["summary"]["no-fix-needed"], done["summary"]["applied"]), (1, 0),
              "catch-up has nothing to apply")

    # 1.0-3 came since: its fixes were not examined.
    fake_dpkg(env, target, "1.0-3")
    f, _ = listed(env, p.pid)
    expect_eq(f["action"], "bundle-missing", "a record up to 1.0-2 says nothing about 1.0-3")
    fake_dpkg(env, target, "1.0-2")
    os.chmod(os.path.join(env.root, "usr/share/hotpatch/no-fix", running_id), 0o666)
    f, err = listed(env, p.pid)
    expect(f["action"] == "bundle-missing" and "is not a regular file only root can write: "
           "ignored" in err, f"a record anyone can write is ignored, and said so:\n{err}")
    expect(p.poll() is None, "the process lives on")


main(test)
