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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from typing import Any

from threadpoolctl import threadpool_limits

from assessment.compare.sources import ModelSource
from assessment.errors import Cancelled
from assessment.evaluation.context import EvaluationContext, ModelParts
from assessment.evaluation.engine import evaluate_parts
from assessment.evaluation.inputs import EvaluationInput
from assessment.evaluation.spec import EvaluationSpec

# Evaluations at once, at most: each holds its own working arrays (about 0.15 GB per million
# rows, measured with benchmarks/bench_compare.py), so the comparison's peak memory grows with
# the number of threads, not with the number of cores.
MAX_WORKERS = 4
# Above this many rows the evaluations run one after another (peak memory as in a single
# evaluation plus the shared data), whatever the core count.
MAX_PARALLEL_ROWS = 4_000_000


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return len(affinity(0))
    return os.cpu_count() or 1


def worker_count(models: int, rows: int, cores: int | None = None) -> int:
    """Threads for ``models`` evaluations of ``rows`` rows: one per available core, at most
    :data:`MAX_WORKERS` and one per model; one above :data:`MAX_PARALLEL_ROWS` rows."""
    if rows > MAX_PARALLEL_ROWS:
        return 1
    return max(1, min(models, MAX_WORKERS, available_cores() if cores is None else cores))


def model_spec(spec: EvaluationSpec, model: ModelSource, level: float) -> EvaluationSpec:
    """The engine's spec for one model: its own operating point, the given confidence level."""
    thr = spec.threshold if model.threshold is None else float(model.threshold)
    return replace(spec, threshold=thr, ci_level=level)


def evaluate_models(
    models: list[ModelSource],
    inputs: list[EvaluationInput],
    spec: EvaluationSpec,
    context: EvaluationContext,
    *,
    cancelled: Callable[[], bool],
    progress: Callable[[float], None],
    workers: int | None = None,
) -> tuple[list[dict[str, Any]], list[ModelParts]]:
    """Every model's evaluation result (JSON) and its :class:`ModelParts`, in model order.

    ``progress`` gets the share of models done (called on this thread). Errors are those of a
    sequential run: when a model's evaluation fails, the later models' evaluations stop at
    their next checkpoint (the earlier ones finish) and the error of the first model that
    failed is raised.
    """
    k = len(models)
    n_workers = worker_count(k, inputs[0].n) if workers is None else max(1, workers)
    first_failed = [k]  # index of the first model whose evaluation failed (k: none)

    def one(i: int) -> tuple[dict[str, Any], ModelParts]:
        def stopped() -> bool:
            return i > first_failed[0] or cancelled()

        if stopped():
            raise Cancelled()
        result, parts = evaluate_parts(
            inputs[i],
            model_spec(spec, models[i], spec.ci_level),
            cancelled=stopped,
            context=context,
        )
        return result.to_json(), parts

    if n_workers == 1:
        out = []
        for i in range(k):
            out.append(one(i))
            progress((i + 1) / k)
        return [r for r, _ in out], [p for _, p in out]
    done: dict[int, tuple[dict[str, Any], ModelParts]] = {}
    errors: dict[int, BaseException] = {}
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(n_workers) as pool:
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
        # the first failure is a real one: a later model stops (Cancelled) only after it
        raise errors[min(errors)]
    return [done[i][0] for i in range(k)], [done[i][1] for i in range(k)]
