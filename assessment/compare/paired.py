"""Paired statistics for two models judged on the same patients, vectorised over groups.

- AUROC difference: DeLong, DeLong & Clarke-Pearson (1988), the covariance of two correlated
  Mann–Whitney AUROCs from their structural components (placement values) on the same
  positives and negatives; the placements come from the engine's own
  :func:`assessment.evaluation.metrics.auroc_delong`, so there is one AUROC in the code base.
- Difference of two proportions on the same rows (TPR on the positives, FPR on the negatives):
  Tango's (1998) score interval for paired proportions, and McNemar's test in its exact
  (binomial) form on the discordant pairs.
- A pair without a statistic (a predicted class has no AUROC; only probabilities have a Brier
  score) gets an entry saying so (:func:`not_applicable_entries`), not a silent gap.

Every function returns NumPy arrays with NaN where a statistic is undefined, plus a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import bdtr, ndtr

from assessment.evaluation.intervals import z_value
from assessment.evaluation.metrics import AurocResult, Grouping, SortedScores, auroc_delong

DELONG_PAIRED = (
    "paired DeLong (DeLong, DeLong & Clarke-Pearson 1988): the variance of the AUROC difference "
    "from the structural components of both models on the same positives and negatives, "
    "normal interval and two-sided z test on the raw scale"
)
TANGO = (
    "Tango (1998) score interval for the difference of paired proportions (same patients), "
    "p-value from McNemar's exact (binomial) test on the discordant pairs"
)
TANGO_BISECTIONS = 60


@dataclass(frozen=True)
class PairedAuroc:
    """Per model (rows) and group (columns): AUROC; per pair: difference, SE, interval, p."""

    auc: np.ndarray  # models × groups
    s10: np.ndarray  # models × models × groups: covariance of V10 over positives
    s01: np.ndarray  # models × models × groups: covariance of V01 over negatives
    n_pos: np.ndarray
    n_neg: np.ndarray
    # per model, DeLong's placement value of every row (V10 for events, V01 for non-events),
    # kept for the clustered variance (:mod:`assessment.compare.paired_clustered`)
    placements: tuple[np.ndarray, ...] = ()

    def difference(
        self, a: int, b: int, level: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """AUROC_a − AUROC_b per group: (value, variance, low, high, p)."""
        d = self.auc[a] - self.auc[b]
        with np.errstate(invalid="ignore", divide="ignore"):
            var = (self.s10[a, a] + self.s10[b, b] - 2 * self.s10[a, b]) / self.n_pos + (
                self.s01[a, a] + self.s01[b, b] - 2 * self.s01[a, b]
            ) / self.n_neg
            var = np.where(var < 0, 0.0, var)  # rounding only: a variance is never negative
            se = np.sqrt(var)
            z = z_value(level)
            lo, hi = d - z * se, d + z * se
            p = np.where(se > 0, 2 * ndtr(-np.abs(d) / np.where(se > 0, se, 1.0)), np.nan)
        return d, var, lo, hi, p


def paired_auroc(
    grouping: Grouping,
    sorted_scores: Sequence[SortedScores | AurocResult],
    y: np.ndarray,
    n_pos: np.ndarray,
    n_neg: np.ndarray,
) -> PairedAuroc:
    """AUROCs of several models on the same rows and the covariance of their placements.

    S10[a, b] is the sample covariance, over a group's positives, of model a's and model b's
    V10 placements (share of the group's negatives scored lower, ties ½); S01 the same over
    negatives with V01. DeLong's variance of AUROC_a − AUROC_b is
    (S10aa + S10bb − 2·S10ab)/n1 + (S01aa + S01bb − 2·S01ab)/n0. A model given as the
    engine's :class:`AurocResult` of this grouping (with placements) is not recomputed.
    """
    k = len(sorted_scores)
    size = grouping.size
    codes = grouping.codes
    places = []
    aucs = np.empty((k, size))
    for i, ss in enumerate(sorted_scores):
        res = ss if isinstance(ss, AurocResult) else auroc_delong(
            grouping, ss, n_pos, n_neg, placements=True)
        assert res.placements is not None
        places.append(res.placements)
        aucs[i] = res.auc
    s10 = np.full((k, k, size), np.nan)
    s01 = np.full((k, k, size), np.nan)
    for cls, out, n_cls in ((True, s10, n_pos), (False, s01, n_neg)):
        rows = y == cls
        c = codes[rows]
        pv = [p[rows] for p in places]
        sums = [np.bincount(c, weights=v, minlength=size) for v in pv]
        for a in range(k):
            for b in range(a, k):
                sab = np.bincount(c, weights=pv[a] * pv[b], minlength=size)
                with np.errstate(invalid="ignore", divide="ignore"):
                    cov = (sab - sums[a] * sums[b] / n_cls) / (n_cls - 1)
                cov = np.where(n_cls > 1, cov, np.nan)
                out[a, b] = cov
                out[b, a] = cov
    return PairedAuroc(
        auc=aucs, s10=s10, s01=s01, n_pos=n_pos, n_neg=n_neg, placements=tuple(places)
    )


# ------------------------------------------------------------------ paired proportions


def pattern_codes(y: np.ndarray, flags: list[np.ndarray]) -> np.ndarray:
    """Per row: outcome + 2·(bit i = model i flags the row), the cell of a pattern table."""
    code = y.astype(np.int32)
    for i, f in enumerate(flags):
        code |= f.astype(np.int32) << (i + 1)
    return code


def pattern_table(codes: np.ndarray, size: int, pattern: np.ndarray, k: int) -> np.ndarray:
    """groups × 2^(k+1) row counts of every outcome × flag pattern (one bincount)."""
    cells = 2 << k
    wide = np.asarray(codes, dtype=np.intp)  # narrow (uint8) codes would wrap around
    return np.bincount(wide * cells + pattern, minlength=size * cells).reshape(size, cells)


def table_discordant(
    table: np.ndarray, k: int, a: int, b: int, outcome: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`discordant` from a :func:`pattern_table`: per group over the rows with
    ``outcome``: (n, flagged by a, a only, b only)."""
    cells = np.arange(2 << k)
    row = (cells & 1) == int(outcome)
    fa = ((cells >> (a + 1)) & 1).astype(bool)
    fb = ((cells >> (b + 1)) & 1).astype(bool)
    t = table.astype(np.float64)
    return (
        t @ row.astype(np.float64),
        t @ (row & fa).astype(np.float64),
        t @ (row & fa & ~fb).astype(np.float64),
        t @ (row & fb & ~fa).astype(np.float64),
    )


def discordant(
    codes: np.ndarray, size: int, rows: np.ndarray, flag_a: np.ndarray, flag_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per group, over ``rows``: (n, flagged by a, b = a only, c = b only)."""
    c = codes[rows]
    fa = flag_a[rows]
    fb = flag_b[rows]
    n = np.bincount(c, minlength=size).astype(np.float64)
    ka = np.bincount(c[fa], minlength=size).astype(np.float64)
    b = np.bincount(c[fa & ~fb], minlength=size).astype(np.float64)
    cc = np.bincount(c[fb & ~fa], minlength=size).astype(np.float64)
    return n, ka, b, cc


def tango_statistic(
    b: np.ndarray, c: np.ndarray, n: np.ndarray, delta: np.ndarray
) -> np.ndarray:
    """Tango's score statistic Z(Δ) = (b − c − nΔ) / √(n(2·p̂21 + Δ(1 − Δ))).

    p̂21 is the maximum-likelihood estimate of the "b only" cell probability under
    p12 − p21 = Δ: the root of 2n·p² + W·p − c·Δ(1 − Δ) = 0 with
    W = −b − c + (2n − b + c)Δ, i.e. p̂21 = (√(W² + 8n·c·Δ(1 − Δ)) − W)/(4n).
    """
    w = -b - c + (2 * n - b + c) * delta
    with np.errstate(invalid="ignore", divide="ignore"):
        root = np.sqrt(np.maximum(w * w + 8 * n * c * delta * (1 - delta), 0.0))
        p21 = (root - w) / (4 * n)
        den = np.sqrt(np.maximum(n * (2 * p21 + delta * (1 - delta)), 0.0))
        num = b - c - n * delta
        z = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.sign(num) * np.inf)
    return np.where(num == 0, 0.0, z)


def tango_interval(
    b: np.ndarray, c: np.ndarray, n: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Difference (b − c)/n with Tango's score interval: all Δ with |Z(Δ)| ≤ z.

    Z(Δ) decreases in Δ, so each limit is found by bisection (all groups at once). NaN where
    n = 0.
    """
    b, c, n = (np.asarray(x, dtype=np.float64) for x in (b, c, n))
    z = z_value(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = (b - c) / n
    ok = n > 0
    est = np.where(ok, d, 0.0)
    nn = np.where(ok, n, 1.0)
    # lower limit: Z(L) = z on (−1, est]; upper: Z(U) = −z on [est, 1)
    lo_a, lo_b = np.full(b.shape, -1.0), est.copy()
    hi_a, hi_b = est.copy(), np.full(b.shape, 1.0)
    for _ in range(TANGO_BISECTIONS):
        mid = (lo_a + lo_b) / 2
        above = tango_statistic(b, c, nn, mid) > z
        lo_a = np.where(above, mid, lo_a)
        lo_b = np.where(above, lo_b, mid)
        mid = (hi_a + hi_b) / 2
        below = tango_statistic(b, c, nn, mid) < -z
        hi_b = np.where(below, mid, hi_b)
        hi_a = np.where(below, hi_a, mid)
    lo = (lo_a + lo_b) / 2
    hi = (hi_a + hi_b) / 2
    nan = np.full(b.shape, np.nan)
    return np.where(ok, d, nan), np.where(ok, lo, nan), np.where(ok, hi, nan)


def mcnemar_exact(b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Two-sided exact McNemar p-value: 2·P(X ≤ min(b, c)), X ~ Binomial(b + c, ½), capped
    at 1 (1 when there are no discordant pairs)."""
    b = np.asarray(b, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    m = b + c
    p = np.minimum(1.0, 2 * bdtr(np.minimum(b, c), np.maximum(m, 1).astype(np.int64), 0.5))
    return np.where(m > 0, p, 1.0)


# ------------------------------------------------------------------ pairs without a statistic

NOT_APPLICABLE = "not applicable"
# metric → the model kinds that have it (a predicted class ranks nobody: no AUROC; only a
# probability has a Brier score and a calibration-in-the-large error)
NEEDS_KIND: dict[str, tuple[str, ...]] = {
    "auroc": ("probability", "score"),
    "brier": ("probability",),
    "calibration_in_the_large": ("probability",),
}
_WHY = {
    "class": "gives a predicted class (no score to rank or compare with the outcome)",
    "score": "gives a raw score, not a probability",
}


def not_applicable_reason(metric: str, kinds: dict[str, str], a: str, b: str) -> str | None:
    """Why the pair (a, b) has no ``metric`` difference, or None when both models have it."""
    need = NEEDS_KIND.get(metric)
    if need is None:
        return None
    lacking = [m for m in (a, b) if kinds[m] not in need]
    if not lacking:
        return None
    what = {"auroc": "AUROC", "brier": "Brier score",
            "calibration_in_the_large": "calibration-in-the-large error"}[metric]
    return "; ".join(f"{m} {_WHY[kinds[m]]}, so it has no {what}" for m in lacking) + (
        ": there is no paired difference")


def not_applicable_entries(
    grouping: Grouping, kinds: dict[str, str], pairs: list[tuple[str, str]],
    n_pos: np.ndarray, n_neg: np.ndarray,
) -> list[dict[str, Any]]:
    """One ``paired`` entry per group for every (metric, pair) that has no difference because
    a model's kind lacks the metric (a predicted class has no AUROC, a raw score or a class no
    Brier score or calibration): value, interval and p are null, the reason says why, so the
    JSON, the report and the app say it instead of leaving the pair out."""
    overall = grouping.is_overall
    out = []
    for metric in NEEDS_KIND:
        for a, b in pairs:
            reason = not_applicable_reason(metric, kinds, a, b)
            if reason is None:
                continue
            for g in range(grouping.size):
                out.append({
                    "metric": metric,
                    "attribute": None if overall else grouping.name,
                    "group": None if overall else grouping.labels[g],
                    "model_a": a, "model_b": b,
                    "n": int(n_pos[g] + n_neg[g]), "n_pos": int(n_pos[g]),
                    "n_neg": int(n_neg[g]),
                    "estimate_a": None, "estimate_b": None,
                    "difference": {"value": None, "ci_low": None, "ci_high": None,
                                   "method": NOT_APPLICABLE, "p_value": None,
                                   "p_adjusted": None, "reason": reason},
                })
    return out
