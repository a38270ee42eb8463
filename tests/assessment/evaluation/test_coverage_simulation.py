"""Coverage of every interval the engine reports, by simulation with RANDOM event counts.

Each simulated validation cohort is drawn row by row from a population (so its number of events
varies, as between real cohorts); R cohorts are stacked as the R levels of one attribute "sim", so
one pass of the engine's own per-grouping code (``_point_stats`` and ``_bootstrap``, exactly what
``evaluate`` runs for every grouping; ``test_stacked_intervals_are_the_reported_ones`` checks that
they equal what ``evaluate`` reports) computes all R intervals of a metric at once.

Designs: n per group 200 and 2,000 at prevalence 0.05 and 0.3, and n = 40 (prevalence 0.5; only
groups not flagged insufficient are counted there, as the engine asks readers to do); scores
calibrated (right-skewed at low prevalence), over-confident (logit stretched 4× about the
prevalence: true calibration slope 0.25) or with exact 0s and 1s (the most extreme 1% of a 2×
over-confident model: "a few" as in real exports; with many more, the calibration slope is
driven by their clipped logits and no interval is reliable), and clustered patients. True values
come from a 2,000,000-row sample of the same population (point estimates verified against
scikit-learn and statsmodels elsewhere).

Acceptance: coverage of a nominal 95% interval in 93–97% (Wilson proportions: 93–98.5%),
widened by the Monte-Carlo error of R replicates: the band is [0.93 − 2.576·se, 0.97 + 2.576·se]
with se = √(0.95·0.05/R) (R = 1000 cohorts, 400 at n = 2,000; se = 0.69% and 1.09%), i.e. a
design fails when its true coverage is outside 93–97% beyond what 2.576 Monte-Carlo standard
errors explain. Bootstrap intervals use B = 400.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from assessment.evaluation import engine as eng
from assessment.evaluation.disparities import _sufficient
from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.metrics import PROPORTION_METRICS, GroupingStats, build_groupings
from assessment.evaluation.spec import METRIC_IDS, EvaluationSpec

pytestmark = pytest.mark.slow

B = 400
Z99 = 2.576
TRUTH_ROWS = 2_000_000


@dataclass(frozen=True)
class Design:
    n: int
    prevalence: float
    scores: str  # "skewed" | "over-confident" | "exact 0/1"
    reps: int = 1000
    cluster_size: int = 0  # > 0: patients with this many rows each (random intercept)


def _population(rng: np.random.Generator, m: int, d: Design) -> tuple[np.ndarray, ...]:
    """(y, p, patient) for m rows. True logit η = c − 0.5 + N(0, 1) (+ a patient effect)."""
    c = np.log(d.prevalence / (1 - d.prevalence))
    if d.cluster_size:
        k = d.cluster_size
        patient = np.repeat(np.arange(m // k), k)
        shared = np.repeat(rng.normal(0, 1, m // k), k)  # a patient-level feature
        unseen = np.repeat(rng.normal(0, 0.8, m // k), k)  # what the model does not see
        score_lin = c - 0.5 + 0.7 * shared + 0.7 * rng.normal(0, 1, m)
        eta = score_lin + unseen
    else:
        patient = np.arange(m)
        eta = c - 0.5 + rng.normal(0, 1, m)
        score_lin = eta
    y = rng.random(m) < 1 / (1 + np.exp(-eta))
    if d.scores == "skewed":
        p = 1 / (1 + np.exp(-score_lin))
    elif d.scores == "over-confident":
        p = 1 / (1 + np.exp(-(c + 4 * (score_lin - c))))
    else:
        logit_p = c + 2 * (score_lin - c)
        p = 1 / (1 + np.exp(-logit_p))
        p[logit_p < c - 6.15] = 0.0  # the lowest 0.5% ...
        p[logit_p > c + 4.15] = 1.0  # ... and the highest 0.5% exactly 0 and 1
    return y, p, patient


def _stacked(d: Design, rng: np.random.Generator) -> EvaluationInput:
    y, p, patient = _population(rng, d.n * d.reps, d)
    sim = np.repeat(np.arange(d.reps, dtype=np.int32), d.n)
    attr = Attribute("sim", sim, tuple(str(i) for i in range(d.reps)))
    return EvaluationInput(
        y, p, None, "probability", (attr,), Provenance("sim", "0" * 64, y.size, y.size)
    ), patient


def _grouping_stats(
    inp: EvaluationInput, spec: EvaluationSpec, cluster: np.ndarray | None, index: int = 1
) -> GroupingStats:
    """The engine's own per-grouping computation of point values and intervals."""
    gps = build_groupings(inp, spec.intersections)
    ctx = eng._context(inp, spec, curves=False, cluster=cluster)
    overall = eng._point_stats(gps[0], ctx, inp.score_kind, None, curves=False)
    stats = eng._point_stats(gps[index], ctx, inp.score_kind, None, overall.recal, curves=False)
    eng._bootstrap(stats, ctx, overall.recal, index, lambda: False)
    return stats


