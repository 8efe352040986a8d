# SPDX-License-Identifier: MIT
"""Helpers for hotpatch's integration tests.

Every test runs real processes (the fixtures under tests/fixtures, or real
servers from Debian's archive) and drives the real `hotpatch` binary against
them, in a private --root directory so nothing outside it is touched. Tests
assert observable effects: what the target answers, what its memory holds,
what `hotpatch status` reports.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

BUILD = os.environ.get("HP_BUILD_ROOT", os.path.join(os.path.dirname(__file__), "../../build"))
SRC = os.environ.get("HP_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "../.."))
HOTPATCH = os.environ.get("HOTPATCH", os.path.join(BUILD, "src/cli/hotpatch"))
FIXTURES = os.path.join(BUILD, "tests/fixtures")
SKIP = 77


class Failure(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Failure(msg)


def expect_eq(got, want, what):
    if got != want:
        raise Failure(f"{what}: expected {want!r}, got {got!r}")


def fixture(name):
    return os.path.join(FIXTURES, name)


class Victim:
    """A running fixture server we can ask questions over its socket."""

    def __init__(self, env, binary, *args, env_vars=None, lib_dir=None, wrap=()):
        """@wrap: a command that execs the rest (unshare ... sh -c 'exec "$@"'),
        so the victim keeps the pid Popen gives."""
        self.env = env
        self.sock = os.path.join(env.dir, f"victim{len(env.procs)}.sock")
        e = dict(os.environ)
        e["LD_LIBRARY_PATH"] = lib_dir or FIXTURES
        if env_vars:
            e.update(env_vars)
        # Output to a file, not the test's pipes: a straggler (a vfork child,
        # say) holding the pipe would keep the test runner waiting.
        self.log = open(os.path.join(env.dir, f"victim{len(env.procs)}.log"), "w")
        self.proc = subprocess.Popen([*wrap, fixture(binary), self.sock, *map(str, args)], env=e,
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        env.procs.append(self.proc)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"{binary} exited at start with {self.proc.returncode}")
            try:
                self._conn = socket.socket(socket.AF_UNIX)
                self._conn.connect(self.sock)
                break
            except OSError:
                self._conn.close()
                time.sleep(0.01)
        else:
            raise Failure(f"{binary} did not start listening")
        self._conn.settimeout(10)

    @property
    def pid(self):
        return self.proc.pid

    def ask(self, line):
        self._conn.sendall((line + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = self._conn.recv(256)
            if not chunk:
                raise Failure(f"victim {self.pid} closed the connection (crashed?)")
            data += chunk
        return data.decode().strip()

    def call(self, n):
        return int(self.ask(f"call {n}"))

    def stats(self):
        return dict(kv.split("=") for kv in self.ask("stats").split())

    def alive(self):
        return self.proc.poll() is None

    def state(self):
        with open(f"/proc/{self.pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]

    def maps_objects(self):
        with open(f"/proc/{self.pid}/maps") as f:
            return [line.split()[-1] for line in f if line.rstrip().endswith(".hpo")]

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()


class Env:
    """A private root for hotpatch, a work directory, and cleanup."""

    def __init__(self, name):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"hp-{name}-")
        self.root = os.path.join(self.dir, "root")
        os.makedirs(self.root)
        self.procs = []

    def hp(self, *args, check=True, env_vars=None, timeout=120, input=None):
        e = dict(os.environ)
        if env_vars:
            e.update(env_vars)
        cmd = [HOTPATCH, "--root", self.root, *map(str, args)]
        r = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=timeout,
                           input=input)
        if check and r.returncode != 0:
            raise Failure(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
        return r

    def hp_json(self, *args, check=True, env_vars=None):
        r = self.hp(*args, "--json", check=check, env_vars=env_vars)
        return json.loads(r.stdout)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def build(self, target, source, name="patch", extra=()):
        src = self.write(f"{name}.c", source)
        out = os.path.join(self.dir, f"{name}.hpb")
        self.hp("build", "--target", target, "-o", out, *extra, src)
        return out

    def bundle_id(self, bundle):
        return json.loads(self.hp("info", "--json", bundle).stdout)["id"]

    def victim(self, binary="victim", *args, env_vars=None, lib_dir=None, wrap=()):
        return Victim(self, binary, *args, env_vars=env_vars, lib_dir=lib_dir, wrap=wrap)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def code_private_dirty_kb(pid, path):
    """Private_Dirty of @path's executable mapping in @pid (copied code pages)."""
    real, total, inside = os.path.realpath(path), 0, False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5:
                inside = len(parts) >= 6 and parts[5] == real and "x" in parts[1]
            elif inside and parts[0] == "Private_Dirty:":
                total += int(parts[1])
    return total


