"""The one-pass paired resampler: every grouping's replicate totals have the mean and
covariance of resampling that group's rows with replacement (m·mean, m·covariance)."""

from __future__ import annotations

import numpy as np

from assessment.compare.paired_resample import cell_moments, finest_codes, grouping_totals
from assessment.evaluation.metrics import Grouping


def _gp(name: str, codes: np.ndarray, size: int, comps: tuple[str, ...]) -> Grouping:
    return Grouping(name, codes.astype(np.intp), tuple(map(str, range(size))), comps)


def test_replicate_totals_have_the_bootstrap_mean_and_covariance() -> None:
    rng = np.random.default_rng(11)
    n = 12_000
    a = rng.choice(3, n, p=[0.7, 0.29, 0.01])  # the last group has ~120 rows: exact regime
    s = rng.choice(2, n)
    y = rng.random(n) < 0.3
    p = np.clip(rng.beta(2, 5, n) + 0.2 * y, 0, 1)
    flag = p > 0.4
    feats = np.column_stack([np.ones(n), y, flag, flag & y, (p - y) ** 2, p]).astype(float)
    cell = y.astype(np.int64) + 2 * flag

    def features(rows: np.ndarray) -> np.ndarray:
        return feats[rows]

    ga, gs = _gp("a", a, 3, ("a",)), _gp("s", s, 2, ("s",))
    gx = _gp("a×s", a * 2 + s, 6, ("a", "s"))
    fine = finest_codes([ga, gs, gx], n)
    mo = cell_moments(fine, cell, 4, features, feats.shape[1], lambda: False)
    b = 3000
    for gp in (ga, gs, gx):
        out = grouping_totals(gp, fine, mo, features, b, np.random.default_rng(5), lambda: False)
        for g in range(gp.size):
            f = feats[gp.codes == g]
            m = f.shape[0]
            np.testing.assert_allclose(out[:, g, :].mean(axis=0), f.sum(axis=0),
                                       rtol=0.02, atol=0.5)
            want = m * np.cov(f.T, bias=True)
            got = np.cov(out[:, g, :].T)
            scale = np.sqrt(np.outer(np.diag(want), np.diag(want)))
            assert np.all(np.abs(got - want) <= 0.12 * scale + 1e-6), (gp.name, g)
            # counts of rows, events and flags stay integers (exact multinomial cells)
            assert np.allclose(out[:, g, :4], np.round(out[:, g, :4]))


def test_finest_codes_refine_every_grouping() -> None:
    rng = np.random.default_rng(2)
    a, s = rng.integers(0, 4, 500), rng.integers(0, 3, 500)
    fine = finest_codes([_gp("a", a, 4, ("a",)), _gp("s", s, 3, ("s",))], 500)
    for codes in (a, s):
        for f in np.unique(fine):
            assert np.unique(codes[fine == f]).size == 1
    assert np.unique(fine).size == np.unique(a * 3 + s).size
    assert finest_codes([], 3).tolist() == [0, 0, 0]


def test_a_total_of_tiny_scale_keeps_its_variance() -> None:
    """A total 10⁻¹⁰ of the others (the scale of an over-confident score's weights π(1 − π)),
    varying within the outcome × flag cells, gets its own bootstrap variance: the eigen-root
    with a cut-off at 10⁻¹² of max(1, largest eigenvalue) dropped it (variance 0)."""
    rng = np.random.default_rng(12)
    n = 6000
    y = rng.random(n) < 0.3
    p = np.clip(rng.beta(2, 5, n) + 0.2 * y, 0, 1)
    flag = p > 0.4
    tiny = 1e-10 * rng.normal(size=n)  # no difference between the cells: within-cell spread
    feats = np.column_stack([np.ones(n), y, flag, flag & y, p, tiny]).astype(float)
    cell = y.astype(np.int64) + 2 * flag
    gp = _gp("all", np.zeros(n, dtype=np.intp), 1, ("a",))
    fine = finest_codes([gp], n)
    mo = cell_moments(fine, cell, 4, lambda rows: feats[rows], feats.shape[1], lambda: False)
    out = grouping_totals(gp, fine, mo, lambda rows: feats[rows], 3000,
                          np.random.default_rng(6), lambda: False)
    # against the bootstrap variance of the tiny total by plain resampling
    got = out[:, 0, 5].var()
    boot = np.array([feats[rng.integers(0, n, n), 5].sum() for _ in range(2000)])
    assert 0.85 < got / boot.var() < 1.15, (got, boot.var())
