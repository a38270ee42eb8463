"""Ratio of two independent proportions: Koopman's (1984) asymptotic score interval.

Used for every ratio of proportions the engine reports (TPR … accuracy, against a reference group
and, mapped from group vs complement, against the overall population) instead of Katz's log
method, whose 0.5 continuity correction at a count of 0 or k = n over-covered (simulation in
tests/assessment/evaluation/test_coverage_simulation.py).
"""

from __future__ import annotations

import numpy as np

from assessment.evaluation.intervals import z_value

KOOPMAN = (
    "Koopman (1984) asymptotic score interval for a ratio of proportions (restricted maximum "
    "likelihood of Miettinen & Nurminen 1985)"
)
KOOPMAN_HALVINGS = 64  # bisection on log θ over [−30, 30]: 60·2⁻⁶⁴ ≈ 3e-18, below one ulp


def koopman(
    k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio p1 / p2 with Koopman's (1984) asymptotic score interval: every θ with
    (p̂₁ − θ·p̂₂)² ≤ z²·[p̃₁(1 − p̃₁)/n₁ + θ²·p̃₂(1 − p̃₂)/n₂], where p̃₂ (and p̃₁ = θ·p̃₂) is the
    maximum-likelihood estimate under p₁ = θ·p₂, the smaller root of
    (n₁ + n₂)θ·p² − (n₁θ + k₁ + n₂ + k₂θ)·p + k₁ + k₂ = 0 (Miettinen & Nurminen 1985), at most
    1/θ (where that root would put p̃₁ above 1, as with k₁ = n₁, the maximum is on p̃₁ = 1).

    Unlike Katz's log method it needs no continuity correction at a count of 0 or k = n (where
    Katz's 0.5 correction over-covered: 97–99.7 % for TPR/FNR ratios with about ten events);
    it covered 94.6–96.8 % in the same simulations. Limits by bisection on log θ over
    [e⁻³⁰, e³⁰]; the lower limit is 0 when k₁ = 0 and the upper one infinite when k₂ = 0 (an
    infinite ratio); NaN where a denominator is 0 or k₁ = k₂ = 0. Accepts effective
    (non-integer) counts.
    """
    z2 = z_value(level) ** 2
    k1, n1, k2, n2 = (np.asarray(a, dtype=np.float64) for a in (k1, n1, k2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = k1 / n1, k2 / n2
        r = p1 / p2
        log_r = np.clip(np.log(r), -30.0, 30.0)

    def outside(log_t: np.ndarray) -> np.ndarray:
        t = np.exp(log_t)
        b = n1 * t + k1 + n2 + k2 * t
        disc = np.maximum(b * b - 4 * (n1 + n2) * t * (k1 + k2), 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            q2 = 2 * (k1 + k2) / (b + np.sqrt(disc))  # the smaller root, without cancellation
            q2 = np.minimum(q2, 1 / t)  # p̃₁ = θ·p̃₂ ≤ 1: the constrained maximum (k₁ = n₁)
            q1 = t * q2
            var = q1 * (1 - q1) / n1 + t * t * q2 * (1 - q2) / n2
            gap: np.ndarray = (p1 - t * p2) ** 2 - z2 * var > 0
        return gap

    lo_a, lo_b = np.full(r.shape, -30.0), log_r.copy()
    hi_a, hi_b = log_r.copy(), np.full(r.shape, 30.0)
    for _ in range(KOOPMAN_HALVINGS):
        mid = (lo_a + lo_b) / 2
        out = outside(mid)
        lo_a, lo_b = np.where(out, mid, lo_a), np.where(out, lo_b, mid)
        mid = (hi_a + hi_b) / 2
        out = outside(mid)
        hi_a, hi_b = np.where(out, hi_a, mid), np.where(out, mid, hi_b)
    lo = np.where(k1 == 0, 0.0, np.exp(lo_b))
    hi = np.where(k2 == 0, np.inf, np.exp(hi_a))
    ok = (n1 > 0) & (n2 > 0) & ~np.isnan(r)
    return r, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)
