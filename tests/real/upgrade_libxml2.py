#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""libxml2 2.9.14+dfsg-1.3~deb12u4 -> ~deb12u6, live, on Debian's own library.

Installs the older libxml2 in a debootstrapped root, starts long-running
programs there that use it (a small Python program driving libxml2's catalog
API through ctypes: one line in, one answer out), builds the live patch with
`hotpatch build --upgrade-to 2.9.14+dfsg-1.3~deb12u6` against the root's
libxml2.so.2, applies it from the host to the running programs, and runs
each reproducible fix's reproducer: on an unpatched twin process it crashes
or hangs (failing before), on the patched process it answers (passing
after). Every patched process keeps serving. Prints the table row.

Run as root: python3 tests/real/upgrade_libxml2.py
"""
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from upgrade_common import *

OLD, NEW = "2.9.14+dfsg-1.3~deb12u4", "2.9.14+dfsg-1.3~deb12u6"
LIB = "/usr/lib/x86_64-linux-gnu/libxml2.so.2"

SERVER = r'''
import ctypes, sys
x = ctypes.CDLL("libxml2.so.2")
x.xmlCatalogResolveURI.restype = ctypes.c_char_p
x.xmlCatalogResolveURI.argtypes = [ctypes.c_char_p]
x.xmlLoadCatalog.argtypes = [ctypes.c_char_p]
x.xmlInitParser()

def dyn():
    # EXSLT dyn:evaluate of an expression that evaluates itself: each nested
    # evaluation used to reset the XPath depth counter (CVE-2025-9714).
    from lxml import etree
    xsl = etree.XML(open("/tmp/hp/dyn.xsl", "rb").read())
    try:
        return str(etree.XSLT(xsl)(etree.XML(b"<a/>"))).strip()
    except etree.XSLTApplyError as e:
        return "refused: " + str(e)

def shell():
    # xmlShell fed 2000 blank command lines of 16 kB: each one used to leak
    # (CVE-2026-1757). Answers how many heap bytes the run left in use.
    libc = ctypes.CDLL("libc.so.6")
    class MallInfo(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in
                    "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks "
                    "keepcost".split()]
    libc.mallinfo2.restype = MallInfo
    libc.strdup.restype = ctypes.c_void_p
    libc.strdup.argtypes = [ctypes.c_char_p]
    libc.fopen.restype = ctypes.c_void_p
    x.xmlNewDoc.restype = ctypes.c_void_p
    x.xmlShell.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p]
    line, left = b" " * 16000, [2000]
    def read(prompt):
        left[0] -= 1
        return libc.strdup(line) if left[0] >= 0 else None
    cb = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_char_p)(read)
    doc = x.xmlNewDoc(b"1.0")
    out = libc.fopen(b"/dev/null", b"w")
    before = libc.mallinfo2().uordblks
    x.xmlShell(doc, b"doc", ctypes.cast(cb, ctypes.c_void_p), out)
    return libc.mallinfo2().uordblks - before

for line in sys.stdin:
    cmd, _, arg = line.strip().partition(" ")
    if cmd == "shell":
        print("shell", shell(), flush=True)
    elif cmd == "dyn":
        print("dyn", " ".join(dyn().split()), flush=True)
    elif cmd == "load":
        print("load", x.xmlLoadCatalog(arg.encode()), flush=True)
    elif cmd == "uri":
        print("uri", x.xmlCatalogResolveURI(arg.encode()), flush=True)
    else:
        print("pong", flush=True)
'''

NS = 'xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog"'

# fix name -> (files, commands, a check of the last answer or None)
REPRODUCERS = {
    # SGML catalog whose CATALOG entry is itself: unbounded recursion.
    "CVE-2025-8732.patch": (
        {"sgml/self.cat": 'CATALOG "/tmp/hp/sgml/self.cat"\n'},
        ["load /tmp/hp/sgml/self.cat"], None),
    # XML catalog delegating a URI prefix to itself.
    "CVE-2026-0990.patch": (
        {"deleg/self.xml": f'<?xml version="1.0"?>\n<catalog {NS}>\n'
         '<delegateURI uriStartString="http://example.org/" '
         'catalog="file:///tmp/hp/deleg/self.xml"/>\n</catalog>\n'},
        ["load /tmp/hp/deleg/self.xml", "uri http://example.org/a"], None),
    # Repeated nextCatalog entries: 32^7 resolutions before, 7 after.
    "CVE-2026-0992/01-4af23b523.patch": (
        {f"next/c{i}.xml": f'<?xml version="1.0"?>\n<catalog {NS}>\n' +
         "".join(f'<nextCatalog catalog="file:///tmp/hp/next/c{i + 1}.xml"/>\n'
                 for _ in range(32 if i < 7 else 0)) + "</catalog>\n"
         for i in range(8)},
        ["load /tmp/hp/next/c0.xml", "uri http://example.org/none"], None),
}
REPRODUCERS["CVE-2025-9714.patch"] = (
    {"dyn.xsl": '<xsl:stylesheet version="1.0" '
     'xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
     'xmlns:dyn="http://exslt.org/dynamic" extension-element-prefixes="dyn">\n'
     '<xsl:variable name="e" select="\'dyn:evaluate($e)\'"/>\n'
     '<xsl:template match="/"><r><xsl:value-of select="dyn:evaluate($e)"/></r>'
     '</xsl:template>\n</xsl:stylesheet>\n'},
    ["dyn"], None)
REPRODUCERS["CVE-2026-1757.patch"] = (
    {}, ["shell"], lambda answer: int(answer.split()[1]) < 1000000)
# Fixes of the same code path, proven by the same reproducer.
SAME_PATH = {"0039-catalog-fix-stack-overflow-from-self-referencing-SGM.patch":
             "CVE-2025-8732.patch",
             "CVE-2026-0992/02-096402c94.patch": "CVE-2026-0992/01-4af23b523.patch"}


class XmlProc:
    """A long-running program of the root that uses libxml2."""

    def __init__(self, root):
        with open(os.path.join(root, "tmp/hp/server.py"), "w") as f:
            f.write(SERVER)
        self.p = subprocess.Popen(
            ["chroot", root, "env", "XML_CATALOG_FILES=", "python3", "/tmp/hp/server.py"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, bufsize=1)
        expect(self.ask("ping", 10) == "pong", "the libxml2 program answers")
        self.pid = self.p.pid

    def ask(self, line, timeout):
        """The answer, or None when the process died or hung (failure)."""
        try:
            self.p.stdin.write(line + "\n")
            self.p.stdin.flush()
        except BrokenPipeError:
            return None
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not r:
            return None
        return self.p.stdout.readline().strip() or None

    def stop(self):
        self.p.kill()
        self.p.wait()


def reproduce(proc, commands, check, timeout=15):
    """True when every command got an answer (no crash, no hang) and the
    last one passes @check."""
    for c in commands:
        answer = proc.ask(c, timeout)
        if answer is None:
            return False
        say(f"  {c} -> {answer[:120]}")
    return check is None or check(answer)


def main():
    root = make_root("libxml2-py-root", [f"libxml2={OLD}", f"libxml2-utils={OLD}",
                                         "python3-lxml"])
    for name, (files, _, _) in REPRODUCERS.items():
        for rel, text in files.items():
            path = os.path.join(root, "tmp/hp", rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
    # A pair per reproducer: catalogs are process-global state in libxml2.
    procs = {n: (XmlProc(root), XmlProc(root)) for n in REPRODUCERS}
    try:
        out = os.path.join(WORK, "libxml2.hpb")
        if os.path.exists(out):
            os.unlink(out)
        rc, text, err, took = build(LIB, root, NEW, out)
        fixes = parse_fixes(text)
        expect(twin_verdict(text) in ("exact", "code-identical"), "the twin reproduces")
        expect(rc == 0 and os.path.exists(out), f"a bundle: {err[-2000:]}")
        fixed = fixed_verdict(text)
        expect(fixed.startswith("Debian's"), "the newer build reproduces Debian's newer "
               "libxml2, which is the fixed file for commit")
        store = Store()
        for n, (control, patched) in procs.items():
            store.apply(out, patched.pid)
        proven = {}
        for n, (control, patched) in procs.items():
            if fixes.get(n, {}).get("verdict") != "in the live patch":
                say(f"{n}: {fixes.get(n, {}).get('verdict')}: no live run")
                continue
            _, commands, check = REPRODUCERS[n]
            before = reproduce(control, commands, check)
            after = reproduce(patched, commands, check)
            say(f"{n}: unpatched {'passes' if before else 'fails (crash, hang or leak)'}, "
                f"patched {'passes' if after else 'fails'}")
            expect(not before, f"{n}: the reproducer fails on the unpatched library")
            expect(after, f"{n}: the reproducer passes on the patched library")
            expect(patched.ask("ping", 5) == "pong", f"{n}: the patched process keeps serving")
            proven[n] = True
        for other, same in SAME_PATH.items():
            if proven.get(same) and fixes.get(other, {}).get("verdict") == "in the live patch":
                proven[other] = True
        size = f"{os.path.getsize(out)} bytes"
        table_row("libxml2", OLD, NEW, fixes, twin_verdict(text), took, size, fixed)
        print(f"fixes proven live by their reproducer: {len(proven)}: {', '.join(sorted(proven))}")
        print("ok")
    finally:
        for control, patched in procs.values():
            control.stop()
            patched.stop()


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAIL: {e}")
        sys.exit(1)
