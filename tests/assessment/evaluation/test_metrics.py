"""Point estimates equal scikit-learn's and Fairlearn's to 1e-9, on random data with tied scores,
tiny groups and one-class groups (property-based), and undefined values are null, never 0."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq, minimize
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_score,
    roc_auc_score,
)

from assessment.evaluation import calibration as calibration_module
from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.metrics import (
    SortedScores,
    auroc_delong,
    build_groupings,
    confusion_counts,
    stratum_keys,
)
from assessment.evaluation.result import EvaluationResult
from assessment.evaluation.spec import EvaluationSpec

TOL = 1e-9


@st.composite
def datasets(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(y, score, group codes, number of groups) with ties, tiny and one-class groups."""
    n = draw(st.integers(min_value=2, max_value=160))
    k = draw(st.integers(min_value=1, max_value=6))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    distinct = draw(st.sampled_from([2, 5, 20, 1000, 0]))  # 0 = continuous
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(k, 0.4))
    codes = rng.choice(k, size=n, p=weights).astype(np.int32)
    prev = rng.uniform(0.0, 1.0, k)
    prev[rng.random(k) < 0.2] = 0.0  # some groups without positives
    y = rng.random(n) < prev[codes]
    if y.all() or not y.any():
        y[0] = not y[0]
    if distinct:
        score = rng.integers(0, distinct, n) / max(distinct - 1, 1)
    else:
        score = rng.random(n)
    score = np.clip(score + 0.3 * y * rng.random(n), 0, 1)
    if distinct:
        score = np.round(score, 2)
    return y, score, codes, k


def _inputs(y: np.ndarray, score: np.ndarray, codes: np.ndarray, k: int) -> EvaluationInput:
    attr = Attribute("g", codes, tuple(f"G{i}" for i in range(k)))
    return EvaluationInput(y, score, None, "probability", (attr,),
                           Provenance("t.csv", "0" * 64, y.size, y.size))


def _evaluate(y: np.ndarray, score: np.ndarray, codes: np.ndarray, k: int,
              threshold: float = 0.5) -> EvaluationResult:
    spec = EvaluationSpec(threshold=threshold, bootstrap=0)
    return evaluate(_inputs(y, score, codes, k), spec)


def _sk(metric, *args, **kw) -> float:  # noqa: ANN001 - sklearn callables
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(metric(*args, **kw))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets(), st.sampled_from([0.0, 0.3, 0.5, 0.51, 1.0]))
def test_point_estimates_equal_sklearn(data, threshold: float) -> None:  # noqa: ANN001
    y, score, codes, k = data
    res = _evaluate(y, score, codes, k, threshold)
    pred = score >= threshold
    for g in range(k):
        rows = codes == g
        entry = res.group("g", f"G{g}")
        m = entry.metrics
        yt, yp, sc = y[rows], pred[rows], score[rows]
        assert entry.n == rows.sum() and entry.n_pos == yt.sum()
        if rows.sum() == 0:
            assert all(v.value is None and v.reason for v in m.values())
            continue
        tn, fp, fn, tp = confusion_matrix(yt, yp, labels=[False, True]).ravel()
        n_pos, n_neg = tp + fn, tn + fp
        _check(m["tpr"].value, tp / n_pos if n_pos else None)
        _check(m["fnr"].value, fn / n_pos if n_pos else None)
        _check(m["fpr"].value, fp / n_neg if n_neg else None)
        _check(m["tnr"].value, tn / n_neg if n_neg else None)
        _check(m["ppv"].value, _sk(precision_score, yt, yp, zero_division=np.nan)
               if tp + fp else None)
        _check(m["npv"].value, tn / (tn + fn) if tn + fn else None)
        _check(m["selection_rate"].value, yp.mean())
        _check(m["prevalence"].value, yt.mean())
        _check(m["accuracy"].value, accuracy_score(yt, yp))
        _check(m["f1"].value, _sk(f1_score, yt, yp, zero_division=np.nan)
               if 2 * tp + fp + fn else None)
        _check(m["balanced_accuracy"].value,
               _sk(balanced_accuracy_score, yt, yp) if n_pos and n_neg else None)
        _check(m["brier"].value, brier_score_loss(yt, sc, labels=[False, True]))
        _check(m["auroc"].value, roc_auc_score(yt, sc) if n_pos and n_neg else None)
        for mid, v in m.items():
            if v.value is None:
                assert v.reason, mid


def _check(ours: float | None, theirs: float | None) -> None:
    if theirs is None or (isinstance(theirs, float) and np.isnan(theirs)):
        assert ours is None
    else:
        assert ours is not None
        assert abs(ours - float(theirs)) <= TOL, (ours, theirs)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets())
