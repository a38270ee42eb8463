"""A comparison's difference and ratio arrays, the few-clusters rule that blanks them, the
bootstrap p-value with its 1/(B + 1) floor, and the calibration slope's MOVER comparison.

Bootstrap p-value (Davison & Hinkley 1997, eq. 4.11, two-sided): p = 2·min(1 + #{d* ≤ 0},
1 + #{d* ≥ 0}) / (B + 1), capped at 1; never below 2/(B + 1), since B replicates cannot show a
smaller one (a p of 0 would pass Holm or BH at any family size).

Calibration slope against a reference GROUP where either group's own slope interval is the
profile-likelihood one (fewer than 50 events or non-events): the percentile bootstrap of the
replicate differences flagged 20 % of null comparisons at ~4 events per group; the difference's
interval is instead MOVER (Zou & Donner 2008) from the two groups' own limits (independent
groups), L = d − √((b₁ − l₁)² + (u₂ − b₂)²), U = d + √((u₁ − b₁)² + (b₂ − l₂)²), and its p-value
the level at which that interval reaches 0, each limit's distance from its estimate taken
proportional to z (so p < 1 − level exactly when the interval excludes 0). Against the overall
population (not independent) the bootstrap stays, with the p floor.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.special import ndtr

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
    # the difference's method per group where it differs between groups (else diff_method)
    diff_methods: list[str] | None = None

    def method_for(self, g: int) -> str:
        return self.diff_method if self.diff_methods is None else self.diff_methods[g]


def bootstrap_p(reps: np.ndarray, min_defined: float) -> np.ndarray:
    """Two-sided bootstrap p-value of "parameter = 0" per column of ``reps`` (B × k), (1 + #) /
    (B + 1) on each side (Davison & Hinkley 1997); NaN where fewer than ``min_defined`` of the
    replicates are defined, or all are equal (as for the interval, which has none there)."""
    reps = np.asarray(reps, dtype=np.float64)
    defined = np.isfinite(reps)
    count = defined.sum(axis=0)
    with np.errstate(invalid="ignore"):
        below = np.where(defined, reps <= 0, False).sum(axis=0)
        above = np.where(defined, reps >= 0, False).sum(axis=0)
        spread = np.where(defined, reps, -np.inf).max(axis=0) - np.where(defined, reps, np.inf).min(
            axis=0
        )
    p = np.minimum(1.0, 2 * (1 + np.minimum(below, above)) / (count + 1))
    ok = (count >= min_defined * reps.shape[0]) & (count > 0) & (spread > 1e-12)
    return np.where(ok, p, np.nan)


SLOPE = "calibration_slope"
MOVER_SLOPE = (
    "MOVER interval for the difference of calibration slopes (Zou & Donner 2008) from the two "
    "groups' own slope intervals (profile-likelihood where a group has fewer than 50 events or "
    "non-events), independent groups; p-value: the level at which it reaches 0 (each limit's "
    "distance from its estimate proportional to z)"
)


def slope_mover(
    stats: GroupingStats, ref: int | np.ndarray | None, level: float, pairs: dict[str, Pair]
) -> None:
    """Against a reference group, the slope comparisons where the group or the reference has
    the profile-likelihood interval: MOVER from the two groups' own limits (module docstring)."""
    prof = stats.slope_profile
    if ref is None or prof is None or SLOPE not in pairs:
        return
    use = prof | prof[ref]
    if not use.any():
        return
    pair = pairs[SLOPE]
    m, lo, hi = stats.values[SLOPE], stats.lo[SLOPE], stats.hi[SLOPE]
    mr, lr, hr = (np.broadcast_to(a[ref], m.shape) for a in (m, lo, hi))
    with np.errstate(invalid="ignore"):
        d = m - mr
        dl = d - np.sqrt((m - lo) ** 2 + (hr - mr) ** 2)
        dh = d + np.sqrt((hi - m) ** 2 + (mr - lr) ** 2)
        # the two half-widths on the side facing 0, at the level's z
        width = np.where(d >= 0, np.hypot(m - lo, hr - mr), np.hypot(hi - m, mr - lr))
    ok = np.isfinite(d) & np.isfinite(dl) & np.isfinite(dh)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(d == 0, 1.0, 2 * ndtr(-np.abs(d) * iv.z_value(level) / width))
    refs = np.broadcast_to(ref, m.shape)
    why = list(pair.diff_reasons or [None] * m.size)
    methods = [pair.diff_method] * m.size
    for g in np.flatnonzero(use):
        methods[g] = MOVER_SLOPE
        if np.isfinite(d[g]) and not ok[g]:
            r = int(refs[g])
            own = not (np.isfinite(lo[g]) and np.isfinite(hi[g]))
            why[g] = (
                f"no interval for the group itself ({stats.ci_reasons[SLOPE][g]})"
                if own
                else f"no interval for the reference group ({stats.ci_reasons[SLOPE][r]})"
            )
    old_p = pair.p_diff if pair.p_diff is not None else np.full(m.shape, np.nan)
    pairs[SLOPE] = replace(
        pair,
        diff_lo=np.where(use, np.where(ok, dl, np.nan), pair.diff_lo),
        diff_hi=np.where(use, np.where(ok, dh, np.nan), pair.diff_hi),
        diff_reasons=why,
        p_diff=np.where(use, np.where(ok, p, np.nan), old_p),
        diff_methods=methods,
    )


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
        pairs[mid] = _kept(pair, keep, dwhy, rwhy)


# Bootstrap metrics whose own interval is analytic where every resample is equal (F1 = 0 or 1:
# Wilson–Jaccard; O/E = 0: Garwood): their bootstrap comparisons must still be blocked there.
FLAT_WITH_INTERVAL = ("f1", "oe_ratio")
FLAT = (
    "every bootstrap resample of {who} is equal ({mid} = {value:g}), so the replicate "
    "differences would carry only the other side's uncertainty"
)


def _flat(reps: np.ndarray) -> np.ndarray:
    """Per column: every defined replicate equal (False where none is defined)."""
    ok = np.isfinite(reps)
    hi = np.where(ok, reps, -np.inf).max(axis=0)
    lo = np.where(ok, reps, np.inf).min(axis=0)
    with np.errstate(invalid="ignore"):
        out: np.ndarray = ok.any(axis=0) & (hi - lo <= 1e-12)
    return out


def flat_sides(stats: GroupingStats, ref: int | np.ndarray | None, pairs: dict[str, Pair]) -> None:
    """A bootstrap comparison whose group or reference has equal replicates everywhere (F1 = 0
    or 1, which has its own Wilson–Jaccard interval) gets no interval and no p-value."""
    if stats.reps is None:
        return
    for mid in FLAT_WITH_INTERVAL:
        if mid not in pairs or mid not in stats.reps:
            continue
        flat = _flat(stats.reps[mid])
        if ref is None:
            assert stats.overall_reps is not None
            ref_flat = np.full(flat.shape, bool(_flat(stats.overall_reps[mid][:, None])[0]))
        else:
            ref_flat = np.broadcast_to(flat[ref], flat.shape)
        pair = pairs[mid]
        blocked = (flat | ref_flat) & np.isfinite(pair.diff_lo)
        if not blocked.any():
            continue
        vals = stats.values[mid]
        refs = np.broadcast_to(-1 if ref is None else ref, flat.shape)
        dwhy = list(pair.diff_reasons or [None] * flat.size)
        rwhy = list(pair.ratio_reasons or [None] * flat.size)
        for g in np.flatnonzero(blocked):
            who, v = ("the group", vals[g]) if flat[g] else ("the reference", vals[refs[g]])
            dwhy[g] = rwhy[g] = FLAT.format(
                who=who, mid=mid.upper().replace("OE_RATIO", "O/E"), value=v
            )
        keep = ~blocked
        pairs[mid] = _kept(pair, keep, dwhy, rwhy)


def after_bootstrap(
    stats: GroupingStats, ref: int | np.ndarray | None, level: float, pairs: dict[str, Pair]
) -> None:
    """The slope's MOVER comparisons, and the flat-replicate block (both above)."""
    slope_mover(stats, ref, level, pairs)
    flat_sides(stats, ref, pairs)


def _kept(pair: Pair, keep: np.ndarray, dwhy: list[str | None], rwhy: list[str | None]) -> Pair:
    """``pair`` with its limits and p-value only where ``keep``, and these reasons."""
    return replace(
        pair,
        diff_lo=np.where(keep, pair.diff_lo, np.nan),
        diff_hi=np.where(keep, pair.diff_hi, np.nan),
        ratio_lo=np.where(keep, pair.ratio_lo, np.nan),
        ratio_hi=np.where(keep, pair.ratio_hi, np.nan),
        diff_reasons=dwhy,
        ratio_reasons=rwhy,
        p_diff=None if pair.p_diff is None else np.where(keep, pair.p_diff, np.nan),
    )
