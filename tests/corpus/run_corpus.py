#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The source-diff corpus: `hotpatch build --source DIR --diff FIX.patch`
against small C projects, each with an original tree and a fix.

    run_corpus.py [--self-check] [--keep] [CASE...]     (default: every case)

For each case (tests/corpus/README.md describes one):
  1. the original tree and a copy with fix.patch applied are built with
     `make`; the first gives the target, the second the expected behaviour;
  2. the original (two processes for a shared library case) and the fixed
     build run side by side, and answer the case's requests exactly as its
     `requests` file says;
  3. `hotpatch build --source --diff --explain` makes a bundle for the
     original target from the original tree;
  4. a -FAIL case must be refused (exit code 2, one line naming the symbol,
     no bundle, the tree and the processes untouched); any other is applied
     to the running originals, which must now answer exactly like the fixed
     build, and reverted, after which they answer like the original again.

--self-check stops after step 2: it proves the corpus itself right, without
hotpatch and without root.
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import Env, Failure, SKIP, expect, expect_eq  # noqa: E402

CORPUS = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.join(CORPUS, "common", "server.c")
PROGRAM = "server"  # what every case's Makefile builds, and what runs
# endbr64 + jmp rel32: a smaller function is redirected only over the
# alignment filler after it, and a case says so (`short`).
MIN_FUNC_SIZE = 9
# The builds must not depend on who runs them.
for var in ("CC", "CFLAGS", "CPPFLAGS", "LDFLAGS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
    os.environ.pop(var, None)


# How --explain says that @caller changed only because @callee, which the
# diff changed, is inlined into it. The wording is the builder's and is not
# settled: adjust this function, not the cases, when it changes.
def explain_says_inlined(explain, caller, callee):
    for line in explain.splitlines():
        if (mentions(line, caller) and mentions(line, callee)
                and re.search(r"inlin", line, re.IGNORECASE)):
            return True
    return False


# The lines `hotpatch build` writes on stderr while it works, which are not
# part of a refusal. The wording is the builder's: adjust it here.
PROGRESS = re.compile(r"^hotpatch: building .*(\.\.\.|: done in [0-9.]+ s)$")


def mentions(text, name):
    """@name appears in @text as a word (parse_len.isra.0 mentions parse_len;
    sessions does not mention session)."""
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text) is not None


class Case:
    """One directory of the corpus: src/, fix.patch, requests, case.conf."""

    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(CORPUS, name)
        self.src = os.path.join(self.dir, "src")
        self.patch = os.path.join(self.dir, "fix.patch")
        self.must_fail = name.endswith("-FAIL")
        conf = read_conf(os.path.join(self.dir, "case.conf"))
        self.target = conf.pop("target", PROGRAM)
        self.processes = int(conf.pop("processes", "1"))
        self.replaced = conf.pop("replaced", "").split()
        self.new = conf.pop("new", "").split()
        self.unchanged = conf.pop("unchanged", "").split()
        # Replaced functions shorter than the jump (redirected over the
        # alignment filler after them).
        self.short = conf.pop("short", "").split()
        self.inlined = [tuple(p.split(":", 1)) for p in conf.pop("inlined", "").split()]
        self.refused = conf.pop("refused", None)
        self.wrong_matcher = conf.pop("wrong_matcher", None)
        expect(not conf, f"{name}/case.conf: unknown keys {sorted(conf)}")
        expect(self.must_fail == (self.refused is not None),
               f"{name}/case.conf: a -FAIL case, and only one, says `refused = SYMBOL`")
        expect(all(len(p) == 2 for p in self.inlined),
               f"{name}/case.conf: inlined = CALLEE:CALLER ...")
        self.requests = read_requests(os.path.join(self.dir, "requests"))
        self.new_funcs = []  # the names in `new` that are functions (step 1 tells)


def read_conf(path):
    conf = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            key, eq, value = line.partition("=")
            if not eq:
                raise Failure(f"{path}:{n}: expected KEY = VALUE")
            conf[key.strip()] = value.strip()
    return conf


def read_requests(path):
    """[(request, original answer, fixed answer)], in order."""
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = [x.strip() for x in line.split("|")]
            if len(fields) != 3:
                raise Failure(f"{path}:{n}: expected REQUEST | ORIGINAL | FIXED")
            out.append(tuple(fields))
    expect(out, f"{path}: no requests")
    expect(any(o != x for _, o, x in out), f"{path}: no request tells the fix from the original")
    expect(any(o == x for _, o, x in out), f"{path}: no request answered alike by both")
    return out


