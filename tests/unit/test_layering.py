#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The layering is a build fact (docs/design.md, "Module map").

For each library and program, the compile command meson really uses for one
of its files is rerun on a probe that includes a header the target may not
use: it must fail to compile. The same command on a header it may use must
compile (so a failure means the layering, not a broken command). Then no two
modules include each other (no include circles), anywhere in src/.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

BUILD = sys.argv[1]
SRC = sys.argv[2]

# target (a file it compiles) -> (headers it may not use, one it may use)
RULES = {
    'src/lib/base/buf.c': (['bundle.h', 'store.h', 'procfs.h', 'engine.h'], 'json.h'),
    'src/lib/bundle/bundle.c': (['store.h', 'procfs.h', 'engine.h'], 'fileio.h'),
    'src/lib/store/store.c': (['procfs.h', 'engine.h'], 'trust.h'),
    'src/lib/inspect/procfs.c': (['store.h', 'engine.h'], 'record.h'),
    'src/lib/process/threads.c': (['store.h', 'engine.h', 'session.h'], 'module.h'),
    'src/cli/cmd_status.c': (['remote.h', 'flip.h', 'safety.h', 'loader.h'], 'engine.h'),
    'src/daemon/hotpatchd.c': (['remote.h', 'flip.h', 'loader.h'], 'engine.h'),
    'src/builder/objdiff.c': (['engine.h', 'procfs.h', 'remote.h'], 'filedelta.h'),
}


def command_for(entries, rel):
    for e in entries:
        path = os.path.normpath(os.path.join(e['directory'], e['file']))
        if path == os.path.normpath(os.path.join(SRC, rel)) and 'plain' not in e['output']:
            return e
    raise SystemExit(f'no compile command for {rel} in {BUILD}/compile_commands.json')


def compiles(entry, header):
    with tempfile.TemporaryDirectory() as tmp:
        probe = os.path.join(tmp, 'probe.c')
        with open(probe, 'w') as f:
            f.write(f'#include "{header}"\nint probe_unused;\n')
        argv = shlex.split(entry['command'])
        out = []
        skip = False
        for a in argv:
            if skip:
                skip = False
                continue
            if a in ('-o', '-MF', '-MQ', '-c'):
                skip = True
                continue
            if os.path.normpath(os.path.join(entry['directory'], a)) == \
               os.path.normpath(os.path.join(entry['directory'], entry['file'])):
                continue
            out.append(a)
        out += ['-fsyntax-only', probe]
        r = subprocess.run(out, cwd=entry['directory'], capture_output=True, text=True)
        return r.returncode == 0, r.stderr


def include_circles():
    """Pairs of modules (x.c + x.h) that include each other."""
    incs = {}
    for root, _, files in os.walk(os.path.join(SRC, 'src')):
        for f in files:
            if not f.endswith(('.c', '.h')):
                continue
            mod = f[:-2]
            with open(os.path.join(root, f)) as fh:
                for m in re.finditer(r'#include "([a-z_0-9]+)\.h"', fh.read()):
                    if m.group(1) != mod:
                        incs.setdefault(mod, set()).add(m.group(1))
    return sorted({tuple(sorted((a, b))) for a in incs for b in incs[a]
                   if a in incs.get(b, set())})


def main():
    with open(os.path.join(BUILD, 'compile_commands.json')) as f:
        entries = json.load(f)
    failures = 0
    for rel, (forbidden, allowed) in RULES.items():
        e = command_for(entries, rel)
        ok, err = compiles(e, allowed)
        if not ok:
            print(f'FAIL {rel}: may use {allowed} but the probe did not compile:\n{err}')
            failures += 1
        for h in forbidden:
            ok, _ = compiles(e, h)
            if ok:
                print(f'FAIL {rel}: {h} compiled, but its target may not use it')
                failures += 1
            else:
                print(f'ok   {rel}: {h} refused')
    circles = include_circles()
    for a, b in circles:
        print(f'FAIL include circle: {a} <-> {b}')
        failures += 1
    print(f'{failures} failure(s)')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
