"""Summary fairness measures of one grouping, over the groups with sufficient data.

Measures (Fairlearn's definitions): equalized-odds difference = max(range of TPR, range of FPR),
equal-opportunity difference = range of TPR, demographic-parity difference = range of the
selection rate, demographic-parity ratio = min / max selection rate, AUROC gap = range of AUROC.
A range is the largest pairwise gap, so each measure is set by two groups, which are named.

Only groups with sufficient data (the engine's minimum n, events and non-events) and a defined
value enter: a two-row group must not set the headline. The groups left out are listed with why.

Interval — simultaneous max-|t| intervals for every pairwise difference (Westfall & Young 1993,
bootstrap max-T; Hothorn, Bretz & Westfall 2008, simultaneous inference for general contrasts),
projected onto the largest gap. With the replicates θ*_b the engine already drew (rows or patients
resampled within each group, so event counts are random), e_bi = θ*_bi − θ̂_i, group variances
v_i = var_b(θ*_bi) and se_ij = √(v_i + v_j) (groups are resampled independently), the critical
value c is the level-quantile over replicates of T*_b = max over pairs i < j (and over TPR and
FPR together for the equalized-odds difference) of |e_bi − e_bj| / se_ij. Then every pairwise
gap d_ij lies in d̂_ij ± c·se_ij simultaneously with probability ≈ the level, and on that event
the largest gap R = max |d_ij| lies in [max_ij (|d̂_ij| − c·se_ij)⁺, max_ij (|d̂_ij| + c·se_ij)].
So the interval reaches 0 when no pair is resolved (coverage at a true gap of 0 is nominal, where
a percentile interval of the range never reaches 0), and it is conservative otherwise. The
demographic-parity ratio uses the same construction on log selection rates. The AUROC gap draws
its replicates from each group's normal approximation N(AUROC, DeLong or Obuchowski variance).

Memory: T* is built one group at a time (B × groups floats at once, the size of the replicate
matrix the engine already holds), never B × pairs.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from assessment.evaluation import intervals as iv
from assessment.evaluation.metrics import GroupingStats
from assessment.evaluation.result import SummaryMeasure, clean
from assessment.evaluation.spec import EvaluationSpec

MAX_T = (
    "simultaneous max-|t| intervals for every pairwise difference (bootstrap max-T, Westfall & "
    "Young 1993; Hothorn, Bretz & Westfall 2008), projected onto the largest gap: "
    "[max (|d_ij| − c·se_ij)⁺, max (|d_ij| + c·se_ij)], c the quantile of the largest "
    "standardised replicate gap, se_ij² = var*(group i) + var*(group j); conservative, "
    "nominal at a gap of 0"
)

# (measure id, metrics, kind, what it is)
MEASURES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("equalized_odds_difference", ("tpr", "fpr"), "range", "max(range of TPR, range of FPR)"),
    ("equal_opportunity_difference", ("tpr",), "range", "range of TPR"),
    ("demographic_parity_difference", ("selection_rate",), "range", "range of selection rate"),
    ("demographic_parity_ratio", ("selection_rate",), "ratio", "min / max selection rate"),
    ("auroc_gap", ("auroc",), "range", "range of AUROC"),
)


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


def max_t_critical(errors: list[np.ndarray], se_sq: list[np.ndarray], level: float) -> float | None:
    """The level-quantile over replicates of max over pairs i<j (every block) of
    |e_bi − e_bj| / √(v_i + v_j).

    ``errors``: per block, centred replicates (B × k; NaN where a replicate is undefined);
    ``se_sq``: per block, the k group variances. Built one group at a time, so the extra memory is
    a few B × k arrays. None when fewer than :data:`intervals.MIN_DEFINED_SHARE` of the
    replicates define every pair.
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
    # a replicate with an undefined group counts as an extreme one (never narrows the interval)
    t_all = np.where(undefined, np.inf, t_max)
    return float(np.quantile(t_all, level, method="higher"))


