"""An evaluation gives the same result, bit for bit, on one thread and on two (the second
thread takes every other grouping's bootstrap)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assessment.evaluation import engine
from assessment.evaluation.engine import evaluate, thread_count
from assessment.evaluation.spec import EvaluationSpec, ReferenceSpec
from tests.assessment.evaluation.test_engine_pinned import dataset


def _json(result: Any) -> str:
    out = result.to_json()
    out.pop("created", None)
    return json.dumps(out, sort_keys=True)  # NaN written as NaN: compared exactly too


@pytest.mark.parametrize(
    ("kind", "clustered", "reference"),
    [
        ("probability", True, "overall"),
        ("probability", True, "largest"),
        ("probability", False, "overall"),
        ("score", False, "largest"),
        ("class", False, "largest"),
    ],
)
def test_one_and_two_threads_give_the_same_result(
    kind: str, clustered: bool, reference: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as on a 4-core machine, so that 2 and 3 threads are used whatever this one has
    monkeypatch.setattr(engine.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3}, raising=False)
    spec = EvaluationSpec(
        intersections=(("sex", "band", "region"),),
        bootstrap=200,
        seed=11,
        threshold=0.3,
        grid_points=11,
        reference=ReferenceSpec(kind=reference),  # type: ignore[arg-type]
    )
    inp = dataset(kind, 9_000, 21, clustered=clustered)
    one = _json(evaluate(inp, spec, threads=1))
    assert _json(evaluate(inp, spec, threads=2)) == one
    assert _json(evaluate(inp, spec, threads=3)) == one


def test_one_thread_unless_asked_never_more_than_the_cores_and_one_inside_a_comparison(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3}, raising=False)
    assert thread_count(None, None) == 1
    assert thread_count(2, None) == 2
    assert thread_count(8, None) == 4
    assert thread_count(2, object()) == 1  # type: ignore[arg-type]
    monkeypatch.setattr(engine.os, "sched_getaffinity", lambda _pid: {0}, raising=False)
    assert thread_count(2, None) == 1


def test_a_failing_bootstrap_on_the_second_thread_is_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = engine._bootstrap

    def failing(stats: Any, ctx: Any, recal: Any, k: int, cancelled: Any) -> None:
        if k == 1:
            raise RuntimeError("boom in grouping 1")
        real(stats, ctx, recal, k, cancelled)

    monkeypatch.setattr(engine, "_bootstrap", failing)
    spec = EvaluationSpec(bootstrap=200, seed=1)
    with pytest.raises(RuntimeError, match="boom in grouping 1"):
        evaluate(dataset("probability", 3_000, 2), spec, threads=2)
