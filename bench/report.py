# SPDX-License-Identifier: MIT
"""The tables: one per benchmark, each figure beside its goal."""
import statistics

# Goals, from issue 5 and DESIGN-NOTES.md ("figures to beat").
GOAL_FLOOR_RATIO = 2.0      # median pause within 2x the median floor
GOAL_PAUSE_64x10_US = 1000  # 64 threads, 10 functions: under 1 ms
GOAL_ONE_MS = 4.0           # libpulp: about 4 ms to patch one process
GOAL_PROCS_PER_S = 1560     # libpulp: 500 idle processes in 0.32 s
GOAL_CALL_NS = 0.5          # one extra jmp (libpulp: +0.27 ns)
GOAL_PRIVATE = 8 * 1024     # private bytes per patched process


def table(title, headers, rows, notes=()):
    cells = [[str(c) for c in row] for row in rows]
    width = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]

    def line(row):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, width))).rstrip()

    out = [title, "=" * len(title), line(headers), line(["-" * w for w in width])]
    out += [line(row) for row in cells]
    out += [f"  {n}" for n in notes]
    return "\n".join(out) + "\n"


def yes(ok):
    return "yes" if ok else "NO"


def kib(b):
    return f"{b / 1024:.1f}"


def pause(p, cfg):
    rows = []
    for c in p["cells"]:
        head = (c["threads"], c["funcs"]) == (64, 10)
        met = max(c["ratio_apply"], c["ratio_revert"]) <= GOAL_FLOOR_RATIO
        if head:
            met = met and max(c["apply_us"]["median"],
                              c["revert_us"]["median"]) < GOAL_PAUSE_64x10_US
        goal = f"<={GOAL_FLOOR_RATIO:g}x" + (f", <{GOAL_PAUSE_64x10_US} us" if head else "")
        rows.append([c["threads"], c["funcs"], c["boost"],
                     f"{c['apply_us']['median']:.0f}", f"{c['apply_us']['p99']:.0f}",
                     f"{c['revert_us']['median']:.0f}", f"{c['revert_us']['p99']:.0f}",
                     f"{c['floor_us']['median']:.0f}", f"{c['floor_us']['p99']:.0f}",
                     f"{c['ratio_apply']:.2f}", f"{c['ratio_revert']:.2f}", goal, yes(met),
                     len(c["failures"]) + c["retried"]])
    notes = [f"{cfg['cycles']} apply/revert cycles per row; floor: {cfg['floor_iters']} plain "
             "stops (threads_stop..threads_release) of the same process, doing nothing.",
             "pause = pause_us from --json (first stop to last release). p99 is nearest-rank "
             "(the max below 100 samples).",
             "x floor = median pause / median floor. odd = failed runs + runs that needed "
             "more than one attempt."]
    if not p["boost_available"]:
        notes.append("boost: n/a, this hotpatch has no --no-boost (the priority-assisted stop, "
                     "issue 9): only the plain stop is measured.")
    return table("1. Pause (us): stop-the-world time of one apply / one revert",
                 ["threads", "funcs", "boost", "apply med", "p99", "revert med", "p99",
                  "floor med", "p99", "apply x floor", "revert x floor", "goal", "met", "odd"],
                 rows, notes)


