# SPDX-License-Identifier: MIT
"""Shared steps of the tests/real/upgrade_*.py scripts: a debootstrapped
root with the older binary version installed, `hotpatch build --upgrade-to`
against a file of it, the per-fix verdicts it reports, applying the bundle
to running processes from the host, and the summary row for the table.

Environment: HOTPATCH (the binary; default build/src/cli/hotpatch of this
tree), HOTPATCH_REAL_DIR (roots and outputs; default /var/tmp/hotpatch-real),
HOTPATCH_CACHE (sources, build roots and builds; default hotpatch's own,
/var/cache/hotpatch). Needs root, mmdebstrap and the Debian mirror.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HOTPATCH = os.environ.get("HOTPATCH", os.path.join(HERE, "../../build/src/cli/hotpatch"))
WORK = os.environ.get("HOTPATCH_REAL_DIR", "/var/tmp/hotpatch-real")
MIRRORS = ["deb http://deb.debian.org/debian bookworm main",
           "deb http://deb.debian.org/debian-security bookworm-security main"]


class Failure(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Failure(msg)


def say(msg):
    print(f"== {msg}", flush=True)


def make_root(name, packages):
    """A bookworm root with @packages (name=version) installed; made once."""
    root = os.path.join(WORK, name)
    if os.path.exists(os.path.join(root, "var/lib/dpkg/status")):
        return root
    os.makedirs(WORK, exist_ok=True)
    say(f"mmdebstrap {name}: {' '.join(packages)}")
    subprocess.run(["rm", "-rf", root + ".tmp"], check=True)
    # a library every root has (liblzma5, libzstd1, zlib1g) is installed
    # first in its newest version: the older one is then a downgrade
    subprocess.run(["mmdebstrap", "--variant=apt", "--include=" + ",".join(packages),
                    "--aptopt=APT::Get::allow-downgrades \"true\"",
                    "bookworm", root + ".tmp", *MIRRORS], check=True,
                   stdout=subprocess.DEVNULL)
    os.rename(root + ".tmp", root)
    return root


def parse_fixes(text):
    """Per-fix verdicts from --explain: name -> {verdict, reason, cves, functions}."""
    fixes = {}
    cur = None
    for line in text.splitlines():
        # names may hold ": " (a part of a split patch: "git-updates.diff: posix/wordexp.c")
        m = re.match(r"fix (.+?): (in the live patch only in part, so not counted as live|"
                     r"in the live patch|refused|not in this file|"
                     r"no code change in this file)(?: \((.*)\))?$", line)
        if m:
            cur = fixes[m.group(1)] = {"verdict": m.group(2), "reason": m.group(3) or "",
                                       "cves": [], "functions": []}
        elif cur is not None and line.startswith("  cves:"):
            cur["cves"] = [c for c in line.split()[1:] if c != "none"]
        elif cur is not None and line.startswith("  functions:"):
            cur["functions"] = [f.rstrip("()") for f in line.split()[1:] if f != "none"]
    return fixes


def build(target, sysroot, version, out, extra=()):
    """hotpatch build --upgrade-to; returns (exit code, explain text, stderr, seconds)."""
    cmd = [HOTPATCH, "build", "--target", target, "--sysroot", sysroot, "--upgrade-to",
           version, "--explain", "-o", out, *extra]
    if os.environ.get("HOTPATCH_CACHE"):
        cmd += ["--cache", os.environ["HOTPATCH_CACHE"]]
    say(" ".join(cmd))
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    took = time.time() - t0
    sys.stderr.write(r.stderr)
    print(r.stdout, flush=True)
    return r.returncode, r.stdout, r.stderr, took


def twin_verdict(text):
    m = re.search(r"twin check: (exact|code-identical|refused)", text)
    return m.group(1) if m else "?"


def fixed_verdict(text):
    """What the bundle's fixed file is: "Debian's (exact)", or "none"."""
    m = re.search(r"fixed file: Debian's \S+ \S+ itself, .*?\((exact|code-identical)", text)
    if m:
        return f"Debian's ({m.group(1)})"
    return "none" if "fixed file: none" in text else "?"


class Store:
    """A private hotpatch root for applying bundles from the host."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="hp-real-")

    def hp(self, *args, check=True):
        r = subprocess.run([HOTPATCH, "--root", self.root, *map(str, args)],
                           capture_output=True, text=True)
        if check and r.returncode != 0:
            raise Failure(f"hotpatch {' '.join(map(str, args))}: {r.stdout}{r.stderr}")
        return r

    def apply(self, bundle, pid):
        r = self.hp("apply", bundle, "--pid", pid, "--insecure", "--json")
        res = json.loads(r.stdout)["processes"][0]
        expect(res["result"] == "patched", f"apply to {pid}: {res}")
        return res


def table_row(package, old, new, fixes, twin, took, size, fixed="-"):
    cves = sorted({c for f in fixes.values() for c in f["cves"]})
    inpatch = [n for n, f in fixes.items() if f["verdict"] == "in the live patch"]
    others = {n: f"{f['verdict']}: {f['reason']}" for n, f in fixes.items()
              if f["verdict"] != "in the live patch"}
    print("\n| package | versions | fixes (CVEs) | live-patched, no hand edits | "
          "refused / not in file | twin | fixed file | build time | patch size |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {package} | {old} -> {new} | {len(fixes)} ({', '.join(cves)}) | "
          f"{len(inpatch)}: {', '.join(inpatch) or '-'} | "
          f"{'; '.join(f'{k}: {v}' for k, v in others.items()) or '-'} | {twin} | {fixed} | "
          f"{took:.0f} s | {size} |")
