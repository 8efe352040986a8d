# SPDX-License-Identifier: MIT
"""hotpatchd as operators and monitoring see it: --version; one daemon per
root (a second one is refused with exit status 2 and leaves the first one's
control socket alone); exit status 2 for a bad configuration (the unit does
not restart it); `status --json` with its schema version, host name and
timestamp; the node_exporter textfile, read with the Prometheus text-format
parser; and, run under a seccomp filter that refuses fanotify and the
process events connector (as systemd-nspawn's default one does), a degraded
mode that says so in status and in the textfile and still patches a process
started later (found by the rescan), while `hotpatch doctor` in the same
filter names each blocked facility with its remedy."""
import json
import os
import socket
import subprocess
import sys
import time

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # Debian's python3-prometheus-client, for another python3
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from daemon import HOTPATCHD, PROBE_PATCH, Daemon, spawn_probe  # noqa: E402
from hptest import (HOTPATCH, expect, expect_eq, fixture, main,  # noqa: E402
                    signed_bundle, trust_key, unique_copy, wait_for)


def metrics(env):
    """{(name, frozenset(labels)): value} of the textfile, parsed by the
    Prometheus client's own parser (which raises on a malformed file)."""
    path = os.path.join(env.root, "var/lib/prometheus/node-exporter/hotpatch.prom")
    with open(path) as f:
        text = f.read()
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def metric(m, metric_name, **labels):
    return m.get((metric_name, frozenset(labels.items())))


def check_version():
    r = subprocess.run([HOTPATCHD, "--version"], capture_output=True, text=True, timeout=10)
    expect_eq(r.returncode, 0, "hotpatchd --version exit status")
    expect(r.stdout.startswith("hotpatchd ") and r.stdout.split()[1][0].isdigit(),
           f"hotpatchd --version: {r.stdout!r}")


def check_single_instance(env, d):
    """A second daemon for the same root is refused and leaves the first's
    socket in place (it used to take it over and delete it on exit)."""
    r = subprocess.run([HOTPATCHD, "--root", env.root], capture_output=True, text=True,
                       timeout=20)
    expect_eq(r.returncode, 2, f"a second hotpatchd's exit status: {r.stderr}")
    expect(f"another hotpatchd (pid {d.proc.pid}) already runs" in r.stderr, r.stderr)
    expect(d.ping_ok(), "the first daemon still answers on its socket")
    # A socket someone else put at the path since is not removed on exit.
    sock = os.path.join(env.root, "run/hotpatch/control.sock")
    other = socket.socket(socket.AF_UNIX)
    os.unlink(sock)
    other.bind(sock)
    d.stop()
    expect(os.path.exists(sock), "hotpatchd left alone a socket it did not bind")
    other.close()
    os.unlink(sock)


def check_bad_config(env):
    conf = os.path.join(env.root, "etc/hotpatch/hotpatch.conf")
    os.makedirs(os.path.dirname(conf), exist_ok=True)
    with open(conf, "w") as f:
        f.write("no-such-setting = 1\n")
    r = subprocess.run([HOTPATCHD, "--root", env.root], capture_output=True, text=True,
                       timeout=20)
    os.unlink(conf)
    expect_eq(r.returncode, 2, f"exit status for a bad configuration: {r.stderr}")


