# SPDX-License-Identifier: MIT
"""Percentiles and intervals for noisy timings."""
import math
import random
import statistics


def pct(values, p):
    """Nearest-rank percentile (with fewer than 100 values, p99 is the max)."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def summary(values):
    return {"n": len(values), "median": statistics.median(values), "p10": pct(values, 10),
            "p90": pct(values, 90), "p99": pct(values, 99), "max": max(values)}


def median_diff_ci(a, b, resamples=2000):
    """median(a) - median(b), with a bootstrap 95% interval (fixed seed, so
    a rerun on the same data prints the same interval)."""
    rng = random.Random(5)
    diffs = sorted(statistics.median(rng.choices(a, k=len(a))) -
                   statistics.median(rng.choices(b, k=len(b))) for _ in range(resamples))
    return (statistics.median(a) - statistics.median(b),
            diffs[int(0.025 * resamples)], diffs[int(0.975 * resamples)])
