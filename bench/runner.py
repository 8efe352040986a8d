# SPDX-License-Identifier: MIT
"""Running hotpatch and its targets for the benchmarks: a private --root,
the processes started, and their cleanup."""
import json
import os
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("HP_BUILD_ROOT", os.path.join(SRC, "build"))
BIN = {name: os.path.join(BUILD, path) for name, path in (
    ("hotpatch", "src/cli/hotpatch"), ("builder", "src/cli/hotpatch-build"),
    ("target", "bench/bench-target"),
    ("calls", "bench/bench-calls"), ("floor", "bench/bench-floor"),
    ("hog", "bench/bench-hog"))}


def snapshot_binaries(dest):
    """Use copies of the binaries from now on: a rebuild of ./build during
    the run (others work in it too) then changes nothing under way. The
    builder goes beside hotpatch, where `hotpatch build` looks for it."""
    os.makedirs(dest)
    for name, path in BIN.items():
        BIN[name] = shutil.copy2(path, os.path.join(dest, os.path.basename(path)))


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class Runner:
    """A private hotpatch root under a temporary directory (in @base), and
    every process started through it, killed by cleanup()."""

    def __init__(self, base=None):
        self.dir = tempfile.mkdtemp(prefix="hp-bench-", dir=base)
        self.root = os.path.join(self.dir, "root")
        os.makedirs(self.root)
        self.procs = []
        self.stderr = open(os.path.join(self.dir, "targets.log"), "w")

    def hp(self, *args, check=True, env=None):
        """Run hotpatch (with @env added to the environment); returns
        (CompletedProcess, wall seconds)."""
        cmd = [BIN["hotpatch"], "--root", self.root, *map(str, args)]
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                           env={**os.environ, **env} if env else None)
        wall = time.perf_counter() - t0
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
        return r, wall

    def hp_json(self, *args, env=None, stderr=None):
        """hotpatch ... --json; returns (parsed output, wall seconds). A
        process that failed is in the output, not raised. @stderr, a list,
        gets what hotpatch wrote to stderr."""
        r, wall = self.hp(*args, "--json", check=False, env=env)
        if stderr is not None:
            stderr.append(r.stderr)
        try:
            return json.loads(r.stdout), wall
        except json.JSONDecodeError:
            raise RuntimeError(f"hotpatch {' '.join(map(str, args))}: {r.stderr}") from None

    def hp_one(self, *args, want):
        """hotpatch ... --pid PID --json for one process, which must end
        with result @want; returns (its entry, wall seconds)."""
        res, wall = self.hp_json(*args)
        p = res["processes"][0]
        if p["result"] != want:
            raise RuntimeError(f"hotpatch {args[0]}: {p['result']}: {p.get('reason', '')}")
        return p, wall

    def spawn(self, argv, count=1, env=None):
        """Start @count copies of @argv (environment @env, or ours) and wait
        until each has written "ready" (all share one pipe, so 1000 targets
        need 2 fds, not 1000)."""
        rfd, wfd = os.pipe()
        procs = []
        try:
            for _ in range(count):
                p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=wfd,
                                     stderr=self.stderr, env=env)
                self.procs.append(p)
                procs.append(p)
            os.close(wfd)
            wfd = -1
            seen, deadline = 0, time.time() + 60 + count * 0.05
            while seen < count:
                if not select.select([rfd], [], [], max(0, deadline - time.time()))[0]:
                    raise RuntimeError(f"{argv[0]}: {seen} of {count} started in time")
                chunk = os.read(rfd, 65536)
                if not chunk:
                    raise RuntimeError(f"{argv[0]} exited at start (see {self.stderr.name})")
                seen += chunk.count(b"ready\n")
        finally:
            os.close(rfd)
            if wfd >= 0:
                os.close(wfd)
        return procs

    def popen(self, argv, **kw):
        p = subprocess.Popen(argv, stderr=self.stderr, **kw)
        self.procs.append(p)
        return p

    def kill(self, procs):
        for p in procs:
            if p.poll() is None:
                p.kill()
        for p in procs:
            p.wait()
        gone = set(procs)
        self.procs = [p for p in self.procs if p not in gone]

    def cleanup(self):
        self.kill(self.procs)
        self.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def build_bundle(self, target, source, name):
        """Build patch @source for @target; returns (bundle path, id)."""
        src = os.path.join(self.dir, f"{name}.c")
        with open(src, "w") as f:
            f.write(source)
        out = os.path.join(self.dir, f"{name}.hpb")
        self.hp("build", "--target", target, "-I", os.path.join(SRC, "bench"), "--name", name,
                "-o", out, src)
        return out, json.loads(self.hp("info", "--json", out)[0].stdout)["id"]


def run_floor(pid, threads, iters):
    """The plain stop of @pid's threads, @iters times (bench-floor): the
    pauses in us, and how many stops did not complete in the stop budget."""
    # Released threads must be back in their wait before the next stop, as
    # they are between two hotpatch runs: allow about 20 us each.
    gap_us = 2000 + 20 * threads
    out = subprocess.run([BIN["floor"], str(pid), str(iters), str(gap_us)],
                         capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"bench-floor: {out.stderr}")
    res = json.loads(out.stdout)
    return [ns / 1000 for ns in res["pause_ns"]], res.get("timeouts", 0)


def unique_copy(path, dest):
    """A copy of @path with a random GNU build-id, so that bundles built for
    it, and `--all`, match only the processes this run starts."""
    data = bytearray(open(path, "rb").read())
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        ptype, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        at = off
        while ptype == 4 and at + 12 <= off + filesz:  # PT_NOTE
            namesz, descsz, ntype = struct.unpack_from("<III", data, at)
            desc = at + 12 + ((namesz + 3) & ~3)
            if ntype == 3 and data[at + 12:at + 12 + namesz] == b"GNU\0":
                data[desc:desc + descsz] = os.urandom(descsz)
                with open(dest, "wb") as f:
                    f.write(data)
                    # Written back now: smaps counts a mapped page that is
                    # dirty in the page cache as dirty, which would pass
                    # for pages a patch wrote.
                    f.flush()
                    os.fsync(f.fileno())
                os.chmod(dest, 0o755)
                return dest
            at = desc + ((descsz + 3) & ~3)
    raise RuntimeError(f"{path} has no build-id note")
