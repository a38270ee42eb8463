"""Coverage of the paired patient bootstrap's intervals for the Brier-score and net-benefit
differences, against true values computed from the data-generating model."""

from __future__ import annotations

import numpy as np
import pytest

from assessment.compare.paired_bootstrap import ModelRows, paired_bootstrap

PT = 0.2


def _models(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True risk π(x); model A is calibrated but coarse (rounded to 0.05), model B is
    over-confident (logit × 1.8) and exactly 0/1 in the tails."""
    logit = -1.6 + 1.2 * x
    pi = 1 / (1 + np.exp(-logit))
    a = np.round(pi / 0.05) * 0.05
    b = 1 / (1 + np.exp(-1.8 * logit))
    b = np.where(b < 0.01, 0.0, np.where(b > 0.99, 1.0, b))
    return pi, a, b


def _truth() -> tuple[float, float]:
    """E[(p−y)²] = p² − 2pπ + π and NB = E[π·1(p≥t)] − E[(1−π)·1(p≥t)]·t/(1−t), averaged over
    four million draws of x (Monte Carlo error ~1e-5, far below the intervals' width)."""
    x = np.random.default_rng(99).normal(size=4_000_000)
    pi, a, b = _models(x)
    brier = np.mean(a * a - 2 * a * pi + pi) - np.mean(b * b - 2 * b * pi + pi)
    w = PT / (1 - PT)
    nb_a = np.mean(pi * (a >= PT)) - np.mean((1 - pi) * (a >= PT)) * w
    nb_b = np.mean(pi * (b >= PT)) - np.mean((1 - pi) * (b >= PT)) * w
    return float(brier), float(nb_a - nb_b)


@pytest.mark.slow
def test_paired_bootstrap_intervals_cover_the_true_differences() -> None:
    true_brier, true_nb = _truth()
    rng = np.random.default_rng(20261207)
    reps = 1000
    hit_brier = hit_nb = 0
    for r in range(reps):
        n = int(rng.integers(300, 3000))  # both resampling regimes (≤ 500 rows: exact)
        x = rng.normal(size=n)
        pi, a, b = _models(x)
        y = rng.random(n) < pi
        models = [ModelRows(flag=a >= 0.5, nb_flag=a >= PT, prob=a),
                  ModelRows(flag=b >= 0.5, nb_flag=b >= PT, prob=b)]
        boot = paired_bootstrap(np.zeros(n, dtype=np.intp), 1, y, models, PT, 400,
                                np.random.default_rng([5, r]), lambda: False)
        _d, lo, hi, _p, _why = boot.difference("brier", 0, 1, 0.95)
        hit_brier += bool(lo[0] <= true_brier <= hi[0])
        _d, lo, hi, _p, _why = boot.difference("net_benefit", 0, 1, 0.95)
        hit_nb += bool(lo[0] <= true_nb <= hi[0])
    cov_brier, cov_nb = hit_brier / reps, hit_nb / reps
    print(f"paired bootstrap coverage: Brier difference {cov_brier:.3f}, "
          f"net-benefit difference {cov_nb:.3f}")
    assert 0.93 <= cov_brier <= 0.97, cov_brier
    assert 0.93 <= cov_nb <= 0.97, cov_nb
