"""AUROC of a group against a reference group: MOVER (Zou & Donner 2008) difference and MOVER-R
(Donner & Zou 2012) ratio from each group's own AUROC interval, with the p-value that inverts the
difference's interval.

Everything is recomputed here from the papers, independently of the engine's code: the AUROC and
DeLong's (1988) variance from the full n₁ × n₀ matrix of pairwise comparisons (AUROC checked
against scikit-learn), each group's interval by Newcombe's (2006) method 5 (the Hanley–McNeil
variance with N* = (n₁ + n₀)/2 − 1, limits as roots found by Brent's method, not bisection) below
50 events or non-events and by DeLong on the logit scale above, the MOVER limits
L = d − √((θ₁ − l₁)² + (u₂ − θ₂)²), U = d + √((u₁ − θ₁)² + (θ₂ − l₂)²), the MOVER-R closed form,
and the p-value as the z at which the MOVER limit reaches 0 (Brent's method again).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import expit, logit
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.spec import EvaluationSpec, ReferenceSpec

SWITCH = 50  # events or non-events: below, Newcombe's score interval; from here on, logit DeLong


def _delong(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """AUROC and DeLong's variance from the pairwise comparison matrix ψ (ties ½)."""
    pos, neg = s[y], s[~y]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return float(psi.mean()), float(v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size)


def _group_interval(y: np.ndarray, s: np.ndarray, z: float) -> tuple[float, float, float]:
    """(AUROC, low, high) of one group as the engine documents it, written from the papers."""
    a, var = _delong(y, s)
    n1, n0 = int(y.sum()), int((~y).sum())
    if min(n1, n0) >= SWITCH and 0 < a < 1 and var > 0:
        half = z * np.sqrt(var) / (a * (1 - a))
        return a, float(expit(logit(a) - half)), float(expit(logit(a) + half))
    ns = (n1 + n0) / 2 - 1

    def gap(t: float) -> float:
        v = t * (1 - t) / (n1 * n0) * (1 + ns * ((1 - t) / (2 - t) + t / (1 + t)))
        return (a - t) ** 2 - z * z * v

    lo = 0.0 if a == 0 else brentq(gap, 0.0, a, xtol=1e-15, rtol=1e-15)
    hi = 1.0 if a == 1 else brentq(gap, a, 1.0, xtol=1e-15, rtol=1e-15)
    return a, lo, hi


def _mover_difference(
    g: tuple[float, float, float], r: tuple[float, float, float]
) -> tuple[float, float, float]:
    (t1, l1, u1), (t2, l2, u2) = g, r
    d = t1 - t2
    lo = d - np.sqrt((t1 - l1) ** 2 + (u2 - t2) ** 2)
    hi = d + np.sqrt((u1 - t1) ** 2 + (t2 - l2) ** 2)
    return d, lo, hi


def _mover_r(g: tuple[float, float, float], r: tuple[float, float, float]) -> tuple[float, ...]:
    (t1, l1, u1), (t2, l2, u2) = g, r
    prod = t1 * t2
    r_lo = (prod - np.sqrt(prod**2 - l1 * u2 * (2 * t1 - l1) * (2 * t2 - u2))) / (
        u2 * (2 * t2 - u2)
    )
    r_hi = (prod + np.sqrt(prod**2 - u1 * l2 * (2 * t1 - u1) * (2 * t2 - l2))) / (
        l2 * (2 * t2 - l2)
    )
    return t1 / t2, r_lo, r_hi


def _p_value(yg: np.ndarray, sg: np.ndarray, yr: np.ndarray, sr: np.ndarray) -> float:
    """The two-sided level at which the MOVER difference interval just reaches 0."""

    def limit(z: float) -> float:
        d, lo, hi = _mover_difference(_group_interval(yg, sg, z), _group_interval(yr, sr, z))
        return lo if d > 0 else -hi

    z = brentq(limit, 1e-9, 10.0, xtol=1e-14, rtol=1e-15)
    return float(2 * norm.sf(z))


def _data(
    n: tuple[int, int], prevalence: tuple[float, float], seed: int, ties: bool
) -> EvaluationInput:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(2, dtype=np.int32), n)
    y = rng.random(g.size) < np.where(g == 0, prevalence[0], prevalence[1])
    score = expit(-1.5 + (1.0 + 0.6 * g) * y + rng.normal(0, 1, g.size))
    if ties:
        score = np.round(score, 1)
    return EvaluationInput(
        y,
        score,
        None,
        "probability",
        (Attribute("g", g, ("ref", "other")),),
        Provenance("t", "0" * 64, g.size, g.size),
    )