def all_cases():
    return sorted(d for d in os.listdir(CORPUS)
                  if os.path.isfile(os.path.join(CORPUS, d, "fix.patch")))


def run(cmd, cwd=None, timeout=300):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def shown(r):
    return f"{' '.join(map(str, r.args))} exited {r.returncode}:\n{r.stdout}{r.stderr}"


# --- step 1: the trees -------------------------------------------------------


def make_tree(env, case, name, fixed):
    """A built copy of the case's tree (with fix.patch applied if @fixed)."""
    tree = os.path.join(env.dir, name)
    shutil.copytree(case.src, tree)
    shutil.copy(HARNESS, tree)
    if fixed:
        r = run(["patch", "-p1", "--batch", "--fuzz=0", "--no-backup-if-mismatch",
                 "-i", case.patch], cwd=tree)
        expect(r.returncode == 0, f"fix.patch does not apply: {shown(r)}")
        expect(not re.search(r"offset|fuzz", r.stdout),
               f"fix.patch applies only with an offset or fuzz: {r.stdout}")
    r = run(["make"], cwd=tree)
    expect(r.returncode == 0, f"{name} tree does not build: {shown(r)}")
    expect(not r.stderr.strip(), f"{name} tree builds with warnings:\n{r.stderr}")
    return tree


def symbols(path):
    """{name: (nm type letter, size)} of @path's .symtab."""
    r = run(["nm", "-S", "--defined-only", path])
    expect(r.returncode == 0, shown(r))
    syms = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4:
            syms[parts[3]] = (parts[2], int(parts[1], 16))
        elif len(parts) == 3:
            syms[parts[2]] = (parts[1], 0)
    return syms


def find(syms, name):
    """The symbols for @name: itself and its compiler clones (name.isra.0)."""
    return {s: v for s, v in syms.items() if s == name or s.startswith(name + ".")}


def check_symbols(case, orig_tree, fixed_tree):
    """The compiler did to the cases what case.conf says it did."""
    orig = symbols(os.path.join(orig_tree, case.target))
    fixed = symbols(os.path.join(fixed_tree, case.target))
    for name in case.replaced:
        found = find(orig, name)
        expect(found, f"replaced {name} is not a function of the original {case.target}")
        for s, (kind, size) in found.items():
            # W: a C++ inline function or template instance (weak)
            expect(kind in "tTW", f"replaced {s} is not a function (nm type {kind})")
            if name in case.short:
                expect(size < 5, f"short {s} is {size} bytes, not shorter than the jump")
            else:
                expect(size >= MIN_FUNC_SIZE, f"replaced {s} is too short to redirect ({size})")
    for name in case.new:
        expect(not find(orig, name), f"new {name} already is in the original {case.target}")
        found = find(fixed, name)
        expect(found, f"new {name} is not in the fixed {case.target}")
        if all(kind in "tT" for kind, _ in found.values()):
            case.new_funcs.append(name)
    for name in case.unchanged:
        expect(find(orig, name) and find(fixed, name), f"unchanged {name} is not in both builds")
    for callee, caller in case.inlined:
        expect(not find(orig, callee), f"{callee} has an out-of-line copy: not all inlined")
        expect(find(orig, caller), f"{caller}, which inlines {callee}, is not in the original")


# --- step 2: the answers -----------------------------------------------------


def start(env, tree):
    """The tree's server, running (it finds the tree's libcase.so first)."""
    return env.victim(os.path.join(tree, PROGRAM), lib_dir=tree)


def ask_all(v, case):
    return [v.ask(req) for req, _, _ in case.requests]


def expect_answers(got, case, want, what):
    """@got answers the case's requests like @want (a list, or a column of
    the requests file: 1 the original, 2 the fixed build)."""
    if isinstance(want, int):
        want = [r[want] for r in case.requests]
    bad = [f"  {r[0]!r}: expected {w!r}, got {g!r}"
           for r, w, g in zip(case.requests, want, got) if w != g]
    expect(not bad, f"{what}:\n" + "\n".join(bad))


# --- steps 3 and 4: hotpatch -------------------------------------------------


