"""The comparison's shared work (issue 13, speed): the engine's shared context changes no number,
the placements it hands back are DeLong's by definition, the paired DeLong test from them is
the one computed afresh, and evaluating models on threads gives the sequential results and
errors."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from assessment.compare import evaluations as ev
from assessment.compare import paired as pr
from assessment.compare.analysis import CompareOptions, compare
from assessment.compare.sources import ModelSource
from assessment.errors import Cancelled, EvaluationError
from assessment.evaluation.context import EvaluationContext
from assessment.evaluation.engine import evaluate, evaluate_parts
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.metrics import SortedScores
from assessment.evaluation.spec import EvaluationSpec, ReferenceSpec

INTER = (("sex", "band"),)


def _rows(n: int, seed: int, clustered: bool = False) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    sex = rng.integers(0, 2, n)
    band = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    eta = -1.0 + rng.normal(0, 1, n) + 0.3 * band
    cluster = None
    if clustered:
        patient = np.sort(rng.integers(0, n // 3, n))
        eta = eta + rng.normal(0, 0.7, n // 3 + 1)[patient]
        cluster = np.unique(patient, return_inverse=True)[1].astype(np.int32)
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    return y, sex, band, eta, cluster  # type: ignore[return-value]


def _inputs(n: int = 3000, seed: int = 11, k: int = 3, clustered: bool = False,
            kinds: tuple[str, ...] = ()) -> list[EvaluationInput]:
    y, sex, band, eta, cluster = _rows(n, seed, clustered)
    rng = np.random.default_rng(seed + 1)
    attrs = (
        Attribute("sex", sex.astype(np.int32), ("F", "M")),
        Attribute("band", band.astype(np.int32), ("B0", "B1", "B2")),
    )
    out = []
    for i in range(k):
        kind = kinds[i] if i < len(kinds) else "probability"
        p = np.round(1 / (1 + np.exp(-(eta * (0.5 + 0.3 * i) + rng.normal(0, 0.5, n)))), 2)
        prov = Provenance("shared.csv", "0" * 64, n, n)
        if kind == "class":
            out.append(EvaluationInput(y, None, p >= 0.3, "class", attrs, prov, cluster=cluster))
        else:
            score = p if kind == "probability" else np.log(p + 0.01)
            out.append(EvaluationInput(y, score, None, kind, attrs, prov,  # type: ignore[arg-type]
                                       cluster=cluster))
    return out


def _strip(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _strip(v) for k, v in doc.items() if k != "created"}
    if isinstance(doc, list):
        return [_strip(v) for v in doc]
    return doc


def _same(a: Any, b: Any) -> bool:
    """Equal JSON documents, NaN equal to NaN (the documents may hold NaN before cleaning)."""
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


SPECS = {
    "largest": EvaluationSpec(intersections=INTER, bootstrap=200, seed=5, threshold=0.3),
    "overall": EvaluationSpec(intersections=INTER, bootstrap=200, seed=5, threshold=0.3,
                              reference=ReferenceSpec(kind="overall")),
}


@pytest.mark.parametrize("reference", sorted(SPECS))
@pytest.mark.parametrize("kind", ["probability", "score", "class", "clustered"])
@pytest.mark.parametrize("keep", [False, True])
def test_a_shared_context_changes_no_number(reference: str, kind: str, keep: bool) -> None:
    inp = _inputs(1500, 3, k=1, clustered=kind == "clustered",
                  kinds=("probability" if kind == "clustered" else kind,))[0]
    spec = SPECS[reference]
    alone = evaluate(inp, spec).to_json()
    context = EvaluationContext.build(inp, spec.intersections, keep_placements=keep)
    shared = evaluate(inp, spec, context=context).to_json()
    assert _same(_strip(alone), _strip(shared))


def test_a_context_of_other_rows_is_refused() -> None:
    a, b = _inputs(800, 1, k=2)
    other = _inputs(800, 2, k=1)[0]
    context = EvaluationContext.build(a, INTER)
    evaluate(b, SPECS["largest"], context=context)  # same rows, another model: fine
    with pytest.raises(EvaluationError, match="other rows"):
        evaluate(other, SPECS["largest"], context=context)
    with pytest.raises(EvaluationError, match="other rows"):
        evaluate(a, replace(SPECS["largest"], intersections=()), context=context)


def _placements_by_definition(
    score: np.ndarray, y: np.ndarray, codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """DeLong (1988): V10 of a positive = share of its group's negatives scored lower (ties ½),
    V01 of a negative = share of its group's positives scored higher (ties ½); per row."""
    place = np.empty(score.size)
    auc = []
    for g in np.unique(codes):
        rows = np.flatnonzero(codes == g)
        s, yy = score[rows], y[rows]
        pos, neg = s[yy], s[~yy]
        for r, si, yi in zip(rows, s, yy, strict=True):
            other = neg if yi else pos
            below = np.mean(other < si) if yi else np.mean(other > si)
            place[r] = below + 0.5 * np.mean(other == si)
        auc.append(roc_auc_score(yy, s))
    return place, np.array(auc)


