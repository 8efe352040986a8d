#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The benchmark suite of hotpatch (issue 5). Run it through bench/run.sh.

  1. pause   the stop-the-world time of one apply and one revert, against the
             floor (stop and release the same threads, doing nothing)
  2. whole   end-to-end wall time of `hotpatch apply` for one process, and
             of `apply --all` / `revert --all` over 100 and 1000 processes
  3. calls   ns per call of a patched function, and of one never patched
  4. memory  the extra memory of a patched process, and what of it is shared
  5. loaded  the pause with idle, spinning and half-busy threads next to CPU
             hogs, boost on and off, against the plain stop; and redis-server's
             p99 latency under redis-benchmark during apply/revert cycles
             (loaded.py)
  7. blocked the pause with 64 and 1024 threads blocked in the kernel, a
             thread-per-connection server of 1000 threads, and one apply with
             the state on disk and on tmpfs (blocked.py; --only blocked)

Everything runs against real processes with the real hotpatch binary, in a
private --root; every process started here is killed on the way out (and
the targets also die with this driver). bench/README.md explains the tables.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

import blocked
import loaded
import procmem
import report
from runner import BIN, BUILD, SRC, Runner, log, run_floor, snapshot_binaries, unique_copy
from stats import median_diff_ci, summary

RESULTS = os.path.join(SRC, "bench/results")

# (threads, functions) of the pause benchmark; 64 x 10 is the headline cell.
PAUSE_CELLS = [(1, 1), (1, 10), (1, 100), (16, 1), (16, 10), (16, 100), (64, 10),
               (256, 1), (256, 10), (256, 100), (1024, 1), (1024, 10), (1024, 100)]
ALL_FUNCS = 10  # functions of the patch used for --all and the 1000-process memory

FULL = dict(cycles=200, floor_iters=400, all_runs={100: 10, 1000: 3},
            call_cycles=10, call_requests=12, call_n=20_000_000,
            # 5. loaded: each run of hotpatch shares the CPUs with the busy
            # threads, so 256 of them get fewer cycles (p99 is then the max).
            loaded_threads=(4, 16, 64, 256),
            loaded_cycles={4: 100, 16: 100, 64: 100, 256: 20},
            loaded_floor={4: 100, 16: 100, 64: 100, 256: 40},
            redis_block_s=4, redis_min_blocks=5, redis_max_blocks=12, redis_cycles=100,
            # 7. blocked (--only blocked): 1024 threads take about 25 ms a cycle.
            blocked_cycles={64: 300, 1024: 150}, blocked_floor=400,
            conn_blocks=10, conn_block_s=1.0, conn_cycles_per_block=10, one_cycles=300)
QUICK = dict(cycles=15, floor_iters=30, all_runs={100: 2, 1000: 1},
             call_cycles=2, call_requests=6, call_n=10_000_000,
             loaded_threads=(4, 64), loaded_cycles={4: 10, 64: 10},
             loaded_floor={4: 20, 64: 20},
             redis_block_s=1.5, redis_min_blocks=2, redis_max_blocks=4, redis_cycles=20,
             blocked_cycles={64: 20, 1024: 10}, blocked_floor=40,
             conn_blocks=2, conn_block_s=0.5, conn_cycles_per_block=5, one_cycles=20)


def patch_source(nfuncs):
    """A patch replacing f0..f(n-1) with the same code (bench/funcs.h)."""
    lines = ["#include <hotpatch/patch.h>", '#include "funcs.h"', ""]
    for i in range(nfuncs):
        lines += [f"extern long f{i}(long x);", f"HOTPATCH_REPLACE(f{i}, f{i}_new);",
                  f"long f{i}_new(long x) BENCH_BODY({i})", ""]
    return "\n".join(lines)


CALLS_PATCH = """#include <hotpatch/patch.h>
extern long f(long x);
HOTPATCH_REPLACE(f, f_new);
long f_new(long x) { return (x ^ 0x5555) * 3 + 1; }  /* bench/calls.c's f, unchanged */
"""


# ---------------------------------------------------------------- 1. pause

def boost_modes():
    """[(label, extra apply args, extra revert args)]: both ways once the
    engine has --no-boost (issue 9), else the one stop there is."""
    has = []
    for cmd in ("apply", "revert"):
        out = subprocess.run([BIN["hotpatch"], cmd, "--help"], capture_output=True,
                             text=True)
        has.append("--no-boost" in out.stdout + out.stderr)
    if not has[0]:
        return [("n/a", [], [])]
    return [("on", [], []), ("off", ["--no-boost"], ["--no-boost"] if has[1] else [])]


