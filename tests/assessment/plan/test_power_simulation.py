"""``plan check`` power against seeded simulations of the intervals the engine computes.

Design as in real validation data: the number of events is random (outcomes drawn per row), the
scores are skewed, and the verdict is read from the engine's own interval functions (Wilson,
Newcombe, the logit DeLong interval). Each analytic power must be within 2 percentage points of
the simulated pass rate (Monte-Carlo SE ≤ 0.8 points with 4,000 replicates).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit, logit
from scipy.stats import norm

from assessment.evaluation.auroc_ci import auroc_interval
from assessment.evaluation.intervals import katz, newcombe, wilson
from assessment.plan.model import SCHEMA, Plan
from assessment.plan.power import (
    GroupSize,
    binormal_q,
    hanley_mcneil_var,
    model_for,
    plan_power,
    slope_se,
)

TOL = 0.02


def one_gate(gate: dict[str, object], **top: object) -> Plan:
    return Plan.from_json(
        {"schema": SCHEMA, "title": "t", "outcome": "y", "score": "p", "attributes": ["g"],
         "references": {"g": "R"}, "min_group_size": 10, **top, "gates": [gate]}
    )  # fmt: skip


def analytic(plan: Plan, sizes: dict[tuple[str, str], GroupSize], theta: float) -> float:
    gate = plan.gates[0]
    z = float(norm.ppf(0.5 + plan_power(plan, sizes).level / 2))
    g = sizes[("g", "A")] if gate.groups != "overall" else sizes[("(all)", "All")]
    model = model_for(gate, z, g, sizes.get(("g", "R")), gate.assume_reference)
    assert not isinstance(model, str), model
    return model.power(theta)


def test_auroc_variances_by_hand() -> None:
    """Hanley & McNeil's exponential Q's at A = 0.8, n1 = n0 = 50, by hand: Q1 = 2/3,
    Q2 = 1.28/1.8, Var = (0.16 + 49(Q1 − 0.64) + 49(Q2 − 0.64))/2500; the binormal Q at
    A = 0.8 is Φ2(0.8416, 0.8416; ½) ≈ 0.6872 (Owen's T value, 4 decimals)."""
    by_hand = (0.16 + 49 * (2 / 3 - 0.64) + 49 * (1.28 / 1.8 - 0.64)) / 2500
    assert hanley_mcneil_var(0.8, 50, 50) == pytest.approx(by_hand, rel=1e-12)
    assert binormal_q(0.8) == pytest.approx(0.6872, abs=2e-4)
    assert binormal_q(0.5) == pytest.approx(1 / 3, abs=1e-4)  # Φ2(0, 0; ½) = 1/4 + asin(½)/2π


@pytest.mark.slow
@pytest.mark.parametrize("theta", [0.70, 0.74, 0.78])
def test_tpr_power_with_random_event_counts(theta: float) -> None:
    rng = np.random.default_rng(int(theta * 1000))
    n, phi, reps = 600, 0.3, 4000
    plan = one_gate({"id": "G", "metric": "tpr", "attribute": "g", "groups": ["A"],
                     "criterion": {"at_least": 0.65}})  # fmt: skip
    sizes = {("g", "A"): GroupSize(n, n * phi)}
    level = plan_power(plan, sizes).level
    events = rng.binomial(n, phi, reps)  # random event counts, as in real data
    tp = rng.binomial(events, theta)
    lo, _ = wilson(tp.astype(float), events.astype(float), level)
    simulated = float((lo >= 0.65).mean())
    assert analytic(plan, sizes, theta) == pytest.approx(simulated, abs=TOL)


@pytest.mark.slow
@pytest.mark.parametrize("gap", [0.0, 0.03])
def test_tpr_difference_power_against_newcombe(gap: float) -> None:
    rng = np.random.default_rng(5 + int(gap * 100))
    n1, n0, phi, p0, reps = 800, 1500, 0.35, 0.7, 4000
    plan = one_gate({"id": "G", "metric": "tpr", "attribute": "g", "groups": ["A"],
                     "versus": "reference", "criterion": {"difference_between": [-0.1, 0.1]},
                     "assume_reference": p0})  # fmt: skip
    sizes = {("g", "A"): GroupSize(n1, n1 * phi), ("g", "R"): GroupSize(n0, n0 * phi)}
    level = plan_power(plan, sizes).level
    e1, e0 = rng.binomial(n1, phi, reps), rng.binomial(n0, phi, reps)
    k1, k0 = rng.binomial(e1, p0 + gap), rng.binomial(e0, p0)
    _, lo, hi = newcombe(k1, e1, k0, e0, level)
    simulated = float(((lo >= -0.1) & (hi <= 0.1)).mean())
    assert analytic(plan, sizes, gap) == pytest.approx(simulated, abs=TOL)


@pytest.mark.slow
@pytest.mark.parametrize("ratio", [1.0, 1.1])
def test_fpr_ratio_power_against_katz(ratio: float) -> None:
    """FPR ratio to the reference with the engine's Katz log interval, random non-event counts."""
    rng = np.random.default_rng(int(ratio * 10))
    n1, n0, phi, p0, reps = 1500, 4000, 0.3, 0.2, 4000
    plan = one_gate({"id": "G", "metric": "fpr", "attribute": "g", "groups": ["A"],
                     "versus": "reference", "criterion": {"ratio_between": [0.75, 1.33]},
                     "assume_reference": p0}, multiplicity="none")  # fmt: skip
    sizes = {("g", "A"): GroupSize(n1, n1 * phi), ("g", "R"): GroupSize(n0, n0 * phi)}
    level = plan_power(plan, sizes).level
    d1, d0 = rng.binomial(n1, 1 - phi, reps), rng.binomial(n0, 1 - phi, reps)
    k1, k0 = rng.binomial(d1, p0 * ratio), rng.binomial(d0, p0)
    _, lo, hi = katz(k1, d1, k0, d0, level)
    simulated = float(((lo >= 0.75) & (hi <= 1.33)).mean())
    assert analytic(plan, sizes, ratio) == pytest.approx(simulated, abs=TOL)


def _delong(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """DeLong (1988) AUROC and variance from the placement values, written from the paper
    (continuous scores: no ties)."""
    pos, neg = np.sort(s[y == 1]), np.sort(s[y == 0])
    v10 = np.searchsorted(neg, pos) / len(neg)  # share of non-events below each event
    v01 = (len(pos) - np.searchsorted(pos, neg, side="right")) / len(pos)
    a = float(v10.mean())
    return a, float(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg))


@pytest.mark.slow
@pytest.mark.parametrize("theta", [0.76, 0.80])
def test_auroc_power_against_the_delong_logit_interval(theta: float) -> None:
    """Binormal scores (equal variances: AUROC = Φ(δ/√2)), random event counts; the engine's
    DeLong interval on the logit scale (≥ 50 events and non-events)."""
    rng = np.random.default_rng(int(theta * 100))
    n, phi, reps = 500, 0.3, 5000
    plan = one_gate({"id": "G", "metric": "auroc", "groups": "overall",
                     "criterion": {"at_least": 0.72}}, multiplicity="none")  # fmt: skip
    sizes = {("(all)", "All"): GroupSize(n, n * phi)}
    level = plan_power(plan, sizes).level
    delta = math.sqrt(2) * norm.ppf(theta)
    passed = 0
    for _ in range(reps):
        y = (rng.random(n) < phi).astype(int)
        s = rng.normal(0, 1, n) + delta * y
        a, var = _delong(y, s)
        lo, _, _ = auroc_interval(
            np.array([a]), np.array([var]), np.array([y.sum()]), np.array([n - y.sum()]), level
        )
        passed += bool(lo[0] >= 0.72)
    # Hanley-McNeil's variance is exact for exponential scores; for binormal scores it differs
    # by a few per cent, well inside the 2-point tolerance here.
    assert analytic(plan, sizes, theta) == pytest.approx(passed / reps, abs=TOL)


@pytest.mark.slow
@pytest.mark.parametrize("oe", [0.95, 1.05])
def test_oe_power_with_skewed_scores(oe: float) -> None:
    """Over-confident, right-skewed probabilities (Beta(0.6, 2.4), some exact 0/1 clipped),
    outcomes y ~ Bernoulli(min(1, oe·p)); ln(O/E) with its plug-in SE from the data."""
    rng = np.random.default_rng(int(oe * 100))
    n, reps = 1200, 4000
    p = np.clip(rng.beta(0.6, 2.4, n), 0, 1)
    p[:5] = 0.0
    lp = logit(np.clip(p, 1e-6, 1 - 1e-6))
    plan = one_gate({"id": "G", "metric": "oe_ratio", "groups": "overall",
                     "criterion": {"at_least": 0.85}},
                    multiplicity="none")  # fmt: skip
    sizes = {("(all)", "All"): GroupSize(n, float(p.sum()), lp)}
    level = plan_power(plan, sizes).level
    z = norm.ppf(0.5 + level / 2)
    q = np.clip(oe * expit(lp), 0, 1)
    expected = float(expit(lp).sum())
    y = rng.random((reps, n)) < q
    observed = y.sum(axis=1)
    ln_oe = np.log(observed / expected)
    se = math.sqrt(float((q * (1 - q)).sum())) / expected
    simulated = float((ln_oe - z * se >= math.log(0.85)).mean())
    assert analytic(plan, sizes, oe) == pytest.approx(simulated, abs=TOL)


def _slope_fit(y: np.ndarray, lp: np.ndarray) -> tuple[float, float]:
    """Logistic recalibration slope by Newton-Raphson and its model-based SE."""
    x = np.column_stack([np.ones_like(lp), lp])
    b = np.zeros(2)
    for _ in range(25):
        p = expit(x @ b)
        info = x.T @ (x * (p * (1 - p))[:, None])
        b = b + np.linalg.solve(info, x.T @ (y - p))
    p = expit(x @ b)
    info = x.T @ (x * (p * (1 - p))[:, None])
    return float(b[1]), float(math.sqrt(np.linalg.inv(info)[1, 1]))


@pytest.mark.slow
def test_calibration_slope_power_and_riley_se() -> None:
    rng = np.random.default_rng(2021)
    n, reps = 800, 1500
    lp = rng.normal(-1.2, 1.1, n)  # a fixed cohort of linear predictors
    plan = one_gate({"id": "G", "metric": "calibration_slope", "groups": "overall",
                     "criterion": {"at_least": 0.8}}, multiplicity="none")  # fmt: skip
    sizes = {("(all)", "All"): GroupSize(n, float(expit(lp).sum()), lp)}
    level = plan_power(plan, sizes).level
    z = norm.ppf(0.5 + level / 2)
    slopes, passed = [], 0
    for _ in range(reps):
        y = (rng.random(n) < expit(lp)).astype(float)
        b, se = _slope_fit(y, lp)
        slopes.append(b)
        passed += bool(b - z * se >= 0.8)
    assert float(np.std(slopes)) == pytest.approx(slope_se(lp), rel=0.06)
    assert analytic(plan, sizes, 1.0) == pytest.approx(passed / reps, abs=TOL)