def whole(p, alls, one_tmpfs, baseline):
    rows = [["hotpatch --version (exec baseline)", "-", f"{baseline['median']:.1f}",
             f"{baseline['p99']:.1f}", "-", "-", "-", "-"]]
    ones = [(f"{t} thr, {f} fn", next(c for c in p["cells"] if (c["threads"], c["funcs"]) ==
                                      (t, f) and c["boost"] in ("n/a", "on")))
            for t, f in ((1, 1), (64, 10))]
    if one_tmpfs:
        ones.append(("1 thr, 1 fn, state on tmpfs", one_tmpfs))
    for label, c in ones:
        for op in ("apply", "revert"):
            w = c[f"{op}_wall_ms"]
            rows.append([f"{op} --pid, 1 process ({label})", 1, f"{w['median']:.1f}",
                         f"{w['p99']:.1f}", f"{c[f'{op}_total_us']['median'] / 1000:.1f}",
                         f"{1000 / w['median']:.0f}",
                         f"< {GOAL_ONE_MS:g} ms" if op == "apply" else "-",
                         yes(w["median"] < GOAL_ONE_MS) if op == "apply" else "-"])
    for a in alls:
        tmpfs = ", state on tmpfs" if a["state"] == "tmpfs" else ""
        for op in ("apply", "revert"):
            ok = a[f"{op}_per_s"] >= GOAL_PROCS_PER_S and a[f"{op}_all_done"]
            rows.append([f"{op} --all ({a['funcs']} fn{tmpfs})", a["processes"],
                         f"{a[f'{op}_wall_ms']:.0f}", f"{max(x['wall_ms'] for x in a[op]):.0f}",
                         f"{statistics.median(x['elapsed_ms'] for x in a[op]):.0f}",
                         f"{a[f'{op}_per_s']:.0f}", f">= {GOAL_PROCS_PER_S}/s", yes(ok)])
    notes = ["wall = the hotpatch command as run by the driver (exec to exit): median and p99 "
             "(--all: median and max of its runs).",
             "inside = total_us of the process (--pid) or summary elapsed_ms (--all), measured "
             "by hotpatch. -j is the default (2 x CPUs).",
             "--all rows: every process patched/reverted in every run, else not met. "
             "Goals: libpulp's figures (4 ms for one process; 500 in 0.32 s).",
             "state on tmpfs: the same with --root on /dev/shm, where the audit log's fsync "
             "costs nothing; the difference is the cost of a durable log."]
    for a in alls:
        notes += [f"slowed down by a process not ours: {x}" for x in a["foreign"]]
    return table("2. Whole apply: end-to-end wall time",
                 ["what", "procs", "wall med ms", "p99/max", "inside ms", "procs/s", "goal",
                  "met"], rows, notes)


def calls(c):
    rows = []
    for phase in ("before", "patched", "reverted"):
        f, g = c[phase]["f_ns"], c[phase]["g_ns"]
        rows.append([phase, c["requests"][phase], f"{f['median']:.3f}",
                     f"{f['p10']:.3f}-{f['p90']:.3f}", f"{g['median']:.3f}",
                     f"{g['p10']:.3f}-{g['p90']:.3f}", "", ""])
    df, dg = c["delta_f_ns"], c["delta_g_ns"]
    rows.append(["f: patched - unpatched", "", f"{df['median']:+.3f}",
                 f"{df['ci95'][0]:+.3f}..{df['ci95'][1]:+.3f}", "", "",
                 f"< {GOAL_CALL_NS} ns", yes(df["median"] < GOAL_CALL_NS)])
    rows.append(["g: patched - unpatched", "", "", "", f"{dg['median']:+.3f}",
                 f"{dg['ci95'][0]:+.3f}..{dg['ci95'][1]:+.3f}", "0 (in 95% CI)",
                 yes(dg["ci95"][0] <= 0 <= dg["ci95"][1])])
    notes = [f"ns per call over {c['calls_per_request']:,} calls of each per request; spread = "
             "p10-p90 of the requests.",
             "unpatched = before + reverted blocks (they alternate with patched ones); deltas: "
             "difference of medians, bootstrap 95% interval."]
    ins, st = c["instructions"], c["instructions"]["static"]
    if isinstance(ins.get("callgrind"), dict):
        cg = ins["callgrind"]
        direct = round(cg.get("loop_f", 0))
        notes.append(f"instructions per call, callgrind: f {direct} (loop + call + f's "
                     f"{round(cg.get('f', 0))} + ret), g {round(cg.get('loop_g', 0))}.")
        if "patched_extra" in st:
            notes.append(f"patched f, counted statically: {direct + st['patched_extra']} = "
                         f"{direct} + 1 jmp + f_new's {st['f_new']} instead of f's {st['f']} "
                         f"({'; '.join(st['f_new_insns'])}).")
    else:
        notes.append(f"instructions: callgrind: {ins.get('callgrind')}")
    return table("3. Call overhead (ns per call)",
                 ["", "requests", "f med", "f spread", "g med", "g spread", "goal", "met"],
                 rows, notes)