def test_kept_placements_are_delongs_by_definition() -> None:
    inp = _inputs(700, 9, k=1)[0]
    assert inp.score is not None
    context = EvaluationContext.build(inp, INTER, keep_placements=True)
    _result, parts = evaluate_parts(inp, SPECS["largest"], context=context)
    assert len(parts.auroc) == len(context.groupings) == 4
    for gp, res in zip(context.groupings, parts.auroc, strict=True):
        assert res is not None and res.placements is not None
        place, auc = _placements_by_definition(inp.score, inp.y_true, np.asarray(gp.codes))
        np.testing.assert_allclose(res.placements, place, rtol=0, atol=1e-12)
        np.testing.assert_allclose(res.auc, auc, rtol=0, atol=1e-12)
    # without keep_placements a subgroup's placements are dropped (8 bytes per row each)
    _r, lean = evaluate_parts(inp, SPECS["largest"], context=EvaluationContext.build(inp, INTER))
    assert all(r is not None and r.placements is None for r in lean.auroc[1:])


def test_paired_delong_from_the_engines_placements_is_the_fresh_one() -> None:
    inputs = _inputs(2500, 4, k=3)
    context = EvaluationContext.build(inputs[0], INTER, keep_placements=True)
    parts = [evaluate_parts(inp, SPECS["largest"], context=context)[1] for inp in inputs]
    y = context.y
    for gi, gp in enumerate(context.groupings):
        n_pos = np.bincount(gp.codes, weights=y, minlength=gp.size)
        n_neg = np.bincount(gp.codes, minlength=gp.size) - n_pos
        fresh = pr.paired_auroc(
            gp, [SortedScores.build(np.asarray(i.score), y) for i in inputs], y, n_pos, n_neg
        )
        engine = [p.auroc[gi] for p in parts]
        reused = pr.paired_auroc(gp, [r for r in engine if r is not None], y, n_pos, n_neg)
        for field in ("auc", "s10", "s01"):
            np.testing.assert_array_equal(getattr(fresh, field), getattr(reused, field))


MODELS = [ModelSource(name=f"M{i}", column=f"m{i}") for i in range(4)]


def _compare(inputs: list[EvaluationInput], workers: int, **kw: Any) -> dict[str, Any]:
    spec = EvaluationSpec(intersections=INTER, bootstrap=200, seed=9)
    models = [*MODELS[: len(inputs)]]
    return compare(models, inputs, spec, CompareOptions(capacity=(10, 100)), workers=workers,
                   **kw).to_json()


@pytest.mark.parametrize("clustered", [False, True])
def test_threads_give_the_sequential_comparison_exactly(clustered: bool) -> None:
    inputs = _inputs(2000, 6, k=4, clustered=clustered, kinds=("probability", "score"))
    one = _strip(_compare(inputs, workers=1))
    for workers in (2, 3):
        assert _same(one, _strip(_compare(inputs, workers=workers)))


def test_a_class_model_has_no_engine_auroc_and_the_comparison_runs() -> None:
    inputs = _inputs(1200, 8, k=3, kinds=("probability", "class", "probability"))
    doc = _compare(inputs, workers=2)
    pairs = {(e["model_a"], e["model_b"]) for e in doc["paired"] if e["metric"] == "auroc"}
    assert pairs == {("M0", "M2")}


def _broken(inp: EvaluationInput, why: str) -> EvaluationInput:
    assert inp.score is not None
    score = inp.score.copy()
    score[3] = np.nan if why == "nan" else 7.0
    return replace(inp, score=score)


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_the_first_failing_models_error_is_raised_as_in_a_sequential_run(workers: int) -> None:
    inputs = _inputs(1500, 12, k=4)
    inputs[1] = _broken(inputs[1], "range")  # "outside 0–1"
    inputs[3] = _broken(inputs[3], "nan")  # "missing or infinite": fails first, sooner
    context = EvaluationContext.build(inputs[0], INTER)
    with pytest.raises(EvaluationError, match="outside 0–1"):
        ev.evaluate_models(MODELS, inputs, SPECS["largest"], context, workers=workers,
                           cancelled=lambda: False, progress=lambda _f: None)