def bench_pause(r, cfg, exe, bundles):
    modes = boost_modes()
    cells, floors = [], {}
    for threads in sorted({t for t, _ in PAUSE_CELLS}):
        log(f"pause: {threads} threads")
        pid = r.spawn([exe, str(threads)])[0].pid
        # Half the floor before the cells and half after, so that a change
        # of the host's load during the cells weighs on both alike.
        floor = run_floor(pid, threads, cfg["floor_iters"] // 2)[0]
        for nfuncs in [f for t, f in PAUSE_CELLS if t == threads]:
            for mode in modes:
                cells.append(pause_cell(r, cfg, pid, threads, nfuncs, *bundles[nfuncs], *mode))
        floor += run_floor(pid, threads, cfg["floor_iters"] - cfg["floor_iters"] // 2)[0]
        floors[threads] = summary(floor)
        r.kill(r.procs)
    for c in cells:
        c["floor_us"] = floors[c["threads"]]
        c["ratio_apply"] = c["apply_us"]["median"] / c["floor_us"]["median"]
        c["ratio_revert"] = c["revert_us"]["median"] / c["floor_us"]["median"]
    return {"boost_available": modes[0][0] != "n/a", "cells": cells,
            "floor_us": {str(t): f for t, f in floors.items()}}


def pause_cell(r, cfg, pid, threads, nfuncs, bundle, bid, boost, apply_extra, revert_extra):
    s = {f"{op}_{k}": [] for op in ("apply", "revert") for k in ("us", "wall_ms", "total_us")}
    failures, retried, boosted = [], 0, 0
    for _ in range(cfg["cycles"]):
        for op, args, want in (("apply", [bundle, "--insecure", *apply_extra], "patched"),
                               ("revert", [bid, *revert_extra], "reverted")):
            res, wall = r.hp_json(op, *args, "--pid", pid)
            p = res["processes"][0]
            if p["result"] != want:
                failures.append(f"{op}: {p['result']}: {p.get('reason', '')}")
                continue
            s[f"{op}_us"].append(p["pause_us"])
            s[f"{op}_wall_ms"].append(wall * 1000)
            s[f"{op}_total_us"].append(p["total_us"])
            retried += p["attempts"] > 1
            boosted += bool(p.get("boosted"))
    if not s["apply_us"] or not s["revert_us"]:
        raise RuntimeError(f"pause {threads}x{nfuncs}: every run failed: {failures[:3]}")
    cell = {"threads": threads, "funcs": nfuncs, "boost": boost, "cycles": cfg["cycles"],
            "failures": failures, "retried": retried, "boosted": boosted,
            "samples_us": {"apply": s["apply_us"], "revert": s["revert_us"]}}
    cell.update({k: summary(v) for k, v in s.items()})
    return cell


# ---------------------------------------------------------------- 2. whole apply

def exec_baseline(n):
    """Wall time of `hotpatch --version`: exec and dynamic linking, no work."""
    walls = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([BIN["hotpatch"], "--version"], capture_output=True, check=True)
        walls.append((time.perf_counter() - t0) * 1000)
    return summary(walls)


def whole_one(r, cfg, exe, bundle, bid):
    """apply / revert --pid of one 1-thread process, end to end."""
    pid = r.spawn([exe, "1"])[0].pid
    s = {f"{op}_{k}": [] for op in ("apply", "revert") for k in ("wall_ms", "total_us")}
    for _ in range(cfg["cycles"]):
        for op, args, want in (("apply", [bundle, "--insecure"], "patched"),
                               ("revert", [bid], "reverted")):
            p, wall = r.hp_one(op, *args, "--pid", pid, want=want)
            s[f"{op}_wall_ms"].append(wall * 1000)
            s[f"{op}_total_us"].append(p["total_us"])
    r.kill(r.procs)
    return {k: summary(v) for k, v in s.items()}


def bench_all(r, cfg, exe, bundle, bid, count, mem, state="disk"):
    """apply --all / revert --all over @count fresh targets; what the first
    apply and revert did to their memory goes to @mem."""
    log(f"--all: starting {count} targets (state on {state})")
    pids = [p.pid for p in r.spawn([exe, "1"], count)]
    out = {"processes": count, "funcs": ALL_FUNCS, "state": state,
           "runs": cfg["all_runs"][count], "apply": [], "revert": [], "foreign": []}
    mem["before"] = {pid: (procmem.rollup(pid), procmem.code_dirty(pid, exe)) for pid in pids}
    for run in range(out["runs"]):
        log(f"--all over {count}: run {run + 1} of {out['runs']}")
        for op, args, key in (("apply", [bundle, "--insecure"], "patched"),
                              ("revert", [bid], "reverted")):
            res, wall = r.hp_json(op, *args, "--all")
            sm = res["summary"]
            out[op].append({"wall_ms": wall * 1000, "elapsed_ms": sm["elapsed_ms"],
                            "done": sm[key], "failed": sm["failed"]})
            out["foreign"] += foreign_stalls(res, set(pids))
            if run == 0 and op == "apply":
                run_patch_code(pids)
                mem["after"] = {pid: (procmem.rollup(pid), procmem.smaps(pid)) for pid in pids}
            elif run == 0:
                mem["reverted"] = {pid: procmem.rollup(pid) for pid in pids}
    r.kill(r.procs)
    for op in ("apply", "revert"):
        out[f"{op}_wall_ms"] = statistics.median(x["wall_ms"] for x in out[op])
        out[f"{op}_per_s"] = count / (out[f"{op}_wall_ms"] / 1000)
        out[f"{op}_all_done"] = all(x["done"] == count and x["failed"] == 0 for x in out[op])
    return out


def foreign_stalls(res, ours):
    """Processes not started here that failed or held a worker for long:
    what else on the host slowed an --all down (none in a PID namespace)."""
    return [f"{p['pid']} ({p['comm']}): {p['result']}, {p['total_us'] // 1000} ms, "
            f"{p.get('reason', '')}" for p in res["processes"]
            if p["pid"] not in ours and (p["result"] == "failed" or p["total_us"] > 100_000)]


# ---------------------------------------------------------------- 3. calls

def bench_calls(r, cfg):
    log("calls: timing f (patched) and g (never patched)")
    bundle, bid = r.build_bundle(BIN["calls"], CALLS_PATCH, "calls")
    # Requests go to its stdin, answers come back on its stdout.
    proc = r.popen([BIN["calls"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    if proc.stdout.readline() != b"ready\n":
        raise RuntimeError("bench-calls did not start")
    phases = {"before": [], "patched": [], "reverted": []}

    def block(phase):
        for _ in range(cfg["call_requests"]):
            proc.stdin.write(f"{cfg['call_n']}\n".encode())
            proc.stdin.flush()
            phases[phase].append(tuple(map(float, proc.stdout.readline().split())))

    block("before")
    # Patched and unpatched blocks alternate, so a drift of the host's speed
    # over the run does not pass for an effect of the patch.
    for _ in range(cfg["call_cycles"]):
        r.hp_one("apply", bundle, "--insecure", "--pid", proc.pid, want="patched")
        hpo = next(m[0] for m in procmem.smaps(proc.pid) if m[0].endswith(".hpo"))
        block("patched")
        r.hp_one("revert", bid, "--pid", proc.pid, want="reverted")
        block("reverted")
    r.kill(r.procs)

    out = {"calls_per_request": cfg["call_n"],
           "requests": {k: len(v) for k, v in phases.items()}}
    for phase, v in phases.items():
        out[phase] = {"f_ns": summary([f for f, _ in v]), "g_ns": summary([g for _, g in v])}
    unpatched = phases["before"] + phases["reverted"]
    for i, fn in enumerate("fg"):
        d, lo, hi = median_diff_ci([x[i] for x in phases["patched"]], [x[i] for x in unpatched])
        out[f"delta_{fn}_ns"] = {"median": d, "ci95": [lo, hi]}
    out["instructions"] = {"static": static_counts(hpo), "callgrind": callgrind_counts(r)}
    return out


def callgrind_counts(r, n=1_000_000):
    """Instructions per iteration of each loop and per call of f and g, in an
    unpatched bench-calls (valgrind cannot run a process patched from
    outside: see bench/README.md)."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
        return "valgrind not installed"
    cg = os.path.join(r.dir, "callgrind.out")
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}", BIN["calls"]],
                   input=f"{n}\n0\n", capture_output=True, text=True, timeout=600, check=True)
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", cg], capture_output=True,
                         text=True, check=True).stdout
    counts = {}
    for m in re.finditer(r"^\s*([\d,]+) .*calls\.c:(loop_f|loop_g|f|g) \[", ann, re.M):
        counts.setdefault(m.group(2), int(m.group(1).replace(",", "")) / n)
    return counts


def disasm(path, symbol):
    """The instructions of @symbol in @path up to its first ret (the
    functions measured have no branches)."""
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--disassemble={symbol}",
                           path], capture_output=True, text=True, check=True).stdout
    insns = [ln.split("\t", 1)[1].strip() for ln in text.splitlines()
             if re.match(r"^\s+[0-9a-f]+:\t", ln)]
    end = next(i for i, x in enumerate(insns) if x.startswith("ret"))
    return insns[:end + 1]


def static_counts(hpo):
    f, new = disasm(BIN["calls"], "f"), disasm(hpo, "f_new")
    # A patched call runs the jmp, then f_new instead of f.
    return {"f": len(f), "f_insns": f, "f_new": len(new), "f_new_insns": new,
            "patched_extra": 1 + len(new) - len(f)}


# ---------------------------------------------------------------- 4. memory

def run_patch_code(pids):
    """Make each target call its functions (SIGUSR1), so the patch text is
    paged in as in a live program, and give them time to do it."""
    for pid in pids:
        os.kill(pid, signal.SIGUSR1)
    time.sleep(0.2 + 0.001 * len(pids))


def bench_memory_one(r, exe, bundles):
    """One fresh process per patch size: its code pages must be clean before."""
    out = {}
    for nfuncs, (bundle, bid) in sorted(bundles.items()):
        log(f"memory: 1 process, {nfuncs} functions")
        pid = r.spawn([exe, "1"])[0].pid
        before = {pid: (procmem.rollup(pid), procmem.code_dirty(pid, exe))}
        r.hp_one("apply", bundle, "--insecure", "--pid", pid, want="patched")
        run_patch_code([pid])
        after = {pid: (procmem.rollup(pid), procmem.smaps(pid))}
        r.hp_one("revert", bid, "--pid", pid, want="reverted")
        out[nfuncs] = procmem.figures(exe, before, after, {pid: procmem.rollup(pid)})
        out[nfuncs]["funcs"] = nfuncs
        r.kill(r.procs)
    return out


# ---------------------------------------------------------------- main

def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def environment():
    def out(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=SRC).stdout.strip()
        except OSError:
            return ""
    opts = {}
    try:
        with open(os.path.join(BUILD, "meson-info/intro-buildoptions.json")) as f:
            opts = {o["name"]: o["value"] for o in json.load(f)
                    if o["name"] in ("buildtype", "b_sanitize")}
    except OSError:
        pass
    with open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    return {"kernel": platform.release(), "cpus": os.cpu_count(), "cpu": cpu,
            "pid_namespace": os.getpid() == 1, "load_start": loadavg(),
            "hotpatch": out(BIN["hotpatch"], "--version"),
            "commit": out("git", "rev-parse", "HEAD"),
            "src_modified": bool(out("git", "status", "--porcelain", "--", "src")),
            "build": opts}


def run_all(r, shm, cfg):
    """Every benchmark; returns the results, as written to latest.json."""
    exe = unique_copy(BIN["target"], os.path.join(r.dir, "bench-target"))
    bundles = {n: r.build_bundle(exe, patch_source(n), f"bench{n}") for n in (1, 10, 100)}
    res = {"pause": bench_pause(r, cfg, exe, bundles)}
    mem_many = {}
    alls = [bench_all(r, cfg, exe, *bundles[ALL_FUNCS], 100, {})]
    one_tmpfs = None
    if shm:
        log("whole apply: state on tmpfs")
        one_tmpfs = whole_one(shm, cfg, exe, *bundles[1])
        alls.append(bench_all(shm, cfg, exe, *bundles[ALL_FUNCS], 100, {}, "tmpfs"))
    alls.append(bench_all(r, cfg, exe, *bundles[ALL_FUNCS], 1000, mem_many))
    res["whole"] = {"all": alls, "one_tmpfs": one_tmpfs,
                    "exec_baseline_ms": exec_baseline(cfg["cycles"])}
    res["calls"] = bench_calls(r, cfg)
    many = procmem.figures(exe, mem_many["before"], mem_many["after"], mem_many["reverted"])
    many["funcs"] = ALL_FUNCS
    res["memory"] = {"one": bench_memory_one(r, exe, bundles), "many": many}
    res["loaded"] = {"pause": loaded.bench_loaded_pause(r, cfg, exe, *bundles[loaded.FUNCS]),
                     "redis": loaded.bench_redis(r, cfg)}
    return res


def header(stamp, kind, started, env):
    return (f"hotpatch benchmarks, {stamp}, {kind}, {time.time() - started:.0f} s\n"
            f"{env['hotpatch']} at {env['commit'][:12]}"
            f"{' (src/ modified)' if env['src_modified'] else ''}; kernel {env['kernel']}, "
            f"{env['cpus']} x {env['cpu']}; build {env['build']}\n"
            f"load average {env['load_start']} at start, {env['load_end']} at end; "
            f"{'own' if env['pid_namespace'] else 'the host'} PID namespace\n\n")


def run_blocked(r, shm, cfg, env, started, quick):
    """Benchmark 7 alone, to bench/results/blocked-latest.{txt,json}."""
    exe = unique_copy(BIN["target"], os.path.join(r.dir, "bench-target"))
    bundle, bid = r.build_bundle(exe, patch_source(blocked.FUNCS), "blocked")
    res = blocked.run(r, shm, cfg, exe, bundle, bid)
    stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H%M%S")
    env["load_end"] = loadavg()
    text = header(stamp, f"benchmark 7{' (quick)' if quick else ''}", started, env) + \
        report.blocked(res, cfg)
    print(text)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "blocked-latest.txt"), "w") as f:
        f.write(text)
    res.update({"date": stamp, "quick": quick, "config": cfg, "environment": env})
    with open(os.path.join(RESULTS, "blocked-latest.json"), "w") as f:
        json.dump(res, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description="Run hotpatch's benchmarks (see bench/README.md).")
    ap.add_argument("--quick", action="store_true", help="small repetition counts")
    ap.add_argument("--only", choices=["loaded", "blocked"],
                    help="run only this benchmark; prints its tables (blocked: also writes "
                         "bench/results/blocked-latest.{txt,json}; loaded: writes no results)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root (ptrace of other processes)")
    cfg = QUICK if args.quick else FULL
    # SIGTERM and SIGHUP unwind like ^C, so the finally below kills the targets.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)
    started = time.time()
    r = Runner()
    # A second root on tmpfs shows what the audit log's fsyncs cost.
    shm = Runner("/dev/shm") if os.path.isdir("/dev/shm") else None
    try:
        snapshot_binaries(os.path.join(r.dir, "bin"))
        env = environment()
        if env["build"].get("b_sanitize", "none") != "none":
            log(f"warning: {BUILD} is built with sanitizers: the figures are not representative")
        if args.only == "blocked":
            run_blocked(r, shm, cfg, env, started, args.quick)
            return
        if args.only:
            exe = unique_copy(BIN["target"], os.path.join(r.dir, "bench-target"))
            bid = r.build_bundle(exe, patch_source(loaded.FUNCS), "loaded")
            res = {"pause": loaded.bench_loaded_pause(r, cfg, exe, *bid),
                   "redis": loaded.bench_redis(r, cfg)}
            print(report.loaded(res["pause"], res["redis"], cfg))
            with open(os.path.join(r.dir, "..", "hp-bench-loaded.json"), "w") as f:
                json.dump(res, f, indent=1)
            return
        res = run_all(r, shm, cfg)
    finally:
        r.cleanup()
        if shm:
            shm.cleanup()

    stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H%M%S")
    env["load_end"] = loadavg()
    w = res["whole"]
    text = (header(stamp, f"{'quick' if args.quick else 'full'} run", started, env) +
            "\n".join([report.pause(res["pause"], cfg),
                       report.whole(res["pause"], w["all"], w["one_tmpfs"],
                                    w["exec_baseline_ms"]),
                       report.calls(res["calls"]),
                       report.memory(res["memory"]["one"], res["memory"]["many"]),
                       report.loaded(res["loaded"]["pause"], res["loaded"]["redis"], cfg)]))
    print(text)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "latest.txt"), "w") as f:
        f.write(text)
    res.update({"date": stamp, "quick": args.quick, "config": cfg, "environment": env})
    with open(os.path.join(RESULTS, "latest.json"), "w") as f:
        json.dump(res, f, indent=1)
    shutil.copy(os.path.join(RESULTS, "latest.json"), os.path.join(RESULTS, f"{stamp}.json"))


if __name__ == "__main__":
    main()
