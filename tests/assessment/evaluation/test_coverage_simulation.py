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

from dataclasses import dataclass, replace

import numpy as np
import pytest

from assessment.evaluation import disparities as dis
from assessment.evaluation import engine as eng
from assessment.evaluation import profile_slope
from assessment.evaluation.disparities import _sufficient
from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.metrics import PROPORTION_METRICS, GroupingStats, build_groupings
from assessment.evaluation.spec import METRIC_IDS, EvaluationSpec, ReferenceSpec
from assessment.evaluation.summary import MEASURES, group_blocks, measure_gap

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
    shift: float = 0.0  # added to the true logit only: the model under-predicts by this much
    ties: bool = False  # scores rounded to one decimal


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
    y = rng.random(m) < 1 / (1 + np.exp(-(eta + d.shift)))
    if d.scores == "skewed":
        p = 1 / (1 + np.exp(-score_lin))
    elif d.scores == "over-confident":
        p = 1 / (1 + np.exp(-(c + 4 * (score_lin - c))))
    else:
        logit_p = c + 2 * (score_lin - c)
        p = 1 / (1 + np.exp(-logit_p))
        p[logit_p < c - 6.15] = 0.0  # the lowest 0.5% ...
        p[logit_p > c + 4.15] = 1.0  # ... and the highest 0.5% exactly 0 and 1
    if d.ties:
        p = np.round(p, 1)  # scores exported to one decimal: many tied scores
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
    # n = 40 at prevalence 0.3: ~12 events, so about half the groups are sufficient (counted)
    Design(40, 0.3, "exact 0/1", reps=2000),
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


# ---------------------------------------------------------------- disparities, summary measures
#
# Comparisons: R data sets, each with a group from population A and one from population B (the
# model under-predicts B's true logit by SHIFT, so B has more events and every metric differs),
# stacked as 2R groups of one grouping; the engine's own pair code (``disparities._pairs``, what
# ``evaluate`` runs for every grouping) compares each A group with its B partner as reference.
# True differences and ratios come from the two populations' 2,000,000-row values. Acceptance
# as above: 93–97% widened by 2.576 Monte-Carlo SEs (Newcombe, Koopman, MOVER and the bootstrap's
# percentile intervals alike); at n = 40 only pairs where neither group is flagged insufficient
# count.

SHIFT = 0.4


def _blocks(
    d: Design, shifts: tuple[float, ...], rng: np.random.Generator, sizes: tuple[int, ...] = ()
) -> tuple[EvaluationInput, np.ndarray | None]:
    """len(shifts) × R groups: block k holds R independent groups from population shift k (of
    sizes[k] rows each, d.n when no sizes are given); with the patient code per row when the
    design is clustered."""
    r = d.reps
    ys, ps, codes, patients = [], [], [], []
    offset = 0
    for k, s in enumerate(shifts):
        n = sizes[k] if sizes else d.n
        y, p, patient = _population(rng, n * r, replace(d, shift=s))
        ys.append(y)
        ps.append(p)
        patients.append(patient + offset)
        offset += n * r
        codes.append(k * r + np.repeat(np.arange(r, dtype=np.int32), n))
    y, p = np.concatenate(ys), np.concatenate(ps)
    size = len(shifts) * r
    attr = Attribute("sim", np.concatenate(codes), tuple(str(i) for i in range(size)))
    inp = EvaluationInput(
        y, p, None, "probability", (attr,), Provenance("sim", "0" * 64, y.size, y.size)
    )
    return inp, (np.concatenate(patients) if d.cluster_size else None)


def _stats_and_overall(
    inp: EvaluationInput, spec: EvaluationSpec, cluster: np.ndarray | None
) -> tuple[GroupingStats, GroupingStats]:
    gps = build_groupings(inp, spec.intersections)
    ctx = eng._context(inp, spec, curves=False, cluster=cluster)
    overall = eng._point_stats(gps[0], ctx, inp.score_kind, None, curves=False)
    stats = eng._point_stats(gps[1], ctx, inp.score_kind, None, overall.recal, curves=False)
    eng._bootstrap(stats, ctx, overall.recal, 1, lambda: False)
    return stats, overall