def test_point_estimates_equal_fairlearn_metricframe(data) -> None:  # noqa: ANN001
    y, score, codes, k = data
    res = _evaluate(y, score, codes, k)
    pred = score >= 0.5
    labels = np.array([f"G{i}" for i in range(k)])[codes]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = MetricFrame(
            metrics={
                "tpr": true_positive_rate,
                "fpr": false_positive_rate,
                "tnr": true_negative_rate,
                "fnr": false_negative_rate,
                "selection_rate": selection_rate,
                "accuracy": accuracy_score,
            },
            y_true=y,
            y_pred=pred,
            sensitive_features=labels,
        )
        by_group = mf.by_group
    for label, row in by_group.iterrows():
        entry = res.group("g", str(label))
        for mid in ("selection_rate", "accuracy"):
            assert abs(entry.metrics[mid].value - row[mid]) <= TOL
        if entry.n_pos:
            for mid in ("tpr", "fnr"):
                assert abs(entry.metrics[mid].value - row[mid]) <= TOL
        else:
            assert entry.metrics["tpr"].value is None  # Fairlearn reports 0 here
        if entry.n_neg:
            for mid in ("fpr", "tnr"):
                assert abs(entry.metrics[mid].value - row[mid]) <= TOL
        else:
            assert entry.metrics["fpr"].value is None
    overall = mf.overall
    for mid in ("tpr", "fpr", "selection_rate", "accuracy"):
        assert abs(res.overall.metrics[mid].value - overall[mid]) <= TOL


def test_summary_measures_equal_fairlearn() -> None:
    rng = np.random.default_rng(12)
    n, k = 3000, 4
    codes = rng.integers(0, k, n).astype(np.int32)
    y = rng.random(n) < 0.2 + 0.1 * codes
    score = np.round(np.clip(rng.random(n) * 0.7 + 0.3 * y - 0.05 * codes, 0, 1), 3)
    res = _evaluate(y, score, codes, k)
    pred = score >= 0.5
    summary = {s.measure: s.value for s in res.summary if s.attribute == "g"}
    sf = codes
    assert abs(summary["equalized_odds_difference"]
               - equalized_odds_difference(y, pred, sensitive_features=sf)) <= TOL
    assert abs(summary["demographic_parity_difference"]
               - demographic_parity_difference(y, pred, sensitive_features=sf)) <= TOL
    assert abs(summary["demographic_parity_ratio"]
               - demographic_parity_ratio(y, pred, sensitive_features=sf)) <= TOL
    assert abs(summary["equal_opportunity_difference"]
               - equal_opportunity_difference(y, pred, sensitive_features=sf)) <= TOL
    aucs = [roc_auc_score(y[codes == g], score[codes == g]) for g in range(k)]
    assert abs(summary["auroc_gap"] - (max(aucs) - min(aucs))) <= TOL


