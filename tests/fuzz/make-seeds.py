#!/usr/bin/env python3
"""Regenerate the fuzzers' seed corpora. Run by hand, not by the tests:

    tests/fuzz/make-seeds.py BUILDDIR

Needs gcc, minisign and a built hotpatch (BUILDDIR/src/cli/hotpatch). It
rewrites tests/fuzz/*/corpus/; review and commit the result. Keys are made
afresh on each run, so key and signature seeds change every time.

Seeds are real files wherever a tool can make them (bundles from `hotpatch
build`, keys and signatures from `minisign`), and the pieces the fuzzers
take apart (manifest, patch object) are cut out of those bundles, so every
seed starts the fuzzer deep inside a valid parse. Names carry no .hpb/.hpo
suffix: .gitignore drops those.
"""
import base64
import hashlib
import pathlib
import struct
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
SRC = HERE.parent.parent

PATCH_CHECK_LEN = """
#include <hotpatch/patch.h>
extern int check_len(int n);
HOTPATCH_CVE("CVE-2024-0001");
HOTPATCH_DESCRIPTION("check_len: reject lengths above 64");
HOTPATCH_REPLACE(check_len, check_len_fixed);
int check_len_fixed(int n) { return n > 64 ? -1 : n; }
"""

# Statics of the target, so the manifest carries symbols and imports.
PATCH_APPLY_SCALE = """
#include <hotpatch/patch.h>
extern int apply_scale(int x);
extern int scale_helper(int x);
extern int factor;
HOTPATCH_LOCAL(factor, "victim.c");
HOTPATCH_LOCAL(scale_helper, "victim.c");
HOTPATCH_CVE("CVE-2024-0002");
HOTPATCH_CVE("CVE-2024-0003");
HOTPATCH_DESCRIPTION("apply_scale: clamp the result");
HOTPATCH_REPLACE(apply_scale, apply_scale_fixed);
int apply_scale_fixed(int x) { int r = scale_helper(x) + factor; return r > 1000 ? 1000 : r; }
"""

# Small ELF files for the reader, each reaching a different table.
ELF_SEEDS = {
    # name: (source, extra gcc flags)
    "tiny-so": ("int f(int x) { return x + 1; } int g = 1;",
                ["-shared", "-nostdlib"]),
    "versioned-so": ("#include <string.h>\n"
                     "__asm__(\".symver f1, f@V1\"); __asm__(\".symver f2, f@@V2\");\n"
                     "int f1(void) { return 1; } int f2(void) { return 2; }\n"
                     "void cp(char *d, const char *s, size_t n) { memcpy(d, s, n); }",
                     ["-shared", "-Wl,--version-script=vers.map"]),
    "tls-so": ("__thread int t; int get(void) { return t; }", ["-shared", "-nostdlib"]),
    "ctor-so": ("int x; __attribute__((constructor)) static void c(void) { x = 1; }",
                ["-shared", "-nostdlib"]),
    "static-exec": ("void _start(void) { for (;;); }", ["-static", "-nostdlib", "-no-pie"]),
}


