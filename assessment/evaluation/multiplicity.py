"""p-values for group comparisons and their multiplicity adjustment (Holm, Benjamini–Hochberg).

Each p-value is the inversion of the interval the comparison reports, so "p < α" and "the
(1 − α) interval excludes parity" say the same thing:

- difference of proportions: Newcombe's hybrid score interval (method 10) inverted by bisection
  on z (the interval shrinks monotonically as z falls);
- ratio of proportions: Katz's log method is a Wald interval on log(ratio), so
  p = 2·Φ(−|log r| / SE) with the same 0.5 boundary correction;
- normal approximations (DeLong): p = 2·Φ(−|d| / SE);
- percentile bootstrap: p = min(1, 2·min(share of replicate gaps ≤ 0, share ≥ 0)), the level at
  which the percentile interval reaches parity.

Adjustments follow Holm (1979) (step-down, family-wise error) and Benjamini & Hochberg (1995)
(step-up, false discovery rate); NaN p-values are not part of the family and stay NaN.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import numpy as np
from scipy.special import ndtr

from assessment.evaluation.intervals import KATZ_CORRECTION
from assessment.evaluation.metrics import GroupingStats
from assessment.evaluation.mirrors import MIRRORS as _MIRRORS
from assessment.evaluation.mirrors import judged_on, primary_of
from assessment.evaluation.result import Disparity, clean
from assessment.evaluation.spec import EvaluationSpec

Method = Literal["holm", "bh"]
METHODS: dict[str, str] = {
    "holm": "Holm (1979) step-down adjustment (family-wise error rate)",
    "bh": "Benjamini–Hochberg (1995) step-up adjustment (false discovery rate)",
}
# Bisection on z for the Newcombe inversion: 0 .. Z_MAX (p below 2·Φ(−Z_MAX) ≈ 1e-23 is reported
# as that bound; every adjusted decision at usual levels is the same).
Z_MAX = 10.0
BISECTIONS = 45


def adjust(p: np.ndarray, method: Method) -> np.ndarray:
    """Adjusted p-values over the finite entries of ``p`` (one family); NaN stays NaN."""
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    q = p[ok]
    order = np.argsort(q, kind="stable")
    ranked = q[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method == "bh":
        adj = np.minimum.accumulate(m / np.arange(m, 0, -1) * ranked[::-1])[::-1]
    else:
        raise ValueError(f"unknown adjustment {method!r}; use holm or bh")
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def _wilson_z(p: np.ndarray, n: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson limits for proportion ``p`` of ``n`` with a z per entry (the bisection moves each
    comparison's z separately)."""
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return np.maximum(centre - half, 0.0), np.minimum(centre + half, 1.0)


def _newcombe_gap(
    p1: np.ndarray, n1: np.ndarray, p2: np.ndarray, n2: np.ndarray, z: np.ndarray
) -> np.ndarray:
    """Distance of Newcombe's interval at ``z`` from 0 on the side of the estimate (> 0: the
    interval excludes 0)."""
    l1, u1 = _wilson_z(p1, n1, z)
    l2, u2 = _wilson_z(p2, n2, z)
    d = p1 - p2
    lo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    gap: np.ndarray = np.where(d >= 0, lo, -hi)
    return gap


