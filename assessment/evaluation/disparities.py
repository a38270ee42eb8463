"""Disparities: every group against its attribute's reference group, on every metric.

Intervals: Newcombe (difference) and Koopman's score (ratio) for proportions; AUROC: MOVER from
the two groups' own intervals (mover.py), against the overall population DeLong with the covariance
of the two estimates subtracted; the stratified bootstrap's replicate differences otherwise.

Against the *overall* population a group is not independent of its reference (it is part of it).
For proportions the identity p_g − p_all = (d_rest / d_all)·(p_g − p_rest) (denominators d) turns
the problem into the independent comparison of the group with its complement, and
p_g / p_all = 1 / (d_g/d_all + (d_rest/d_all)·p_rest/p_g) is monotone in p_rest/p_g, so the
Newcombe and Koopman intervals of group vs complement map exactly onto intervals for the comparison
with the overall population.

A bootstrap difference or ratio gets an interval only when both the group and its reference have a
usable bootstrap interval of their own: if one side's resamples are degenerate (a group of two
rows), the replicate differences would carry only the other side's uncertainty.

Flags: a gap is flagged when its interval excludes parity and it exceeds the tolerance. A group (or
reference) with insufficient data keeps such a flag — a small group's large, interval-supported
gap is exactly what a reviewer must not miss — but the flag's reason then starts with
"insufficient data (…)" so the flag is never read as firm evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assessment.evaluation import intervals as iv
from assessment.evaluation import mover
from assessment.evaluation.metrics import (
    BOOTSTRAP_METRICS,
    OVERALL_GROUP,
    PROPORTION_METRICS,
    GroupingStats,
)
from assessment.evaluation.multiplicity import (
    MIRRORS,
    NEVER_FLAGGED,
    adjust_flags,
    family_of,
    multiplicity_method,
    multiplicity_note,
    newcombe_p,
    normal_p,
)
from assessment.evaluation.pairs import Pair as _Pair
from assessment.evaluation.pairs import after_bootstrap, bootstrap_p
from assessment.evaluation.pairs import few_clusters as _few_clusters
from assessment.evaluation.ratio_score import KOOPMAN, koopman
from assessment.evaluation.references import (
    LARGEST_RULE,
    REF_ZERO_INFINITE,
    REF_ZERO_UNDEFINED,
    REFERENCE_RULE,
    _sufficient,
    caveat_for,
    choose_reference,
    insufficiency,
    largest_group,
)
from assessment.evaluation.result import Disparity, Estimate, SummaryMeasure, clean
from assessment.evaluation.spec import DEFAULT_TOLERANCES, METRIC_IDS, EvaluationSpec
from assessment.evaluation.summary import MAX_T, summaries

# re-exported: callers import these from here
__all__ = [
    "MIRRORS",
    "NEVER_FLAGGED",
    "Comparison",
    "_sufficient",
    "adjust_flags",
    "choose_reference",
    "compare_groups",
    "decision_notes",
    "family_of",
    "insufficiency",
    "largest_group",
    "multiplicity_method",
]

NO_RATIO = {
    "calibration_intercept": "a ratio is not meaningful for the calibration intercept "
    "(a signed log-odds shift); see the difference",
    "calibration_slope": "a ratio is not meaningful for the calibration slope; see the difference",
}
OVERALL_LABEL = OVERALL_GROUP


@dataclass
class Comparison:
    references: dict[str, str] = field(default_factory=dict)
    disparities: list[Disparity] = field(default_factory=list)
    summary: list[SummaryMeasure] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# A decision rule that calls almost everyone positive (or almost no one) makes TPR/FPR gaps
# meaningless: COMPAS deciles at a threshold of 1 give TPR = FPR = 1 in every group.
EXTREME_SELECTION = 0.01


def decision_notes(kind: str, threshold: float, pred: np.ndarray) -> list[str]:
    """A warning when >= 99 % or <= 1 % of the rows are predicted positive."""
    if pred.size == 0:
        return []
    share = float(np.count_nonzero(pred)) / pred.size
    if EXTREME_SELECTION < share < 1 - EXTREME_SELECTION:
        return []
    rule = (
        "the predicted classes" if kind == "class" else f"the decision rule score >= {threshold:g}"
    )
    what = "positive" if share >= 1 - EXTREME_SELECTION else "negative"
    return [
        f"decision rule: {rule} predicts {share:.1%} of the rows positive, almost everyone "
        f"{what}; TPR, FPR, PPV and selection-rate gaps then say little. Check the threshold "
        "(the model's stated operating point)."
    ]


# A reference: one group's index, None for the overall population, or (for the coverage
# simulation, which stacks many independent comparisons in one grouping) an index per group.
Ref = int | np.ndarray | None


def _proportion_p(stats: GroupingStats, ref: Ref) -> dict[str, np.ndarray]:
    """Newcombe p-values of every proportion metric, in one vectorised bisection."""
    k1, n1, k2, n2 = [], [], [], []
    for mid in PROPORTION_METRICS:
        num, den, _ = stats.parts[mid]
        # clustered: effective counts (÷ the group's design effect), as in the intervals
        deff = np.ones(num.shape) if stats.design_effect is None else stats.design_effect[mid]
        if ref is None:
            num_r, den_r = (num.sum() - num) / deff, (den.sum() - den) / deff
        else:
            num_r, den_r = (
                np.broadcast_to(num[ref] / deff[ref], num.shape),
                np.broadcast_to(den[ref] / deff[ref], den.shape),
            )
        k1.append(num / deff)
        n1.append(den / deff)
        k2.append(num_r)
        n2.append(den_r)
    p = newcombe_p(*(np.concatenate(a) for a in (k1, n1, k2, n2)))
    size = stats.grouping.size
    return {mid: p[i * size : (i + 1) * size] for i, mid in enumerate(PROPORTION_METRICS)}


def _proportion_pair(
    stats: GroupingStats, mid: str, ref: Ref, level: float, p: np.ndarray
) -> _Pair:
    num, den, _ = stats.parts[mid]
    # Clustered data: the intervals use effective counts k/deff of n/deff (the group's design
    # effect; its complement, against the overall population, is given the group's too).
    deff = np.ones(num.shape) if stats.design_effect is None else stats.design_effect[mid]
    if ref is not None:
        en, ed = num / deff, den / deff
        d, dl, dh = iv.newcombe(en, ed, en[ref], ed[ref], level)
        r, rl, rh = koopman(en, ed, en[ref], ed[ref], level)
        return _Pair(d, dl, dh, r, rl, rh, iv.NEWCOMBE, KOOPMAN, p_diff=p)
    num_all, den_all = num.sum(), den.sum()
    num_r, den_r = num_all - num, den_all - den
    share_rest = den_r / den_all if den_all > 0 else np.full(num.shape, np.nan)
    _, dl0, dh0 = iv.newcombe(num / deff, den / deff, num_r / deff, den_r / deff, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_all = num_all / den_all if den_all > 0 else np.nan
        d = num / den - p_all
        r = (num / den) / p_all
        dl, dh = share_rest * dl0, share_rest * dh0
        _, rho_lo, rho_hi = koopman(num_r / deff, den_r / deff, num / deff, den / deff, level)
        a = den / den_all
        rl = 1 / (a + share_rest * rho_hi)
        rh = 1 / (a + share_rest * rho_lo)
    whole = den_r == 0
    dl, dh = np.where(whole, 0.0, dl), np.where(whole, 0.0, dh)
    rl, rh = np.where(whole & np.isfinite(r), 1.0, rl), np.where(whole & np.isfinite(r), 1.0, rh)
    suffix = " (group vs its complement, mapped to the comparison with the overall population)"
    p = np.where(whole, np.nan, p)
    return _Pair(d, dl, dh, r, rl, rh, iv.NEWCOMBE + suffix, KOOPMAN + suffix, p_diff=p)


def _no_delong(var: float) -> str:
    if np.isfinite(var):
        return "a DeLong variance of 0 (perfect separation or one score for all)"
    return "no DeLong variance (it needs at least 2 positives and 2 negatives)"


def _auroc_pair(
    stats: GroupingStats, overall: GroupingStats, ref: Ref, level: float
) -> _Pair | None:
    if stats.auroc is None or overall.auroc is None:
        return None
    # A DeLong variance of 0 (perfect separation in the group) is no measure of uncertainty:
    # the comparison then has no interval, like the group's own AUROC.
    a, v = stats.auroc.auc, np.where(stats.auroc.var > 0, stats.auroc.var, np.nan)
    if ref is None:
        ar = overall.auroc.auc[0]
        vr = overall.auroc.var[0] if overall.auroc.var[0] > 0 else np.nan
        cov = stats.auroc_cov_overall if stats.auroc_cov_overall is not None else np.nan
        how = "DeLong, with the covariance of group and overall estimates"
    else:
        ar, vr, cov = a[ref], v[ref], 0.0
        how = ""  # MOVER below
    z = iv.z_value(level)
    raw_ref = overall.auroc.var[0] if ref is None else stats.auroc.var[ref]
    why: list[str | None] = [
        None
        if not np.isfinite(ag)
        else (
            f"no interval: the group's AUROC has {_no_delong(raw)}"
            if not np.isfinite(vg)
            else (
                f"no interval: the reference's AUROC has {_no_delong(rr)}"
                if not np.isfinite(vrg)
                else None
            )
        )
        for ag, vg, raw, vrg, rr in zip(
            a,
            v,
            stats.auroc.var,
            np.broadcast_to(vr, a.shape),
            np.broadcast_to(raw_ref, a.shape),
            strict=True,
        )
    ]
    if ref is not None:
        return _auroc_mover(stats, ref, level, why)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = a - ar
        vd = v + vr - 2 * cov
        # a group short of the whole population whose difference has no variance (its placements
        # equal the population's, a few rows): no measure of uncertainty, so no interval
        flat = (vd <= 1e-12 * (v + vr)) & (stats.counts.n < overall.counts.n[0])
        vd = np.where(flat, np.nan, vd)
        for g in np.flatnonzero(flat & np.isfinite(a)):
            why[g] = why[g] or "no interval: the DeLong variance of the difference is 0"
        dl, dh = iv.normal_interval(d, vd, level)
        r = a / ar
        vlog = np.where(flat, np.nan, v / a**2 + vr / ar**2 - 2 * cov / (a * ar))
        se = np.sqrt(vlog)
        rl = np.where(np.isfinite(se) & (vlog >= 0), r * np.exp(-z * se), np.nan)
        rh = np.where(np.isfinite(se) & (vlog >= 0), r * np.exp(z * se), np.nan)
    return _Pair(d, dl, dh, r, rl, rh, how + " (normal approximation)",
                 how + " (delta method on the log ratio)", why, why, normal_p(d, vd))  # fmt: skip


def _auroc_mover(
    stats: GroupingStats, ref: int | np.ndarray, level: float, why: list[str | None]
) -> _Pair:
    """Against a reference group: MOVER from the two groups' own AUROC intervals."""
    assert stats.auroc is not None
    c = stats.counts
    d, dl, dh, r, rl, rh, p = mover.auroc_against(
        stats.auroc, c.n_pos, c.n_neg, ref, stats.units is not None, level
    )
    return _Pair(
        d, dl, dh, r, rl, rh, mover.MOVER_AUROC_DIFFERENCE, mover.MOVER_AUROC_RATIO, why, why, p
    )


