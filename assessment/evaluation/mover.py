"""Balanced accuracy of a group against a reference group: MOVER intervals, not the bootstrap.

Balanced accuracy is the mean of TPR and TNR, so the difference of two independent groups'
balanced accuracies is a linear combination of four independent proportions,
(TPR₁ + TNR₁ − TPR₂ − TNR₂) / 2. Its interval combines their Wilson limits by the method of
variance estimates recovery (MOVER, Zou & Donner 2008):

    L = d − ½·√((p₁ − l₁)² + (q₁ − l'₁)² + (u₂ − p₂)² + (u'₂ − q₂)²)
    U = d + ½·√((u₁ − p₁)² + (u'₁ − q₁)² + (p₂ − l₂)² + (q₂ − l'₂)²)

(p: TPR, q: TNR, (l, u) and (l', u') their Wilson limits). The ratio uses MOVER-R (Donner & Zou
2012) on the two groups' own MOVER-Wilson intervals (:func:`intervals.mover_mean`). The
p-value inverts the difference's interval by bisection on z, as for Newcombe's.

Why: with about ten events per group the percentile bootstrap of the replicate differences
covered 90% (simulation in tests/assessment/evaluation/test_coverage_simulation.py); these
closed forms hold their level there. Against the overall population (a group is part of it) the
engine keeps the bootstrap, whose replicates of group and population come from one resample.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from assessment.evaluation import auroc_ci
from assessment.evaluation import intervals as iv
from assessment.evaluation.auroc import AurocResult
from assessment.evaluation.multiplicity import BISECTIONS, Z_MAX, _wilson_z

MOVER_DIFFERENCE = (
    "MOVER-Wilson interval for the difference of balanced accuracies (Zou & Donner 2008: Wilson "
    "limits of both groups' TPR and TNR combined by the method of variance estimates recovery)"
)
MOVER_RATIO = (
    "MOVER-R interval for the ratio of balanced accuracies (Donner & Zou 2012) from each group's "
    "MOVER-Wilson interval"
)


def _parts(counts: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """(TPR₁, n₁⁺, TNR₁, n₁⁻, TPR₂, n₂⁺, TNR₂, n₂⁻) from (tp₁, n₁⁺, tn₁, n₁⁻, tp₂, …)."""
    tp1, np1, tn1, nn1, tp2, np2, tn2, nn2 = (np.asarray(a, dtype=np.float64) for a in counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return tp1 / np1, np1, tn1 / nn1, nn1, tp2 / np2, np2, tn2 / nn2, nn2


def _limits(
    parts: tuple[np.ndarray, ...], z: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p1, np1, q1, nn1, p2, np2, q2, nn2 = parts
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        l1, u1 = _wilson_z(p1, np1, z)
        m1, w1 = _wilson_z(q1, nn1, z)
        l2, u2 = _wilson_z(p2, np2, z)
        m2, w2 = _wilson_z(q2, nn2, z)
        d = ((p1 - p2) + (q1 - q2)) / 2
        lo = d - np.sqrt((p1 - l1) ** 2 + (q1 - m1) ** 2 + (u2 - p2) ** 2 + (w2 - q2) ** 2) / 2
        hi = d + np.sqrt((u1 - p1) ** 2 + (w1 - q1) ** 2 + (p2 - l2) ** 2 + (q2 - m2) ** 2) / 2
    return d, lo, hi


def difference(
    counts: tuple[np.ndarray, ...], level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(difference, low, high) of balanced accuracy 1 − 2 from ``counts`` = (tp₁, n₁⁺, tn₁,
    n₁⁻, tp₂, n₂⁺, tn₂, n₂⁻) (effective counts for clustered data); NaN where a count is 0."""
    return _limits(_parts(counts), iv.z_value(level))


