"""Replicate totals of the paired bootstrap for every grouping from one pass over the rows.

The resampling scheme is the engine's (:func:`assessment.evaluation.intervals.resampled_totals`):
each group is resampled with replacement on its own; a group of at most
:data:`~assessment.evaluation.intervals.EXACT_RESAMPLE_MAX` rows exactly (multinomial row
counts), a larger one through exact multinomial counts of its cells (outcome × every model's
flag) and the normal limit of the other totals within each cell, N(N_c·mean_c, N_c·cov_c).

What differs is how the cell moments are found. A comparison carries ~6 quantities per model,
so recomputing the per-row features and their cross-products for each grouping would cost
(groupings × rows × features²). Here the rows are sorted once by (finest group, cell) — the
finest group being the combination of every attribute's level, of which every attribute and
intersection group is a union — and the count, sum and cross-product of the features are
accumulated once per (finest group, cell). Each grouping's cell moments are then sums of these,
which is exact. Draws use only the non-zero directions of each cell's covariance (indicators
are constant within a cell).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from assessment.errors import Cancelled
from assessment.evaluation.covroot import moment_root
from assessment.evaluation.exact_draws import exact_totals
from assessment.evaluation.intervals import EXACT_RESAMPLE_MAX, FEATURE_BLOCK, column_sums
from assessment.evaluation.metrics import Grouping

Features = Callable[[np.ndarray], np.ndarray]


def finest_codes(groupings: list[Grouping], n: int) -> np.ndarray:
    """Per row, the code of its combination of every single-attribute group (0..F−1)."""
    attrs = [gp for gp in groupings if len(gp.components) == 1]
    if not attrs:
        return np.zeros(n, dtype=np.intp)
    total = 1
    mixed = np.zeros(n, dtype=np.int64)
    for gp in attrs:
        total *= gp.size
        if total > 1 << 40:  # too many combinations for a radix code: label them instead
            stacked = np.stack([g.codes for g in attrs], axis=1)
            _u, inv = np.unique(stacked, axis=0, return_inverse=True)
            return np.asarray(inv, dtype=np.intp).reshape(n)
        mixed = mixed * gp.size + gp.codes
    if total <= 1 << 24:
        present = np.bincount(mixed, minlength=total) > 0
        remap = np.cumsum(present) - 1
        return np.asarray(remap[mixed], dtype=np.intp)
    _u, inv = np.unique(mixed, return_inverse=True)
    return np.asarray(inv, dtype=np.intp).reshape(n)


@dataclass(frozen=True)
class CellMoments:
    """Per (finest group, cell) segment: its key, row count, feature sums and cross-products."""

    keys: np.ndarray
    count: np.ndarray
    total: np.ndarray  # segments × F
    cross: np.ndarray  # segments × F × F
    n_cells: int


def cell_moments(
    fine: np.ndarray, cell: np.ndarray, n_cells: int, features: Features, n_features: int,
    cancelled: Callable[[], bool],
) -> CellMoments:
    """One pass over the rows (in blocks) accumulating the moments of every segment."""
    n = fine.size
    key = fine.astype(np.int64) * n_cells + cell
    order = np.argsort(key, kind="stable")
    skey = key[order]
    starts = np.flatnonzero(np.r_[True, skey[1:] != skey[:-1]])
    ends = np.r_[starts[1:], n]
    seg = starts.size
    total = np.zeros((seg, n_features))
    cross = np.zeros((seg, n_features, n_features))
    with threadpool_limits(1, user_api="blas"):  # small products: threads only add waiting
        _accumulate(order, starts, ends, features, total, cross, cancelled)
    return CellMoments(
        keys=skey[starts], count=(ends - starts).astype(np.float64), total=total, cross=cross,
        n_cells=n_cells,
    )


def _accumulate(
    order: np.ndarray, starts: np.ndarray, ends: np.ndarray, features: Features,
    total: np.ndarray, cross: np.ndarray, cancelled: Callable[[], bool],
) -> None:
    n = order.size
    for lo in range(0, n, FEATURE_BLOCK):
        if cancelled():
            raise Cancelled()
        hi = min(lo + FEATURE_BLOCK, n)
        f = features(order[lo:hi])
        first = int(np.searchsorted(starts, lo, side="right")) - 1
        last = int(np.searchsorted(starts, hi, side="left"))
        for s in range(first, last):
            a, b = max(starts[s], lo) - lo, min(ends[s], hi) - lo
            fc = f[a:b]
            total[s] += column_sums(fc)
            cross[s] += fc.T @ fc


def _representative(fine: np.ndarray, n_fine: int) -> np.ndarray:
    rep = np.zeros(n_fine, dtype=np.intp)
    rep[fine] = np.arange(fine.size)
    return rep


def grouping_totals(
    gp: Grouping,
    fine: np.ndarray,
    moments: CellMoments,
    features: Features,
    b: int,
    rng: np.random.Generator,
    cancelled: Callable[[], bool],
) -> np.ndarray:
    """Replicate totals (b × groups × F) of one grouping (see the module docstring).

    The products are small (b × ≤ F by F × F): OpenBLAS threads only add synchronisation cost
    on a busy machine (measured 4.7× the CPU time on 2 shared cores), so one thread, as in the
    engine's resampling."""
    with threadpool_limits(1, user_api="blas"):
        return _grouping_totals(gp, fine, moments, features, b, rng, cancelled)


