# SPDX-License-Identifier: MIT
"""What a process's memory is made of, from /proc/PID/smaps{,_rollup}."""
import os
import re
import statistics


def _fields(lines):
    """The "Name:  N kB" lines, in bytes."""
    out = {}
    for ln in lines:
        parts = ln.split()
        if len(parts) == 3 and parts[0].endswith(":") and parts[2] == "kB":
            out[parts[0][:-1]] = int(parts[1]) * 1024
    return out


def rollup(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        return _fields(f)


def smaps(pid):
    """[(path, perms, fields)] of every mapping of @pid."""
    maps = []
    with open(f"/proc/{pid}/smaps") as f:
        for ln in f:
            parts = ln.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+$", parts[0]):
                maps.append((parts[5] if len(parts) > 5 else "", parts[1], []))
            else:
                maps[-1][2].append(ln)
    return [(path, perms, _fields(lines)) for path, perms, lines in maps]


def private(d):
    return d.get("Private_Clean", 0) + d.get("Private_Dirty", 0)


def shared(d):
    return d.get("Shared_Clean", 0) + d.get("Shared_Dirty", 0)


def code_dirty(pid, exe):
    """Private dirty bytes of @exe's code in @pid: pages written since load."""
    exe = os.path.realpath(exe)
    return sum(d["Private_Dirty"] for path, perms, d in smaps(pid)
               if path == exe and "x" in perms)


def _mapping_key(path, perms, exe):
    if path.endswith(".hpo"):
        return f"patch object {perms}"
    if path == exe and "x" in perms:
        return f"target code {perms}"
    return None


def figures(exe, before, after, reverted):
    """Growth per process and the mappings a patch touches, as medians over
    processes. @before: pid -> (smaps_rollup, code_dirty());
    @after: pid -> (smaps_rollup, smaps()); @reverted: pid -> smaps_rollup."""
    exe = os.path.realpath(exe)
    rows = []
    for pid, (roll, maps) in after.items():
        (b, _), rv = before[pid], reverted.get(pid)
        row = {"private": private(roll) - private(b),
               "private_dirty": roll["Private_Dirty"] - b["Private_Dirty"],
               "pss": roll["Pss"] - b["Pss"],
               "dirty_after_revert": rv["Private_Dirty"] - b["Private_Dirty"] if rv else None,
               "mappings": {}}
        for path, perms, d in maps:
            key = _mapping_key(path, perms, exe)
            if not key:
                continue
            m = row["mappings"].setdefault(key, dict.fromkeys(
                ("size", "rss", "shared", "private", "private_dirty"), 0))
            for k, v in (("size", d["Size"]), ("rss", d["Rss"]), ("shared", shared(d)),
                         ("private", private(d)), ("private_dirty", d["Private_Dirty"])):
                m[k] += v
        rows.append(row)
    out = {"processes": len(rows)}
    for k in ("private", "private_dirty", "pss", "dirty_after_revert"):
        vals = [x[k] for x in rows if x[k] is not None]
        out[k] = {"median": statistics.median(vals), "max": max(vals)} if vals else None
    keys = sorted({k for x in rows for k in x["mappings"]})
    out["mappings"] = {k: {f: statistics.median(x["mappings"].get(k, {}).get(f, 0) for x in rows)
                           for f in ("size", "rss", "shared", "private", "private_dirty")}
                       for k in keys}
    out["target_code_private_dirty_before"] = statistics.median(
        code for _, code in before.values())
    return out
