"""Profile-likelihood interval of the calibration slope in groups with few events, checked
against an independent profile likelihood built from statsmodels' GLM (offset = b·logit(p),
intercept refitted) and a root finder."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.optimize import brentq, minimize_scalar
from scipy.stats import chi2

from assessment.evaluation import profile_slope as ps
from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.profile_slope import SWITCH_EVENTS, profile_slope_interval
from assessment.evaluation.result import EvaluationResult
from assessment.evaluation.spec import EvaluationSpec


def _reference_interval(y: np.ndarray, p: np.ndarray, level: float) -> tuple[float, float]:
    x = np.log(p) - np.log1p(-p)
    full = sm.GLM(y.astype(float), sm.add_constant(x), family=sm.families.Binomial()).fit(tol=1e-14)
    b_hat, se = float(full.params[1]), float(full.bse[1])
    crit = chi2.ppf(level, 1)
    ones = np.ones((y.size, 1))

    def deviance(b: float) -> float:
        fit = sm.GLM(y.astype(float), ones, family=sm.families.Binomial(), offset=b * x).fit(
            tol=1e-14
        )
        return float(2 * (full.llf - fit.llf) - crit)

    lo = brentq(deviance, b_hat - 50 * se, b_hat, xtol=1e-12)
    hi = brentq(deviance, b_hat, b_hat + 50 * se, xtol=1e-12)
    return lo, hi


def _data(rng: np.random.Generator, n: int, prevalence: float) -> tuple[np.ndarray, np.ndarray]:
    c = np.log(prevalence / (1 - prevalence))
    eta = c - 0.5 + rng.normal(0, 1, n)
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    p = 1 / (1 + np.exp(-(c + 2.0 * (eta - c))))  # over-confident: slope ≈ 0.5
    return y, p


def _input(ys: list[np.ndarray], ps: list[np.ndarray]) -> EvaluationInput:
    y, p = np.concatenate(ys), np.concatenate(ps)
    codes = np.concatenate([np.full(v.size, i, np.int32) for i, v in enumerate(ys)])
    labels = tuple(f"g{i}" for i in range(len(ys)))
    return EvaluationInput(
        y, p, None, "probability", (Attribute("g", codes, labels),),
        Provenance("t", "0" * 64, y.size, y.size),
    )  # fmt: skip


def test_few_events_get_the_profile_likelihood_interval_of_statsmodels() -> None:
    rng = np.random.default_rng(5)
    small = [_data(rng, 200, 0.05) for _ in range(3)]  # ~10 events each
    big = _data(rng, 3000, 0.3)  # hundreds of events: bootstrap
    inp = _input([s[0] for s in small] + [big[0]], [s[1] for s in small] + [big[1]])
    spec = EvaluationSpec(threshold=0.1, bootstrap=200, seed=3)
    res = evaluate(inp, spec)
    groups = res.groups_of("g")
    for (y, p), group in zip(small, groups[:3], strict=True):
        assert 0 < y.sum() < SWITCH_EVENTS
        lo, hi = _reference_interval(y, p, 0.95)
        m = group.metrics["calibration_slope"]
        assert m.ci_low == pytest.approx(lo, abs=1e-6)
        assert m.ci_high == pytest.approx(hi, abs=1e-6)
    lo, hi = _reference_interval(*big, 0.95)
    m = groups[3].metrics["calibration_slope"]
    assert m.ci_low is not None and abs(m.ci_low - lo) > 1e-6  # the bootstrap's, not the profile
    method = res.method("calibration_slope")
    assert method is not None and "profile-likelihood" in method and "Venzon" in method


def test_a_group_with_a_score_of_exactly_0_keeps_the_bootstrap_from_min_events_on() -> None:
    rng = np.random.default_rng(8)
    y, p = _data(rng, 200, 0.05)  # 7 events
    p[np.argmin(p)] = 0.0
    spec = EvaluationSpec(threshold=0.1, bootstrap=200, seed=3, min_events=5)
    res = evaluate(_input([y], [p]), spec)
    m = res.groups_of("g")[0].metrics["calibration_slope"]
    q = np.clip(p, 1e-10, 1 - 1e-10)
    lo, _ = _reference_interval(y, q, 0.95)
    assert m.ci_low is not None and abs(m.ci_low - lo) > 1e-6
    # the group's own method names the bootstrap and why, and a note names the group
    assert "Moulton & Zeger" in m.method and "exactly 0 or 1" in m.method
    assert "Venzon" not in m.method
    notes = [n for n in res.notes if n.startswith("calibration slope:")]
    assert len(notes) == 1 and "g=g0 (a predicted probability of exactly 0 or 1" in notes[0]


def test_under_min_events_without_the_profile_interval_there_is_no_slope_interval() -> None:
    """The one-step bootstrap covered 61 % at 1–2 events (tester's big.csv): a group under
    spec.min_events that cannot have the profile interval gets none, with the reason."""
    rng = np.random.default_rng(8)
    y, p = _data(rng, 200, 0.05)  # 7 events < 10
    p[np.argmin(p)] = 0.0
    res = evaluate(_input([y], [p]), EvaluationSpec(threshold=0.1, bootstrap=200, seed=3))
    m = res.groups_of("g")[0].metrics["calibration_slope"]
    assert m.value is not None and m.ci_low is None and m.ci_high is None
    assert m.reason is not None and "fewer than 10 events" in m.reason
    assert "exactly 0 or 1" in m.reason and "61%" in m.reason
    assert "no CI" in m.method
    notes = [n for n in res.notes if n.startswith("calibration slope: no interval")]
    assert len(notes) == 1 and "g=g0" in notes[0]


def _nearly_separated() -> tuple[np.ndarray, ...]:
    # one event and one non-event overlap, all others separated: the MLE exists, the profile
    # rises slowly above it
    x = np.r_[np.linspace(-6, -1, 30), 0.0, 0.1, np.linspace(1, 6, 3)]
    y = np.r_[np.zeros(30), 1.0, 0.0, np.ones(3)].astype(bool)
    fit = sm.GLM(y.astype(float), sm.add_constant(x), family=sm.families.Binomial()).fit(tol=1e-14)
    return x, y, np.array([fit.params[0]]), np.array([fit.params[1]])


def test_a_nearly_separated_group_matches_a_direct_profile() -> None:
    """Far from b̂ statsmodels' IRLS overflows (its deviance jumps to ~365), so here the
    reference maximises the log-likelihood over a by scipy's bounded scalar search."""
    x, y, a, b = _nearly_separated()
    codes = np.zeros(x.size, np.intp)
    lo, hi, why, settled = profile_slope_interval(codes, x, y, a, b, np.array([True]), 0.95)
    assert settled[0]
    yf = y.astype(float)

    def ll(al: float, be: float) -> float:
        eta = al + be * x
        return float(np.sum(yf * eta - np.logaddexp(0, eta)))

    def deviance(be: float) -> float:
        best = minimize_scalar(
            lambda al: -ll(al, be), bounds=(-500, 500), method="bounded",
            options={"xatol": 1e-12},
        )  # fmt: skip
        return float(2 * (ll(a[0], b[0]) + best.fun) - chi2.ppf(0.95, 1))

    ref_lo = brentq(deviance, b[0] - 100, b[0], xtol=1e-12)
    ref_hi = brentq(deviance, b[0], b[0] + 100, xtol=1e-12)
    assert why == [None]
    assert lo[0] == pytest.approx(ref_lo, abs=1e-6)
    assert hi[0] == pytest.approx(ref_hi, abs=1e-6)
    assert hi[0] > 30  # the profile's long right tail near separation


def test_an_unbounded_profile_is_no_interval_with_a_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the profile never rises by χ²₁ within the bracket, both limits are NaN with a
    reason (half an interval is none)."""
    monkeypatch.setattr(ps, "MAX_EXPANSIONS", 0)  # bracket b̂ ± 2 se only
    x, y, a, b = _nearly_separated()
    codes = np.zeros(x.size, np.intp)
    lo, hi, why, settled = profile_slope_interval(codes, x, y, a, b, np.array([True]), 0.95)
    assert np.isnan(lo[0]) and np.isnan(hi[0])
    assert why[0] == ps.UNBOUNDED and settled[0]


def test_eligible_groups_fewest_rows_first_within_the_row_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ps, "MAX_GROUP_ROWS", 1000)
    monkeypatch.setattr(ps, "MAX_ROWS", 1500)
    n = np.array([900, 1001, 300, 400, 500, 50])
    few = np.array([True, True, True, True, False, True])
    # 1001 rows: over the group bound; then 50, 300, 400 (750) fit, 900 would make 1,650
    assert ps.eligible(n, few).tolist() == [False, False, True, True, False, True]


def test_the_work_bound_stops_the_search_and_leaves_the_group_unsettled() -> None:
    x, y, a, b = _nearly_separated()
    codes = np.zeros(x.size, np.intp)
    lo, hi, why, settled = profile_slope_interval(
        codes, x, y, a, b, np.array([True]), 0.95, max_work=500
    )
    assert not settled[0] and np.isnan(lo[0]) and np.isnan(hi[0]) and why == [None]


def _evaluate_with_bounds(
    monkeypatch: pytest.MonkeyPatch, **bounds: int
) -> tuple[EvaluationResult, list[tuple[np.ndarray, np.ndarray]]]:
    for name, value in bounds.items():
        monkeypatch.setattr(ps, name, value)
    rng = np.random.default_rng(11)
    data = [_data(rng, 200, 0.05), _data(rng, 600, 0.02)]  # ~10 events each
    inp = _input([d[0] for d in data], [d[1] for d in data])
    return evaluate(inp, EvaluationSpec(threshold=0.1, bootstrap=200, seed=3)), data


def test_a_group_over_the_row_bound_keeps_the_bootstrap_and_the_notes_name_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    res, data = _evaluate_with_bounds(monkeypatch, MAX_GROUP_ROWS=500)
    groups = res.groups_of("g")
    small = groups[0].metrics["calibration_slope"]
    lo, hi = _reference_interval(*data[0], 0.95)
    assert small.ci_low == pytest.approx(lo, abs=1e-6) and small.ci_high == pytest.approx(
        hi, abs=1e-6
    )
    big = groups[1].metrics["calibration_slope"]
    lo, hi = _reference_interval(*data[1], 0.95)
    assert big.ci_low is not None and abs(big.ci_low - lo) > 1e-6  # the bootstrap's
    notes = [n for n in res.notes if n.startswith("calibration slope:")]
    assert len(notes) == 1 and "g=g1" in notes[0] and "g=g0" not in notes[0]
    assert "500 rows" in notes[0]


def test_within_the_bounds_there_is_no_slope_note(monkeypatch: pytest.MonkeyPatch) -> None:
    res, _ = _evaluate_with_bounds(monkeypatch)
    assert not [n for n in res.notes if n.startswith("calibration slope:")]


def test_the_work_bound_in_an_evaluation_keeps_the_bootstrap_for_every_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    res, data = _evaluate_with_bounds(monkeypatch, MAX_WORK=10)
    groups = res.groups_of("g")
    for (y, p), group in zip(data, groups, strict=True):
        lo, _ = _reference_interval(y, p, 0.95)
        m = group.metrics["calibration_slope"]
        assert m.ci_low is not None and abs(m.ci_low - lo) > 1e-6
    notes = [n for n in res.notes if n.startswith("calibration slope:")]
    assert len(notes) == 1 and "g=g0" in notes[0] and "g=g1" in notes[0]


def test_each_refit_finds_the_maximum_from_far_starts_where_plain_newton_cycles() -> None:
    """The 1-D refit of a at fixed b, from starts far from the maximum: undamped Newton with a
    clipped step cycled there between two points forever (seen at b = −0.245 in a group of 200
    rows with 8 events); the safeguarded search converges to scipy's maximiser."""
    rng = np.random.default_rng(4)
    x = rng.normal(-3.0, 1.2, 200)
    y = np.zeros(200)
    y[rng.choice(200, 8, replace=False)] = 1.0
    betas = np.repeat([-0.25, 0.0, 1.0, 3.0], 4)
    starts = np.tile([-20.0, -6.8, 0.0, 10.0], 4)
    k = betas.size
    c = np.repeat(np.arange(k), x.size)
    ll, a, done = ps._profile(betas, starts, c, np.tile(x, k), np.tile(y, k))
    assert done.all()
    for j in range(k):
        best = minimize_scalar(
            lambda al, b=betas[j]: -float(np.sum(y * (al + b * x) - np.logaddexp(0, al + b * x))),
            bounds=(-60, 60), method="bounded", options={"xatol": 1e-12},
        )  # fmt: skip
        assert a[j] == pytest.approx(best.x, abs=1e-7), j
        assert ll[j] == pytest.approx(-best.fun, rel=1e-12), j


@pytest.mark.slow
def test_a_grouping_of_800k_rows_in_small_cells_all_get_the_profile_interval() -> None:
    """The bound is 2 M rows per grouping (was 500,000: the tester's 2-million-row file left
    900 of 1,200 cells with the bootstrap, which covered 85 % there)."""
    rng = np.random.default_rng(12)
    data = [_data(rng, 2000, 0.004) for _ in range(400)]  # ~8 events each
    res = evaluate(
        _input([d[0] for d in data], [d[1] for d in data]),
        EvaluationSpec(threshold=0.01, bootstrap=200, seed=3),
    )
    assert not [n for n in res.notes if n.startswith("calibration slope:")]
    methods = [
        g.metrics["calibration_slope"].method
        for g in res.groups_of("g")
        if g.metrics["calibration_slope"].value is not None
    ]
    assert len(methods) > 350 and all("Venzon" in m for m in methods)
    (y, p), m = data[0], res.groups_of("g")[0].metrics["calibration_slope"]
    if m.ci_low is not None:
        lo, hi = _reference_interval(y, p, 0.95)
        assert m.ci_low == pytest.approx(lo, abs=1e-6) and m.ci_high == pytest.approx(hi, abs=1e-6)
