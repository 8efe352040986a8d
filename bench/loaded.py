# SPDX-License-Identifier: MIT
"""5. The pause on a loaded host (issue 9): the priority-assisted stop
against the plain one.

  5a. apply/revert --pid of bench-target with idle, spinning and half-busy
      threads (the last next to 2 CPU hogs per core), with the boost (the
      default) and with --no-boost, beside the plain stop (bench-floor) of
      the same process under the same load;
  5b. what a client sees: redis-benchmark's p99 latency against Debian's
      redis-server, next to the CPU hogs, while a patch is applied and
      reverted over and over, against the same benchmark without cycles.

bench/README.md explains the tables.
"""
import csv
import io
import os
import re
import shutil
import socket
import subprocess
import time

from runner import BIN, log, run_floor
from stats import median_diff_ci, summary

# (name, bench-target mode, CPU hogs running)
SCENARIOS = [("idle", "idle", False), ("spinning", "spin", False), ("loaded", "duty", True)]
HOGS_PER_CPU = 2
FUNCS = 10  # the patch: f0..f9 of bench/funcs.h
# Every run of hotpatch prints its phase timings (debug.h): the evidence of
# what a pause is made of. The line comes after the release.
DEBUG = {"HOTPATCH_DEBUG": "1"}
PHASES = re.compile(r"(\d+) threads \(boost ([^,]+), (\d+) boosted\): stop (\d+) us, "
                    r"evacuate (\d+) us, check (\d+) us \((\d+) unwinds\), write (\d+) us, "
                    r"release (\d+) us -> written")
PHASE_NAMES = ("stop", "evacuate", "check", "write", "release")
# apply's loading of the patch object: system calls run by the borrowed
# thread (the one with the least CPU time), which runs nothing else meanwhile.
LOAD = re.compile(r": load: ok \((\d+) us\)")

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_BENCHMARK = shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark"
REDIS_CLIENTS = 20
# The patch of tests/lib/redis.py: PING answers HOTPATCHED.
PING_PATCH = """
#include <hotpatch/patch.h>
typedef struct client client;
extern void pingCommand(client *c);
extern void addReplyStatus(client *c, const char *status);
HOTPATCH_DESCRIPTION("PING answers HOTPATCHED");
HOTPATCH_REPLACE(pingCommand, ping_patched);
void ping_patched(client *c)
{
	addReplyStatus(c, "HOTPATCHED");
}
"""

MODES = [("on", []), ("off", ["--no-boost"])]


def start_hogs(r):
    n = HOGS_PER_CPU * os.cpu_count()
    log(f"loaded host: starting {n} CPU hogs")
    return r.spawn([BIN["hog"]], n)


def phases(stderr):
    """The phase timings of the attempt that wrote, from HOTPATCH_DEBUG."""
    found = PHASES.findall(stderr)
    if not found:
        return None
    v = found[-1]
    return dict(zip(PHASE_NAMES, (int(v[3]), int(v[4]), int(v[5]), int(v[7]), int(v[8]))))


def one(r, op, args, pid, want, samples, failures):
    """One apply or revert with its phase timings; adds to @samples."""
    err = []
    res, wall = r.hp_json(op, *args, "--pid", pid, env=DEBUG, stderr=err)
    p = res["processes"][0]
    if p["result"] != want:
        failures.append(f"{op}: {p['result']}: {p.get('reason', '')}")
        return None
    load = LOAD.findall(err[0])
    samples.append({"pause_us": p["pause_us"], "wall_ms": wall * 1000,
                    "total_us": p["total_us"], "load_us": int(load[-1]) if load else None,
                    "attempts": p["attempts"], "boost": p.get("boost", "n/a"),
                    "threads_boosted": p.get("threads_boosted", 0),
                    "phases_us": phases(err[0])})
    return p


def cell_summary(scenario, threads, boost, ops, failures, floor):
    out = {"scenario": scenario, "threads": threads, "boost": boost, "failures": failures}
    for op in ("apply", "revert"):
        s = ops[op]
        out[f"{op}_us"] = summary([x["pause_us"] for x in s])
        out[f"{op}_wall_ms"] = summary([x["wall_ms"] for x in s])
        out[f"ratio_{op}"] = out[f"{op}_us"]["median"] / floor["median"]
        out[f"ratio_{op}_p99"] = out[f"{op}_us"]["p99"] / floor["p99"]
    both = ops["apply"] + ops["revert"]
    out["runs"] = len(both)
    out["boost_used"] = sum(x["boost"] == "used" for x in both)
    out["threads_boosted"] = summary([x["threads_boosted"] for x in both])
    out["retried"] = sum(x["attempts"] > 1 for x in both)
    with_phases = [x["phases_us"] for x in both if x["phases_us"]]
    out["phases_us"] = {k: summary([x[k] for x in with_phases]) for k in PHASE_NAMES} \
        if with_phases else None
    out["samples"] = ops
    return out