def mem_bytes(pid, addr, n):
    with open(f"/proc/{pid}/mem", "rb") as f:
        f.seek(addr)
        return f.read(n)


def file_bytes(path, offset, n):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(n)


def symbol(path, name):
    """(value, size) of a symbol in an ELF file's .symtab, via nm."""
    out = subprocess.run(["nm", "-S", "--defined-only", path], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == name:
            return int(parts[0], 16), int(parts[1], 16)
    raise Failure(f"no symbol {name} in {path}")


def load_base(pid, path):
    """Runtime start of the first mapping of @path in process @pid."""
    real = os.path.realpath(path)
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5] == real and int(parts[2], 16) == 0:
                return int(parts[0].split("-")[0], 16)
    raise Failure(f"{path} is not mapped in {pid}")


def function_bytes(pid, path, name, pie=True):
    """The bytes of function @name as they are in the running process."""
    value, size = symbol(path, name)
    base = load_base(pid, path) if pie else 0
    return mem_bytes(pid, base + value, size)


def function_file_bytes(path, name):
    value, size = symbol(path, name)
    # For the fixtures, text is mapped at file offset == vaddr.
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == "LOAD":
            off, vaddr, filesz = int(parts[1], 16), int(parts[2], 16), int(parts[4], 16)
            if vaddr <= value < vaddr + filesz:
                return file_bytes(path, off + value - vaddr, size)
    raise Failure(f"{name} not in a loaded segment of {path}")


def unique_copy(env, name, dest_name=None):
    """A copy of fixture @name (or of the file at absolute path @name) with a build-id of its own, so that --all and
    bundles built for it match only the processes this test starts, even
    while other tests run the same fixture."""
    import struct
    data = bytearray(open(name if os.path.isabs(name) else fixture(name), "rb").read())
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        ptype, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if ptype != 4:  # PT_NOTE
            continue
        at = off
        while at + 12 <= off + filesz:
            namesz, descsz, ntype = struct.unpack_from("<III", data, at)
            desc = at + 12 + ((namesz + 3) & ~3)
            if ntype == 3 and data[at + 12:at + 12 + namesz] == b"GNU\0":
                data[desc:desc + descsz] = os.urandom(descsz)
                path = os.path.join(env.dir, dest_name or name)
                open(path, "wb").write(data)
                os.chmod(path, 0o755)
                return path
            at = desc + ((descsz + 3) & ~3)
    raise Failure(f"{name} has no build-id note")


