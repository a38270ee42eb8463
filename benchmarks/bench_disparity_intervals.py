"""Time of the analytic disparity intervals: MOVER for AUROC comparisons (with its p-value by
bisection on z, each step a Hanley–McNeil score bisection) and Koopman's score interval for ratios
of proportions, against the closed forms they replaced (DeLong's Wald difference, Katz's log
ratio), per call at 10–10,000 groups; then their share of one ``evaluate`` on synthetic data
(3 attributes and a 60-cell intersection), measured by wrapping the engine's own functions.

Usage: .venv/bin/python benchmarks/bench_disparity_intervals.py [--rows N] [--bootstrap B]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assessment.evaluation import disparities, mover  # noqa: E402
from assessment.evaluation import intervals as iv  # noqa: E402
from assessment.evaluation.auroc import AurocResult  # noqa: E402
from assessment.evaluation.engine import evaluate  # noqa: E402
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance  # noqa: E402
from assessment.evaluation.ratio_score import koopman  # noqa: E402
from assessment.evaluation.spec import EvaluationSpec  # noqa: E402


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _time(f: Callable[[], object], repeat: int = 3) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), _cpu()
    for _ in range(repeat):
        f()
    return (time.perf_counter() - w0) / repeat, (_cpu() - c0) / repeat


def _cases(
    auc: np.ndarray,
    var: np.ndarray,
    n1: np.ndarray,
    n0: np.ndarray,
    k1: np.ndarray,
    k2: np.ndarray,
    m2: np.ndarray,
) -> list[tuple[str, Callable[[], object]]]:
    au = AurocResult(auc, var, var * n1 / 2, var * n0 / 2, None)
    return [
        ("DeLong Wald difference (before)", lambda: iv.normal_interval(auc - auc[0], var, 0.95)),
        ("MOVER AUROC + p-value", lambda: mover.auroc_against(au, n1, n0, 0, False, 0.95)),
        ("Katz log ratio (before)", lambda: iv.katz(k1, n1, k2, m2, 0.95)),
        ("Koopman score ratio", lambda: koopman(k1, n1, k2, m2, 0.95)),
    ]


def per_call() -> None:
    rng = np.random.default_rng(1)
    print("groups  method                               wall ms   cpu ms")
    for g in (10, 100, 1000, 10_000):
        n1 = rng.integers(5, 500, g).astype(float)
        n0 = rng.integers(5, 5000, g).astype(float)
        auc = rng.uniform(0.6, 0.9, g)
        var = auc * (1 - auc) / np.minimum(n1, n0)
        k1 = rng.binomial(n1.astype(int), 0.7).astype(float)
        k2, m2 = np.full(g, k1[0]), np.full(g, n1[0])
        cases = _cases(auc, var, n1, n0, k1, k2, m2)
        for name, f in cases:
            wall, cpu = _time(f)
            print(f"{g:6d}  {name:34s} {1000 * wall:9.1f} {1000 * cpu:8.1f}")


def in_evaluate(rows: int, bootstrap: int) -> None:
    rng = np.random.default_rng(2)
    a6 = rng.integers(0, 6, rows).astype(np.int32)
    a10 = rng.integers(0, 10, rows).astype(np.int32)
    a2 = rng.integers(0, 2, rows).astype(np.int32)
    eta = -1.5 + rng.normal(0, 1, rows) + 0.1 * a6
    y = rng.random(rows) < 1 / (1 + np.exp(-eta))
    p = 1 / (1 + np.exp(-eta))
    attrs = (
        Attribute("race", a6, tuple(f"r{i}" for i in range(6))),
        Attribute("site", a10, tuple(f"s{i}" for i in range(10))),
        Attribute("sex", a2, ("F", "M")),
    )
    inp = EvaluationInput(y, p, None, "probability", attrs, Provenance("b", "0" * 64, rows, rows))
    spent = {"MOVER AUROC": 0.0, "Koopman ratios": 0.0}
    originals: dict[str, Any] = {
        "_auroc_mover": disparities._auroc_mover,
        "koopman": disparities.koopman,
    }

    def timed(key: str, f: Callable[..., Any]) -> Callable[..., Any]:
        def run(*a: Any, **k: Any) -> Any:
            c0 = _cpu()
            out = f(*a, **k)
            spent[key] += _cpu() - c0
            return out

        return run

    disparities._auroc_mover = timed("MOVER AUROC", originals["_auroc_mover"])  # type: ignore[assignment]
    disparities.koopman = timed("Koopman ratios", originals["koopman"])
    spec = EvaluationSpec(bootstrap=bootstrap, seed=1, intersections=(("race", "site"),))
    w0, c0 = time.perf_counter(), _cpu()
    evaluate(inp, spec)
    wall, cpu = time.perf_counter() - w0, _cpu() - c0
    for k, v in originals.items():
        setattr(disparities, k, v)
    print(
        f"\nevaluate: {rows:,} rows, race(6) site(10) sex(2) + race×site (60 cells), "
        f"B={bootstrap}: wall {wall:.2f} s, cpu {cpu:.2f} s"
    )
    for k, v in spent.items():
        print(f"  {k}: cpu {1000 * v:.0f} ms ({100 * v / cpu:.1f} % of the evaluation)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--bootstrap", type=int, default=200)
    args = ap.parse_args()
    per_call()
    in_evaluate(args.rows, args.bootstrap)


if __name__ == "__main__":
    main()
