"""Memory and time of the summary measures' max-t intervals (assessment/evaluation/summary.py).

Runs ``evaluate`` on synthetic data with a 60-cell intersection (6 × 10 levels) and B bootstrap
replicates, optionally clustered by patient, and wraps the engine's call of ``summaries`` to
measure what the summary code itself allocates (tracemalloc peak) and how long it takes, next to
the peak RSS of the whole process. For scale: an array of B × pairs × 8 bytes (what a naive
max-t over all pairwise differences would hold per metric) is printed beside it.

Usage: .venv/bin/python benchmarks/bench_summary_memory.py [--rows N] [--bootstrap B]
       [--clustered]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assessment.evaluation import disparities  # noqa: E402
from assessment.evaluation.engine import evaluate  # noqa: E402
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance  # noqa: E402
from assessment.evaluation.spec import EvaluationSpec  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--clustered", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    n = args.rows
    race = rng.integers(0, 6, n).astype(np.int32)
    age = rng.integers(0, 10, n).astype(np.int32)
    p = 1 / (1 + np.exp(-rng.normal(-1.0, 1.2, n)))
    y = rng.random(n) < p
    cluster = np.sort(rng.integers(0, n // 3, n)) if args.clustered else None
    attrs = (
        Attribute("race", race, tuple(f"r{i}" for i in range(6))),
        Attribute("age", age, tuple(f"a{i}" for i in range(10))),
    )
    inp = EvaluationInput(
        y, p, None, "probability", attrs, Provenance("bench", "0" * 64, n, n), cluster=cluster
    )
    spec = EvaluationSpec(
        threshold=0.3, bootstrap=args.bootstrap, intersections=(("race", "age"),), grid_points=11
    )
    inner = disparities.summaries
    peaks: list[tuple[int, int, float]] = []

    def measured(stats, *a, **k):  # type: ignore[no-untyped-def]
        tracemalloc.start()
        t0 = time.perf_counter()
        out = inner(stats, *a, **k)
        seconds = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peaks.append((stats.grouping.size, peak, seconds))
        return out

    disparities.summaries = measured
    t0 = time.perf_counter()
    evaluate(inp, spec)
    total = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    b = args.bootstrap
    print(f"rows {n:,}, B = {b}, clustered: {bool(args.clustered)}; evaluate {total:.1f} s, "
          f"peak RSS {rss:.0f} MB")
    for size, peak, seconds in peaks:
        pairs = size * (size - 1) // 2
        print(f"  grouping of {size} groups: summaries peak {peak / 1e6:.2f} MB "
              f"(B × groups × 8 = {b * size * 8 / 1e6:.2f} MB; B × pairs × 8 = "
              f"{b * pairs * 8 / 1e6:.1f} MB), {seconds:.2f} s")


if __name__ == "__main__":
    main()
