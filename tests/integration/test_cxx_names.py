#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Patch sources that replace C++ functions (issue 22 item 3): by the name
C++ source gives them, demangled ("Square::area() const", or "Square::area"
when it is not overloaded, with or without "(anonymous namespace)::"), or
mangled, from a C patch source and from a C++ one. An overloaded name
without its parameter list is refused, listing the candidates."""
import sys, os, subprocess
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *

HARNESS = os.path.join(os.path.dirname(__file__), "../corpus/common/server.c")

TARGET = r"""
#include <cstdio>
#include <cstring>
#include <new>

namespace {
struct Shape {
	virtual ~Shape() {}
	virtual long area() const = 0;
};
struct Square : Shape {
	long side;
	explicit Square(long s) : side(s) {}
	long area() const override;
};
__attribute__((noinline)) long Square::area() const { return side * side; }
}

namespace geo {
__attribute__((noinline)) long scale(long v) { return v * 10; }
__attribute__((noinline)) long scale(long v, long by) { return v * by; }
__attribute__((noinline)) long offset(long v) { return v + 1; }
}

extern "C" const char *respond(const char *line)
{
	static char out[64];
	long n;

	if (std::sscanf(line, "sq %ld", &n) == 1) {
		alignas(Square) unsigned char at[sizeof(Square)];
		Shape *s = new (at) Square(n);
		std::snprintf(out, sizeof(out), "%ld", s->area());
		s->~Shape();
	} else if (std::sscanf(line, "scale %ld", &n) == 1) {
		std::snprintf(out, sizeof(out), "%ld %ld", geo::scale(n), geo::scale(n, 3));
	} else if (std::sscanf(line, "off %ld", &n) == 1) {
		std::snprintf(out, sizeof(out), "%ld", geo::offset(n));
	} else {
		return "?";
	}
	return out;
}
"""

# C: the object pointer is the first argument; the side follows the vptr.
DEMANGLED_C = r"""
#include <hotpatch/patch.h>
struct square { void *vptr; long side; };
HOTPATCH_REPLACE_CXX("Square::area() const", area_fixed);
long area_fixed(const struct square *s) { return s->side < 0 ? -1 : s->side * s->side; }
HOTPATCH_REPLACE_CXX("geo::scale(long, long)", scale_by_fixed);
long scale_by_fixed(long v, long by) { return v * by + 1; }
HOTPATCH_REPLACE_CXX("geo::offset", offset_fixed);
long offset_fixed(long v) { return v + 2; }
"""

# C++, with the mangled name and the anonymous namespace spelled out.
MANGLED_CXX = r"""
#include <hotpatch/patch.h>
namespace geo { long scale(long v); }
HOTPATCH_REPLACE_CXX("_ZN3geo5scaleEl", scale_fixed);
extern "C" long scale_fixed(long v) { return v * 100; }
HOTPATCH_REPLACE_CXX("(anonymous namespace)::Square::area() const", area_again);
extern "C" long area_again(const void *) { return 7; }
"""

OVERLOADED = r"""
#include <hotpatch/patch.h>
HOTPATCH_REPLACE_CXX("geo::scale", scale_any);
long scale_any(long v) { return v; }
"""


def build_target(env):
    logic = env.write("logic.cpp", TARGET)
    objs = []
    for src, comp in ((HARNESS, "gcc"), (logic, "g++")):
        obj = os.path.join(env.dir, os.path.basename(src) + ".o")
        # -fno-ipa-ra: with it, GCC lets respond() keep n in %rdi across
        # the call of the leaf geo::scale(long, long), which it knows leaves
        # %rdi alone, and the builder rightly refuses replacements that
        # change %rdi (regcheck.c, test_ipa_ra). That is not this test's
        # subject: names are.
        subprocess.run([comp, "-O2", "-g", "-fno-ipa-ra", "-c", "-o", obj, src], check=True)
        objs.append(obj)
    exe = os.path.join(env.dir, "server")
    subprocess.run(["g++", "-o", exe, *objs], check=True)
    return exe


def build_patch(env, exe, name, source, suffix):
    out = os.path.join(env.dir, f"{name}.hpb")
    src = env.write(f"{name}{suffix}", source)
    return env.hp("build", "--target", exe, "-o", out, src, check=False), out


def test(env):
    exe = build_target(env)
    v = env.victim(exe)
    expect_eq(v.ask("sq -3"), "9", "original Square::area")
    expect_eq(v.ask("scale 2"), "20 6", "original geo::scale overloads")
    expect_eq(v.ask("off 5"), "6", "original geo::offset")

    r, out = build_patch(env, exe, "overloaded", OVERLOADED, ".c")
    expect_eq(r.returncode, 2, f"an overloaded name is refused: {r.stderr}")
    expect("geo::scale(long)" in r.stderr and "geo::scale(long, long)" in r.stderr,
           f"the refusal lists both overloads: {r.stderr}")
    expect(not os.path.exists(out), "no bundle for an ambiguous name")

    r, demangled = build_patch(env, exe, "demangled", DEMANGLED_C, ".c")
    expect_eq(r.returncode, 0, f"demangled names resolve: {r.stderr}")
    info = env.hp_json("info", demangled)
    expect_eq(sorted(f["name"] for f in info["functions"]),
              sorted(["_ZNK12_GLOBAL__N_16Square4areaEv", "_ZN3geo5scaleEll",
                      "_ZN3geo6offsetEl"]), "the bundle names the target's symbols")
    env.hp("apply", demangled, "--pid", v.pid, "--insecure")
    expect_eq(v.ask("sq -3"), "-1", "Square::area() const replaced")
    expect_eq(v.ask("sq 4"), "16", "and still right for valid input")
    expect_eq(v.ask("scale 2"), "20 7", "only the two-argument geo::scale replaced")
    expect_eq(v.ask("off 5"), "7", "geo::offset, named without its parameters")
    env.hp("revert", env.bundle_id(demangled), "--pid", v.pid)
    expect_eq(v.ask("sq -3"), "9", "reverted")

    r, mangled = build_patch(env, exe, "mangled", MANGLED_CXX, ".cpp")
    expect_eq(r.returncode, 0, f"a C++ patch source with a mangled name builds: {r.stderr}")
    env.hp("apply", mangled, "--pid", v.pid, "--insecure")
    expect_eq(v.ask("scale 2"), "200 6", "geo::scale(long) replaced by its mangled name")
    expect_eq(v.ask("sq 3"), "7", "the anonymous namespace spelled out")
    env.hp("revert", env.bundle_id(mangled), "--pid", v.pid)
    expect_eq(v.ask("scale 2"), "20 6", "reverted")


main(test)
