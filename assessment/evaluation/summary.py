"""Summary fairness measures of one grouping, over the groups with sufficient data.

Measures (Fairlearn's definitions): equalized-odds difference = max(range of TPR, range of FPR),
equal-opportunity difference = range of TPR, demographic-parity difference = range of the
selection rate, demographic-parity ratio = min / max selection rate, AUROC gap = range of AUROC.
A range is the largest pairwise gap, so each measure is set by two groups, which are named.

Only groups with sufficient data (the engine's minimum n, events and non-events) and a defined
value enter: a two-row group must not set the headline. The groups left out are listed with why.

Interval — simultaneous MOVER intervals for every pairwise difference, projected onto the largest
gap. Each pair's interval combines the two groups' OWN intervals (Wilson score for a rate, with
effective counts for clustered data; the group's AUROC interval: Newcombe's score interval below
50 events, DeLong on the logit scale above) by the method of variance estimates recovery (Zou &
Donner 2008), both at one normal quantile c:
L_ij = d̂_ij − √((θ̂_i − l_i)² + (u_j − θ̂_j)²), U_ij = d̂_ij + √((u_i − θ̂_i)² + (θ̂_j − l_j)²).
c makes them simultaneous (Hothorn, Bretz & Westfall 2008): the level-quantile of
T = max over pairs i < j (and over TPR and FPR together for the equalized-odds difference) of
|Z_i − Z_j| / √(v_i + v_j), with independent Z_i ~ N(0, v_i), v_i = (half-width of group i's own
interval / z)² — groups are independent; TPR and FPR are treated as independent, which by
Šidák's inequality can only raise c. With two groups c = z. On the event that every d_ij lies
in [L_ij, U_ij], the largest gap R = max |d_ij| lies in [max (L_ij)⁺, max U_ij] over ordered
pairs (L_ji = −U_ij), so the interval reaches 0 when no pair is resolved and is conservative
otherwise. The demographic-parity ratio uses the same construction on log selection rates (the
logs of the Wilson limits).

Why not the bootstrap max-T of the replicates (the method before): with ~10 events in one group
and thousands of rows in another, its symmetric ±c·se intervals around a skewed rate (or a
normal approximation with DeLong's variance, which under-estimates with few events) covered a
true gap of 0 in 87.5–91 % of data sets; the score-based intervals hold their level there
(tests/assessment/evaluation/test_coverage_simulation.py, unequal-size designs).

Memory: T is built one group at a time (draws × groups floats at once), and the projection one
row of pairs at a time, never draws × pairs nor groups × groups.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from assessment.evaluation import intervals as iv
from assessment.evaluation import mover
from assessment.evaluation.metrics import GroupingStats
from assessment.evaluation.result import SummaryMeasure, clean
from assessment.evaluation.spec import EvaluationSpec

MAX_T = (
    "simultaneous MOVER intervals for every pairwise difference (Zou & Donner 2008: the two "
    "groups' own intervals — Wilson score for rates, the group's AUROC interval — combined at a "
    "common normal quantile c), projected onto the largest gap: [max (L_ij)⁺, max U_ij]; c the "
    "quantile of max |Z_i − Z_j|/√(v_i + v_j) over independent Z_i ~ N(0, v_i), v_i from the "
    "width of group i's own interval (max-T, Hothorn, Bretz & Westfall 2008; c = z for two "
    "groups); log scale for the ratio; conservative, about nominal at a gap of 0"
)

# (measure id, metrics, kind, what it is)
MEASURES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("equalized_odds_difference", ("tpr", "fpr"), "range", "max(range of TPR, range of FPR)"),
    ("equal_opportunity_difference", ("tpr",), "range", "range of TPR"),
    ("demographic_parity_difference", ("selection_rate",), "range", "range of selection rate"),
    ("demographic_parity_ratio", ("selection_rate",), "ratio", "min / max selection rate"),
    ("auroc_gap", ("auroc",), "range", "range of AUROC"),
)

Limits = Callable[[float], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Block:
    """One metric over the groups that enter: their values and their own interval at any normal
    quantile z (``limits(z)`` → (low, high) arrays)."""

    values: np.ndarray
    limits: Limits


@dataclass(frozen=True)
class Gap:
    """The largest pairwise gap over the groups of one or more metrics, with its interval."""

    value: float
    high: int  # index (into the groups passed in) of the group with the larger value
    low: int
    metric: int  # which metric block sets it
    ci_low: float | None
    ci_high: float | None
    reason: str | None


def wilson_at(k: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score limits for k of n at normal quantile z (exactly 0 at k = 0, 1 at k = n)."""
    centre, half = iv.wilson_centre_half(k, n, z)
    lo = np.where(k <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    hi = np.where(k >= n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return lo, hi


def max_t_critical(errors: list[np.ndarray], se_sq: list[np.ndarray], level: float) -> float | None:
    """The level-quantile over draws of max over pairs i<j (every block) of
    |e_bi − e_bj| / √(v_i + v_j).

    ``errors``: per block, centred draws (B × k; NaN where a draw is undefined);
    ``se_sq``: per block, the k group variances. Built one group at a time, so the extra memory is
    a few B × k arrays. None when fewer than :data:`intervals.MIN_DEFINED_SHARE` of the
    draws define every pair.
    """
    b = errors[0].shape[0]
    t_max = np.zeros(b)
    undefined = np.zeros(b, dtype=bool)
    for e, v in zip(errors, se_sq, strict=True):
        undefined |= ~np.isfinite(e).all(axis=1)
        k = e.shape[1]
        for i in range(k - 1):
            se = np.sqrt(v[i] + v[i + 1 :])
            with np.errstate(invalid="ignore", divide="ignore"):
                t = np.abs(e[:, i : i + 1] - e[:, i + 1 :]) / se
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                row = np.nanmax(t, axis=1)
            np.fmax(t_max, row, out=t_max)
    if b == 0 or (1 - undefined.mean()) < iv.MIN_DEFINED_SHARE:
        return None
    # a draw with an undefined group counts as an extreme one (never narrows the interval)
    t_all = np.where(undefined, np.inf, t_max)
    return float(np.quantile(t_all, level, method="higher"))


def critical_value(
    variances: list[np.ndarray], level: float, draws: int, rng: np.random.Generator
) -> float | None:
    """c of the simultaneous intervals: z with one pair; otherwise the max-T quantile over
    ``draws`` independent normal draws Z_i ~ N(0, v_i) (None without draws)."""
    if len(variances) == 1 and variances[0].size == 2:
        return iv.z_value(level)
    if draws <= 0:
        return None
    errors = [rng.standard_normal((draws, v.size)) * np.sqrt(v) for v in variances]
    return max_t_critical(errors, variances, level)


def _projection(m: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[float, float]:
    """(max over ordered pairs i ≠ j of L_ij⁺, max of U_ij) of the MOVER differences θ_i − θ_j
    from the limits (lo, hi) of every group, one row of pairs at a time."""
    low, high = 0.0, 0.0
    down, up = m - lo, hi - m  # each group's distances to its limits
    for i in range(m.size):
        d = m[i] - m
        lows = d - np.sqrt(down[i] ** 2 + up**2)
        highs = d + np.sqrt(up[i] ** 2 + down**2)
        lows[i] = highs[i] = 0.0  # a group against itself is no pair
        low, high = max(low, float(lows.max())), max(high, float(highs.max()))
    return low, high


def largest_gap(blocks: list[Block], level: float, draws: int, rng: np.random.Generator) -> Gap:
    """Largest pairwise gap over blocks of group values (each block: k values, all finite) and
    its projected simultaneous MOVER interval (``draws`` = 0: no interval unless two groups)."""
    best = (-1.0, 0, 0, 0)
    for b_i, blk in enumerate(blocks):
        v = blk.values
        hi_i, lo_i = int(np.argmax(v)), int(np.argmin(v))
        gap = float(v[hi_i] - v[lo_i])
        if gap > best[0]:
            best = (gap, hi_i, lo_i, b_i)
    value, high, low, metric = best

    def none(reason: str) -> Gap:
        return Gap(value, high, low, metric, None, None, reason)

    z = iv.z_value(level)
    variances = []
    for blk in blocks:
        lo, hi = blk.limits(z)
        with np.errstate(invalid="ignore"):
            var = ((hi - lo) / (2 * z)) ** 2
        if not (np.isfinite(var) & (var > 0)).all():
            return none(
                "no interval: a group's own interval is undefined or has no width, so its "
                "uncertainty cannot enter the simultaneous interval"
            )
        variances.append(var)
    c = critical_value(variances, level, draws, rng)
    if c is None or not np.isfinite(c):
        return none("bootstrap disabled (B = 0): no draws for the simultaneous critical value")
    lo_bound = hi_bound = 0.0
    for blk in blocks:
        lo, hi = blk.limits(c)
        a, b = _projection(blk.values, lo, hi)
        lo_bound, hi_bound = max(lo_bound, a), max(hi_bound, b)
    return Gap(value, high, low, metric, lo_bound, hi_bound, None)


def measure_gap(
    kind: str, blocks: list[Block], level: float, draws: int, rng: np.random.Generator
) -> Gap:
    """A "range" measure (largest gap, at most 1) or the "ratio" min / max (from the largest
    gap of the logs; ``high``/``low`` are then the numerator's and denominator's groups)."""
    if kind != "ratio":
        gap = largest_gap(blocks, level, draws, rng)
        hi = None if gap.ci_high is None else min(gap.ci_high, 1.0)  # rates, AUROCs: gap <= 1
        return Gap(gap.value, gap.high, gap.low, gap.metric, gap.ci_low, hi, gap.reason)
    values = blocks[0].values
    if not (values > 0).all():
        zero = int(np.argmin(values))
        return Gap(
            0.0,
            zero,
            int(np.argmax(values)),
            0,
            None,
            None,
            "no interval: a selection rate of 0 has no log (the ratio is 0)",
        )

    def log_limits(z: float, own: Limits = blocks[0].limits) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = own(z)
        with np.errstate(divide="ignore"):
            return np.log(lo), np.log(hi)

    gap = largest_gap([Block(np.log(values), log_limits)], level, draws, rng)
    lo = hi = None
    if gap.ci_low is not None and gap.ci_high is not None:
        lo, hi = float(np.exp(-gap.ci_high)), float(np.exp(-gap.ci_low))
    return Gap(float(np.exp(-gap.value)), gap.low, gap.high, 0, lo, hi, gap.reason)


def group_blocks(stats: GroupingStats, mids: tuple[str, ...], ok: np.ndarray) -> list[Block]:
    """The blocks of metrics ``mids`` over the groups where ``ok``: values and each group's own
    interval as the engine reports it (Wilson with effective counts; the AUROC interval)."""
    out = []
    for m in mids:
        values = np.asarray(stats.values[m][ok], dtype=np.float64)
        if m == "auroc":
            a, c = stats.auroc, stats.counts
            assert a is not None
            parts = (a.auc[ok], a.var[ok], a.s10[ok], a.s01[ok], c.n_pos[ok], c.n_neg[ok])
            clustered = stats.units is not None

            def auroc_limits(
                z: float, p: tuple[np.ndarray, ...] = parts, cl: bool = clustered
            ) -> tuple[np.ndarray, np.ndarray]:
                return mover.auroc_limits(p[0], p[1], p[2], p[3], p[4], p[5], cl, z)

            out.append(Block(values, auroc_limits))
            continue
        num, den, _ = stats.parts[m]
        deff = np.ones(num.shape) if stats.design_effect is None else stats.design_effect[m]
        k, n = num[ok] / deff[ok], den[ok] / deff[ok]

        def rate_limits(
            z: float, k: np.ndarray = k, n: np.ndarray = n
        ) -> tuple[np.ndarray, np.ndarray]:
            return wilson_at(k, n, z)

        out.append(Block(values, rate_limits))
    return out


def _excluded(
    stats: GroupingStats, mids: tuple[str, ...], insufficient: Mapping[int, str]
) -> dict[int, str]:
    """Groups left out of a measure (index → why): insufficient data, an undefined value, or
    (clustered data) fewer patients behind one of its metrics than a cluster-robust interval
    needs (e.g. TPR of a group whose events come from 12 patients: its own interval is none)."""
    out = dict(insufficient)
    units = stats.units
    for g in range(stats.grouping.size):
        if g in out:
            continue
        for m in mids:
            if not np.isfinite(stats.values[m][g]):
                out[g] = f"{m} undefined: {stats.reasons[m][g] or 'no value'}"
                break
            if units is not None:
                k = float(np.asarray(units.behind.get(m, units.per_group))[g])
                few = iv.too_few_clusters(k, "behind this statistic" if m in units.behind else "")
                if few is not None:
                    out[g] = f"{m}: {few}"
                    break
    return out


def summaries(
    stats: GroupingStats,
    spec: EvaluationSpec,
    rng: np.random.Generator,
    insufficient: Mapping[int, str],
) -> list[SummaryMeasure]:
    """The summary measures of one grouping; ``insufficient``: group index → why its data are
    insufficient (those groups never enter)."""
    gp = stats.grouping
    draws = spec.bootstrap  # normal draws for the max-T critical value (memory: draws × groups)
    out = []
    for name, mids, kind, what in MEASURES:
        left = _excluded(stats, mids, insufficient)
        excluded = {gp.labels[g]: why for g, why in sorted(left.items())}
        ok = np.array([g not in left for g in range(gp.size)], dtype=bool)
        k = int(ok.sum())
        base = f"{what} over the groups with sufficient data and a defined value"
        if mids == ("auroc",) and stats.auroc is None:
            # predicted classes only: no group has an AUROC, none is "left out" for its data
            why_none = "predicted classes only: an AUROC gap needs a score column"
            out.append(SummaryMeasure(gp.name, name, None, None, None, base, why_none))
            continue
        if k < 2:
            out.append(
                SummaryMeasure(
                    gp.name,
                    name,
                    None,
                    None,
                    None,
                    base,
                    f"a gap needs two groups with sufficient data and a defined value; "
                    f"{'only one has' if k == 1 else 'none has'}",
                    excluded_groups=excluded,
                )
            )
            continue
        if spec.bootstrap == 0:
            gap = measure_gap(kind, group_blocks(stats, mids, ok), spec.ci_level, 0, rng)
            why: str | None = "bootstrap disabled (B = 0)"
            ci_how = ""
        else:
            gap = measure_gap(kind, group_blocks(stats, mids, ok), spec.ci_level, draws, rng)
            why = None
            ci_how = f"c from {draws} normal draws (seed={spec.seed})"
        labels = [gp.labels[g] for g in np.flatnonzero(ok)]
        set_by = (labels[gap.high], labels[gap.low])
        reason = why or gap.reason
        lo, hi = (None, None) if reason is not None else (gap.ci_low, gap.ci_high)
        value = gap.value
        scale = " (on log selection rates)" if kind == "ratio" else ""
        method = base + (f"; CI{scale}: {MAX_T}, from {ci_how}" if ci_how else "")
        out.append(
            SummaryMeasure(
                gp.name,
                name,
                clean(value),
                clean(lo),
                clean(hi),
                method,
                reason,
                set_by=set_by,
                excluded_groups=excluded,
            )
        )
    return out
