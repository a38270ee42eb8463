"""Confidence intervals, vectorised over groups.

Analytic where the method is valid (they are exact to compute and cost nothing):
- Wilson score interval for a proportion (Wilson 1927);
- Newcombe's hybrid score interval for a difference of independent proportions (Newcombe 1998,
  method 10);
- Katz's log method for a ratio of independent proportions (Katz et al. 1978), with the 0.5
  continuity correction at the boundaries (see :func:`katz`);
- AUROC: DeLong et al. (1988) on the logit scale, using the structural components from
  :func:`assessment.evaluation.metrics.auroc_delong`, and Newcombe's (2006) score interval
  with few events (:func:`assessment.evaluation.auroc_ci.auroc_interval`).

Everything else uses a seeded percentile bootstrap that resamples rows (or patients) within each
group, so the number of events varies between replicates as between real cohorts. Replicates
are never built as data copies: each group's replicate *totals* of a few per-row quantities are
drawn directly (see :func:`resampled_totals`), and every bootstrap statistic is a smooth
function of those totals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from threadpoolctl import threadpool_limits

from assessment.errors import Cancelled
from assessment.evaluation.covroot import moment_root, psd_root
from assessment.evaluation.exact_draws import exact_totals

WILSON = "Wilson score interval"
NEWCOMBE = "Newcombe hybrid score interval (method 10)"
KATZ = "Katz log method (0.5 added to every cell when a count is 0 or equals its denominator)"
KATZ_CORRECTION = 0.5
DELONG = "DeLong (normal approximation, structural components)"

# Groups up to this many rows (or clusters) are resampled exactly (multinomial counts per row);
# larger groups draw their replicate totals from the multivariate normal limit of the resampled
# totals, which a sum of more than this many bootstrap draws of bounded quantities already
# follows closely; without clusters the counts of outcome × predicted class stay exact.
EXACT_RESAMPLE_MAX = 500
# A bootstrap interval is reported only when at least this share of replicates is defined.
MIN_DEFINED_SHARE = 0.9
# Below this many rows (patients, when clustered) a group's resamples are too few and too
# alike for a percentile bootstrap (2 rows have 3 distinct resamples): its bootstrap intervals,
# and bootstrap disparities involving it, are left out with a reason (no interval, no flag).
MIN_BOOTSTRAP_UNITS = 10


# Below this many patients (clusters) a group's cluster-robust variances (sandwich /
# ratio-estimator, Obuchowski, the patient bootstrap) are unreliable and too small (Donner &
# Klar 2000; Cameron & Miller 2015, "A practitioner's guide to cluster-robust inference", §VI:
# with few clusters they understate the variance): such a group gets no interval, and
# comparisons involving it no interval and no flag.
MIN_CLUSTERS = 20


def too_few_clusters(units: float, behind: str = "") -> str | None:
    """Why ``units`` patients (of a group; ``behind`` a statistic) give no clustered interval."""
    if 0 < units < MIN_CLUSTERS:
        noun = ("patient" if units == 1 else "patients") + (f" {behind}" if behind else "")
        return (
            f"only {units:g} {noun} (clusters) in this group; cluster-robust intervals need at "
            f"least {MIN_CLUSTERS}"
        )
    return None


def bootstrap_too_small(units: float, clustered: bool = False) -> str | None:
    """Why a group of ``units`` rows (patients) gets no bootstrap interval, else None."""
    if clustered and (few := too_few_clusters(units)):
        return few
    if 0 < units < MIN_BOOTSTRAP_UNITS:
        noun = ("patient" if clustered else "row") + ("" if units == 1 else "s")
        return (
            f"the group has only {units:g} {noun}, too few for a bootstrap interval "
            f"(at least {MIN_BOOTSTRAP_UNITS} needed)"
        )
    return None


def z_value(level: float) -> float:
    """Two-sided standard-normal quantile for a confidence level (1.959964 at 0.95)."""
    return NormalDist().inv_cdf(0.5 + level / 2)


def wilson_centre_half(k: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval's centre and half-width for k of n at normal quantile z."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        z2 = z * z
        denom = 1 + z2 / n
        centre = (p + z2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return centre, half


def wilson(k: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k successes in n trials (NaN where n = 0)."""
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    centre, half = wilson_centre_half(k, n, z_value(level))
    with np.errstate(invalid="ignore"):
        lo = np.clip(centre - half, 0.0, 1.0)
        hi = np.clip(centre + half, 0.0, 1.0)
    bad = ~(n > 0)
    lo = np.where(bad, np.nan, lo)
    hi = np.where(bad, np.nan, hi)
    # Exact boundaries: the Wilson limit at p = 0 (or 1) is 0 (or 1) analytically.
    lo = np.where((k == 0) & ~bad, 0.0, lo)
    hi = np.where((k == n) & ~bad, 1.0, hi)
    return lo, hi