def newcombe_p(k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Two-sided p-value of p1 − p2 = 0 by inverting Newcombe's interval (NaN where n = 0)."""
    k1, n1, k2, n2 = (np.asarray(a, dtype=np.float64) for a in (k1, n1, k2, n2))
    shape = np.broadcast(k1, n1, k2, n2).shape
    k1, n1, k2, n2 = (np.broadcast_to(a, shape) for a in (k1, n1, k2, n2))
    ok = (n1 > 0) & (n2 > 0)
    lo = np.zeros(shape)
    hi = np.full(shape, Z_MAX)
    # At z = 0 the interval is the point d: it excludes 0 unless d = 0 (then p = 1).
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = k1 / n1, k2 / n2
        d = p1 - p2
        for _ in range(BISECTIONS):
            mid = (lo + hi) / 2
            excludes = _newcombe_gap(p1, n1, p2, n2, mid) > 0
            lo = np.where(excludes, mid, lo)
            hi = np.where(excludes, hi, mid)
    z = (lo + hi) / 2
    p = 2 * ndtr(-z)
    p = np.where(d == 0, 1.0, p)
    return np.where(ok & np.isfinite(d), p, np.nan)


def katz_p(k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Two-sided p-value of p1 / p2 = 1 from Katz's log method (0.5 boundary correction as in
    :func:`assessment.evaluation.intervals.katz`)."""
    k1, n1, k2, n2 = (np.asarray(a, dtype=np.float64) for a in (k1, n1, k2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        boundary = (k1 == 0) | (k1 == n1) | (k2 == 0) | (k2 == n2)
        c = np.where(boundary, KATZ_CORRECTION, 0.0)
        a1, m1, a2, m2 = k1 + c, n1 + 2 * c, k2 + c, n2 + 2 * c
        log_r = np.log((a1 / m1) / (a2 / m2))
        se = np.sqrt(1 / a1 - 1 / m1 + 1 / a2 - 1 / m2)
        p = 2 * ndtr(-np.abs(log_r) / se)
        p = np.where(log_r == 0, 1.0, p)
    ok = (n1 > 0) & (n2 > 0) & np.isfinite(p)
    return np.where(ok, p, np.nan)


def normal_p(estimate: np.ndarray, variance: np.ndarray, null: float = 0.0) -> np.ndarray:
    """Two-sided Wald p-value of ``estimate == null`` (NaN where the variance is not > 0)."""
    est = np.asarray(estimate, dtype=np.float64)
    var = np.asarray(variance, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2 * ndtr(-np.abs(est - null) / np.sqrt(var))
    return np.where(np.isfinite(est) & np.isfinite(var) & (var > 0), p, np.nan)


def bootstrap_p(reps: np.ndarray, null: float = 0.0, min_defined: float = 0.9) -> np.ndarray:
    """Percentile-bootstrap p-value per column of ``reps`` (B × k) for ``parameter == null``.

    NaN where fewer than ``min_defined`` of the replicates are defined (as for the interval).
    """
    reps = np.asarray(reps, dtype=np.float64)
    defined = np.isfinite(reps)
    count = defined.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        below = np.where(defined, reps <= null, False).sum(axis=0) / count
        above = np.where(defined, reps >= null, False).sum(axis=0) / count
        p = np.minimum(1.0, 2 * np.minimum(below, above))
    return np.where(count >= min_defined * reps.shape[0], p, np.nan)


# ------------------------------------------------------------ the families of disparity flags

NEVER_FLAGGED = {"prevalence": "prevalence describes the data, not the model's performance"}

# Mirror metrics (one is 1 − the other on the same denominator) test the same comparison: they
# form one family member, with the same p-value (Newcombe's interval is symmetric under p → 1 − p),
# and one verdict, their primary's (assessment.evaluation.mirrors).
MIRRORS = _MIRRORS


def family_of(metric: str) -> str:
    """The multiplicity family of a metric: itself, or its mirror's canonical id."""
    return primary_of(metric)


def multiplicity_method(spec: EvaluationSpec) -> str:
    mirrors = ", ".join(f"{a.upper()}/{b.upper()}" for b, a in MIRRORS.items())
    return (
        f"{METHODS[spec.multiplicity]} within each metric family: one family per metric (mirror "
        f"metrics {mirrors} are one family, each comparison counted once, and one verdict: the "
        "mirror member shows its primary's flags, judged with the primary's tolerance), "
        "holding every "
        "group-versus-reference comparison of every attribute and intersection. Each "
        "comparison's p-value inverts the interval of its difference (Newcombe for proportions, "
        "DeLong normal for AUROC against the overall population, MOVER for AUROC and "
        "balanced accuracy against a reference group, "
        "percentile bootstrap otherwise). Adjusted flag: the unadjusted flag holds and the "
        "adjusted p-value is below 1 − the CI level."
    )


def adjust_flags(disparities: list[Disparity], spec: EvaluationSpec) -> list[Disparity]:
    """Fill ``p_adjusted`` and ``flagged_adjusted`` per metric family (see
    :func:`multiplicity_method`)."""
    alpha = round(1 - spec.ci_level, 12)  # 1 − 0.95 is 0.05000000000000004 in floating point
    families: dict[str, list[int]] = {}
    for i, d in enumerate(disparities):
        if d.metric in NEVER_FLAGGED or d.metric in MIRRORS:
            continue
        families.setdefault(d.metric, []).append(i)
    adjusted: dict[tuple[str, str, str], float | None] = {}
    for fam, idx in families.items():
        p = np.array(
            [np.nan if disparities[i].p_value is None else disparities[i].p_value for i in idx]
        )
        for i, v in zip(idx, adjust(p, spec.multiplicity), strict=True):
            adjusted[(disparities[i].attribute, disparities[i].group, fam)] = clean(v)
    out = []
    for d in disparities:
        q_adj = adjusted.get((d.attribute, d.group, family_of(d.metric)))
        if d.metric in MIRRORS and d.p_value is None:
            q_adj = None
        flag = bool(d.flagged and q_adj is not None and q_adj < alpha)
        out.append(replace(d, p_adjusted=q_adj, flagged_adjusted=flag))
    return mirror_verdicts(out)


def mirror_verdicts(disparities: list[Disparity]) -> list[Disparity]:
    """One verdict per mirror pair: the non-primary member (TNR, FNR) of each group takes its
    primary's (FPR, TPR) unadjusted and adjusted flag, with the reason "judged on FPR, its
    mirror" in front of the primary's and the primary's tolerance (the tolerance applies to the
    pair; see :mod:`assessment.evaluation.mirrors`)."""
    primary = {
        (d.attribute, d.group, d.reference, d.metric): d
        for d in disparities
        if d.metric in MIRRORS.values()
    }
    out = []
    for d in disparities:
        p = primary.get((d.attribute, d.group, d.reference, MIRRORS.get(d.metric, "")))
        if p is None:
            out.append(d)
            continue
        why = judged_on(d.metric)
        reason = d.reason if d.difference.value is None else why
        if d.difference.value is not None and p.reason:
            reason = f"{why}: {p.reason}"
        out.append(
            replace(
                d,
                flagged=p.flagged,
                flagged_adjusted=p.flagged_adjusted,
                p_adjusted=p.p_adjusted,
                reason=reason,
                tolerance=None if p.tolerance is None else f"{why}: {p.tolerance}",
            )
        )
    return out


def multiplicity_note(
    disparities: list[Disparity], groupings: list[GroupingStats], spec: EvaluationSpec
) -> str:
    counts: dict[str, int] = {}
    for d in disparities:
        if d.p_value is not None and d.metric not in MIRRORS:
            counts[d.metric] = counts.get(d.metric, 0) + 1
    largest = max(counts.values(), default=0)
    cells = sum(s.grouping.size for s in groupings if len(s.grouping.components) > 1)
    # A mirror member repeats its primary's verdict: one disparity, counted once.
    raw = sum(d.flagged for d in disparities if d.metric not in MIRRORS)
    adj = sum(d.flagged_adjusted for d in disparities if d.metric not in MIRRORS)
    return (
        f"multiplicity: {METHODS[spec.multiplicity]} within each metric family (a metric with "
        f"its mirror, e.g. TPR/FNR, counted once), up to {largest} group-versus-reference "
        "comparisons per family"
        + (f" (including {cells} intersection cells)" if cells else "")
        + f". {raw} disparities are flagged on their unadjusted {100 * spec.ci_level:g}% "
        f"interval, {adj} after adjustment (a mirror pair's one verdict counted once); the "
        "report's findings use the adjusted flag."
    )
