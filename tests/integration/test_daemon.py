# SPDX-License-Identifier: MIT
"""hotpatchd keeps an enabled patch applied: in processes already running,
in processes started later, never in excluded ones; it answers its control
socket and refuses malformed requests; disable reverts everywhere.

Every process here runs a copy of the probe fixture with a build-id of its
own, so nothing else on the host matches the patch."""
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from daemon import PROBE_PATCH, Daemon, probe_result, spawn_probe  # noqa: E402
from hptest import (Failure, expect, expect_eq, main, signed_bundle, trust_key,  # noqa: E402
                    unique_copy, wait_for)

CGROUP2 = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") \
    else "/sys/fs/cgroup"


def holder(env, probe, preexec=None):
    """A long-running probe: it prints its line once it sees the patch."""
    p = spawn_probe(probe, ["--hold", "--wait-ms", "60000"], preexec=preexec)
    env.procs.append(p)
    return p


def patched_now(pid, probe):
    """Whether the patch object is mapped in @pid (the engine's .hpo)."""
    with open(f"/proc/{pid}/maps") as f:
        return any(line.rstrip().endswith(".hpo") for line in f)


def short_lived(probe, preexec=None, wait_ms=5000):
    """Runs a probe to its end: exit 0 when it saw the patch within
    @wait_ms, 3 when not."""
    p = spawn_probe(probe, ["--wait-ms", wait_ms], preexec=preexec)
    return probe_result(p)


def check_without_daemon(env, probe, bundle, pid_id):
    """The CLI alone: enable applies everywhere, disable reverts."""
    h = holder(env, probe)
    time.sleep(0.1)
    r = env.hp("enable", bundle)
    expect("hotpatchd is not running" in r.stdout, f"enable without the daemon: {r.stdout}")
    wait_for(lambda: patched_now(h.pid, probe), what="enable to apply without the daemon")
    r = env.hp("disable", pid_id)
    expect("reverting" in r.stdout, f"disable without the daemon: {r.stdout}")
    wait_for(lambda: not patched_now(h.pid, probe), what="disable to revert without the daemon")
    h.kill()
    h.wait()


def check_existing_and_new(env, d, probe, bundle, pid_id):
    h1, h2 = holder(env, probe), holder(env, probe)
    time.sleep(0.1)
    env.hp("enable", bundle)
    wait_for(lambda: {h1.pid, h2.pid} <= d.pids_in(pid_id, "patched"), timeout=20,
             what="the daemon to patch both running processes")
    for h in (h1, h2):
        line = h.stdout.readline()
        expect(line.startswith("patched=1"), f"running probe {h.pid} saw no patch: {line!r}")
    for i in range(5):
        code, rep, err = short_lived(probe)
        expect_eq(code, 0, f"new probe {i} patched (report {rep}, stderr {err!r})")
    return h1, h2


def check_views(env, d, pid_id, pids):
    view = d.patch_view(pid_id)
    expect(view is not None and view["enabled"], f"the view has the patch: {view}")
    expect_eq(view["cves"], ["CVE-2099-0100"], "CVEs in the view")
    text = d.request("status-text")
    expect(pid_id in text and all(str(p) in text for p in pids),
           f"status-text lists the patch and the processes:\n{text}")
    r = env.hp("status")
    expect("hotpatchd keeps these patches applied" in r.stdout and pid_id in r.stdout,
           f"hotpatch status shows the daemon's view:\n{r.stdout}")
    js = env.hp_json("status")
    expect(json.dumps(js).count(pid_id) >= 1, f"status --json has the patch: {js}")


def write_conf(env, text):
    path = os.path.join(env.root, "etc/hotpatch/hotpatch.conf")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def check_exclusions(env, d, probe, pid_id):
    """exclude-exe, exclude-user, exclude-unit, exclude-cgroup; SIGHUP
    reloads; a bad configuration keeps the old one."""
    other = os.path.join(env.dir, "excluded-probe")
    shutil.copy(probe, other)  # same build, another path
    unit_dir = os.path.join(CGROUP2, f"hp-test-{os.getpid()}.service")
    grp_dir = os.path.join(CGROUP2, f"hp-test-grp-{os.getpid()}")
    os.makedirs(unit_dir, exist_ok=True)
    os.makedirs(os.path.join(grp_dir, "inner"), exist_ok=True)
    try:
        write_conf(env, f"exclude-exe = {other}\nexclude-user = nobody\n"
                        f"exclude-unit = {os.path.basename(unit_dir)}\n"
                        f"exclude-cgroup = /{os.path.basename(grp_dir)}\n")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in d.log(), what="the reload")

        code, rep, _ = short_lived(other, wait_ms=1500)
        expect_eq(code, 3, f"a probe at an excluded path stays unpatched ({rep})")
        nobody = pwd.getpwnam("nobody")
        os.chmod(env.dir, 0o755)
        code, rep, _ = short_lived(probe, wait_ms=1500,
                                   preexec=lambda: (os.setgid(nobody.pw_gid),
                                                    os.setuid(nobody.pw_uid)))
        expect_eq(code, 3, f"a probe run by nobody stays unpatched ({rep})")

        def into(cg):
            return lambda: open(os.path.join(cg, "cgroup.procs"), "w").write("0")
        code, rep, _ = short_lived(probe, preexec=into(unit_dir), wait_ms=1500)
        expect_eq(code, 3, f"a probe in an excluded unit stays unpatched ({rep})")
        code, rep, _ = short_lived(probe, preexec=into(os.path.join(grp_dir, "inner")),
                                   wait_ms=1500)
        expect_eq(code, 3, f"a probe below an excluded cgroup stays unpatched ({rep})")

        excluded_holder = holder(env, other)
        wait_for(lambda: excluded_holder.pid in d.pids_in(pid_id, "excluded"), timeout=20,
                 what="the view to list the excluded process")
        expect(not patched_now(excluded_holder.pid, other), "excluded process untouched")
        # A process a rule matches but the patch does not concern (it does
        # not map the target) is not listed, at exec or at a rescan.
        bystander = subprocess.Popen(["sleep", "60"],
                                     preexec_fn=lambda: (os.setgid(nobody.pw_gid),
                                                         os.setuid(nobody.pw_uid)))
        env.procs.append(bystander)
        d.request("reconcile")
        expect(excluded_holder.pid in d.pids_in(pid_id, "excluded") and
               bystander.pid not in d.pids_in(pid_id, "excluded"),
               "only processes that map the target are listed as excluded")

        # A bad line: the daemon keeps the rules it had.
        write_conf(env, "exclude-exe = relative/path\nno-such-key = 1\n")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "keeping the old configuration" in d.log(), what="the refusal")
        code, rep, _ = short_lived(other, wait_ms=1500)
        expect_eq(code, 3, f"the old rules still hold after a bad reload ({rep})")

        # Rules removed: the excluded process gets the patch.
        write_conf(env, "")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: patched_now(excluded_holder.pid, other), timeout=20,
                 what="the process to be patched once no rule excludes it")
        excluded_holder.kill()
        excluded_holder.wait()
    finally:
        for cg in (unit_dir, os.path.join(grp_dir, "inner"), grp_dir):
            for _ in range(50):
                try:
                    os.rmdir(cg)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


