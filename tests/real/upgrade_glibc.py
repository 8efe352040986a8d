"""glibc 2.36-9+deb12u7 -> 2.36-9+deb12u14, live, on Debian's own libc.so.6.

Installs the older libc6 in a debootstrapped root, starts long-running
programs there (Python, which uses libc for everything, driving the fixed
functions through ctypes: one line in, one answer out; and a few plain
`sleep`s), builds the live patch with `hotpatch build --upgrade-to
2.36-9+deb12u14 --build-profiles nobiarch` against the root's libc.so.6,
applies it from the host to every one of those processes, and runs each
reproducible fix's reproducer: on an unpatched twin process it fails, on a
patched one it passes. Every patched process keeps serving. Prints the
table row.

Between the two versions Debian changed one patch, git-updates.diff (the
upstream stable branch); hotpatch splits it by source file and gives each
file its verdict.

The reproducers, each the fix's own upstream regression test rewritten for a
running process (each runs in a forked child, so a crash is an answer):
- CVE-2025-15281 (wordexp): WRDE_REUSE|WRDE_APPEND after a first expansion
  must give one word, not the old count plus uninitialised pointers.
- CVE-2026-0861 (_int_memalign): memalign(2^63, 2^63 - 33) must fail with
  ENOMEM, not wrap its size to a tiny chunk (heap corruption).
- CVE-2025-0395 (assert): an assertion message that fills a page exactly must
  abort (SIGABRT), not overflow its buffer into a guard page (SIGSEGV).

Run as root: python3 tests/real/upgrade_glibc.py  (about 75 minutes the
first time on 2 cores: six builds of glibc; under a minute of building after)
"""
import os
import select
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from upgrade_common import *

OLD, NEW = "2.36-9+deb12u7", "2.36-9+deb12u14"
LIB = "/usr/lib/x86_64-linux-gnu/libc.so.6"

SERVER = r'''
import ctypes, os, signal, sys
libc = ctypes.CDLL("libc.so.6", use_errno=True)

def child(fn):
    """fn's exit status in a forked child, or the signal that ended it."""
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(fn())
        except BaseException:
            os._exit(99)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return "signal " + signal.Signals(os.WTERMSIG(status)).name
    return "exit %d" % os.WEXITSTATUS(status)

class WordExp(ctypes.Structure):
    _fields_ = [("we_wordc", ctypes.c_size_t), ("we_wordv", ctypes.c_void_p),
                ("we_offs", ctypes.c_size_t)]

def wordexp():
    WRDE_APPEND, WRDE_REUSE = 2, 8
    we = WordExp()
    if libc.wordexp(b"a b c", ctypes.byref(we), 0) != 0:
        return 2
    if libc.wordexp(b"d", ctypes.byref(we), WRDE_REUSE | WRDE_APPEND) != 0:
        return 3
    return 0 if we.we_wordc == 1 else 1

def memalign():
    libc.memalign.restype = ctypes.c_void_p
    libc.memalign.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
    p = libc.memalign(1 << 63, (1 << 63) - 33)
    return 0 if p is None and ctypes.get_errno() == 12 else 1

def assertion():
    page = os.sysconf("SC_PAGESIZE")
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    # A PROT_NONE page below every writable mapping, so that a buffer mmap'ed
    # just below one overflows into a guard rather than into live data.
    for line in open("/proc/self/maps"):
        span, perm = line.split()[:2]
        lo = int(span.split("-")[0], 16)
        if perm[1] == "w" and lo > page:
            libc.mmap(lo - page, page, 0, 0x22 | 0x100000, -1, 0)  # FIXED_NOREPLACE
    fd = os.open("/dev/null", os.O_WRONLY)
    os.dup2(fd, 2)
    fixed = ": f.c:99: fn: Assertion `a' failed.\n"
    name = b"A" * (page - 1 - len(fixed))      # the message fills the page exactly
    keep = ctypes.create_string_buffer(name)
    ctypes.c_void_p.in_dll(libc, "__progname").value = ctypes.addressof(keep)
    libc.__assert_fail(b"a", b"f.c", 99, b"fn")
    return 0

def ptr(ip):
    import socket
    libc.gethostbyaddr.restype = ctypes.c_void_p
    h = libc.gethostbyaddr(socket.inet_aton(ip), 4, socket.AF_INET)
    return 0 if not h else 1          # both answers must be rejected

def net0():
    libc.getnetbyaddr.restype = ctypes.c_void_p
    libc.getnetbyaddr(ctypes.c_uint32(0), 2)
    return 0                          # judged by the query the DNS server saw

TESTS = {"wordexp": (wordexp, "exit 0"), "memalign": (memalign, "exit 0"),
         "assert": (assertion, "signal SIGABRT"), "ptr": (ptr, "exit 0"),
         "net0": (net0, "exit 0")}

for line in sys.stdin:
    cmd, *args = line.split()
    if cmd in TESTS:
        fn, good = TESTS[cmd]
        got = child(lambda: fn(*args))
        print(cmd, "pass" if got == good else "fail: " + got, flush=True)
    else:
        print("pong", flush=True)
'''