def _grouping_totals(
    gp: Grouping,
    fine: np.ndarray,
    moments: CellMoments,
    features: Features,
    b: int,
    rng: np.random.Generator,
    cancelled: Callable[[], bool],
) -> np.ndarray:
    size = gp.size
    k = moments.total.shape[1]
    n_fine = int(fine.max()) + 1 if fine.size else 0
    group_of_fine = gp.codes[_representative(fine, n_fine)]
    seg_group = group_of_fine[moments.keys // moments.n_cells]
    seg_cell = moments.keys % moments.n_cells
    agg_key = seg_group * moments.n_cells + seg_cell
    order = np.argsort(agg_key, kind="stable")
    sk = agg_key[order]
    starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    ukey = sk[starts]
    count = np.add.reduceat(moments.count[order], starts)
    total = np.add.reduceat(moments.total[order], starts, axis=0)
    cross = np.add.reduceat(moments.cross[order], starts, axis=0)
    cell_group = ukey // moments.n_cells
    sizes = np.bincount(cell_group, weights=count, minlength=size)
    out = np.zeros((b, size, k))
    for g in np.flatnonzero(sizes > EXACT_RESAMPLE_MAX):
        if cancelled():
            raise Cancelled()
        cells = np.flatnonzero(cell_group == g)
        m = int(sizes[g])
        draws_n = rng.multinomial(m, count[cells] / m, size=b).astype(np.float64)
        for j, c in enumerate(cells):
            # each total at its own scale, constant ones without draws (as in the engine)
            mean, root = moment_root(cross[c], total[c], count[c])
            kc = draws_n[:, j : j + 1]
            out[:, g, :] += kc * mean + np.sqrt(kc) * (rng.standard_normal((b, k)) @ root.T)
    small = np.flatnonzero((sizes > 0) & (sizes <= EXACT_RESAMPLE_MAX))
    if small.size:
        is_small = np.zeros(size, dtype=bool)
        is_small[small] = True
        rows = np.flatnonzero(is_small[gp.codes])
        rows = rows[np.argsort(gp.codes[rows], kind="stable")]
        f_all = features(rows)
        bounds = np.r_[0, np.cumsum(sizes[small].astype(np.intp))]
        for j, g in enumerate(small):
            out[:, g, :] = exact_totals(f_all[bounds[j] : bounds[j + 1]], b, rng)
    return out

