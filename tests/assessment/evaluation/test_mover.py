"""Balanced accuracy against a reference group: MOVER difference and MOVER-R ratio checked
against Newcombe's interval (statsmodels), their defining equations and the engine's output."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from assessment.evaluation import mover
from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.spec import EvaluationSpec, ReferenceSpec

BIG = 1e12  # a TNR of BIG / BIG: its Wilson limits have width ~1e-12


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2"), [(30, 50, 18, 45), (5, 12, 11, 12), (0, 9, 4, 20)]
)
def test_difference_is_half_of_newcombe_when_tnr_is_known_exactly(k1, n1, k2, n2) -> None:
    counts = tuple(np.array([float(x)]) for x in (k1, n1, BIG, BIG, k2, n2, BIG, BIG))
    d, lo, hi = mover.difference(counts, 0.95)
    nlo, nhi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    assert d[0] == pytest.approx((k1 / n1 - k2 / n2) / 2)
    assert lo[0] == pytest.approx(nlo / 2, abs=1e-6)
    assert hi[0] == pytest.approx(nhi / 2, abs=1e-6)


def test_p_value_inverts_the_interval() -> None:
    counts = tuple(np.array([x], float) for x in (40, 60, 70, 100, 25, 55, 60, 110))
    p = mover.difference_p(counts)[0]
    assert 0 < p < 0.05
    _, lo, hi = mover.difference(counts, 1 - p)
    assert min(abs(lo[0]), abs(hi[0])) < 1e-9
    same = tuple(np.array([x], float) for x in (40, 60, 70, 100, 40, 60, 70, 100))
    assert mover.difference_p(same)[0] == 1.0


def test_ratio_limits_solve_the_mover_r_equations() -> None:
    """L and U are the roots of (m1 − R·m2)² = (m1 − l1)² + R²(u2 − m2)² (lower) and
    (R·m2 − m1)² = (u1 − m1)² + R²(m2 − l2)² (upper), Donner & Zou (2012)."""
    rng = np.random.default_rng(4)
    m1, m2 = rng.uniform(0.55, 0.9, 50), rng.uniform(0.55, 0.9, 50)
    l1, u1 = m1 - rng.uniform(0.02, 0.1, 50), m1 + rng.uniform(0.02, 0.08, 50)
    l2, u2 = m2 - rng.uniform(0.02, 0.1, 50), m2 + rng.uniform(0.02, 0.08, 50)
    r, lo, hi = mover.ratio(m1, l1, u1, m2, l2, u2)
    assert np.all(lo < r) and np.all(r < hi)
    np.testing.assert_allclose((m1 - lo * m2) ** 2, (m1 - l1) ** 2 + lo**2 * (u2 - m2) ** 2)
    np.testing.assert_allclose((hi * m2 - m1) ** 2, (u1 - m1) ** 2 + hi**2 * (m2 - l2) ** 2)
    # no closed form when the reference's upper limit reaches twice its estimate
    _, lo, hi = mover.ratio(
        np.array([0.5]),
        np.array([0.4]),
        np.array([0.6]),
        np.array([0.1]),
        np.array([0.01]),
        np.array([0.25]),
    )
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_engine_reports_mover_for_a_reference_group_and_the_bootstrap_against_overall() -> None:
    rng = np.random.default_rng(2)
    n = 1500
    g = rng.integers(0, 2, n).astype(np.int32)
    y = rng.random(n) < 0.3
    score = np.clip(0.3 + 0.3 * (y - 0.3) * (1 + g) + rng.normal(0, 0.2, n), 0, 1)
    inp = EvaluationInput(
        y,
        score,
        None,
        "probability",
        (Attribute("g", g, ("a", "b")),),
        Provenance("t", "0" * 64, n, n),
    )
    res = evaluate(
        inp,
        EvaluationSpec(
            threshold=0.4, bootstrap=200, seed=3, reference=ReferenceSpec("value", {"g": "a"})
        ),
    )
    d = res.disparity("g", "b", "balanced_accuracy")
    pred = score >= 0.4
    tp = [np.sum(y & pred & (g == k)) for k in (0, 1)]
    npos = [np.sum(y & (g == k)) for k in (0, 1)]
    tn = [np.sum(~y & ~pred & (g == k)) for k in (0, 1)]
    nneg = [np.sum(~y & (g == k)) for k in (0, 1)]
    counts = tuple(
        np.array([float(x)])
        for x in (tp[1], npos[1], tn[1], nneg[1], tp[0], npos[0], tn[0], nneg[0])
    )
    want, lo, hi = mover.difference(counts, 0.95)
    assert d.difference.method == mover.MOVER_DIFFERENCE and d.ratio.method == mover.MOVER_RATIO
    assert d.difference.value == pytest.approx(want[0])
    assert (d.difference.ci_low, d.difference.ci_high) == pytest.approx((lo[0], hi[0]))
    assert d.p_value == pytest.approx(mover.difference_p(counts)[0])
    overall = evaluate(
        inp,
        EvaluationSpec(threshold=0.4, bootstrap=200, seed=3, reference=ReferenceSpec("overall")),
    )
    assert "bootstrap" in overall.disparity("g", "b", "balanced_accuracy").difference.method