def answered(answer, queries):
    return answer is not None and answer.endswith(" pass")


# (fix: a part of git-updates.diff, its CVE, the server's request, judge).
# Every CVE id here but CVE-2025-0395 is given to its part by hotpatch from
# the changelog's words; that one's sub-item ("a buffer overflow when
# printing assertion failure message") names no function of assert.c, and
# hotpatch does not guess (see UNNAMED).
REPRODUCERS = [
    ("git-updates.diff: posix/wordexp.c", "CVE-2025-15281", "wordexp", answered),
    ("git-updates.diff: malloc/malloc.c", "CVE-2026-0861", "memalign", answered),
    ("git-updates.diff: assert/assert.c", "CVE-2025-0395", "assert", answered),
    # a PTR answer whose host name is not a valid one must be refused
    ("git-updates.diff: resolv/nss_dns/dns-host.c", "CVE-2026-4438", "ptr 192.0.2.1", answered),
    # only the announced answers count, not a PTR in the additional section
    ("git-updates.diff: resolv/nss_dns/dns-host.c", "CVE-2026-4437", "ptr 192.0.2.2", answered),
    # getnetbyaddr(0) must ask for 0.0.0.0.in-addr.arpa, not whatever the
    # stack held
    ("git-updates.diff: resolv/nss_dns/dns-network.c", "CVE-2026-0915", "net0",
     lambda answer, queries: answered(answer, queries) and
     queries == ["0.0.0.0.in-addr.arpa"]),
]


UNNAMED = {"CVE-2025-0395"}


class FakeDns:
    """The root's name server, on 127.0.0.1:53: answers the PTR queries the
    reproducers make and records every query name."""

    def __init__(self):
        import socket
        import threading
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 53))
        self.queries = []
        threading.Thread(target=self.serve, daemon=True).start()

    @staticmethod
    def name(labels):
        return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"

    @staticmethod
    def rr(owner, rtype, rdata):
        import struct
        return owner + struct.pack(">HHIH", rtype, 1, 60, len(rdata)) + rdata

    def serve(self):
        import struct
        while True:
            data, peer = self.sock.recvfrom(512)
            qid, flags = struct.unpack(">HH", data[:4])
            labels, i = [], 12
            while data[i]:
                labels.append(data[i + 1:i + 1 + data[i]])
                i += 1 + data[i]
            question = data[12:i + 5]
            qname = self.name(labels)
            self.queries.append(b".".join(labels).decode(errors="replace"))
            an, ar, rcode = [], [], 3
            if labels[:4] == [b"1", b"2", b"0", b"192"]:
                an = [self.rr(qname, 12, self.name([b"bad!name", b"example"]))]
            elif labels[:4] == [b"2", b"2", b"0", b"192"]:
                an = [self.rr(qname, 16, b"\x05hello")]
                ar = [self.rr(qname, 12, self.name([b"additional", b"example"]))]
            if an:
                rcode = 0
            head = struct.pack(">HHHHHH", qid, 0x8180 | (flags & 0x0100) | rcode, 1,
                               len(an), 0, len(ar))
            self.sock.sendto(head + question + b"".join(an + ar), peer)


