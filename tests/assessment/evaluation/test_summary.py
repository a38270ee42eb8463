"""Summary measures: only groups with sufficient data set them (named), their simultaneous
MOVER interval equals a direct implementation of the formula (Newcombe / MOVER pairs from the
library's own per-group intervals at the max-T critical value, written out pair by pair), and
its memory stays at draws × groups."""

from __future__ import annotations

import tracemalloc
from statistics import NormalDist

import numpy as np
import pytest
from fairlearn.metrics import equalized_odds_difference

from assessment.evaluation import intervals as iv
from assessment.evaluation import mover
from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.result import EvaluationResult, SummaryMeasure
from assessment.evaluation.spec import EvaluationSpec
from assessment.evaluation.summary import (
    Block,
    largest_gap,
    max_t_critical,
    measure_gap,
    wilson_at,
)


def _naive_critical(draws: list[np.ndarray], var: list[np.ndarray], level: float) -> float:
    """Max-T written out with the full draws × pairs array (the reference)."""
    stats = []
    for e, v in zip(draws, var, strict=True):
        i, j = np.triu_indices(v.size, 1)
        stats.append(np.abs(e[:, i] - e[:, j]) / np.sqrt(v[i] + v[j]))
    t = np.max(np.concatenate(stats, axis=1), axis=1)
    return float(np.quantile(t, level, method="higher"))


def _rate_block(k: np.ndarray, n: np.ndarray) -> Block:
    return Block(k / n, lambda z: wilson_at(k, n, z))


