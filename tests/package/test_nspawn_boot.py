#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The Debian package booted under systemd-nspawn -b (a real systemd as PID
1), in a fresh bookworm root with systemd (the cache of deb_install).

First boot, nspawn's defaults (its seccomp filter): hotpatchd.service stays
active in degraded mode, without a restart, says so in STATUS= and in the
journal at priority warning; `hotpatch doctor` run inside names fanotify,
the process events connector and seccomp filter reading, each with its
remedy; a second hotpatchd started by hand is refused and the service keeps
its socket.

Second boot, with the settings docs/daemon.md gives for containers (no
seccomp filter: SYSTEMD_SECCOMP=0) and the hardening drop-in installed: a
demo server started inside by systemd is patched (its leak stops, probed
over TCP from outside), the node_exporter textfile counts it, and
`journalctl HOTPATCH_CVE=` finds the event at priority notice;
`systemd-analyze security` scores the unit lower with the drop-in.

Every boot waits with a bound, and the container is always stopped (then
killed) and nothing of it left running."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from redis import free_port  # noqa: E402
from hptest import SRC, Failure, expect, expect_eq, wait_for  # noqa: E402
from test_deb_install import (CHROOT_ENV, Chroot, build_deb, builder_deb, log, minbase,  # noqa: E402
                              package_main, run)

BOOT_TIMEOUT = 90
CVE = "CVE-2099-0160"
PROM = "/var/lib/prometheus/node-exporter/hotpatch.prom"


def prepare(work, deb, port):
    """The root: the package, systemd, the demo server and its signed fix
    enabled, a unit that runs the server (not started at boot)."""
    t0 = time.time()
    root = minbase(work)
    ch = Chroot(root)
    try:
        ch.setup()
        shutil.copy(deb, ch.path("/tmp/"))
        shutil.copy(builder_deb(deb), ch.path("/tmp/"))
        ch.run("apt-get", "update", "-q")
        ch.run("apt-get", "install", "-y", "-q", "systemd", "systemd-sysv", "dbus",
               "/tmp/" + os.path.basename(deb), "/tmp/" + os.path.basename(builder_deb(deb)),
               timeout=1800)
        shutil.copytree(os.path.join(SRC, "demo"), ch.path("/opt/demo"))
        ch.run("cc", "-std=gnu17", "-O2", "-g", "-pthread", "-Wl,-z,now", "-o",
               "/opt/demo/demo-server", "/opt/demo/server.c")
        ch.run("hotpatch", "build", "--target", "/opt/demo/demo-server", "-o",
               "/opt/demo/fix.hpb", "/opt/demo/fix.c")
        ch.run("hotpatch", "keygen", "-k", "/root/demo.key")
        ch.run("install", "-m", "0644", "/root/demo.key.pub", "/etc/hotpatch/trusted.d/demo.pub")
        ch.run("hotpatch", "sign", "/opt/demo/fix.hpb", "-k", "/root/demo.key")
        ch.run("hotpatch", "enable", "/opt/demo/fix.hpb")
        with open(ch.path("/etc/systemd/system/demo.service"), "w") as f:
            f.write(f"[Service]\nExecStart=/opt/demo/demo-server {port}\n")
        os.unlink(ch.path("/usr/sbin/policy-rc.d"))
    finally:
        if not ch.teardown():
            raise Failure(f"could not unmount everything under {root}")
    log(f"root with systemd and the package ready in {time.time() - t0:.0f} s")
    return root