def raw_request(d, data, timeout=5):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(d.sock)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out.decode(errors="replace")
    finally:
        s.close()


def check_control(d):
    expect('"error"' in raw_request(d, b"frobnicate\n"), "an unknown request gets an error")
    expect('"error"' in raw_request(d, b"stat\x00us\n"), "a NUL byte is refused")
    expect('"error"' in raw_request(d, b"\x1b[2J\n"), "control characters are refused")
    expect('"error"' in raw_request(d, b"s" * 5000 + b"\n"), "an overlong line is refused")

    # Clients that hang up before their answer: the daemon's write fails
    # (EPIPE) and it carries on (a SIGPIPE once killed it).
    for _ in range(50):
        s = socket.socket(socket.AF_UNIX)
        s.connect(d.sock)
        s.sendall(b"status\n")
        s.close()
    expect(d.ping_ok(), "the daemon survives clients that hang up before the answer")

    # A client that never ends its line holds nothing up, and is dropped
    # after its deadline.
    slow = socket.socket(socket.AF_UNIX)
    slow.connect(d.sock)
    slow.sendall(b"stat")
    t = time.monotonic()
    expect(d.ping_ok(), "ping is answered while a slow client is pending")
    expect(time.monotonic() - t < 1.0, "ping was not held up by the slow client")
    slow.settimeout(5)
    t = time.monotonic()
    reply = slow.recv(4096).decode(errors="replace")
    slow.close()
    expect(time.monotonic() - t < 3.0, "the slow client was dropped after its deadline")
    expect(reply == "" or '"error"' in reply, f"the slow client got no answer: {reply!r}")

    # More clients than the daemon reads at once (16), all silent: the next
    # one waits in the backlog until their deadline frees a slot, and is
    # answered rather than turned away.
    idle = []
    for _ in range(16):
        s = socket.socket(socket.AF_UNIX)
        s.connect(d.sock)
        idle.append(s)
    time.sleep(0.2)
    t = time.monotonic()
    try:
        answer = json.loads(d.request("ping", timeout=5))
    except (OSError, ValueError) as e:
        answer = {"error": repr(e)}
    expect(answer.get("ok") is True,
           f"a client beyond the 16 being read waits its turn and is answered ({answer})")
    expect(time.monotonic() - t < 4.0, "it waited no longer than the others' deadline")
    for s in idle:
        s.close()

    # Only root may talk to the daemon.
    nobody = pwd.getpwnam("nobody")
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            out = raw_request(d, b"status\n")
            os._exit(0 if "patches" not in out else 1)
        except OSError:
            os._exit(0)  # could not even connect: also refused
    _, status = os.waitpid(pid, 0)
    expect_eq(os.waitstatus_to_exitcode(status), 0, "a non-root peer is refused")
    expect(d.ping_ok(), "the daemon still answers after the malformed requests")


def test(env):
    key = trust_key(env)
    probe = unique_copy(env, "probe")
    bundle = signed_bundle(env, probe, PROBE_PATCH, key)
    pid_id = env.bundle_id(bundle)

    check_without_daemon(env, probe, bundle, pid_id)

    d = Daemon(env)
    h1, h2 = check_existing_and_new(env, d, probe, bundle, pid_id)
    check_views(env, d, pid_id, [h1.pid, h2.pid])
    check_control(d)
    check_exclusions(env, d, probe, pid_id)

    r = env.hp("disable", pid_id)
    expect("reverts it everywhere" in r.stdout, f"disable with the daemon: {r.stdout}")
    wait_for(lambda: not patched_now(h1.pid, probe) and not patched_now(h2.pid, probe),
             timeout=20, what="disable to revert in every process")
    code, rep, _ = short_lived(probe, wait_ms=1500)
    expect_eq(code, 3, f"a new probe after disable is not patched ({rep})")

    d.proc.send_signal(signal.SIGTERM)
    expect_eq(d.proc.wait(timeout=20), 0, "hotpatchd exits cleanly on SIGTERM")
    expect(not os.path.exists(d.sock), "the control socket is removed on exit")


if __name__ == "__main__":
    main(test)
