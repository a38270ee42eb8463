"""F1's interval: the Wilson score interval of the Jaccard index J = TP/(TP + FP + FN), mapped
to F1 = 2J/(1 + J), checked against statsmodels' Wilson interval."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.spec import EvaluationSpec


def test_f1_interval_is_wilson_of_the_jaccard_index() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    codes = rng.choice(4, size=n, p=[0.05, 0.15, 0.3, 0.5]).astype(np.int32)
    y = rng.random(n) < 0.05 + 0.1 * codes
    p = np.clip(0.05 + 0.1 * codes + 0.3 * y + rng.normal(0, 0.15, n), 0.001, 0.999)
    inp = EvaluationInput(
        y, p, None, "probability", (Attribute("g", codes, ("a", "b", "c", "d")),),
        Provenance("t", "0" * 64, n, n),
    )  # fmt: skip
    res = evaluate(inp, EvaluationSpec(threshold=0.2, bootstrap=200, seed=1))
    for g, group in enumerate(res.groups_of("g")):
        sel = codes == g
        pred = p[sel] >= 0.2
        tp = int(np.sum(pred & y[sel]))
        m = tp + int(np.sum(pred & ~y[sel])) + int(np.sum(~pred & y[sel]))
        lo, hi = proportion_confint(tp, m, alpha=0.05, method="wilson")
        f1 = group.metrics["f1"]
        assert f1.value == pytest.approx(2 * tp / (tp + m), rel=1e-12)
        assert f1.ci_low == pytest.approx(2 * lo / (1 + lo), abs=1e-12)
        assert f1.ci_high == pytest.approx(2 * hi / (1 + hi), abs=1e-12)
    method = res.method("f1")
    assert method is not None and "Jaccard" in method and "Wilson" in method


def test_f1_of_exactly_1_or_0_gets_the_wilson_jaccard_interval() -> None:
    """Tester's edge.csv: F1 = 1 (perfect separation, 26 TP, n = 100) and F1 = 0 (one score
    for all, n = 200) had no interval (every bootstrap resample equal), though the stated
    Wilson–Jaccard interval exists there; only a group under 10 rows keeps "too few"."""
    rng = np.random.default_rng(2)
    y_sep = np.r_[np.ones(26, bool), np.zeros(74, bool)]
    p_sep = np.r_[rng.uniform(0.6, 0.9, 26), rng.uniform(0.05, 0.3, 74)]
    y_const = rng.random(200) < 0.2
    p_const = np.full(200, 0.1)  # below the threshold: TP = 0, FN > 0
    y_tiny, p_tiny = np.array([1, 0, 1, 0, 0], bool), np.array([0.9, 0.1, 0.8, 0.2, 0.3])
    y = np.r_[y_sep, y_const, y_tiny]
    p = np.r_[p_sep, p_const, p_tiny]
    codes = np.repeat(np.arange(3, dtype=np.int32), [100, 200, 5])
    inp = EvaluationInput(
        y, p, None, "probability", (Attribute("g", codes, ("sep", "const", "tiny")),),
        Provenance("t", "0" * 64, y.size, y.size),
    )  # fmt: skip
    res = evaluate(inp, EvaluationSpec(threshold=0.5, bootstrap=200, seed=1))
    sep, const, tiny = (g.metrics["f1"] for g in res.groups_of("g"))
    assert sep.value == 1.0 and const.value == 0.0
    lo, hi = proportion_confint(26, 26, alpha=0.05, method="wilson")
    assert sep.ci_low == pytest.approx(2 * lo / (1 + lo), abs=1e-12) and sep.ci_high == 1.0
    assert sep.ci_low == pytest.approx(0.93, abs=0.01) and sep.reason is None
    m = int(y_const.sum())
    lo, hi = proportion_confint(0, m, alpha=0.05, method="wilson")
    assert const.ci_low == 0.0 and const.ci_high == pytest.approx(2 * hi / (1 + hi), abs=1e-12)
    assert tiny.value == 1.0 and tiny.ci_low is None
    assert tiny.reason is not None and "too few" in tiny.reason


def test_f1_interval_covers_near_1() -> None:
    """Coverage of the Wilson–Jaccard interval where F1 is near 1 (J = 0.95, 0.98; m = 20, 60
    cells in TP + FP + FN): at least 93 % over 4,000 draws each, F1 = 1 draws included."""
    rng = np.random.default_rng(9)
    for j in (0.95, 0.98):
        for m in (20, 60):
            tp = rng.binomial(m, j, 4000)
            lo, hi = proportion_confint(tp, m, alpha=0.05, method="wilson")
            f1 = 2 * j / (1 + j)
            cover = np.mean((2 * lo / (1 + lo) <= f1) & (f1 <= 2 * hi / (1 + hi)))
            assert cover >= 0.93, (j, m, cover)


def test_an_f1_of_1_group_has_no_bootstrap_comparison_carrying_only_the_reference() -> None:
    """F1 = 1 now has its own interval, but every bootstrap resample of the group is 1, so the
    replicate differences would carry only the reference's uncertainty: no interval, no p."""
    rng = np.random.default_rng(3)
    y_sep = np.r_[np.ones(26, bool), np.zeros(74, bool)]
    p_sep = np.r_[rng.uniform(0.6, 0.9, 26), rng.uniform(0.05, 0.3, 74)]
    y_ref = rng.random(1000) < 0.3
    p_ref = np.clip(0.3 + 0.3 * (y_ref - 0.3) + rng.normal(0, 0.2, 1000), 0.01, 0.99)
    y, p = np.r_[y_sep, y_ref], np.r_[p_sep, p_ref]
    codes = np.repeat(np.arange(2, dtype=np.int32), [100, 1000])
    inp = EvaluationInput(
        y, p, None, "probability", (Attribute("g", codes, ("sep", "ref")),),
        Provenance("t", "0" * 64, y.size, y.size),
    )  # fmt: skip
    res = evaluate(inp, EvaluationSpec(threshold=0.5, bootstrap=200, seed=1))
    assert res.groups_of("g")[0].metrics["f1"].ci_low is not None
    (d,) = [x for x in res.disparities if x.metric == "f1"]
    assert d.reference == "ref" and d.difference.value is not None
    assert d.difference.ci_low is None and d.p_value is None and not d.flagged
    assert d.difference.reason is not None and "every bootstrap resample" in d.difference.reason