def ask_unix(path, line):
    """The numbers a test server on a UNIX socket answers to one @line."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    s.sendall(f"{line}\n".encode())
    out = s.recv(96).decode().split()
    s.close()
    return tuple(int(x) for x in out)


def wait_for(cond, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise Failure(f"timed out waiting for {what}")


def hp_strace(env, syscalls, *args, env_vars=None):
    """One hotpatch command under strace -f, tracing @syscalls (a strace
    -e trace= list): (CompletedProcess, the trace's text)."""
    out = os.path.join(env.dir, "strace.txt")
    # LeakSanitizer cannot run under a tracer (strace): off for this run.
    asan = os.environ.get("ASAN_OPTIONS", "")
    r = subprocess.run(["strace", "-f", "-qq", "-e", f"trace={syscalls}", "-o", out, HOTPATCH,
                        "--root", env.root, *map(str, args)], capture_output=True, text=True,
                       env={**os.environ, **(env_vars or {}),
                            "ASAN_OPTIONS": (asan + ":" if asan else "") + "detect_leaks=0"})
    with open(out) as f:
        return r, f.read()


def borrowed_thread(stderr):
    """The thread the remote calls were made by, from HOTPATCH_DEBUG's trace."""
    m = re.search(r"system calls made by thread (\d+)", stderr)
    if not m:
        raise Failure(f"no borrowed thread in the debug output:\n{stderr}")
    return int(m.group(1))


def main(test):
    """Run test(env); exit 0 on success, 1 on failure, 77 when not root."""
    if os.geteuid() != 0:
        print("skipped: the integration tests need root (ptrace of other processes)")
        sys.exit(SKIP)
    env = Env(os.path.basename(sys.argv[0]).removesuffix(".py"))
    try:
        test(env)
    except Failure as e:
        print(f"FAIL: {e}")
        env.cleanup()
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        env.cleanup()
        sys.exit(1)
    env.cleanup()
    print("ok")
    sys.exit(0)


FIX_CHECK_LEN = """
#include <hotpatch/patch.h>
extern int check_len(int n);
HOTPATCH_CVE("CVE-2099-0001");
HOTPATCH_DESCRIPTION("check_len: refuse lengths above 64");
HOTPATCH_REPLACE(check_len, check_len_fixed);
int check_len_fixed(int n)
{
	return n > 64 ? -1 : n;
}
"""



def status_state(env, v):
    """The state `hotpatch status` gives the first patch in @v, or "none"."""
    st = env.hp_json("status", "--pid", v.pid)["patches"]
    return st[0]["processes"][0]["state"] if st else "none"


def consistent(env, v, what):
    """After a fault: @v is alive, behaves exactly as before or exactly as
    patched by FIX_CHECK_LEN, and status agrees. True when patched."""
    expect(v.alive(), f"{what}: target alive (exit status {v.proc.returncode})")
    got = v.call(100)
    expect(got in (100, -1), f"{what}: behaves as before or as patched (got {got})")
    state = status_state(env, v)
    if got == -1:
        expect_eq(state, "applied", f"{what}: status of a patched target")
    else:
        expect(state in ("none", "loaded"), f"{what}: status of an unpatched target: {state}")
    return got == -1

def check_len_patch(limit, result, name="fix"):
    """Source of a patch making check_len(n) return @result above @limit."""
    return f"""
#include <hotpatch/patch.h>
extern int check_len(int n);
HOTPATCH_DESCRIPTION("check_len above {limit} gives {result}");
HOTPATCH_REPLACE(check_len, check_len_{name});
int check_len_{name}(int n)
{{
	return n > {limit} ? {result} : n;
}}
"""


def trust_key(env, name="key"):
    """Make a signing key and trust its public key in env's root."""
    key = os.path.join(env.dir, name)
    env.hp("keygen", "-k", key)
    tdir = os.path.join(env.root, "etc/hotpatch/trusted.d")
    os.makedirs(tdir, exist_ok=True)
    shutil.copy(key + ".pub", os.path.join(tdir, name + ".pub"))
    os.chmod(os.path.join(tdir, name + ".pub"), 0o644)
    return key


def signed_bundle(env, target, source, key, name="patch"):
    bundle = env.build(target, source, name=name)
    env.hp("sign", bundle, "-k", key)
    return bundle


def bundle_regions(data):
    """Byte ranges of a signed bundle: header, section table, each section,
    signature text and trailer."""
    import struct
    nsec = struct.unpack_from("<I", data, 12)[0]
    regions = {"header": (0, 32), "section table": (32, 32 + 56 * nsec)}
    for i in range(nsec):
        typ, _, off, size = struct.unpack_from("<IIQQ", data, 32 + 56 * i)
        regions[f"section {typ}"] = (off, off + size)
    payload = struct.unpack_from("<Q", data, 16)[0]
    regions["signature"] = (payload, len(data) - 32)
    regions["trailer"] = (len(data) - 32, len(data))
    return regions
