"""``evaluate``: subgroup and intersectional performance with intervals, disparities and
representativeness.

A pure function (STYLE.md §3): arrays in, an :class:`EvaluationResult` out, a progress callback
and cooperative cancellation so the GUI can run it in a worker. No pandas, no per-row Python.
``point_metrics_at_threshold`` is the fast path behind the GUI's live threshold slider.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from assessment.errors import Cancelled, EvaluationError
from assessment.evaluation.assembly import (
    _cluster_methods,
    _cluster_notes,
    _grid_json,
    _group_result,
    _methods,
    _oe_notes,
    _score_notes,
    _slope_notes,
)
from assessment.evaluation.bootstrap import _bootstrap as _bootstrap
from assessment.evaluation.context import EvaluationContext, ModelParts
from assessment.evaluation.disparities import compare_groups
from assessment.evaluation.inputs import EvaluationInput
from assessment.evaluation.limits import bootstrap_memory_problem
from assessment.evaluation.memory import release_freed_memory, reuse_freed_pages
from assessment.evaluation.metrics import (
    OVERALL_ATTRIBUTE,
    THRESHOLD_METRICS,
    Counts,
    Grouping,
    GroupingStats,
    build_groupings,
    confusion_counts,
    stratum_keys,
    threshold_metrics,
)
from assessment.evaluation.missingness import missingness, with_intersections
from assessment.evaluation.point_stats import _check_inputs, _Context, _predictions
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


# Threads for the groupings' bootstraps when asked for (``threads``): two bootstraps at once
# add at most ~0.8 GB to ~0.8 GB of state at 10M clustered rows. Not the default: on the
# shared 2-core machine (other core busy) two threads gave no wall-time gain at 10M clustered
# rows (37.6 s → 38.2 s wall) and more CPU and memory (benchmarks/RESULTS.md, second round);
# with the other core idle 31.4 s against 31.8 s wall, max RSS 2.31 GB against 1.90 (third round);
# the point estimates overlapped with the recalibration on a second thread cost 5 s CPU more
# for the same wall time (Python-level chunk loops contend for the GIL), so they stay serial.
DEFAULT_THREADS = 1


def _noop_progress(_: float) -> None:
    return None


def thread_count(threads: int | None, context: EvaluationContext | None) -> int:
    """Threads for one evaluation's bootstraps: ``threads`` when given (at most the available
    cores), else :data:`DEFAULT_THREADS`; one with a shared ``context`` (a comparison, which
    runs its models' evaluations on threads of its own)."""
    if context is not None or threads is None:
        return DEFAULT_THREADS if context is None else 1
    affinity = getattr(os, "sched_getaffinity", None)
    cores = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)
    return max(1, min(int(threads), cores))


@contextmanager
def _second_thread(threads: int) -> Iterator[Executor | None]:
    """A one-thread pool beside the calling thread (None for a single thread). BLAS keeps one
    thread meanwhile: the bootstrap's small products set that limit themselves, and two
    threads setting and restoring it in turn could leave it wrong."""
    if threads <= 1:
        yield None
        return
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(threads - 1) as pool:
        yield pool


def _never() -> bool:
    return False


def evaluate(
    inputs: EvaluationInput,
    spec: EvaluationSpec,
    *,
    progress: Progress = _noop_progress,
    cancelled: IsCancelled = _never,
    context: EvaluationContext | None = None,
    threads: int | None = None,
) -> EvaluationResult:
    """Evaluate the model per group, per attribute and per chosen intersection.

    ``progress`` receives fractions in [0, 1]; when ``cancelled()`` turns True the function
    raises :class:`assessment.errors.Cancelled` at the next checkpoint. Bad settings or data
    raise :class:`assessment.errors.EvaluationError`. ``context``: the score-independent data
    shared by several evaluations of the same rows (built once, see
    :class:`~assessment.evaluation.context.EvaluationContext`); the result is the same with or
    without it. ``threads``: see :func:`thread_count`; the result is the same with any number.
    """
    return evaluate_parts(
        inputs, spec, progress=progress, cancelled=cancelled, context=context, threads=threads
    )[0]