def _truth(d: Design, spec: EvaluationSpec) -> dict[str, float]:
    rng = np.random.default_rng(20261202)
    y, p, _ = _population(rng, TRUTH_ROWS, d)
    big = EvaluationInput(
        y,
        p,
        None,
        "probability",
        (Attribute("g", np.zeros(y.size, np.int32), ("all",)),),
        Provenance("t", "0" * 64, y.size, y.size),
    )
    stats = eng._point_stats(
        build_groupings(big, ())[0],
        eng._context(big, spec, curves=False),
        "probability",
        None,
        curves=False,
    )
    return {mid: float(stats.values[mid][0]) for mid in METRIC_IDS}


def _band(metric: str, reported: int) -> tuple[float, float]:
    se = np.sqrt(0.95 * 0.05 / reported)
    hi = 0.985 if metric in PROPORTION_METRICS else 0.97
    return 0.93 - Z99 * se, hi + Z99 * se


def _coverage(d: Design, seed: int) -> dict[str, tuple[float, int, int]]:
    spec = EvaluationSpec(threshold=d.prevalence, bootstrap=B, seed=seed, grid_points=2)
    inp, patient = _stacked(d, np.random.default_rng(seed))
    stats = _grouping_stats(inp, spec, patient if d.cluster_size else None)
    truth = _truth(d, spec)
    counted = _sufficient(stats, spec) if d.n < 100 else np.ones(d.reps, bool)
    out = {}
    for mid in METRIC_IDS:
        lo, hi = stats.lo[mid][counted], stats.hi[mid][counted]
        has = np.isfinite(lo) & np.isfinite(hi)
        hits = (lo[has] <= truth[mid]) & (truth[mid] <= hi[has])
        out[mid] = (float(hits.mean()), int(has.sum()), int(counted.sum()))
    return out


DESIGNS = [
    Design(200, 0.05, "skewed"),
    Design(200, 0.05, "over-confident"),
    Design(200, 0.3, "exact 0/1"),
    Design(200, 0.3, "over-confident"),
    Design(2000, 0.05, "exact 0/1", reps=400),
    Design(2000, 0.3, "skewed", reps=400),
    Design(40, 0.5, "over-confident"),
    Design(40, 0.5, "skewed"),
    Design(200, 0.3, "skewed", cluster_size=4),
    Design(2000, 0.05, "over-confident", reps=400, cluster_size=5),
]


@pytest.mark.parametrize(
    "design",
    DESIGNS,
    ids=lambda d: (
        f"n{d.n}-p{d.prevalence}-{d.scores}"
        + (f"-{d.cluster_size}perpatient" if d.cluster_size else "")
    ),
)
def test_every_interval_covers(design: Design) -> None:
    cov = _coverage(design, seed=design.n + int(100 * design.prevalence) + len(design.scores))
    failures = []
    for mid, (c, reported, counted) in cov.items():
        lo, hi = _band(mid, reported)
        # an interval may be missing only where the engine gives a reason (tiny event counts)
        if reported < 0.9 * counted or not lo <= c <= hi:
            failures.append(f"{mid}: {c:.3f} of {reported}/{counted} (band {lo:.3f}–{hi:.3f})")
    assert not failures, "; ".join(failures)


def test_stacked_intervals_are_the_reported_ones() -> None:
    """The per-grouping computation used above is what ``evaluate`` reports, limit for limit."""
    d = Design(120, 0.3, "over-confident", reps=30)
    spec = EvaluationSpec(threshold=0.3, bootstrap=B, seed=11, grid_points=2)
    inp, _ = _stacked(d, np.random.default_rng(3))
    stats = _grouping_stats(inp, spec, None)
    res = evaluate(inp, spec)
    for g, group in enumerate(res.groups_of("sim")):
        for mid in METRIC_IDS:
            m = group.metrics[mid]
            assert m.ci_low == pytest.approx(stats.lo[mid][g], nan_ok=True), (g, mid)
            assert m.ci_high == pytest.approx(stats.hi[mid][g], nan_ok=True), (g, mid)