CASES = [
    ((200, 240), (0.05, 0.06), 1, False),  # ~10 events each: score intervals
    ((150, 150), (0.08, 0.1), 2, True),  # few events, tied scores
    ((600, 700), (0.3, 0.25), 3, False),  # ≥ 50 of each class: logit DeLong
    ((600, 120), (0.3, 0.08), 4, True),  # reference logit DeLong, group score interval
]


@pytest.mark.parametrize(("n", "prevalence", "seed", "ties"), CASES)
def test_auroc_comparison_equals_mover_written_from_the_papers(
    n: tuple[int, int], prevalence: tuple[float, float], seed: int, ties: bool
) -> None:
    inp = _data(n, prevalence, seed, ties)
    res = evaluate(
        inp,
        EvaluationSpec(
            threshold=0.5, bootstrap=0, seed=1, reference=ReferenceSpec("value", {"g": "ref"})
        ),
    )
    y, s, g = inp.y_true, inp.score, inp.attributes[0].codes
    assert s is not None
    z = norm.ppf(0.975)
    own = _group_interval(y[g == 1], s[g == 1], z)
    ref = _group_interval(y[g == 0], s[g == 0], z)
    assert own[0] == pytest.approx(roc_auc_score(y[g == 1], s[g == 1]), abs=1e-12)
    groups = {x.group: x.metrics["auroc"] for x in res.groups_of("g")}
    for mine, label in ((own, "other"), (ref, "ref")):
        m = groups[label]
        assert (m.value, m.ci_low, m.ci_high) == pytest.approx(mine, abs=1e-9)
    d, lo, hi = _mover_difference(own, ref)
    r, r_lo, r_hi = _mover_r(own, ref)
    x = res.disparity("g", "other", "auroc")
    assert "MOVER" in x.difference.method and "MOVER-R" in x.ratio.method
    got = (x.difference.value, x.difference.ci_low, x.difference.ci_high)
    assert got == pytest.approx((d, lo, hi), abs=1e-9)
    got = (x.ratio.value, x.ratio.ci_low, x.ratio.ci_high)
    assert got == pytest.approx((r, r_lo, r_hi), abs=1e-9)
    want_p = _p_value(y[g == 1], s[g == 1], y[g == 0], s[g == 0])
    assert x.p_value == pytest.approx(want_p, abs=1e-9, rel=1e-7)


def test_p_value_below_005_exactly_when_the_interval_excludes_0() -> None:
    agree = 0
    for seed in range(40):
        inp = _data((150, 150), (0.08, 0.12), 100 + seed, seed % 2 == 0)
        spec = EvaluationSpec(
            threshold=0.5, bootstrap=0, seed=1, reference=ReferenceSpec("value", {"g": "ref"})
        )
        x = evaluate(inp, spec).disparity("g", "other", "auroc")
        if x.p_value is None or x.difference.ci_low is None or x.difference.ci_high is None:
            continue
        excludes = x.difference.ci_low > 0 or x.difference.ci_high < 0
        assert (x.p_value < 0.05) == excludes, (seed, x.p_value, x.difference)
        agree += 1
    assert agree >= 35


def test_comparison_with_a_perfectly_separated_group_has_no_interval() -> None:
    """DeLong's variance 0 is no measure of uncertainty: estimate kept, no limits, no p."""
    y = np.r_[np.zeros(30, bool), np.ones(10, bool), np.zeros(30, bool), np.ones(10, bool)]
    rng = np.random.default_rng(5)
    s = np.r_[rng.uniform(0, 0.4, 30), rng.uniform(0.6, 1, 10), rng.uniform(0, 1, 40)]
    g = np.repeat(np.arange(2, dtype=np.int32), 40)
    inp = EvaluationInput(
        y,
        s,
        None,
        "probability",
        (Attribute("g", g, ("sep", "ref")),),
        Provenance("t", "0" * 64, y.size, y.size),
    )
    spec = EvaluationSpec(
        threshold=0.5, bootstrap=0, seed=1, reference=ReferenceSpec("value", {"g": "ref"})
    )
    x = evaluate(inp, spec).disparity("g", "sep", "auroc")
    assert x.difference.value is not None and x.difference.ci_low is None
    assert x.ratio.ci_low is None and x.p_value is None
    assert x.difference.reason is not None and "DeLong variance of 0" in x.difference.reason
