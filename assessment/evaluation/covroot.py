"""The square root of a covariance matrix from which the normal-limit bootstraps draw."""

from __future__ import annotations

import numpy as np


def psd_root(cov: np.ndarray) -> np.ndarray:
    """A square root L of a covariance matrix (L·Lᵀ = cov) for normal draws z·Lᵀ: L = D·R^½,
    with D the standard deviations, R the correlation matrix and R^½ its symmetric positive
    semi-definite square root (V·diag(√λ)·Vᵀ).

    - Scale: the bootstrap totals span many orders of magnitude (row counts ~10⁶, the weights
      π(1 − π) of an over-confident score ~10⁻¹⁰ per row). An eigendecomposition of ``cov``
      itself is accurate only to ~10⁻¹⁶ of its largest eigenvalue, so the small totals' draws
      were rounding noise larger than their own spread; R has a unit diagonal, each total keeps
      its own scale, and a total with no variance gets no draws at all.
    - Uniqueness: V·diag(√λ) alone depends on the signs (and for near-equal eigenvalues the
      rotation) LAPACK gives the eigenvectors — a last-bit change of ``cov``, or another LAPACK
      build, could flip one and change which replicates a seed draws. R^½ is unique and
      continuous in R, so the intervals from a seed change only by rounding when ``cov`` does.
    - Eigenvalues of R below k·ε·λ_max (its numerical rank, as ``numpy.linalg.matrix_rank``
      counts it) are rounding residues of exactly collinear totals and are set to 0: their
      square roots (~10⁻⁸) would otherwise be noise of their own.
    """
    k = cov.shape[0]
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    live = np.flatnonzero(sd > 0)
    root = np.zeros((k, k))
    if live.size == 0:
        return root
    s = sd[live]
    corr = cov[np.ix_(live, live)] / np.outer(s, s)
    vals, vecs = np.linalg.eigh((corr + corr.T) / 2)
    tol = live.size * np.finfo(np.float64).eps * max(float(vals[-1]), 0.0)
    half = (vecs * np.sqrt(np.where(vals > tol, vals, 0.0))) @ vecs.T
    root[np.ix_(live, live)] = s[:, None] * half
    return root


def moment_root(
    cross: np.ndarray, total: np.ndarray, count: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and :func:`psd_root` of the covariance of rows known by their count, column totals
    and cross-products (Σ f·fᵀ), accumulated in blocks of rows.

    A column constant within those rows (a count indicator: row, event, predicted positive,
    true positive) has no variance: its total is exactly count × value. The moment formula
    Σ f·fᵀ/N − mean·meanᵀ leaves a rounding residue (~1e-17 of mean²) in its covariance that
    became ~1e-9 noise in the draws — an F1 of exactly 0 (no true positive in the group) varied
    around 0 and got a "−2e−9 to 2e−9" interval and huge ratios — and as a residue it need not
    respect |correlation| ≤ 1. A variance below 1e-12 of mean² is that residue (no extra pass
    over the rows): its row and column are 0, so the column's draws are exactly 0.
    """
    mean = total / count
    cov = cross / count - np.outer(mean, mean)
    dead = np.diag(cov) <= 1e-12 * np.maximum(mean * mean, np.finfo(float).tiny)
    cov[dead, :] = 0.0
    cov[:, dead] = 0.0
    return mean, psd_root((cov + cov.T) / 2)
