"""A stored result is checked for sense, not only for types (issue 9, attack finding 2).

Hostile or hand-edited results — in a schema-1 and a schema-2 ``.probity`` file and as a bare
result JSON — are refused with one line naming the JSON path; every result the engine writes
(the demo, the schema-1 fixture, hypothesis-generated data; COMPAS and Diabetes-130 in the slow
test) is read back without a refusal.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment import storage
from assessment.errors import DocumentError
from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.result import EvaluationResult, ResultFormatError
from assessment.evaluation.spec import EvaluationSpec, ReferenceSpec

REPO = Path(__file__).resolve().parents[3]
SCHEMA1_PATH = REPO / "tests/assessment/schema1/demo.probity"
SCHEMA1 = json.loads(SCHEMA1_PATH.read_text("utf-8"))
SCHEMA2 = json.loads((REPO / "resources/demo/demo.probity").read_text("utf-8"))


def _index(result: dict[str, Any], metric: str, *, flagged: bool | None = None) -> int:
    return next(
        i
        for i, d in enumerate(result["disparities"])
        if d["metric"] == metric
        and d["difference"]["ci_low"] is not None
        and d["p_value"] is not None
        and (flagged is None or d["flagged"] == flagged)
    )


def _edit(result: dict[str, Any], case: str) -> str:
    """Damage ``result`` in place; return the JSON path (under the result) the refusal names."""
    g = result["groups"][3]
    tpr = g["metrics"]["tpr"]
    if case == "tpr 7.5":
        tpr["value"] = 7.5
        tpr["ci_low"], tpr["ci_high"] = 7.0, 8.0
        return "groups[3].metrics.tpr.value"
    if case == "n_pos > n":
        g["n_pos"] = g["n"] + 5
        return "groups[3]"
    if case == "tp > n_pos":  # shows as a TPR above 1
        tpr["value"], tpr["ci_high"] = 1.2, 1.3
        return "groups[3].metrics.tpr.value"
    if case == "low > high":
        tpr["ci_low"], tpr["ci_high"] = tpr["ci_high"], tpr["ci_low"]
        return "groups[3].metrics.tpr.ci_low"
    if case == "interval excludes its point":
        tpr["ci_low"], tpr["ci_high"] = tpr["value"] + 0.01, tpr["value"] + 0.02
        return "groups[3].metrics.tpr"
    if case == "one limit":
        tpr["ci_high"] = None
        return "groups[3].metrics.tpr"
    if case == "interval without estimate":
        tpr["value"] = None
        return "groups[3].metrics.tpr.value"
    if case == "prevalence not n_pos/n":
        g["metrics"]["prevalence"]["value"] = 0.99
        g["metrics"]["prevalence"]["ci_low"], g["metrics"]["prevalence"]["ci_high"] = 0.98, 1.0
        return "groups[3].metrics.prevalence.value"
    if case == "overall n_neg":
        result["overall"]["n_neg"] += 1
        return "overall"
    if case == "p-value 3":
        i = _index(result, "fpr")
        result["disparities"][i]["p_value"] = 3
        return f"disparities[{i}].p_value"
    if case == "adjusted below raw":
        i = _index(result, "ppv")
        d = result["disparities"][i]
        d["p_value"], d["p_adjusted"] = 0.5, 0.01
        return f"disparities[{i}].p_adjusted"
    if case == "adjusted flag alone":
        i = _index(result, "accuracy", flagged=False)
        result["disparities"][i]["flagged_adjusted"] = True
        return f"disparities[{i}].flagged_adjusted"
    if case == "difference low > high":
        i = _index(result, "tpr")
        diff = result["disparities"][i]["difference"]
        diff["ci_low"], diff["ci_high"] = diff["ci_high"] + 1, diff["ci_low"]
        return f"disparities[{i}].difference.ci_low"
    if case == "negative ratio":
        i = _index(result, "selection_rate")
        r = result["disparities"][i]["ratio"]
        r["value"], r["ci_low"], r["ci_high"] = -2.0, -3.0, -1.0
        return f"disparities[{i}].ratio.value"
    if case == "summary excludes its value":
        s = next(x for x in result["summary"] if x["ci_low"] is not None)
        s["value"] = s["ci_high"] + 1
        return f"summary[{result['summary'].index(s)}]"
    if case == "share 1.5":
        result["representativeness"][0]["validation_share"] = 1.5
        return "representativeness[0].validation_share"
    if case == "rows don't add up":
        result["provenance"]["rows_excluded"] = result["provenance"]["rows_excluded"] + 7
        return "provenance"
    raise AssertionError(case)


CASES = [
    "tpr 7.5", "n_pos > n", "tp > n_pos", "low > high", "interval excludes its point", "one limit",
    "interval without estimate", "prevalence not n_pos/n", "overall n_neg", "p-value 3",
    "adjusted below raw", "adjusted flag alone", "difference low > high", "negative ratio",
    "summary excludes its value", "share 1.5", "rows don't add up",
]  # fmt: skip


def _refusal(tmp_path: Path, doc: dict[str, Any]) -> str:
    path = tmp_path / "hostile.probity"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(DocumentError) as info:
        storage.load(path)
    message = info.value.message
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("schema", [1, 2])
def test_a_hostile_stored_result_is_refused_naming_the_path(
    tmp_path: Path, schema: int, case: str
) -> None:
    doc = copy.deepcopy(SCHEMA1 if schema == 1 else SCHEMA2)
    where = _edit(doc["evaluation"]["result"], case)
    message = _refusal(tmp_path, doc)
    assert f"$.evaluation.result.{where}:" in message, message
    assert "re-run the evaluation" in message, message


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_result_json_is_refused_naming_the_path(case: str) -> None:
    result = copy.deepcopy(SCHEMA1["evaluation"]["result"])
    where = _edit(result, case)
    with pytest.raises(ResultFormatError) as info:
        EvaluationResult.from_json(result)
    assert info.value.path.startswith(f"$.{where}"), (info.value.path, where)
    assert "\n" not in info.value.message


def test_nan_where_a_number_is_required_is_refused() -> None:
    """A NaN in the JSON (Python's json reads the token) becomes null for an optional number;
    in an interval that leaves an estimate-less interval or a lone limit, which is refused."""
    result = copy.deepcopy(SCHEMA1["evaluation"]["result"])
    text = json.dumps(result).replace(
        json.dumps(result["groups"][3]["metrics"]["tpr"]["ci_low"]), "NaN", 1
    )
    with pytest.raises(ResultFormatError, match="both limits or neither"):
        EvaluationResult.from_json(json.loads(text))


def test_the_real_stored_results_load() -> None:
    for path in (REPO / "resources/demo/demo.probity", SCHEMA1_PATH):
        doc = storage.load(path)
        assert doc.evaluation is not None and doc.evaluation.result is not None


def _inputs(data: st.DataObject) -> EvaluationInput:
    n = data.draw(st.integers(2, 400))
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    k = data.draw(st.integers(1, 4))
    g = rng.integers(0, k, n).astype(np.int32)
    prevalence = data.draw(st.sampled_from([0.0, 0.02, 0.3, 0.9, 1.0]))
    y = rng.random(n) < prevalence
    labels = tuple(f"g{i}" for i in range(k))
    prov = Provenance("f", "0" * 64, n, n)
    if data.draw(st.booleans()):
        p = rng.random(n)
        if data.draw(st.booleans()):
            p = np.round(p, 1)  # ties
        return EvaluationInput(y, p, None, "probability", (Attribute("g", g, labels),), prov)
    pred = rng.random(n) < data.draw(st.sampled_from([0.0, 0.5, 1.0]))
    return EvaluationInput(y, None, pred, "class", (Attribute("g", g, labels),), prov)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_result_the_engine_writes_reads_back(data: st.DataObject) -> None:
    inp = _inputs(data)
    kind = data.draw(st.sampled_from(["largest", "overall"]))
    spec = EvaluationSpec(
        bootstrap=data.draw(st.sampled_from([0, 200])),
        seed=data.draw(st.integers(0, 1000)),
        reference=ReferenceSpec(kind),
        grid_points=5,
        min_n=data.draw(st.sampled_from([0, 30])),
    )
    written = evaluate(inp, spec).to_json()
    again = EvaluationResult.from_json(json.loads(json.dumps(written)))
    assert again.to_json() == json.loads(json.dumps(written))


COMPAS = REPO.parent / "shared" / "data" / "compas" / "compas-scores-two-years.csv"
DIABETES = REPO.parent / "shared" / "data" / "diabetes130" / "diabetic_data.csv"


@pytest.mark.slow
def test_compas_and_diabetes_results_read_back() -> None:
    """Real data, every reference kind that changes the arithmetic, with the bootstrap (a few
    seconds on one core)."""
    from assessment.evaluation.io import ColumnMapping, prepare_input, read_table

    comp = read_table(COMPAS)
    for mapping in (
        ColumnMapping(label="two_year_recid", prediction="score_text",
                      prediction_positive=["Medium", "High"], attributes=["race", "sex"]),
        ColumnMapping(label="two_year_recid", score="decile_score", score_kind="score",
                      threshold=5, attributes=["race", "sex", "age_cat"]),
    ):  # fmt: skip
        inp = prepare_input(comp, mapping)
        for ref in (ReferenceSpec("value", {"race": "Caucasian"}), ReferenceSpec("overall")):
            spec = EvaluationSpec(bootstrap=200, reference=ref, intersections=(("race", "sex"),))
            EvaluationResult.from_json(json.loads(json.dumps(evaluate(inp, spec).to_json())))
    diab = read_table(DIABETES)
    rng = np.random.default_rng(1)
    readmitted = diab.frame["readmitted"] == "<30"
    diab.frame["risk"] = np.clip(rng.beta(1, 8, len(diab.frame)) + readmitted * 0.05, 0, 1)
    mapping = ColumnMapping(label="readmitted", positive="<30", score="risk", threshold=0.1,
                            attributes=["race", "gender"])  # fmt: skip
    inp = prepare_input(diab, mapping)
    for ref in (ReferenceSpec("overall"), ReferenceSpec("best", metric="auroc")):
        spec = EvaluationSpec(bootstrap=200, reference=ref, intersections=(("race", "gender"),))
        EvaluationResult.from_json(json.loads(json.dumps(evaluate(inp, spec).to_json())))