def _bootstrap_pair(
    stats: GroupingStats,
    overall: GroupingStats,
    mid: str,
    ref: Ref,
    level: float,
    method: str,
) -> _Pair:
    vals = stats.values[mid]
    ref_val = overall.values[mid][0] if ref is None else vals[ref]
    with np.errstate(invalid="ignore", divide="ignore"):
        d = vals - ref_val
        r = vals / ref_val
    nan = np.full(vals.shape, np.nan)
    if stats.reps is None or mid not in stats.reps:
        return _Pair(d, nan, nan, r, nan, nan, method, method)
    reps = stats.reps[mid]
    assert stats.overall_reps is not None
    ref_reps = stats.overall_reps[mid][:, None] if ref is None else reps[:, np.atleast_1d(ref)]
    # Against the overall population a group that is everyone is exactly equal to it.
    exact = (stats.counts.n == overall.counts.n[0]) if ref is None else np.zeros(vals.size, bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        dp = iv.bootstrap_interval(reps - ref_reps, d, level, exact=exact)
        rp = iv.bootstrap_interval(reps / ref_reps, r, level, exact=exact)
        p_diff = np.where(exact, np.nan, bootstrap_p(reps - ref_reps, iv.MIN_DEFINED_SHARE))
    ref_lo = np.broadcast_to(overall.lo[mid][0] if ref is None else stats.lo[mid][ref], vals.shape)
    ref_why = (
        [overall.ci_reasons[mid][0]] * vals.size
        if ref is None
        else [stats.ci_reasons[mid][int(i)] for i in np.broadcast_to(ref, vals.shape)]
    )
    units = np.asarray(stats.counts.n if stats.units is None else stats.units.per_group, float)
    ref_units = np.full(vals.shape, np.inf) if ref is None else units[np.broadcast_to(ref, d.shape)]
    blocked: list[str | None] = [None] * vals.size
    for g in range(vals.size):
        if exact[g] or not np.isfinite(vals[g]):
            continue
        clu = stats.units is not None
        small, ref_small = (iv.bootstrap_too_small(u[g], clu) for u in (units, ref_units))
        if small:
            blocked[g] = small
        elif ref_small:
            blocked[g] = f"reference group: {ref_small}"
        elif not np.isfinite(stats.lo[mid][g]):
            blocked[g] = f"no interval for the group itself ({stats.ci_reasons[mid][g]})"
        elif not np.isfinite(ref_lo[g]):
            blocked[g] = f"no interval for the reference group ({ref_why[g]})"
    out = []
    for est in (dp, rp):
        lo, hi, why = est.lo.copy(), est.hi.copy(), list(est.reasons)
        for g, b in enumerate(blocked):
            if b is not None:
                lo[g] = hi[g] = np.nan
                why[g] = b
        out.append((lo, hi, why))
    (dl, dh, dwhy), (rl, rh, rwhy) = out
    p_diff = np.where([b is None for b in blocked], p_diff, np.nan)
    return _Pair(d, dl, dh, r, rl, rh, method, method, dwhy, rwhy, p_diff)


def _flag(
    mid: str,
    diff: Estimate,
    ratio: Estimate,
    spec: EvaluationSpec,
    caveat: str | None = None,
    p: float | None = None,
) -> tuple[bool, str | None]:
    """Flag a gap whose interval excludes parity, which exceeds the tolerance and whose p-value
    (of the difference; when there is one) is below 1 − the CI level — one rule, so a flag never
    contradicts its p-value; a flag on a group or reference with insufficient data carries
    ``caveat`` at the front of its reason."""
    flagged, reason = _gap_flag(mid, diff, ratio, spec)
    if flagged and p is not None and p >= round(1 - spec.ci_level, 12):  # 0.05, not 0.05000…04
        return False, None
    if flagged and caveat:
        return True, f"{caveat}: {reason}"
    return flagged, reason


def _gap_flag(
    mid: str, diff: Estimate, ratio: Estimate, spec: EvaluationSpec
) -> tuple[bool, str | None]:
    """Unadjusted flag: the interval of the measure the tolerance is stated in (ratio or
    difference) excludes parity, and the gap is beyond the metric's tolerance."""
    pct = f"{100 * spec.ci_level:g}%"
    if mid in NEVER_FLAGGED:
        return False, NEVER_FLAGGED[mid]
    if diff.value is None:
        return False, diff.reason
    tol = spec.tolerance_for(mid)
    if tol.kind == "diff":
        if diff.ci_low is None or diff.ci_high is None:
            return False, "no interval for the difference"
        excludes = diff.ci_low > 0 or diff.ci_high < 0
        if excludes and abs(diff.value) > tol.limit:
            return True, (
                f"difference {diff.value:+.3g} exceeds ±{tol.limit:g} and its {pct} CI excludes 0"
            )
        return False, None
    if ratio.value is None:
        if ratio.reason != REF_ZERO_INFINITE:
            return False, ratio.reason
        # group > 0 = reference: the ratio is infinite, outside any ratio band; judge the gap on
        # the difference interval rather than let the flag vanish
        if diff.ci_low is None or diff.ci_high is None:
            return False, "no interval to judge the gap"
        if diff.ci_low > 0:
            return True, (
                f"ratio infinite (reference value 0), outside [{tol.low:g}, {tol.high:g}], "
                f"and the {pct} CI of the difference excludes 0"
            )
        return False, None
    if ratio.ci_low is not None and ratio.ci_high is not None:
        excludes = ratio.ci_low > 1 or ratio.ci_high < 1
        ci_text = f"its {pct} CI excludes 1"
    elif diff.ci_low is not None and diff.ci_high is not None:
        excludes = diff.ci_low > 0 or diff.ci_high < 0
        ci_text = f"the {pct} CI of the difference excludes 0"
    else:
        return False, "no interval to judge the gap"
    outside = ratio.value < tol.low or ratio.value > tol.high
    if excludes and outside:
        return True, f"ratio {ratio.value:.3g} outside [{tol.low:g}, {tol.high:g}] and {ci_text}"
    return False, None


def _estimate(
    value: float,
    lo: float,
    hi: float,
    method: str,
    why: str | None,
    ci_why: str | None = None,
) -> Estimate:
    v = clean(value)
    lo_, hi_ = (clean(lo), clean(hi)) if v is not None else (None, None)
    if lo_ is None or hi_ is None:
        lo_ = hi_ = None
    reason = why if v is None else (None if lo_ is not None else ci_why or "no interval available")
    return Estimate(value=v, ci_low=lo_, ci_high=hi_, method=method, reason=reason)


def _pairs(
    stats: GroupingStats,
    overall: GroupingStats,
    ref: Ref,
    spec: EvaluationSpec,
    boot_method: str,
) -> dict[str, _Pair]:
    level = spec.ci_level
    out: dict[str, _Pair] = {}
    p = _proportion_p(stats, ref)
    for mid in PROPORTION_METRICS:
        out[mid] = _proportion_pair(stats, mid, ref, level, p[mid])
    auroc = _auroc_pair(stats, overall, ref, level)
    if auroc is not None:
        out["auroc"] = auroc
    for mid in BOOTSTRAP_METRICS:
        if mid == "balanced_accuracy" and ref is not None:
            out[mid] = _balanced_pair(stats, ref, level)
        else:
            out[mid] = _bootstrap_pair(stats, overall, mid, ref, level, boot_method)
    after_bootstrap(stats, ref, level, out)
    if stats.units is not None:
        _few_clusters(stats, overall, ref, out)
    return out


def _balanced_pair(stats: GroupingStats, ref: int | np.ndarray, level: float) -> _Pair:
    """Balanced accuracy against a reference group: MOVER difference and MOVER-R ratio."""
    c = stats.counts
    one = np.ones(c.tp.shape)
    d1 = one if stats.design_effect is None else stats.design_effect["tpr"]
    d0 = one if stats.design_effect is None else stats.design_effect["tnr"]
    tp, npos, tn, nneg = c.tp / d1, c.n_pos / d1, (c.n_neg - c.fp) / d0, c.n_neg / d0
    counts = (tp, npos, tn, nneg, tp[ref], npos[ref], tn[ref], nneg[ref])
    d, dl, dh = mover.difference(counts, level)
    m, lo, hi = (
        stats.values["balanced_accuracy"],
        stats.lo["balanced_accuracy"],
        stats.hi["balanced_accuracy"],
    )
    r, rl, rh = mover.ratio(m, lo, hi, m[ref], lo[ref], hi[ref])
    return _Pair(
        d,
        dl,
        dh,
        r,
        rl,
        rh,
        mover.MOVER_DIFFERENCE,
        mover.MOVER_RATIO,
        p_diff=mover.difference_p(counts),
    )


def _grouping_disparities(
    stats: GroupingStats,
    overall: GroupingStats,
    ref: int | None,
    spec: EvaluationSpec,
    ref_label: str,
    boot_method: str,
) -> list[Disparity]:
    gp = stats.grouping
    pairs = _pairs(stats, overall, ref, spec, boot_method)
    ref_values = {
        mid: (overall.values[mid][0] if ref is None else stats.values[mid][ref])
        for mid in METRIC_IDS
    }
    ref_reason = {
        mid: (overall.reasons[mid][0] if ref is None else stats.reasons[mid][ref])
        for mid in METRIC_IDS
    }
    out = []
    for g, label in enumerate(gp.labels):
        if ref is not None and g == ref:
            continue
        for mid in METRIC_IDS:
            pair = pairs.get(mid)
            why = stats.reasons[mid][g]
            if why is None and not np.isfinite(ref_values[mid]):
                why = f"undefined for the reference group: {ref_reason[mid]}"
            if pair is None:
                missing = why or "not available"
                diff = Estimate(None, None, None, "", missing)
                ratio = Estimate(None, None, None, "", missing)
            else:
                diff = _estimate(
                    pair.diff[g],
                    pair.diff_lo[g],
                    pair.diff_hi[g],
                    pair.method_for(g),
                    why,
                    pair.diff_reasons[g] if pair.diff_reasons is not None else None,
                )
                if mid in NO_RATIO:
                    ratio = Estimate(None, None, None, "", NO_RATIO[mid])
                else:
                    rwhy = why
                    if rwhy is None and ref_values[mid] == 0:
                        rwhy = REF_ZERO_INFINITE if pair.diff[g] > 0 else REF_ZERO_UNDEFINED
                    ratio = _estimate(
                        pair.ratio[g],
                        pair.ratio_lo[g],
                        pair.ratio_hi[g],
                        pair.ratio_method,
                        rwhy,
                        (pair.ratio_reasons[g] if pair.ratio_reasons is not None else None)
                        or diff.reason,
                    )
            p_value = (
                clean(pair.p_diff[g])
                if pair is not None and pair.p_diff is not None and diff.value is not None
                else None
            )
            caveat = caveat_for(stats, g, ref, spec)
            flagged, reason = _flag(mid, diff, ratio, spec, caveat, p_value)
            out.append(
                Disparity(
                    attribute=gp.name,
                    group=label,
                    reference=ref_label,
                    metric=mid,
                    difference=diff,
                    ratio=ratio,
                    flagged=flagged,
                    reason=reason,
                    p_value=None if mid in NEVER_FLAGGED else p_value,
                    tolerance=(
                        None if mid in NEVER_FLAGGED else spec.tolerance_for(mid).describe()
                    ),
                )
            )
    return out


def compare_groups(
    groupings: list[GroupingStats], overall: GroupingStats, spec: EvaluationSpec
) -> Comparison:
    """References, disparities, summary measures and the multiplicity note."""
    comp = Comparison()
    boot = iv.bootstrap_method(spec.bootstrap, spec.seed)
    rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 7919]))
    for stats in groupings:
        ref = choose_reference(stats, spec, comp.notes)
        label = OVERALL_LABEL if ref is None else stats.grouping.labels[ref]
        comp.references[stats.grouping.name] = label
        comp.disparities.extend(_grouping_disparities(stats, overall, ref, spec, label, boot))
        thin = {
            g: f"insufficient data ({'; '.join(why)})"
            for g in range(stats.grouping.size)
            if (why := insufficiency(stats.counts, g, spec))
        }
        for g, k in enumerate([] if stats.units is None else stats.units.per_group):
            if (few := iv.too_few_clusters(float(k))) and g not in thin:
                thin[g] = few  # no reliable interval: it does not enter the summary gaps
        comp.summary.extend(summaries(stats, spec, rng, thin))
    if spec.reference.kind == "value":
        comp.methods["reference_group"] = REFERENCE_RULE
    elif spec.reference.kind == "largest":
        comp.methods["reference_group"] = LARGEST_RULE
    comp.methods.update(
        {
            "disparity_flag": "flagged (unadjusted) when the interval of the measure the "
            "metric's tolerance is stated in (ratio or difference) excludes parity and the gap "
            "is beyond that tolerance; 'flagged_adjusted' also needs the multiplicity-adjusted "
            "p-value below 1 − the CI level; on a group or reference with insufficient data the "
            "flag is kept and its reason starts with 'insufficient data (…)'",
            "disparity_tolerance": "; ".join(
                f"{m}: {spec.tolerance_for(m).describe()}" for m in DEFAULT_TOLERANCES
            ),
            "disparity_difference_proportion": iv.NEWCOMBE,
            "disparity_ratio_proportion": KOOPMAN,
            "disparity_auroc": mover.AUROC_METHODS,
            "disparity_bootstrap": "percentile interval of replicate differences and ratios, "
            + boot,
            "disparity_balanced_accuracy": f"{mover.MOVER_DIFFERENCE}; ratio: "
            f"{mover.MOVER_RATIO}; against the overall population: the bootstrap",
            "summary_measures": "equalized-odds, equal-opportunity and demographic-parity "
            "differences, demographic-parity ratio and AUROC gap over the groups with sufficient "
            "data and a defined value (each names the two groups that set it and the groups left "
            "out); CI: " + MAX_T,
        }
    )
    comp.disparities = adjust_flags(comp.disparities, spec)
    comp.methods["disparity_multiplicity"] = multiplicity_method(spec)
    comp.notes.append(multiplicity_note(comp.disparities, groupings, spec))
    return comp
