# SPDX-License-Identifier: MIT
"""6. hotpatchd (issue 6), with the real daemon and real processes:

  6a. exec to patched: a new process of the patched program is started
      (fork+exec from a small launcher) and calls its vulnerable function
      in a tight loop until it sees the fix: the delay from the exec, and
      how many calls ran unpatched first;
  6b. exec throughput of an unrelated program (/bin/true) with the daemon
      running and not, in alternating rounds;
  6c. the daemon's CPU time and memory while it patches 1000 running
      processes, and while it keeps them patched afterwards.

It runs in the host's PID namespace: the kernel's process events connector
(netlink) reports only there, so bench/run.sh's private namespace would
blind the daemon. Processes are copies with a build-id of their own, so
nothing else on the host matches.

  sudo python3 bench/daemon.py [--quick]
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402
from runner import BUILD, log, unique_copy  # noqa: E402
from stats import median_diff_ci, summary  # noqa: E402

HOTPATCH = os.path.join(BUILD, "src/cli/hotpatch")
HOTPATCHD = os.path.join(BUILD, "src/daemon/hotpatchd")
PROBE = os.path.join(BUILD, "bench/bench-probe")
EXECLOOP = os.path.join(BUILD, "bench/bench-execloop")
PATCH = """
#include <hotpatch/patch.h>
extern int probe_check(int n);
HOTPATCH_REPLACE(probe_check, probe_check_fixed);
int probe_check_fixed(int n)
{
	return n > 64 ? -1 : n;
}
"""


class Setup:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hp-bench-daemon-")
        os.chmod(self.dir, 0o755)
        self.root = os.path.join(self.dir, "root")
        self.daemon = None
        self.procs = []
        self.probe = unique_copy(PROBE, os.path.join(self.dir, "probe"))
        key = os.path.join(self.dir, "key")
        self.hp("keygen", "-k", key)
        tdir = os.path.join(self.root, "etc/hotpatch/trusted.d")
        os.makedirs(tdir)
        shutil.copy(key + ".pub", tdir)
        src = os.path.join(self.dir, "patch.c")
        with open(src, "w") as f:
            f.write(PATCH)
        self.bundle = os.path.join(self.dir, "patch.hpb")
        self.hp("build", "--target", self.probe, "-o", self.bundle, src)
        self.hp("sign", self.bundle, "-k", key)
        self.hp("install", self.bundle)

    def hp(self, *args):
        return subprocess.run([HOTPATCH, "--root", self.root, *args], check=True,
                              capture_output=True, text=True).stdout

    def start_daemon(self):
        self.log = open(os.path.join(self.dir, "hotpatchd.log"), "a")
        self.daemon = subprocess.Popen([HOTPATCHD, "--root", self.root],
                                       stdout=self.log, stderr=self.log)
        sock = os.path.join(self.root, "run/hotpatch/control.sock")
        for _ in range(500):
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(sock)
                s.sendall(b"ping\n")
                if b'"ok":true' in s.recv(4096):
                    s.close()
                    return
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError("hotpatchd did not start")

    def stop_daemon(self):
        if self.daemon and self.daemon.poll() is not None:
            raise RuntimeError(f"hotpatchd died ({self.daemon.returncode}); its log:\n"
                               + open(self.log.name).read()[-3000:])
        if self.daemon:
            self.daemon.terminate()
            self.daemon.wait()
            self.daemon = None

    def cleanup(self):
        self.stop_daemon()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def proc_cpu_s(pid):
    """utime + stime of @pid and its reaped children (the workers)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def proc_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def exec_to_patched(s, n):
    """6a: n probes, one after the other, each spinning on its function."""
    delays, main_delays, calls, missed = [], [], [], 0
    for i in range(n):
        t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        r = subprocess.run([s.probe, "--spin", "--wait-ms", "5000", "--t0", str(t0)],
                           capture_output=True, text=True)
        rep = dict(kv.split("=") for kv in r.stdout.split())
        if r.returncode != 0:
            missed += 1
            if s.daemon.poll() is not None:
                s.stop_daemon()  # raises with the daemon's log
            continue
        delays.append(int(rep["exec_to_patched_us"]) / 1000)
        main_delays.append(int(rep["main_to_patched_us"]) / 1000)
        calls.append(int(rep["calls_before"]))
        if (i + 1) % 200 == 0:
            log(f"exec to patched: {i + 1} of {n}")
    return {"n": n, "missed": missed, "exec_ms": summary(delays),
            "main_ms": summary(main_delays), "calls": summary(calls)}


def exec_rate(s, rounds, per_round):
    """6b: /bin/true, per_round runs per round, daemon on and off in turn
    (with a patch enabled, so that the daemon examines every exec)."""
    on, off = [], []
    for r in range(rounds):
        for state in ("on", "off") if r % 2 == 0 else ("off", "on"):
            if state == "on":
                s.start_daemon()
            out = subprocess.run([EXECLOOP, str(per_round), "/bin/true"], check=True,
                                 capture_output=True, text=True).stdout
            times = [int(x) / 1000 for x in out.split()]
            (on if state == "on" else off).append(statistics.median(times))
            s.stop_daemon()
    diff, lo, hi = median_diff_ci(on, off)
    return {"on_us": summary(on), "off_us": summary(off), "diff_us": diff, "ci": (lo, hi),
            "rounds": rounds, "per_round": per_round}