def memory(one_proc, many):
    runs = [(f"1 process, {n} fn", m) for n, m in sorted(one_proc.items())]
    runs.append((f"{many['processes']} processes, {many['funcs']} fn", many))
    rows = []
    for label, m in runs:
        judged = m["private"] if m["processes"] > 1 else m["private_dirty"]
        rows.append([label, kib(m["private"]["median"]), kib(m["private"]["max"]),
                     kib(m["private_dirty"]["median"]), kib(m["pss"]["median"]),
                     kib(m["dirty_after_revert"]["median"]),
                     "<= 8 KiB private" if m["processes"] > 1 else "<= 8 KiB private dirty",
                     yes(judged["max"] <= GOAL_PRIVATE)])
    t1 = table("4a. Memory: growth per patched process (KiB, smaps_rollup after - before)",
               ["", "private", "max", "priv dirty", "pss", "dirty after revert", "goal",
                "met"],
               rows, ["private = Private_Clean + Private_Dirty. With 1 process the patch text is "
                      "Private_Clean (page cache no other process maps),",
                      "so the 1-process goal is on Private_Dirty. dirty after revert = "
                      "Private_Dirty still above the level before the apply."])
    rows = []
    for label, m in runs:
        for key, v in m["mappings"].items():
            judged = m["processes"] > 1 and "patch" in key and "x" in key.split()[-1]
            before = kib(m["target_code_private_dirty_before"]) if "target" in key else "-"
            rows.append([label, key, kib(v["size"]), kib(v["rss"]), kib(v["shared"]),
                         kib(v["private"]), kib(v["private_dirty"]), before,
                         "shared" if judged else "-",
                         yes(v["private"] == 0 and v["shared"] > 0) if judged else "-"])
    t2 = table("4b. Memory: the mappings a patch touches (KiB per process, median)",
               ["", "mapping", "size", "rss", "shared", "private", "priv dirty", "dirty before",
                "goal", "met"],
               rows, ["target code = the target executable's r-x mapping, where the jumps are "
                      "written (copy-on-write: private dirty pages)."])
    return t1 + "\n" + t2


GOAL_LOADED_P99_US = 1000   # issue 9: p99 pause under 1 ms, 64 threads, every scenario
GOAL_LOADED_THREADS = 64
GOAL_REDIS_P99_RATIO = 1.10  # issue 9: redis p99 during cycles within 10% of baseline


def loaded_goal(c):
    """None for rows without a goal, else whether the p99 goal is met."""
    if c["threads"] != GOAL_LOADED_THREADS:
        return None
    if c.get("all_failed"):
        return False
    return max(c["apply_us"]["p99"], c["revert_us"]["p99"]) < GOAL_LOADED_P99_US