def check_status_json(env):
    before = time.time()
    st = env.hp_json("status", "--pid", str(os.getpid()))
    expect_eq(st.get("schema_version"), 1, f"status --json schema_version: {st}")
    expect_eq(st.get("hostname"), socket.gethostname(), "status --json hostname")
    stamp = time.mktime(time.strptime(st["timestamp"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    expect(before - 2 <= stamp <= time.time() + 2, f"status --json timestamp {st['timestamp']}")


def check_full(env, bundle, probe, pid_id):
    """Unfiltered: full mode, and the textfile follows the patching."""
    d = Daemon(env)
    view = json.loads(d.request("status"))
    expect_eq((view["mode"], view["blocked"]), ("full", []), "mode without a filter")
    wait_for(lambda: os.path.exists(os.path.join(
        env.root, "var/lib/prometheus/node-exporter/hotpatch.prom")), timeout=5,
        what="the textfile")
    m = metrics(env)
    expect_eq(metric(m, "hotpatch_daemon_degraded"), 0.0, "degraded gauge, full mode")
    expect_eq(metric(m, "hotpatch_patches", state="enabled"), 1.0, f"enabled patches: {m}")
    p = spawn_probe(probe, ["--hold", "--wait-ms", 60000])
    env.procs.append(p)
    wait_for(lambda: metric(metrics(env), "hotpatch_processes_patched") == 1.0, timeout=20,
             what="the textfile to count the patched process")
    m = metrics(env)
    expect_eq(metric(m, "hotpatch_patch_processes", patch=pid_id, name="patch",
                     state="patched"), 1.0, f"per-patch gauge: {m}")
    expect_eq(metric(m, "hotpatch_patch_cve", patch=pid_id, cve="CVE-2099-0100"), 1.0,
              "the patch's CVE")
    expect_eq(metric(m, "hotpatch_processes_vulnerable"), 0.0, "no vulnerable process")
    expect(time.time() - 60 < metric(m, "hotpatch_last_apply_timestamp_seconds")
           <= time.time() + 1, "last apply time")
    check_single_instance(env, d)
    p.kill()
    p.wait()


def check_degraded(env, probe, pid_id):
    sandbox = fixture("sandbox")
    d = Daemon(env, wrap=[sandbox], log_name="degraded.log")
    view = json.loads(d.request("status"))
    expect_eq(view["mode"], "degraded", f"mode under the filter: {view}")
    blocked = {b["facility"]: b for b in view["blocked"]}
    expect_eq(sorted(blocked), ["fanotify", "process events connector",
                                "seccomp filter reading"], "blocked facilities")
    expect("Operation not permitted" in blocked["fanotify"]["reason"], str(blocked))
    expect("warning: degraded mode: fanotify blocked" in d.log(), d.log())
    text = d.request("status-text")
    expect("degraded mode:" in text and "rescan every 10 s" in text, text)
    # Still patches a process started now, without events: the rescan.
    p = spawn_probe(probe, ["--hold", "--wait-ms", 60000])
    env.procs.append(p)
    wait_for(lambda: p.pid in d.pids_in(pid_id, "patched"), timeout=30,
             what="the degraded daemon to patch a new process by its rescan")
    expect(p.stdout.readline().startswith("patched=1"), "the probe sees the patch")
    # Within a second of the change, though nothing else wakes the daemon
    # before its next rescan.
    wait_for(lambda: metric(metrics(env), "hotpatch_processes_patched") == 1.0, timeout=3,
             what="the textfile to count the process the rescan patched")
    expect_eq(metric(metrics(env), "hotpatch_daemon_degraded"), 1.0, "degraded in the textfile")
    m = metrics(env)
    for fac in ["fanotify", "process events connector", "seccomp filter reading"]:
        expect_eq(metric(m, "hotpatch_daemon_blocked", facility=fac), 1.0, fac)
    d.stop()
    expect_eq(d.proc.returncode, 0, "the degraded daemon stops cleanly")
    p.kill()
    p.wait()

    out = subprocess.run([sandbox, HOTPATCH, "--root", env.root, "doctor"],
                         capture_output=True, text=True, timeout=60).stdout
    for words in ["fanotify: Operation not permitted", "Remedy: allow fanotify_init",
                  "process events connector: ", "Remedy: run hotpatchd on the host",
                  "seccomp filter reading: ", "run it without one"]:
        expect(words in out, f"doctor under the filter says {words!r}:\n{out}")


def check_nested_pid_namespace(env):
    """In a PID namespace with its own /proc (a container's), the connector
    takes a listener but does not report the namespace's processes."""
    out = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", HOTPATCH, "--root",
                          env.root, "doctor"], capture_output=True, text=True,
                         timeout=60).stdout
    expect("process events connector: the process events connector does not report this "
           "namespace's processes" in out, f"doctor in a nested PID namespace:\n{out}")


def test(env):
    check_version()
    check_nested_pid_namespace(env)
    check_bad_config(env)
    key = trust_key(env)
    probe = unique_copy(env, "probe")
    bundle = signed_bundle(env, probe, PROBE_PATCH, key)
    pid_id = env.bundle_id(bundle)
    env.hp("enable", bundle)
    check_status_json(env)
    check_full(env, bundle, probe, pid_id)
    check_degraded(env, probe, pid_id)


if __name__ == "__main__":
    main(test)