def snapshot(tree):
    """Every file of @tree: its bytes, mode and modification time."""
    out = {}
    for top, dirs, files in os.walk(tree):
        for name in dirs + files:
            path = os.path.join(top, name)
            st = os.lstat(path)
            digest = ""
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            out[os.path.relpath(path, tree)] = (digest, st.st_mode, st.st_mtime_ns)
    return out


def expect_untouched(tree, before):
    after = snapshot(tree)
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    expect(not changed, f"the --source tree was touched: {', '.join(changed)}")


def hp_build(env, case, tree, out):
    target = os.path.join(tree, case.target)
    r = env.hp("build", "--target", target, "--source", tree, "--diff", case.patch,
               "--explain", "-o", out, check=False, timeout=600)
    print(f"$ {' '.join(map(str, r.args))}\n-> exit {r.returncode}")
    print(f"--- stdout\n{r.stdout}--- stderr\n{r.stderr}---")
    return r


def check_refusal(env, case, r, out, origs, before):
    expect_eq(r.returncode, 2, f"exit code of the refused build ({shown(r)})")
    lines = [line for line in r.stderr.splitlines() if line.strip() and not PROGRESS.match(line)]
    expect(len(lines) == 1, f"the refusal is one line (besides progress), got {len(lines)}:\n"
           f"{r.stderr}")
    expect(mentions(lines[0], case.refused), f"the refusal names {case.refused}: {lines[0]!r}")
    expect(not os.path.exists(out), "a refused build leaves no bundle")
    for v in origs:
        expect_eq(v.maps_objects(), [], f"pid {v.pid} has nothing mapped")
        expect_answers(ask_all(v, case), case, before[v.pid], f"pid {v.pid} after the refusal")


def check_wrong_matcher(env, case, tree):
    """With the test-only matcher that takes objects compiled from same-named
    files in different directories for one, the completeness check must fail
    the build, naming the function left out, and write no bundle."""
    out = os.path.join(env.dir, "wrong.hpb")
    r = env.hp("build", "--target", os.path.join(tree, case.target), "--source", tree,
               "--diff", case.patch, "-o", out, check=False, timeout=600,
               env_vars={"HOTPATCH_TEST_MATCH_BY_BASENAME": "1"})
    expect(r.returncode != 0, f"a build that misses a change fails ({shown(r)})")
    expect("completeness check" in r.stderr and mentions(r.stderr, case.wrong_matcher),
           f"the failure names {case.wrong_matcher}:\n{r.stderr}")
    expect(not os.path.exists(out), "no bundle is written")


def check_explain(case, explain):
    for name in case.replaced + case.new_funcs:
        expect(mentions(explain, name), f"--explain names {name}:\n{explain}")
    for callee, caller in case.inlined:
        expect(explain_says_inlined(explain, caller, callee),
               f"--explain says {caller} changed by inlining {callee}:\n{explain}")


def check_verdict(info, case):
    """The completeness check's counts travel in the bundle as numbers, the
    same ones --explain gives in words, and a bundle it passed refuses
    nothing."""
    funcs, objs = info["completeness"]["functions"], info["completeness"]["objects"]
    m = re.search(r"completeness check: (\d+) functions compared, (\d+) differ: (\d+) "
                  r"replaced.*?; (\d+) data objects compared, (\d+) differ", info["explain"])
    expect(m is not None, f"the explanation gives the counts:\n{info['explain']}")
    expect_eq([funcs["compared"], funcs["differ"], funcs["replaced"], objs["compared"],
               objs["differ"]], [int(g) for g in m.groups()],
              "info --json's counts are --explain's")
    expect(funcs["replaced"] >= len(case.replaced),
           f"the check saw the replaced functions differ: {funcs}")
    expect_eq(funcs["differ"], funcs["replaced"] + funcs["inlined"] + funcs["cold"]
              + funcs["benign"] + funcs["refused"], "every function that differs is accounted")
    expect_eq(info["refusals"], [], "a bundle the check passed refuses nothing")
    expect_eq([(f["name"], f["verdict"], f["reason"]) for f in info["fixes"]],
              [("fix.patch", "live", None)], "the diff is the one fix, live")


