"""Summary measures: only groups with sufficient data set them (named), their max-t interval
equals a direct implementation of the formula, and its memory stays at B × groups."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from fairlearn.metrics import equalized_odds_difference

from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.result import EvaluationResult, SummaryMeasure
from assessment.evaluation.spec import EvaluationSpec
from assessment.evaluation.summary import largest_gap, max_t_critical


def _naive_critical(reps: list[np.ndarray], values: list[np.ndarray], level: float) -> float:
    """Westfall–Young max-T written out with the full B × pairs array (the reference)."""
    stats = []
    for r, v in zip(reps, values, strict=True):
        var = np.var(r, axis=0, ddof=1)
        i, j = np.triu_indices(v.size, 1)
        e = r - v
        stats.append(np.abs(e[:, i] - e[:, j]) / np.sqrt(var[i] + var[j]))
    t = np.max(np.concatenate(stats, axis=1), axis=1)
    return float(np.quantile(t, level, method="higher"))


@pytest.mark.parametrize("k", [2, 3, 7, 25])
def test_critical_value_and_projection_match_the_formula(k: int) -> None:
    rng = np.random.default_rng(k)
    values = [rng.random(k), rng.random(k)]
    reps = [v + rng.normal(0, 0.05 + rng.random(k) * 0.1, (500, k)) for v in values]
    c = _naive_critical(reps, values, 0.95)
    var = [np.var(r, axis=0, ddof=1) for r in reps]
    got = max_t_critical([r - v for r, v in zip(reps, values, strict=True)], var, 0.95)
    assert got == pytest.approx(c, rel=1e-12)
    gap = largest_gap(values, reps, 0.95)
    lows, highs = [], []
    for v, s2 in zip(values, var, strict=True):
        for i in range(k):
            for j in range(i + 1, k):
                d, h = abs(v[i] - v[j]), c * np.sqrt(s2[i] + s2[j])
                lows.append(d - h)
                highs.append(d + h)
    assert gap.value == pytest.approx(max(np.ptp(v) for v in values))
    assert gap.ci_low == pytest.approx(max(0.0, max(lows)))
    assert gap.ci_high == pytest.approx(max(highs))
    assert gap.reason is None


def test_two_groups_reduce_to_the_bootstrap_t_interval_of_their_difference() -> None:
    """K = 2: one pair, so c is the 95% quantile of |t*| and the interval is |d| ± c·se."""
    rng = np.random.default_rng(5)
    v = np.array([0.40, 0.43])
    r = v + rng.normal(0, [0.02, 0.03], (2000, 2))
    gap = largest_gap([v], [r], 0.95)
    se = np.sqrt(np.var(r, axis=0, ddof=1).sum())
    t = np.abs((r[:, 0] - v[0]) - (r[:, 1] - v[1])) / se
    c = np.quantile(t, 0.95, method="higher")
    assert gap.ci_low == pytest.approx(max(0.0, 0.03 - c * se))
    assert gap.ci_high == pytest.approx(0.03 + c * se)
    assert gap.ci_low == 0.0  # 0.03 is within ~1 se: the interval reaches parity


def test_undefined_or_flat_replicates_give_no_interval_and_a_reason() -> None:
    v = np.array([0.5, 0.6, 0.7])
    r = v + np.random.default_rng(1).normal(0, 0.05, (400, 3))
    flat = r.copy()
    flat[:, 1] = 0.6
    gap = largest_gap([v], [flat], 0.95)
    assert gap.ci_low is None and "do not vary" in (gap.reason or "")
    holes = r.copy()
    holes[:200, 2] = np.nan
    gap = largest_gap([v], [holes], 0.95)
    assert gap.ci_low is None and "undefined in too many" in (gap.reason or "")
    few = r.copy()
    few[:10, 2] = np.nan  # 2.5% undefined: counted as extreme replicates, interval kept
    gap = largest_gap([v], [few], 0.95)
    assert gap.ci_low is not None and gap.ci_high is not None


def test_max_t_memory_stays_at_b_times_groups() -> None:
    """60 intersection cells × B = 1000: B × pairs would be 1,770,000 floats (14 MB) per metric;
    the group-at-a-time loop peaks at a few B × groups arrays (0.5 MB each)."""
    rng = np.random.default_rng(0)
    k, b = 60, 1000
    values = [rng.random(k), rng.random(k)]
    reps = [v + rng.normal(0, 0.05, (b, k)) for v in values]
    tracemalloc.start()
    largest_gap(values, reps, 0.95)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8 * b * k * 8, f"peak {peak / 1e6:.1f} MB"


def _inputs(y: np.ndarray, score: np.ndarray, codes: np.ndarray, labels: tuple[str, ...]):
    attr = Attribute("g", codes.astype(np.int32), labels)
    return EvaluationInput(
        y, score, None, "probability", (attr,), Provenance("t", "0" * 64, y.size, y.size)
    )


def _tiny_group_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two groups of 600 with similar rates and a 2-row group that is all false positives."""
    rng = np.random.default_rng(3)
    n = 1200
    codes = np.r_[np.zeros(600), np.ones(600), [2, 2]].astype(np.int32)
    y = np.r_[rng.random(n) < 0.3, [True, False]]
    score = np.r_[np.clip(0.3 + 0.35 * (y[:n] - 0.3) + rng.normal(0, 0.2, n), 0, 1), [0.0, 0.99]]
    return y, score, codes