def loaded(p, redis, cfg):
    rows = []
    failed_notes = []
    for c in p["cells"]:
        met = loaded_goal(c)
        if c.get("all_failed"):
            why = c["failures"][0] if c["failures"] else "?"
            failed_notes.append(f"{c['scenario']} x {c['threads']}, boost {c['boost']}: every "
                                f"run failed, e.g. {why}")
            rows.append([c["scenario"], c["threads"], c["boost"], "failed", "-", "failed", "-",
                         f"{c['floor_us']['median']:.0f}", f"{c['floor_us']['p99']:.0f}",
                         "-", "-", "-", "-", "-", "-", "-", len(c["failures"])])
            continue
        ph = c["phases_us"]
        phases = "/".join(f"{ph[k]['median']:.0f}" for k in ("stop", "evacuate", "check",
                                                            "release")) if ph else "-"
        rows.append([c["scenario"], c["threads"], c["boost"],
                     f"{c['apply_us']['median']:.0f}", f"{c['apply_us']['p99']:.0f}",
                     f"{c['revert_us']['median']:.0f}", f"{c['revert_us']['p99']:.0f}",
                     f"{c['floor_us']['median']:.0f}", f"{c['floor_us']['p99']:.0f}",
                     f"{c['ratio_apply']:.2f}", f"{c['ratio_revert']:.2f}",
                     f"{c['boost_used']}/{c['runs']}" if c["boost"] == "on" else "-",
                     f"{c['threads_boosted']['median']:.0f}" if c["boost"] == "on" else "-",
                     phases,
                     f"p99 <{GOAL_LOADED_P99_US} us" if met is not None else "-",
                     yes(met) if met is not None else "-",
                     len(c["failures"]) + c["retried"] + c["floor_timeouts"]])
    judged = [loaded_goal(c) for c in p["cells"] if c["boost"] == "on"]
    judged = [m for m in judged if m is not None]
    counts = ", ".join(f"{t} threads: {cfg['loaded_cycles'][t]}"
                       for t in cfg["loaded_threads"])
    notes = [f"apply/revert --pid of bench-target, a {p['funcs']}-function patch; cycles per row "
             f"({counts}); boost on and off alternate cycle by cycle.",
             "idle: threads blocked (as table 1). spinning: every thread calls f0..f99 in a "
             "loop. loaded: every thread calls f0..f99 for 200 us of CPU, then sleeps 200 us,",
             f"next to {p['hogs']} CPU hogs (2 per CPU: separate processes at normal priority, "
             "started for this scenario only).",
             "floor = the plain stop (bench-floor: threads_stop..threads_release, no boost, "
             "normal priority) of the same process under the same load, half before, half after.",
             "x floor = median pause / median floor. boost used = runs whose --json says "
             "\"boost\": \"used\" (apply + revert); boosted = median threads_boosted.",
             "phases = median stop/evacuate/check/release of the attempt that wrote "
             "(HOTPATCH_DEBUG=1), in us; odd = failed runs + retried runs + floor stops timed out.",
             f"Goal (issue 9): p99 pause under {GOAL_LOADED_P99_US} us for {GOAL_LOADED_THREADS} "
             f"threads in every scenario, boost on: "
             f"{'met' if judged and all(judged) else 'NOT met'}."] + failed_notes
    t1 = table("5a. Pause on a loaded host (us): the priority-assisted stop",
               ["scenario", "threads", "boost", "apply med", "p99", "revert med", "p99",
                "floor med", "p99", "apply x floor", "revert x floor", "boost used", "boosted",
                "stop/evac/check/rel", "goal", "met", "odd"], rows, notes)
    return t1 + "\n" + redis_table(redis)


