"""Point estimates and analytic intervals (Wilson, MOVER, DeLong/Obuchowski, t on the log
scale) of one grouping, and the row-level context shared by all groupings of an evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from assessment.catalogue import PROBABILITY_METRICS
from assessment.errors import EvaluationError
from assessment.evaluation import auroc_ci, clusters
from assessment.evaluation import intervals as iv
from assessment.evaluation.inputs import EvaluationInput
from assessment.evaluation.metrics import (
    PROPORTION_METRICS,
    Grouping,
    GroupingStats,
    Recalibration,
    SortedScores,
    auroc_delong,
    auroc_reasons,
    confusion_counts,
    grid_counts,
    logit,
    placement_covariance,
    proportion_parts,
    recalibrate,
    reliability,
    stratum_keys,
    threshold_metrics,
)
from assessment.evaluation.spec import EvaluationSpec

ROC_POINTS = 101


@dataclass(frozen=True)
class _Context:
    """Row-level arrays shared by all groupings of one evaluation."""

    y: np.ndarray  # bool
    pred: np.ndarray  # bool
    score: np.ndarray | None
    is_probability: bool
    x: np.ndarray | None  # logit of the clipped probability
    sorted_scores: SortedScores | None
    grid: np.ndarray  # thresholds of the threshold grid
    grid_index: np.ndarray | None
    roc_thresholds: np.ndarray
    roc_index: np.ndarray | None
    spec: EvaluationSpec
    cluster: np.ndarray | None = None  # cluster (patient) code per row, when clustered
    # rows sorted by patient (None: they already are), shared by every grouping's units
    by_patient: np.ndarray | None = None
    # The evaluation's groupings: the overall recalibration computes their fits' first totals.
    groupings: tuple[Grouping, ...] = ()
    # Keep every grouping's per-row AUROC placements (a comparison's paired DeLong reuses them).
    keep_placements: bool = False


def _check_inputs(inputs: EvaluationInput, spec: EvaluationSpec) -> None:
    n = inputs.n
    if n == 0:
        raise EvaluationError("There are no rows left to evaluate after exclusions.")
    if inputs.score_kind == "class":
        if inputs.y_pred is None or inputs.y_pred.shape != (n,):
            raise EvaluationError("Predicted classes are missing or have the wrong length.")
    else:
        if inputs.score is None or inputs.score.shape != (n,):
            raise EvaluationError("Scores are missing or have the wrong length.")
        if not np.all(np.isfinite(inputs.score)):
            raise EvaluationError("Scores contain missing or infinite values; exclude those rows.")
        if inputs.score_kind == "probability" and (
            inputs.score.min() < 0 or inputs.score.max() > 1
        ):
            raise EvaluationError(
                "Scores declared as probabilities lie outside 0–1; map them as scores instead."
            )
    if not inputs.attributes:
        raise EvaluationError("Map at least one sensitive attribute (a group column).")


def _predictions(inputs: EvaluationInput, threshold: float) -> np.ndarray:
    if inputs.score_kind == "class":
        assert inputs.y_pred is not None
        return np.asarray(inputs.y_pred, dtype=bool)
    assert inputs.score is not None
    return inputs.score >= threshold


def _sorted_quantiles(ss: SortedScores, points: int) -> np.ndarray:
    """Distinct quantiles read off the sorted scores (no second sort)."""
    at = np.round(np.linspace(0, ss.score.size - 1, points)).astype(np.intp)
    return np.unique(ss.score[at])


def _threshold_grid(kind: str, ss: SortedScores, points: int) -> np.ndarray:
    """Probabilities: 0, 0.01, …, 1 (for 101 points); other scores: their quantiles.

    The probability grid is k / (points − 1), each the double nearest that fraction, so the
    row printed "0.35" is the threshold ``--threshold 0.35`` (``np.linspace`` gives
    0.35000000000000003 there, and a score of exactly 0.35 fell below it)."""
    if kind == "probability":
        return np.arange(points, dtype=np.float64) / (points - 1)
    return _sorted_quantiles(ss, points)


def _context(
    inputs: EvaluationInput,
    spec: EvaluationSpec,
    *,
    curves: bool = True,
    cluster: np.ndarray | None = None,
    groupings: Sequence[Grouping] = (),
) -> _Context:
    """Row-level arrays of one evaluation; ``cluster``: patient code per row (or None)."""
    y = np.asarray(inputs.y_true, dtype=bool)
    score = None if inputs.score is None else np.asarray(inputs.score, dtype=np.float64)
    is_prob = inputs.score_kind == "probability"
    grid = roc = np.zeros(0)
    grid_index = roc_index = None
    ss = None
    if score is not None:
        ss = SortedScores.build(score, y)
    if score is not None and ss is not None and curves:
        grid = _threshold_grid(inputs.score_kind, ss, spec.grid_points)
        roc = _sorted_quantiles(ss, ROC_POINTS)
        grid_index = ss.bin_index(grid)
        roc_index = ss.bin_index(roc)
    return _Context(
        y=y,
        pred=_predictions(inputs, spec.threshold),
        score=score,
        is_probability=is_prob,
        x=logit(score) if (is_prob and score is not None) else None,
        sorted_scores=ss,
        grid=grid,
        grid_index=grid_index,
        roc_thresholds=roc,
        roc_index=roc_index,
        spec=spec,
        cluster=cluster,
        by_patient=None if cluster is None else clusters.patient_order(cluster),
        groupings=tuple(groupings),
    )


def _not_available(kind: str, metric: str) -> str:
    if kind == "class":
        if metric == "auroc":
            return "predicted classes only: AUROC needs a score column"
        return "predicted classes only: this metric needs predicted probabilities"
    return "the score is not a probability: this metric needs predicted probabilities"


def _point_stats(
    gp: Grouping,
    ctx: _Context,
    kind: str,
    overall_place: np.ndarray | None,
    overall_recal: Recalibration | None = None,
    *,
    curves: bool = True,
) -> GroupingStats:
    """All point estimates and the analytic intervals (Wilson, DeLong) of one grouping."""
    spec = ctx.spec
    level = spec.ci_level
    size = gp.size
    keys = stratum_keys(gp, ctx.y)
    counts = confusion_counts(gp, keys, ctx.pred)
    parts = proportion_parts(counts)
    values: dict[str, np.ndarray] = {}
    lo: dict[str, np.ndarray] = {}
    hi: dict[str, np.ndarray] = {}
    reasons: dict[str, list[str | None]] = {}
    ci_reasons: dict[str, list[str | None]] = {}
    nan = np.full(size, np.nan)
    for mid, (val, why) in threshold_metrics(counts).items():
        values[mid] = val
        reasons[mid] = why
        lo[mid] = nan.copy()
        hi[mid] = nan.copy()
        ci_reasons[mid] = [None] * size
    units = deff = None
    floored: dict[str, np.ndarray] | None = None
    behind: dict[str, np.ndarray] = {}
    if ctx.cluster is not None:
        units = clusters.units(gp.codes, size, ctx.cluster, ctx.by_patient)
        floored = {}
        unit_c = clusters.unit_counts(units, ctx.y, ctx.pred)
        deff = clusters.design_effects(counts, unit_c, units, size, floored, behind)
        # The patients a statistic rests on: those in its denominator (with an event for TPR,
        # a predicted positive for PPV, …), counted by design_effects; for AUROC and balanced
        # accuracy the fewer of those with an event and those with a non-event.
        behind["auroc"] = behind["balanced_accuracy"] = np.minimum(behind["tpr"], behind["tnr"])
    one = np.ones(size)
    for mid in PROPORTION_METRICS:
        num, den, _ = parts[mid]
        d = one if deff is None else deff[mid]
        lo[mid], hi[mid] = iv.wilson(num / d, den / d, level)
    d1 = one if deff is None else deff["tpr"]
    d0 = one if deff is None else deff["tnr"]
    lo["balanced_accuracy"], hi["balanced_accuracy"] = iv.mover_mean(
        counts.tp / d1, counts.n_pos / d1, counts.tn / d0, counts.n_neg / d0, level
    )
    stats = GroupingStats(
        grouping=gp,
        counts=counts,
        values=values,
        lo=lo,
        hi=hi,
        reasons=reasons,
        ci_reasons=ci_reasons,
        parts=parts,
        units=units,
        design_effect=deff,
        floored=floored,
    )
    _auroc_stats(stats, ctx, kind, overall_place)
    _probability_stats(stats, ctx, kind, overall_recal)
    if curves:
        _curves(stats, ctx, keys)
    if units is not None:
        _too_few_clusters(stats, units.per_group, behind)
        # The per-row and per-unit arrays (up to ~20 bytes per row) are not needed any more.
        stats.units = clusters.unit_summary(units, behind)
    return stats


def _auroc_stats(
    stats: GroupingStats, ctx: _Context, kind: str, overall_place: np.ndarray | None
) -> None:
    gp, c = stats.grouping, stats.counts
    size = gp.size
    if ctx.sorted_scores is None:
        stats.values["auroc"] = np.full(size, np.nan)
        stats.lo["auroc"] = np.full(size, np.nan)
        stats.hi["auroc"] = np.full(size, np.nan)
        stats.reasons["auroc"] = [_not_available(kind, "auroc")] * size
        stats.ci_reasons["auroc"] = [None] * size
        return
    want = gp.is_overall or overall_place is not None or stats.units is not None
    want = want or ctx.keep_placements
    res = auroc_delong(gp, ctx.sorted_scores, c.n_pos, c.n_neg, placements=want)
    deff_auc = None
    if stats.units is not None and res.placements is not None:
        # Obuchowski's clustered variance replaces DeLong's (disparities then use it too).
        var_c = clusters.obuchowski_variance(
            res.placements, ctx.y, stats.units, res.auc, c.n_pos, c.n_neg, size
        )
        # Never narrower than DeLong's unclustered interval: a smaller clustered variance is
        # floored at DeLong's (design effect floored at 1), and where is noted.
        below = np.isfinite(var_c) & np.isfinite(res.var) & (var_c < res.var)
        var_c = np.where(below, res.var, var_c)
        if stats.floored is not None:
            stats.floored["auroc"] = below
        with np.errstate(invalid="ignore", divide="ignore"):
            deff_auc = np.where(res.var > 0, var_c / res.var, 1.0)
        res = replace(res, var=var_c)
    stats.auroc = res
    stats.values["auroc"] = res.auc
    stats.reasons["auroc"] = auroc_reasons(c.n_pos, c.n_neg)
    # DeLong's variance is 0 when every positive and every negative has the same placement
    # (perfect separation, or one score for everyone): a zero-width interval would claim an
    # exactly known AUROC, so there is no interval.
    lo, hi, _ = auroc_ci.auroc_interval(
        res.auc, res.var, c.n_pos, c.n_neg, ctx.spec.ci_level, design_effect=deff_auc
    )
    stats.lo["auroc"], stats.hi["auroc"] = lo, hi
    stats.ci_reasons["auroc"] = [None] * size
    if overall_place is not None and res.placements is not None and not gp.is_overall:
        stats.auroc_cov_overall = placement_covariance(
            gp.codes,
            np.zeros(gp.size, dtype=np.intp),
            ctx.y,
            res.placements,
            overall_place,
            (c.n_pos, c.n_neg),
            (np.array([c.n_pos.sum()]), np.array([c.n_neg.sum()])),
        )
    if not gp.is_overall and res.placements is not None and not ctx.keep_placements:
        # A subgroup's per-row placements are used only above (8 bytes per row and grouping);
        # the overall population's serve as the reference of the others.
        stats.auroc = replace(res, placements=None)


def _probability_stats(
    stats: GroupingStats, ctx: _Context, kind: str, start: Recalibration | None
) -> None:
    gp, c = stats.grouping, stats.counts
    size = gp.size
    nan = np.full(size, np.nan)
    if not ctx.is_probability or ctx.score is None or ctx.x is None:
        for mid in PROBABILITY_METRICS:
            stats.values[mid] = nan.copy()
            stats.lo[mid] = nan.copy()
            stats.hi[mid] = nan.copy()
            stats.reasons[mid] = [_not_available(kind, mid)] * size
            stats.ci_reasons[mid] = [None] * size
        return
    p = ctx.score
    n = c.n
    sq_rows = (p - ctx.y) ** 2  # bool y: 0/1 in the arithmetic, no float copy
    sq = np.bincount(gp.codes, weights=sq_rows, minlength=size)
    sq2 = np.bincount(gp.codes, weights=sq_rows * sq_rows, minlength=size)
    expected = np.bincount(gp.codes, weights=p, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        squares = np.bincount(gp.codes, weights=p * p, minlength=size)
        stats.expected_rows = np.where(squares > 0, expected * expected / squares, np.nan)
        stats.values["brier"] = np.where(n > 0, sq / n, np.nan)
        stats.values["oe_ratio"] = np.where(expected > 0, c.n_pos / expected, np.nan)
    stats.reasons["brier"] = ["the group has no rows" if k <= 0 else None for k in n]
    stats.reasons["oe_ratio"] = [
        "the group has no rows"
        if k <= 0
        else ("expected events Σp = 0: the ratio is undefined" if e <= 0 else None)
        for k, e in zip(n, expected, strict=True)
    ]
    seed_for = [g for g in ctx.groupings if not g.is_overall] if gp.is_overall else []
    recal = recalibrate(gp, ctx.x, ctx.y, c.n_pos, c.n_neg, start, seed_for)
    stats.recal = recal
    stats.values["calibration_intercept"] = recal.intercept
    stats.values["calibration_slope"] = recal.slope
    stats.reasons["calibration_intercept"] = list(recal.intercept_reasons)
    stats.reasons["calibration_slope"] = list(recal.slope_reasons)
    for mid in PROBABILITY_METRICS:
        stats.lo[mid] = nan.copy()
        stats.hi[mid] = nan.copy()
        stats.ci_reasons[mid] = [None] * size
    if stats.units is None:
        stats.lo["brier"], stats.hi["brier"] = iv.mean_t_log(sq, sq2, n, ctx.spec.ci_level)
    else:
        var_b = clusters.mean_variance(sq_rows, stats.units, stats.values["brier"], size)
        # floored at the unclustered variance of the mean, s²/n (never a narrower interval)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = stats.values["brier"]
            var_i = (sq2 - n * mean * mean) / (n - 1) / n
        below = np.isfinite(var_b) & np.isfinite(var_i) & (var_b < var_i)
        var_b = np.where(below, var_i, var_b)
        if stats.floored is not None:
            stats.floored["brier"] = below
        stats.lo["brier"], stats.hi["brier"] = iv.log_mean_interval(
            stats.values["brier"], var_b, stats.units.per_group - 1.0, ctx.spec.ci_level
        )
    # squared errors of probabilities lie in [0, 1]: so does their mean (NaN stays NaN)
    stats.hi["brier"] = np.minimum(stats.hi["brier"], 1.0)
    stats.ci_reasons["brier"] = [
        None
        if k <= 0 or np.isfinite(lo_)
        else (
            "a t interval needs at least 2 rows"
            if k < 2
            else "every squared error is the same: no spread to estimate an interval from"
        )
        for k, lo_ in zip(n, stats.lo["brier"], strict=True)
    ]


def _curves(stats: GroupingStats, ctx: _Context, keys: np.ndarray) -> None:
    gp = stats.grouping
    if ctx.grid_index is not None:
        stats.grid = grid_counts(gp, keys, ctx.grid_index, ctx.grid.size)
    if ctx.roc_index is not None:
        stats.roc = grid_counts(gp, keys, ctx.roc_index, ctx.roc_thresholds.size)
    if ctx.is_probability and ctx.score is not None:
        stats.reliability = reliability(gp, ctx.score, ctx.y, ctx.spec.calibration_bins)


def _too_few_clusters(
    stats: GroupingStats, per_group: np.ndarray, behind: dict[str, np.ndarray]
) -> None:
    """A statistic resting on fewer than :data:`iv.MIN_CLUSTERS` patients (all of the group's,
    or those ``behind`` it) gets no cluster-robust interval (the reason says so) and no
    floored-variance note."""
    for g, k in enumerate(per_group):
        for mid, lo in stats.lo.items():
            kb = behind[mid][g] if mid in behind else k
            why = iv.too_few_clusters(float(kb), "" if kb == k else "behind this statistic")
            if why is None:
                continue
            if np.isfinite(stats.values[mid][g]):
                lo[g] = stats.hi[mid][g] = np.nan
                stats.ci_reasons[mid][g] = why
            if stats.floored is not None and mid in stats.floored:
                stats.floored[mid][g] = False
