"""AUROC interval per group: DeLong (1988) on the logit scale, and Newcombe's (2006) score
interval with the Hanley–McNeil variance when events or non-events are few (split from
:mod:`assessment.evaluation.intervals`)."""

from __future__ import annotations

import numpy as np

from assessment.evaluation.intervals import z_value

# Below this many events or non-events the AUROC interval is Newcombe's score interval with the
# Hanley–McNeil variance; from here on DeLong's variance on the logit scale (see auroc_interval).
AUROC_SCORE_BELOW = 50
AUROC_METHOD = (
    f"Newcombe (2006, method 5) score interval with the Hanley–McNeil variance when the group "
    f"has fewer than {AUROC_SCORE_BELOW} events or non-events (or an AUROC of 0 or 1); "
    f"otherwise DeLong (1988) structural-components variance on the logit scale "
    f"(delta method), back-transformed"
)


def _hanley_mcneil_score(
    auc: np.ndarray,
    n1: np.ndarray,
    n0: np.ndarray,
    inflate: np.ndarray,
    z: np.ndarray | float,
    upper: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's (2006) method 5: all θ with (Â − θ)² ≤ z²·V(θ), where V is the Hanley–McNeil
    variance with N* = (n1 + n0)/2 − 1 in place of n1 − 1 and n0 − 1:
    V(θ) = θ(1 − θ)/(n1·n0)·[1 + N*·((1 − θ)/(2 − θ) + θ/(1 + θ))], times ``inflate`` (a
    design effect ≥ 1 for clustered data). Each limit is found by bisection (60 halvings, all
    groups at once); the set is an interval containing Â. ``z`` may differ per group. With
    ``upper``: one limit per group (upper where True), bit for bit the same, returned twice."""
    z2 = np.asarray(z, dtype=np.float64) ** 2
    ns = (n1 + n0) / 2 - 1

    def excess(t: np.ndarray) -> np.ndarray:
        v = t * (1 - t) / (n1 * n0) * (1 + ns * ((1 - t) / (2 - t) + t / (1 + t)))
        gap: np.ndarray = (auc - t) ** 2 - z2 * inflate * v
        return gap

    if upper is not None:
        inside, outside = auc.copy(), np.where(upper, 1.0, 0.0)
        for _ in range(60):
            mid = (inside + outside) / 2
            out = excess(mid) > 0
            inside, outside = np.where(out, inside, mid), np.where(out, mid, outside)
        return inside, inside
    lo_a, lo_b = np.zeros_like(auc), auc.copy()
    hi_a, hi_b = auc.copy(), np.ones_like(auc)
    for _ in range(60):
        mid = (lo_a + lo_b) / 2
        out = excess(mid) > 0
        lo_a, lo_b = np.where(out, mid, lo_a), np.where(out, lo_b, mid)
        mid = (hi_a + hi_b) / 2
        out = excess(mid) > 0
        hi_a, hi_b = np.where(out, hi_a, mid), np.where(out, mid, hi_b)
    return lo_b, hi_a


def auroc_interval(
    auc: np.ndarray,
    var: np.ndarray,
    n1: np.ndarray,
    n0: np.ndarray,
    level: float,
    design_effect: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AUROC interval per group (:data:`AUROC_METHOD`); returns (lo, hi, used_score).
    DeLong's Wald interval under-covers with few events (85–91 % with 10–24 events, worse at
    high AUROC): on the logit scale, log(Â/(1 − Â)) ± z·√V/(Â(1 − Â)), it covers from about 50
    events or non-events on; below that the score interval with the Hanley–McNeil variance
    (Newcombe 2006) keeps ≥ 95 % down to 10 events and has limits inside [0, 1] even at Â = 1.
    ``var`` is DeLong's (or Obuchowski's clustered) variance; ``design_effect`` scales the
    Hanley–McNeil variance for clustered data. NaN where a class is absent."""
    return auroc_limits(auc, var, n1, n0, z_value(level), design_effect)


def auroc_limits(
    auc: np.ndarray,
    var: np.ndarray,
    n1: np.ndarray,
    n0: np.ndarray,
    z: np.ndarray | float,
    design_effect: np.ndarray | None = None,
    upper: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`auroc_interval` at a normal quantile ``z`` (one, or one per group: the MOVER
    p-value bisects on it); returns (lo, hi, used_score); with ``upper`` only that limit."""
    auc = np.asarray(auc, dtype=np.float64)
    deff = np.ones_like(auc) if design_effect is None else np.asarray(design_effect)
    with np.errstate(invalid="ignore", divide="ignore"):
        interior = (auc > 0) & (auc < 1) & (var > 0)
        score = (np.minimum(n1, n0) < AUROC_SCORE_BELOW) | ~interior
        la = np.log(auc) - np.log1p(-auc)
        se = np.sqrt(var) / (auc * (1 - auc))
        lo = 1 / (1 + np.exp(-(la - z * se)))
        hi = 1 / (1 + np.exp(-(la + z * se)))
        s_lo, s_hi = _hanley_mcneil_score(auc, n1, n0, np.maximum(deff, 1.0), z, upper)
    lo = np.where(score, s_lo, lo)
    hi = np.where(score, s_hi, hi)
    bad = ~np.isfinite(auc) | (n1 < 1) | (n0 < 1)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi), score & ~bad