def largest_gap(values: list[np.ndarray], reps: list[np.ndarray] | None, level: float) -> Gap:
    """Largest pairwise gap over blocks of group values (each block: k values, all finite) and
    its projected max-t interval from ``reps`` (per block, B × k replicates; None: no interval).
    """
    best = (-1.0, 0, 0, 0)
    for m, v in enumerate(values):
        hi_i, lo_i = int(np.argmax(v)), int(np.argmin(v))
        gap = float(v[hi_i] - v[lo_i])
        if gap > best[0]:
            best = (gap, hi_i, lo_i, m)
    value, high, low, metric = best
    if reps is None:
        return Gap(value, high, low, metric, None, None, "bootstrap disabled (B = 0)")
    errors, variances = [], []
    for v, r in zip(values, reps, strict=True):
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            e = r - v
            var = np.nanvar(r, axis=0, ddof=1)
        errors.append(e)
        variances.append(var)
    # a spread at rounding level (1e-9 of the value) is no spread
    flat = [
        not (np.isfinite(var) & (var > (1e-9 * np.maximum(1.0, np.abs(v))) ** 2)).all()
        for v, var in zip(values, variances, strict=True)
    ]
    if any(flat):
        return Gap(
            value,
            high,
            low,
            metric,
            None,
            None,
            "no interval: the resamples of a group do not vary (e.g. a rate of 0 or 1 in every "
            "resample), so the bootstrap cannot measure its uncertainty",
        )
    c = max_t_critical(errors, variances, level)
    if c is None or not np.isfinite(c):
        return Gap(
            value,
            high,
            low,
            metric,
            None,
            None,
            "no interval: a group's statistic is undefined in too many bootstrap resamples",
        )
    lo_bound = 0.0
    hi_bound = 0.0
    for v, var in zip(values, variances, strict=True):
        d = np.abs(v[:, None] - v[None, :])
        half = c * np.sqrt(var[:, None] + var[None, :])
        lo_bound = max(lo_bound, float(np.max(d - half)))
        hi_bound = max(hi_bound, float(np.max(d + half)))
    # every measure here is a gap between rates or AUROCs, so at most 1 (log ratios: no bound)
    return Gap(value, high, low, metric, max(lo_bound, 0.0), hi_bound, None)


def measure_gap(
    kind: str, values: list[np.ndarray], reps: list[np.ndarray] | None, level: float
) -> Gap:
    """A "range" measure (largest gap, at most 1) or the "ratio" min / max (from the largest
    gap of the logs; ``high``/``low`` are then the numerator's and denominator's groups)."""
    if kind != "ratio":
        gap = largest_gap(values, reps, level)
        hi = None if gap.ci_high is None else min(gap.ci_high, 1.0)  # rates, AUROCs: gap <= 1
        return Gap(gap.value, gap.high, gap.low, gap.metric, gap.ci_low, hi, gap.reason)
    if not (values[0] > 0).all():
        zero = int(np.argmin(values[0]))
        return Gap(
            0.0,
            zero,
            int(np.argmax(values[0])),
            0,
            None,
            None,
            "no interval: a selection rate of 0 has no log (the ratio is 0)",
        )
    logs = [np.log(v) for v in values]
    log_reps = None
    if reps is not None:
        log_reps = [np.where(r > 0, np.log(np.where(r > 0, r, 1.0)), np.nan) for r in reps]
    gap = largest_gap(logs, log_reps, level)
    lo = hi = None
    if gap.ci_low is not None and gap.ci_high is not None:
        lo, hi = float(np.exp(-gap.ci_high)), float(np.exp(-gap.ci_low))
    return Gap(float(np.exp(-gap.value)), gap.low, gap.high, 0, lo, hi, gap.reason)


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


def _auroc_draws(
    stats: GroupingStats, ok: np.ndarray, spec: EvaluationSpec, rng: np.random.Generator
) -> tuple[list[np.ndarray] | None, str | None]:
    if spec.bootstrap == 0:
        return None, "bootstrap disabled (B = 0)"
    assert stats.auroc is not None
    var = stats.auroc.var[ok]
    if not np.all(np.isfinite(var) & (var > 0)):
        return None, (
            "no interval: a group's AUROC has no DeLong variance (or it is 0: perfect "
            "separation or one score for all)"
        )
    z = rng.standard_normal((spec.bootstrap, int(ok.sum())))
    return [stats.values["auroc"][ok] + z * np.sqrt(var)], None


def summaries(
    stats: GroupingStats,
    spec: EvaluationSpec,
    rng: np.random.Generator,
    insufficient: Mapping[int, str],
) -> list[SummaryMeasure]:
    """The summary measures of one grouping; ``insufficient``: group index → why its data are
    insufficient (those groups never enter)."""
    gp = stats.grouping
    boot = iv.bootstrap_method(spec.bootstrap, spec.seed, stats.units is not None)
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
        values = [np.asarray(stats.values[m][ok], dtype=np.float64) for m in mids]
        reps: list[np.ndarray] | None
        why: str | None = None
        if mids == ("auroc",):
            reps, why = _auroc_draws(stats, ok, spec, rng)
            ci_how = (
                f"{spec.bootstrap} draws from each group's normal approximation (DeLong"
                f"{'/Obuchowski clustered' if stats.units is not None else ''} variance, "
                f"seed={spec.seed})"
            )
        elif stats.reps is not None and all(m in stats.reps for m in mids):
            reps = [np.asarray(stats.reps[m][:, ok], dtype=np.float64) for m in mids]
            ci_how = boot
        else:
            reps, why, ci_how = None, "bootstrap disabled (B = 0)", ""
        gap = measure_gap(kind, values, reps, spec.ci_level)
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
