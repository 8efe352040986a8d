#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The survey: `hotpatch build --upgrade-to` on Debian's own security updates.

For each source package of `packages` (in order), the older version (the one
in bookworm) is installed in a debootstrapped root, and for every ELF file
its listed binary packages ship, a live patch is built to the version in
bookworm-security, with --explain. Each fix's verdict on each file becomes a
row of results.json (one object per fix and file); a file whose build fails
before any verdict gets one build-failed row. A bundle is applied once to a
process in the root that uses the file (a library: a holder that dlopen()s
it), for the pause. The build is then run again on the cache, for the cached
time. README.md's table is made from results.json (--table).

Resumable: a file already in results.json is skipped (--redo builds it
again), and everything downloaded or built stays under the cache
(survey_common.CACHE). Builds run one at a time, under nice 19 and ionice
idle. With --commit, results.json, the table and the explain texts are
committed after each package.

Run as root, from a built tree:
  python3 tests/real/survey/survey.py [--commit] [--redo] [--no-cached] [PACKAGE...]
  python3 tests/real/survey/survey.py --recheck PACKAGE...  # today's builder, cached builds
  python3 tests/real/survey/survey.py --prove PACKAGE...    # only the reproducer (repro/PKG.c)
  python3 tests/real/survey/survey.py --table
