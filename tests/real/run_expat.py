#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Real security fixes of libexpat, live-patched from Debian's own patches.

    run_expat.py [--keep] [--results FILE] [CVE...]     (default: every fix)

For each fix of tests/real/expat-fixes (tests/real/README.md describes it):
  1. Debian's expat source package of that version is fetched (apt-get
     source, through a private apt configuration with deb-src entries);
  2. the vulnerable tree (the series up to the fix) and the fixed tree are
     built as libexpat.so, with Debian's compiler flags;
  3. expat-probe runs on each library; the fix's regression test (the
     probe) fails on the vulnerable one and passes on the fixed one;
  4. `hotpatch build --target LIB --source TREE --diff FIX.patch` makes a
     bundle, with no hand edit, or refuses as the fix's line expects;
  5. the signed bundle is applied to the running vulnerable process, where
     the probe now passes (forked and in the process itself) while ordinary
     parsing answers as before; after revert the probe fails again.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../lib"))
from hptest import Env, Failure, SKIP, expect, expect_eq, trust_key  # noqa: E402

FIXES = os.path.join(HERE, "expat-fixes")
BUILD_SH = os.path.join(HERE, "expat-build.sh")
PROBE_C = os.path.join(HERE, "expat-probe.c")
SERVER_C = os.path.join(HERE, "../corpus/common/server.c")
CACHE = os.environ.get("HP_REAL_CACHE", "/var/tmp/hotpatch-real-expat")
# Requests every build answers alike: ordinary parsing must not change.
SANITY = ["version", "parse <a x='1'><b/>text</a>", "parse <a><b></a>",
          "parse <!DOCTYPE d [<!ENTITY e 'x'>]><d>&e;</d>"]
# The lines `hotpatch build` writes while it works (tests/corpus/run_corpus.py).
PROGRESS = re.compile(r"^hotpatch: building .*(\.\.\.|: done in [0-9.]+ s)$")


class Fix:
    def __init__(self, fields):
        self.cve, self.version, self.patch, probe, self.expect = fields
        self.probe = None if probe == "-" else probe.split(":", 1)
        self.refused = self.expect.split(":", 1)[1] if self.expect.startswith("refused:") else None
        expect(self.expect in ("patched", "no-code") or self.refused,
               f"{self.cve}: unknown expectation {self.expect}")
        self.row = {"cve": self.cve, "version": self.version, "patch": self.patch}


def read_fixes():
    out = []
    with open(FIXES) as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            if fields:
                expect(len(fields) == 5, f"expat-fixes: 5 fields expected: {line!r}")
                out.append(Fix(fields))
    return out


def run(cmd, cwd=None, timeout=900, env=None):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)


def must(cmd, cwd=None, what=None):
    r = run(cmd, cwd=cwd)
    expect(r.returncode == 0, f"{what or ' '.join(cmd)} exited {r.returncode}:\n"
           f"{r.stdout}{r.stderr}")
    return r


# --- step 1: Debian's source package ----------------------------------------