def _disparity_coverage(d: Design, seed: int) -> dict[str, tuple[float, int, int]]:
    spec = EvaluationSpec(threshold=d.prevalence, bootstrap=B, seed=seed, grid_points=2)
    r = d.reps
    inp, patient = _blocks(d, (0.0, SHIFT), np.random.default_rng(seed))
    stats, overall = _stats_and_overall(inp, spec, patient)
    ref = np.r_[np.arange(r, 2 * r), np.arange(r)]
    pairs = dis._pairs(stats, overall, ref, spec, "bootstrap")
    assert set(pairs) == set(METRIC_IDS)
    ta, tb = _truth(d, spec), _truth(replace(d, shift=SHIFT), spec)
    ok = _sufficient(stats, spec)
    counted = (ok[:r] & ok[r:]) if d.n < 100 else np.ones(r, bool)
    out = {}
    for mid, pair in pairs.items():
        forms = [("difference", pair.diff_lo, pair.diff_hi, ta[mid] - tb[mid])]
        if mid not in dis.NO_RATIO:
            forms.append(("ratio", pair.ratio_lo, pair.ratio_hi, ta[mid] / tb[mid]))
        for what, lo_all, hi_all, truth in forms:
            lo, hi = lo_all[:r][counted], hi_all[:r][counted]
            has = np.isfinite(lo) & np.isfinite(hi)
            hits = (lo[has] <= truth) & (truth <= hi[has])
            out[f"{mid} {what}"] = (float(hits.mean()), int(has.sum()), int(counted.sum()))
    return out


DISPARITY_DESIGNS = [
    Design(200, 0.05, "skewed", reps=3000),  # ~9 events in A: the weakest, most replicates
    Design(200, 0.3, "over-confident", reps=600),
    Design(2000, 0.05, "over-confident", reps=300),
    Design(2000, 0.3, "exact 0/1", reps=300),
    Design(40, 0.5, "skewed", reps=600),
    Design(200, 0.3, "skewed", reps=500, cluster_size=4),
]


@pytest.mark.parametrize(
    "design",
    DISPARITY_DESIGNS,
    ids=lambda d: (
        f"n{d.n}-p{d.prevalence}-{d.scores}"
        + (f"-{d.cluster_size}perpatient" if d.cluster_size else "")
    ),
)
def test_every_disparity_interval_covers(design: Design) -> None:
    cov = _disparity_coverage(design, seed=7 * design.n + int(100 * design.prevalence))
    print({k: round(v[0], 3) for k, v in cov.items()})
    failures = []
    for key, (c, reported, counted) in cov.items():
        se = np.sqrt(0.95 * 0.05 / max(reported, 1))
        lo, hi = 0.93 - Z99 * se, 0.97 + Z99 * se
        if reported < 0.9 * counted or not lo <= c <= hi:
            failures.append(f"{key}: {c:.3f} of {reported}/{counted} (band {lo:.3f}–{hi:.3f})")
    assert not failures, "; ".join(failures)