def bench_loaded_pause(r, cfg, exe, bundle, bid):
    cells, floors = [], []
    for scenario, mode, loaded in SCENARIOS:
        hogs = start_hogs(r) if loaded else []
        time.sleep(0.2 if hogs else 0)
        for threads in cfg["loaded_threads"]:
            cycles, fiters = cfg["loaded_cycles"][threads], cfg["loaded_floor"][threads]
            log(f"loaded pause: {scenario}, {threads} threads, {cycles} cycles")
            target = r.spawn([exe, str(threads), mode])
            pid = target[0].pid
            time.sleep(0.2)
            # The floor half before and half after, the boost on and off
            # alternating cycle by cycle: a change of the load during the
            # cell weighs on all three alike.
            floor, timeouts = run_floor(pid, threads, fiters // 2)
            ops = {m: {"apply": [], "revert": []} for m, _ in MODES}
            failures = {m: [] for m, _ in MODES}
            for _ in range(cycles):
                for m, extra in MODES:
                    if one(r, "apply", [bundle, "--insecure", *extra], pid, "patched",
                           ops[m]["apply"], failures[m]):
                        one(r, "revert", [bid, *extra], pid, "reverted", ops[m]["revert"],
                            failures[m])
            f2, t2 = run_floor(pid, threads, fiters - fiters // 2)
            floor, timeouts = floor + f2, timeouts + t2
            r.kill(target)
            if not floor:
                raise RuntimeError(f"loaded pause {scenario} x {threads}: no plain stop "
                                   f"completed ({timeouts} timed out)")
            fs = summary(floor)
            floors.append({"scenario": scenario, "threads": threads, "floor_us": fs,
                           "timeouts": timeouts, "samples_us": floor})
            for m, _ in MODES:
                if not ops[m]["apply"] or not ops[m]["revert"]:
                    # A result too: with every thread spinning through the
                    # patch and no boost, revert may never find a moment
                    # when no thread runs patch code. Reported, not hidden.
                    cells.append({"scenario": scenario, "threads": threads, "boost": m,
                                  "all_failed": True, "failures": failures[m],
                                  "cycles": cycles, "floor_us": fs,
                                  "floor_timeouts": timeouts})
                    continue
                c = cell_summary(scenario, threads, m, ops[m], failures[m], fs)
                c["cycles"] = cycles
                c["floor_us"], c["floor_timeouts"] = fs, timeouts
                cells.append(c)
        r.kill(hogs)
    return {"cells": cells, "floors": floors, "hogs": HOGS_PER_CPU * os.cpu_count(),
            "funcs": FUNCS}


# ---------------------------------------------------------------- redis

def loopback_up():
    """The run's network namespace starts with lo down."""
    subprocess.run(["ip", "link", "set", "lo", "up"], capture_output=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def redis_ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.makefile("rb").readline().decode().strip()
    except OSError:
        return None


def redis_benchmark(port, n):
    """One redis-benchmark run, started; see parse_csv for its result."""
    return subprocess.Popen([REDIS_BENCHMARK, "-p", str(port), "-c", str(REDIS_CLIENTS),
                             "-t", "set,get", "-n", str(n), "--csv"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def parse_csv(proc):
    out, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"redis-benchmark exited {proc.returncode}: {err}")
    rows = {}
    for row in csv.DictReader(io.StringIO(out)):
        rows[row["test"]] = {k: float(row[k]) for k in ("rps", "avg_latency_ms", "p50_latency_ms",
                                                         "p95_latency_ms", "p99_latency_ms",
                                                         "max_latency_ms")}
    if set(rows) != {"SET", "GET"}:
        raise RuntimeError(f"redis-benchmark: unexpected output: {out!r} {err!r}")
    return rows


def redis_block(r, pid, port, n, kind, bundle, bid, extra):
    """One redis-benchmark run; for kind "on"/"off", apply/revert cycles back
    to back for as long as it runs."""
    t0 = time.perf_counter()
    bench = redis_benchmark(port, n)
    ops, failures = {"apply": [], "revert": []}, []
    if kind != "baseline":
        time.sleep(0.05)  # its connections are up
        while bench.poll() is None:
            if one(r, "apply", [bundle, "--insecure", *extra], pid, "patched", ops["apply"],
                   failures):
                one(r, "revert", [bid, *extra], pid, "reverted", ops["revert"], failures)
    latency = parse_csv(bench)
    return {"kind": kind, "requests": n, "cycles": len(ops["revert"]), "failures": failures,
            "latency": latency, "ops": ops, "duration_s": time.perf_counter() - t0}


def bench_redis(r, cfg):
    if not os.path.exists(REDIS_SERVER) or not os.path.exists(REDIS_BENCHMARK):
        return {"skipped": "redis-server or redis-benchmark is not installed"}
    loopback_up()
    port = free_port()
    redis = r.popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                       "--appendonly", "no", "--dir", r.dir, "--daemonize", "no"],
                      stdout=subprocess.DEVNULL)
    deadline = time.time() + 10
    while redis_ping(port) != "+PONG":
        if time.time() > deadline or redis.poll() is not None:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)
    bundle, bid = r.build_bundle(REDIS_SERVER, PING_PATCH, "redisping")
    threads = len(os.listdir(f"/proc/{redis.pid}/task"))
    hogs = start_hogs(r)
    time.sleep(0.2)
    # Every block the same size: about block_s seconds for SET + GET under
    # this load, from a short run first.
    cal = parse_csv(redis_benchmark(port, 20000))
    rps = min(x["rps"] for x in cal.values())
    n = max(10000, int(rps * cfg["redis_block_s"] / 2) // 1000 * 1000)
    kinds = [("baseline", None)] + [(m, extra) for m, extra in MODES]
    blocks = []

    def cycles(kind):
        return sum(b["cycles"] for b in blocks if b["kind"] == kind)

    rounds = 0
    while rounds < cfg["redis_max_blocks"] and (
            rounds < cfg["redis_min_blocks"] or
            min(cycles(m) for m, _ in MODES) < cfg["redis_cycles"]):
        for kind, extra in kinds:
            log(f"redis: block {rounds + 1}, {kind}, {n} requests per test")
            blocks.append(redis_block(r, redis.pid, port, n, kind, bundle, bid, extra))
        rounds += 1
    alive = redis.poll() is None and redis_ping(port) == "+PONG"
    r.kill(hogs)
    r.kill([redis])

    rows = {}
    for kind, _ in kinds:
        bs = [b for b in blocks if b["kind"] == kind]
        row = {"blocks": len(bs), "cycles": sum(b["cycles"] for b in bs),
               "failures": [f for b in bs for f in b["failures"]]}
        for t in ("SET", "GET"):
            row[t] = {k: [b["latency"][t][k] for b in bs]
                      for k in ("p99_latency_ms", "p50_latency_ms", "rps", "max_latency_ms")}
            row[t]["p99_median"] = summary(row[t]["p99_latency_ms"])["median"]
        row["duration_s"] = sum(b["duration_s"] for b in bs)
        if kind != "baseline":
            ops = {op: [x for b in bs for x in b["ops"][op]] for op in ("apply", "revert")}
            both = ops["apply"] + ops["revert"]
            row["pause_us"] = summary([x["pause_us"] for x in both]) if both else None
            loads = [x["load_us"] for x in ops["apply"] if x["load_us"] is not None]
            row["load_us"] = summary(loads) if loads else None
            for op in ("apply", "revert"):
                row[f"{op}_total_us"] = summary([x["total_us"] for x in ops[op]]) \
                    if ops[op] else None
            row["phases_us"] = {k: summary([x["phases_us"][k] for x in both
                                            if x["phases_us"]]) for k in PHASE_NAMES} \
                if any(x["phases_us"] for x in both) else None
            row["boost_used"] = sum(x["boost"] == "used" for x in both)
            row["runs"] = len(both)
            row["pauses_us"] = {op: [x["pause_us"] for x in v] for op, v in ops.items()}
        rows[kind] = row
    base = rows["baseline"]
    for kind, _ in MODES:
        row = rows[kind]
        for t in ("SET", "GET"):
            row[t]["ratio"] = row[t]["p99_median"] / base[t]["p99_median"]
            d, lo, hi = median_diff_ci(row[t]["p99_latency_ms"], base[t]["p99_latency_ms"])
            row[t]["diff_ci95_ms"] = [lo, hi]
    return {"port": port, "threads": threads, "clients": REDIS_CLIENTS, "requests_per_test": n,
            "hogs": HOGS_PER_CPU * os.cpu_count(), "calibration": cal, "rows": rows,
            "redis_alive": alive, "blocks": [{k: v for k, v in b.items() if k != "ops"}
                                             for b in blocks]}
