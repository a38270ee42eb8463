"""Evaluation-engine benchmark: Probity vs stock Fairlearn MetricFrame, side by side, one run.

Workload (issue 3, "Speed and memory"): synthetic validation data with 1,000,000 rows, three
sensitive attributes with 2, 5 and 6 levels and their 3-way intersection (60 cells), a
probability score and a binary outcome; threshold 0.5.

Side-by-side workloads (same data, same B for both tools):

1. point metrics of the three attributes (Fairlearn: one MetricFrame per attribute; Probity:
   ``point_estimates``, all 16 metrics including the calibration fits, plus the overall row);
2. point metrics of the 3-way intersection (Fairlearn: one MetricFrame with the three sensitive
   features; Probity: ``point_estimates`` on the 60-cell crossed attribute, whose construction
   is timed too);
3. bootstrap CIs on the intersection at a smaller size (default 10,000 rows, B = 50 for both):
   Fairlearn ``MetricFrame(n_boot=B, ci_quantiles=[0.025, 0.975])`` vs Probity ``evaluate``
   with ``bootstrap=B`` (all metrics, all groupings, all disparities).

Fairlearn computes the same metric set through sklearn/Fairlearn functions: count, selection
rate, TPR, FPR, TNR, FNR, PPV, NPV, accuracy, balanced accuracy, F1, AUROC, Brier score.
Every figure is measured at the size stated next to it; nothing is extrapolated.

Goals for Probity at 1,000,000 rows: all point metrics ≤ 1 s (``point_estimates`` for the three
attributes and the intersection); all metrics with CIs (B = 1000) and disparities ≤ 5 s (a full
``evaluate``, which also draws curves, the threshold grid and representativeness); peak
memory ≤ 1 GB; ≥ 100× faster than Fairlearn on each workload.
Peak memory is measured with tracemalloc (NumPy reports its buffers to it) in a separate run,
and the process's maximum resident set size (getrusage) is recorded before Fairlearn runs.

Usage: python benchmarks/bench_evaluation.py [--rows N] [--boot-rows N] [--boot-b B]
       [--skip-fairlearn] [--no-write]
Results go to benchmarks/RESULTS.md between the bench_evaluation markers.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessment.evaluation.engine import (  # noqa: E402
    evaluate,
    point_estimates,
    point_metrics_at_threshold,
)
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance  # noqa: E402
from assessment.evaluation.metrics import build_groupings  # noqa: E402
from assessment.evaluation.spec import EvaluationSpec  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN, END = "<!-- bench_evaluation:begin -->", "<!-- bench_evaluation:end -->"
THRESHOLD = 0.5
LEVELS = {"sex": 2, "race": 5, "age_band": 6}
GOAL_POINT_S, GOAL_ALL_S, GOAL_PEAK_MB, GOAL_RATIO = 1.0, 5.0, 1024.0, 100.0


def synthetic(n: int, seed: int = 2026) -> tuple[EvaluationInput, dict[str, np.ndarray]]:
    """Unequal group sizes and prevalences, a mildly miscalibrated continuous score."""
    rng = np.random.default_rng(seed)
    codes = {}
    lin = rng.normal(-1.2, 1.0, n)
    for k, (name, m) in enumerate(LEVELS.items()):
        w = np.linspace(1.0, 2.5, m)
        c = rng.choice(m, size=n, p=w / w.sum()).astype(np.int32)
        lin += 0.15 * (k + 1) * (c - m / 2) / m
        codes[name] = c
    y = rng.random(n) < 1 / (1 + np.exp(-lin))
    score = 1 / (1 + np.exp(-(0.8 * lin + rng.normal(0, 0.6, n))))
    attrs = tuple(
        Attribute(name, codes[name], tuple(f"{name}{j}" for j in range(m)))
        for name, m in LEVELS.items()
    )
    inp = EvaluationInput(y, score, None, "probability", attrs,
                          Provenance("synthetic", "0" * 64, n, n))
    return inp, codes


def timed(fn: Callable[[], object], repeats: int = 1) -> float:
    """Best of ``repeats`` wall-clock runs (the machine is shared; the minimum is the least
    disturbed measurement)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def probity_spec(b: int, intersect: bool) -> EvaluationSpec:
    inter = (tuple(LEVELS),) if intersect else ()
    return EvaluationSpec(threshold=THRESHOLD, intersections=inter, bootstrap=b, seed=1)