class Container:
    """systemd-nspawn -b of @root; commands run inside with nsenter, or
    under the container's own systemd (and so its seccomp filter) with
    systemd-run --pipe."""

    def __init__(self, root, work, name, env=None):
        self.root = root
        self.log_path = os.path.join(work, name + ".log")
        with open(self.log_path, "w") as logf:
            self.proc = subprocess.Popen(
                ["systemd-nspawn", "--register=no", "--keep-unit", "-q", "-b", "-D", root],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                start_new_session=True, env={**os.environ, **(env or {})})
        self.init = None
        t0 = time.time()
        try:
            wait_for(self._booted, timeout=BOOT_TIMEOUT, what=f"{name} to boot")
        except BaseException as e:
            why = self.diagnose()
            self.stop()
            raise Failure(f"{e}:\n{why}\nconsole:\n{self.console()}")
        log(f"{name}: booted in {time.time() - t0:.1f} s")

    def diagnose(self):
        """What a boot that did not finish is waiting for."""
        if not self.init:
            return "(no init process found)"
        out = []
        for cmd in (["systemctl", "is-system-running"], ["systemctl", "list-jobs", "--no-pager"],
                    ["systemctl", "--failed", "--no-pager"],
                    ["systemctl", "status", "--no-pager", "hotpatchd", "hotpatch-commit"]):
            try:
                r = self.sh(*cmd, check=False, timeout=20)
                out.append(f"$ {' '.join(cmd)}\n{r.stdout}{r.stderr}")
            except subprocess.TimeoutExpired:
                out.append(f"$ {' '.join(cmd)}: timed out")
        return "\n".join(out)

    def console(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-1500:]

    def _booted(self):
        if self.proc.poll() is not None:
            raise Failure(f"systemd-nspawn exited {self.proc.returncode}")
        # nspawn's child is a helper at first, then the container's init,
        # systemd (which keeps its comm until the container stops).
        self.init = None
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                kids = f.read().split()
            for pid in kids:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == "systemd":
                        self.init = pid
        except OSError:
            return False
        if not self.init:
            return False
        r = self.sh("systemctl", "is-system-running", check=False)
        return r.stdout.strip() in ("running", "degraded")

    def sh(self, *args, check=True, timeout=120):
        cmd = ["nsenter", "-t", self.init, "-a", "env", *[f"{k}={v}" for k, v in
                                                         CHROOT_ENV.items()], *args]
        if check:
            return run(cmd, timeout=timeout)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def service(self, *args, check=True):
        """@args run as a transient service of the container's systemd."""
        return self.sh("systemd-run", "--wait", "--pipe", "-q", *args, check=check)

    def prop(self, unit, name):
        return self.sh("systemctl", "show", "-P", name, unit).stdout.strip()

    def stop(self):
        """Poweroff (SIGTERM to nspawn), then SIGKILL to its session."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)


def left_running(root):
    """Processes whose root is inside @root."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/root").startswith(root):
                pids.append(pid)
        except OSError:
            pass
    return pids


def security_score(c):
    out = c.sh("systemd-analyze", "security", "--no-pager", "hotpatchd.service").stdout
    m = re.search(r"Overall exposure level for hotpatchd\.service: ([\d.]+)", out)
    expect(m, f"systemd-analyze security: {out[-500:]}")
    return float(m.group(1))


def default_boot(root, work):
    c = Container(root, work, "default-boot")
    try:
        wait_for(lambda: c.prop("hotpatchd.service", "ActiveState") == "active", timeout=30,
                 what="hotpatchd.service to be active")
        time.sleep(6)  # three RestartSec= periods: a restart loop would show
        expect_eq(c.prop("hotpatchd.service", "ActiveState"), "active", "still active")
        expect_eq(c.prop("hotpatchd.service", "NRestarts"), "0", "restarts")
        status = c.prop("hotpatchd.service", "StatusText")
        expect("degraded, blocked: fanotify, process events connector, seccomp filter "
               "reading" in status, f"STATUS= {status!r}")
        warn = c.sh("journalctl", "-u", "hotpatchd", "-p", "warning", "-o", "json",
                    "--no-pager").stdout
        entries = [json.loads(x) for x in warn.splitlines()]
        degraded = [e for e in entries
                    if e.get("MESSAGE_ID") == "5734bf5b6319405392d28ce07a39288a"]
        expect_eq(len(degraded), 3, f"degraded-mode warnings in the journal: {warn[-2000:]}")
        expect(all(e["PRIORITY"] == "4" for e in degraded), "at priority warning")
        doctor = c.service("hotpatch", "doctor", check=False).stdout
        for words in ["fanotify: Operation not permitted", "Remedy: allow fanotify_init",
                      "process events connector: ", "Remedy: run hotpatchd on the host",
                      "seccomp filter reading: ", "run it without one"]:
            expect(words in doctor, f"doctor inside names {words!r}:\n{doctor}")
        st = json.loads(c.service("hotpatch", "status", "--json").stdout)
        expect_eq(st["daemon"]["mode"], "degraded", "status --json daemon mode")
        second = c.service("hotpatchd", check=False)
        expect_eq(second.returncode, 2, f"a second hotpatchd: {second.stdout}")
        expect_eq(c.prop("hotpatchd.service", "ActiveState"), "active", "the service")
        c.sh("hotpatch", "status")  # its socket is still there and answers
        score = security_score(c)
        log(f"default boot: degraded, no restart, doctor names the three facilities; "
            f"systemd-analyze security {score}")
        return score
    finally:
        c.stop()


