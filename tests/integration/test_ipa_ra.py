#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A replacement from a patch source keeps the register promise of the
function it replaces (regcheck.h). The target is built at -O2, where GCC's
-fipa-ra lets respond() keep values in %rcx and %rdx across its calls of
scale() and scale_pair(), which it knows change only %rax.

- A replacement of scale() that needs %rdx is wrapped in a thunk that saves
  the registers (thunk.h): the patched server answers as the fixed source
  says. Built without the check, the same replacement makes the unchanged
  respond() answer wrong: the hazard is real.
- scale_pair() takes a struct, which a thunk cannot pass on safely: the same
  replacement of it is refused, in one line naming respond, the registers and
  the reason; replacing respond() in the same patch makes it safe.
- A replacement that changes only %rdi (which respond sets before each call)
  needs no thunk."""
import sys, os, subprocess
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

HARNESS = os.path.join(os.path.dirname(__file__), "../corpus/common/server.c")

RESPOND = r"""
const char *respond(const char *line)
{
	static char out[64];
	long n;

	if (sscanf(line, "pair %ld", &n) == 1) {
		long m = n * 7 + 3;
		long a = scale_pair((struct pair){m, 2});
		long b = scale_pair((struct pair){a, m});
		snprintf(out, sizeof(out), "%ld %ld", a + m, b);
		return out;
	}
	if (sscanf(line, "scale %ld", &n) != 1)
		return "?";
	long m = n * 7 + 3;
	long a = scale(m, 2);
	long b = scale(a, m);
	snprintf(out, sizeof(out), "%ld %ld", a + m, b);
	return out;
}
"""

TARGET = r"""
#include <stdio.h>

struct pair { long v, by; };

__attribute__((noinline)) long scale(long v, long by) { return v * by; }
__attribute__((noinline)) long scale_pair(struct pair p) { return p.v * p.by; }
""" + RESPOND

# The remainder needs %rdx (cqo; idiv), which respond keeps a in.
SCALE_MOD = r"""
#include <hotpatch/patch.h>
long scale(long v, long by);
HOTPATCH_REPLACE(scale, scale_mod);
long scale_mod(long v, long by) { return v * by % 1000003; }
"""

PAIR_MOD = r"""
#include <hotpatch/patch.h>
struct pair { long v, by; };
long scale_pair(struct pair p);
HOTPATCH_REPLACE(scale_pair, pair_mod);
long pair_mod(struct pair p) { return p.v * p.by % 1000003; }
"""

# v * by + 1 is computed in %rdi, which respond sets before each call.
SCALE_PLUS = r"""
#include <hotpatch/patch.h>
long scale(long v, long by);
HOTPATCH_REPLACE(scale, scale_plus);
long scale_plus(long v, long by) { return v * by + 1; }
"""

# respond itself, compiled apart: it keeps nothing across its calls.
PAIR_WITH_CALLER = PAIR_MOD + r"""
#include <stdio.h>
const char *respond(const char *line);
long scale(long v, long by);
HOTPATCH_REPLACE(respond, respond_fixed);
""" + RESPOND.replace("const char *respond(", "const char *respond_fixed(")

BIG = 100000
M = BIG * 7 + 3
ORIG_BIG = f"{2 * M + M} {2 * M * M}"
FIXED_BIG = f"{2 * M % 1000003 + M} {2 * M % 1000003 * M % 1000003}"


def build_target(env):
    logic = env.write("logic.c", TARGET)
    exe = os.path.join(env.dir, "server")
    # -O2: -fipa-ra is on, as in every Debian package build.
    subprocess.run(["gcc", "-O2", "-g", "-o", exe, HARNESS, logic], check=True)
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", exe], check=True,
                         capture_output=True, text=True).stdout
    body = dis.split("<respond>:", 1)[1].split("\n\n", 1)[0]
    # The premise: respond adds a value kept in %rdx across a call.
    expect("add    %rdx,%rcx" in body,
           f"respond keeps a value in %rdx across scale (the compiler changed?):\n{body}")
    return exe


def build_patch(env, exe, name, source, env_vars=None):
    out = os.path.join(env.dir, f"{name}.hpb")
    src = env.write(f"{name}.c", source)
    return env.hp("build", "--target", exe, "-o", out, src, check=False,
                  env_vars=env_vars), out


def applied(env, v, bundle, asks):
    env.hp("apply", bundle, "--pid", v.pid, "--insecure")
    answers = [v.ask(a) for a in asks]
    env.hp("revert", env.bundle_id(bundle), "--pid", v.pid)
    return answers


def test(env):
    exe = build_target(env)
    v = env.victim(exe)
    expect_eq(v.ask("scale 2"), "51 578", "the original: m=17, a=34, b=34*17")
    expect_eq(v.ask(f"scale {BIG}"), ORIG_BIG, "the original, large")
    expect_eq(v.ask(f"pair {BIG}"), ORIG_BIG, "the original's pair path")

    # The hazard is real: without the check, respond loses a (in %rdx).
    r, unsafe = build_patch(env, exe, "unsafe", SCALE_MOD.replace("scale_mod", "scale_unsafe"),
                            env_vars={"HOTPATCH_TEST_NO_REGCHECK": "1"})
    expect_eq(r.returncode, 0, f"without the check it builds: {r.stderr}")
    wrong = applied(env, v, unsafe, [f"scale {BIG}"])[0]
    expect(wrong != FIXED_BIG, f"the unchecked replacement breaks respond: {wrong}")

    # With it, a thunk keeps respond's registers.
    r, wrapped = build_patch(env, exe, "wrapped", SCALE_MOD)
    expect_eq(r.returncode, 0, f"a replacement that needs %rdx is wrapped: {r.stderr}")
    expect("respond" in r.stderr and "%rdx" in r.stderr and "wrapped" in r.stderr,
           f"the build says so: {r.stderr}")
    expect_eq(applied(env, v, wrapped, ["scale 2", f"scale {BIG}"]), ["51 578", FIXED_BIG],
              "the wrapped replacement answers as the fixed source")
    expect_eq(v.ask(f"scale {BIG}"), ORIG_BIG, "reverted")

    # A struct argument: no thunk, a refusal.
    r, out = build_patch(env, exe, "pair", PAIR_MOD)
    expect_eq(r.returncode, 2, f"a replacement of scale_pair that needs %rdx is refused: {r.stderr}")
    expect("respond" in r.stderr and "%rdx" in r.stderr and "-fipa-ra" in r.stderr and
           "aggregate" in r.stderr, f"the refusal names caller, register and why: {r.stderr}")
    expect(len(r.stderr.strip().splitlines()) == 1, f"one line: {r.stderr}")
    expect(not os.path.exists(out), "no bundle written")

    r, both = build_patch(env, exe, "both", PAIR_WITH_CALLER)
    expect_eq(r.returncode, 0, f"replacing the caller too makes it safe: {r.stderr}")
    expect_eq(applied(env, v, both, ["pair 2", f"pair {BIG}", f"scale {BIG}"]),
              ["51 578", FIXED_BIG, ORIG_BIG], "scale_pair fixed, scale untouched")

    r, plus = build_patch(env, exe, "rdi", SCALE_PLUS)
    expect_eq(r.returncode, 0, f"a replacement that changes only %rdi builds: {r.stderr}")
    expect("wrapped" not in r.stderr, f"and needs no thunk: {r.stderr}")
    expect_eq(applied(env, v, plus, ["scale 2"]), ["52 596"], "a=35, b=35*17+1")
    expect_eq(v.ask("scale 2"), "51 578", "reverted")


main(test)