def _mixture_truth(d: Design, spec: EvaluationSpec) -> dict[str, float]:
    """Population values of an equal mixture of populations A and B (the overall population of
    a data set with equal-sized groups from each)."""
    rng = np.random.default_rng(20261207)
    ya, pa, _ = _population(rng, TRUTH_ROWS // 2, d)
    yb, pb, _ = _population(rng, TRUTH_ROWS // 2, replace(d, shift=SHIFT))
    y, p = np.r_[ya, yb], np.r_[pa, pb]
    big = EvaluationInput(
        y,
        p,
        None,
        "probability",
        (Attribute("g", np.zeros(y.size, np.int32), ("all",)),),
        Provenance("t", "0" * 64, y.size, y.size),
    )
    ctx = eng._context(big, spec, curves=False)
    stats = eng._point_stats(build_groupings(big, ())[0], ctx, "probability", None, curves=False)
    return {mid: float(stats.values[mid][0]) for mid in METRIC_IDS}


def _overall_coverage(d: Design, seed: int) -> dict[str, tuple[float, int, int]]:
    """Each group against the OVERALL population (of which it is part), through ``evaluate``:
    one data set per run, groups of n from populations A and B."""
    spec = EvaluationSpec(
        threshold=d.prevalence,
        bootstrap=B,
        seed=seed,
        grid_points=2,
        reference=ReferenceSpec("overall"),
    )
    truth = {"0": _truth(d, spec), "1": _truth(replace(d, shift=SHIFT), spec)}
    mix = _mixture_truth(d, spec)
    rng = np.random.default_rng(seed)
    hits: dict[str, list[bool]] = {}
    counted: dict[str, int] = {}
    for _ in range(d.reps):
        inp, _patient = _blocks(replace(d, reps=1), (0.0, SHIFT), rng)
        res = evaluate(inp, spec)
        for x in res.disparities:
            forms = [("difference", x.difference, truth[x.group][x.metric] - mix[x.metric])]
            if x.metric not in dis.NO_RATIO:
                forms.append(("ratio", x.ratio, truth[x.group][x.metric] / mix[x.metric]))
            for what, est, t in forms:
                key = f"{x.metric} {what}"
                counted[key] = counted.get(key, 0) + 1
                if est.ci_low is not None and est.ci_high is not None:
                    hits.setdefault(key, []).append(est.ci_low <= t <= est.ci_high)
    return {
        k: (float(np.mean(hits.get(k, [0.0]))), len(hits.get(k, [])), c) for k, c in counted.items()
    }


OVERALL_DESIGNS = [
    Design(200, 0.3, "over-confident", reps=300),
    Design(2000, 0.05, "skewed", reps=150),
]


@pytest.mark.parametrize(
    "design", OVERALL_DESIGNS, ids=lambda d: f"n{d.n}-p{d.prevalence}-{d.scores}"
)
def test_every_interval_against_the_overall_population_covers(design: Design) -> None:
    """Newcombe/Koopman mapped from group vs complement, DeLong with the nested covariance and the
    bootstrap with group and population from one resample: 93–97% widened by Monte-Carlo
    error (both groups of every data set are counted)."""
    cov = _overall_coverage(design, seed=3 * design.n + int(100 * design.prevalence))
    print({k: round(v[0], 3) for k, v in cov.items()})
    failures = []
    for key, (c, reported, counted) in cov.items():
        se = np.sqrt(0.95 * 0.05 / max(reported, 1))
        lo, hi = 0.93 - Z99 * se, 0.97 + Z99 * se
        if reported < 0.9 * counted or not lo <= c <= hi:
            failures.append(f"{key}: {c:.3f} of {reported}/{counted} (band {lo:.3f}–{hi:.3f})")
    assert not failures, "; ".join(failures)


def _true_measures(truths: list[dict[str, float]]) -> dict[str, float]:
    out = {}
    for name, mids, kind, _ in MEASURES:
        vals = [np.array([t[m] for t in truths]) for m in mids]
        if kind == "ratio":
            out[name] = float(vals[0].min() / vals[0].max())
        else:
            out[name] = float(max(np.ptp(v) for v in vals))
    return out


def _summary_coverage(
    d: Design, shifts: tuple[float, ...], seed: int, sizes: tuple[int, ...] = ()
) -> dict[str, tuple[float, int, int]]:
    """Coverage of each summary measure's interval over R data sets of len(shifts) groups (of
    sizes[k] rows; d.n each when no sizes are given)."""
    spec = EvaluationSpec(threshold=d.prevalence, bootstrap=B, seed=seed, grid_points=2)
    r, k = d.reps, len(shifts)
    inp, patient = _blocks(d, shifts, np.random.default_rng(seed), sizes)
    stats, _ = _stats_and_overall(inp, spec, patient)
    truths = {s: _truth(replace(d, shift=s), spec) for s in set(shifts)}
    true = _true_measures([truths[s] for s in shifts])
    rng = np.random.default_rng(seed + 1)
    ok = _sufficient(stats, spec)
    hits = {name: [] for name, *_ in MEASURES}
    for i in range(r):
        idx = np.arange(k) * r + i
        if not ok[idx].all():
            continue
        mask = np.zeros(k * r, bool)
        mask[idx] = True
        for name, mids, kind, _ in MEASURES:
            values = [stats.values[m][idx] for m in mids]
            if not all(np.isfinite(v).all() for v in values):
                continue
            blocks = group_blocks(stats, mids, mask)
            gap = measure_gap(kind, blocks, spec.ci_level, spec.bootstrap, rng)
            if gap.ci_low is not None and gap.ci_high is not None:
                hits[name].append(gap.ci_low <= true[name] <= gap.ci_high)
    counted = int(ok.reshape(k, r).all(axis=0).sum())
    return {n: (float(np.mean(h)), len(h), counted) for n, h in hits.items()}


SUMMARY_DESIGNS = [
    (Design(200, 0.3, "over-confident", reps=600), (0.0, 0.0, 0.0)),
    (Design(2000, 0.05, "skewed", reps=200), (0.0, 0.0, 0.0)),
    (Design(200, 0.3, "over-confident", reps=600), (0.0, 0.0, SHIFT)),
    (Design(2000, 0.05, "skewed", reps=200), (0.0, SHIFT / 2, SHIFT)),
    (Design(200, 0.3, "skewed", reps=400, cluster_size=4), (0.0, 0.0, 0.0)),
]


@pytest.mark.parametrize(
    ("design", "shifts"),
    SUMMARY_DESIGNS,
    ids=lambda x: (
        f"n{x.n}-p{x.prevalence}" + (f"-{x.cluster_size}perpatient" if x.cluster_size else "")
        if isinstance(x, Design)
        else f"shifts{x}"
    ),
)
def test_summary_measure_intervals_cover_at_and_away_from_a_gap_of_0(
    design: Design, shifts: tuple[float, ...]
) -> None:
    """At a true gap of 0 the simultaneous MOVER interval is about nominal (it covers 0 exactly
    when no pair's simultaneous interval excludes 0): 93–97% widened by Monte-Carlo error, where
    the old
    percentile interval of the range covered 0% of the time. At a non-zero gap the projection
    is conservative: at least 93% minus Monte-Carlo error."""
    cov = _summary_coverage(design, shifts, seed=design.n + len(set(shifts)))
    print(shifts, {k: round(v[0], 3) for k, v in cov.items()})
    failures = _summary_failures(cov, shifts)
    assert not failures, "; ".join(failures)


def _summary_failures(
    cov: dict[str, tuple[float, int, int]], shifts: tuple[float, ...]
) -> list[str]:
    """Summary measures outside their band: at a gap of 0, 93–97 % widened by Monte-Carlo
    error; at a non-zero gap at least 93 % minus it; or reported in under 90 % of data sets."""
    failures = []
    for name, (c, reported, counted) in cov.items():
        se = np.sqrt(0.95 * 0.05 / max(reported, 1))
        lo = 0.93 - Z99 * se
        hi = 0.97 + Z99 * se if len(set(shifts)) == 1 else 1.0
        if reported < 0.9 * counted or not lo <= c <= hi:
            failures.append(f"{name}: {c:.3f} of {reported}/{counted} (band {lo:.3f}–{hi:.3f})")
    return failures


# Unequal groups: one group of 200 rows at prevalence 0.05 (about ten events; only data sets where
# it has sufficient data count, as the engine reports) against groups of 2,000–10,000 rows. On the
# first design's data (this seed) the bootstrap max-T used before (symmetric ±c·se around each
# group's replicates; the AUROC from N(AUROC, DeLong variance)) covered a true gap of 0 in 89.3 %
# (AUROC gap), 90.0 % (equalized odds) and 91.6 % (equal opportunity); the tester's smsim2 found
# 87.5 % and 90.9 % over 200. The simultaneous MOVER interval from the groups' own score
# intervals covers 92.3–94.3 % on this seed and 94.4–97.1 % on others (about 95 % over six runs
# of 450–1,000 data sets). Data sets are counted only where the small group is sufficient (≥ 10
# events), which selects cohorts with more events, and so higher rates, in that group.
UNEQUAL_DESIGNS = [
    (Design(200, 0.05, "skewed", reps=1000), (0.0, 0.0), (200, 10_000)),
    (Design(200, 0.05, "skewed", reps=400), (0.0, 0.0, 0.0), (200, 2_000, 10_000)),
    (Design(200, 0.05, "skewed", reps=400), (0.0, 0.0, SHIFT), (200, 10_000, 2_000)),
    (Design(200, 0.3, "over-confident", reps=600), (0.0, 0.0), (60, 5_000)),
]


@pytest.mark.parametrize(
    ("design", "shifts", "sizes"),
    UNEQUAL_DESIGNS,
    ids=lambda x: (
        f"p{x.prevalence}-{x.scores}" if isinstance(x, Design) else f"{x}".replace(" ", "")
    ),
)
def test_summary_measure_intervals_cover_with_unequal_group_sizes(
    design: Design, shifts: tuple[float, ...], sizes: tuple[int, ...]
) -> None:
    """Same bands as above: at a gap of 0, 93–97 % widened by Monte-Carlo error; at a
    non-zero gap at least 93 % minus Monte-Carlo error."""
    cov = _summary_coverage(design, shifts, seed=sum(sizes) + len(set(shifts)), sizes=sizes)
    print(sizes, shifts, {k: round(v[0], 3) for k, v in cov.items()})
    failures = _summary_failures(cov, shifts)
    assert not failures, "; ".join(failures)


# ---------------------------------------------------------------- AUROC with about ten events
#
# The weakest design above (n = 200 at prevalence 0.05: about 9 events in group A, 13 in its
# reference) with many more data sets, so that the Monte-Carlo widening is small: R = 20,000
# comparisons (se 0.15 %, band 92.6–97.4 %). DeLong's Wald difference (the method before MOVER)
# covers 92.3 % in the first design, with these seeds, and fails this band (93.3 % in the second;
# 92.4–92.9 % over 10,000 data sets at other seeds and ~10-event designs); MOVER from the groups'
# own intervals covers 95.4–95.9 %. The AUROC needs no bootstrap (B = 0): about 15 s CPU each.

AUROC_DESIGNS = [
    Design(200, 0.05, "skewed", reps=20_000, ties=True),
    Design(100, 0.1, "over-confident", reps=20_000),
]


@pytest.mark.parametrize(
    "design", AUROC_DESIGNS, ids=lambda d: f"n{d.n}-p{d.prevalence}" + ("-ties" if d.ties else "")
)
def test_auroc_intervals_cover_with_about_ten_events(design: Design) -> None:
    seed = 11 * design.n + int(100 * design.prevalence)
    spec = EvaluationSpec(threshold=design.prevalence, bootstrap=0, seed=seed, grid_points=2)
    r = design.reps
    inp, _ = _blocks(design, (0.0, SHIFT), np.random.default_rng(seed))
    stats, overall = _stats_and_overall(inp, spec, None)
    assert 8 <= stats.counts.n_pos[:r].mean() <= 11  # about ten events per group
    ref = np.r_[np.arange(r, 2 * r), np.arange(r)]
    pair = dis._auroc_pair(stats, overall, ref, spec.ci_level)
    assert pair is not None and "MOVER" in pair.diff_method
    ta, tb = _truth(design, spec)["auroc"], _truth(replace(design, shift=SHIFT), spec)["auroc"]
    checks = {
        "group A": (stats.lo["auroc"][:r], stats.hi["auroc"][:r], ta),
        "reference B": (stats.lo["auroc"][r:], stats.hi["auroc"][r:], tb),
        "difference": (pair.diff_lo[:r], pair.diff_hi[:r], ta - tb),
        "ratio": (pair.ratio_lo[:r], pair.ratio_hi[:r], ta / tb),
    }
    failures, seen = [], {}
    for key, (lo, hi, truth) in checks.items():
        has = np.isfinite(lo) & np.isfinite(hi)
        c = float(((lo[has] <= truth) & (truth <= hi[has])).mean())
        seen[key] = round(c, 4)
        se = np.sqrt(0.95 * 0.05 / has.sum())
        band = (0.93 - Z99 * se, 0.97 + Z99 * se)
        if has.sum() < 0.99 * r or not band[0] <= c <= band[1]:
            failures.append(f"{key}: {c:.4f} of {has.sum()}/{r} (band {band[0]:.4f}–{band[1]:.4f})")
    print(seen)
    assert not failures, "; ".join(failures)


def test_proportion_intervals_cover_and_are_not_too_wide_with_about_ten_events() -> None:
    """Every difference (Newcombe) and ratio (Koopman) of proportions in the first design above
    with R = 20,000: 93–97 % widened by 2.576 Monte-Carlo SEs (band 92.6–97.4 %). Katz's log
    ratio, with its 0.5 correction at a count of 0 or k = n, covered the FNR ratio here in 97.9 %
    (TPR ratio 97.2 %): needlessly wide, and this test fails with it; Koopman: 94.4–95.3 %."""
    design = AUROC_DESIGNS[0]
    seed = 11 * design.n + int(100 * design.prevalence)
    spec = EvaluationSpec(threshold=design.prevalence, bootstrap=0, seed=seed, grid_points=2)
    r = design.reps
    inp, _ = _blocks(design, (0.0, SHIFT), np.random.default_rng(seed))
    stats, overall = _stats_and_overall(inp, spec, None)
    ref = np.r_[np.arange(r, 2 * r), np.arange(r)]
    p = dis._proportion_p(stats, ref)
    ta, tb = _truth(design, spec), _truth(replace(design, shift=SHIFT), spec)
    failures, seen = [], {}
    for mid in PROPORTION_METRICS:
        pair = dis._proportion_pair(stats, mid, ref, spec.ci_level, p[mid])
        assert "Koopman" in pair.ratio_method
        for what, lo_all, hi_all, truth in (
            ("difference", pair.diff_lo, pair.diff_hi, ta[mid] - tb[mid]),
            ("ratio", pair.ratio_lo, pair.ratio_hi, ta[mid] / tb[mid]),
        ):
            lo, hi = lo_all[:r], hi_all[:r]
            has = ~np.isnan(lo) & ~np.isnan(hi)  # an infinite upper limit is a limit
            c = float(((lo[has] <= truth) & (truth <= hi[has])).mean())
            seen[f"{mid} {what}"] = round(c, 4)
            se = np.sqrt(0.95 * 0.05 / has.sum())
            band = (0.93 - Z99 * se, 0.97 + Z99 * se)
            if has.sum() < 0.9 * r or not band[0] <= c <= band[1]:
                failures.append(f"{mid} {what}: {c:.4f} of {has.sum()}/{r}")
    print(seen)
    assert not failures, "; ".join(failures)


def test_calibration_slope_with_about_ten_events_covers() -> None:
    """Issue 9: with ~10 events per group (n = 200, prevalence 0.05) the percentile bootstrap of
    the slope covered 92.1 % (4,000 groups); the profile-likelihood interval used below 50 events
    or non-events covers 94.2 %. Here without Monte-Carlo widening: 93–97 % (se 0.34 %).
    Four evaluations of 1,000 groups: one grouping gets the profile interval for at most
    2,000,000 rows (profile_slope.MAX_ROWS; beyond it the bootstrap, see test_profile_slope)."""
    d = Design(200, 0.05, "skewed", reps=1000)
    assert d.n * d.reps <= profile_slope.MAX_ROWS
    hits = reported = counted = 0
    for seed in range(12345, 12349):
        c, r, n = _coverage(d, seed=seed)["calibration_slope"]
        hits, reported, counted = hits + round(c * r), reported + r, counted + n
    assert reported == counted
    c = hits / reported
    assert 0.93 <= c <= 0.97, c


def test_f1_with_about_ten_events_covers() -> None:
    """Issue 9: with ~10 events per group the percentile bootstrap of F1 covered 92.7 % (4,000
    groups, this seed); the Wilson interval of the Jaccard index covers 95.2 %. 93–97 %."""
    d = Design(200, 0.05, "skewed", reps=4000)
    c, reported, counted = _coverage(d, seed=99)["f1"]
    assert reported >= 0.99 * counted
    assert 0.93 <= c <= 0.97, c