def evaluate_parts(
    inputs: EvaluationInput,
    spec: EvaluationSpec,
    *,
    progress: Progress = _noop_progress,
    cancelled: IsCancelled = _never,
    context: EvaluationContext | None = None,
    threads: int | None = None,
) -> tuple[EvaluationResult, ModelParts]:
    """:func:`evaluate`, and the by-products a comparison reuses (:class:`ModelParts`: per
    grouping the AUROC with its placements when ``context.keep_placements``)."""
    with reuse_freed_pages():
        return _evaluate_parts(
            inputs, spec, progress=progress, cancelled=cancelled, context=context, threads=threads
        )


def _evaluate_parts(
    inputs: EvaluationInput,
    spec: EvaluationSpec,
    *,
    progress: Progress,
    cancelled: IsCancelled,
    context: EvaluationContext | None,
    threads: int | None,
) -> tuple[EvaluationResult, ModelParts]:
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
    _check_bootstrap_memory(spec, groupings, inputs.score_kind == "probability")
    ctx = _context(inputs, spec, cluster=inputs.cluster, groupings=groupings)
    if context is not None and context.keep_placements:
        ctx = replace(ctx, keep_placements=True)
    kind = inputs.score_kind
    checkpoint(0.05)
    need_overall_place = spec.reference.kind == "overall" and ctx.sorted_scores is not None
    with _second_thread(thread_count(threads, context)) as pool:
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
            _bootstraps(all_stats, ctx, cancelled, pool, checkpoint)
    checkpoint(0.85)
    methods = _methods(spec, kind, clustered=inputs.cluster is not None)
    comparison = compare_groups(all_stats[1:], overall_stats, spec)
    checkpoint(0.92)
    rep_rows, rep_notes = representativeness(inputs, spec)
    provenance = with_intersections(inputs, groupings)  # exclusions per intersection cell too
    miss_rows, miss_notes, methods_missing = missingness(provenance, spec)
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
        *inputs.provenance.notes,  # fixF: a doubtful patient column, outcome values mapped
        *_score_notes(inputs, ctx),
        *_cluster_notes(inputs, all_stats),
        *_slope_notes(all_stats, spec),
        *_oe_notes(all_stats),
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
        provenance=provenance.to_json(),
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


def _bootstraps(
    all_stats: list[GroupingStats],
    ctx: _Context,
    cancelled: IsCancelled,
    pool: Executor | None,
    checkpoint: Callable[[float], None],
) -> None:
    """Every grouping's bootstrap; with a ``pool``, two at a time (this thread and the pool's),
    each seeded by its grouping's index and writing only its own grouping's statistics, so the
    results do not depend on which thread ran which or in what order they finished."""
    overall_recal = all_stats[0].recal
    done = 0

    def one(k: int) -> None:
        _bootstrap(all_stats[k], ctx, overall_recal, k, cancelled)

    if pool is None:
        for k in range(len(all_stats)):
            one(k)
            checkpoint(0.3 + 0.55 * (k + 1) / len(all_stats))
        return
    # The pool takes the odd groupings, this thread the even ones (at most two at once).
    jobs = [pool.submit(one, k) for k in range(1, len(all_stats), 2)]
    try:
        for k in range(0, len(all_stats), 2):
            one(k)
            done += 1
            checkpoint(0.3 + 0.55 * done / len(all_stats))
        for job in jobs:
            job.result()
            done += 1
            checkpoint(0.3 + 0.55 * done / len(all_stats))
    finally:
        for job in jobs:
            job.cancel()


def _check_bootstrap_memory(spec: EvaluationSpec, groupings: list[Grouping], prob: bool) -> None:
    """Refuse, before it starts, a bootstrap whose replicates would not fit in memory (fixF)."""
    sizes = [gp.size for gp in groupings]
    if problem := bootstrap_memory_problem(spec.bootstrap, sum(sizes), max(sizes), prob):
        raise EvaluationError(problem)


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