def _projected(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """Range R = max |d_ij| on the event every d_ij is in its interval (lo, hi)."""
    low = max(max(lo, -hi, 0.0) for lo, hi in pairs)
    high = max(max(abs(lo), abs(hi)) for lo, hi in pairs)
    return low, high


@pytest.mark.parametrize("k", [2, 3, 7, 25])
def test_critical_value_matches_the_formula(k: int) -> None:
    rng = np.random.default_rng(k)
    var = [0.01 + rng.random(k) * 0.02, 0.01 + rng.random(k) * 0.02]
    draws = [rng.standard_normal((500, k)) * np.sqrt(v) for v in var]
    got = max_t_critical(draws, var, 0.95)
    assert got == pytest.approx(_naive_critical(draws, var, 0.95), rel=1e-12)


@pytest.mark.parametrize("k", [3, 6])
def test_projection_is_newcombe_for_every_pair_at_the_max_t_critical_value(k: int) -> None:
    """Rates: every pair's Newcombe interval (iv.newcombe, at the level of c) from the same
    seeded normal draws, projected onto the range; two blocks (TPR and FPR) share one c."""
    rng = np.random.default_rng(10 + k)
    n = [rng.integers(20, 3000, k).astype(float) for _ in range(2)]
    cnt = [np.floor(rng.random(k) * m) for m in n]
    blocks = [_rate_block(c, m) for c, m in zip(cnt, n, strict=True)]
    gap = largest_gap(blocks, 0.95, 2000, np.random.default_rng(99))
    # the reference: v_i from the width of iv.wilson's 95 % interval, the same draws
    z = NormalDist().inv_cdf(0.975)
    own = [iv.wilson(c, m, 0.95) for c, m in zip(cnt, n, strict=True)]
    var = [((hi - lo) / (2 * z)) ** 2 for lo, hi in own]
    ref_rng = np.random.default_rng(99)
    draws = [ref_rng.standard_normal((2000, k)) * np.sqrt(v) for v in var]
    c = _naive_critical(draws, var, 0.95)
    level_c = 2 * NormalDist().cdf(c) - 1
    pairs = []
    for cc, m in zip(cnt, n, strict=True):
        for i in range(k):
            for j in range(i + 1, k):
                _, lo, hi = iv.newcombe(cc[i], m[i], cc[j], m[j], level_c)
                pairs.append((float(lo), float(hi)))
    low, high = _projected(pairs)
    assert gap.value == pytest.approx(max(np.ptp(c / m) for c, m in zip(cnt, n, strict=True)))
    assert gap.ci_low == pytest.approx(low, abs=1e-12)
    assert gap.ci_high == pytest.approx(high, abs=1e-12)
    assert gap.reason is None


def test_two_groups_reduce_to_newcombe_at_the_level() -> None:
    """K = 2: one pair, c = z, so the interval is Newcombe's 95 % interval of the difference
    folded onto |d|; 10 events of 200 against 500 of 10,000 reach parity."""
    k, n = np.array([10.0, 500.0]), np.array([200.0, 10000.0])
    gap = largest_gap([_rate_block(k, n)], 0.95, 0, np.random.default_rng(0))
    _, lo, hi = iv.newcombe(k[0], n[0], k[1], n[1], 0.95)
    low, high = _projected([(float(lo), float(hi))])
    assert gap.ci_low == pytest.approx(low, abs=1e-12) and gap.ci_low == 0.0
    assert gap.ci_high == pytest.approx(high, abs=1e-12)


def test_auroc_gap_of_two_groups_is_the_mover_comparison() -> None:
    """The AUROC block uses each group's own interval; with two groups the gap's interval is
    the engine's MOVER comparison of the two (mover.auroc_comparison) folded onto |d|."""
    # (auc, DeLong var, s10, s01, events, non-events): ~10 events against 250
    g = tuple(np.array([x]) for x in (0.81, 0.0042, 0.02, 0.03, 10.0, 190.0))
    r = tuple(np.array([x]) for x in (0.74, 0.00021, 0.03, 0.04, 250.0, 4750.0))
    d, lo, hi, *_ = mover.auroc_comparison(g, r, False, 0.95)
    cat = [np.concatenate([g[i], r[i]]) for i in range(6)]
    block = Block(cat[0], lambda z: mover.auroc_limits(*cat, False, z))
    gap = largest_gap([block], 0.95, 0, np.random.default_rng(0))
    low, high = _projected([(float(lo[0]), float(hi[0]))])
    assert gap.value == pytest.approx(abs(float(d[0])))
    assert gap.ci_low == pytest.approx(low, abs=1e-9)
    assert gap.ci_high == pytest.approx(high, abs=1e-9)


def test_ratio_uses_mover_on_log_wilson_limits() -> None:
    k, n = np.array([10.0, 600.0]), np.array([200.0, 10000.0])
    gap = measure_gap("ratio", [_rate_block(k, n)], 0.95, 0, np.random.default_rng(0))
    lo, hi = iv.wilson(k, n, 0.95)
    lp, ll, lh = np.log(k / n), np.log(lo), np.log(hi)
    d = lp[0] - lp[1]
    pair = (
        d - np.sqrt((lp[0] - ll[0]) ** 2 + (lh[1] - lp[1]) ** 2),
        d + np.sqrt((lh[0] - lp[0]) ** 2 + (lp[1] - ll[1]) ** 2),
    )
    low, high = _projected([pair])
    assert gap.value == pytest.approx(0.05 / 0.06)
    assert gap.ci_low == pytest.approx(np.exp(-high), rel=1e-12)
    assert gap.ci_high == pytest.approx(np.exp(-low), rel=1e-12)


def test_undefined_group_interval_or_no_draws_give_no_interval_and_a_reason() -> None:
    k, n = np.array([10.0, 20.0, 30.0]), np.array([100.0, 100.0, 100.0])
    gap = largest_gap([_rate_block(k, n)], 0.95, 0, np.random.default_rng(0))
    assert gap.ci_low is None and "no draws" in (gap.reason or "")
    gap = largest_gap([_rate_block(k, n)], 0.95, 400, np.random.default_rng(0))
    assert gap.ci_low is not None and gap.ci_high is not None and gap.reason is None
    nan = Block(k / n, lambda z: (np.array([0.05, np.nan, 0.2]), np.array([0.2, np.nan, 0.4])))
    gap = largest_gap([nan], 0.95, 400, np.random.default_rng(0))
    assert gap.ci_low is None and "undefined or has no width" in (gap.reason or "")


def test_memory_stays_at_draws_times_groups() -> None:
    """60 intersection cells × 1000 draws: draws × pairs would be 1,770,000 floats (14 MB) per
    metric; the group-at-a-time loop peaks at a few draws × groups arrays (0.5 MB each). 3,000
    cells: the projection goes one row of pairs at a time (groups × groups would be 72 MB)."""
    rng = np.random.default_rng(0)
    for k, b in ((60, 1000), (3000, 20)):
        n = rng.integers(50, 5000, k).astype(float)
        blocks = [_rate_block(np.floor(rng.random(k) * n), n) for _ in range(2)]
        tracemalloc.start()
        gap = largest_gap(blocks, 0.95, b, rng)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert gap.ci_high is not None
        assert peak < 8 * b * k * 8 + 40 * k * 8, f"k={k}: peak {peak / 1e6:.1f} MB"


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
    assert "sufficient data" in eod.method and "Zou & Donner 2008" in eod.method
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