def apt_options():
    """apt options for a private state with the host mirror's deb-src lines:
    the host's apt configuration is never read or changed for sources."""
    root = os.path.join(CACHE, "apt")
    for d in ("lists/partial", "cache/archives/partial", "sources.list.d"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    open(os.path.join(root, "status"), "a").close()
    with open(os.path.join(root, "sources.list.d", "src.sources"), "w") as f:
        f.write(deb_src_entries())
    return ["-o", "Dir::Etc::SourceList=/dev/null",
            "-o", f"Dir::Etc::SourceParts={root}/sources.list.d",
            "-o", f"Dir::State={root}", "-o", f"Dir::State::Lists={root}/lists",
            "-o", f"Dir::State::status={root}/status", "-o", f"Dir::Cache={root}/cache",
            "-o", "Dir::Etc::Preferences=/dev/null",
            "-o", f"Dir::Etc::PreferencesParts={root}/sources.list.d"]


def deb_src_entries():
    """deb-src twins of the host's Debian entries, for bookworm and bullseye
    (the older stable's expat carries fixes 2.5.0 does not need)."""
    uris = set()
    for d in ("/etc/apt/sources.list.d", "/etc/apt"):
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if not (name.endswith(".sources") or name.endswith(".list")):
                continue
            with open(os.path.join(d, name)) as f:
                text = f.read()
            uris.update(re.findall(r"^URIs:\s*(\S+)", text, re.M))
            uris.update(re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M))
    out = []
    for uri in sorted(u for u in uris if "debian" in u):
        suites = ("bookworm-security bullseye-security" if uri.rstrip("/").endswith("-security")
                  else "bookworm bookworm-updates bullseye bullseye-updates")
        out.append(f"Types: deb-src\nURIs: {uri}\nSuites: {suites}\nComponents: main\n"
                   "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
    expect(out, "no Debian mirror in /etc/apt/sources.list*")
    return "\n".join(out)


def fetch(version):
    """The pristine source tree of expat @version (patches not applied)."""
    dest = os.path.join(CACHE, f"expat-{version}")
    if os.path.isdir(os.path.join(dest, "debian", "patches")):
        return dest
    opts = apt_options()
    dl = os.path.join(CACHE, "dl")
    os.makedirs(dl, exist_ok=True)
    must(["apt-get", *opts, "update"], what="apt-get update (private deb-src lists)")
    must(["apt-get", *opts, "source", "--download-only", f"expat={version}"], cwd=dl,
         what=f"apt-get source expat={version}")
    shutil.rmtree(dest, ignore_errors=True)
    must(["dpkg-source", "--skip-patches", "-x", f"expat_{version}.dsc", dest], cwd=dl)
    # debian/rules makes configure with buildconf.sh before each build; once
    # here is enough, and every tree copied from this one has it.
    must(["./buildconf.sh"], cwd=os.path.join(dest, "expat"), what="expat's buildconf.sh")
    return dest


def series(src):
    with open(os.path.join(src, "debian", "patches", "series")) as f:
        return [line.split()[0] for line in f if line.strip() and not line.startswith("#")]


# --- step 2: the trees -------------------------------------------------------


def patch_in(tree, patch):
    must(["patch", "-p1", "--batch", "--fuzz=0", "--no-backup-if-mismatch", "-i", patch],
         cwd=tree, what=f"applying {os.path.basename(patch)}")


def make_tree(env, fix, src, name, fixed):
    """A copy of @src with the series up to the fix (and the fix, if @fixed)."""
    tree = os.path.join(env.dir, name)
    shutil.copytree(src, tree, symlinks=True)
    names = series(src)
    expect(fix.patch in names, f"{fix.patch} is not in expat {fix.version}'s series")
    for p in names[:names.index(fix.patch) + (1 if fixed else 0)]:
        patch_in(tree, os.path.join(src, "debian", "patches", p))
    return tree


def build_lib(tree):
    """Builds libexpat in @tree; its path."""
    must(["sh", BUILD_SH], cwd=tree, what=f"building libexpat in {tree}")
    out = os.path.join(tree, "expat", "lib", ".libs")
    libs = sorted(f for f in os.listdir(out) if re.fullmatch(r"libexpat\.so\.\d+\.\d+\.\d+", f))
    expect(len(libs) == 1, f"one libexpat.so.X.Y.Z in {out}, found {libs}")
    return os.path.join(out, libs[0])


def build_probe(env, tree, libdir):
    exe = os.path.join(env.dir, "expat-probe")
    must(["cc", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-o", exe, PROBE_C, SERVER_C,
          "-I", os.path.join(tree, "expat", "lib"), "-L", libdir, "-lexpat"])
    return exe


# --- steps 3 to 5 ------------------------------------------------------------


def probe_req(fix, mode=None):
    return f"{mode or fix.probe[0]} {fix.probe[1]}"


def answers(v):
    return [v.ask(r) for r in SANITY]


def hp_build(env, fix, lib, tree, out):
    patch = os.path.join(tree, "debian", "patches", fix.patch)
    t0 = time.monotonic()
    r = env.hp("build", "--target", lib, "--source", tree, "--diff", patch,
               "--build", f"sh {BUILD_SH}", "--explain", "-o", out, check=False, timeout=1800)
    fix.row["build_s"] = round(time.monotonic() - t0, 1)
    print(f"$ hotpatch build ... --diff {fix.patch}\n-> exit {r.returncode} "
          f"in {fix.row['build_s']} s\n--- stdout\n{r.stdout}--- stderr\n{r.stderr}---")
    lines = [x for x in r.stderr.splitlines() if x.strip() and not PROGRESS.match(x)]
    fix.row["message"] = lines[-1] if lines else ""
    return r, lines


def check_refused(fix, r, lines, out, orig, before):
    expect_eq(r.returncode, 2, f"exit code of the refused build ({fix.row['message']})")
    expect(len(lines) == 1, f"the refusal is one line, got {len(lines)}: {lines}")
    if fix.refused:
        expect(re.search(rf"(?<!\w){re.escape(fix.refused)}(?!\w)", lines[0]),
               f"the refusal names {fix.refused}: {lines[0]!r}")
    else:
        expect("changes no code" in lines[0], f"the build says no code changed: {lines[0]!r}")
    expect(not os.path.exists(out), "a refused build leaves no bundle")
    expect_eq(orig.maps_objects(), [], "nothing is mapped into the process")
    expect_eq(answers(orig), before, "the process answers as before")
    fix.row["outcome"] = "refused" if fix.refused else "no code to patch"


def check_patched(env, fix, r, out, orig, before):
    expect_eq(r.returncode, 0, f"exit code of the build ({fix.row['message']})")
    fix.row["bundle_bytes"] = os.path.getsize(out)
    info = env.hp_json("info", out)
    fix.row["functions"] = len(info["functions"])
    key = trust_key(env)
    env.hp("sign", out, "-k", key)
    res = env.hp_json("apply", out, "--pid", orig.pid)
    expect_eq([p["result"] for p in res["processes"]], ["patched"], f"apply ({res})")
    expect(orig.maps_objects(), "the patch object is mapped in the process")
    for mode in ("fork", "run"):
        expect_eq(orig.ask(probe_req(fix, mode)), "pass", f"`{mode}` probe once patched")
    expect_eq(answers(orig), before, "ordinary parsing once patched")
    res = env.hp_json("revert", out, "--pid", orig.pid)
    expect_eq([p["result"] for p in res["processes"]], ["reverted"], f"revert ({res})")
    expect_eq(orig.maps_objects(), [], "the patch is unmapped after revert")
    after = orig.ask(probe_req(fix))
    expect(after != "pass", f"the probe fails again after revert, got {after!r}")
    expect_eq(answers(orig), before, "ordinary parsing after revert")
    expect(orig.alive(), "the process still runs")
    fix.row["outcome"] = "patched"


def run_fix(env, fix):
    src = fetch(fix.version)
    # The vulnerable tree stays as Debian's source is, for --source; the
    # target is built in a copy of it, the way a distribution builds.
    vuln = make_tree(env, fix, src, "vulnerable", fixed=False)
    built = os.path.join(env.dir, "target")
    shutil.copytree(vuln, built, symlinks=True)
    good = make_tree(env, fix, src, "fixed", fixed=True)
    lib = build_lib(built)
    good_lib = build_lib(good)
    exe = build_probe(env, vuln, os.path.dirname(lib))
    orig = env.victim(exe, lib_dir=os.path.dirname(lib))
    ref = env.victim(exe, lib_dir=os.path.dirname(good_lib))
    before = answers(orig)
    expect_eq(answers(ref), before, "the fixed build parses ordinary documents alike")
    if fix.probe:
        fix.row["before"] = orig.ask(probe_req(fix))
        expect(fix.row["before"] != "pass", "the probe fails on the vulnerable library")
        expect_eq(ref.ask(probe_req(fix)), "pass", "the probe on the fixed library")
        expect(orig.alive(), "a forked probe's crash leaves the process running")
    out = os.path.join(env.dir, "fix.hpb")
    r, lines = hp_build(env, fix, lib, vuln, out)
    if fix.expect == "patched":
        check_patched(env, fix, r, out, orig, before)
    else:
        check_refused(fix, r, lines, out, orig, before)


def shorten(msg, n=300):
    """The refusal, without the builder's full listing of a struct's layout."""
    msg = re.sub(r"\(([a-zA-Z_]\w*@\d+;)+[^)]*\)", "(...)", msg)
    return msg if len(msg) <= n else msg[:n] + "..."


def table(rows):
    head = ("| CVE | Debian | result | functions | build | bundle | probe before |\n"
            "|---|---|---|---|---|---|---|\n")
    body = ""
    for r in rows:
        size = f"{r['bundle_bytes'] / 1024:.0f} KiB" if "bundle_bytes" in r else "-"
        build = f"{r['build_s']} s" if "build_s" in r else "-"
        body += (f"| {r['cve']} | {r['version']} | {r.get('outcome', 'FAILED')} | "
                 f"{r.get('functions', '-')} | {build} | {size} | "
                 f"{r.get('before', '-')} |\n")
    reasons = "".join(f"- {r['cve']}: {shorten(r['message'])}\n" for r in rows
                      if r.get("outcome") in ("refused", "no code to patch"))
    return head + body + ("\nWhy not patched:\n" + reasons if reasons else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep", action="store_true", help="keep the work directories")
    ap.add_argument("--results", help="write the results table (markdown) to this file")
    ap.add_argument("cves", nargs="*", help="CVE ids (default: every fix)")
    args = ap.parse_args()
    fixes = [f for f in read_fixes() if not args.cves or f.cve in args.cves]
    expect(fixes, f"no such fix: {args.cves}")
    if os.geteuid() != 0:
        print("skipped: patching processes and fetching sources need root")
        return SKIP
    failed = 0
    for fix in fixes:
        env = Env(f"real-{fix.cve}")
        try:
            run_fix(env, fix)
            print(f"{fix.cve}: ok ({fix.row['outcome']})")
        except Failure as e:
            print(f"{fix.cve}: FAIL: {e}")
            failed += 1
        except Exception as e:  # a bug of the driver, or a crash: show it all
            import traceback
            traceback.print_exc()
            print(f"{fix.cve}: FAIL: {type(e).__name__}: {e}")
            failed += 1
        finally:
            if args.keep:
                for p in env.procs:
                    p.kill()
                    p.wait()
                print(f"{fix.cve}: kept {env.dir}")
            else:
                env.cleanup()
    text = table([f.row for f in fixes])
    print(text)
    if args.results:
        with open(args.results, "w") as f:
            f.write(text)
    print(f"{len(fixes) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