def difference_p(counts: tuple[np.ndarray, ...]) -> np.ndarray:
    """Two-sided p-value of equal balanced accuracies: the level at which the MOVER interval
    of the difference reaches 0 (bisection on z)."""
    parts = _parts(counts)
    d = _limits(parts, 0.0)[0]
    lo = np.zeros(d.shape)
    hi = np.full(d.shape, Z_MAX)
    for _ in range(BISECTIONS):
        mid = (lo + hi) / 2
        _, low, high = _limits(parts, mid)
        with np.errstate(invalid="ignore"):
            excludes = np.where(d >= 0, low > 0, high < 0)
        lo = np.where(excludes, mid, lo)
        hi = np.where(excludes, hi, mid)
    p = np.where(d == 0, 1.0, 2 * ndtr(-(lo + hi) / 2))
    return np.where(np.isfinite(d), p, np.nan)


def ratio(
    m1: np.ndarray,
    l1: np.ndarray,
    u1: np.ndarray,
    m2: np.ndarray,
    l2: np.ndarray,
    u2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MOVER-R (Donner & Zou 2012): (ratio, low, high) of m1 / m2 from each estimate's interval
    (l, u); NaN where the closed form does not exist (a reference limit at or beyond twice its
    estimate, or a negative discriminant)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r = m1 / m2
        prod = m1 * m2
        disc_lo = prod**2 - l1 * u2 * (2 * m1 - l1) * (2 * m2 - u2)
        disc_hi = prod**2 - u1 * l2 * (2 * m1 - u1) * (2 * m2 - l2)
        den_lo = u2 * (2 * m2 - u2)
        den_hi = l2 * (2 * m2 - l2)
        lo = (prod - np.sqrt(disc_lo)) / den_lo
        hi = (prod + np.sqrt(disc_hi)) / den_hi
        ok = (disc_lo >= 0) & (disc_hi >= 0) & (den_lo > 0) & (den_hi > 0) & (m2 > 0)
    return r, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


# ---------------------------------------------------------------- AUROC of two groups

MOVER_AUROC_DIFFERENCE = (
    "MOVER interval for the difference of AUROCs (Zou & Donner 2008) from each group's own "
    "AUROC interval (the method of the groups' AUROC), independent groups"
)
MOVER_AUROC_RATIO = (
    "MOVER-R interval for the ratio of AUROCs (Donner & Zou 2012) from each group's own AUROC "
    "interval, independent groups"
)

AUROC_METHODS = (
    "against a reference group: MOVER difference and MOVER-R ratio from each group's own "
    "AUROC interval (Zou & Donner 2008; Donner & Zou 2012); against the overall population: "
    "DeLong with the covariance of the nested estimates (normal approximation; log scale for "
    "ratios)"
)


def auroc_limits(
    auc: np.ndarray,
    var: np.ndarray,
    s10: np.ndarray,
    s01: np.ndarray,
    n1: np.ndarray,
    n0: np.ndarray,
    clustered: bool,
    z: np.ndarray | float,
    upper: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each group's own AUROC interval at normal quantile ``z`` — the engine's per-group
    interval (:func:`intervals.auroc_interval`) at any level. ``var`` is DeLong's variance, or
    Obuchowski's when ``clustered``: the Hanley–McNeil score interval is then inflated by
    the design effect var / DeLong's unclustered variance (s10/n1 + s01/n0), as for the group.
    With ``upper``, only the upper (where True) or the lower limit is exact (half the work)."""
    deff = None
    if clustered:
        with np.errstate(invalid="ignore", divide="ignore"):
            plain = s10 / n1 + s01 / n0
            deff = np.where(plain > 0, var / plain, 1.0)
    lo, hi, _ = auroc_ci.auroc_limits(auc, var, n1, n0, z, deff, upper)
    return lo, hi


def _from_limits(
    m1: np.ndarray,
    l1: np.ndarray,
    u1: np.ndarray,
    m2: np.ndarray,
    l2: np.ndarray,
    u2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MOVER (Zou & Donner 2008) for θ₁ − θ₂ of independent estimates from their limits:
    L = d − √((θ₁ − l₁)² + (u₂ − θ₂)²), U = d + √((u₁ − θ₁)² + (θ₂ − l₂)²)."""
    with np.errstate(invalid="ignore"):
        d = m1 - m2
        lo = d - np.sqrt((m1 - l1) ** 2 + (u2 - m2) ** 2)
        hi = d + np.sqrt((u1 - m1) ** 2 + (m2 - l2) ** 2)
    return d, lo, hi


AurocParts = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
# (difference, low, high, ratio, low, high, p-value)
Comparison = tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]


def auroc_comparison(
    group: AurocParts, ref: AurocParts, clustered: bool, level: float
) -> Comparison:
    """AUROC of a group against an independent reference group; ``group`` and ``ref`` are
    (auc, var, s10, s01, n_pos, n_neg) arrays of equal shape. Returns (difference, low, high,
    ratio, low, high, p): MOVER difference and MOVER-R ratio from the two groups' own intervals,
    and the two-sided p-value of equal AUROCs, the level at which the MOVER difference interval
    reaches 0 (bisection on z, as for Newcombe's)."""
    a1, a2 = group[0], ref[0]
    shape = np.broadcast(*group, *ref).shape
    # group and reference side by side: one call per bisection step (numpy call overhead
    # dominates with few groups)
    both = [
        np.concatenate([np.broadcast_to(g, shape).ravel(), np.broadcast_to(r, shape).ravel()])
        for g, r in zip(group, ref, strict=True)
    ]

    def limits(z: np.ndarray | float, upper: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        zz = z if np.ndim(z) == 0 else np.concatenate([np.ravel(z), np.ravel(z)])
        auc, var, s10, s01, n1, n0 = both
        lo, hi = auroc_limits(auc, var, s10, s01, n1, n0, clustered, zz, upper)
        lo, hi = lo.reshape(2, *shape), hi.reshape(2, *shape)
        return lo[0], hi[0], lo[1], hi[1]

    l1, u1, l2, u2 = limits(iv.z_value(level))
    d, dl, dh = _from_limits(a1, l1, u1, a2, l2, u2)
    # the p-value needs one limit of each: the group's lower and the reference's upper when
    # d ≥ 0 (the MOVER lower limit), else the other two
    one_side = np.concatenate([np.ravel(d < 0), np.ravel(d >= 0)])
    r, rl, rh = ratio(a1, l1, u1, a2, l2, u2)
    lo = np.zeros(d.shape)
    hi = np.full(d.shape, Z_MAX)
    for _ in range(BISECTIONS):
        mid = (lo + hi) / 2
        m_l1, m_u1, m_l2, m_u2 = limits(mid, one_side)
        _, low, high = _from_limits(a1, m_l1, m_u1, a2, m_l2, m_u2)
        with np.errstate(invalid="ignore"):
            excludes = np.where(d >= 0, low > 0, high < 0)
        lo = np.where(excludes, mid, lo)
        hi = np.where(excludes, hi, mid)
    with np.errstate(invalid="ignore"):
        p = np.where(d == 0, 1.0, 2 * ndtr(-(lo + hi) / 2))
    ok = np.isfinite(d) & np.isfinite(dl) & np.isfinite(dh)
    return d, dl, dh, r, rl, rh, np.where(ok, p, np.nan)


def auroc_against(
    au: AurocResult,
    n_pos: np.ndarray,
    n_neg: np.ndarray,
    ref: int | np.ndarray,
    clustered: bool,
    level: float,
) -> Comparison:
    """:func:`auroc_comparison` of every group of a grouping against group ``ref`` (an index,
    or one per group). A DeLong variance of 0 (perfect separation, one score for all) or none
    (fewer than 2 events or non-events) in the group or the reference is no measure of
    uncertainty: that comparison keeps its estimates but has no limits and no p-value."""
    parts = (au.auc, au.var, au.s10, au.s01, np.asarray(n_pos, float), np.asarray(n_neg, float))
    refs: AurocParts = (*(x[ref] for x in parts),)
    d, dl, dh, r, rl, rh, p = auroc_comparison(parts, refs, clustered, level)
    with np.errstate(invalid="ignore"):
        usable = au.var > 0
    usable = usable & usable[ref]
    dl, dh, rl, rh, p = (np.where(usable, x, np.nan) for x in (dl, dh, rl, rh, p))
    return d, dl, dh, r, rl, rh, p
