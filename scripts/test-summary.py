#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Count meson's test results and print "N passed, N failed, N skipped".
Takes any number of JSON-lines files in the form of meson's testlog.json
(scripts/test.sh adds one with its compile-only builds). Exits non-zero when
anything failed (or no test ran at all)."""
import json
import sys

counts = {"passed": 0, "failed": 0, "skipped": 0}
failed = []
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            t = json.loads(line)
            result = t.get("result", "")
            if result in ("OK", "EXPECTEDFAIL"):
                counts["passed"] += 1
            elif result == "SKIP":
                counts["skipped"] += 1
            else:
                counts["failed"] += 1
                failed.append(f"{t.get('name')} ({result})")
for name in failed:
    print(f"failed: {name}")
print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
sys.exit(1 if counts["failed"] or not counts["passed"] else 0)
