"""The engine's full result on seeded datasets is pinned (issue 9, speed work).

Speed and memory changes to the engine must not change any number: each dataset's whole
result (every metric, interval, reason, disparity, curve and note) was stored before the work
began, in ``data/engine_pinned.json.gz``, and is compared here leaf by leaf (numbers to 1e-12
relative, text exactly). Keys added to the result later do not fail the comparison; keys that
disappear do. Regenerate (only when a change of numbers is intended, and say so in the commit):
``PROBITY_REPIN=1 pytest tests/assessment/evaluation/test_engine_pinned.py``.

The datasets mix the regimes of the engine: groups above and below the exact-resampling size,
a three-row group, ties, exact 0/1 probabilities, over-confident scores, an intersection with
empty cells, clustered rows (patients spanning groups), a non-probability score and classes.
"""

from __future__ import annotations

import gzip
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assessment.evaluation import calibration, clusters, intervals
from assessment.evaluation.engine import evaluate, point_estimates, point_metrics_at_threshold
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.spec import EvaluationSpec, ReferenceSpec

# Chunk sizes of per-row work (module, constant).
CHUNKS = [
    (calibration, "ROW_CHUNK"),
    (intervals, "UNIT_BLOCK"),
    (clusters, "UNIT_CHUNK"),
    (clusters, "ROW_BLOCK"),
]
PIN = Path(__file__).with_name("data") / "engine_pinned.json.gz"
SKIP = {"created", "engine_version"}