def test_cancelling_stops_the_threads() -> None:
    inputs = _inputs(1500, 13, k=4)
    context = EvaluationContext.build(inputs[0], INTER)
    seen: list[float] = []
    with pytest.raises(Cancelled):
        ev.evaluate_models(MODELS, inputs, SPECS["largest"], context, workers=2,
                           cancelled=lambda: bool(seen), progress=seen.append)
    assert len(seen) < 4


def test_progress_reaches_one_in_order() -> None:
    inputs = _inputs(900, 14, k=3)
    context = EvaluationContext.build(inputs[0], INTER)
    seen: list[float] = []
    results, parts, extra = ev.evaluate_models(MODELS[:3], inputs, SPECS["largest"], context,
                                               workers=2, cancelled=lambda: False,
                                               progress=seen.append)
    assert seen == [1 / 3, 2 / 3, 1.0] and len(results) == len(parts) == 3 and extra is None


def _task(value: int, fail: str | None = None, wait: float = 0.0) -> ev.Task:
    def run(stopped: ev.Stopped) -> int:
        end = time.monotonic() + wait
        while time.monotonic() < end:
            if stopped():
                raise Cancelled()
            time.sleep(0.005)
        if fail:
            raise EvaluationError(fail)
        return value

    return run


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_tasks_run_in_order_of_results_and_errors(workers: int) -> None:
    never = lambda: False  # noqa: E731
    tasks = [_task(0, wait=0.05), _task(1), _task(2, wait=0.02)]
    assert ev.run_in_order(tasks, workers, never, lambda _f: None) == [0, 1, 2]
    # task 2 fails at once, task 1 later: task 1's error, as in a sequential run; the slow
    # task 3 after them is stopped
    slow = _task(3, wait=30.0)
    failing = [_task(0), _task(1, "one", wait=0.1), _task(2, "two"), slow]
    started = time.monotonic()
    with pytest.raises(EvaluationError, match="one"):
        ev.run_in_order(failing, workers, never, lambda _f: None)
    assert time.monotonic() - started < 10


def test_the_extra_task_runs_beside_the_models_and_its_result_comes_back() -> None:
    inputs = _inputs(900, 16, k=2)
    context = EvaluationContext.build(inputs[0], INTER)
    results, _parts, extra = ev.evaluate_models(
        MODELS[:2], inputs, SPECS["largest"], context, workers=2, cancelled=lambda: False,
        progress=lambda _f: None, also=_task(42),
    )
    assert extra == 42 and len(results) == 2
    with pytest.raises(EvaluationError, match="side"):
        ev.evaluate_models(MODELS[:2], inputs, SPECS["largest"], context, workers=2,
                           cancelled=lambda: False, progress=lambda _f: None,
                           also=_task(0, "side"))


def test_worker_count() -> None:
    assert ev.worker_count(5, 1_000_000, cores=2) == 2
    assert ev.worker_count(5, 1_000_000, cores=1) == 1
    assert ev.worker_count(2, 1_000_000, cores=16) == 2
    assert ev.worker_count(8, 1_000_000, cores=16) == ev.MAX_WORKERS
    assert ev.worker_count(5, 2_000_000, cores=16) == 2
    assert ev.worker_count(5, 4_000_000, cores=16) == 1
    assert ev.worker_count(5, 0, cores=3) == 3
    assert ev.available_cores() >= 1


def test_over_the_placement_budget_the_paired_test_recomputes_the_same_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assessment.compare import analysis

    inputs = _inputs(1500, 15, k=3)
    reused = _strip(_compare(inputs, workers=2))
    monkeypatch.setattr(analysis, "PLACEMENT_BUDGET", 0)
    seen: list[bool] = []
    real = ev.evaluate_models

    def spy(*a: Any, **k: Any) -> Any:
        seen.append(a[3].keep_placements)
        return real(*a, **k)

    monkeypatch.setattr(analysis, "evaluate_models", spy)
    assert _same(reused, _strip(_compare(inputs, workers=2))) and seen == [False]