def test_insufficient_group_never_sets_the_headline() -> None:
    y, score, codes = _tiny_group_data()
    spec = EvaluationSpec(threshold=0.4, bootstrap=200, seed=1, grid_points=2)
    res = evaluate(_inputs(y, score, codes, ("A", "B", "tiny")), spec)
    eod = {s.measure: s for s in res.summary}["equalized_odds_difference"]
    big = codes < 2
    expected = equalized_odds_difference(y[big], score[big] >= 0.4, sensitive_features=codes[big])
    assert eod.value == pytest.approx(expected, abs=1e-12)
    everything = equalized_odds_difference(y, score >= 0.4, sensitive_features=codes)
    assert everything > 0.5 > eod.value  # the tiny group would have set it
    assert set(eod.set_by) == {"A", "B"}
    assert list(eod.excluded_groups or {}) == ["tiny"]
    assert (eod.excluded_groups or {})["tiny"].startswith("insufficient data (n = 2 < 30")
    assert eod.ci_low is not None and eod.ci_high is not None
    assert eod.ci_low <= eod.value <= eod.ci_high
    assert "sufficient data" in eod.method and "Westfall & Young 1993" in eod.method
    data = res.to_json()
    back = EvaluationResult.from_json(data)
    assert back.summary == res.summary
    assert data["summary"][0]["set_by"] and "excluded_groups" in data["summary"][0]


def test_no_interval_without_bootstrap_and_with_fewer_than_two_groups() -> None:
    y, score, codes = _tiny_group_data()
    spec = EvaluationSpec(threshold=0.4, bootstrap=0, seed=1, grid_points=2)
    res = evaluate(_inputs(y, score, codes, ("A", "B", "tiny")), spec)
    for s in res.summary:
        assert s.value is not None and s.ci_low is None and s.reason, s
    one = codes.copy()
    one[one == 1] = 0
    res = evaluate(_inputs(y, score, one, ("A", "B", "tiny")), spec)
    for s in res.summary:
        assert s.value is None and "a gap needs two groups" in (s.reason or "")
        assert "fewer than" not in (s.reason or "") and "(0)" not in (s.reason or "")


def test_auroc_gap_of_predicted_classes_says_it_needs_scores() -> None:
    """Predicted classes only: the AUROC gap's reason names the missing scores, and no group
    is listed as left out (for insufficient data or otherwise)."""
    rng = np.random.default_rng(0)
    n = 600
    y, pred = rng.random(n) < 0.3, rng.random(n) < 0.4
    codes = (np.arange(n) % 3).astype(np.int32)
    inp = EvaluationInput(
        y,
        None,
        pred,
        "class",
        (Attribute("g", codes, ("a", "b", "c")),),
        Provenance("f", "0" * 64, n, n),
    )
    res = evaluate(inp, EvaluationSpec(bootstrap=200))
    (auroc,) = [s for s in res.summary if s.measure == "auroc_gap"]
    assert auroc.value is None and "needs a score column" in (auroc.reason or "")
    assert not auroc.excluded_groups


def test_results_from_before_the_restriction_still_read() -> None:
    old = {
        "attribute": "g",
        "measure": "auroc_gap",
        "value": 0.1,
        "ci_low": 0.05,
        "ci_high": 0.2,
        "method": "range",
        "reason": None,
    }
    s = SummaryMeasure.from_json(old)
    assert s.excluded_groups is None and s.set_by == ()
    assert s.to_json() == old


def test_cli_summary_prints_groups_left_out_and_reasons() -> None:
    import io

    from assessment.evaluation.cli_output import _print_summary_measures

    y, score, codes = _tiny_group_data()
    res = evaluate(
        _inputs(y, score, codes, ("A", "B", "tiny")),
        EvaluationSpec(threshold=0.4, bootstrap=0, seed=1, grid_points=2),
    )
    out = io.StringIO()
    _print_summary_measures(res.summary, out.write)
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("Summary measures") and len(lines) == 2 + 5
    for line in lines[2:]:
        assert "(no CI: bootstrap disabled (B = 0))" in line and line.endswith("left out: tiny")
        assert "set by A vs B" in line or "set by B vs A" in line
