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
    :data:`iv.MIN_CLUSTERS` patients behind the metric (all its patients, or those in the
    metric's denominator: with an event for TPR, …) gets no interval and no p-value (hence no
    flag)."""
    per_group = np.asarray(stats.units.per_group, float)
    for mid, pair in pairs.items():
        k = np.asarray(stats.units.behind.get(mid, per_group), float)
        if ref is None or overall.units is None:
            assert overall.units is not None
            total = float(overall.units.per_group[0])
            kr0 = float(np.asarray(overall.units.behind.get(mid, [total]))[0])
            k_ref, total_ref = np.full(k.shape, kr0), np.full(k.shape, total)
        else:
            k_ref = np.broadcast_to(k[ref], k.shape)
            total_ref = np.broadcast_to(per_group[ref], k.shape)
        blocked: list[str | None] = []
        for kg, kr, ng, nr in zip(k, k_ref, per_group, total_ref, strict=True):
            own = iv.too_few_clusters(kg, "" if kg == ng else "behind this statistic")
            other = iv.too_few_clusters(kr, "" if kr == nr else "behind this statistic")
            blocked.append(own or (f"reference group: {other}" if other else None))
        if not any(blocked):
            continue
        keep = np.array([b is None for b in blocked])
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
