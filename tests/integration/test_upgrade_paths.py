#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""build --upgrade-to on a package laid out the way real ones are (issue 21).

hpvend 5:1.0-1 is installed: /usr/bin/hpvend (package hpvend) is a link to
/usr/bin/hpvend-tool (package hpvend-tools); the program is linked from its
own util.c and a vendored deps/lib/util.c; the version has an epoch, so the
archive's newer .deb is saved as hpvend-tools_5%3a1.0-2_amd64.deb. The fix
changes check_len() in the program's own util.c. The build must resolve the
link inside the root and rebuild hpvend-tools, compare both util.o (not take
one for the other by base name), find the epoch-named .deb, and the live
patch must change what the running program answers.
"""
import socket
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *
import debtiny
import debvend


def listening(path):
    """bind() makes the file, listen() comes after: only a connection tells."""
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def test(env):
    archive = debvend.make_sources(env.dir)
    cache = os.path.join(env.dir, "cache")
    twin_path = os.path.join(cache, "build/reproducible-path/hpvend-1.0")
    sysroot = os.path.join(env.dir, "sysroot")
    link = debvend.install(env.dir, archive, sysroot, twin_path)
    debvend.publish_as_apt_saves(archive, twin_path)
    expect(os.path.islink(link), "the command is a link")

    out = os.path.join(env.dir, "vend.hpb")
    r = env.hp("build", "--target", "/usr/bin/hpvend", "--sysroot", sysroot,
               "--upgrade-to", "5:1.0-2", "--build-root", "/", "--sources", archive,
               "--cache", cache, "--explain", "-o", out, check=False, timeout=600)
    expect(r.returncode == 0, f"the link is resolved inside the root:\n{r.stdout}{r.stderr}")
    text = r.stdout
    expect("package hpvend-tools 5:1.0-1 (source hpvend)" in text,
           f"the real file's package is rebuilt:\n{text}")
    expect("fix 0001-check-len.patch: in the live patch" in text and
           "functions: check_len()" in text,
           f"the program's own util.c is compared, not only the vendored one:\n{text}")
    expect("fixed file: Debian's hpvend-tools 5:1.0-2 itself" in text,
           f"the epoch-named .deb is found:\n{text}")
    info = json.loads(env.hp("info", "--json", out).stdout)
    expect_eq([f["name"] for f in info["functions"]], ["check_len"], "check_len is replaced")
    expect(info["file_update"], "the bundle carries the fixed file")

    # The program, run by the path users run, before and after.
    sock = os.path.join(env.dir, "vend.sock")
    log = open(os.path.join(env.dir, "vend.log"), "w")
    p = subprocess.Popen([link, sock], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    env.procs.append(p)
    wait_for(lambda: listening(sock), what="hpvend listening")
    expect_eq(ask_unix(sock, 100), (100, 100), "the installed version accepts 100")
    env.hp("apply", out, "--pid", p.pid, "--insecure")
    expect_eq(ask_unix(sock, 100), (-1, 100), "the patched process refuses 100")
    expect_eq(ask_unix(sock, 10), (10, 10), "and still serves")


main(test)
