"""Bootstrap intervals of one grouping: F1, O/E ratio and recalibration from replicate totals
(rows or patients resampled within each group), and the replicates the disparities use.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from assessment.evaluation import clusters, profile_slope
from assessment.evaluation import intervals as iv
from assessment.evaluation.boot_blocks import block_size, blocked_statistics, blocked_totals
from assessment.evaluation.f1_interval import f1_interval
from assessment.evaluation.metrics import (
    BOOTSTRAP_METRICS,
    GroupingStats,
    Recalibration,
    expit,
)
from assessment.evaluation.point_stats import _Context

IsCancelled = Callable[[], bool]

# |logit(p)| of a probability clipped at LOGIT_EPS (exactly 0 or 1) is ≈ 23.03
CLIPPED = 23.0

# Bootstrap metrics whose own interval is analytic (their disparities use the bootstrap).
ANALYTIC_CI: tuple[str, ...] = ("balanced_accuracy", "brier")

# Per-row bootstrap features (columns of the matrix handed to intervals.resampled_totals):
# counts first (row, event, predicted positive, true positive), then the probability features.
F_ONE, F_Y, F_PRED, F_TP = 0, 1, 2, 3
N_FEATURES_CLASS = 4
F_SQ, F_P = 4, 5
F_GROUP_FIT, F_OVERALL_FIT = 6, 13  # each block: r, x·r, w, x·w, x²·w, r_offset, w_offset
N_FEATURES_PROB = 20


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
    pred = ctx.pred  # bool: 0.0/1.0 when assigned to the float matrix (no float copy)
    yf = ctx.y  # bool: 0/1 in the arithmetic below
    codes = gp.codes

    def counts_block(rows: np.ndarray, f: np.ndarray) -> None:
        f[:, F_ONE] = 1.0
        f[:, F_Y] = yf[rows]
        f[:, F_PRED] = pred[rows]
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

    cells = ctx.y.astype(np.int8) * 2 + ctx.pred  # 1 byte per row
    block = block_size(size, n_features)
    unit_totals = (
        None
        if ctx.cluster is None
        else clusters.unit_totals_by_group(
            codes, size, ctx.cluster, ctx.by_patient, features, n_features, -(-b // block)
        )
    )
    # Replicates drawn in blocks of bounded memory (boot_blocks; one block when B is small).
    totals_of = blocked_totals(
        codes, size, features, n_features, rng, cancelled, cell_of_row=cells,
        cluster_of_row=ctx.cluster, unit_totals=unit_totals,
    )  # fmt: skip
    reps, overall = blocked_statistics(
        totals_of,
        lambda totals: _replicate_statistics(totals, stats, overall_recal, prob),
        b,
        block,
    )
    del unit_totals, totals_of  # its row order (up to 5 bytes per row)
    stats.reps = reps
    stats.overall_reps = overall
    level = spec.ci_level
    units = stats.counts.n if stats.units is None else stats.units.per_group
    small = [iv.bootstrap_too_small(float(u), stats.units is not None) for u in units]
    for mid in BOOTSTRAP_METRICS:
        if mid not in reps or mid in ANALYTIC_CI:
            continue
        r = reps[mid]
        r[:, ~np.isfinite(stats.values[mid])] = np.nan
        checked = iv.bootstrap_interval(r, stats.values[mid], level)
        stats.lo[mid], stats.hi[mid] = checked.lo.copy(), checked.hi.copy()
        stats.ci_reasons[mid] = list(checked.reasons)
        for g, why in enumerate(small):
            if why is not None and np.isfinite(stats.values[mid][g]):
                stats.lo[mid][g] = stats.hi[mid][g] = np.nan
                stats.ci_reasons[mid][g] = why
    if prob and stats.recal is not None:
        _profile_slope(stats, ctx, small)
    if prob and stats.units is None and "oe_ratio" in stats.values:
        _oe_no_events(stats, ctx, small)
    if stats.units is None and "f1" in reps:
        # F1: Wilson interval of the Jaccard index (f1_interval) wherever F1 is defined and the
        # group has the bootstrap's minimum rows — also at F1 = 0 or 1, where every resample is
        # equal and the percentile bootstrap has none (the comparisons then have none either)
        c = stats.counts
        f_lo, f_hi = f1_interval(c.tp, c.fp, c.n_pos - c.tp, level)
        had = np.isfinite(stats.values["f1"]) & np.array([why is None for why in small])
        stats.lo["f1"] = np.where(had, f_lo, np.nan)
        stats.hi["f1"] = np.where(had, f_hi, np.nan)
        for k in np.flatnonzero(had):
            stats.ci_reasons["f1"][k] = None


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


def _profile_slope(stats: GroupingStats, ctx: _Context, small: list[str | None]) -> None:
    """The slope's profile-likelihood interval where a group has fewer than SWITCH_EVENTS
    events or non-events (unclustered rows; the bootstrap replicates still feed disparities).
    A group under the switch point without it (the profile's bounds, a clipped exact 0/1 score,
    clustered rows; the reason in ``stats.slope_fallback``) keeps the bootstrap interval from
    ``spec.min_events`` events and non-events on (``stats.slope_bootstrap``, named in a note),
    and below that has none: the one-step bootstrap covered 61 % at 1–2 events."""
    assert stats.recal is not None
    c = stats.counts
    b = stats.recal.slope
    few = np.minimum(c.n_pos, c.n_neg) < profile_slope.SWITCH_EVENTS
    few &= np.isfinite(b) & np.array([s is None for s in small])
    size = b.size
    settled = np.zeros(size, bool)
    fallback: list[str | None] = [None] * size
    if stats.units is not None:
        for g in np.flatnonzero(few):
            fallback[g] = profile_slope.CLUSTERED
    else:
        assert ctx.x is not None
        # a clipped exact 0/1 score (logit ±23) dominates the likelihood: no profile interval
        # (it covered 86.7 % there)
        on_edge = np.abs(ctx.x) >= CLIPPED
        clipped = np.bincount(stats.grouping.codes, weights=on_edge, minlength=size)
        suitable = few & (clipped == 0)
        chosen = profile_slope.eligible(np.asarray(c.n), suitable)
        if suitable.any():
            lo, hi, why, settled = profile_slope.profile_slope_interval(
                stats.grouping.codes, ctx.x, ctx.y, stats.recal.slope_a, b, chosen,
                ctx.spec.ci_level,
            )  # fmt: skip
        for g in np.flatnonzero(settled):
            stats.lo["calibration_slope"][g] = lo[g]
            stats.hi["calibration_slope"][g] = hi[g]
            stats.ci_reasons["calibration_slope"][g] = why[g]
        for g in np.flatnonzero(few & ~settled):
            fallback[g] = profile_slope.CLIPPED if clipped[g] else profile_slope.bounded()
    stats.slope_profile = settled
    stats.slope_fallback = fallback
    left = np.array([f is not None for f in fallback])
    enough = np.minimum(c.n_pos, c.n_neg) >= ctx.spec.min_events
    stats.slope_bootstrap = left & enough
    for g in np.flatnonzero(left & ~enough):
        stats.lo["calibration_slope"][g] = stats.hi["calibration_slope"][g] = np.nan
        stats.ci_reasons["calibration_slope"][g] = profile_slope.withheld(
            ctx.spec.min_events, fallback[g] or ""
        )


OE_GARWOOD = (
    "with no events: from 0 to the exact Poisson upper limit of O (Garwood 1936: "
    "−ln((1 − level)/2), 3.69 at 95 %) over E, the sum of the predicted probabilities"
)


def _oe_no_events(stats: GroupingStats, ctx: _Context, small: list[str | None]) -> None:
    """O/E = 0 (no events, E > 0): every resample is 0, so the percentile bootstrap has no
    interval; the exact Poisson (Garwood) interval of O over E has one. (Its bootstrap
    comparisons stay blocked: pairs.flat_sides.)"""
    assert ctx.score is not None
    c = stats.counts
    v = stats.values["oe_ratio"]
    zero = (c.n_pos == 0) & np.isfinite(v) & np.array([s is None for s in small])
    if not zero.any():
        return
    expected = np.bincount(stats.grouping.codes, weights=ctx.score, minlength=v.size)
    upper = -np.log((1 - ctx.spec.ci_level) / 2)
    for g in np.flatnonzero(zero & (expected > 0)):
        stats.lo["oe_ratio"][g] = 0.0
        stats.hi["oe_ratio"][g] = upper / expected[g]
        stats.ci_reasons["oe_ratio"][g] = None
