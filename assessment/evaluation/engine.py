"""``evaluate``: subgroup and intersectional performance with intervals, disparities and
representativeness.

A pure function (STYLE.md §3): arrays in, an :class:`EvaluationResult` out, a progress callback
and cooperative cancellation so the GUI can run it in a worker. No pandas, no per-row Python.
``point_metrics_at_threshold`` is the fast path behind the GUI's live threshold slider.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from assessment.errors import Cancelled
from assessment.evaluation.assembly import (
    _cluster_methods,
    _cluster_notes,
    _grid_json,
    _group_result,
    _methods,
    _score_notes,
    _slope_notes,
)
from assessment.evaluation.bootstrap import _bootstrap as _bootstrap
from assessment.evaluation.context import EvaluationContext, ModelParts
from assessment.evaluation.disparities import compare_groups
from assessment.evaluation.inputs import EvaluationInput
from assessment.evaluation.memory import release_freed_memory
from assessment.evaluation.metrics import (
    OVERALL_ATTRIBUTE,
    THRESHOLD_METRICS,
    Counts,
    Grouping,
    build_groupings,
    confusion_counts,
    stratum_keys,
    threshold_metrics,
)
from assessment.evaluation.missingness import missingness
from assessment.evaluation.point_stats import _check_inputs, _predictions
from assessment.evaluation.point_stats import _context as _context
from assessment.evaluation.point_stats import _point_stats as _point_stats
from assessment.evaluation.representativeness import representativeness
from assessment.evaluation.result import (
    EvaluationResult,
    clean,
)
from assessment.evaluation.spec import METRIC_IDS, EvaluationSpec

Progress = Callable[[float], None]
IsCancelled = Callable[[], bool]


def _noop_progress(_: float) -> None:
    return None


def _never() -> bool:
    return False


def evaluate(
    inputs: EvaluationInput,
    spec: EvaluationSpec,
    *,
    progress: Progress = _noop_progress,
    cancelled: IsCancelled = _never,
    context: EvaluationContext | None = None,
) -> EvaluationResult:
    """Evaluate the model per group, per attribute and per chosen intersection.

    ``progress`` receives fractions in [0, 1]; when ``cancelled()`` turns True the function
    raises :class:`assessment.errors.Cancelled` at the next checkpoint. Bad settings or data
    raise :class:`assessment.errors.EvaluationError`. ``context``: the score-independent data
    shared by several evaluations of the same rows (built once, see
    :class:`~assessment.evaluation.context.EvaluationContext`); the result is the same with or
    without it.
    """
    return evaluate_parts(inputs, spec, progress=progress, cancelled=cancelled, context=context)[0]


def evaluate_parts(
    inputs: EvaluationInput,
    spec: EvaluationSpec,
    *,
    progress: Progress = _noop_progress,
    cancelled: IsCancelled = _never,
    context: EvaluationContext | None = None,
) -> tuple[EvaluationResult, ModelParts]:
    """:func:`evaluate`, and the by-products a comparison reuses (:class:`ModelParts`: per
    grouping the AUROC with its placements when ``context.keep_placements``)."""

    reported = [0.0]

    def checkpoint(fraction: float) -> None:
        if cancelled():
            raise Cancelled()
        reported[0] = min(max(fraction, reported[0]), 1.0)
        progress(reported[0])

    checkpoint(0.0)
    _check_inputs(inputs, spec)
    release_freed_memory()  # what reading and mapping the file freed, before the peak below
    if context is None:
        groupings = build_groupings(inputs, spec.intersections)
    else:
        context.check(inputs, spec.intersections)
        groupings = list(context.groupings)
    ctx = _context(inputs, spec, cluster=inputs.cluster, groupings=groupings)
    if context is not None and context.keep_placements:
        ctx = replace(ctx, keep_placements=True)
    kind = inputs.score_kind
    checkpoint(0.05)
    need_overall_place = spec.reference.kind == "overall" and ctx.sorted_scores is not None
    overall_stats = _point_stats(groupings[0], ctx, kind, None)
    overall_place = (
        overall_stats.auroc.placements
        if need_overall_place and overall_stats.auroc is not None
        else None
    )
    all_stats = [overall_stats]
    for k, gp in enumerate(groupings[1:], start=1):
        checkpoint(0.05 + 0.25 * k / len(groupings))
        all_stats.append(_point_stats(gp, ctx, kind, overall_place, overall_stats.recal))
    checkpoint(0.3)
    if spec.bootstrap > 0:
        for k, stats in enumerate(all_stats):
            _bootstrap(stats, ctx, overall_stats.recal, k, cancelled)
            checkpoint(0.3 + 0.55 * (k + 1) / len(all_stats))
    checkpoint(0.85)
    methods = _methods(spec, kind, clustered=inputs.cluster is not None)
    comparison = compare_groups(all_stats[1:], overall_stats, spec)
    checkpoint(0.92)
    rep_rows, rep_notes = representativeness(inputs, spec)
    miss_rows, miss_notes, methods_missing = missingness(inputs.provenance, spec)
    groups = tuple(
        _group_result(stats, g, ctx, methods)
        for stats in all_stats[1:]
        for g in range(stats.grouping.size)
    )
    methods.update(comparison.methods)
    if inputs.cluster is not None:
        methods.update(_cluster_methods(spec))
    methods["differential_missingness"] = methods_missing
    notes = [
        *_score_notes(inputs, ctx),
        *_cluster_notes(inputs, all_stats),
        *_slope_notes(all_stats, spec),
        *comparison.notes,
        *miss_notes,
        *rep_notes,
    ]
    small = sum("insufficient_data" in g.flags for g in groups)
    if small:
        notes.append(
            f"insufficient data: {small} of {len(groups)} groups have fewer than {spec.min_n} "
            f"rows or fewer than {spec.min_events} events or non-events; they are shown and "
            "flagged, with wide intervals, and their gaps should not be over-read; a "
            "disparity flag on such a group keeps an 'insufficient data (…)' reason."
        )
    empty = [(gp.name, gp.empty_cells) for gp in groupings if gp.empty_cells]
    for name, k in empty:
        notes.append(
            f"{name}: {k} combinations of levels have no rows in the validation data and are "
            "not listed as groups."
        )
    result = EvaluationResult(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        provenance=inputs.provenance.to_json(),
        spec=spec.to_json(),
        methods=methods,
        overall=_group_result(overall_stats, 0, ctx, methods),
        groups=groups,
        references=comparison.references,
        disparities=tuple(comparison.disparities),
        summary=tuple(comparison.summary),
        threshold_grid=_grid_json(all_stats, ctx),
        representativeness=tuple(rep_rows),
        notes=tuple(notes),
        missingness=tuple(miss_rows),
    )
    parts = ModelParts(auroc=tuple(stats.auroc for stats in all_stats))
    checkpoint(1.0)
    return result, parts


def point_metrics_at_threshold(
    inputs: EvaluationInput, spec: EvaluationSpec, threshold: float
) -> dict[str, Any]:
    """Threshold-dependent point metrics for every group at ``threshold`` (GUI slider path).

    Only confusion counts are needed: one bincount per grouping, no sorting, no intervals.
    Returns {"threshold", "metrics": [ids], "overall": entry, "groups": [entry, ...]} where an
    entry is {"attribute", "group", "n", "n_pos", "n_neg", "metrics": {id: float | None},
    "reasons": {id: str}} (reasons only for undefined values).
    """
    _check_inputs(inputs, spec)
    groupings = build_groupings(inputs, spec.intersections)
    y = np.asarray(inputs.y_true, dtype=bool)
    pred = _predictions(inputs, float(threshold))
    entries = []
    for gp in groupings:
        c = confusion_counts(gp, stratum_keys(gp, y), pred)
        tm = threshold_metrics(c)
        values = {mid: tm[mid][0] for mid in THRESHOLD_METRICS}
        reasons = {mid: tm[mid][1] for mid in THRESHOLD_METRICS}
        entries += _point_entries(gp, c, THRESHOLD_METRICS, values, reasons)
    return _point_table(float(threshold), THRESHOLD_METRICS, entries)


def point_estimates(inputs: EvaluationInput, spec: EvaluationSpec) -> dict[str, Any]:
    """All 16 point metrics for every group of every grouping, without intervals (bootstrap),
    curves, disparities or representativeness: the cheapest complete table.

    Same entry shape as :func:`point_metrics_at_threshold` with all metric ids.
    """
    _check_inputs(inputs, spec)
    groupings = build_groupings(inputs, spec.intersections)
    ctx = _context(inputs, spec, curves=False, groupings=groupings)
    kind = inputs.score_kind
    overall = _point_stats(groupings[0], ctx, kind, None, curves=False)
    all_stats = [overall] + [
        _point_stats(gp, ctx, kind, None, overall.recal, curves=False) for gp in groupings[1:]
    ]
    entries = []
    for stats in all_stats:
        entries += _point_entries(
            stats.grouping, stats.counts, METRIC_IDS, stats.values, stats.reasons
        )
    return _point_table(spec.threshold, METRIC_IDS, entries)


def _point_entries(
    gp: Grouping,
    c: Counts,
    metric_ids: tuple[str, ...],
    values: Mapping[str, np.ndarray],
    reasons: Mapping[str, Sequence[str | None]],
) -> list[dict[str, Any]]:
    """One point-table entry per group of ``gp``; a reason is kept only for an undefined value."""
    entries = []
    for g, label in enumerate(gp.labels):
        vals = {mid: clean(values[mid][g]) for mid in metric_ids}
        entries.append(
            {
                "attribute": gp.name,
                "group": label,
                "n": int(c.n[g]),
                "n_pos": int(c.n_pos[g]),
                "n_neg": int(c.n_neg[g]),
                "metrics": vals,
                "reasons": {mid: reasons[mid][g] for mid in metric_ids if vals[mid] is None},
            }
        )
    return entries


def _point_table(
    threshold: float, metric_ids: tuple[str, ...], entries: list[dict[str, Any]]
) -> dict[str, Any]:
    """The point-table envelope; the first grouping is always the whole population."""
    assert entries[0]["attribute"] == OVERALL_ATTRIBUTE
    return {
        "threshold": threshold,
        "metrics": list(metric_ids),
        "overall": entries[0],
        "groups": entries[1:],
    }