def dataset(kind: str, n: int, seed: int, clustered: bool = False) -> EvaluationInput:
    rng = np.random.default_rng(seed)
    a2 = rng.integers(0, 2, n)
    a5 = rng.choice(5, size=n, p=[0.4, 0.3, 0.2, 0.0999, 0.0001])
    a6 = rng.integers(0, 6, n)
    a5[:3] = 4  # a level with a handful of rows
    eta = -1.2 + rng.normal(0, 1, n) + 0.2 * a5 - 0.2 * a2
    cluster = None
    if clustered:
        patient = np.sort(rng.integers(0, n // 4, n))
        eta = eta + rng.normal(0, 0.8, n // 4 + 1)[patient]
        a5 = np.where(rng.random(n) < 0.9, a5[patient], a5)  # patients mostly in one band
        cluster = np.unique(patient, return_inverse=True)[1].astype(np.int32)
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    p = 1 / (1 + np.exp(-(-1.2 + 3 * (eta + 1.2))))  # over-confident
    p = np.round(p, 3)  # ties
    p[5:9] = [0.0, 1.0, 0.0, 1.0]
    attrs = (
        Attribute("sex", a2.astype(np.int32), ("F", "M")),
        Attribute("band", a5.astype(np.int32), tuple(f"B{i}" for i in range(5))),
        Attribute("region", a6.astype(np.int32), tuple(f"R{i}" for i in range(6))),
    )
    prov = Provenance("pinned.parquet", "0" * 64, n, n)
    if kind == "class":
        return EvaluationInput(y, None, p >= 0.3, "class", attrs, prov)
    score = p if kind == "probability" else np.log(p + 0.01) * 3
    return EvaluationInput(y, score, None, kind, attrs, prov, cluster=cluster)  # type: ignore[arg-type]


def cases() -> dict[str, Any]:
    inter = (("sex", "band", "region"), ("sex", "band"))
    out: dict[str, Any] = {}
    spec = EvaluationSpec(intersections=inter, bootstrap=200, seed=7, threshold=0.3, grid_points=21)
    inp = dataset("probability", 40_000, 1)
    out["probability"] = evaluate(inp, spec).to_json()
    out["point_estimates"] = point_estimates(inp, spec)
    out["slider"] = point_metrics_at_threshold(inp, spec, 0.42)
    ref = EvaluationSpec(
        intersections=inter,
        bootstrap=200,
        seed=3,
        grid_points=11,
        reference=ReferenceSpec(kind="overall"),
    )
    out["probability_vs_overall"] = evaluate(dataset("probability", 12_000, 2), ref).to_json()
    out["clustered"] = evaluate(dataset("probability", 16_000, 4, clustered=True), spec).to_json()
    out["clustered_vs_overall"] = evaluate(
        dataset("probability", 6_000, 5, clustered=True), ref
    ).to_json()
    out["score"] = evaluate(dataset("score", 8_000, 6), spec).to_json()
    out["class"] = evaluate(dataset("class", 8_000, 8), spec).to_json()
    return out


def compare(pinned: Any, now: Any, path: str, problems: list[str]) -> None:
    if len(problems) > 20:
        return
    if isinstance(pinned, dict):
        if not isinstance(now, dict):
            problems.append(f"{path}: was an object")
            return
        for key, value in pinned.items():
            if key in SKIP:
                continue
            if key not in now:
                problems.append(f"{path}.{key}: missing")
                continue
            compare(value, now[key], f"{path}.{key}", problems)
    elif isinstance(pinned, list):
        if not isinstance(now, list) or len(now) != len(pinned):
            got = len(now) if isinstance(now, list) else now
            problems.append(f"{path}: list length {len(pinned)} → {got!r}")
            return
        for i, (a, b) in enumerate(zip(pinned, now, strict=True)):
            compare(a, b, f"{path}[{i}]", problems)
    elif isinstance(pinned, float) and not isinstance(pinned, bool):
        ok = isinstance(now, (int, float)) and (
            (math.isnan(pinned) and math.isnan(now))
            or abs(now - pinned) <= 1e-12 * max(1.0, abs(pinned))
        )
        if not ok:
            problems.append(f"{path}: {pinned!r} → {now!r}")
    elif pinned != now:
        problems.append(f"{path}: {pinned!r} → {now!r}")


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    # A JSON round trip gives the pinned form (tuples → lists).
    return json.loads(json.dumps(cases()))


def test_results_equal_the_pinned_results(results: dict[str, Any]) -> None:
    if os.environ.get("PROBITY_REPIN"):
        PIN.parent.mkdir(exist_ok=True)
        with gzip.open(PIN, "wt", encoding="utf-8") as fh:
            json.dump(results, fh, sort_keys=True)
    with gzip.open(PIN, "rt", encoding="utf-8") as fh:
        pinned = json.load(fh)
    assert set(pinned) == set(results)
    problems: list[str] = []
    for name in pinned:
        compare(pinned[name], results[name], name, problems)
    assert not problems, "\n".join(problems)


def test_results_do_not_depend_on_chunk_sizes(
    results: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per-row work done in chunks (to bound memory) gives the same numbers with chunks much
    smaller than the data, boundaries falling inside groups and tie blocks."""
    for module, name in CHUNKS:
        monkeypatch.setattr(module, name, 997)
    now = json.loads(json.dumps(cases()))
    problems: list[str] = []
    for name in results:
        compare(results[name], now[name], name, problems)
    assert not problems, "\n".join(problems)


def test_the_comparison_can_fail(results: dict[str, Any]) -> None:
    """A changed interval limit, a changed reason and a dropped key are each caught."""
    probs: list[str] = []
    one = json.loads(json.dumps(results["probability"]["groups"][0]))
    mv = one["metrics"]["auroc"]
    auroc = dict(mv, ci_low=mv["ci_low"] * (1 + 1e-9))
    changed = dict(one, metrics=dict(one["metrics"], auroc=auroc))
    compare(one, changed, "g", probs)
    assert probs == [f"g.metrics.auroc.ci_low: {mv['ci_low']!r} → {mv['ci_low'] * (1 + 1e-9)!r}"]
    probs.clear()
    compare(one, {k: v for k, v in one.items() if k != "flags"}, "g", probs)
    assert probs == ["g.flags: missing"]