def run(*cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def sections(bundle):
    """{type: bytes} of an unsigned bundle (layout: bundle.c)."""
    _, _, n, _, _ = struct.unpack_from("<8sIIQQ", bundle, 0)
    out = {}
    for i in range(n):
        typ, _, off, size = struct.unpack_from("<IIQQ", bundle, 32 + 56 * i)
        out[typ] = bundle[off:off + size]
    return out


def make_bundle(secs):
    """An unsigned bundle from [(type, bytes)], as bundle_write() lays it out:
    the header ends in 8 bytes of SHA-256 over the rest of it and the table."""
    off = 32 + 56 * len(secs)
    total = off + sum(len(b) for _, b in secs)
    head = struct.pack("<8sIIQ", b"HPBUNDL1", 32, len(secs), total)
    table = b""
    for typ, b in secs:
        table += struct.pack("<IIQQ", typ, 0, off, len(b)) + hashlib.sha256(b).digest()
        off += len(b)
    head += hashlib.sha256(head + table).digest()[:8]
    return head + table + b"".join(b for _, b in secs)


def record(entries, bias=0x555555554000, base=0x7f0000000000):
    out = struct.pack("<8sII32sQQ", b"HPREC001", 1, len(entries), bytes(range(32)), bias, base)
    for addr, new, prev in entries:
        out += struct.pack("<QQB7x16s", addr, new, len(prev), prev)
    return out


def write(name, files):
    d = HERE / name / "corpus"
    d.mkdir(parents=True, exist_ok=True)
    for old in d.iterdir():
        old.unlink()
    for fname, data in files.items():
        assert len(data) <= 64 * 1024, f"{name}/{fname} is too big for a seed"
        (d / fname).write_bytes(data)


def main():
    hotpatch = pathlib.Path(sys.argv[1]).resolve() / "src/cli/hotpatch"
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="hp-seeds-"))
    fixtures = SRC / "tests/fixtures"
    run("gcc", "-O2", "-g", "-o", "victim", str(fixtures / "victim.c"),
        str(fixtures / "other.c"), "-lpthread", cwd=tmp)
    bundles = {}
    for name, text in (("check_len", PATCH_CHECK_LEN), ("apply_scale", PATCH_APPLY_SCALE)):
        (tmp / f"{name}.c").write_text(text)
        run(str(hotpatch), "build", "--target", "./victim", "-o", f"{name}.hpb", f"{name}.c",
            cwd=tmp)
        bundles[name] = (tmp / f"{name}.hpb").read_bytes()

    # minisign -W: an unencrypted key, so signing needs no password prompt.
    run("minisign", "-G", "-W", "-p", "pub", "-s", "sec", cwd=tmp)
    (tmp / "msg").write_bytes(b"hello\n")
    run("minisign", "-S", "-s", "sec", "-m", "msg", "-x", "prehashed.sig", "-t", "hello",
        cwd=tmp)
    run("minisign", "-S", "-l", "-s", "sec", "-m", "msg", "-x", "legacy.sig", cwd=tmp)
    run("minisign", "-S", "-s", "sec", "-m", "check_len.hpb", "-x", "bundle.sig", cwd=tmp)
    run(str(hotpatch), "sign", "check_len.hpb", "--attach", "bundle.sig", "-o", "signed-minisign",
        cwd=tmp)
    run(str(hotpatch), "keygen", "-k", "hpkey", cwd=tmp)
    run(str(hotpatch), "sign", "apply_scale.hpb", "-k", "hpkey", "-o", "signed-hotpatch",
        cwd=tmp)
    run(str(hotpatch), "sign", "apply_scale.hpb", "-k", "hpkey", "--detach", "-o", "payload",
        cwd=tmp)
    read = lambda f: (tmp / f).read_bytes()

    one = sections(bundles["check_len"])
    two = sections(bundles["apply_scale"])
    write("bundle", {
        "check_len": bundles["check_len"],
        "apply_scale": bundles["apply_scale"],
        "signed-minisign": read("signed-minisign"),
        "signed-hotpatch": read("signed-hotpatch"),
        # Every section type, plus an unknown one the loader must skip.
        "all-sections": make_bundle([(1, one[1]), (2, one[2]), (3, b"\x28\xb5\x2f\xfd"),
                                     (4, b"Bounds check for check_len.\n"), (99, b"x")]),
    })
    write("manifest", {"check_len": one[1], "apply_scale": two[1]})

    (tmp / "vers.map").write_text("V1 { global: cp; local: *; };\nV2 { } V1;\n")
    elves = {"check_len-object": one[2], "apply_scale-object": two[2]}
    for name, (text, flags) in ELF_SEEDS.items():
        (tmp / f"{name}.c").write_text(text)
        run("gcc", "-O2", "-fPIC", "-Wl,--build-id", "-Wl,-z,noseparate-code", *flags,
            "-o", name, f"{name}.c", cwd=tmp)
        elves[name] = read(name)
    write("patchobj", elves)

    # No tool makes an encrypted key without a terminal: mark hotpatch's
    # key as scrypt-encrypted, which the parser refuses without a password.
    sec_lines = read("hpkey").splitlines()
    blob = bytearray(base64.b64decode(sec_lines[1]))
    blob[2:4] = b"Sc"
    encrypted = sec_lines[0] + b"\n" + base64.b64encode(blob) + b"\n"
    write("minisign", {
        "pub": read("pub"),
        "pub-crlf": read("pub").replace(b"\n", b"\r\n"),
        "sec-minisign-W": read("sec"),
        "sec-hotpatch": read("hpkey"),
        "pub-hotpatch": read("hpkey.pub"),
        "sec-encrypted": encrypted,
        "sig-prehashed": read("prehashed.sig"),
        "sig-legacy": read("legacy.sig"),
        "sig-hotpatch": read("payload.minisig"),
        # SIG \0 PUB \0 MESSAGE: what the harness verifies.
        "verify-prehashed": read("prehashed.sig") + b"\0" + read("pub") + b"\0" + read("msg"),
        "verify-legacy": read("legacy.sig") + b"\0" + read("pub") + b"\0" + read("msg"),
    })

    jmp = b"\xe9\x10\x00\x00\x00"
    write("record", {
        "empty": record([]),
        "one": record([(0x555555555a60, 0x7f0000001000, b"\xf3\x0f\x1e\xfa\x55")]),
        "three": record([(0x1000, 0x2000, jmp), (0x3000, 0x4000, b"\x55" * 16),
                         (0x5000, 0x6000, b"\x90")]),
    })
    print(f"seeds written (work files in {tmp})")


if __name__ == "__main__":
    main()