class PyProc:
    """A long-running Python program of the root: libc through ctypes."""

    def __init__(self, root):
        os.makedirs(os.path.join(root, "tmp/hp"), exist_ok=True)
        with open(os.path.join(root, "tmp/hp/server.py"), "w") as f:
            f.write(SERVER)
        self.p = subprocess.Popen(["chroot", root, "python3", "/tmp/hp/server.py"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, bufsize=1)
        expect(self.ask("ping", 10) == "pong", "the Python program answers")
        self.pid = self.p.pid

    def ask(self, line, timeout=20):
        try:
            self.p.stdin.write(line + "\n")
            self.p.stdin.flush()
        except BrokenPipeError:
            return None
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        return self.p.stdout.readline().strip() or None if r else None

    def stop(self):
        self.p.kill()
        self.p.wait()


def old_libc_root():
    root = make_root("glibc-root", ["python3"])
    have = subprocess.run(["chroot", root, "dpkg-query", "-W", "-f=${Version}", "libc6"],
                          capture_output=True, text=True).stdout
    if have == OLD:
        return root
    say(f"installing libc6 {OLD} in the root")
    subprocess.run(["cp", "/etc/resolv.conf", os.path.join(root, "etc/resolv.conf")])
    subprocess.run(["chroot", root, "apt-get", "-q", "update"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["chroot", root, "apt-get", "-q", "-y", "--allow-downgrades", "install",
                    f"libc6={OLD}", f"libc-bin={OLD}"], check=True, stdout=subprocess.DEVNULL)
    return root


def mount_proc(root):
    """The root's own /proc, as a container has (the assert reproducer reads
    /proc/self/maps)."""
    proc = os.path.join(root, "proc")
    if not os.path.ismount(proc):
        subprocess.run(["mount", "-t", "proc", "proc", proc], check=True)
    return proc


def use_fake_dns(root):
    with open(os.path.join(root, "etc/resolv.conf"), "w") as f:
        f.write("nameserver 127.0.0.1\noptions timeout:2 attempts:1\n")
    path = os.path.join(root, "etc/nsswitch.conf")
    text = open(path).read()
    text = "".join("networks:       files dns\n" if l.startswith("networks:") else l
                   for l in text.splitlines(True))
    with open(path, "w") as f:
        f.write(text)
    return FakeDns()


def main():
    root = old_libc_root()
    proc = mount_proc(root)
    dns = use_fake_dns(root)
    control = PyProc(root)
    patched = [PyProc(root) for _ in range(3)]
    sleepers = [subprocess.Popen(["chroot", root, "sleep", "3600"]) for _ in range(3)]
    try:
        out = os.path.join(WORK, "glibc.hpb")
        if os.path.exists(out):
            os.unlink(out)
        rc, text, err, took = build(LIB, root, NEW, out, ["--build-profiles", "nobiarch"])
        fixes = parse_fixes(text)
        expect(twin_verdict(text) in ("exact", "code-identical"), "the twin reproduces")
        expect(rc == 0 and os.path.exists(out), f"a bundle: {err[-2000:]}")
        fixed = fixed_verdict(text)
        store = Store()
        for p in patched:
            store.apply(out, p.pid)
        for s in sleepers:
            store.apply(out, s.pid)
        proven = {}

        def run(proc, request):
            dns.queries.clear()
            answer = proc.ask(request)
            return answer, list(dns.queries)

        for n, cve, request, judge in REPRODUCERS:
            verdict = fixes.get(n, {}).get("verdict")
            named = cve in fixes.get(n, {}).get("cves", [])
            expect(named == (cve not in UNNAMED),
                   f"{n} {'lacks' if not named else 'carries'} {cve}: {fixes.get(n)}")
            if verdict != "in the live patch":
                say(f"{n} ({cve}): {verdict}: no live run")
                continue
            before = run(control, request)
            say(f"{cve} ({n}): unpatched: {before}")
            expect(not judge(*before), f"{cve}: the reproducer fails on the unpatched libc")
            for p in patched:
                after = run(p, request)
                say(f"{cve}: patched {p.pid}: {after}")
                expect(judge(*after), f"{cve}: the reproducer passes on the patched libc")
                expect(p.ask("ping") == "pong", f"{cve}: the patched process keeps serving")
            proven[cve] = n
        for s in sleepers:
            expect(s.poll() is None, "the patched sleep processes keep running")
        size = f"{os.path.getsize(out)} bytes"
        table_row("glibc", OLD, NEW, fixes, twin_verdict(text), took, size, fixed)
        print(f"CVEs proven live by their reproducer: {len(proven)}: "
              f"{', '.join(sorted(proven))}")
        print("ok")
    finally:
        for p in [control] + patched:
            p.stop()
        subprocess.run(["umount", proc])
        for s in sleepers:
            s.kill()
            s.wait()


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAIL: {e}")
        sys.exit(1)
