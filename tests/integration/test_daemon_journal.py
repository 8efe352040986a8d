# SPDX-License-Identifier: MIT
"""hotpatchd's messages go to the journal natively when its stderr is the
journal's stream ($JOURNAL_STREAM names it): each with PRIORITY by severity,
a MESSAGE_ID per kind of event, and HOTPATCH_PATCH_ID=, HOTPATCH_CVE=,
HOTPATCH_PID= for events about a patch and a process. The journal here is a
socket at /run/systemd/journal/socket in a private mount namespace of this
test, read with the journal's native protocol (what journald reads); the
fallback to stderr is what every other daemon test reads."""
import ctypes
import os
import socket
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from daemon import HOTPATCHD, PROBE_PATCH, Daemon, spawn_probe  # noqa: E402
from hptest import (Failure, expect, expect_eq, main, signed_bundle, trust_key,  # noqa: E402
                    unique_copy, wait_for)

CLONE_NEWNS = 0x00020000
ID_STARTED = "e975b94b879947e78251d6923676d09a"
ID_PATCHED = "6e29672b87484e04ab258dad4d09179d"
ID_STOPPED = "fa15f621e41d48a78e0771db45f2c963"


def private_run():
    """A tmpfs on /run seen by this process and its children only."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        raise Failure(f"unshare(CLONE_NEWNS): {os.strerror(ctypes.get_errno())}")
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "hp-test-run", "/run"], check=True)
    os.makedirs("/run/systemd/journal")


def parse(datagram):
    """One native-protocol entry: KEY=VALUE lines, or KEY, a little-endian
    64-bit length and the value (for values with newlines)."""
    fields, i = [], 0
    while i < len(datagram):
        nl = datagram.index(b"\n", i)
        line = datagram[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            n, = struct.unpack_from("<Q", datagram, nl + 1)
            k, v = line, datagram[nl + 9:nl + 9 + n]
            i = nl + 9 + n + 1
        fields.append((k.decode(), v.decode()))
    return fields


class Journal:
    def __init__(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("/run/systemd/journal/socket")
        self.sock.setblocking(False)
        self.entries = []

    def read(self):
        while True:
            try:
                self.entries.append(parse(self.sock.recv(1 << 20)))
            except BlockingIOError:
                return self.entries

    def find(self, msgid):
        return [dict(e) | {"_all": e} for e in self.read() if ("MESSAGE_ID", msgid) in e]


def test(env):
    key = trust_key(env)
    probe = unique_copy(env, "probe")
    bundle = signed_bundle(env, probe, PROBE_PATCH, key)
    pid_id = env.bundle_id(bundle)
    env.hp("enable", bundle)
    private_run()
    journal = Journal()
    # The stream systemd would connect stderr to: a file, named in
    # $JOURNAL_STREAM by its device and inode.
    stream = os.path.join(env.dir, "stream")
    open(stream, "w").close()
    st = os.stat(stream)
    os.environ["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
    d = Daemon(env, log_name="stream")
    wait_for(lambda: journal.find(ID_STARTED), timeout=10, what="the ready message")
    started = journal.find(ID_STARTED)[0]
    expect_eq(started["PRIORITY"], "6", "the ready message's priority (info)")
    expect_eq(started["SYSLOG_IDENTIFIER"], "hotpatchd", "identifier")
    expect("hotpatchd ready" in started["MESSAGE"], started["MESSAGE"])

    p = spawn_probe(probe, ["--hold", "--wait-ms", 60000])
    env.procs.append(p)
    wait_for(lambda: journal.find(ID_PATCHED), timeout=20, what="the patched event")
    ev = journal.find(ID_PATCHED)[0]
    expect_eq(ev["PRIORITY"], "5", "a patched event's priority (notice)")
    expect_eq(ev["HOTPATCH_PATCH_ID"], pid_id, "HOTPATCH_PATCH_ID")
    expect_eq(ev["HOTPATCH_PID"], str(p.pid), "HOTPATCH_PID")
    expect_eq([v for k, v in ev["_all"] if k == "HOTPATCH_CVE"], ["CVE-2099-0100"],
              "HOTPATCH_CVE")

    # A fatal error is an error: a second daemon for the same root.
    r = subprocess.run([HOTPATCHD, "--root", env.root], stderr=open(stream, "a"), timeout=20)
    expect_eq(r.returncode, 2, "the second daemon's exit status")
    wait_for(lambda: any(e["PRIORITY"] == "3" for e in journal.find(ID_STOPPED)), timeout=5,
             what="the refusal at priority err")
    expect("another hotpatchd" in [e for e in journal.find(ID_STOPPED)
                                   if e["PRIORITY"] == "3"][0]["MESSAGE"], "the refusal")
    d.stop()
    expect_eq(open(stream).read(), "", "nothing went to stderr: the journal took it all")
    p.kill()
    p.wait()


if __name__ == "__main__":
    main(test)