def _delong_naive(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """DeLong et al. (1988) by the O(n1·n0) definition."""
    pos, neg = s[y], s[~y]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    auc = psi.mean()
    v10 = psi.mean(axis=1)
    v01 = psi.mean(axis=0)
    var = v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size
    return float(auc), float(var)


@settings(max_examples=60, deadline=None)
@given(datasets())
def test_delong_variance_equals_definition(data) -> None:  # noqa: ANN001
    y, score, codes, k = data
    inp = _inputs(y, score, codes, k)
    gp = build_groupings(inp, ())[1]
    c = confusion_counts(gp, stratum_keys(gp, y), score >= 0.5)
    res = auroc_delong(gp, SortedScores.build(score, y), c.n_pos, c.n_neg)
    for g in range(k):
        rows = codes == g
        if y[rows].sum() >= 2 and (~y[rows]).sum() >= 2:
            auc, var = _delong_naive(y[rows], score[rows])
            assert abs(res.auc[g] - auc) <= TOL
            assert abs(res.var[g] - var) <= TOL
        else:
            assert not np.isfinite(res.var[g])


def test_roc_curve_and_threshold_grid_are_consistent() -> None:
    rng = np.random.default_rng(3)
    n = 500
    codes = rng.integers(0, 2, n).astype(np.int32)
    y = rng.random(n) < 0.4
    score = np.round(rng.random(n) * 0.6 + 0.4 * y, 2)
    res = _evaluate(y, score, codes, 2)
    grid = res.threshold_grid
    t = grid["thresholds"]
    assert t[0] == 0.0 and t[-1] == 1.0
    entry = next(e for e in grid["groups"] if e["group"] == "G1")
    j = t.index(0.5)
    g1 = res.group("g", "G1").metrics
    assert entry["tpr"][j] == pytest.approx(g1["tpr"].value, abs=TOL)
    assert entry["fpr"][j] == pytest.approx(g1["fpr"].value, abs=TOL)
    roc = res.group("g", "G1").curves["roc"]
    assert roc["fpr"][0] == 0.0 and roc["tpr"][0] == 0.0
    assert roc["fpr"][-1] == 1.0 and roc["tpr"][-1] == 1.0
    assert all(b >= a for a, b in zip(roc["fpr"], roc["fpr"][1:], strict=False))
    rel = res.group("g", "G0").curves["reliability"]
    rows = (codes == 0) & (score < 0.1)
    assert rel["count"][0] == rows.sum()
    assert rel["observed"][0] == pytest.approx(y[rows].mean())


def _nll_slope(beta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    eta = beta[0] + beta[1] * x
    return float(np.sum(np.logaddexp(0, eta) - y * eta))


@pytest.mark.parametrize("warm_start_rows", [50_000, 200])
def test_logistic_recalibration_equals_direct_maximum_likelihood(
    warm_start_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also with the subsample warm start of large overall fits (forced here by a small
    WARM_START_ROWS): the final estimates solve the full-data equations either way."""
    monkeypatch.setattr(calibration_module, "WARM_START_ROWS", warm_start_rows)
    rng = np.random.default_rng(21)
    n = 3000
    codes = rng.integers(0, 3, n).astype(np.int32)
    true_logit = rng.normal(-0.7, 1.2, n)
    y = rng.random(n) < 1 / (1 + np.exp(-true_logit))
    # group 1 over-confident, group 2 shifted: known recalibration patterns
    model_logit = np.where(codes == 1, 2 * true_logit, true_logit) + np.where(codes == 2, 0.5, 0)
    score = 1 / (1 + np.exp(-model_logit))
    res = _evaluate(y, score, codes, 3)
    for g in range(3):
        rows = codes == g
        x = np.log(score[rows] / (1 - score[rows]))
        yy = y[rows].astype(float)
        fit = minimize(_nll_slope, np.array([0.0, 1.0]), args=(x, yy), method="BFGS",
                       options={"gtol": 1e-10})
        alpha = brentq(lambda a, x=x, yy=yy: np.sum(1 / (1 + np.exp(-(a + x)))) - yy.sum(),
                       -10, 10, xtol=1e-14)
        m = res.group("g", f"G{g}").metrics
        assert m["calibration_slope"].value == pytest.approx(fit.x[1], abs=1e-6)
        assert m["calibration_intercept"].value == pytest.approx(alpha, abs=1e-8)
        assert m["oe_ratio"].value == pytest.approx(yy.sum() / score[rows].sum(), abs=TOL)
    slopes = [res.group("g", f"G{g}").metrics["calibration_slope"].value for g in range(3)]
    assert slopes[1] == pytest.approx(0.5, abs=0.1)
    assert res.group("g", "G2").metrics["calibration_intercept"].value == pytest.approx(
        -0.5, abs=0.15)
    x_all = np.log(score / (1 - score))
    fit_all = minimize(_nll_slope, np.array([0.0, 1.0]), args=(x_all, y.astype(float)),
                       method="BFGS", options={"gtol": 1e-10})
    assert res.overall.metrics["calibration_slope"].value == pytest.approx(fit_all.x[1], abs=1e-6)


def test_separated_group_has_no_calibration_fit() -> None:
    rng = np.random.default_rng(4)
    n = 400
    codes = (np.arange(n) < 60).astype(np.int32)  # group 1: 60 perfectly separated rows
    y = rng.random(n) < 0.4
    score = np.clip(rng.random(n) * 0.8 + 0.1 * y, 0.01, 0.99)
    score[:60] = np.where(y[:60], 0.9, 0.1)
    res = _evaluate(y, score, codes, 2)
    m = res.group("g", "G1").metrics
    assert m["calibration_slope"].value is None
    assert "separat" in (m["calibration_slope"].reason or "")
    assert m["auroc"].value == 1.0
    assert res.group("g", "G0").metrics["calibration_slope"].value is not None


@pytest.mark.parametrize("shift", [0.0, -0.5])
def test_sorted_scores_order_every_score_with_its_outcome(shift: float) -> None:
    """The score sort (bit patterns for non-negative scores, the doubles otherwise) gives the
    ascending scores with their own outcomes: ties, exact 0 and 1, −0.0 beside 0.0."""
    from assessment.evaluation.auroc import SortedScores

    rng = np.random.default_rng(11)
    score = np.round(rng.random(20_000), 3) + shift
    score[:4] = [0.0, -0.0, 1.0, 0.0]
    y = rng.random(score.size) < 0.3
    ss = SortedScores.build(score, y)
    assert np.array_equal(np.sort(np.unique(ss.order)), np.arange(score.size))
    assert np.array_equal(ss.score, np.sort(score))
    assert np.all(ss.score[1:] >= ss.score[:-1])
    assert np.array_equal(ss.y, y[ss.order]) and ss.has_ties
    # the outcomes of each tie block are those of its scores, whatever the order within it
    for value in (0.0, 0.5 + shift, 1.0):
        assert np.sort(ss.y[ss.score == value]).tolist() == np.sort(y[score == value]).tolist()