def newcombe(
    k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Difference p1 − p2 with Newcombe's hybrid score interval (method 10)."""
    k1, n1, k2, n2 = (np.asarray(a, dtype=np.float64) for a in (k1, n1, k2, n2))
    l1, u1 = wilson(k1, n1, level)
    l2, u2 = wilson(k2, n2, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1 = k1 / n1
        p2 = k2 / n2
        d = p1 - p2
        lo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        hi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lo, hi


MEAN_T_LOG = (
    "t interval on the log scale for a positive mean, mean·exp(±t(n − 1)·s/(√n·mean)) (the "
    "Brier score's squared errors are right-skewed at low prevalence; Bradley, Schwartz & "
    "Hashino 2008 give its standard error), the upper limit capped at 1 (the largest possible "
    "Brier score)"
)


def mean_t_log(
    total: np.ndarray, total_sq: np.ndarray, n: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Interval for the mean of n non-negative values from their sum and sum of squares: the
    Student-t interval of the log mean with the delta-method standard error s/(√n·mean).
    NaN where n < 2, the mean is 0 or every value is the same."""
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        var = np.maximum(total_sq - n * mean * mean, 0.0) / (n - 1)
    return log_mean_interval(mean, var / n, n - 1, level)


def log_mean_interval(
    mean: np.ndarray, var_mean: np.ndarray, df: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """mean·exp(±t(df)·√var_mean/mean) (the delta method on the log scale); NaN where df < 1,
    the mean is 0 or the variance is 0 or undefined."""
    from scipy.special import stdtrit  # Student-t quantile; cheaper to import than scipy.stats

    df = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = stdtrit(np.maximum(df, 1), 0.5 + level / 2)
        rel = q * np.sqrt(var_mean) / mean
        lo, hi = mean * np.exp(-rel), mean * np.exp(rel)
    ok = (df >= 1) & (mean > 0) & np.isfinite(rel) & (rel > 1e-12)
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


MOVER_MEAN = (
    "MOVER-Wilson interval for the mean of TPR and TNR (Zou & Donner 2008: Wilson limits of "
    "each proportion combined by the method of variance estimates recovery)"
)


def mover_mean(
    k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Interval for (p1 + p2)/2 of two independent proportions (balanced accuracy = mean of
    TPR and TNR) by MOVER from their Wilson limits (Zou & Donner 2008); NaN where a
    denominator is 0."""
    k1, n1, k2, n2 = (np.asarray(a, dtype=np.float64) for a in (k1, n1, k2, n2))
    l1, u1 = wilson(k1, n1, level)
    l2, u2 = wilson(k2, n2, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = k1 / n1, k2 / n2
        m = (p1 + p2) / 2
        lo = m - np.sqrt((p1 - l1) ** 2 + (p2 - l2) ** 2) / 2
        hi = m + np.sqrt((u1 - p1) ** 2 + (u2 - p2) ** 2) / 2
    return lo, hi


def katz(
    k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio p1 / p2 with Katz's log-method interval (Katz et al. 1978).

    The plain log method breaks down at the boundaries: with k = 0 the log ratio is infinite, and
    with k = n (e.g. one negative that is a true negative) the variance term 1/k − 1/n is 0, so a
    group of 1 or 2 rows would get a near-zero-width interval. Where any of the four cells (k1,
    n1 − k1, k2, n2 − k2) is 0, 0.5 is added to every cell (the Haldane–Anscombe continuity
    correction, i.e. k + 0.5 of n + 1) before the interval is computed. The reported ratio stays
    the observed one, and the interval is the union of the corrected interval and the observed
    ratio: with k1 = 0 the lower limit is 0 (a zero count cannot exclude a zero ratio), and at
    confidence levels far below 95% the corrected interval may otherwise miss an observed ratio
    it was shifted away from. NaN where a denominator is 0; an infinite ratio (k2 = 0) has an
    infinite upper limit.
    """
    z = z_value(level)
    k1, n1, k2, n2 = (np.asarray(a, dtype=np.float64) for a in (k1, n1, k2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (k1 / n1) / (k2 / n2)
        boundary = (k1 == 0) | (k1 == n1) | (k2 == 0) | (k2 == n2)
        c = np.where(boundary, KATZ_CORRECTION, 0.0)
        a1, m1, a2, m2 = k1 + c, n1 + 2 * c, k2 + c, n2 + 2 * c
        rc = (a1 / m1) / (a2 / m2)
        se = np.sqrt(1 / a1 - 1 / m1 + 1 / a2 - 1 / m2)
        ok = (n1 > 0) & (n2 > 0) & ~np.isnan(r)
        lo = np.where(ok, np.minimum(rc * np.exp(-z * se), r), np.nan)
        hi = np.where(ok, np.maximum(rc * np.exp(z * se), r), np.nan)
    return r, lo, hi


def normal_interval(
    est: np.ndarray, var: np.ndarray, level: float, bounds: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    z = z_value(level)
    with np.errstate(invalid="ignore"):
        half = z * np.sqrt(var)
        lo = est - half
        hi = est + half
    if bounds is not None:
        lo = np.clip(lo, *bounds)
        hi = np.clip(hi, *bounds)
    bad = ~np.isfinite(var) | ~np.isfinite(est) | (var < 0)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


@dataclass(frozen=True)
class Percentiles:
    lo: np.ndarray
    hi: np.ndarray
    defined_share: np.ndarray


def percentile_interval(reps: np.ndarray, level: float) -> Percentiles:
    """Percentile interval per column of ``reps`` (B × k) over the finite replicates.

    Columns with fewer than :data:`MIN_DEFINED_SHARE` finite replicates get NaN limits.
    """
    reps = np.asarray(reps, dtype=np.float64)
    if reps.ndim == 1:
        reps = reps[:, None]
    finite = np.isfinite(reps)
    share = finite.mean(axis=0) if reps.shape[0] else np.zeros(reps.shape[1])
    q = [(1 - level) / 2, 1 - (1 - level) / 2]
    lo = np.full(reps.shape[1], np.nan)
    hi = np.full(reps.shape[1], np.nan)
    ok = share >= MIN_DEFINED_SHARE
    if ok.any():
        sub = np.where(finite[:, ok], reps[:, ok], np.nan)
        if finite[:, ok].all():
            qs = np.quantile(sub, q, axis=0)
        else:
            qs = np.nanquantile(sub, q, axis=0)
        lo[ok] = qs[0]
        hi[ok] = qs[1]
    return Percentiles(lo=lo, hi=hi, defined_share=share)


TOO_FEW_FOR_BOOTSTRAP = "too few observations for a bootstrap interval"


@dataclass(frozen=True)
class BootstrapInterval:
    """A checked percentile interval: NaN limits with ``reasons`` where it is not usable."""

    lo: np.ndarray
    hi: np.ndarray
    reasons: list[str | None]


def bootstrap_interval(
    reps: np.ndarray, estimate: np.ndarray, level: float, *, exact: np.ndarray | None = None
) -> BootstrapInterval:
    """Percentile interval per column of ``reps``, refused where the bootstrap cannot judge.

    The percentile bootstrap needs replicates that vary around the estimate. With a few rows per
    stratum (a group with one positive and one negative) or a statistic stuck at a boundary in
    every resample (F1 with no true positives), all replicates are equal and the "interval" would
    have zero width, which claims certainty the data do not have; when fewer than
    (1 − level)/2 of the replicates fall on one side of the estimate the interval excludes the
    estimate, a sign of a too-discrete bootstrap distribution. Both are reported as NaN with the
    reason :data:`TOO_FEW_FOR_BOOTSTRAP`. ``exact`` marks columns whose value is determined
    exactly (e.g. a group against the overall population when the group is everyone): their
    interval is the point itself. Limits that miss the estimate only by rounding are widened to
    it.
    """
    est = np.asarray(estimate, dtype=np.float64)
    pct = percentile_interval(reps, level)
    lo, hi = pct.lo.copy(), pct.hi.copy()
    reasons: list[str | None] = [None] * est.size
    tol = 1e-9 * np.maximum(1.0, np.abs(np.nan_to_num(est)))
    finite = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi)
    with np.errstate(invalid="ignore"):
        flat = finite & (hi - lo <= tol)
        outside = finite & ~flat & ((lo > est + tol) | (hi < est - tol))
        lo = np.where(finite, np.minimum(lo, est), lo)
        hi = np.where(finite, np.maximum(hi, est), hi)
    for j in np.flatnonzero(flat | outside):
        reasons[j] = TOO_FEW_FOR_BOOTSTRAP + (
            ": every resample gives the same value"
            if flat[j]
            else f": fewer than {100 * (1 - level) / 2:g}% of resamples lie on one side of "
            "the estimate"
        )
    bad = flat | outside
    lo[bad] = np.nan
    hi[bad] = np.nan
    for j in np.flatnonzero(np.isfinite(est) & ~np.isfinite(pct.lo) & ~bad):
        reasons[j] = (
            f"the statistic is undefined in {100 * (1 - pct.defined_share[j]):.0f}% of "
            "bootstrap resamples"
        )
    if exact is not None:
        ex = np.asarray(exact, dtype=bool) & np.isfinite(est)
        lo[ex] = est[ex]
        hi[ex] = est[ex]
        for j in np.flatnonzero(ex):
            reasons[j] = None
    return BootstrapInterval(lo=lo, hi=hi, reasons=reasons)


def bootstrap_method(b: int, seed: int, clustered: bool = False) -> str:
    unit = "patients (clusters) within each group" if clustered else "rows within each group"
    return (
        f"percentile bootstrap (B={b}, seed={seed}) resampling {unit}, so every replicate has "
        f"a random number of events; groups above {EXACT_RESAMPLE_MAX} "
        f"{'clusters' if clustered else 'rows'} use the normal limit of their resampled totals"
        + ("" if clustered else " given exact multinomial counts of outcome × predicted class")
    )


# Rows per block when a clustered group's per-patient totals are accumulated (the per-row
# feature matrix of a block: 65,536 rows × 20 features × 8 bytes = 10 MB).
UNIT_BLOCK = 1 << 16


def _blocked_unit_totals(
    rows: np.ndarray,
    features: Callable[[np.ndarray], np.ndarray],
    n_features: int,
    unit: np.ndarray,
) -> np.ndarray:
    """Per-unit (patient) column sums of ``features(rows)`` (units × features, units in the
    order of their codes) without the rows × features matrix: the features of
    :data:`UNIT_BLOCK` rows at a time are added per unit in row order, the order
    ``np.bincount`` over all rows adds in, so the totals do not depend on the block size."""
    _, inv = np.unique(unit, return_inverse=True)
    size = int(inv.max()) + 1 if inv.size else 0
    tot = np.zeros((n_features, size))
    for start in range(0, rows.size, UNIT_BLOCK):
        block = slice(start, start + UNIT_BLOCK)
        f = features(rows[block])
        idx = inv[block]
        for j in range(n_features):
            np.add.at(tot[j], idx, f[:, j])
    return np.ascontiguousarray(tot.T)


def column_sums(f: np.ndarray) -> np.ndarray:
    """``f.sum(axis=0)`` bit for bit (the same additions, row after row), 3–4× faster for a
    tall matrix of several columns: NumPy's reduction calls its inner loop once per row of a
    few elements, ``einsum`` runs one loop (with one column NumPy sums pairwise instead)."""
    out: np.ndarray = np.einsum("ij->j", f) if f.ndim == 2 and f.shape[1] >= 2 else f.sum(axis=0)
    return out


def _normal_root(f: np.ndarray, *, overwrite: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Mean and a square root L (L·Lᵀ = covariance, population form) of the rows of ``f``;
    ``overwrite``: centre ``f`` in place (its caller drops it; no copy of its size, 260 MB for
    2.5M patients × 13 totals), the same subtraction as into a new array."""
    mean = column_sums(f) / f.shape[0]  # f.mean(axis=0), bit for bit
    if overwrite:
        f -= mean
        centred = f
    else:
        centred = f - mean
    return mean, psd_root(centred.T @ centred / f.shape[0])


def resampled_totals(
    group_of_row: np.ndarray,
    n_groups: int,
    features: Callable[[np.ndarray], np.ndarray],
    n_features: int,
    b: int,
    rng: np.random.Generator,
    cancelled: Callable[[], bool],
    *,
    cell_of_row: np.ndarray,
    cluster_of_row: np.ndarray | None = None,
    unit_totals: Callable[[int, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Replicate totals (b × n_groups × n_features) of a bootstrap stratified by group only.

    Each group is resampled with replacement, independently of the others, so the number of
    events (and of predicted positives, …) in a replicate is random, as it is between real
    validation cohorts. ``features(rows)`` returns the per-row quantity matrix for the given row
    indices (the full n × d matrix never exists). Without clusters, for a group of m rows:

    - m ≤ :data:`EXACT_RESAMPLE_MAX`: exact — multinomial row counts W (b × m), totals = W @ F;
    - larger m: the counts of the ``cell_of_row`` cells (outcome × predicted class) are drawn
      exactly, N ~ Multinomial(m, observed shares), and each cell's totals given its count
      N_c from their normal limit N(N_c·mean_c, N_c·cov_c). Columns constant within a cell
      (indicators, counts) are therefore exact.

    With ``cluster_of_row`` the resampled units are the group's clusters (a patient's rows in
    that group): the same two regimes apply to the units' total vectors (exact multinomial up
    to :data:`EXACT_RESAMPLE_MAX` clusters, else the joint normal limit with their covariance).
    """
    sizes = np.bincount(group_of_row, minlength=n_groups)
    perm = np.argsort(_small(group_of_row, n_groups), kind="stable")
    out = np.zeros((b, n_groups, n_features))
    # The products below are small (b × ≤500 by ≤500 × d): OpenBLAS threads only add
    # synchronisation cost to them (5× slower on a busy 2-core machine), so one thread.
    with threadpool_limits(1, user_api="blas"):
        _fill_totals(
            out, sizes, perm, features, b, rng, cancelled, cell_of_row, cluster_of_row, unit_totals
        )
    return out


def _fill_totals(
    out: np.ndarray,
    sizes: np.ndarray,
    perm: np.ndarray,
    features: Callable[[np.ndarray], np.ndarray],
    b: int,
    rng: np.random.Generator,
    cancelled: Callable[[], bool],
    cell_of_row: np.ndarray,
    cluster_of_row: np.ndarray | None,
    unit_totals: Callable[[int, np.ndarray], np.ndarray] | None = None,
) -> None:
    """The per-group work of :func:`resampled_totals` (same two regimes). ``unit_totals(s,
    rows)``, when given, returns group s's per-patient totals (those of
    :func:`_blocked_unit_totals`) from its caller's precomputed patient order."""
    n_features = out.shape[2]
    ends = np.cumsum(sizes)
    starts = ends - sizes
    for s in range(sizes.size):
        if cancelled():
            raise Cancelled()
        if sizes[s] == 0:
            continue
        rows = perm[starts[s] : ends[s]]
        if cluster_of_row is None and rows.size > EXACT_RESAMPLE_MAX:
            _cell_normal_totals(out[:, s, :], rows, features, cell_of_row, rng)
            continue
        if unit_totals is not None:
            f = unit_totals(s, rows)
        elif cluster_of_row is not None:
            f = _blocked_unit_totals(rows, features, n_features, cluster_of_row[rows])
        else:
            f = features(rows)
        m = f.shape[0]
        if m <= EXACT_RESAMPLE_MAX:
            out[:, s, :] = exact_totals(f, b, rng)  # in blocks of replicates (memory)
            continue
        if cluster_of_row is not None:
            mean, root = _normal_root(f, overwrite=True)  # f is not used after this
            del f
            draws = rng.standard_normal((b, n_features)) @ root.T
            out[:, s, :] = m * mean + np.sqrt(m) * draws
            continue


# Rows per block when a large group's per-cell moments are accumulated (bounds the memory of
# the per-row feature matrix: 262,144 rows × 20 features × 8 bytes = 42 MB).
FEATURE_BLOCK = 1 << 18


def _cell_normal_totals(
    out: np.ndarray,
    rows: np.ndarray,
    features: Callable[[np.ndarray], np.ndarray],
    cell_of_row: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Large group without clusters: exact multinomial cell counts, normal totals within cells
    (see :func:`resampled_totals`), from per-cell moments accumulated block by block."""
    b, k = out.shape
    cells = cell_of_row[rows]
    n_cells = int(cells.max()) + 1
    count = np.zeros(n_cells)
    total = np.zeros((n_cells, k))
    cross = np.zeros((n_cells, k, k))
    for start in range(0, rows.size, FEATURE_BLOCK):
        cc = cells[start : start + FEATURE_BLOCK]
        order = np.argsort(cc.astype(np.uint8), kind="stable")  # radix: cells side by side
        f = features(rows[start : start + FEATURE_BLOCK][order])
        ends = np.cumsum(np.bincount(cc, minlength=n_cells))
        starts = np.r_[0, ends[:-1]]
        for c in range(n_cells):
            fc = f[starts[c] : ends[c]]
            count[c] += fc.shape[0]
            total[c] += column_sums(fc)
            cross[c] += fc.T @ fc
    m = rows.size
    draws_n = rng.multinomial(m, count / m, size=b).astype(np.float64)
    for cell in np.flatnonzero(count):
        mean, root = moment_root(cross[cell], total[cell], count[cell])
        draws = rng.standard_normal((b, k)) @ root.T
        kc = draws_n[:, cell : cell + 1]
        out += kc * mean + np.sqrt(kc) * draws


def _small(codes: np.ndarray, size: int) -> np.ndarray:
    if size <= 256:
        return codes.astype(np.uint8)
    if size <= 65536:
        return codes.astype(np.uint16)
    return codes
