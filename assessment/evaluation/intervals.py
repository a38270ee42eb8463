"""Confidence intervals, vectorised over groups.

Analytic where the method is valid (they are exact to compute and cost nothing):
- Wilson score interval for a proportion (Wilson 1927);
- Newcombe's hybrid score interval for a difference of independent proportions (Newcombe 1998,
  method 10);
- Katz's log method for a ratio of independent proportions (Katz et al. 1978), with the 0.5
  continuity correction at the boundaries (see :func:`katz`);
- DeLong et al. (1988) for AUROC, using the structural components from
  :func:`assessment.evaluation.metrics.auroc_delong`.

Everything else uses a stratified (group × outcome) seeded percentile bootstrap. Replicates are
never built as data copies: each stratum's replicate *totals* of a few per-row quantities are
drawn directly (see :func:`stratified_totals`), and every bootstrap statistic is a smooth
function of those totals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from assessment.errors import Cancelled

WILSON = "Wilson score interval"
NEWCOMBE = "Newcombe hybrid score interval (method 10)"
KATZ = (
    "Katz log method (0.5 added to every cell when a count is 0 or equals its denominator)"
)
KATZ_CORRECTION = 0.5
DELONG = "DeLong (normal approximation, structural components)"

# Strata up to this many rows are resampled exactly (multinomial counts per row); larger strata
# draw their replicate totals from the multivariate normal limit of the resampled totals
# (mean m·f̄, covariance m·Σ̂), which a sum of more than this many bootstrap draws of bounded
# quantities already follows closely. Counts of 0/1 indicators are always drawn exactly
# (binomial), whatever the stratum size.
EXACT_RESAMPLE_MAX = 500
# A bootstrap interval is reported only when at least this share of replicates is defined.
MIN_DEFINED_SHARE = 0.9


def z_value(level: float) -> float:
    """Two-sided standard-normal quantile for a confidence level (1.959964 at 0.95)."""
    return NormalDist().inv_cdf(0.5 + level / 2)


def wilson(k: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k successes in n trials (NaN where n = 0)."""
    z = z_value(level)
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        z2 = z * z
        denom = 1 + z2 / n
        centre = (p + z2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
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


def bootstrap_method(b: int, seed: int) -> str:
    return (
        f"stratified percentile bootstrap (B={b}, seed={seed}; strata = group × outcome; "
        f"strata above {EXACT_RESAMPLE_MAX} rows use the normal limit of their resampled totals)"
    )


def stratified_totals(
    stratum_of_row: np.ndarray,
    n_strata: int,
    features: Callable[[np.ndarray], np.ndarray],
    indicator_columns: tuple[int, ...],
    n_features: int,
    b: int,
    rng: np.random.Generator,
    cancelled: Callable[[], bool],
) -> np.ndarray:
    """Replicate totals (b × n_strata × n_features) of a stratified bootstrap.

    ``features(rows)`` returns the per-row quantity matrix (len(rows) × n_features) for the given
    row indices, so the full n × d matrix never exists at once. Each stratum of m rows is
    resampled m times with replacement, independently of the others:

    - m ≤ :data:`EXACT_RESAMPLE_MAX`: exact — multinomial row counts W (b × m, via one bincount),
      totals = W @ F;
    - larger m: totals ~ N(m·mean(F), m·cov(F)) (the multivariate CLT limit of the exact
      resample), except indicator columns, drawn exactly as Binomial(m, mean).
    """
    strata_sizes = np.bincount(stratum_of_row, minlength=n_strata)
    perm = np.argsort(_small(stratum_of_row, n_strata), kind="stable")
    ends = np.cumsum(strata_sizes)
    starts = ends - strata_sizes
    out = np.zeros((b, n_strata, n_features))
    rep_rows = np.arange(b)[:, None]
    for s in range(n_strata):
        if cancelled():
            raise Cancelled()
        m = int(strata_sizes[s])
        if m == 0:
            continue
        f = features(perm[starts[s] : ends[s]])
        if m <= EXACT_RESAMPLE_MAX:
            idx = rng.integers(0, m, size=(b, m))
            w = np.bincount((rep_rows * m + idx).ravel(), minlength=b * m).reshape(b, m)
            out[:, s, :] = w.astype(np.float64) @ f
            continue
        mean = f.mean(axis=0)
        centred = f - mean
        cov = centred.T @ centred / m
        vals, vecs = np.linalg.eigh(cov)
        root = vecs * np.sqrt(np.clip(vals, 0.0, None))
        draws = rng.standard_normal((b, n_features)) @ root.T
        out[:, s, :] = m * mean + np.sqrt(m) * draws
        for c in indicator_columns:
            out[:, s, c] = rng.binomial(m, min(max(mean[c], 0.0), 1.0), size=b)
    return out


def _small(codes: np.ndarray, size: int) -> np.ndarray:
    if size <= 256:
        return codes.astype(np.uint8)
    if size <= 65536:
        return codes.astype(np.uint16)
    return codes