def redis_table(rd):
    title = "5b. redis-server p99 latency under redis-benchmark, loaded host, during apply/revert"
    if "skipped" in rd:
        return table(title, ["skipped"], [[rd["skipped"]]])
    rows = []
    for kind, label in (("baseline", "baseline (no cycles)"), ("on", "cycles, boost on"),
                        ("off", "cycles, boost off")):
        row = rd["rows"][kind]
        cells = [label, row["blocks"], row["cycles"] if kind != "baseline" else "-"]
        for t in ("SET", "GET"):
            v = row[t]["p99_latency_ms"]
            cells += [f"{row[t]['p99_median']:.2f}", f"{min(v):.2f}-{max(v):.2f}"]
        rps = sorted(x for t in ("SET", "GET") for x in row[t]["rps"])
        mx = sorted(x for t in ("SET", "GET") for x in row[t]["max_latency_ms"])
        cells += [f"{rps[len(rps) // 2]:.0f}", f"{mx[len(mx) // 2]:.1f}"]
        if kind == "baseline":
            cells += ["-"] * 7
        else:
            pu, ld = row["pause_us"], row["load_us"]
            ratio = max(row["SET"]["ratio"], row["GET"]["ratio"])
            cells += [f"{pu['median']:.0f}/{pu['p99']:.0f}" if pu else "-",
                      f"{ld['median'] / 1000:.1f}/{ld['p99'] / 1000:.1f}" if ld else "-",
                      f"{row['boost_used']}/{row['runs']}" if kind == "on" else "-",
                      f"{row['SET']['ratio']:.2f}", f"{row['GET']['ratio']:.2f}",
                      f"<= {GOAL_REDIS_P99_RATIO:.2f}x",
                      yes(ratio <= GOAL_REDIS_P99_RATIO and not row["failures"])]
        rows.append(cells)
    notes = [f"redis-server ({rd['threads']} threads); per block redis-benchmark -c {rd['clients']} "
             f"-t set,get -n {rd['requests_per_test']} --csv, next to {rd['hogs']} CPU hogs; "
             "blocks baseline / boost on / boost off in turn.",
             "cycles = apply + revert of a patch to pingCommand, back to back for the whole "
             "block. p99 = median over the blocks of redis-benchmark's p99; range = min-max "
             "over the blocks;",
             "rps, max = median over blocks and tests of redis-benchmark's rps and max latency. "
             "pause = pause_us of the applies and reverts, median/p99.",
             "load = apply's loading of the patch object (HOTPATCH_DEBUG=1), median/p99: "
             "one thread of redis is borrowed for hotpatch's system calls (the least busy "
             "live one: a helper, not the main thread that serves clients).",
             "x base = p99 / baseline p99. Goal (issue 9): p99 during cycles within 10% of "
             "baseline (both tests, no failed run)."]
    for kind in ("on", "off"):
        r = rd["rows"][kind]
        if r.get("apply_total_us"):
            notes.append(f"boost {kind}: total_us median apply {r['apply_total_us']['median'] / 1000:.1f} ms, "
                         f"revert {r['revert_total_us']['median'] / 1000:.1f} ms; cycles took "
                         f"{r['duration_s']:.0f} s of blocks; p99 - baseline p99, bootstrap 95% "
                         f"interval: SET {r['SET']['diff_ci95_ms'][0]:+.2f}..{r['SET']['diff_ci95_ms'][1]:+.2f} ms, "
                         f"GET {r['GET']['diff_ci95_ms'][0]:+.2f}..{r['GET']['diff_ci95_ms'][1]:+.2f} ms.")
        notes += [f"boost {kind}: failed: {f}" for f in r["failures"][:3]]
    notes.append(f"redis-server alive and answering at the end: {yes(rd['redis_alive'])}.")
    return table(title, ["", "blocks", "cycles", "SET p99 ms", "range", "GET p99 ms", "range",
                         "rps", "max ms", "pause us", "load ms", "boost used", "SET x base",
                         "GET x base", "goal", "met"], rows, notes)


# Issue 19's goals for the blocked-thread benchmark (7).
GOAL_BLOCKED_64 = (100, 300)  # median, p99 us of the pause with 64 blocked threads
GOAL_BLOCKED_1024_P99 = 1000  # p99 us with 1024
GOAL_ONE_DISK_MS = {1: 2.2, 64: 4.0}  # apply --pid wall on a disk root


