"""Every model's own evaluation in a comparison: the one engine, once per model, on a shared
:class:`~assessment.evaluation.context.EvaluationContext`, on a small thread pool.

NumPy releases the GIL in its sorts, bincounts and ufuncs, which are most of an evaluation, so
models evaluated on parallel threads overlap on a multi-core machine. The results do not depend
on the scheduling: an evaluation is a pure function of its model's input and the spec (its
bootstrap seeds are the spec's seed and the grouping's index, the same for every model and
every run), each thread writes only its own model's slot, and the results are used in model
order. BLAS runs on one thread meanwhile (its products here are small; several BLAS thread
teams on top of the pool would only wait on each other).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from typing import Any, cast

from threadpoolctl import threadpool_limits

from assessment.compare.sources import ModelSource
from assessment.errors import Cancelled
from assessment.evaluation.context import EvaluationContext, ModelParts
from assessment.evaluation.engine import evaluate_parts
from assessment.evaluation.inputs import EvaluationInput
from assessment.evaluation.spec import EvaluationSpec

# Evaluations at once, at most.
MAX_WORKERS = 4
# Each evaluation running beside another holds its own working arrays: about 150 bytes per row
# (benchmarks/bench_compare.py at 1,000,000 rows: peak RSS 0.93 GB with one thread, 1.08 GB
# with two). The threads may add at most EXTRA_MEMORY to the sequential peak: four threads at
# 1,000,000 rows, two at 2,000,000, one from about 3,600,000 rows on.
BYTES_PER_ROW = 150
EXTRA_MEMORY = 512 * 2**20


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return len(affinity(0))
    return os.cpu_count() or 1


def worker_count(models: int, rows: int, cores: int | None = None) -> int:
    """Threads for ``models`` evaluations of ``rows`` rows: one per available core, at most
    :data:`MAX_WORKERS` and one per model, and no more than :data:`EXTRA_MEMORY` allows."""
    extra = EXTRA_MEMORY // max(rows * BYTES_PER_ROW, 1)
    have = available_cores() if cores is None else cores
    return max(1, min(models, MAX_WORKERS, have, 1 + extra))


def model_spec(spec: EvaluationSpec, model: ModelSource, level: float) -> EvaluationSpec:
    """The engine's spec for one model: its own operating point, the given confidence level."""
    thr = spec.threshold if model.threshold is None else float(model.threshold)
    return replace(spec, threshold=thr, ci_level=level)


Stopped = Callable[[], bool]
Task = Callable[[Stopped], object]


def run_in_order(
    tasks: Sequence[Task],
    workers: int,
    cancelled: Stopped,
    progress: Callable[[float], None],
) -> list[object]:
    """Run ``tasks`` on ``workers`` threads; their results in task order.

    A task gets its stop check (cancellation: it raises :class:`Cancelled` when the check turns
    True). Errors are those of a sequential run: when a task fails, the later tasks stop at
    their next check (the earlier ones finish) and the first failed task's error is raised.
    ``progress`` gets the share of tasks done (called on this thread).
    """
    k = len(tasks)
    first_failed = [k]  # index of the first task that failed (k: none)

    def one(i: int) -> object:
        def stopped() -> bool:
            return i > first_failed[0] or cancelled()

        if stopped():
            raise Cancelled()
        return tasks[i](stopped)

    if workers <= 1:
        out = []
        for i in range(k):
            out.append(one(i))
            progress((i + 1) / k)
        return out
    done: dict[int, object] = {}
    errors: dict[int, BaseException] = {}
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(one, i): i for i in range(k)}
        for future in as_completed(futures):
            i = futures[future]
            exc = future.exception()
            if exc is None:
                done[i] = future.result()
                progress(len(done) / k)
            else:
                errors[i] = exc
                first_failed[0] = min(first_failed[0], i)
    if errors:
        if cancelled():
            raise Cancelled()
        # the first failure is a real one: a later task stops (Cancelled) only after it
        raise errors[min(errors)]
    return [done[i] for i in range(k)]


def evaluate_models(
    models: list[ModelSource],
    inputs: list[EvaluationInput],
    spec: EvaluationSpec,
    context: EvaluationContext,
    *,
    cancelled: Stopped,
    progress: Callable[[float], None],
    workers: int | None = None,
    also: Task | None = None,
) -> tuple[list[dict[str, Any]], list[ModelParts], object]:
    """Every model's evaluation result (JSON) and its :class:`ModelParts`, in model order, and
    the result of ``also`` (None without it): further work that does not need the evaluations,
    run on the same threads after them in order (it fills a core the last model leaves idle).

    Errors and cancellation as in :func:`run_in_order` (``also`` counts as after the models).
    """
    k = len(models)
    n_workers = worker_count(k, inputs[0].n) if workers is None else max(1, workers)

    def model_task(i: int) -> Task:
        def run(stopped: Stopped) -> tuple[dict[str, Any], ModelParts]:
            result, parts = evaluate_parts(
                inputs[i],
                model_spec(spec, models[i], spec.ci_level),
                cancelled=stopped,
                context=context,
            )
            return result.to_json(), parts

        return run

    tasks = [model_task(i) for i in range(k)] + ([also] if also is not None else [])
    out = run_in_order(tasks, n_workers, cancelled, progress)
    evaluated = [cast(tuple[dict[str, Any], ModelParts], r) for r in out[:k]]
    return [r for r, _ in evaluated], [p for _, p in evaluated], out[k] if also else None
