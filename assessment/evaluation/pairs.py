"""A comparison's difference and ratio arrays, and the few-clusters rule that blanks them."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from assessment.evaluation import intervals as iv
from assessment.evaluation.metrics import GroupingStats


@dataclass(frozen=True)
class Pair:
    """Arrays over the groups of one grouping: difference and ratio with limits."""

    diff: np.ndarray
    diff_lo: np.ndarray
    diff_hi: np.ndarray
    ratio: np.ndarray
    ratio_lo: np.ndarray
    ratio_hi: np.ndarray
    diff_method: str
    ratio_method: str
    # why an interval is missing where the estimate exists (None: no particular reason)
    diff_reasons: list[str | None] | None = None
    ratio_reasons: list[str | None] | None = None
    # two-sided p-value of "no difference" (the inversion of the difference's interval)
    p_diff: np.ndarray | None = None


def few_clusters(
    stats: GroupingStats,
    overall: GroupingStats,
    ref: int | np.ndarray | None,
    pairs: dict[str, Pair],
) -> None:
    """Clustered data: a comparison whose group or reference has fewer than
    :data:`iv.MIN_CLUSTERS` patients gets no interval and no p-value (hence no flag)."""
    k = np.asarray(stats.units.per_group, float)
    k_ref = (
        np.full(k.shape, float(overall.units.per_group[0]))
        if ref is None or overall.units is None
        else np.broadcast_to(k[ref], k.shape)
    )
    blocked: list[str | None] = []
    for kg, kr in zip(k, k_ref, strict=True):
        own, other = iv.too_few_clusters(kg), iv.too_few_clusters(kr)
        blocked.append(own or (f"reference group: {other}" if other else None))
    if not any(blocked):
        return
    keep = np.array([b is None for b in blocked])
    for mid, pair in pairs.items():
        dwhy = list(pair.diff_reasons or [None] * k.size)
        rwhy = list(pair.ratio_reasons or [None] * k.size)
        for g, b in enumerate(blocked):
            if b is not None:
                dwhy[g] = rwhy[g] = b
        pairs[mid] = replace(
            pair,
            diff_lo=np.where(keep, pair.diff_lo, np.nan),
            diff_hi=np.where(keep, pair.diff_hi, np.nan),
            ratio_lo=np.where(keep, pair.ratio_lo, np.nan),
            ratio_hi=np.where(keep, pair.ratio_hi, np.nan),
            diff_reasons=dwhy,
            ratio_reasons=rwhy,
            p_diff=None if pair.p_diff is None else np.where(keep, pair.p_diff, np.nan),
        )
