"""Net benefit against the Vickers & Elkin (2006) formula computed row by row, operating-point
figures, capacity thresholds, and the paired bootstrap's estimates against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss

from assessment.compare import usefulness as us
from assessment.compare.paired_bootstrap import ModelRows, paired_bootstrap


def _data(seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 2000
    y = rng.random(n) < 0.2
    p = np.clip(np.round(rng.beta(1, 4, n) + 0.25 * y, 2), 0, 1)  # ties, exact 0
    codes = rng.choice(3, n, p=[0.7, 0.25, 0.05])
    return y, p, codes


def test_net_benefit_equals_the_formula_at_every_threshold_and_group() -> None:
    y, p, codes = _data()
    t = us.threshold_grid(0.01, 0.99, 0.01)
    assert t.size == 99 and t[0] == 0.01 and t[-1] == 0.99
    cc = us.curve_counts(codes, 3, y, t, p, p >= 0.5)
    nb = us.net_benefit(cc, t)
    ta = us.treat_all(cc, t)
    for g in range(3):
        yy, pp = y[codes == g], p[codes == g]
        n = yy.size
        for j, tj in enumerate(t):
            tp = np.sum((pp >= tj) & yy)
            fp = np.sum((pp >= tj) & ~yy)
            assert nb[g, j] == pytest.approx(tp / n - fp / n * tj / (1 - tj), abs=1e-12)
            prev = yy.mean()
            assert ta[g, j] == pytest.approx(prev - (1 - prev) * tj / (1 - tj), abs=1e-12)


def test_a_fixed_rule_has_the_net_benefit_of_its_one_decision() -> None:
    y, p, codes = _data(6)
    t = us.threshold_grid(0.05, 0.5, 0.05)
    rule = p >= 0.3
    cc = us.curve_counts(codes, 3, y, t, None, rule)
    nb = us.net_benefit(cc, t)
    tp = np.sum(rule & y)
    fp = np.sum(rule & ~y)
    whole = us.curve_counts(np.zeros_like(codes), 1, y, t, None, rule)
    np.testing.assert_allclose(us.net_benefit(whole, t)[0], tp / y.size - fp / y.size * t / (1 - t))
    assert nb.shape == (3, t.size)


def test_operating_point_figures() -> None:
    y = np.array([1, 1, 0, 0, 0, 1, 0, 0], dtype=bool)
    flagged = np.array([1, 0, 1, 0, 0, 1, 1, 1], dtype=bool)
    codes = np.zeros(8, dtype=int)
    fig = us.operating_point(codes, 1, y, flagged).figures()
    assert fig["flagged_per_100"][0] == pytest.approx(100 * 5 / 8)
    assert fig["events_caught_per_100"][0] == pytest.approx(100 * 2 / 8)
    assert fig["number_needed_to_evaluate"][0] == pytest.approx(5 / 2)  # 1/PPV
    assert fig["ppv"][0] == pytest.approx(2 / 5)
    assert fig["sensitivity"][0] == pytest.approx(2 / 3)


def test_top_k_threshold_flags_k_of_n() -> None:
    rng = np.random.default_rng(1)
    s = rng.random(1000)
    thr = us.top_k_threshold(s, 0.1)
    assert np.sum(s >= thr) == 100
    tied = np.repeat([0.1, 0.5, 0.9], [500, 400, 100])
    assert np.sum(tied >= us.top_k_threshold(tied, 0.15)) == 500  # ties all flagged
    assert us.top_k_threshold(s, 0.0) == np.inf


def test_paired_bootstrap_estimates_equal_sklearn_and_intervals_bracket_them() -> None:
    y, p, codes = _data(8)
    rng = np.random.default_rng(2)
    q = np.clip(p + rng.normal(scale=0.1, size=p.size), 0, 1)
    models = [
        ModelRows(flag=p >= 0.4, nb_flag=p >= 0.2, prob=p),
        ModelRows(flag=q >= 0.4, nb_flag=q >= 0.2, prob=q),
    ]
    boot = paired_bootstrap(codes, 3, y, models, 0.2, 400, np.random.default_rng(3),
                            lambda: False)
    for g in range(3):
        m = codes == g
        assert boot.estimates["brier"][g, 0] == pytest.approx(brier_score_loss(y[m], p[m]))
        assert boot.estimates["brier"][g, 1] == pytest.approx(brier_score_loss(y[m], q[m]))
        assert boot.estimates["calibration_in_the_large"][g, 0] == pytest.approx(
            abs(p[m].mean() - y[m].mean()))
        tp = np.sum((p[m] >= 0.2) & y[m])
        fp = np.sum((p[m] >= 0.2) & ~y[m])
        assert boot.estimates["net_benefit"][g, 0] == pytest.approx(
            tp / m.sum() - fp / m.sum() * 0.25)
        flag = p[m] >= 0.4
        assert boot.estimates["ppv"][g, 0] == pytest.approx(np.sum(flag & y[m]) / flag.sum())
    d, lo, hi, pv, _reasons = boot.difference("brier", 0, 1, 0.95)
    assert np.all((lo <= d) & (d <= hi))
    # the identical model against itself: every replicate difference is 0 → no interval
    same = paired_bootstrap(codes, 3, y, [models[0], models[0]], 0.2, 200,
                            np.random.default_rng(3), lambda: False)
    d, lo, hi, pv, reasons = same.difference("brier", 0, 1, 0.95)
    assert np.all(d == 0) and np.all(np.isnan(lo)) and all(r for r in reasons)