def test_oe_with_no_events_gets_the_garwood_interval_and_no_bootstrap_comparison() -> None:
    """Tester's edge.csv: O/E = 0 (no events, n = 300) had no interval. Exact Poisson upper
    limit of O at 0 events: the μ with P(X = 0 | μ) = 0.025, over E = Σp (scipy's χ² form
    here)."""
    from scipy.stats import chi2

    rng = np.random.default_rng(5)
    p0 = rng.uniform(0.005, 0.02, 300)
    y_ref = rng.random(1000) < 0.2
    p_ref = np.clip(0.2 + rng.normal(0, 0.1, 1000), 0.01, 0.99)
    y, p = np.r_[np.zeros(300, bool), y_ref], np.r_[p0, p_ref]
    codes = np.repeat(np.arange(2, dtype=np.int32), [300, 1000])
    inp = EvaluationInput(
        y, p, None, "probability", (Attribute("g", codes, ("none", "ref")),),
        Provenance("t", "0" * 64, y.size, y.size),
    )  # fmt: skip
    res = evaluate(inp, EvaluationSpec(threshold=0.5, bootstrap=200, seed=1))
    oe = res.groups_of("g")[0].metrics["oe_ratio"]
    assert oe.value == 0.0 and oe.ci_low == 0.0
    assert oe.ci_high == pytest.approx(chi2.ppf(0.975, 2) / 2 / p0.sum(), rel=1e-12)
    assert "Garwood" in oe.method
    (d,) = [x for x in res.disparities if x.metric == "oe_ratio"]
    assert d.difference.ci_low is None and d.p_value is None
    assert d.difference.reason is not None and "O/E = 0" in d.difference.reason