def check_bundle(env, case, out):
    info = env.hp_json("info", out)
    check_verdict(info, case)
    funcs = [f["name"] for f in info["functions"]]
    for name in case.replaced:
        expect(any(f == name or f.startswith(name + ".") for f in funcs),
               f"the bundle replaces {name} (it replaces {funcs})")
    for name in case.unchanged:
        expect(not any(f == name or f.startswith(name + ".") for f in funcs),
               f"the bundle leaves unchanged {name} alone (it replaces {funcs})")


def apply_and_revert(env, case, out, origs, ref, before, want):
    pids = sorted(v.pid for v in origs)
    which = ["--all"] if case.processes > 1 else ["--pid", *pids]
    r = env.hp_json("apply", out, *which, "--insecure")
    patched = sorted(p["pid"] for p in r["processes"] if p["result"] == "patched")
    expect_eq(patched, pids, f"processes patched ({r})")
    for v in origs:
        expect_answers(ask_all(v, case), case, want, f"pid {v.pid} once patched (vs the fixed build)")
    expect_eq(ref.maps_objects(), [], "the fixed build, another build-id, is untouched")
    r = env.hp_json("revert", out, *which)
    reverted = sorted(p["pid"] for p in r["processes"] if p["result"] == "reverted")
    expect_eq(reverted, pids, f"processes reverted ({r})")
    for v in origs:
        expect_eq(v.maps_objects(), [], f"pid {v.pid} has the patch unmapped")
        expect_answers(ask_all(v, case), case, before[v.pid], f"pid {v.pid} once reverted")
        expect(v.alive(), f"pid {v.pid} still runs")


# --- one case ----------------------------------------------------------------


def run_case(env, case, self_check):
    orig = make_tree(env, case, "orig", fixed=False)
    fixed = make_tree(env, case, "fixed", fixed=True)
    check_symbols(case, orig, fixed)
    origs = [start(env, orig) for _ in range(case.processes)]
    ref = start(env, fixed)
    before = {}
    for v in origs:
        before[v.pid] = ask_all(v, case)
        expect_answers(before[v.pid], case, 1, f"the original (pid {v.pid})")
        # It is asked again after revert: its answers must not depend on
        # what it was asked before.
        expect_answers(ask_all(v, case), case, 1, f"the original (pid {v.pid}), asked again")
    want = ask_all(ref, case)
    expect_answers(want, case, 2, "the fixed build")
    if self_check:
        return
    tree = snapshot(orig)
    out = os.path.join(env.dir, "case.hpb")
    r = hp_build(env, case, orig, out)
    expect_untouched(orig, tree)
    if case.must_fail:
        check_refusal(env, case, r, out, origs, before)
        return
    expect_eq(r.returncode, 0, f"exit code of the build ({shown(r)})")
    check_explain(case, r.stdout)
    check_bundle(env, case, out)
    apply_and_revert(env, case, out, origs, ref, before, want)
    if case.wrong_matcher:
        check_wrong_matcher(env, case, orig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--self-check", action="store_true",
                    help="only build both trees and compare their answers (no hotpatch)")
    ap.add_argument("--keep", action="store_true", help="keep the work directories")
    ap.add_argument("--list", action="store_true", help="list the cases")
    ap.add_argument("--expect-all", action="store_true",
                    help="fail unless CASE... are all the corpus's cases (meson's list is whole)")
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    args = ap.parse_args()
    names = args.cases or all_cases()
    if args.expect_all and sorted(names) != all_cases():
        print(f"FAIL: the cases given are not the corpus's: {sorted(set(names) ^ set(all_cases()))}")
        return 1
    if args.list:
        print("\n".join(names))
        return 0
    if not args.self_check and os.geteuid() != 0:
        print("skipped: the corpus needs root (ptrace of other processes); "
              "--self-check does not")
        return SKIP
    failed = 0
    for name in names:
        env = Env(f"corpus-{name}")
        try:
            run_case(env, Case(name), args.self_check)
            print(f"{name}: ok")
        except Failure as e:
            print(f"{name}: FAIL: {e}")
            failed += 1
        except Exception as e:  # a bug of the driver, or a crash: show it all
            import traceback
            traceback.print_exc()
            print(f"{name}: FAIL: {type(e).__name__}: {e}")
            failed += 1
        finally:
            if args.keep:
                for p in env.procs:
                    p.kill()
                    p.wait()
                print(f"{name}: kept {env.dir}")
            else:
                env.cleanup()
    if len(names) > 1:
        print(f"{len(names) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
