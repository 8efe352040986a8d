#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""List the source packages whose bookworm-security version is newer than
bookworm's, with both versions, from a private apt configuration (deb-src of
bookworm and bookworm-security; the host's apt configuration is neither read
nor changed). Prints "source bookworm-version security-version" lines, one a
package, sorted by name.

Run: python3 tests/real/survey/candidates.py [--grep WORD]
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from survey_common import CACHE, apt_env, apt_update, sources_versions


def main():
    apt_update()
    base = sources_versions("bookworm")
    sec = sources_versions("bookworm-security")
    want = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--grep" else None
    for name in sorted(sec):
        old = base.get(name)
        if old is None or want and want not in name:
            continue
        r = subprocess.run(["dpkg", "--compare-versions", sec[name], "gt", old])
        if r.returncode == 0:
            print(name, old, sec[name])


if __name__ == "__main__":
    main()
