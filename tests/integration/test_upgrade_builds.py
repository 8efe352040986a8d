#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What build --upgrade-to and --diff (no --source) build (issue 22.5).

The newer version's plain build exists only to give the bundle its fixed
file for commit; --no-file-update must skip it (it was ignored without
--source, and cost one whole build of the package). Both kinds of build make
the same live patch without it: three builds (the twin and the two for
comparison), no fixed file, no package record, and the running program's
answers change.

Every build goes through ccache (the host's here, the build root's in a
real run): the second build for comparison compiles only what the fix
changed and reuses the rest, while the first, whose flags differ from the
twin's, reuses nothing of it.
"""
import re
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *
import debtiny


def builds(stderr):
    """The builds the run started, by their progress labels."""
    return [l for l in stderr.splitlines() if l.startswith("hotpatch: building ")
            and l.endswith(" ...")]


def test(env):
    archive, cache, sysroot, _, target, _ = debtiny.scene(env.dir)
    common = ["--target", "/usr/bin/hptiny", "--sysroot", sysroot, "--build-root", "/",
              "--sources", archive, "--cache", cache, "--explain", "--no-file-update"]

    fix = env.write("own.patch", debtiny.FIX_OWN)
    out = os.path.join(env.dir, "own.hpb")
    r = env.hp("build", *common, "--diff", fix, "-o", out, timeout=600)
    made = builds(r.stderr)
    expect(not [b for b in made if "(the fixed file)" in b],
           f"--diff --no-file-update does not build the fixed file:\n{r.stderr}")
    expect_eq(len(made), 3, f"the twin and the two builds for comparison:\n{r.stderr}")
    reuse = [(int(a), int(b)) for a, b in re.findall(
        r"for comparison: done in [\d.]+ s \(ccache: (\d+) of (\d+) compilations reused\)",
        r.stderr)]
    expect(len(reuse) == 2 and reuse[0][0] == 0, f"the first build for comparison has other "
           f"flags than the twin and reuses none of its objects:\n{r.stderr}")
    expect(reuse[1][0] >= 2 and reuse[1][1] - reuse[1][0] == 1, f"the second compiles the "
           f"one changed file (tiny.c) and reuses the others:\n{r.stderr}")
    expect("fix own.patch: in the live patch" in r.stdout and
           "fixed file: none (--no-file-update)" in r.stdout, r.stdout)
    info = json.loads(env.hp("info", "--json", out).stdout)
    expect_eq([f["name"] for f in info["functions"]], ["check_len"], "the live patch is made")
    expect(not info["file_update"] and "package" not in info,
           f"no fixed file and no package record: {info['file_update']}")

    out2 = os.path.join(env.dir, "up.hpb")
    r = env.hp("build", *common, "--upgrade-to", "1.0-2", "-o", out2, timeout=600)
    made = builds(r.stderr)
    expect(not [b for b in made if "(the fixed file)" in b],
           f"--upgrade-to --no-file-update does not build the fixed file:\n{r.stderr}")
    expect("fix 0001-check-len.patch: in the live patch" in r.stdout and
           "fixed file: none (--no-file-update)" in r.stdout, r.stdout)
    info2 = json.loads(env.hp("info", "--json", out2).stdout)
    expect(not info2["file_update"] and "package" not in info2,
           "no fixed file: commit has nothing to install")
    expect_eq([f["name"] for f in info2["functions"]], ["check_len"], "check_len is replaced")

    p, sock = debtiny.serve(env, target)
    expect_eq(ask_unix(sock, 100), (100, 1), "the installed version accepts 100")
    env.hp("apply", out2, "--pid", p.pid, "--insecure")
    expect_eq(ask_unix(sock, 100), (-1, 2), "the patched process refuses 100")


main(test)
