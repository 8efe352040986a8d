#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A replacement from a patch source keeps the register promise of the
function it replaces (regcheck.h). The target is built at -O2, where GCC's
-fipa-ra lets respond() keep values in %rcx and %rdx across its calls of
scale(), which it knows change only %rax. A replacement that changes %rdx
is refused, naming respond and the register; one that changes only
registers respond does not keep (%rdi) is accepted and computes the right
answers; replacing respond in the same patch makes the first one safe, and
the patched server answers as the fixed source says."""
import sys, os, subprocess
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

HARNESS = os.path.join(os.path.dirname(__file__), "../corpus/common/server.c")

TARGET = r"""
#include <stdio.h>

__attribute__((noinline)) long scale(long v, long by) { return v * by; }

const char *respond(const char *line)
{
	static char out[64];
	long n;

	if (sscanf(line, "scale %ld", &n) != 1)
		return "?";
	long m = n * 7 + 3;
	long a = scale(m, 2);
	long b = scale(a, m);
	snprintf(out, sizeof(out), "%ld %ld", a + m, b);
	return out;
}
"""

# The remainder needs %rdx (cqo; idiv), which respond keeps a in.
CHANGES_RDX = r"""
#include <hotpatch/patch.h>
long scale(long v, long by);
HOTPATCH_REPLACE(scale, scale_mod);
long scale_mod(long v, long by) { return v * by % 1000003; }
"""

# v * by + 1 is computed in %rdi, which respond sets before each call.
CHANGES_RDI = r"""
#include <hotpatch/patch.h>
long scale(long v, long by);
HOTPATCH_REPLACE(scale, scale_plus);
long scale_plus(long v, long by) { return v * by + 1; }
"""

WITH_CALLER = CHANGES_RDX + r"""
#include <stdio.h>
const char *respond(const char *line);
HOTPATCH_REPLACE(respond, respond_fixed);
const char *respond_fixed(const char *line)
{
	static char out[64];
	long n;

	if (sscanf(line, "scale %ld", &n) != 1)
		return "?";
	long m = n * 7 + 3;
	long a = scale(m, 2);
	long b = scale(a, m);
	snprintf(out, sizeof(out), "%ld %ld", a + m, b);
	return out;
}
"""


def build_target(env):
    logic = env.write("logic.c", TARGET)
    exe = os.path.join(env.dir, "server")
    # -O2: -fipa-ra is on, as in every Debian package build.
    subprocess.run(["gcc", "-O2", "-g", "-o", exe, HARNESS, logic], check=True)
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", exe], check=True,
                         capture_output=True, text=True).stdout
    body = dis.split("<respond>:", 1)[1].split("\n\n", 1)[0]
    # The premise: respond keeps a value in %rdx across the second call.
    calls = body.split("call")
    expect(len(calls) >= 4 and "%rdx" in calls[3].split("\n", 3)[-1] and
           "add    %rdx,%rcx" in body,
           f"respond keeps a value in %rdx across scale (the compiler changed?):\n{body}")
    return exe


def build_patch(env, exe, name, source, env_vars=None):
    out = os.path.join(env.dir, f"{name}.hpb")
    src = env.write(f"{name}.c", source)
    return env.hp("build", "--target", exe, "-o", out, src, check=False,
                  env_vars=env_vars), out


def test(env):
    exe = build_target(env)
    v = env.victim(exe)
    expect_eq(v.ask("scale 2"), "51 578", "the original: m=17, a=34, b=34*17")

    r, out = build_patch(env, exe, "rdx", CHANGES_RDX)
    expect_eq(r.returncode, 2, f"a replacement that changes %rdx is refused: {r.stderr}")
    expect("respond" in r.stderr and "%rdx" in r.stderr and "-fipa-ra" in r.stderr,
           f"the refusal names the caller, the register and why: {r.stderr}")
    expect(len(r.stderr.strip().splitlines()) == 1, f"one line: {r.stderr}")
    expect(not os.path.exists(out), "no bundle written")

    # The hazard is real: built without the check, the same replacement
    # makes the unpatched respond answer wrong (a in %rdx is lost).
    r, unsafe = build_patch(env, exe, "unsafe", CHANGES_RDX.replace("scale_mod", "scale_unsafe"),
                            env_vars={"HOTPATCH_TEST_NO_REGCHECK": "1"})
    expect_eq(r.returncode, 0, f"without the check it builds: {r.stderr}")
    env.hp("apply", unsafe, "--pid", v.pid, "--insecure")
    wrong = v.ask("scale 2")
    env.hp("revert", env.bundle_id(unsafe), "--pid", v.pid)
    expect(wrong != "51 578", f"the unchecked replacement breaks respond: {wrong}")
    expect_eq(v.ask("scale 2"), "51 578", "reverted")

    r, plus = build_patch(env, exe, "rdi", CHANGES_RDI)
    expect_eq(r.returncode, 0, f"a replacement that changes only %rdi builds: {r.stderr}")
    env.hp("apply", plus, "--pid", v.pid, "--insecure")
    expect_eq(v.ask("scale 2"), "52 596", "a=35, b=35*17+1, m intact in %rcx")
    env.hp("revert", env.bundle_id(plus), "--pid", v.pid)

    r, both = build_patch(env, exe, "both", WITH_CALLER)
    expect_eq(r.returncode, 0, f"replacing the caller too makes it safe: {r.stderr}")
    env.hp("apply", both, "--pid", v.pid, "--insecure")
    expect_eq(v.ask("scale 2"), "51 578", "34*17 % 1000003 = 578; a + m = 51")
    m = 100000 * 7 + 3
    a = m * 2 % 1000003
    expect_eq(v.ask("scale 100000"), f"{a + m} {a * m % 1000003}",
              "large values: the remainder, and a and m kept by the new respond")
    env.hp("revert", env.bundle_id(both), "--pid", v.pid)
    expect_eq(v.ask("scale 2"), "51 578", "reverted")


main(test)
