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

from assessment.evaluation import intervals as iv
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
