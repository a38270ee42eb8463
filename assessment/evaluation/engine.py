"""``evaluate``: subgroup and intersectional performance with intervals, disparities and
representativeness.

A pure function (STYLE.md §3): arrays in, an :class:`EvaluationResult` out, a progress callback
and cooperative cancellation so the GUI can run it in a worker. No pandas, no per-row Python.
``point_metrics_at_threshold`` is the fast path behind the GUI's live threshold slider.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from assessment.catalogue import PROBABILITY_METRICS
from assessment.errors import Cancelled, EvaluationError
from assessment.evaluation import clusters
from assessment.evaluation import intervals as iv
from assessment.evaluation.disparities import compare_groups, decision_notes, insufficiency
from assessment.evaluation.inputs import EvaluationInput
from assessment.evaluation.metrics import (
    BOOTSTRAP_METRICS,
    LOGIT_EPS,
    OVERALL_ATTRIBUTE,
    PROPORTION_METRICS,
    THRESHOLD_METRICS,
    Counts,
    Grouping,
    GroupingStats,
    Recalibration,
    SortedScores,
    auroc_delong,
    auroc_reasons,
    build_groupings,
    confusion_counts,
    expit,
    grid_counts,
    logit,
    placement_covariance,
    proportion_parts,
    recalibrate,
    reliability,
    stratum_keys,
    threshold_metrics,
)
from assessment.evaluation.missingness import missingness
from assessment.evaluation.representativeness import representativeness
from assessment.evaluation.result import (
    EvaluationResult,
    GroupResult,
    MetricValue,
    clean,
)
from assessment.evaluation.spec import METRIC_IDS, EvaluationSpec

Progress = Callable[[float], None]
IsCancelled = Callable[[], bool]

ROC_POINTS = 101
# Bootstrap metrics whose own interval is analytic (their disparities use the bootstrap).
ANALYTIC_CI: tuple[str, ...] = ("balanced_accuracy", "brier")

# Per-row bootstrap features (columns of the matrix handed to intervals.resampled_totals):
# counts first (row, event, predicted positive, true positive), then the probability features.
F_ONE, F_Y, F_PRED, F_TP = 0, 1, 2, 3
N_FEATURES_CLASS = 4
F_SQ, F_P = 4, 5
F_GROUP_FIT, F_OVERALL_FIT = 6, 13  # each block: r, x·r, w, x·w, x²·w, r_offset, w_offset
N_FEATURES_PROB = 20


def _noop_progress(_: float) -> None:
    return None


def _never() -> bool:
    return False


@dataclass(frozen=True)
class _Context:
    """Row-level arrays shared by all groupings of one evaluation."""

    y: np.ndarray  # bool
    yf: np.ndarray  # float64 0/1
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
    """Probabilities: 0, 0.01, …, 1 (for 101 points); other scores: their quantiles."""
    if kind == "probability":
        return np.linspace(0.0, 1.0, points)
    return _sorted_quantiles(ss, points)


def _context(
    inputs: EvaluationInput,
    spec: EvaluationSpec,
    *,
    curves: bool = True,
    cluster: np.ndarray | None = None,
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
        yf=y.astype(np.float64),
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
    if ctx.cluster is not None:
        units = clusters.units(gp.codes, size, ctx.cluster)
        deff = clusters.design_effects(
            counts, clusters.unit_counts(units, ctx.y, ctx.pred), units, size
        )
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
    )
    _auroc_stats(stats, ctx, kind, overall_place)
    _probability_stats(stats, ctx, kind, overall_recal)
    if curves:
        _curves(stats, ctx, keys)
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
    res = auroc_delong(gp, ctx.sorted_scores, c.n_pos, c.n_neg, placements=want)
    deff_auc = None
    if stats.units is not None and res.placements is not None:
        # Obuchowski's clustered variance replaces DeLong's (disparities then use it too).
        var_c = clusters.obuchowski_variance(
            res.placements, ctx.y, stats.units, res.auc, c.n_pos, c.n_neg, size
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            deff_auc = np.where(res.var > 0, var_c / res.var, 1.0)
        res = replace(res, var=var_c)
    stats.auroc = res
    stats.values["auroc"] = res.auc
    stats.reasons["auroc"] = auroc_reasons(c.n_pos, c.n_neg)
    # DeLong's variance is 0 when every positive and every negative has the same placement
    # (perfect separation, or one score for everyone): a zero-width interval would claim an
    # exactly known AUROC, so there is no interval.
    lo, hi, _ = iv.auroc_interval(
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
    sq_rows = (p - ctx.yf) ** 2
    sq = np.bincount(gp.codes, weights=sq_rows, minlength=size)
    sq2 = np.bincount(gp.codes, weights=sq_rows * sq_rows, minlength=size)
    expected = np.bincount(gp.codes, weights=p, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        stats.values["brier"] = np.where(n > 0, sq / n, np.nan)
        stats.values["oe_ratio"] = np.where(expected > 0, c.n_pos / expected, np.nan)
    stats.reasons["brier"] = ["the group has no rows" if k <= 0 else None for k in n]
    stats.reasons["oe_ratio"] = [
        "the group has no rows"
        if k <= 0
        else ("expected events Σp = 0: the ratio is undefined" if e <= 0 else None)
        for k, e in zip(n, expected, strict=True)
    ]
    recal = recalibrate(gp, ctx.x, ctx.yf, c.n_pos, c.n_neg, start)
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
        stats.lo["brier"], stats.hi["brier"] = iv.log_mean_interval(
            stats.values["brier"], var_b, stats.units.per_group - 1.0, ctx.spec.ci_level
        )
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
        stats.reliability = reliability(gp, ctx.score, ctx.yf, ctx.spec.calibration_bins)


# ---------------------------------------------------------------- bootstrap


def _fit_arrays(recal: Recalibration | None, size: int) -> tuple[np.ndarray, ...]:
    """Group fits for the bootstrap features; failed fits use (0, 1, 0) (masked later)."""
    if recal is None:
        return np.zeros(size), np.ones(size), np.zeros(size)
    a = np.nan_to_num(recal.slope_a, nan=0.0)
    b = np.nan_to_num(recal.slope, nan=1.0)
    alpha = np.nan_to_num(recal.intercept, nan=0.0)
    return a, b, alpha


def _bootstrap(
    stats: GroupingStats,
    ctx: _Context,
    overall_recal: Recalibration | None,
    index: int,
    cancelled: IsCancelled,
) -> None:
    """Bootstrap of F1, balanced accuracy, Brier, O/E and recalibration, resampling rows (or
    patients) within each group, so events are random in every replicate.

    Every statistic is computed from replicate totals per group. The recalibration replicates
    take one Newton step from the full-sample fit using the replicate's score and information
    totals (the one-step bootstrap of Moulton & Zeger 1991), so no replicate needs an
    iterative refit.
    """
    spec = ctx.spec
    gp = stats.grouping
    size = gp.size
    b = spec.bootstrap
    rng = np.random.default_rng(np.random.SeedSequence([spec.seed, index]))
    prob = ctx.is_probability and ctx.x is not None and ctx.score is not None
    predf = ctx.pred.astype(np.float64)
    yf = ctx.yf
    codes = gp.codes

    def counts_block(rows: np.ndarray, f: np.ndarray) -> None:
        f[:, F_ONE] = 1.0
        f[:, F_Y] = yf[rows]
        f[:, F_PRED] = predf[rows]
        f[:, F_TP] = f[:, F_Y] * f[:, F_PRED]

    if prob:
        assert ctx.x is not None and ctx.score is not None
        x, p = ctx.x, ctx.score
        ga, gb, galpha = _fit_arrays(stats.recal, size)
        # The overall fit's score/information columns are needed only for differences against
        # the overall population (its replicate must come from the same resample).
        with_overall = spec.reference.kind == "overall" and not gp.is_overall
        n_features = N_FEATURES_PROB if with_overall else F_OVERALL_FIT
        oa, ob, oalpha = _fit_arrays(overall_recal, 1)

        def features(rows: np.ndarray) -> np.ndarray:
            yy, xx, pp = yf[rows], x[rows], p[rows]
            cc = codes[rows]
            f = np.empty((rows.size, n_features))
            counts_block(rows, f)
            f[:, F_SQ] = (pp - yy) ** 2
            f[:, F_P] = pp
            blocks = [(F_GROUP_FIT, ga[cc], gb[cc], galpha[cc])]
            if with_overall:
                blocks.append((F_OVERALL_FIT, oa, ob, oalpha))
            for off, a_, b_, al_ in blocks:
                pi = expit(a_ + b_ * xx)
                r = yy - pi
                w = pi * (1 - pi)
                f[:, off] = r
                f[:, off + 1] = xx * r
                f[:, off + 2] = w
                f[:, off + 3] = xx * w
                f[:, off + 4] = xx * xx * w
                pio = expit(al_ + xx)
                f[:, off + 5] = yy - pio
                f[:, off + 6] = pio * (1 - pio)
            return f

    else:
        n_features = N_FEATURES_CLASS

        def features(rows: np.ndarray) -> np.ndarray:
            f = np.empty((rows.size, n_features))
            counts_block(rows, f)
            return f

    cells = ctx.y.astype(np.intp) * 2 + ctx.pred
    totals = iv.resampled_totals(
        codes,
        size,
        features,
        n_features,
        b,
        rng,
        cancelled,
        cell_of_row=cells,
        cluster_of_row=ctx.cluster,
    )
    reps, overall = _replicate_statistics(totals, stats, overall_recal, prob)
    stats.reps = reps
    stats.overall_reps = overall
    level = spec.ci_level
    for mid in BOOTSTRAP_METRICS:
        if mid not in reps or mid in ANALYTIC_CI:
            continue
        r = reps[mid]
        r[:, ~np.isfinite(stats.values[mid])] = np.nan
        checked = iv.bootstrap_interval(r, stats.values[mid], level)
        stats.lo[mid], stats.hi[mid] = checked.lo, checked.hi
        stats.ci_reasons[mid] = checked.reasons


def _replicate_statistics(
    tot: np.ndarray,
    stats: GroupingStats,
    overall_recal: Recalibration | None,
    prob: bool,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Replicates (B × groups) of each bootstrap metric, plus the overall population's (B,),
    from replicate totals (B × groups × features) whose counts are random."""
    reps: dict[str, np.ndarray] = {}
    overall: dict[str, np.ndarray] = {}
    all_tot = tot.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        for target, t in ((reps, tot), (overall, all_tot)):
            n, n1, tp = t[..., F_ONE], t[..., F_Y], t[..., F_TP]
            n0 = n - n1
            fp = t[..., F_PRED] - tp
            target["tp"] = tp
            target["fp"] = fp
            target["n_pos"] = n1
            target["n_neg"] = n0
            target["tpr"] = tp / n1
            target["fpr"] = fp / n0
            target["selection_rate"] = (tp + fp) / n
            target["f1"] = 2 * tp / (tp + fp + n1)
            target["balanced_accuracy"] = (tp / n1 + (n0 - fp) / n0) / 2
            if prob:
                target["brier"] = t[..., F_SQ] / n
                target["oe_ratio"] = n1 / t[..., F_P]
        if prob:
            assert stats.recal is not None
            reps["calibration_slope"], reps["calibration_intercept"] = _one_step(
                tot[:, :, F_GROUP_FIT : F_GROUP_FIT + 7], stats.recal.slope, stats.recal.intercept
            )
            if overall_recal is not None and tot.shape[2] >= N_FEATURES_PROB:
                s_o, i_o = _one_step(
                    all_tot[:, None, F_OVERALL_FIT : F_OVERALL_FIT + 7],
                    overall_recal.slope,
                    overall_recal.intercept,
                )
                overall["calibration_slope"] = s_o[:, 0]
                overall["calibration_intercept"] = i_o[:, 0]
    return reps, overall


