"""Tango's paired score interval against a score inversion written here from the likelihood,
McNemar against statsmodels, and the interval's coverage on paired data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar
from statsmodels.stats.contingency_tables import mcnemar

from assessment.compare.paired import discordant, mcnemar_exact, tango_interval

Z = 1.959963984540054


def _score_z(b: int, c: int, n: int, delta: float) -> float:
    """Tango's statistic from first principles: maximise the multinomial log-likelihood
    b·log(p21 + Δ) + c·log(p21) + (n − b − c)·log(1 − 2·p21 − Δ) over p21 numerically, then
    Z = (b − c − nΔ)/√(n(p12 + p21 − Δ²)) with the restricted estimates."""
    lo = max(0.0, -delta) + 1e-13
    hi = (1 - delta) / 2 - 1e-13

    def nll(p: float) -> float:
        out = 0.0
        if b:
            out -= b * np.log(p + delta)
        if c:
            out -= c * np.log(p)
        if n - b - c:
            out -= (n - b - c) * np.log(1 - 2 * p - delta)
        return out

    p21 = minimize_scalar(nll, bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-14}).x
    var = n * (2 * p21 + delta - delta**2)
    return (b - c - n * delta) / np.sqrt(var)


def _reference_interval(b: int, c: int, n: int) -> tuple[float, float]:
    d = (b - c) / n
    lo = brentq(lambda t: _score_z(b, c, n, t) - Z, -1 + 1e-9, d, xtol=1e-13) if d > -1 else -1
    hi = brentq(lambda t: _score_z(b, c, n, t) + Z, d, 1 - 1e-9, xtol=1e-13) if d < 1 else 1
    return lo, hi


@pytest.mark.parametrize(
    ("b", "c", "n"),
    [(10, 3, 100), (1, 7, 44), (0, 5, 30), (4, 0, 12), (25, 25, 200), (2, 1, 8), (60, 5, 70)],
)
def test_tango_interval_matches_the_likelihood_score_inversion(b: int, c: int, n: int) -> None:
    d, lo, hi = tango_interval(np.array([b]), np.array([c]), np.array([n]), 0.95)
    ref_lo, ref_hi = _reference_interval(b, c, n)
    assert d[0] == pytest.approx((b - c) / n, abs=1e-15)
    assert lo[0] == pytest.approx(ref_lo, abs=1e-6)
    assert hi[0] == pytest.approx(ref_hi, abs=1e-6)


def test_tango_with_no_discordant_pairs_is_a_proper_interval_around_zero() -> None:
    d, lo, hi = tango_interval(np.array([0.0]), np.array([0.0]), np.array([50.0]), 0.95)
    assert d[0] == 0 and lo[0] < 0 < hi[0] and hi[0] == pytest.approx(-lo[0], abs=1e-12)
    d, lo, hi = tango_interval(np.array([0.0]), np.array([0.0]), np.array([0.0]), 0.95)
    assert np.isnan(d[0]) and np.isnan(lo[0])


@pytest.mark.parametrize(("b", "c"), [(10, 3), (0, 5), (12, 12), (1, 30), (0, 0), (200, 170)])
def test_mcnemar_exact_equals_statsmodels(b: int, c: int) -> None:
    table = np.array([[40, b], [c, 35]])
    ref = mcnemar(table, exact=True).pvalue
    assert mcnemar_exact(np.array([b]), np.array([c]))[0] == pytest.approx(ref, abs=1e-12)


def test_discordant_counts_per_group() -> None:
    codes = np.array([0, 0, 0, 1, 1, 1])
    rows = np.array([True, True, True, True, True, False])
    fa = np.array([True, False, True, True, False, True])
    fb = np.array([False, False, True, False, True, True])
    n, ka, b, c = discordant(codes, 2, rows, fa, fb)
    assert n.tolist() == [3, 2] and ka.tolist() == [2, 1]
    assert b.tolist() == [1, 1] and c.tolist() == [0, 1]


@pytest.mark.slow
def test_tango_interval_covers_the_true_paired_difference() -> None:
    """Sensitivities of two tests on the same positives (correlated), random group size
    (15–300), true difference between −0.2 and 0.2: coverage within 93–97 %."""
    rng = np.random.default_rng(42)
    reps = 4000
    b = np.empty(reps)
    c = np.empty(reps)
    n = rng.integers(15, 300, size=reps).astype(float)
    truth = np.empty(reps)
    for r in range(reps):
        p_a = rng.uniform(0.5, 0.95)
        p_b = float(np.clip(p_a + rng.uniform(-0.2, 0.2), 0.3, 0.99))
        # joint: P(a, b) with correlation via a shared uniform
        u = rng.random(int(n[r]))
        v = np.where(rng.random(int(n[r])) < 0.6, u, rng.random(int(n[r])))
        fa, fb = u < p_a, v < p_b
        b[r] = np.sum(fa & ~fb)
        c[r] = np.sum(fb & ~fa)
        truth[r] = p_a - p_b
    _d, lo, hi = tango_interval(b, c, n, 0.95)
    coverage = float(np.mean((lo <= truth) & (truth <= hi)))
    print(f"Tango paired interval coverage {coverage:.4f}")
    assert 0.93 <= coverage <= 0.97, coverage


def test_pattern_table_gives_the_same_discordant_counts() -> None:
    from assessment.compare.paired import pattern_codes, pattern_table, table_discordant

    rng = np.random.default_rng(9)
    n, k = 3000, 4
    y = rng.random(n) < 0.3
    flags = [rng.random(n) < q for q in (0.2, 0.4, 0.5, 0.7)]
    codes = rng.integers(0, 5, n)
    table = pattern_table(codes, 5, pattern_codes(y, flags), k)
    for a in range(k):
        for b in range(k):
            if a == b:
                continue
            for outcome in (True, False):
                rows = y if outcome else ~y
                ref = discordant(codes, 5, rows, flags[a], flags[b])
                got = table_discordant(table, k, a, b, outcome)
                for r, g in zip(ref, got, strict=True):
                    np.testing.assert_array_equal(r, g)
