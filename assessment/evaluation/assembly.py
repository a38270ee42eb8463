"""Assembling an evaluation's result: per-group results with their curves and flags, the
method strings, the threshold grid and the notes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from assessment.evaluation import auroc_ci, f1_interval, mover, profile_slope
from assessment.evaluation import intervals as iv
from assessment.evaluation.bootstrap import OE_GARWOOD
from assessment.evaluation.disparities import decision_notes, insufficiency
from assessment.evaluation.inputs import EvaluationInput
from assessment.evaluation.metrics import (
    BOOTSTRAP_METRICS,
    LOGIT_EPS,
    PROPORTION_METRICS,
    Counts,
    GroupingStats,
)
from assessment.evaluation.pairs import MOVER_SLOPE
from assessment.evaluation.point_stats import _Context
from assessment.evaluation.ratio_score import KOOPMAN
from assessment.evaluation.result import (
    GroupResult,
    MetricValue,
    clean,
)
from assessment.evaluation.spec import METRIC_IDS, EvaluationSpec


def _flags(c: Counts, g: int, spec: EvaluationSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
    why = insufficiency(c, g, spec)
    return (("insufficient_data",) if why else ()), why


def _opt_list(a: np.ndarray) -> list[float | None]:
    return [clean(v) for v in a]


def _group_curves(stats: GroupingStats, g: int, ctx: _Context) -> dict[str, Any]:
    c = stats.counts
    curves: dict[str, Any] = {}
    if stats.roc is not None:
        pos_ge, neg_ge = stats.roc
        if c.n_pos[g] > 0 and c.n_neg[g] > 0:
            tpr = pos_ge[g] / c.n_pos[g]
            fpr = neg_ge[g] / c.n_neg[g]
            curves["roc"] = {
                "fpr": [0.0, *_opt_list(fpr[::-1])],
                "tpr": [0.0, *_opt_list(tpr[::-1])],
            }
        else:
            curves["roc"] = {"fpr": [], "tpr": []}
    if stats.reliability is not None:
        count, sp, sy = stats.reliability
        with np.errstate(invalid="ignore", divide="ignore"):
            curves["reliability"] = {
                "mean_predicted": _opt_list(sp[g] / count[g]),
                "observed": _opt_list(sy[g] / count[g]),
                "count": [float(v) for v in count[g]],
            }
    return curves


def _group_result(
    stats: GroupingStats, g: int, ctx: _Context, methods: dict[str, str]
) -> GroupResult:
    gp, c = stats.grouping, stats.counts
    flags, flag_reasons = _flags(c, g, ctx.spec)
    metrics: dict[str, MetricValue] = {}
    for mid in METRIC_IDS:
        v = clean(stats.values[mid][g])
        reason = stats.reasons[mid][g] if v is None else stats.ci_reasons[mid][g]
        lo = clean(stats.lo[mid][g]) if v is not None else None
        hi = clean(stats.hi[mid][g]) if v is not None else None
        if v is not None and lo is None and reason is None:
            reason = (
                "bootstrap disabled (B = 0)"
                if mid in BOOTSTRAP_METRICS and ctx.spec.bootstrap == 0
                else "no interval available"
            )
        how = _slope_method(stats, g, ctx.spec) if mid == "calibration_slope" else methods[mid]
        if mid == "oe_ratio" and c.n_pos[g] == 0 and lo is not None and stats.units is None:
            how = f"observed / expected events; CI {OE_GARWOOD}"
        metrics[mid] = MetricValue(value=v, ci_low=lo, ci_high=hi, method=how, reason=reason)
    return GroupResult(
        attribute=gp.name,
        group=gp.labels[g],
        n=int(c.n[g]),
        n_pos=int(c.n_pos[g]),
        n_neg=int(c.n_neg[g]),
        flags=flags,
        flag_reasons=flag_reasons,
        metrics=metrics,
        curves=_group_curves(stats, g, ctx),
    )


CLUSTER_SUFFIX = (
    " — cluster-robust: effective counts k/deff of n/deff with the design effect from the "
    "ratio-estimator variance over patients"
)


def _cluster_methods(spec: EvaluationSpec) -> dict[str, str]:
    """Method strings of the disparities when rows are clustered by patient."""
    boot = iv.bootstrap_method(spec.bootstrap, spec.seed, clustered=True)
    return {
        "disparity_difference_proportion": iv.NEWCOMBE + CLUSTER_SUFFIX,
        "disparity_ratio_proportion": KOOPMAN + CLUSTER_SUFFIX,
        "disparity_auroc": "Obuchowski's (1997) clustered variance in each group's AUROC "
        "interval; " + mover.AUROC_METHODS,
        "disparity_bootstrap": "percentile interval of replicate differences and ratios, " + boot,
        "clustering": "rows are clustered by patient: within each group the patient is the "
        "resampling and variance unit; a patient with rows in several groups is a unit in each, "
        "and groups are compared as independent samples (the shared patients' covariance is "
        "ignored, which widens differences' intervals when a patient's rows are alike)",
    }


def _listed(items: list[str], most: int = 12) -> str:
    more = f"; and {len(items) - most:,} more" if len(items) > most else ""
    return "; ".join(items[:most]) + more


def _cluster_notes(inputs: EvaluationInput, all_stats: list[GroupingStats]) -> list[str]:
    if inputs.cluster is None:
        return []
    col = inputs.provenance.mapping.get("cluster") or "the patient column"
    n_patients = int(inputs.cluster.max()) + 1 if inputs.n else 0
    notes = [
        f"clustered: {inputs.n:,} rows from {n_patients:,} patients ({col}); "
        + (
            "too few patients for cluster-robust intervals, so there are none."
            if iv.too_few_clusters(n_patients)
            else "intervals are cluster-robust and the bootstrap resamples patients within "
            "each group."
        )
    ]
    few, floored = [], []
    for stats in all_stats:
        if stats.units is None:
            continue
        for g, label in enumerate(stats.grouping.labels):
            k = int(stats.units.per_group[g])
            name = "overall" if stats.grouping.is_overall else f"{stats.grouping.name}={label}"
            if iv.too_few_clusters(k):
                few.append(f"{name} ({k:,})")
            where = sorted(m for m, b in (stats.floored or {}).items() if b[g])
            if where:
                floored.append(f"{name} ({', '.join(where)})")
    if few:
        notes.append(
            f"too few patients (clusters) for cluster-robust intervals (at least "
            f"{iv.MIN_CLUSTERS} needed): {_listed(few)} — these groups have no intervals, and "
            "their comparisons no interval and no flag."
        )
    if floored:
        notes.append(
            "clustered variance below the unclustered one, floored at it (design effect 1; "
            f"the interval is the unclustered one): {_listed(floored)}."
        )
    for stats in all_stats[1:]:
        u = stats.units
        if u is None or len(stats.grouping.components) != 1:
            continue
        if u.size > n_patients:
            shared = u.shared
            notes.append(
                f"{stats.grouping.name}: {shared:,} patients have rows in more than one group; "
                "each group resamples its own rows of them and comparisons treat the groups as "
                "independent."
            )
    return notes


RECAL_FIT = (
    f"maximum-likelihood logistic recalibration on logit(p) (p clipped to "
    f"[{LOGIT_EPS:g}, 1 − {LOGIT_EPS:g}]) by damped Newton–Raphson with step halving on the "
    f"log-likelihood; separation and constant scores are detected exactly (no finite slope)"
)


def _recal_ci(boot: str) -> str:
    return (
        f"CI: {boot}; replicates take one Newton step from the full-sample fit (one-step "
        "bootstrap, Moulton & Zeger 1991)"
    )


def _slope_method(stats: GroupingStats, g: int, spec: EvaluationSpec) -> str:
    """The method of this group's calibration-slope interval: profile likelihood, the
    bootstrap (with the reason when under the switch point), or none (the reason)."""
    head = "coefficient of logit(p), " + RECAL_FIT + "; "
    if stats.slope_profile is not None and stats.slope_profile[g]:
        return head + profile_slope.PROFILE
    why = None if stats.slope_fallback is None else stats.slope_fallback[g]
    boot = iv.bootstrap_method(spec.bootstrap, spec.seed, stats.units is not None)
    if why is None:
        return head + _recal_ci(boot)
    if stats.slope_bootstrap is not None and stats.slope_bootstrap[g]:
        return (
            f"{head}{_recal_ci(boot)} — fewer than {profile_slope.SWITCH_EVENTS} events or "
            f"non-events, but no profile-likelihood interval: {why}"
        )
    return f"{head}no CI: {profile_slope.withheld(spec.min_events, why)}"


def _methods(spec: EvaluationSpec, kind: str, *, clustered: bool = False) -> dict[str, str]:
    boot = iv.bootstrap_method(spec.bootstrap, spec.seed, clustered)
    suffix = CLUSTER_SUFFIX if clustered else ""
    m: dict[str, str] = {mid: iv.WILSON + suffix for mid in PROPORTION_METRICS}
    m["auroc"] = (
        "Mann–Whitney rank sum with midranks for ties; CI: " + auroc_ci.AUROC_METHOD
        if kind != "class"
        else "not available (predicted classes only)"
    )
    m["f1"] = boot if clustered else f1_interval.METHOD
    m["balanced_accuracy"] = iv.MOVER_MEAN + suffix
    m["brier"] = iv.MEAN_T_LOG + (
        " — cluster-robust (ratio-estimator variance over patients, t with K − 1 df)"
        if clustered
        else ""
    )
    if clustered and kind != "class":
        m["auroc"] += "; clustered: Obuchowski's (1997) variance, and the score interval's "
        m["auroc"] += "variance times its design effect"
    m["oe_ratio"] = boot + ("" if clustered else "; " + OE_GARWOOD)
    recal = f"{RECAL_FIT}; {_recal_ci(boot)}"
    m["calibration_intercept"] = "calibration-in-the-large (logit(p) as offset), " + recal
    m["calibration_slope"] = "coefficient of logit(p), " + recal
    if not clustered:
        m["calibration_slope"] += profile_slope.METHOD
    m["disparity_calibration_slope"] = (
        f"against a reference group where either group has the profile-likelihood slope "
        f"interval: {MOVER_SLOPE}; otherwise, and against the overall population, the "
        "percentile bootstrap of replicate differences (p-value (1 + #)/(B + 1) per side, "
        "Davison & Hinkley 1997)"
    )
    return m


def _grid_json(all_stats: list[GroupingStats], ctx: _Context) -> dict[str, Any]:
    if ctx.grid_index is None:
        return {"thresholds": [], "groups": []}
    out = []
    for stats in all_stats:
        assert stats.grid is not None
        pos_ge, neg_ge = stats.grid
        c = stats.counts
        with np.errstate(invalid="ignore", divide="ignore"):
            for g, label in enumerate(stats.grouping.labels):
                out.append(
                    {
                        "attribute": stats.grouping.name,
                        "group": label,
                        "tpr": _opt_list(pos_ge[g] / c.n_pos[g]),
                        "fpr": _opt_list(neg_ge[g] / c.n_neg[g]),
                        "ppv": _opt_list(pos_ge[g] / (pos_ge[g] + neg_ge[g])),
                        "selection_rate": _opt_list((pos_ge[g] + neg_ge[g]) / c.n[g]),
                    }
                )
    return {"thresholds": [float(t) for t in ctx.grid], "groups": out}


def _slope_notes(all_stats: list[GroupingStats], spec: EvaluationSpec) -> list[str]:
    """Groups under the slope's profile-likelihood switch point without the profile interval:
    those left with the bootstrap, and those left with no interval, each with the reason."""
    kept: list[str] = []
    none: list[str] = []
    for stats in all_stats:
        if stats.slope_fallback is None:
            continue
        for g, label in enumerate(stats.grouping.labels):
            why = stats.slope_fallback[g]
            if why is None:
                continue
            name = "overall" if stats.grouping.is_overall else f"{stats.grouping.name}={label}"
            boot = stats.slope_bootstrap is not None and bool(stats.slope_bootstrap[g])
            (kept if boot else none).append(f"{name} ({why})")
    notes = []
    switch = profile_slope.SWITCH_EVENTS
    if kept:
        notes.append(
            f"calibration slope: fewer than {switch} events or non-events but no "
            "profile-likelihood interval, so the percentile bootstrap interval (it may "
            f"under-cover there; at least {spec.min_events} events and non-events): "
            f"{_listed(kept)}."
        )
    if none:
        notes.append(
            f"calibration slope: no interval — fewer than {spec.min_events} events or "
            "non-events and no profile-likelihood interval (the one-step bootstrap covered 61% "
            f"at 1–2 events): {_listed(none)}."
        )
    return notes


def _score_notes(inputs: EvaluationInput, ctx: _Context) -> list[str]:
    notes = decision_notes(inputs.score_kind, ctx.spec.threshold, ctx.pred)
    if inputs.score_kind == "class":
        notes.append(
            "Only predicted classes were given: AUROC, Brier score, O/E ratio, calibration and "
            "curves need a score and are not reported."
        )
    elif inputs.score_kind == "score":
        notes.append(
            "The score is not a probability: Brier score, O/E ratio and calibration are not "
            "reported; the threshold grid uses score quantiles."
        )
    elif ctx.score is not None:
        s = ctx.score
        exact = int(np.count_nonzero((s == 0) | (s == 1)))
        near = int(np.count_nonzero((s < LOGIT_EPS) | (s > 1 - LOGIT_EPS))) - exact
        if exact or near:
            parts = []
            if exact:
                parts.append(f"{exact} predicted probabilities of exactly 0 or 1")
            if near:
                parts.append(
                    f"{near} other{'s' if near != 1 else ''} within {LOGIT_EPS:g} of 0 or 1"
                )
            notes.append(
                f"calibration: {' and '.join(parts)} were clipped to [{LOGIT_EPS:g}, "
                f"1 − {LOGIT_EPS:g}] before taking logits (logit ±23.03), so they enter the "
                "calibration fits as very confident predictions."
            )
    return notes


#: O/E is noted when its expected count Σp rests on an effective number of rows (Σp)²/Σp² below
#: this share of the group's rows (calibrated scores: 0.4–0.7; a score over-confident 4× about
#: the prevalence 0.1–0.4; p = expit(4·η), which squashes every probability towards 0, 0.0035).
OE_TAIL_SHARE = 0.02


def _oe_notes(all_stats: list[GroupingStats]) -> list[str]:
    """Groups whose expected count rests on a few predictions: the O/E interval can under-cover
    there, and no interval from the sample can know it (attack finding, issue 9)."""
    few: list[str] = []
    for stats in all_stats:
        if stats.expected_rows is None:
            continue
        n = stats.counts.n
        for g, label in enumerate(stats.grouping.labels):
            k = stats.expected_rows[g]
            if n[g] > 0 and np.isfinite(k) and k < OE_TAIL_SHARE * n[g]:
                name = "overall" if stats.grouping.is_overall else f"{stats.grouping.name}={label}"
                few.append(f"{name} ({k:,.1f} of {int(n[g]):,} rows)")
    if not few:
        return []
    return [
        "O/E: the expected events Σp rest on a few predictions (effective number of rows "
        f"(Σp)²/Σp² under {OE_TAIL_SHARE:.0%} of the group): the sum is set by the largest "
        "predictions, and a sample shows the upper tail of the predictions only partly, so the "
        "O/E interval can under-cover (83–87% of nominal 95% at 2,000 rows when every "
        "probability is squashed 4× towards 0 on the logit scale; read O/E there with the "
        f"calibration intercept and slope): {_listed(few)}."
    ]