def peak_memory_mb(inp: EvaluationInput, b: int) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    evaluate(inp, probity_spec(b, True))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def fairlearn_metrics() -> dict[str, Callable[..., float]]:
    from fairlearn.metrics import (
        count,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        brier_score_loss,
        f1_score,
        precision_score,
        roc_auc_score,
    )

    def at(metric: Callable[..., float]) -> Callable[..., float]:
        return lambda y_true, y_score: metric(y_true, y_score >= THRESHOLD)

    def npv(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        neg = ~y_pred
        return float(np.sum(neg & ~y_true) / np.sum(neg)) if neg.any() else float("nan")

    return {
        "count": count,
        "selection_rate": at(selection_rate),
        "tpr": at(true_positive_rate),
        "fpr": at(false_positive_rate),
        "tnr": at(true_negative_rate),
        "fnr": at(false_negative_rate),
        "ppv": at(lambda t, p: precision_score(t, p, zero_division=np.nan)),
        "npv": at(npv),
        "accuracy": at(accuracy_score),
        "balanced_accuracy": at(balanced_accuracy_score),
        "f1": at(lambda t, p: f1_score(t, p, zero_division=np.nan)),
        "auroc": roc_auc_score,
        "brier": brier_score_loss,
    }


def fairlearn_frame(inp: EvaluationInput, names: list[str], n_boot: int | None = None) -> object:
    import pandas as pd
    from fairlearn.metrics import MetricFrame

    sf = pd.DataFrame({name: inp.attribute(name).codes for name in names})
    kw = {}
    if n_boot:
        kw = {"n_boot": n_boot, "ci_quantiles": [0.025, 0.975], "random_state": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MetricFrame(metrics=fairlearn_metrics(), y_true=inp.y_true, y_pred=inp.score,
                           sensitive_features=sf if len(names) > 1 else sf[names[0]], **kw)


def crossed(inp: EvaluationInput) -> EvaluationInput:
    """The 3-way intersection as one attribute with one level per observed cell (built in O(n)
    by Probity's own grouping code, as ``evaluate`` does for intersections)."""
    gp = build_groupings(inp, (tuple(a.name for a in inp.attributes),))[-1]
    cross = Attribute(gp.name, gp.codes.astype(np.int32), gp.labels)
    return EvaluationInput(inp.y_true, inp.score, None, inp.score_kind, (cross,), inp.provenance)


def subset(inp: EvaluationInput, n: int) -> EvaluationInput:
    return EvaluationInput(
        inp.y_true[:n], None if inp.score is None else inp.score[:n], None, inp.score_kind,
        tuple(Attribute(a.name, a.codes[:n], a.levels) for a in inp.attributes),
        Provenance("synthetic", "0" * 64, n, n),
    )


def run(args: argparse.Namespace) -> dict[str, object]:
    fig: dict[str, object] = {"rows": args.rows, "boot_rows": args.boot_rows,
                              "boot_b": args.boot_b, "load_start": os.getloadavg()[0]}
    inp, _ = synthetic(args.rows)
    small = subset(inp, args.boot_rows)
    evaluate(subset(inp, 5000), probity_spec(10, True))  # warm-up (imports, caches)
    print(f"rows={args.rows:,}", flush=True)
    fig["p_attr"] = timed(lambda: point_estimates(inp, probity_spec(0, False)), args.repeats)
    print(f"probity point metrics, 3 attributes: {fig['p_attr']:.3f} s", flush=True)
    fig["p_inter"] = timed(
        lambda: point_estimates(crossed(inp), probity_spec(0, False)), args.repeats
    )
    print(f"probity point metrics, intersection: {fig['p_inter']:.3f} s", flush=True)
    fig["p_point"] = timed(lambda: point_estimates(inp, probity_spec(0, True)), args.repeats)
    print(f"probity all point metrics, attributes + intersection: {fig['p_point']:.3f} s",
          flush=True)
    fig["p_eval0"] = timed(lambda: evaluate(inp, probity_spec(0, True)), args.repeats)
    print(f"probity evaluate with analytic CIs only (B=0): {fig['p_eval0']:.3f} s", flush=True)
    fig["p_full"] = timed(lambda: evaluate(inp, probity_spec(1000, True)), args.repeats)
    print(f"probity everything with CIs (B=1000): {fig['p_full']:.3f} s", flush=True)
    slider_in = subset(inp, 100_000)
    spec = probity_spec(0, True)
    fig["p_slider"] = timed(lambda: point_metrics_at_threshold(slider_in, spec, 0.37), 5)
    print(f"probity threshold slider at 100,000 rows: {1000 * fig['p_slider']:.1f} ms",
          flush=True)
    fig["p_boot_small"] = timed(
        lambda: evaluate(small, probity_spec(args.boot_b, True)), args.repeats
    )
    print(f"probity B={args.boot_b} at {args.boot_rows:,} rows: {fig['p_boot_small']:.3f} s",
          flush=True)
    fig["peak_mb"] = peak_memory_mb(inp, 1000)
    fig["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"probity peak traced memory (B=1000): {fig['peak_mb']:.0f} MB; "
          f"max RSS so far {fig['maxrss_mb']:.0f} MB", flush=True)
    fig["load_probity"] = os.getloadavg()[0]
    if args.skip_fairlearn:
        return fig
    import fairlearn

    fig["fairlearn_version"] = fairlearn.__version__
    fig["f_attr"] = timed(lambda: [fairlearn_frame(inp, [a]) for a in LEVELS])
    print(f"fairlearn point metrics, 3 attributes: {fig['f_attr']:.1f} s", flush=True)
    fig["f_inter"] = timed(lambda: fairlearn_frame(inp, list(LEVELS)))
    print(f"fairlearn point metrics, intersection: {fig['f_inter']:.1f} s", flush=True)
    fig["f_boot"] = timed(lambda: fairlearn_frame(small, list(LEVELS), n_boot=args.boot_b))
    print(f"fairlearn B={args.boot_b} at {args.boot_rows:,} rows, intersection: "
          f"{fig['f_boot']:.1f} s", flush=True)
    return fig


def _mark(ok: bool) -> str:
    return "met" if ok else "NOT met"


def section(fig: dict[str, object]) -> str:
    rows, br, bb = fig["rows"], fig["boot_rows"], fig["boot_b"]
    p_attr, p_point, p_full = fig["p_attr"], fig["p_point"], fig["p_full"]
    lines = [
        BEGIN,
        "## Evaluation engine (`benchmarks/bench_evaluation.py`)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
        f"{os.cpu_count()} cores (shared with other jobs), Python {platform.python_version()}, "
        f"NumPy {np.__version__}"
        + (f", Fairlearn {fig['fairlearn_version']}" if "fairlearn_version" in fig else "")
        + f"; 1-minute load average {fig['load_start']:.1f} at the start and "
        f"{fig['load_probity']:.1f} after the Probity runs (other agents share the machine)"
        + ". Synthetic data: binary outcome, probability score, attributes with 2, 5 and 6 levels "
        "and their 3-way intersection (60 cells); threshold 0.5. Probity times are the best of "
        "the repeats; every figure is measured at the size given, nothing is extrapolated.",
        "",
        "| Workload | Rows | Probity | Fairlearn 0.15 MetricFrame | Speed-up |",
        "|---|---:|---:|---:|---:|",
    ]

    def row(name: str, n: object, p: float, key: str) -> None:
        f = fig.get(key)
        if isinstance(f, float):
            lines.append(f"| {name} | {n:,} | {p:.3f} s | {f:.1f} s | {f / p:,.0f}× |")
        else:
            lines.append(f"| {name} | {n:,} | {p:.3f} s | not run | – |")

    row("Point metrics, 3 attributes", rows, p_attr, "f_attr")
    row("Point metrics, 3-way intersection (60 cells)", rows, fig["p_inter"], "f_inter")
    row(f"Bootstrap CIs on the intersection, B = {bb} (Probity: full `evaluate`)", br,
        fig["p_boot_small"], "f_boot")
    ratios = [fig[k] / p for k, p in (("f_attr", p_attr), ("f_inter", fig["p_inter"]),
                                       ("f_boot", fig["p_boot_small"]))
              if isinstance(fig.get(k), float)]
    lines += [
        "",
        f"| Goal ({rows:,} rows) | Measured | Status |",
        "|---|---:|---|",
        f"| All point metrics, all groupings ≤ {GOAL_POINT_S:g} s | {p_point:.3f} s | "
        f"{_mark(p_point <= GOAL_POINT_S)} |",
        f"| All metrics with CIs (B = 1000) and disparities ≤ {GOAL_ALL_S:g} s | {p_full:.3f} s "
        f"| {_mark(p_full <= GOAL_ALL_S)} |",
        f"| Peak memory ≤ 1 GB (tracemalloc, B = 1000) | {fig['peak_mb']:.0f} MB | "
        f"{_mark(fig['peak_mb'] <= GOAL_PEAK_MB)} |",
        f"| ≥ {GOAL_RATIO:g}× faster than Fairlearn on each workload | "
        + (f"min {min(ratios):,.0f}× | {_mark(min(ratios) >= GOAL_RATIO)} |" if ratios
           else "not run | – |"),
        "",
        f"Also measured: maximum resident set size of the benchmark process after the Probity "
        f"runs (data included) {fig['maxrss_mb']:.0f} MB; full `evaluate` with analytic "
        f"intervals and disparities but no bootstrap (B = 0) {fig['p_eval0']:.3f} s; GUI "
        f"threshold-slider fast path "
        f"(`point_metrics_at_threshold`, 100,000 rows, all groupings) "
        f"{1000 * fig['p_slider']:.1f} ms.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write(text: str) -> None:
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        current = head + text.rstrip("\n") + rest.split(END, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + text
    RESULTS.write_text(current, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--boot-rows", type=int, default=10_000)
    parser.add_argument("--boot-b", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-fairlearn", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    fig = run(args)
    text = section(fig)
    print(text)
    if not args.no_write:
        write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
