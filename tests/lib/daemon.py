# SPDX-License-Identifier: MIT
"""hotpatchd for the tests: started in a test's private --root, asked over
its control socket, killed or stopped at will."""
import json
import os
import signal
import socket
import subprocess
import time

from hptest import BUILD, Failure, fixture, wait_for

HOTPATCHD = os.environ.get("HOTPATCHD", os.path.join(BUILD, "src/daemon/hotpatchd"))

PROBE_PATCH = """
#include <hotpatch/patch.h>
extern int probe_check(int n);
HOTPATCH_CVE("CVE-2099-0100");
HOTPATCH_DESCRIPTION("probe_check: refuse lengths above 64");
HOTPATCH_REPLACE(probe_check, probe_check_fixed);
int probe_check_fixed(int n)
{
	return n > 64 ? -1 : n;
}
"""

LIB_PATCH = """
#include <hotpatch/patch.h>
extern int lib_check(int n);
HOTPATCH_CVE("CVE-2099-0101");
HOTPATCH_DESCRIPTION("lib_check: refuse lengths above 64");
HOTPATCH_REPLACE(lib_check, lib_check_fixed);
int lib_check_fixed(int n)
{
	return n > 64 ? -7 : n;
}
"""


class Daemon:
    def __init__(self, env, *args, log_name="hotpatchd.log", wrap=()):
        """@wrap: a command to run hotpatchd under (the sandbox fixture)."""
        self.env = env
        self.args = args
        self.wrap = list(wrap)
        self.sock = os.path.join(env.root, "run/hotpatch/control.sock")
        self.log_path = os.path.join(env.dir, log_name)
        self.proc = None
        self.start()

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([*self.wrap, HOTPATCHD, "--root", self.env.root, *self.args],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self.env.procs.append(self.proc)
        wait_for(lambda: self._alive_or_fail() and self.ping_ok(), timeout=20,
                 what="hotpatchd to answer on its control socket")

    def _alive_or_fail(self):
        if self.proc.poll() is not None:
            raise Failure(f"hotpatchd exited with {self.proc.returncode}:\n{self.log()}")
        return True

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def request(self, line, raw=False, timeout=10):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        try:
            s.connect(self.sock)
            s.sendall(line if raw else (line + "\n").encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return data.decode()
        finally:
            s.close()

    def ping_ok(self):
        try:
            return json.loads(self.request("ping", timeout=2)).get("ok") is True
        except (OSError, ValueError):
            return False

    def view(self):
        return json.loads(self.request("status"))["patches"]

    def patch_view(self, pid_id):
        for p in self.view():
            if p["id"] == pid_id:
                return p
        return None

    def pids_in(self, patch_id, state):
        p = self.patch_view(patch_id)
        return {e["pid"] for e in p[state]} if p else set()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def run_probe(args, env_vars=None, timeout=30):
    """Runs probe to its end; returns (exit code, dict of its report)."""
    e = dict(os.environ)
    if env_vars:
        e.update(env_vars)
    r = subprocess.run([fixture("probe"), *map(str, args)], capture_output=True, text=True,
                       env=e, timeout=timeout)
    report = dict(kv.split("=") for kv in r.stdout.split()) if r.stdout else {}
    return r.returncode, report


def spawn_probe(path, args, env_vars=None, preexec=None):
    e = dict(os.environ)
    if env_vars:
        e.update(env_vars)
    return subprocess.Popen([path, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=e, preexec_fn=preexec)


def probe_result(proc, timeout=60):
    out, err = proc.communicate(timeout=timeout)
    report = dict(kv.split("=") for kv in out.split()) if out.strip() else {}
    return proc.returncode, report, err


def mono_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)
