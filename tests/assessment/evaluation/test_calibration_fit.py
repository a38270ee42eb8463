"""Logistic recalibration fits against statsmodels' GLM (Binomial, logit link) and
scikit-learn's unpenalised LogisticRegression (C = inf, i.e. penalty=None): equal to 1e-6
wherever the maximum-likelihood estimate exists (over-confident scores, predictions of exactly
0 or 1, tiny groups), and the cases where it does not (separation, constant scores, one class)
named for what they are."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression

from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.metrics import (
    CONSTANT_SCORE,
    LOGIT_EPS,
    SEPARATED,
    build_groupings,
    logit,
    recalibrate,
)
from assessment.evaluation.result import EvaluationResult
from assessment.evaluation.spec import EvaluationSpec


def _inputs(y: np.ndarray, score: np.ndarray, codes: np.ndarray, k: int) -> EvaluationInput:
    attr = Attribute("g", codes.astype(np.int32), tuple(f"G{i}" for i in range(k)))
    return EvaluationInput(
        y.astype(bool),
        score,
        None,
        "probability",
        (attr,),
        Provenance("t.csv", "0" * 64, y.size, y.size),
    )


def _evaluate(y: np.ndarray, score: np.ndarray, codes: np.ndarray, k: int) -> EvaluationResult:
    return evaluate(_inputs(y, score, codes, k), EvaluationSpec(bootstrap=0))


def _glm(y: np.ndarray, x: np.ndarray) -> tuple[float, float, float]:
    """(intercept of the offset model, a, b) by statsmodels' IRLS to its tightest tolerance."""
    fam = sm.families.Binomial()
    off = sm.GLM(y, np.ones((y.size, 1)), family=fam, offset=x).fit(tol=1e-13, maxiter=200)
    sl = sm.GLM(y, sm.add_constant(x), family=fam).fit(tol=1e-13, maxiter=200)
    return float(off.params[0]), float(sl.params[0]), float(sl.params[1])


def _sklearn_slope(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    lr = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x[:, None], y)
    return float(lr.intercept_[0]), float(lr.coef_[0, 0])