def test_group_codes_in_one_byte_do_not_wrap_in_the_paired_counts_and_curves() -> None:
    """Groupings hold codes as uint8: code × 64 patterns (5 models) or × 100 thresholds wrapped
    at 256 and put group 4's rows into group 0's counts. Checked against direct counts."""
    from assessment.compare import usefulness as us

    rng = np.random.default_rng(17)
    n, size = 4000, 7
    codes = rng.integers(0, size, n).astype(np.uint8)
    y = rng.random(n) < 0.3
    scores = [rng.random(n) for _ in range(5)]
    flags = [s >= 0.6 for s in scores]
    table = pr.pattern_table(codes, size, pr.pattern_codes(y, flags), 5)
    for a, b in ((0, 1), (2, 4)):
        for outcome in (True, False):
            rows = y == outcome
            direct = pr.discordant(codes, size, rows, flags[a], flags[b])
            for got, want in zip(pr.table_discordant(table, 5, a, b, outcome), direct,
                                 strict=True):
                np.testing.assert_array_equal(got, want)
    thresholds = us.threshold_grid(0.01, 0.99, 0.01)
    cc = us.curve_counts(codes, size, y, thresholds, scores[0], flags[0])
    for g in range(size):
        mine = (codes == g) & y
        want_tp = [np.count_nonzero(mine & (scores[0] >= t)) for t in thresholds]
        np.testing.assert_array_equal(cc.tp[g], want_tp)


def test_model_inputs_factorise_shared_columns_once_and_release_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pandas as pd

    from assessment.compare.sources import align, model_inputs
    from assessment.evaluation import columns
    from assessment.evaluation.column_mapping import ColumnMapping
    from assessment.evaluation.mapping import prepare_input

    rng = np.random.default_rng(21)
    n = 500
    frame = pd.DataFrame({
        "y": rng.integers(0, 2, n), "sex": rng.choice(["F", "M"], n),
        "band": rng.choice(["a", "b", "c"], n),
        **{f"m{i}": np.round(rng.random(n), 3) for i in range(3)},
    })
    frame.loc[7, "m1"] = np.nan  # a row one model cannot be judged on: left out for all
    table = columns.LoadedTable.from_frame(frame, "shared.csv")
    models = [ModelSource(name=f"M{i}", column=f"m{i}") for i in range(3)]
    base = ColumnMapping(label="y", score="-", attributes=["sex", "band"])
    aligned = align(table, models, {}, base)
    coded_columns: list[str] = []
    real = columns._code_column

    def counting(series: Any, missing: Any) -> Any:
        coded_columns.append(str(series.name))
        return real(series, missing)

    monkeypatch.setattr(columns, "_code_column", counting)
    inputs = model_inputs(aligned, models, base)
    assert sorted(coded_columns) == sorted(set(coded_columns))  # each column once
    assert {"sex", "band"} <= set(coded_columns)
    assert columns._CACHES.get(aligned.table) is None  # released afterwards
    # the same inputs as mapping each model on its own
    from assessment.compare.sources import model_mapping

    for m, inp in zip(models, inputs, strict=True):
        alone = prepare_input(aligned.table, model_mapping(base, m, aligned.columns[m.name]))
        assert inp.n == alone.n == n - 1
        np.testing.assert_array_equal(inp.score, alone.score)
        np.testing.assert_array_equal(inp.y_true, alone.y_true)
        for a, b in zip(inp.attributes, alone.attributes, strict=True):
            np.testing.assert_array_equal(a.codes, b.codes)
            assert a.levels == b.levels
        assert inp.provenance.excluded == alone.provenance.excluded


def test_operating_points_use_the_threshold_of_the_models_own_evaluation() -> None:
    """A spec threshold other than 0.5 (API callers) applies to a model without its own: the
    paired counts and operating points must count the flags its evaluation counted."""
    inputs = _inputs(1500, 18, k=2)
    spec = EvaluationSpec(intersections=INTER, bootstrap=0, seed=9, threshold=0.3)
    doc = compare(MODELS[:2], inputs, spec, CompareOptions(), workers=1).to_json()
    for m, inp in zip(doc["models"], inputs, strict=True):
        assert inp.score is not None
        point = next(p for p in doc["operating_points"]
                     if p["model"] == m["name"] and p["attribute"] is None)
        overall = m["result"]["overall"]
        flagged = int(np.count_nonzero(inp.score >= 0.3))
        assert point["flagged"] == flagged
        tpr = overall["metrics"]["tpr"]["value"]
        assert point["true_positives"] == round(tpr * overall["n_pos"])