def many(s, n, idle_s):
    """6c: n running processes patched by the daemon, then kept patched."""
    for _ in range(n):
        # --wait-ms 0: one unpatched call, then asleep in pause(), as a long-running
        # server mostly is; 1000 pollers would saturate 2 CPUs and time the scheduler.
        s.procs.append(subprocess.Popen([s.probe, "--hold", "--wait-ms", "0"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(1)
    s.start_daemon()
    pid = s.daemon.pid
    rss0, cpu0 = proc_rss_kib(pid), proc_cpu_s(pid)
    t0 = time.monotonic()
    s.hp("enable", s.bundle)
    pids = {p.pid for p in s.procs}
    while True:
        done = sum(1 for p in pids if has_hpo(p))
        if done == n or time.monotonic() - t0 > 300:
            break
        time.sleep(0.05)
    converge = time.monotonic() - t0
    cpu1, rss1 = proc_cpu_s(pid), proc_rss_kib(pid)
    time.sleep(idle_s)
    cpu2, rss2 = proc_cpu_s(pid), proc_rss_kib(pid)
    s.hp("disable", s.bundle)
    s.stop_daemon()
    for p in s.procs:
        p.kill()
        p.wait()
    s.procs.clear()
    return {"n": n, "patched": done, "converge_s": converge, "cpu_converge_s": cpu1 - cpu0,
            "idle_s": idle_s, "cpu_idle_pct": 100 * (cpu2 - cpu1) / idle_s,
            "rss_start_kib": rss0, "rss_converged_kib": rss1, "rss_idle_kib": rss2}


def has_hpo(pid):
    try:
        with open(f"/proc/{pid}/maps") as f:
            return any(line.rstrip().endswith(".hpo") for line in f)
    except OSError:
        return False


def tables(a, b, c):
    out = report.table(
        "6a. hotpatchd: exec of a matching program to patched",
        ["measure", "median", "p99", "max"],
        [["exec to patched (ms)", f"{a['exec_ms']['median']:.2f}", f"{a['exec_ms']['p99']:.2f}",
          f"{a['exec_ms']['max']:.2f}"],
         ["main() to patched (ms)", f"{a['main_ms']['median']:.2f}",
          f"{a['main_ms']['p99']:.2f}", f"{a['main_ms']['max']:.2f}"],
         ["unpatched calls first (tight loop)", f"{a['calls']['median']:.0f}",
          f"{a['calls']['p99']:.0f}", f"{a['calls']['max']:.0f}"]],
        [f"{a['n']} execs, one after the other; {a['missed']} missed the patch within 5 s.",
         "The window: the program runs its own code from main() until the daemon's worker",
         "has stopped it and written the jumps. `hotpatch commit` (the fixed file on disk)",
         "closes it for processes started after the commit."])
    out += "\n" + report.table(
        "6b. Exec throughput of an unrelated program (/bin/true)",
        ["daemon", "median of round medians (us per exec)", "p90"],
        [["off", f"{b['off_us']['median']:.1f}", f"{b['off_us']['p90']:.1f}"],
         ["on", f"{b['on_us']['median']:.1f}", f"{b['on_us']['p90']:.1f}"]],
        [f"difference on - off: {b['diff_us']:+.1f} us, 95% interval "
         f"[{b['ci'][0]:+.1f}, {b['ci'][1]:+.1f}] ({b['rounds']} rounds of "
         f"{b['per_round']} execs, on and off alternating). Goal: no measurable "
         f"difference: {report.yes(b['ci'][0] <= 0 <= b['ci'][1])}"])
    out += "\n" + report.table(
        f"6c. The daemon with {c['n']} running matching processes",
        ["measure", "value"],
        [["processes patched", f"{c['patched']} of {c['n']}"],
         ["time to patch them all (s)", f"{c['converge_s']:.2f}"],
         ["daemon + workers CPU while patching (s)", f"{c['cpu_converge_s']:.2f}"],
         [f"daemon CPU afterwards, {c['idle_s']} s idle (%)", f"{c['cpu_idle_pct']:.2f}"],
         ["daemon RSS at start (KiB)", c["rss_start_kib"]],
         ["daemon RSS with all patched (KiB)", c["rss_converged_kib"]],
         ["daemon RSS after the idle period (KiB)", c["rss_idle_kib"]]])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small counts (about a minute)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/daemon.py: needs root (ptrace, the process events connector)")
    n_exec, rounds, per_round, n_many, idle = (
        (100, 4, 200, 100, 10) if args.quick else (1000, 10, 1000, 1000, 30))
    s = Setup()
    try:
        log("6c: many processes")
        c = many(s, n_many, idle)
        log("6a: exec to patched")
        s.start_daemon()
        s.hp("enable", s.bundle)
        a = exec_to_patched(s, n_exec)
        s.stop_daemon()
        log("6b: exec throughput (the patch stays enabled: the daemon looks at every exec)")
        b = exec_rate(s, rounds, per_round)
    finally:
        s.cleanup()
    print(tables(a, b, c))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