"""
import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from survey_common import CACHE, apt_env, apt_update, sources_versions  # noqa: E402

os.environ.setdefault("HOTPATCH_CACHE", CACHE)
os.environ.setdefault("HOTPATCH_REAL_DIR", os.path.join(CACHE, "real"))
sys.path.insert(0, os.path.dirname(HERE))
import upgrade_common as uc  # noqa: E402

RESULTS = os.path.join(HERE, "results.json")
EXPLAIN = os.path.join(HERE, "explain")
README = os.path.join(HERE, "README.md")
TIMEOUT = int(os.environ.get("HOTPATCH_SURVEY_TIMEOUT", "5400"))
HOLDER = "/usr/local/bin/hp-survey-holder"
REPRO = os.path.join(HERE, "repro")
VERDICTS = {
    "in the live patch": "live",
    "in the live patch only in part, so not counted as live": "refused",
    "refused": "refused",
    "not in this file": "not-in-file",
    "no code change in this file": "no-code-change",
}


def store_rows(results, pkg, target, rows):
    """@rows replace those of @pkg's @target in results.json as it is on
    disk now (another run, a --prove say, may have written it since this
    one read it), and in @results."""
    rows_now = [r for r in load_results() if not (r["package"] == pkg and r["file"] == target)]
    results[:] = rows_now + rows
    save_results(results)


def load_packages():
    pkgs = []
    with open(os.path.join(HERE, "packages")) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if not line:
                continue
            words, _, extra = line.partition(" -- ")
            src, bins = words.split()[:2]
            pkgs.append({"source": src, "bins": bins.split(","), "extra": extra.split()})
    return pkgs


def load_results():
    if os.path.exists(RESULTS):
        with open(RESULTS) as f:
            return json.load(f)
    return []


def save_results(rows):
    rows.sort(key=lambda r: (r["package"], r["file"], r.get("fix", "")))
    with open(RESULTS + ".tmp", "w") as f:
        json.dump(rows, f, indent=1)
        f.write("\n")
    os.rename(RESULTS + ".tmp", RESULTS)


def binary_version(binary, source_version):
    """The version of @binary built from @source_version (a binNMU adds +bN)."""
    out = subprocess.run(["apt-cache", *apt_env(), "madison", binary], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        v = line.split("|")[1].strip()
        if v == source_version or re.fullmatch(re.escape(source_version) + r"\+b\d+", v):
            return v
    raise uc.Failure(f"no {binary} of source version {source_version} in the archive")


def elf_targets(root, bins):
    """Every regular ELF file the installed @bins ship (not debug files)."""
    files = []
    for b in bins:
        for name in (f"{b}:amd64.list", f"{b}.list"):
            path = os.path.join(root, "var/lib/dpkg/info", name)
            if os.path.exists(path):
                break
        else:
            raise uc.Failure(f"{b} is not installed in {root}")
        for f in open(path).read().split("\n"):
            full = root + f
            if not f or f.startswith("/usr/lib/debug/") or os.path.islink(full) or \
                    not os.path.isfile(full):
                continue
            with open(full, "rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    files.append(f)
    return files


def install_holder(root):
    dst = root + HOLDER
    if not os.path.exists(dst):
        subprocess.run(["gcc", "-O2", "-o", dst, os.path.join(HERE, "holder.c")], check=True)


def run_build(target, root, version, out, extra):
    """hotpatch build --upgrade-to, in its own process group (a timeout ends
    the whole build). Returns (exit code, stdout, stderr, seconds)."""
    cmd = [uc.HOTPATCH, "build", "--target", target, "--sysroot", root, "--upgrade-to",
           version, "--explain", "-o", out, "--cache", CACHE, *extra]
    uc.say(" ".join(cmd))
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        so, se = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        so, se = p.communicate()
        se += f"\nsurvey: the build took more than {TIMEOUT} s and was stopped\n"
    return p.returncode, so, se, time.time() - t0


COUNTS = re.compile(
    r"completeness check: (\d+) functions compared, (\d+) differ: (\d+) replaced, (\d+) cold "
    r"parts of replaced ones, (\d+) inlined into replaced ones, (\d+) benign \(only __LINE__ "
    r"moved\); (\d+) data objects compared, (\d+) differ: (\d+) carried, (\d+) benign "
    r"\(version strings\); (\d+) only in the fixed build(?:; (\d+) unaccounted for, refused)?")
COUNT_KEYS = ["functions", "functions_differ", "replaced", "cold", "inlined", "benign_lines",
              "objects", "objects_differ", "carried", "benign_version", "only_new",
              "unaccounted"]


def completeness(text):
    m = None
    for m in COUNTS.finditer(text):
        pass  # the last one: the check of the bundle that was written
    if not m:
        return None
    return {k: int(v or 0) for k, v in zip(COUNT_KEYS, m.groups())}


def error_line(stderr):
    lines = [l for l in stderr.splitlines() if l.startswith(("hotpatch:", "survey:"))]
    return lines[-1] if lines else (stderr.strip().splitlines() or ["(no message)"])[-1]


def classify(text):
    """The class of a builder refusal or failure, for the table."""
    classes = [
        (r"no group info|COMDAT|section group", "C++ COMDAT"),
        (r"\blto\b|LTO|gnu_lto", "LTO"),
        (r"layout of struct|struct-layout", "struct layout"),
        (r"twin check: refused|does not reproduce", "twin does not reproduce"),
        (r"shorter than|too short", "function shorter than a jump"),
        (r"completeness check", "completeness check"),
        (r"IFUNC|assembly", "assembly / IFUNC"),
        (r"existing data|existing-data|initialised data|changes the value", "existing data"),
        (r"thread-local", "thread-local"),
        (r"dpkg-buildpackage|build-dep|make\b.*Error", "package build"),
        (r"more than \d+ s", "timeout"),
        (r"no longer has that version", "sources missing on the mirror"),
    ]
    for pat, name in classes:
        if re.search(pat, text):
            return name
    return ""


def pause_of(root, target, bundle):
    """Apply @bundle once to a process in @root using @target; the pause in
    µs, or None when no process of the file can be run without setting up
    a service (executables)."""
    if ".so" not in os.path.basename(target):
        return None
    install_holder(root)
    p = subprocess.Popen(["chroot", root, HOLDER, target], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().strip()
        uc.expect(line == "ready", f"the holder loads {target}: {line!r}")
        res = uc.Store().apply(bundle, p.pid)
        return res.get("pause_us")
    finally:
        p.kill()
        p.wait()


def repro_header(path):
    """The `fixes:`, `libs:`, `fixed-package:` and `files:` lines of a
    reproducer's header comment, each a list of words."""
    head = {}
    with open(path) as f:
        for line in f.readlines()[:20]:
            m = re.match(r"\s*(?:/?\*)?\s*(fixes|libs|fixed-package|files):\s*(.*)", line)
            if m:
                head[m.group(1)] = m.group(2).split()
    return head


