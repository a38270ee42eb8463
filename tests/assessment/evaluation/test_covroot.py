"""The square root of a covariance matrix the normal-limit bootstraps draw from
(``covroot.psd_root``): L·Lᵀ reproduces the covariance at every scale, a total without variance
gets no draws, and L is a function of the matrix (not of LAPACK's eigenvector signs)."""

from __future__ import annotations

import numpy as np
import pytest

from assessment.evaluation.covroot import psd_root


def scaled_totals(scale: float, seed: int = 0) -> np.ndarray:
    """Totals like a bootstrap's: counts (~10³), residual sums (~1), a weight sum at
    ``scale`` (an over-confident score's π(1 − π)), a constant and an exactly collinear one."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(3000, 4)) * [1e3, 1.0, scale, 1.0]
    f[:, 3] = f[:, 1] + 1e-3 * f[:, 0]
    return np.c_[f, np.full(3000, 7.0), 2.0 * f[:, 1]]


def relative_error(cov: np.ndarray, root: np.ndarray) -> float:
    scale = np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.abs(root @ root.T - cov) / scale
    return float(np.nanmax(np.where(scale > 0, err, 0.0)))


@pytest.mark.parametrize("scale", [1.0, 1e-5, 1e-8, 1e-10, 1e-14])
def test_every_total_keeps_its_own_variance(scale: float) -> None:
    """Each covariance entry to 1e-10 of √(var_i·var_j), also for a total 10⁻¹⁴ of the
    largest: the eigendecomposition of the covariance itself gave that total's variance
    wrong by orders of magnitude (1e-16 for a true 1e-20), so its draws were noise."""
    f = scaled_totals(scale)
    cov = np.cov(f.T, bias=True)
    root = psd_root(cov)
    assert relative_error(cov, root) < 1e-10
    assert np.isclose((root @ root.T)[2, 2], cov[2, 2], rtol=1e-10, atol=0)
    assert np.all(root[4] == 0.0)  # the constant total: no draws


def test_the_plain_eigen_root_fails_where_this_one_holds() -> None:
    """The check above can fail: V·diag(√λ) of the same matrix misses the small variance."""
    cov = np.cov(scaled_totals(1e-10).T, bias=True)
    vals, vecs = np.linalg.eigh(cov)
    plain = vecs * np.sqrt(np.clip(vals, 0.0, None))
    assert not np.isclose((plain @ plain.T)[2, 2], cov[2, 2], rtol=1e-3, atol=0)


def test_the_root_depends_on_the_matrix_not_on_eigenvector_signs() -> None:
    """The same covariance given with its rows and columns permuted has the permuted root
    (LAPACK's eigenvectors, their signs included, differ); a last-bit change of the matrix
    changes the root only by rounding."""
    rng = np.random.default_rng(5)
    f = rng.gamma(2.0, size=(800, 6)) * np.arange(1, 7)
    cov = np.cov(f.T, bias=True)
    perm = rng.permutation(6)
    root = psd_root(cov)
    assert np.allclose(
        psd_root(cov[np.ix_(perm, perm)]), root[np.ix_(perm, perm)], rtol=1e-11, atol=1e-13
    )
    nudged = cov * (1 + 2.0**-52 * rng.choice([-1, 1], size=cov.shape))
    nudged = (nudged + nudged.T) / 2
    assert np.allclose(psd_root(nudged), root, rtol=1e-12, atol=1e-14)


def test_draws_have_the_covariance() -> None:
    """Normal draws z·Lᵀ have covariance L·Lᵀ = cov (checked by simulation, 200,000 draws)."""
    rng = np.random.default_rng(9)
    cov = np.cov(scaled_totals(1e-6, seed=2).T, bias=True)
    root = psd_root(cov)
    draws = rng.standard_normal((200_000, cov.shape[0])) @ root.T
    sd = np.sqrt(np.diag(cov))
    live = sd > 0
    corr = np.corrcoef(draws[:, live].T)
    expected = cov[np.ix_(live, live)] / np.outer(sd[live], sd[live])
    assert np.allclose(corr, expected, atol=0.01)
    assert np.allclose(draws[:, live].std(axis=0) / sd[live], 1.0, atol=0.01)
    assert np.all(draws[:, ~live] == 0.0)


def test_no_variance_at_all() -> None:
    assert np.array_equal(psd_root(np.zeros((3, 3))), np.zeros((3, 3)))
