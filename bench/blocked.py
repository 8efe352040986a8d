# SPDX-License-Identifier: MIT
"""7. Blocked threads and one apply (issue 19): the baseline for not stopping
threads that are blocked in the kernel.

  7a. The pause of apply/revert --pid (10 functions) of bench-target with
      64 and 1024 threads blocked in a futex, epoll_wait(), read() of a pipe
      and nanosleep() (a quarter each), beside the plain stop (bench-floor)
      of the same process.
  7b. A thread-per-connection server (bench-target conn) with 1000
      connections, each a thread blocked in read(), while a client keeps
      ACTIVE of them busy with request/reply round trips: the pause, and the
      round trips the client saw during apply/revert cycles against the same
      client without cycles.
  7c. One `apply --pid` end to end (exec to exit) of a 1-thread and a
      64-thread process, with the state (store, audit log) on the disk and
      on tmpfs, alternating run by run, beside `hotpatch --version`.

bench/README.md explains the tables.
"""
import os
import resource
import socket
import subprocess
import threading
import time

import report
from runner import BIN, log, run_floor
from stats import summary

FUNCS = 10
BLOCKED_THREADS = (64, 1024)
CONNS = 1000
ACTIVE = 8


def wait_blocked(pid, want, timeout=60):
    """Until @want threads of @pid sleep in the kernel (state S)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        n = 0
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    n += f.read().rsplit(")", 1)[1].split()[0] == "S"
            except OSError:
                pass
        if n >= want:
            return n
        time.sleep(0.05)
    raise RuntimeError(f"process {pid}: {n} of {want} threads blocked in time")


def cycle(r, pid, bundle, bid, out, failures):
    """One apply and one revert; their --json entries go to @out."""
    for op, args, want in (("apply", [bundle, "--insecure"], "patched"),
                           ("revert", [bid], "reverted")):
        res, wall = r.hp_json(op, *args, "--pid", pid)
        p = res["processes"][0]
        if p["result"] != want:
            failures.append(f"{op}: {p['result']}: {p.get('reason', '')}")
            return
        out[op].append({"pause_us": p["pause_us"], "wall_ms": wall * 1000,
                        "total_us": p["total_us"], "attempts": p["attempts"]})


def summarize(ops):
    out = {}
    for op in ("apply", "revert"):
        out[f"{op}_us"] = summary([x["pause_us"] for x in ops[op]])
        out[f"{op}_wall_ms"] = summary([x["wall_ms"] for x in ops[op]])
    out["retried"] = sum(x["attempts"] > 1 for op in ops for x in ops[op])
    out["samples_us"] = {op: [x["pause_us"] for x in ops[op]] for op in ops}
    return out


def bench_blocked_pause(r, cfg, exe, bundle, bid):
    cells = []
    for threads in BLOCKED_THREADS:
        cycles, fiters = cfg["blocked_cycles"][threads], cfg["blocked_floor"]
        log(f"blocked pause: {threads} threads, {cycles} cycles")
        pid = r.spawn([exe, str(threads), "blocked"])[0].pid
        wait_blocked(pid, threads)
        floor = run_floor(pid, threads, fiters // 2)[0]
        ops, failures = {"apply": [], "revert": []}, []
        for _ in range(cycles):
            cycle(r, pid, bundle, bid, ops, failures)
        floor += run_floor(pid, threads, fiters - fiters // 2)[0]
        r.kill(r.procs)
        c = {"threads": threads, "cycles": cycles, "failures": failures,
             "floor_us": summary(floor)}
        c.update(summarize(ops))
        cells.append(c)
    return cells


class Client(threading.Thread):
    """Round trips over @socks in turn, each timed and filed under
    self.cycling (whether the driver is running apply/revert cycles)."""

    def __init__(self, socks):
        super().__init__(daemon=True)
        self.socks, self.stop, self.cycling = socks, threading.Event(), False
        self.rtt = {False: [], True: []}
        self.error = None

    def run(self):
        try:
            while not self.stop.is_set():
                for s in self.socks:
                    t0 = time.perf_counter()
                    s.sendall(b"ping")
                    if s.recv(64) != b"ping":
                        raise RuntimeError("the server answered wrongly")
                    self.rtt[self.cycling].append((time.perf_counter() - t0) * 1e6)
        except Exception as e:  # reported by the driver
            self.error = e


def connect_all(path, n):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        socks.append(s)
    return socks


def bench_conn_server(r, cfg, exe, bundle, bid):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, CONNS + 256)), hard))
    path = os.path.join(r.dir, "conn.sock")
    env = {**os.environ, "BENCH_SOCKET": path}
    proc = r.spawn([exe, "1", "conn"], env=env)[0]
    socks = connect_all(path, CONNS)
    threads = wait_blocked(proc.pid, CONNS + 1)
    client = Client(socks[:ACTIVE])
    client.start()
    ops, failures = {"apply": [], "revert": []}, []
    # Blocks without and with cycles in turn, so a drift of the host's
    # speed weighs on both alike.
    for _ in range(cfg["conn_blocks"]):
        client.cycling = False
        time.sleep(cfg["conn_block_s"])
        client.cycling = True
        for _ in range(cfg["conn_cycles_per_block"]):
            cycle(r, proc.pid, bundle, bid, ops, failures)
    client.stop.set()
    client.join()
    for s in socks:
        s.close()
    r.kill(r.procs)
    if client.error:
        raise RuntimeError(f"conn client: {client.error}")
    out = {"connections": CONNS, "active": ACTIVE, "threads": threads, "failures": failures,
           "rtt_us": {("cycling" if k else "baseline"): summary(v)
                      for k, v in client.rtt.items()}}
    out.update(summarize(ops))
    return out


def bench_one_apply(r, shm, cfg, exes, bundle, bid):
    """apply/revert --pid end to end, disk and tmpfs alternating."""
    rows = []
    for threads, exe in exes:
        procs = {}
        for name, runner in (("disk", r), ("tmpfs", shm)):
            procs[name] = runner.spawn([exe, str(threads), "blocked"])[0].pid
            wait_blocked(procs[name], threads)
        log(f"one apply: {threads} threads, disk and tmpfs, {cfg['one_cycles']} cycles each")
        ops = {name: {"apply": [], "revert": []} for name in procs}
        failures = []
        for _ in range(cfg["one_cycles"]):
            for name, runner in (("disk", r), ("tmpfs", shm)):
                cycle(runner, procs[name], bundle, bid, ops[name], failures)
        for name in procs:
            row = {"threads": threads, "state": name, "failures": failures}
            for op in ("apply", "revert"):
                row[f"{op}_wall_ms"] = summary([x["wall_ms"] for x in ops[name][op]])
                row[f"{op}_total_us"] = summary([x["total_us"] for x in ops[name][op]])
                row[f"{op}_pause_us"] = summary([x["pause_us"] for x in ops[name][op]])
            rows.append(row)
        r.kill(r.procs)
        shm.kill(shm.procs)
    walls = []
    for _ in range(cfg["one_cycles"]):
        t0 = time.perf_counter()
        subprocess.run([BIN["hotpatch"], "--version"], capture_output=True, check=True)
        walls.append((time.perf_counter() - t0) * 1000)
    return {"rows": rows, "version_ms": summary(walls)}


def run(r, shm, cfg, exe, bundle, bid):
    res = {"pause": bench_blocked_pause(r, cfg, exe, bundle, bid),
           "conn": bench_conn_server(r, cfg, exe, bundle, bid)}
    res["one"] = bench_one_apply(r, shm, cfg, [(1, exe), (64, exe)], bundle, bid) \
        if shm else None
    return res