def run_repro(root, exe, bundle=None, env=()):
    """Runs the reproducer @exe in @root (with @bundle applied while it
    waits for its go): "fixed" when it says so, else how it ended."""
    p = subprocess.Popen(["chroot", root, "env", *env, exe], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().strip()
        uc.expect(line == "ready", f"the reproducer {exe} starts: {line!r}")
        if bundle:
            uc.Store().apply(bundle, p.pid)
        so, _ = p.communicate("go\n", timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    if p.returncode == 0 and so.strip() == "fixed":
        return "fixed"
    if p.returncode < 0:
        return f"vulnerable (killed by {signal.Signals(-p.returncode).name})"
    return f"vulnerable (exit {p.returncode})"


def install_fixed(root, binaries, version, soname):
    """Unpacks the security version of @binaries under /opt/hp-fixed in
    @root; the directory (in the root) that holds @soname."""
    debs = os.path.join(CACHE, "fixed-debs")
    os.makedirs(debs, exist_ok=True)
    for binary in binaries:
        ver = binary_version(binary, version)
        deb = os.path.join(debs, f"{binary}_{ver.replace(':', '%3a')}_amd64.deb")
        if not os.path.exists(deb):
            subprocess.run(["apt-get", *apt_env(), "-q", "download", f"{binary}={ver}"],
                           cwd=debs, check=True, stdout=subprocess.DEVNULL)
        dest = os.path.join(root, "opt/hp-fixed", binary)
        os.makedirs(dest, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", deb, dest], check=True)
        for d, _, files in os.walk(dest):
            if soname in files:
                return d[len(root):]
    raise uc.Failure(f"{' '.join(binaries)} {version} ship no {soname}")


def reproducers(pkg, target):
    """repro/PKG.c and repro/PKG-*.c that apply to @target (a library; a
    header's `files:` names the only files it applies to)."""
    if ".so" not in os.path.basename(target):
        return []
    srcs = sorted(glob.glob(os.path.join(REPRO, f"{pkg}.c")) +
                  glob.glob(os.path.join(REPRO, f"{pkg}-*.c")))
    return [s for s in srcs
            if os.path.basename(target) in repro_header(s).get("files", [os.path.basename(target)])]


def prove(pkg, new, root, target, bundle, rows):
    """Runs each reproducer of @target (reproducers()) against the older
    library, the security version's and the older one live-patched with
    @bundle; sets `proof` of the rows of the fixes its header names: passed
    when the older one is vulnerable, the fixed one not, and the
    live-patched one behaves as its verdict says (fixed when live, as the
    older otherwise)."""
    for src in reproducers(pkg, target):
        head = repro_header(src)
        name = os.path.basename(src)
        exe = f"/usr/local/bin/hp-repro-{name[:-2]}"
        # {libdir} and {file}: the root's own copy of the library surveyed
        libs = [w.format(libdir=root + os.path.dirname(target), file=os.path.basename(target))
                for w in head.get("libs", [])]
        subprocess.run(["gcc", "-O2", "-o", root + exe, src, *libs], check=True)
        fixed_dir = install_fixed(root, head["fixed-package"], new, os.path.basename(target))
        old = run_repro(root, exe)
        fixed = run_repro(root, exe, env=[f"LD_LIBRARY_PATH={fixed_dir}"])
        has_bundle = os.path.exists(bundle)
        patched = run_repro(root, exe, bundle if has_bundle else None)
        for r in rows:
            if r.get("fix") not in head.get("fixes", []):
                continue
            want = "fixed" if r["verdict"] == "live" else old
            ok = old != "fixed" and fixed == "fixed" and patched == want
            r["proof"] = "passed" if ok else "failed"
            r["proof_how"] = (f"repro/{name}: older library {old}, security version's {fixed}, "
                              f"older {'live-patched' if has_bundle else '(no bundle)'} "
                              f"{patched}")
            uc.say(f"{pkg} {r['fix']}: proof {r['proof']}: {r['proof_how']}")


def rows_for(pkg, old, new, target, rc, so, se, took, bundle):
    fixes = uc.parse_fixes(so)
    base = {"package": pkg, "from": old, "to": new, "file": target,
            "twin": uc.twin_verdict(so), "fixed_file": uc.fixed_verdict(so),
            "completeness": completeness(so), "build_cold_s": round(took, 1),
            "bundle_bytes": os.path.getsize(bundle) if rc == 0 and os.path.exists(bundle)
            else None, "proof": "none"}
    failed = rc != 0 and "nothing to patch" not in se
    if not fixes:
        msg = error_line(se)
        return [dict(base, fix="-", cves=[], verdict="build-failed", reason=msg,
                     functions=[], **{"class": classify(se + so)})]
    rows = []
    for name, f in fixes.items():
        verdict = VERDICTS[f["verdict"]]
        reason = f["reason"]
        if f["verdict"].startswith("in the live patch only in part"):
            reason = "only in part, not counted as live: " + reason
        if failed and verdict == "live":
            verdict, reason = "build-failed", error_line(se)
        cls = classify(reason) if verdict in ("refused", "build-failed") else ""
        rows.append(dict(base, fix=name, cves=f["cves"], verdict=verdict, reason=reason,
                         functions=f["functions"], **{"class": cls}))
    return rows


def load_proofs():
    """(package, fix) -> (proof, how), from the file `proofs`."""
    proofs = {}
    with open(os.path.join(HERE, "proofs")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                pkg, fix, proof, how = [w.strip() for w in line.split("|", 3)]
                proofs[(pkg, fix)] = (proof, how)
    return proofs


def with_proofs(rows):
    proofs = load_proofs()
    for r in rows:
        if (r["package"], r.get("fix")) in proofs:
            r["proof"], r["proof_how"] = proofs[(r["package"], r["fix"])]
    return rows


def survey_file(pkg, old, new, root, target, extra, results, cached, recheck=False):
    out = os.path.join(CACHE, "bundles", f"{pkg}_{new}_{os.path.basename(target)}.hpb")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    if os.path.exists(out):
        os.unlink(out)
    rc, so, se, took = run_build(target, root, new, out, extra)
    os.makedirs(EXPLAIN, exist_ok=True)
    with open(os.path.join(EXPLAIN, f"{pkg}_{os.path.basename(target)}.txt"), "w") as f:
        f.write(f"$ hotpatch build --target {target} --upgrade-to {new} --explain\n"
                f"exit {rc}, {took:.0f} s\n{so}\n--- stderr (last 40 lines)\n")
        f.write("\n".join(se.splitlines()[-40:]) + "\n")
    rows = rows_for(pkg, old, new, target, rc, so, se, took, out)
    if recheck:
        # the verdicts of today's builder, on the builds the first run left
        # in the cache: its cold time stands, this one is a cached time
        prev = [r["build_cold_s"] for r in results
                if r["package"] == pkg and r["file"] == target and r.get("build_cold_s")]
        for r in rows:
            r["build_cold_s"], r["build_cached_s"] = (max(prev) if prev else None), round(took, 1)
            r["rechecked"] = time.strftime("%Y-%m-%d")
        cached = False
    if rc == 0 and os.path.exists(out):
        try:
            pause = pause_of(root, target, out)
        except uc.Failure as e:
            pause = None
            uc.say(f"no pause measured: {e}")
        for r in rows:
            r["pause_us"] = pause
    prove(pkg, new, root, target, out, rows)
    if cached:
        out2 = out + ".cached"
        rc2, _, se2, took2 = run_build(target, root, new, out2, extra)
        for r in rows:
            r["build_cached_s"] = round(took2, 1) if rc2 == rc else None
        if os.path.exists(out2):
            os.unlink(out2)
    store_rows(results, pkg, target, with_proofs(rows))
    for r in rows:
        uc.say(f"{pkg} {os.path.basename(target)} {r['fix']}: {r['verdict']} {r['reason']}")


def survey_package(p, versions, results, redo, cached, recheck):
    src = p["source"]
    old, new = versions[0].get(src), versions[1].get(src)
    uc.expect(old and new, f"{src}: not in both bookworm and bookworm-security")
    pins = [f"{b}={binary_version(b, old)}" for b in p["bins"]]
    root = uc.make_root(f"{src}-root", pins)
    targets = elf_targets(root, p["bins"])
    uc.expect(targets, f"{src}: {' '.join(p['bins'])} ship no ELF file")
    for t in targets:
        done = [r for r in results if r["package"] == src and r["file"] == t and r["to"] == new]
        if done and not redo and not recheck:
            uc.say(f"{src} {t}: done before, kept")
            continue
        survey_file(src, old, new, root, t, p["extra"], results, cached, recheck and done)


def prove_again(p, results):
    """--prove: the reproducer of @p run again on the bundles its last
    survey run left (no build)."""
    src = p["source"]
    root = os.path.join(uc.WORK, f"{src}-root")
    for target in sorted({r["file"] for r in results if r["package"] == src}):
        rows = [r for r in results if r["package"] == src and r["file"] == target]
        new = rows[0]["to"]
        out = os.path.join(CACHE, "bundles", f"{src}_{new}_{os.path.basename(target)}.hpb")
        prove(src, new, root, target, out, rows)
        store_rows(results, src, target, rows)


def commit(src):
    write_table(load_results())
    paths = [RESULTS, README, EXPLAIN]
    subprocess.run(["git", "-C", HERE, "add", *paths], check=True)
    subprocess.run(["git", "-C", HERE, "commit", "-q", "-m",
                    f"tests/real/survey: {src}, the survey's rows and table", "--", *paths])


TABLE_BEGIN = "<!-- survey table: made by survey.py --table from results.json -->"
TABLE_END = "<!-- end of survey table -->"


def fmt_counts(c):
    if not c:
        return "-"
    s = f"{c['functions']} fn, {c['functions_differ']} differ: {c['replaced']} replaced"
    if c["inlined"]:
        s += f", {c['inlined']} inlined"
    if c["benign_lines"]:
        s += f", {c['benign_lines']} benign"
    if c["unaccounted"]:
        s += f", {c['unaccounted']} unaccounted"
    return s


def cell(v, unit=""):
    return "-" if v is None else f"{v}{unit}"


def write_table(rows):
    lines = [TABLE_BEGIN, "",
             "| package | from → to | file | fix | CVEs | verdict | reason | proof | "
             "completeness | build cold / cached | bundle | pause |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        size = f"{r['bundle_bytes'] // 1024} KiB" if r.get("bundle_bytes") else "-"
        reason = (r["reason"] or "").replace("|", "\\|")
        if len(reason) > 160:
            reason = reason[:157] + "..."
        if r.get("class"):
            reason = f"[{r['class']}] {reason}"
        lines.append(
            f"| {r['package']} | {r['from']} → {r['to']} | {os.path.basename(r['file'])} | "
            f"{r.get('fix', '-')} | {', '.join(r['cves']) or '-'} | {r['verdict']} | "
            f"{reason or '-'} | {r['proof']} | {fmt_counts(r.get('completeness'))} | "
            f"{cell(r.get('build_cold_s'), ' s')} / {cell(r.get('build_cached_s'), ' s')} | "
            f"{size} | {cell(r.get('pause_us'), ' µs')} |")
    lines += ["", summary(rows), "", TABLE_END]
    text = open(README).read() if os.path.exists(README) else ""
    if TABLE_BEGIN in text:
        head, _, rest = text.partition(TABLE_BEGIN)
        _, _, tail = rest.partition(TABLE_END)
        text = head + "\n".join(lines) + tail
    else:
        text += "\n" + "\n".join(lines) + "\n"
    with open(README, "w") as f:
        f.write(text)


def summary(rows):
    pkgs = sorted({r["package"] for r in rows})
    by = {}
    for r in rows:
        by[r["verdict"]] = by.get(r["verdict"], 0) + 1
    classes = {}
    for r in rows:
        if r["verdict"] in ("refused", "build-failed"):
            k = r.get("class") or "other"
            classes[k] = classes.get(k, 0) + 1
    return (f"{len(pkgs)} packages, {len(rows)} rows (fix × file): " +
            ", ".join(f"{v} {k}" for k, v in sorted(by.items())) +
            (". Refused or failed, by class: " +
             ", ".join(f"{k} {v}" for k, v in sorted(classes.items())) if classes else "") +
            ".")


def main():
    args = sys.argv[1:]
    if "--table" in args:
        rows = with_proofs(load_results())
        save_results(rows)
        write_table(rows)
        return
    # every build nice and idle for I/O: the machine is shared
    os.nice(19 - os.nice(0))
    subprocess.run(["ionice", "-c3", "-p", str(os.getpid())], check=True)
    redo, cached, do_commit = "--redo" in args, "--no-cached" not in args, "--commit" in args
    recheck, reprove = "--recheck" in args, "--prove" in args
    only = [a for a in args if not a.startswith("--")]
    if not os.path.exists(os.path.join(CACHE, "candidates-apt/lists/lock")):
        apt_update()
    versions = (sources_versions("bookworm"), sources_versions("bookworm-security"))
    results = load_results()
    failed = 0
    for p in load_packages():
        if only and p["source"] not in only:
            continue
        try:
            if reprove:
                prove_again(p, results)
            else:
                survey_package(p, versions, results, redo, cached, recheck)
        except (uc.Failure, subprocess.CalledProcessError) as e:
            failed += 1
            uc.say(f"{p['source']}: {e}")
        if do_commit:
            commit(p["source"])
    results = load_results()
    write_table(results)
    print(summary(results))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
