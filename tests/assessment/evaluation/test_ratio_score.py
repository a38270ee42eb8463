"""Koopman's (1984) asymptotic score interval for a ratio of independent proportions, checked
against statsmodels' implementation and against the score equation solved here by Brent's method
with the restricted maximum-likelihood estimate written from Miettinen & Nurminen (1985)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import norm
from statsmodels.stats.proportion import confint_proportions_2indep

from assessment.evaluation.ratio_score import koopman

Z = norm.ppf(0.975)


def _score_gap(t: float, k1: float, n1: float, k2: float, n2: float) -> float:
    """(p̂₁ − t·p̂₂)² − z²·Var under p₁ = t·p₂, with the restricted MLE from the quadratic
    A·p² + B·p + C = 0 (A = (n₁ + n₂)t, B = −(n₁t + k₁ + n₂ + k₂t), C = k₁ + k₂), smaller root,
    constrained to t·p̃₂ ≤ 1 (the likelihood is concave along p₁ = t·p₂, so the maximum beyond
    is on the boundary p̃₁ = 1)."""
    a, b, c = (n1 + n2) * t, -(n1 * t + k1 + n2 + k2 * t), k1 + k2
    q2 = min((-b - np.sqrt(max(b * b - 4 * a * c, 0.0))) / (2 * a), 1 / t)  # p̃₁ = t·p̃₂ ≤ 1
    q1 = t * q2
    var = q1 * (1 - q1) / n1 + t * t * q2 * (1 - q2) / n2
    return (k1 / n1 - t * k2 / n2) ** 2 - Z * Z * var


def _brent(k1: float, n1: float, k2: float, n2: float) -> tuple[float, float]:
    r = (k1 / n1) / (k2 / n2) if k2 > 0 else np.inf
    r = min(max(r, 1e-8), 1e8)
    # Both proportions 1: the statistic is 0 at r and 0 ± rounding just beside it; bracket
    # from the nearest point inside the interval (a negative gap) instead.
    steps = np.logspace(-9, -0.5, 60)
    below = next(t for t in np.r_[r, r * (1 - steps)] if _score_gap(t, k1, n1, k2, n2) < 0)
    above = next(t for t in np.r_[r, r * (1 + steps)] if _score_gap(t, k1, n1, k2, n2) < 0)
    lo = 0.0 if k1 == 0 else brentq(_score_gap, 1e-8, below, args=(k1, n1, k2, n2), xtol=1e-15)
    hi = np.inf if k2 == 0 else brentq(_score_gap, above, 1e8, args=(k1, n1, k2, n2), xtol=1e-15)
    return lo, hi


def test_equals_statsmodels_inside_the_table() -> None:
    rng = np.random.default_rng(4)
    n1, n2 = rng.integers(5, 400, 60), rng.integers(5, 400, 60)
    k1, k2 = rng.binomial(n1, rng.uniform(0.05, 0.95, 60)), rng.binomial(n2, 0.4)
    keep = (k1 > 0) & (k1 < n1) & (k2 > 0) & (k2 < n2)
    r, lo, hi = koopman(k1[keep], n1[keep], k2[keep], n2[keep], 0.95)
    for i, (a, m, b, n) in enumerate(zip(k1[keep], n1[keep], k2[keep], n2[keep], strict=True)):
        want = confint_proportions_2indep(
            a, m, b, n, method="score", compare="ratio", correction=False
        )
        assert (lo[i], hi[i]) == pytest.approx(want, rel=1e-9), (a, m, b, n)
        assert r[i] == pytest.approx((a / m) / (b / n), rel=1e-14)


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2"),
    [
        (10, 10, 13, 13),  # both proportions 1 (TPR with every event found)
        (5, 5, 2, 9),
        (0, 10, 4, 12),  # a zero count: lower limit 0
        (4, 12, 0, 10),  # reference 0: infinite ratio and upper limit
        (1, 1, 300, 500),  # a one-row group
        (3.4, 7.9, 12.6, 20.2),  # effective counts of clustered data
        (9, 10, 12, 14),
    ],
)
def test_limits_solve_the_score_equation_at_the_boundaries(
    k1: float, n1: float, k2: float, n2: float
) -> None:
    r, lo, hi = koopman(np.array([k1]), np.array([n1]), np.array([k2]), np.array([n2]), 0.95)
    want = _brent(k1, n1, k2, n2)
    assert (lo[0], hi[0]) == pytest.approx(want, rel=1e-9, abs=1e-12)
    assert lo[0] <= r[0] <= hi[0]


def test_undefined_where_the_ratio_is() -> None:
    r, lo, hi = koopman(
        np.array([0, 3]), np.array([5, 0]), np.array([0, 2]), np.array([7, 4]), 0.95
    )
    assert np.isnan(r[0]) and np.isnan(lo).all() and np.isnan(hi).all()


def test_one_row_group_gets_a_wide_interval_spanning_1() -> None:
    """TNR 1/1 against 300/500: no zero-width interval (Katz's uncorrected log method's flaw)."""
    _, lo, hi = koopman(np.array([1]), np.array([1]), np.array([300]), np.array([500]), 0.95)
    assert lo[0] < 1 < hi[0] and hi[0] / lo[0] > 3