def blocked(res, cfg):
    """Benchmark 7: tables 7a (pause), 7b (thread-per-connection server), 7c
    (one apply, disk and tmpfs)."""
    rows = []
    for c in res["pause"]:
        a, v = c["apply_us"], c["revert_us"]
        if c["threads"] == 64:
            goal = f"med<={GOAL_BLOCKED_64[0]}, p99<={GOAL_BLOCKED_64[1]}"
            met = all(x["median"] <= GOAL_BLOCKED_64[0] and x["p99"] <= GOAL_BLOCKED_64[1]
                      for x in (a, v))
        else:
            goal = f"p99<={GOAL_BLOCKED_1024_P99}"
            met = all(x["p99"] <= GOAL_BLOCKED_1024_P99 for x in (a, v))
        rows.append([c["threads"], c["cycles"], f"{a['median']:.0f}", f"{a['p99']:.0f}",
                     f"{v['median']:.0f}", f"{v['p99']:.0f}", f"{c['floor_us']['median']:.0f}",
                     f"{c['floor_us']['p99']:.0f}", goal, yes(met),
                     len(c["failures"]) + c["retried"]])
    out = [table("7a. Pause (us) with blocked threads: a quarter each in a futex, epoll_wait, "
                 "read, nanosleep",
                 ["threads", "cycles", "apply med", "p99", "revert med", "p99", "floor med",
                  "p99", "goal (issue 19)", "met", "odd"], rows,
                 [f"{FUNCS_NOTE}; floor: {cfg['blocked_floor']} plain stops of the same "
                  "process. p99 is nearest-rank."])]

    c = res["conn"]
    rt = c["rtt_us"]
    rows = [[f"{c['connections']} conns, {c['active']} active", c["threads"],
             c["apply_us"]["n"],
             f"{c['apply_us']['median']:.0f}", f"{c['apply_us']['p99']:.0f}",
             f"{c['revert_us']['median']:.0f}", f"{c['revert_us']['p99']:.0f}",
             f"{c['apply_wall_ms']['median']:.1f}",
             f"{rt['baseline']['median']:.0f}", f"{rt['baseline']['p99']:.0f}",
             f"{rt['baseline']['max']:.0f}", f"{rt['cycling']['median']:.0f}",
             f"{rt['cycling']['p99']:.0f}", f"{rt['cycling']['max']:.0f}",
             len(c["failures"]) + c["retried"]]]
    out.append(table("7b. Thread-per-connection server: pause (us) and the client's round "
                     "trips (us)",
                     ["server", "threads", "cycles", "apply med", "p99", "revert med", "p99",
                      "apply wall ms", "rtt base med", "p99", "max", "rtt cycling med", "p99",
                      "max"], rows,
                     ["one server thread per connection, blocked in read(); a client thread "
                      "of the driver does round trips over the active ones in turn.",
                      f"{cfg['conn_blocks']} blocks of {cfg['conn_block_s']} s without cycles "
                      f"and {cfg['conn_cycles_per_block']} apply/revert cycles, in turn; rtt "
                      "base = round trips outside the cycles, cycling = during them.",
                      f"{FUNCS_NOTE}."]))

    if res["one"]:
        rows = []
        for row in res["one"]["rows"]:
            for op in ("apply", "revert"):
                w = row[f"{op}_wall_ms"]
                goal = GOAL_ONE_DISK_MS.get(row["threads"]) \
                    if op == "apply" and row["state"] == "disk" else None
                rows.append([f"{op} --pid, {row['threads']} thr, state on {row['state']}",
                             w["n"], f"{w['median']:.2f}", f"{w['p99']:.2f}",
                             f"{row[f'{op}_total_us']['median'] / 1000:.2f}",
                             f"{row[f'{op}_pause_us']['median']:.0f}",
                             f"<= {goal:g} ms" if goal else "-",
                             yes(w["median"] <= goal) if goal else "-"])
        v = res["one"]["version_ms"]
        rows.append(["hotpatch --version", v["n"], f"{v['median']:.2f}", f"{v['p99']:.2f}", "-",
                     "-", "-", "-"])
        out.append(table("7c. One apply, end to end (ms): state on the disk and on tmpfs",
                         ["what", "runs", "wall med", "p99", "inside med", "pause med us",
                          "goal (issue 19)", "met"], rows,
                         ["disk and tmpfs alternate run by run (one target each, threads "
                          "blocked as in 7a); inside = total_us measured by hotpatch.",
                          "tmpfs: --root on /dev/shm, where fsync costs nothing."]))
    return "\n".join(out)


FUNCS_NOTE = "patch of 10 functions (f0..f9), unsigned (--insecure)"