def probe(port):
    client = os.path.join(SRC, "demo/client.py")
    r = subprocess.run([sys.executable, client, "probe", str(port), "160", "hi"],
                       capture_output=True, text=True, timeout=30)
    return r.stdout


def documented_boot(root, work, port):
    dropin = os.path.join(root, "etc/systemd/system/hotpatchd.service.d")
    os.makedirs(dropin)
    shutil.copy(os.path.join(root, "usr/share/doc/hotpatch/examples/hardening.conf"), dropin)
    c = Container(root, work, "documented-boot", env={"SYSTEMD_SECCOMP": "0"})
    try:
        wait_for(lambda: c.prop("hotpatchd.service", "ActiveState") == "active", timeout=30,
                 what="hotpatchd.service to be active")
        status = c.prop("hotpatchd.service", "StatusText")
        expect(status.endswith("degraded, blocked: process events connector"),
               f"STATUS= with fanotify and filter reading allowed: {status!r}")
        c.sh("systemctl", "start", "demo.service")
        wait_for(lambda: "reply:" in probe(port), timeout=20, what="the demo server")
        wait_for(lambda: "LEAKED:" not in probe(port), timeout=30,
                 what="hotpatchd to patch the server started inside")
        out = probe(port)
        expect(re.search(r"reply: *2 bytes: hi$", out, re.M), f"patched server: {out}")
        prom = os.path.join(root, PROM.lstrip("/"))
        # (Rewritten within a second of a change.)
        try:
            wait_for(lambda: re.search(r"^hotpatch_processes_patched 1$", open(prom).read(),
                                       re.M), timeout=5, what="the textfile to count the server")
        except Failure as e:
            raise Failure(f"{e}:\n{open(prom).read()}\n{c.sh('hotpatch', 'status').stdout}")
        ev = c.sh("journalctl", f"HOTPATCH_CVE={CVE}", "-o", "json", "--no-pager").stdout
        entries = [json.loads(x) for x in ev.splitlines()]
        pid = c.prop("demo.service", "MainPID")
        patched = [e for e in entries if e.get("HOTPATCH_PID") == pid and
                   e.get("MESSAGE_ID") == "6e29672b87484e04ab258dad4d09179d"]
        expect_eq(len(patched), 1, f"the patched event by CVE: {ev[-2000:]}")
        expect_eq(patched[0]["PRIORITY"], "5", "at priority notice")
        score = security_score(c)
        log(f"documented boot: the server started inside is patched; with the drop-in "
            f"systemd-analyze security {score}")
        return score
    finally:
        c.stop()


def test(work):
    deb = build_deb(work)
    port = free_port()
    root = prepare(work, deb, port)
    t0 = time.time()
    try:
        plain = default_boot(root, work)
        hardened = documented_boot(root, work, port)
        expect(hardened < plain - 1.5, f"the drop-in lowers the exposure: {plain} -> "
                                       f"{hardened}")
    finally:
        try:
            wait_for(lambda: not left_running(root), timeout=30,
                     what="the container's processes to be gone")
        except Failure as e:
            raise Failure(f"{e}: {left_running(root)}")
    log(f"both boots in {time.time() - t0:.0f} s")


def main():
    if not shutil.which("systemd-nspawn"):
        print("FAIL: systemd-nspawn is missing: install systemd-container (debian/control)")
        sys.exit(1)
    package_main(test, "hp-nspawn-", needs="debootstrap, chroot, systemd-nspawn",
                 in_use=left_running)


if __name__ == "__main__":
    main()
