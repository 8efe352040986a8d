#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""memcached 1.6.18-1 -> 1.6.18-1+deb12u1, live, on Debian's own binary.

Installs memcached 1.6.18-1 in a debootstrapped root, starts it, builds a
live patch with `hotpatch build --upgrade-to 1.6.18-1+deb12u1` against the
root's /usr/bin/memcached, and checks each fix: a fix in the live patch is
applied to the running server from the host and its reproducer must fail
before and pass after; a fix the builder says is not in this binary must
really be absent from it (its functions are not in the twin's symbol table,
and the feature it fixes is refused by the shipped binary). The server keeps
serving throughout. Prints the summary row for the table.

Run as root: python3 tests/real/upgrade_memcached.py
"""
import glob
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from upgrade_common import *

OLD, NEW = "1.6.18-1", "1.6.18-1+deb12u1"
PORT = 21987

# What each fix changes, to prove a "not in this file" verdict on the binary.
FIX_FUNCS = {
    "0008-CVE-2026-47783-CVE-2026-47784.patch": ["sasl_server_userdb_checkpass"],
    "0009-CVE-2023-46852.patch": ["proxy_process_command"],
    "CVE-2023-46853.patch": ["process_request", "proxy_process_command"],
}


def talk(lines):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall("".join(l + "\r\n" for l in lines).encode())
    time.sleep(0.1)
    data = s.recv(4096).decode()
    s.close()
    return data


def serving(tag):
    out = talk([f"set k{tag} 0 0 2", "ok", f"get k{tag}"])
    expect("STORED" in out and "VALUE" in out, f"memcached serves ({tag}): {out!r}")


def twin_symbols():
    cache = os.environ.get("HOTPATCH_CACHE", "/var/cache/hotpatch")
    dbg = glob.glob(f"{cache}/work/memcached/{OLD}-twin/debian/.debhelper/*/dbgsym-root/"
                    "usr/lib/debug/.build-id/*/*.debug")
    expect(dbg, "the twin's debug symbols are kept in the cache")
    out = subprocess.run(["readelf", "-sW", dbg[0]], capture_output=True, text=True).stdout
    return {l.split()[-1] for l in out.splitlines() if " FUNC " in l}


def main():
    root = make_root("memcached-root", [f"memcached={OLD}", "procps"])
    say("starting memcached from the root")
    server = subprocess.Popen(["chroot", root, "/usr/bin/memcached", "-u", "nobody", "-l",
                               "127.0.0.1", "-p", str(PORT), "-U", "0"])
    try:
        deadline = time.time() + 10
        while True:
            try:
                serving("start")
                break
            except OSError:
                expect(time.time() < deadline, "memcached did not start")
                time.sleep(0.1)
        out = os.path.join(WORK, "memcached.hpb")
        if os.path.exists(out):
            os.unlink(out)
        rc, text, err, took = build("/usr/bin/memcached", root, NEW, out)
        serving("after-build")
        fixes = parse_fixes(text)
        expect(len(fixes) == 3, f"three Debian patches between the versions: {list(fixes)}")
        cves = sorted({c for f in fixes.values() for c in f["cves"]})
        expect(cves == ["CVE-2023-46852", "CVE-2023-46853", "CVE-2026-47783",
                        "CVE-2026-47784"], f"the four CVEs: {cves}")
        expect(twin_verdict(text) in ("exact", "code-identical"), "the twin reproduces")
        syms = twin_symbols()
        for name, fix in fixes.items():
            if fix["verdict"] == "in the live patch":
                continue  # checked with the bundle below
            say(f"{name}: {fix['verdict']}")
            for fn in FIX_FUNCS.get(name, []):
                expect(fn not in syms, f"{fn}() is really not in Debian's memcached")
        # The fixed features are off in Debian's build: the shipped binary says so.
        r = subprocess.run(["chroot", root, "/usr/bin/memcached", "-u", "nobody", "-p", "0",
                            "-o", "proxy_config=/dev/null"], capture_output=True, text=True,
                           timeout=10)
        expect(r.returncode != 0 and "proxy_config" in r.stderr,
               "the shipped memcached has no proxy (CVE-2023-46852/46853 unreachable)")
        size = "-"
        if any(f["verdict"] == "in the live patch" for f in fixes.values()):
            expect(rc == 0 and os.path.exists(out), "a bundle for the fixes in the patch")
            size = f"{os.path.getsize(out)} bytes"
            Store().apply(out, server.pid)
        else:
            expect(rc != 0 and "nothing to patch" in err and not os.path.exists(out),
                   "no fix reaches the binary: no bundle, and a clear message")
            size = "no bundle (nothing to patch)"
        serving("end")
        table_row("memcached", OLD, NEW, fixes, twin_verdict(text), took, size)
        print("ok")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAIL: {e}")
        sys.exit(1)