def _scenario(name: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, score, group codes) of one design; three groups of different sizes."""
    n = 6000
    codes = rng.choice(3, n, p=[0.6, 0.37, 0.03])
    lin = rng.normal(-1.2, 1.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(float)
    if name == "over-confident":  # score = expit(4·lin): true slope 0.25
        score = 1 / (1 + np.exp(-4 * lin))
    elif name == "exact 0 and 1":
        score = 1 / (1 + np.exp(-lin))
        flip = rng.random(n) < 0.01
        score[flip] = np.where(rng.random(flip.sum()) < 0.5, 0.0, 1.0)
    elif name == "skewed":
        score = rng.beta(0.4, 3.0, n) * 0.5 + 0.5 * (1 / (1 + np.exp(-lin)))
    else:
        raise AssertionError(name)
    return y, score, codes


@pytest.mark.parametrize("name", ["over-confident", "exact 0 and 1", "skewed"])
def test_fits_equal_statsmodels_glm_and_sklearn(name: str) -> None:
    rng = np.random.default_rng({"over-confident": 1, "exact 0 and 1": 2, "skewed": 3}[name])
    y, score, codes = _scenario(name, rng)
    res = _evaluate(y, score, codes, 3)
    x = logit(score)  # the documented clipping to [1e-10, 1 − 1e-10]
    for label, rows in [("All", np.ones(y.size, bool))] + [(f"G{g}", codes == g) for g in range(3)]:
        m = (res.overall if label == "All" else res.group("g", label)).metrics
        alpha, a, b = _glm(y[rows], x[rows])
        assert m["calibration_intercept"].value == pytest.approx(alpha, abs=1e-6), label
        assert m["calibration_slope"].value == pytest.approx(b, abs=1e-6), label
        a_sk, b_sk = _sklearn_slope(y[rows], x[rows])
        assert m["calibration_slope"].value == pytest.approx(b_sk, abs=1e-6), label
        assert a_sk == pytest.approx(a, abs=1e-6)
    if name == "over-confident":
        assert res.overall.metrics["calibration_slope"].value == pytest.approx(0.25, abs=0.03)


def test_whole_population_slope_with_a_few_exact_zeros_and_ones() -> None:
    """The issue's case: a handful of predictions of exactly 0 or 1 (clipped to 1e-10 from the
    bounds) made the undamped fit oscillate; the MLE exists and is found."""
    rng = np.random.default_rng(3)
    n = 20_000
    lin = rng.normal(-1.0, 1.5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(float)
    score = 1 / (1 + np.exp(-lin))
    score[:6] = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    y[:6] = [1, 0, 1, 0, 1, 0]  # events at p = 0 and non-events at p = 1
    res = _evaluate(y, score, np.zeros(n, int), 1)
    alpha, _, b = _glm(y, logit(score))
    assert res.overall.metrics["calibration_slope"].value == pytest.approx(b, abs=1e-6)
    assert res.overall.metrics["calibration_intercept"].value == pytest.approx(alpha, abs=1e-6)
    assert 0 < b < 1  # the ±23 logits drag the slope down; it is finite
    note = next(t for t in res.notes if t.startswith("calibration:"))
    assert "6 predicted probabilities of exactly 0 or 1" in note


def test_clip_note_counts_exact_bounds_apart_from_near_ones() -> None:
    y = np.r_[np.ones(50), np.zeros(50)]
    score = np.full(100, 0.4)
    score[0], score[1], score[2] = 0.0, 1.0, 1e-12
    score[50:60] = np.linspace(0.05, 0.6, 10)
    res = _evaluate(y, score, np.zeros(100, int), 1)
    note = next(t for t in res.notes if t.startswith("calibration:"))
    assert "2 predicted probabilities of exactly 0 or 1" in note
    assert "1 other within 1e-10" in note


def test_tiny_groups_fit_where_the_mle_exists() -> None:
    # 5 rows with overlapping scores: the MLE exists; statsmodels agrees
    y = np.array([1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0], float)
    score = np.array([0.7, 0.6, 0.4, 0.5, 0.2, 0.3, 0.8, 0.9, 0.1, 0.35, 0.45, 0.55])
    codes = np.r_[np.zeros(5, int), np.ones(7, int)]
    res = _evaluate(y, score, codes, 2)
    x = logit(score)
    for g in (0, 1):
        rows = codes == g
        alpha, _, b = _glm(y[rows], x[rows])
        m = res.group("g", f"G{g}").metrics
        assert m["calibration_slope"].value == pytest.approx(b, abs=1e-6)
        assert m["calibration_intercept"].value == pytest.approx(alpha, abs=1e-6)


def test_separation_and_constant_scores_have_their_own_reasons() -> None:
    rng = np.random.default_rng(8)
    n = 900
    codes = np.repeat(np.arange(3), 300)
    y = (rng.random(n) < 0.3).astype(float)
    score = np.clip(rng.beta(2, 5, n) + 0.2 * y, 0, 1)
    score[:300] = np.where(y[:300] == 1, 0.8, 0.2)  # G0 complete separation
    score[300:600] = 0.25  # G1 constant
    score[300] = 0.25 if y[300] else 0.25
    res = _evaluate(y, score, codes, 3)
    g0, g1, g2 = (res.group("g", f"G{g}").metrics for g in range(3))
    assert g0["calibration_slope"].value is None and g0["calibration_slope"].reason == SEPARATED
    assert g1["calibration_slope"].value is None
    assert g1["calibration_slope"].reason == CONSTANT_SCORE
    # the intercept (offset model) exists in both and equals statsmodels'
    x = logit(score)
    for g, m in ((0, g0), (1, g1)):
        rows = codes == g
        fam = sm.families.Binomial()
        off = sm.GLM(y[rows], np.ones((300, 1)), family=fam, offset=x[rows]).fit(tol=1e-13)
        assert m["calibration_intercept"].value == pytest.approx(off.params[0], abs=1e-6)
        assert m["calibration_intercept"].value is not None
    assert g2["calibration_slope"].value is not None


def test_quasi_complete_separation_is_called_separation() -> None:
    """Ties at the boundary (min over events = max over non-events): statsmodels warns of
    perfect separation; the engine names it."""
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1], float)
    score = np.array([0.1, 0.2, 0.3, 0.5, 0.5, 0.6, 0.7, 0.9])
    res = _evaluate(y, score, np.zeros(8, int), 1)
    assert res.overall.metrics["calibration_slope"].reason == SEPARATED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(y, sm.add_constant(logit(score)), family=sm.families.Binomial()).fit(
            maxiter=200
        )
    assert abs(fit.params[1]) > 20  # statsmodels drifts off towards infinity


def test_intercept_never_depends_on_the_slope_fit() -> None:
    """The same group with and without a second group whose slope is separated gives the same
    intercept, and the overall intercept is unaffected by any group's slope failing."""
    rng = np.random.default_rng(12)
    n = 2000
    lin = rng.normal(-1, 1, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(float)
    score = 1 / (1 + np.exp(-3 * lin))
    codes = (np.arange(n) < 40).astype(int)
    score[:40] = np.where(y[:40] == 1, 0.99, 0.01)
    res = _evaluate(y, score, codes, 2)
    g1 = res.group("g", "G1").metrics
    assert g1["calibration_slope"].value is None and g1["calibration_intercept"].value is not None
    off = sm.GLM(
        y[:40], np.ones((40, 1)), family=sm.families.Binomial(), offset=logit(score[:40])
    ).fit(tol=1e-13)
    assert g1["calibration_intercept"].value == pytest.approx(off.params[0], abs=1e-6)


def test_miscalibrated_data_needs_no_more_passes_than_calibrated() -> None:
    """The speed claim in iteration counts (the seconds are in benchmarks/RESULTS.md): damped
    Newton from the warm start converges in a handful of passes for over-confident scores."""
    rng = np.random.default_rng(5)
    n = 300_000
    lin = rng.normal(-1.5, 1.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(float)
    inp = _inputs(y, 1 / (1 + np.exp(-lin)), np.zeros(n, int), 1)
    gp = build_groupings(inp, ())[0]
    iters = {}
    for name, score in (
        ("calibrated", 1 / (1 + np.exp(-lin))),
        ("over-confident", 1 / (1 + np.exp(-4 * lin))),
    ):
        fit = recalibrate(gp, logit(score), y, np.array([y.sum()]), np.array([n - y.sum()]))
        assert fit.slope_reasons == [None]
        iters[name] = fit.iterations
    assert iters["over-confident"] <= iters["calibrated"] + 1 <= 6, iters
    assert LOGIT_EPS == 1e-10


def _calibration_case(n: int, cluster_size: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    patient = np.arange(n) // cluster_size
    lin = (
        rng.normal(-1.0, 1.0, n)
        + np.repeat(rng.normal(0, 0.7, n // cluster_size + 1), cluster_size)[:n]
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(float)
    score = 1 / (1 + np.exp(-2.0 * lin))  # over-confident: slope ≈ 0.5
    return y, score, patient


@pytest.mark.parametrize("cluster_size", [1, 5])
def test_calibration_intervals_agree_with_statsmodels_robust_wald(cluster_size: int) -> None:
    """In a large group the bootstrap intervals of the intercept and slope match the Wald
    intervals of statsmodels' GLM with the sandwich covariance (HC0; clustered: cov_type
    "cluster"), to 12% of their half-width: the bootstrap carries the random event count and,
    with --cluster, the patients' correlation."""
    n = 20_000
    y, score, patient = _calibration_case(n, cluster_size, 31)
    inp = _inputs(y, score, np.zeros(n, int), 1)
    if cluster_size > 1:
        inp = replace(inp, cluster=patient)
    res = evaluate(inp, EvaluationSpec(bootstrap=2000, seed=4))
    x = logit(score)
    fam = sm.families.Binomial()
    kw = (
        {"cov_type": "HC0"}
        if cluster_size == 1
        else {"cov_type": "cluster", "cov_kwds": {"groups": patient, "use_correction": False}}
    )
    off = sm.GLM(y, np.ones((n, 1)), family=fam, offset=x).fit(tol=1e-12, **kw)
    sl = sm.GLM(y, sm.add_constant(x), family=fam).fit(tol=1e-12, **kw)
    for mid, fit, j in (("calibration_intercept", off, 0), ("calibration_slope", sl, 1)):
        m = res.overall.metrics[mid]
        lo, hi = fit.conf_int(0.05)[j]
        half = (hi - lo) / 2
        assert m.value == pytest.approx(fit.params[j], abs=1e-6)
        assert m.ci_low == pytest.approx(lo, abs=0.12 * half), mid
        assert m.ci_high == pytest.approx(hi, abs=0.12 * half), mid
    if cluster_size > 1:
        assert "patients" in res.overall.metrics["calibration_slope"].method


def test_intercept_converges_for_exact_zero_one_scores_equal_to_the_outcome() -> None:
    """Scores exactly 0/1 that equal the outcome (116 events at 1, 84 non-events at 0): the
    offset model's score equation Σ(y − expit(α + logit(p))) = 0 has a root (≈ ½·log(116/84)
    with p clipped to 1e-10), which statsmodels' GLM with the offset also finds. The residuals
    1 − π near 1e-10 must keep full precision or Newton stalls at rounding noise."""
    y = np.r_[np.ones(116), np.zeros(84)]
    score = y.copy()
    x = logit(score)
    inp = _inputs(y, score, np.zeros(y.size, int), 1)
    gp = build_groupings(inp, ())[0]
    fit = recalibrate(gp, x, y, np.array([116]), np.array([84]))
    assert fit.intercept_reasons == [None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        glm = sm.GLM(y, np.ones((y.size, 1)), family=sm.families.Binomial(), offset=x).fit(
            tol=1e-12, maxiter=1000
        )
    assert abs(fit.intercept[0] - 0.5 * np.log(116 / 84)) < 1e-6
    assert abs(fit.intercept[0] - glm.params[0]) < 1e-4
    # the root of the score equation itself
    resid = y - 1 / (1 + np.exp(-(fit.intercept[0] + x)))
    assert abs(resid.sum()) < 1e-12


@pytest.mark.parametrize("spread", [0.01, 0.002, 0.0005])
def test_a_slope_far_from_1_is_fitted_not_given_up(spread: float) -> None:
    """Nearly constant scores (logit(p) with SD ``spread`` where the outcome's varies with SD
    1): the slope is 1/spread, 100 to 2,000, and the fit exists. A trust region fixed at 8
    logit units per Newton iteration could not get there in 100 iterations (null, "did not
    converge", above a slope of about 400: attack finding); it now widens after each accepted
    cut step. Equal to statsmodels' GLM."""
    rng = np.random.default_rng(4)
    n = 20_000
    z = rng.normal(size=n)
    base = np.log(0.1 / 0.9)
    y = rng.random(n) < 1 / (1 + np.exp(-(base + z)))
    p = 1 / (1 + np.exp(-(base + spread * z)))
    codes = (rng.random(n) < 0.5).astype(np.int32)
    res = _evaluate(y, p, codes, 2)
    x = np.log(p / (1 - p))
    for got, rows in [(res.overall, slice(None)), *((res.groups[g], codes == g) for g in (0, 1))]:
        _, a, b = _glm(y[rows].astype(float), x[rows])
        slope = got.metrics["calibration_slope"]
        assert slope.value is not None, slope.reason
        assert slope.value == pytest.approx(b, rel=1e-6)


def test_an_expected_count_set_by_a_few_predictions_is_noted() -> None:
    """p = expit(4·η) squashes every probability towards 0: Σp is set by a handful of rows and
    the O/E interval under-covers (83–87 % at 2,000 rows, attack finding; no sample-based
    interval can see the missing tail). The notes name the groups; calibrated scores and a
    score over-confident about the prevalence are not named."""
    rng = np.random.default_rng(8)
    n = 4000
    eta = np.log(0.05 / 0.95) - 0.5 + rng.normal(size=n)
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    codes = (rng.random(n) < 0.5).astype(np.int32)
    c = np.log(0.05 / 0.95)
    cases = {
        "squashed": 1 / (1 + np.exp(-4 * eta)),
        "calibrated": 1 / (1 + np.exp(-eta)),
        "over-confident": 1 / (1 + np.exp(-(c + 4 * (eta - c)))),
    }
    for name, p in cases.items():
        notes = [t for t in _evaluate(y, p, codes, 2).notes if t.startswith("O/E:")]
        if name == "squashed":
            assert len(notes) == 1 and "overall (" in notes[0] and "g=G0 (" in notes[0], notes
            p_all = cases[name]
            k = p_all.sum() ** 2 / (p_all**2).sum()
            assert f"overall ({k:,.1f} of 4,000 rows)" in notes[0]
        else:
            assert notes == [], (name, notes)
