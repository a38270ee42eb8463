"""Interval methods: published reference values, and coverage by simulation (1000 simulated
datasets; a 95% interval must cover the true value in 93–97% of them).

The simulations are vectorised: 1000 simulated datasets become 1000 levels of one attribute, so a
single call of the real engine computes all 1000 intervals."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from assessment.evaluation import intervals as iv
from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.metrics import (
    SortedScores,
    auroc_delong,
    build_groupings,
    confusion_counts,
    placement_covariance,
    stratum_keys,
)
from assessment.evaluation.ratio_score import koopman
from assessment.evaluation.result import EvaluationResult
from assessment.evaluation.spec import EvaluationSpec, ReferenceSpec

SIMS = 1000


def test_wilson_reference_values() -> None:
    # Newcombe (1998a) Table I: 81/263 -> 0.2553-0.3662; 0/10 -> 0-0.2775; 1/29 -> 0.0061-0.1718
    lo, hi = iv.wilson(np.array([81, 0, 1]), np.array([263, 10, 29]), 0.95)
    assert lo == pytest.approx([0.2553, 0.0, 0.0061], abs=1e-4)
    assert hi == pytest.approx([0.3662, 0.2775, 0.1718], abs=1e-4)


def test_wilson_empty_group_has_no_interval() -> None:
    # 0 of 0: both limits undefined (the k = 0 boundary rule must not give a lower limit of 0).
    lo, hi = iv.wilson(np.array([0, 0]), np.array([0, 5]), 0.95)
    assert np.isnan(lo[0]) and np.isnan(hi[0])
    assert lo[1] == 0.0 and 0 < hi[1] < 1


def test_newcombe_method_10_reference_values() -> None:
    # Newcombe (1998b) Table II, method 10: 56/70 − 48/80 and 9/10 − 3/10
    d, lo, hi = iv.newcombe(np.array([56, 9]), np.array([70, 10]), np.array([48, 3]),
                            np.array([80, 10]), 0.95)
    assert d == pytest.approx([0.2, 0.6])
    assert lo == pytest.approx([0.0524, 0.1705], abs=1e-4)
    assert hi == pytest.approx([0.3339, 0.8090], abs=1e-4)


def test_katz_log_ratio() -> None:
    r, lo, hi = iv.katz(np.array([30, 0]), np.array([100, 50]), np.array([20, 10]),
                        np.array([100, 50]), 0.95)
    se = np.sqrt(1 / 30 - 1 / 100 + 1 / 20 - 1 / 100)
    assert r[0] == pytest.approx(1.5)
    assert lo[0] == pytest.approx(1.5 * np.exp(-1.959963984540054 * se))
    assert hi[0] == pytest.approx(1.5 * np.exp(1.959963984540054 * se))
    # 0/50 vs 10/50: 0.5 added to every cell (0.5/51 vs 10.5/51); the lower limit is 0
    se_c = np.sqrt(1 / 0.5 - 1 / 51 + 1 / 10.5 - 1 / 51)
    assert r[1] == 0.0 and lo[1] == 0.0
    assert hi[1] == pytest.approx((0.5 / 10.5) * np.exp(1.959963984540054 * se_c))


def test_katz_continuity_correction_at_the_boundaries() -> None:
    """A count of 0 or equal to its denominator: 0.5 is added to all four cells, so a 1/1 group
    gets a wide interval, not the near-zero width of the plain log method."""
    z = 1.959963984540054
    r, lo, hi = iv.katz(np.array([1]), np.array([1]), np.array([300]), np.array([500]), 0.95)
    se = np.sqrt(1 / 1.5 - 1 / 2 + 1 / 300.5 - 1 / 501)
    rc = (1.5 / 2) / (300.5 / 501)
    assert r[0] == pytest.approx(1 / 0.6)
    assert (lo[0], hi[0]) == pytest.approx((rc * np.exp(-z * se), rc * np.exp(z * se)))
    assert lo[0] < 1 < hi[0]
    # reference at its boundary (k2 = n2) also triggers the correction; k2 = 0: infinite ratio
    r, lo, hi = iv.katz(np.array([5, 5, 0]), np.array([10, 10, 10]), np.array([20, 0, 0]),
                        np.array([20, 20, 20]), 0.95)
    se = np.sqrt(1 / 5.5 - 1 / 11 + 1 / 20.5 - 1 / 21)
    assert lo[0] == pytest.approx((5.5 / 11) / (20.5 / 21) * np.exp(-z * se))
    assert r[1] == np.inf and hi[1] == np.inf and np.isfinite(lo[1])
    assert np.isnan(r[2]) and np.isnan(lo[2]) and np.isnan(hi[2])


@pytest.mark.parametrize("level", [0.5, 0.8, 0.95, 0.99])
def test_katz_interval_always_contains_the_observed_ratio(level: float) -> None:
    """Every table with n1, n2 <= 40 (both ratios defined): lo <= r <= hi, lo < hi."""
    n1, k1, n2, k2 = (a.ravel().astype(float) for a in np.meshgrid(
        np.arange(1, 41), np.arange(0, 41), np.arange(1, 41), np.arange(1, 41), indexing="ij"))
    keep = (k1 <= n1) & (k2 <= n2)
    r, lo, hi = iv.katz(k1[keep], n1[keep], k2[keep], n2[keep], level)
    assert np.all(lo <= r) and np.all(r <= hi) and np.all(lo < hi)


def test_bootstrap_interval_refuses_degenerate_replicates() -> None:
    rng = np.random.default_rng(0)
    reps = np.c_[np.zeros(200), rng.normal(0.5, 0.1, 200), rng.normal(2.0, 0.01, 200),
                 rng.normal(0.3, 0.1, 200)]
    est = np.array([0.0, 0.5, 0.5, 0.3])
    out = iv.bootstrap_interval(reps, est, 0.95, exact=np.array([False, False, False, True]))
    assert np.isnan(out.lo[0]) and "every resample gives the same value" in out.reasons[0]
    assert out.lo[1] < 0.5 < out.hi[1] and out.reasons[1] is None
    assert np.isnan(out.lo[2]) and "one side of the estimate" in out.reasons[2]
    assert out.lo[3] == out.hi[3] == 0.3 and out.reasons[3] is None
    assert all(r is None or r.startswith(iv.TOO_FEW_FOR_BOOTSTRAP) for r in out.reasons)


def _simulated(n_pos: int, n_neg: int, shift: float, seed: int) -> EvaluationInput:
    """SIMS datasets stacked as levels of attribute "sim"; binormal scores (AUROC known)."""
    rng = np.random.default_rng(seed)
    per = n_pos + n_neg
    y = np.tile(np.r_[np.ones(n_pos, bool), np.zeros(n_neg, bool)], SIMS)
    latent = rng.standard_normal(SIMS * per) + shift * y
    score = 1 / (1 + np.exp(-latent))
    sim = np.repeat(np.arange(SIMS, dtype=np.int32), per)
    attr = Attribute("sim", sim, tuple(str(i) for i in range(SIMS)))
    n = y.size
    return EvaluationInput(y, score, None, "probability", (attr,), Provenance("s", "0" * 64, n, n))


def _coverage(res: EvaluationResult, metric: str, truth: float) -> float:
    hits = [
        g.metrics[metric].ci_low <= truth <= g.metrics[metric].ci_high
        for g in res.groups_of("sim")
    ]
    assert len(hits) == SIMS
    return float(np.mean(hits))


@pytest.mark.slow
def test_tpr_wilson_and_auroc_delong_coverage() -> None:
    shift = 1.2
    inp = _simulated(n_pos=60, n_neg=90, shift=shift, seed=1)
    res = evaluate(inp, EvaluationSpec(threshold=0.5, bootstrap=0, reference=ReferenceSpec(
        "largest")))
    # P(score >= 0.5 | positive) = P(N(shift, 1) >= 0) = Φ(shift)
    true_tpr = NormalDist().cdf(shift)
    true_auc = NormalDist().cdf(shift / np.sqrt(2))
    cov_tpr = _coverage(res, "tpr", true_tpr)
    cov_auc = _coverage(res, "auroc", true_auc)
    assert 0.93 <= cov_tpr <= 0.97, cov_tpr
    assert 0.93 <= cov_auc <= 0.97, cov_auc
    assert "Wilson" in res.overall.metrics["tpr"].method
    assert "DeLong" in res.overall.metrics["auroc"].method


@pytest.mark.slow
def test_tpr_difference_newcombe_coverage() -> None:
    """1000 simulated two-group datasets; the TPR difference interval the engine reports."""
    rng = np.random.default_rng(2)
    n1, n2, p1, p2 = 70, 90, 0.75, 0.6
    k1 = rng.binomial(n1, p1, SIMS)
    k2 = rng.binomial(n2, p2, SIMS)
    _, lo, hi = iv.newcombe(k1, np.full(SIMS, n1), k2, np.full(SIMS, n2), 0.95)
    cover = np.mean((lo <= p1 - p2) & (p1 - p2 <= hi))
    assert 0.93 <= cover <= 0.97, cover


def test_engine_reports_newcombe_and_koopman_for_tpr_disparities() -> None:
    rng = np.random.default_rng(5)
    n = 700
    grp = rng.integers(0, 2, n).astype(np.int32)
    y = rng.random(n) < 0.5
    score = np.clip(rng.random(n) * 0.7 + 0.3 * y - 0.1 * grp, 0, 1)
    inp = EvaluationInput(y, score, None, "probability", (Attribute("g", grp, ("a", "b")),),
                          Provenance("s", "0" * 64, n, n))
    res = evaluate(inp, EvaluationSpec(bootstrap=0, reference=ReferenceSpec("value", {"g": "a"})))
    pred = score >= 0.5
    k = [np.sum(pred & y & (grp == g)) for g in (0, 1)]
    m = [np.sum(y & (grp == g)) for g in (0, 1)]
    d, lo, hi = iv.newcombe(np.array([k[1]]), np.array([m[1]]), np.array([k[0]]),
                            np.array([m[0]]), 0.95)
    # Koopman's score interval as statsmodels computes it (an independent implementation)
    rlo, rhi = confint_proportions_2indep(
        k[1], m[1], k[0], m[0], method="score", compare="ratio", correction=False
    )
    dis = res.disparity("g", "b", "tpr")
    assert (dis.difference.value, dis.difference.ci_low, dis.difference.ci_high) == pytest.approx(
        (d[0], lo[0], hi[0]), abs=1e-12)
    assert (dis.ratio.value, dis.ratio.ci_low, dis.ratio.ci_high) == pytest.approx(
        ((k[1] / m[1]) / (k[0] / m[0]), rlo, rhi), abs=1e-9)
    assert "Newcombe" in dis.difference.method and "Koopman" in dis.ratio.method


@pytest.mark.slow
def test_overall_reference_intervals_cover() -> None:
    """Group vs the overall population (dependent): complement mapping keeps coverage."""
    rng = np.random.default_rng(9)
    per, share, p_g, p_r = 300, 0.3, 0.7, 0.5
    ng = int(per * share)
    truth_all = share * p_g + (1 - share) * p_r
    kg = rng.binomial(ng, p_g, SIMS)
    kr = rng.binomial(per - ng, p_r, SIMS)
    # the engine's mapping, applied to 1000 simulated (group, rest) pairs
    _, dl0, dh0 = iv.newcombe(kg, np.full(SIMS, ng), kr, np.full(SIMS, per - ng), 0.95)
    rest_share = (per - ng) / per
    hits_d = (rest_share * dl0 <= p_g - truth_all) & (p_g - truth_all <= rest_share * dh0)
    _, rl, rh = koopman(kr, np.full(SIMS, per - ng), kg, np.full(SIMS, ng), 0.95)
    lo_r = 1 / (share + rest_share * rh)
    hi_r = 1 / (share + rest_share * rl)
    hits_r = (lo_r <= p_g / truth_all) & (p_g / truth_all <= hi_r)
    assert 0.93 <= hits_d.mean() <= 0.97
    assert 0.93 <= hits_r.mean() <= 0.97


@pytest.mark.slow
def test_auroc_difference_against_the_containing_population_covers() -> None:
    """DeLong difference group − overall with the nested covariance (placement_covariance):
    1000 simulated datasets (levels of "sim"), each with arms A and B (cells of sim×arm)."""
    rng = np.random.default_rng(17)
    (na1, na0, nb1, nb0), (mu_a, mu_b) = (40, 60, 80, 120), (0.8, 1.5)
    per = na1 + na0 + nb1 + nb0
    arm = np.tile(np.r_[np.zeros(na1 + na0, np.int32), np.ones(nb1 + nb0, np.int32)], SIMS)
    y = np.tile(np.r_[np.ones(na1, bool), np.zeros(na0, bool), np.ones(nb1, bool),
                      np.zeros(nb0, bool)], SIMS)
    shift = np.where(arm == 0, mu_a, mu_b) * y
    score = rng.standard_normal(SIMS * per) + shift
    sim = np.repeat(np.arange(SIMS, dtype=np.int32), per)
    n = y.size
    inp = EvaluationInput(y, score, None, "score", (
        Attribute("sim", sim, tuple(str(i) for i in range(SIMS))),
        Attribute("arm", arm, ("A", "B"))), Provenance("s", "0" * 64, n, n))
    parent, _, cells = build_groupings(inp, (("sim", "arm"),))[1:]
    ss = SortedScores.build(score, y)
    pred = score >= 0
    cp = confusion_counts(parent, stratum_keys(parent, y), pred)
    cc = confusion_counts(cells, stratum_keys(cells, y), pred)
    ap = auroc_delong(parent, ss, cp.n_pos, cp.n_neg, placements=True)
    ac = auroc_delong(cells, ss, cc.n_pos, cc.n_neg, placements=True)
    parent_of = np.zeros(cells.size, dtype=np.intp)
    parent_of[cells.codes] = parent.codes
    cov = placement_covariance(cells.codes, parent_of, y, ac.placements, ap.placements,
                               (cc.n_pos, cc.n_neg), (cp.n_pos, cp.n_neg))
    diff = ac.auc - ap.auc[parent_of]
    lo, hi = iv.normal_interval(diff, ac.var + ap.var[parent_of] - 2 * cov, 0.95)
    phi = NormalDist().cdf
    w_a = na1 / (na1 + nb1)
    truth_all = w_a * phi(mu_a / np.sqrt(2)) + (1 - w_a) * phi(mu_b / np.sqrt(2))
    arm_of_cell = np.zeros(cells.size, dtype=np.intp)
    arm_of_cell[cells.codes] = arm
    truth = np.where(arm_of_cell == 0, phi(mu_a / np.sqrt(2)), phi(mu_b / np.sqrt(2))) - truth_all
    for a in (0, 1):
        sel = arm_of_cell == a
        cover = np.mean((lo[sel] <= truth[sel]) & (truth[sel] <= hi[sel]))
        assert 0.93 <= cover <= 0.97, (a, cover)
    # ignoring the covariance (as if independent) would over-cover badly
    lo_ind, hi_ind = iv.normal_interval(diff, ac.var + ap.var[parent_of], 0.95)
    sel = arm_of_cell == 0
    assert np.mean((lo_ind[sel] <= truth[sel]) & (truth[sel] <= hi_ind[sel])) > 0.98


def test_large_group_bootstrap_has_random_event_counts() -> None:
    """Groups above EXACT_RESAMPLE_MAX rows draw exact multinomial counts of outcome × predicted
    class and normal-limit totals within them: the O/E interval must then agree with the
    ratio-estimator (delta-method) interval of Σy/Σp over i.i.d. rows, whose variance is
    dominated by the random number of events. A bootstrap with the events fixed (stratified
    by outcome) is about 3× too narrow here."""
    rng = np.random.default_rng(8)
    n = 6000
    y = rng.random(n) < 0.3
    score = np.clip(rng.beta(2, 5, n) + 0.35 * y, 0, 1)
    inp = EvaluationInput(y, score, None, "probability",
                          (Attribute("g", np.zeros(n, np.int32), ("all",)),),
                          Provenance("s", "0" * 64, n, n))
    assert n > iv.EXACT_RESAMPLE_MAX
    res = evaluate(inp, EvaluationSpec(bootstrap=4000, seed=2))
    m = res.overall.metrics["oe_ratio"]
    o, e = y.sum(), score.sum()
    r = o / e
    se = np.sqrt(np.sum((y - r * score) ** 2) * n / (n - 1)) / e
    half = 1.959963984540054 * se
    assert m.value == pytest.approx(r)
    assert m.ci_low == pytest.approx(r - half, abs=0.08 * half)
    assert m.ci_high == pytest.approx(r + half, abs=0.08 * half)
    assert "normal limit" in m.method and "random number of events" in m.method


def test_large_group_counts_are_exact_integers_in_every_replicate() -> None:
    """The counts of a large group's replicates (rows, events, predicted positives, true
    positives) are exact multinomial counts: the normal limit applies only to the columns that
    vary within an outcome × predicted-class cell. Before, the moment covariance's rounding
    residue leaked ~1e-9 noise into them, so a group with no true positive (F1 exactly 0 in every
    resample) got an F1 "interval" of −2e−9 to 2e−9 and ratios against it of −1.95e8 (the
    Diabetes-130 demo, Hispanic as the reference)."""
    rng = np.random.default_rng(11)
    n = 3 * iv.EXACT_RESAMPLE_MAX
    y = rng.random(n) < 0.1
    score = np.clip(rng.beta(2, 8, n), 1e-6, 0.45)  # nobody above the 0.5 threshold
    score[: n // 2] = np.clip(score[: n // 2] + 0.3 * y[: n // 2], 0, 1)  # group a: some TP
    codes = (np.arange(n) >= n // 2).astype(np.int32)
    inp = EvaluationInput(y, score, None, "probability",
                          (Attribute("g", codes, ("a", "b")),),
                          Provenance("s", "0" * 64, n, n))
    ref_b = ReferenceSpec("value", {"g": "b"})
    res = evaluate(inp, EvaluationSpec(bootstrap=500, seed=3, reference=ref_b))
    by = {g.group: g for g in res.groups}
    f1_b = by["b"].metrics["f1"]
    # F1 = 0 exactly: its own interval is the Wilson interval of the Jaccard index at 0 of
    # m = FP + FN (no rounding noise: the lower limit is exactly 0), upper 2u/(1 + u) with
    # u = z²/(m + z²), the Wilson upper limit at k = 0
    b = codes == 1
    pred_b = score[b] >= 0.5
    m = int(np.sum(pred_b & ~y[b]) + np.sum(~pred_b & y[b]))
    z2 = 1.959963984540054**2
    u = z2 / (m + z2)
    assert f1_b.value == 0.0 and f1_b.ci_low == 0.0
    assert f1_b.ci_high == pytest.approx(2 * u / (1 + u), rel=1e-9)
    f1_a = by["a"].metrics["f1"]
    assert f1_a.value is not None and f1_a.value > 0
    assert f1_a.ci_low is not None and f1_a.ci_low >= 0.0
    for d in res.disparities:
        if d.metric == "f1":
            assert d.ratio.ci_low is None and d.difference.ci_low is None
    # the count columns of a large group's replicate totals are whole numbers
    feats = np.column_stack([np.ones(n), y, score >= 0.2, y & (score >= 0.2), score])

    tot = iv.resampled_totals(codes.astype(np.intp), 2, lambda rows: feats[rows], 5, 300,
                              np.random.default_rng(5), lambda: False,
                              cell_of_row=y.astype(np.intp) * 2 + (score >= 0.2))
    counts = tot[:, :, :4]
    assert np.array_equal(counts, np.round(counts))
    assert np.all(tot[:, :, 0] == tot[:, :, 0][0])  # each group's size is fixed
    assert not np.array_equal(tot[:, :, 4], np.round(tot[:, :, 4]))  # the score column varies


def test_normal_root_centred_in_place_equals_the_copy_and_numpys_covariance() -> None:
    """Centring the patients' totals in place (no copy at 2.5M × 13) changes no bit, and
    L·Lᵀ is the population covariance NumPy computes independently."""
    from assessment.evaluation.intervals import _normal_root

    rng = np.random.default_rng(3)
    f = rng.gamma(2.0, size=(5000, 7)) * np.arange(1, 8)
    mean, root = _normal_root(f)
    work = f.copy()
    mean2, root2 = _normal_root(work, overwrite=True)
    assert np.array_equal(mean, mean2) and np.array_equal(root, root2)
    assert np.allclose(root @ root.T, np.cov(f.T, bias=True), rtol=1e-12, atol=1e-12)


def test_column_sums_are_numpys_bit_for_bit() -> None:
    """The faster column sums (bootstrap moments) add exactly as ``sum(axis=0)`` does, on
    heavy-tailed values of mixed scales with −0.0, on strided views and with one column."""
    from assessment.evaluation.intervals import column_sums

    rng = np.random.default_rng(2)
    for _ in range(60):
        m, k = int(rng.integers(1, 100_000)), int(rng.integers(1, 25))
        f = rng.standard_cauchy(size=(m, k)) * 10.0 ** rng.integers(-10, 10, size=k)
        f[rng.random((m, k)) < 0.01] = -0.0
        for g in (f, f[::3]):
            got, expected = column_sums(g), g.sum(axis=0)
            assert np.array_equal(got, expected)
            assert np.array_equal(np.signbit(got), np.signbit(expected))