def _one_step(t: np.ndarray, slope: np.ndarray, intercept: np.ndarray) -> tuple[np.ndarray, ...]:
    """One Newton step from the full-sample fit with replicate score/information totals."""
    u0, u1, h00, h01, h11, r_off, w_off = (t[..., k] for k in range(7))
    det = h00 * h11 - h01 * h01
    db = (h00 * u1 - h01 * u0) / det
    return slope + db, intercept + r_off / w_off


# ---------------------------------------------------------------- assembly


def _flags(c: Counts, g: int, spec: EvaluationSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
    why = insufficiency(c, g, spec)
    return (("insufficient_data",) if why else ()), why


def _opt_list(a: np.ndarray) -> list[float | None]:
    return [clean(v) for v in a]


def _group_curves(stats: GroupingStats, g: int, ctx: _Context) -> dict[str, Any]:
    c = stats.counts
    curves: dict[str, Any] = {}
    if stats.roc is not None:
        pos_ge, neg_ge = stats.roc
        if c.n_pos[g] > 0 and c.n_neg[g] > 0:
            tpr = pos_ge[g] / c.n_pos[g]
            fpr = neg_ge[g] / c.n_neg[g]
            curves["roc"] = {
                "fpr": [0.0, *_opt_list(fpr[::-1])],
                "tpr": [0.0, *_opt_list(tpr[::-1])],
            }
        else:
            curves["roc"] = {"fpr": [], "tpr": []}
    if stats.reliability is not None:
        count, sp, sy = stats.reliability
        with np.errstate(invalid="ignore", divide="ignore"):
            curves["reliability"] = {
                "mean_predicted": _opt_list(sp[g] / count[g]),
                "observed": _opt_list(sy[g] / count[g]),
                "count": [float(v) for v in count[g]],
            }
    return curves


def _group_result(
    stats: GroupingStats, g: int, ctx: _Context, methods: dict[str, str]
) -> GroupResult:
    gp, c = stats.grouping, stats.counts
    flags, flag_reasons = _flags(c, g, ctx.spec)
    metrics: dict[str, MetricValue] = {}
    for mid in METRIC_IDS:
        v = clean(stats.values[mid][g])
        reason = stats.reasons[mid][g] if v is None else stats.ci_reasons[mid][g]
        lo = clean(stats.lo[mid][g]) if v is not None else None
        hi = clean(stats.hi[mid][g]) if v is not None else None
        if v is not None and lo is None and reason is None:
            reason = (
                "bootstrap disabled (B = 0)"
                if mid in BOOTSTRAP_METRICS and ctx.spec.bootstrap == 0
                else "no interval available"
            )
        metrics[mid] = MetricValue(
            value=v, ci_low=lo, ci_high=hi, method=methods[mid], reason=reason
        )
    return GroupResult(
        attribute=gp.name,
        group=gp.labels[g],
        n=int(c.n[g]),
        n_pos=int(c.n_pos[g]),
        n_neg=int(c.n_neg[g]),
        flags=flags,
        flag_reasons=flag_reasons,
        metrics=metrics,
        curves=_group_curves(stats, g, ctx),
    )


CLUSTER_SUFFIX = (
    " — cluster-robust: effective counts k/deff of n/deff with the design effect from the "
    "ratio-estimator variance over patients"
)


def _cluster_methods(spec: EvaluationSpec) -> dict[str, str]:
    """Method strings of the disparities when rows are clustered by patient."""
    boot = iv.bootstrap_method(spec.bootstrap, spec.seed, clustered=True)
    return {
        "disparity_difference_proportion": iv.NEWCOMBE + CLUSTER_SUFFIX,
        "disparity_ratio_proportion": iv.KATZ + CLUSTER_SUFFIX,
        "disparity_auroc": "DeLong with Obuchowski's (1997) clustered variance (normal "
        "approximation; log scale for ratios)",
        "disparity_bootstrap": "percentile interval of replicate differences and ratios, " + boot,
        "clustering": "rows are clustered by patient: within each group the patient is the "
        "resampling and variance unit; a patient with rows in several groups is a unit in each, "
        "and groups are compared as independent samples (the shared patients' covariance is "
        "ignored, which widens differences' intervals when a patient's rows are alike)",
    }


def _cluster_notes(inputs: EvaluationInput, all_stats: list[GroupingStats]) -> list[str]:
    if inputs.cluster is None:
        return []
    col = inputs.provenance.mapping.get("cluster") or "the patient column"
    n_patients = int(inputs.cluster.max()) + 1 if inputs.n else 0
    notes = [
        f"clustered: {inputs.n:,} rows from {n_patients:,} patients ({col}); intervals are "
        "cluster-robust and the bootstrap resamples patients within each group."
    ]
    for stats in all_stats[1:]:
        u = stats.units
        if u is None or len(stats.grouping.components) != 1:
            continue
        if u.size > n_patients:
            shared = int(np.count_nonzero(np.bincount(u.cluster) > 1))
            notes.append(
                f"{stats.grouping.name}: {shared:,} patients have rows in more than one group; "
                "each group resamples its own rows of them and comparisons treat the groups as "
                "independent."
            )
    return notes


def _methods(spec: EvaluationSpec, kind: str, *, clustered: bool = False) -> dict[str, str]:
    boot = iv.bootstrap_method(spec.bootstrap, spec.seed, clustered)
    suffix = CLUSTER_SUFFIX if clustered else ""
    m: dict[str, str] = {mid: iv.WILSON + suffix for mid in PROPORTION_METRICS}
    m["auroc"] = (
        "Mann–Whitney rank sum with midranks for ties; CI: " + iv.AUROC_METHOD
        if kind != "class"
        else "not available (predicted classes only)"
    )
    m["f1"] = boot
    m["balanced_accuracy"] = iv.MOVER_MEAN + suffix
    m["brier"] = iv.MEAN_T_LOG + (
        " — cluster-robust (ratio-estimator variance over patients, t with K − 1 df)"
        if clustered
        else ""
    )
    if clustered and kind != "class":
        m["auroc"] += "; clustered: Obuchowski's (1997) variance, and the score interval's "
        m["auroc"] += "variance times its design effect"
    m["oe_ratio"] = boot
    recal = (
        f"maximum-likelihood logistic recalibration on logit(p) (p clipped to "
        f"[{LOGIT_EPS:g}, 1 − {LOGIT_EPS:g}]) by damped Newton–Raphson with step halving on the "
        f"log-likelihood; separation and constant scores are detected exactly (no finite "
        f"slope); CI: {boot}; replicates take one Newton step from "
        "the full-sample fit (one-step bootstrap, Moulton & Zeger 1991)"
    )
    m["calibration_intercept"] = "calibration-in-the-large (logit(p) as offset), " + recal
    m["calibration_slope"] = "coefficient of logit(p), " + recal
    return m


def _grid_json(all_stats: list[GroupingStats], ctx: _Context) -> dict[str, Any]:
    if ctx.grid_index is None:
        return {"thresholds": [], "groups": []}
    out = []
    for stats in all_stats:
        assert stats.grid is not None
        pos_ge, neg_ge = stats.grid
        c = stats.counts
        with np.errstate(invalid="ignore", divide="ignore"):
            for g, label in enumerate(stats.grouping.labels):
                out.append(
                    {
                        "attribute": stats.grouping.name,
                        "group": label,
                        "tpr": _opt_list(pos_ge[g] / c.n_pos[g]),
                        "fpr": _opt_list(neg_ge[g] / c.n_neg[g]),
                        "ppv": _opt_list(pos_ge[g] / (pos_ge[g] + neg_ge[g])),
                        "selection_rate": _opt_list((pos_ge[g] + neg_ge[g]) / c.n[g]),
                    }
                )
    return {"thresholds": [float(t) for t in ctx.grid], "groups": out}


def _score_notes(inputs: EvaluationInput, ctx: _Context) -> list[str]:
    notes = decision_notes(inputs.score_kind, ctx.spec.threshold, ctx.pred)
    if inputs.score_kind == "class":
        notes.append(
            "Only predicted classes were given: AUROC, Brier score, O/E ratio, calibration and "
            "curves need a score and are not reported."
        )
    elif inputs.score_kind == "score":
        notes.append(
            "The score is not a probability: Brier score, O/E ratio and calibration are not "
            "reported; the threshold grid uses score quantiles."
        )
    elif ctx.score is not None:
        s = ctx.score
        exact = int(np.count_nonzero((s == 0) | (s == 1)))
        near = int(np.count_nonzero((s < LOGIT_EPS) | (s > 1 - LOGIT_EPS))) - exact
        if exact or near:
            parts = []
            if exact:
                parts.append(f"{exact} predicted probabilities of exactly 0 or 1")
            if near:
                parts.append(
                    f"{near} other{'s' if near != 1 else ''} within {LOGIT_EPS:g} of 0 or 1"
                )
            notes.append(
                f"calibration: {' and '.join(parts)} were clipped to [{LOGIT_EPS:g}, "
                f"1 − {LOGIT_EPS:g}] before taking logits (logit ±23.03), so they enter the "
                "calibration fits as very confident predictions."
            )
    return notes


def evaluate(
    inputs: EvaluationInput,
    spec: EvaluationSpec,
    *,
    progress: Progress = _noop_progress,
    cancelled: IsCancelled = _never,
) -> EvaluationResult:
    """Evaluate the model per group, per attribute and per chosen intersection.

    ``progress`` receives fractions in [0, 1]; when ``cancelled()`` turns True the function
    raises :class:`assessment.errors.Cancelled` at the next checkpoint. Bad settings or data
    raise :class:`assessment.errors.EvaluationError`.
    """

    reported = [0.0]

    def checkpoint(fraction: float) -> None:
        if cancelled():
            raise Cancelled()
        reported[0] = min(max(fraction, reported[0]), 1.0)
        progress(reported[0])

    checkpoint(0.0)
    _check_inputs(inputs, spec)
    groupings = build_groupings(inputs, spec.intersections)
    ctx = _context(inputs, spec, cluster=inputs.cluster)
    kind = inputs.score_kind
    checkpoint(0.05)
    need_overall_place = spec.reference.kind == "overall" and ctx.sorted_scores is not None
    overall_stats = _point_stats(groupings[0], ctx, kind, None)
    overall_place = (
        overall_stats.auroc.placements
        if need_overall_place and overall_stats.auroc is not None
        else None
    )
    all_stats = [overall_stats]
    for k, gp in enumerate(groupings[1:], start=1):
        checkpoint(0.05 + 0.25 * k / len(groupings))
        all_stats.append(_point_stats(gp, ctx, kind, overall_place, overall_stats.recal))
    checkpoint(0.3)
    if spec.bootstrap > 0:
        for k, stats in enumerate(all_stats):
            _bootstrap(stats, ctx, overall_stats.recal, k, cancelled)
            checkpoint(0.3 + 0.55 * (k + 1) / len(all_stats))
    checkpoint(0.85)
    methods = _methods(spec, kind, clustered=inputs.cluster is not None)
    comparison = compare_groups(all_stats[1:], overall_stats, spec)
    checkpoint(0.92)
    rep_rows, rep_notes = representativeness(inputs, spec)
    miss_rows, miss_notes, methods_missing = missingness(inputs.provenance, spec)
    groups = tuple(
        _group_result(stats, g, ctx, methods)
        for stats in all_stats[1:]
        for g in range(stats.grouping.size)
    )
    methods.update(comparison.methods)
    if inputs.cluster is not None:
        methods.update(_cluster_methods(spec))
    methods["differential_missingness"] = methods_missing
    notes = [
        *_score_notes(inputs, ctx),
        *_cluster_notes(inputs, all_stats),
        *comparison.notes,
        *miss_notes,
        *rep_notes,
    ]
    small = sum("insufficient_data" in g.flags for g in groups)
    if small:
        notes.append(
            f"insufficient data: {small} of {len(groups)} groups have fewer than {spec.min_n} "
            f"rows or fewer than {spec.min_events} events or non-events; they are shown and "
            "flagged, with wide intervals, and their gaps should not be over-read; a "
            "disparity flag on such a group keeps an 'insufficient data (…)' reason."
        )
    empty = [(gp.name, gp.empty_cells) for gp in groupings if gp.empty_cells]
    for name, k in empty:
        notes.append(
            f"{name}: {k} combinations of levels have no rows in the validation data and are "
            "not listed as groups."
        )
    result = EvaluationResult(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        provenance=inputs.provenance.to_json(),
        spec=spec.to_json(),
        methods=methods,
        overall=_group_result(overall_stats, 0, ctx, methods),
        groups=groups,
        references=comparison.references,
        disparities=tuple(comparison.disparities),
        summary=tuple(comparison.summary),
        threshold_grid=_grid_json(all_stats, ctx),
        representativeness=tuple(rep_rows),
        notes=tuple(notes),
        missingness=tuple(miss_rows),
    )
    checkpoint(1.0)
    return result


def point_metrics_at_threshold(
    inputs: EvaluationInput, spec: EvaluationSpec, threshold: float
) -> dict[str, Any]:
    """Threshold-dependent point metrics for every group at ``threshold`` (GUI slider path).

    Only confusion counts are needed: one bincount per grouping, no sorting, no intervals.
    Returns {"threshold", "metrics": [ids], "overall": entry, "groups": [entry, ...]} where an
    entry is {"attribute", "group", "n", "n_pos", "n_neg", "metrics": {id: float | None},
    "reasons": {id: str}} (reasons only for undefined values).
    """
    _check_inputs(inputs, spec)
    groupings = build_groupings(inputs, spec.intersections)
    y = np.asarray(inputs.y_true, dtype=bool)
    pred = _predictions(inputs, float(threshold))
    entries = []
    for gp in groupings:
        c = confusion_counts(gp, stratum_keys(gp, y), pred)
        tm = threshold_metrics(c)
        values = {mid: tm[mid][0] for mid in THRESHOLD_METRICS}
        reasons = {mid: tm[mid][1] for mid in THRESHOLD_METRICS}
        entries += _point_entries(gp, c, THRESHOLD_METRICS, values, reasons)
    return _point_table(float(threshold), THRESHOLD_METRICS, entries)


def point_estimates(inputs: EvaluationInput, spec: EvaluationSpec) -> dict[str, Any]:
    """All 16 point metrics for every group of every grouping, without intervals (bootstrap),
    curves, disparities or representativeness: the cheapest complete table.

    Same entry shape as :func:`point_metrics_at_threshold` with all metric ids.
    """
    _check_inputs(inputs, spec)
    groupings = build_groupings(inputs, spec.intersections)
    ctx = _context(inputs, spec, curves=False)
    kind = inputs.score_kind
    overall = _point_stats(groupings[0], ctx, kind, None, curves=False)
    all_stats = [overall] + [
        _point_stats(gp, ctx, kind, None, overall.recal, curves=False) for gp in groupings[1:]
    ]
    entries = []
    for stats in all_stats:
        entries += _point_entries(
            stats.grouping, stats.counts, METRIC_IDS, stats.values, stats.reasons
        )
    return _point_table(spec.threshold, METRIC_IDS, entries)


def _point_entries(
    gp: Grouping,
    c: Counts,
    metric_ids: tuple[str, ...],
    values: Mapping[str, np.ndarray],
    reasons: Mapping[str, Sequence[str | None]],
) -> list[dict[str, Any]]:
    """One point-table entry per group of ``gp``; a reason is kept only for an undefined value."""
    entries = []
    for g, label in enumerate(gp.labels):
        vals = {mid: clean(values[mid][g]) for mid in metric_ids}
        entries.append(
            {
                "attribute": gp.name,
                "group": label,
                "n": int(c.n[g]),
                "n_pos": int(c.n_pos[g]),
                "n_neg": int(c.n_neg[g]),
                "metrics": vals,
                "reasons": {mid: reasons[mid][g] for mid in metric_ids if vals[mid] is None},
            }
        )
    return entries


def _point_table(
    threshold: float, metric_ids: tuple[str, ...], entries: list[dict[str, Any]]
) -> dict[str, Any]:
    """The point-table envelope; the first grouping is always the whole population."""
    assert entries[0]["attribute"] == OVERALL_ATTRIBUTE
    return {
        "threshold": threshold,
        "metrics": list(metric_ids),
        "overall": entries[0],
        "groups": entries[1:],
    }
