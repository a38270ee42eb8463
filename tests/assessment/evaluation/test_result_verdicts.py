"""A stored result's verdicts are re-derived from its own numbers (tester's defect 3).

A hand-edited assessment could carry an adjusted flag with an adjusted p-value of 0.214, a flag
with p = 0.9, FPR flagged while its mirror TNR is not, FNR ≠ 1 − TPR, a difference of 0 between
groups that differ by 0.214, or a real disparity unflagged — and still give a PDF. Each is now
refused in one sentence naming the JSON path; every result the engine writes (COMPAS in both
files, the demo with and without clustering, the pinned datasets, the schema-1 fixtures,
hypothesis data; every reference kind and both multiplicity methods) still loads.
"""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable
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
from assessment.evaluation.mirrors import MIRRORS
from assessment.evaluation.record import check_result_json
from assessment.evaluation.references import REF_ZERO_INFINITE
from assessment.evaluation.result import EvaluationResult, ResultFormatError
from assessment.evaluation.result_sense import (
    MIRRORS as SENSE_MIRRORS,
)
from assessment.evaluation.result_sense import (
    NEVER_FLAGGED,
    adjust_p,
)
from assessment.evaluation.result_sense import (
    REF_ZERO_INFINITE as SENSE_REF_ZERO_INFINITE,
)
from assessment.evaluation.spec import EvaluationSpec, ReferenceSpec
from assessment.jsoncheck import Invalid

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "resources/demo/demo.probity"
SCHEMA1 = REPO / "tests/assessment/schema1/demo.probity"
PIN = Path(__file__).with_name("data") / "engine_pinned.json.gz"
COMPAS = REPO.parent / "shared" / "data" / "compas"
Result = dict[str, Any]


def _demo_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DEMO.read_text("utf-8"))
    return doc


def _full_result() -> Result:
    """The demo's evaluation as ``evaluate --json`` writes it (spec and provenance included)."""
    record = storage.load(DEMO).evaluation
    assert record is not None and record.result is not None
    return json.loads(json.dumps(record.result_json()))


def _find(r: Result, pred: Callable[[dict[str, Any]], bool]) -> int:
    return next(i for i, d in enumerate(r["disparities"]) if pred(d))


def _pair(r: Result, i: int, metric: str) -> int:
    d = r["disparities"][i]
    return _find(
        r,
        lambda x: (
            (x["attribute"], x["group"], x["reference"], x["metric"])
            == (d["attribute"], d["group"], d["reference"], metric)
        ),
    )


def _group(r: Result, attribute: str, group: str) -> int:
    return next(
        i for i, g in enumerate(r["groups"]) if (g["attribute"], g["group"]) == (attribute, group)
    )


def _edit(r: Result, case: str) -> tuple[str, str]:
    """Damage ``r``; return (the JSON path under the result that is named, a word of the why)."""
    ds = r["disparities"]
    if case == "adjusted flag, adjusted p 0.09":
        i = _find(r, lambda d: d["metric"] == "fpr" and d["flagged"] and not d["flagged_adjusted"])
        ds[i]["flagged_adjusted"] = True
        ds[_pair(r, i, "tnr")]["flagged_adjusted"] = True
        return f"disparities[{i}].flagged_adjusted", "adjusted p-value"
    if case == "flag with p 0.9":
        i = _find(r, lambda d: d["metric"] == "ppv" and not d["flagged"] and d["p_value"])
        ds[i].update(flagged=True, flagged_adjusted=True, p_value=0.9, p_adjusted=0.95)
        return f"disparities[{i}].flagged", "p-value 0.9"
    if case == "flag whose interval includes parity":
        i = _find(
            r,
            lambda d: (
                d["metric"] == "auroc"
                and not d["flagged"]
                and d["difference"]["ci_low"] is not None
                and d["difference"]["ci_low"] < 0 < d["difference"]["ci_high"]
            ),
        )
        ds[i]["flagged"] = True
        ds[i]["p_value"] = 0.01  # even with a p-value that agrees
        return f"disparities[{i}].flagged", "includes parity"
    if case == "flag within tolerance":
        i = _find(
            r,
            lambda d: (
                d["metric"] == "selection_rate"
                and not d["flagged"]
                and d["ratio"]["ci_low"] is not None
                and 0.8 <= d["ratio"]["value"] <= 1.25
                and (d["ratio"]["ci_low"] > 1 or d["ratio"]["ci_high"] < 1)
            ),
        )
        ds[i]["flagged"] = True
        ds[i]["p_value"] = min(ds[i]["p_value"], 0.01)
        return f"disparities[{i}].flagged", "within its tolerance"
    if case == "real FPR disparity unflagged":
        i = _find(r, lambda d: d["metric"] == "fpr" and d["flagged"])
        for k in (i, _pair(r, i, "tnr")):
            ds[k]["flagged"] = ds[k]["flagged_adjusted"] = False
        return f"disparities[{i}].flagged", "not flagged"
    if case == "TNR disagrees with FPR":
        i = _find(r, lambda d: d["metric"] == "fpr" and d["flagged"])
        j = _pair(r, i, "tnr")
        ds[j]["flagged"] = ds[j]["flagged_adjusted"] = False
        return f"disparities[{j}].flagged", "disagree"
    if case == "FNR flagged, TPR not":
        i = _find(r, lambda d: d["metric"] == "tpr" and not d["flagged"] and d["p_value"])
        ds[_pair(r, i, "fnr")]["flagged"] = True
        return f"disparities[{_pair(r, i, 'fnr')}].flagged", "disagree"
    if case == "FNR is not 1 - TPR":
        g = _group(r, "race", "Caucasian")
        fnr = r["groups"][g]["metrics"]["fnr"]
        fnr["value"], fnr["ci_low"], fnr["ci_high"] = 0.05, 0.04, 0.06
        return f"groups[{g}].metrics.fnr.value", "1 − TPR"
    if case == "TNR is not 1 - FPR":
        tnr = r["overall"]["metrics"]["tnr"]
        tnr["value"] += 0.01
        tnr["ci_high"] = min(1.0, tnr["ci_high"] + 0.01)
        return "overall.metrics.tnr.value", "1 − FPR"
    if case == "TPR and FNR shifted together":  # the mirror agrees; accuracy etc. do not
        g = _group(r, "race", "Caucasian")
        mm = r["groups"][g]["metrics"]
        mm["tpr"].update(value=0.95, ci_low=0.94, ci_high=0.96)
        mm["fnr"].update(value=0.05, ci_low=0.04, ci_high=0.06)
        return f"groups[{g}].metrics.selection_rate.value", "n_pos and n_neg give"
    if case == "difference set to 0":
        i = _find(r, lambda d: d["metric"] == "fpr" and d["flagged"])
        ds[i]["difference"].update(value=0.0, ci_low=-0.01, ci_high=0.01)
        return f"disparities[{i}].difference.value", "minus"
    if case == "ratio set to 1":
        i = _find(r, lambda d: d["metric"] == "ppv" and d["ratio"]["value"] is not None)
        ds[i]["ratio"].update(value=1.0, ci_low=0.95, ci_high=1.05)
        return f"disparities[{i}].ratio.value", "over"
    if case == "adjusted p not the family's adjustment":
        i = _find(r, lambda d: d["metric"] == "accuracy" and d["p_value"] and d["p_adjusted"] < 0.5)
        ds[i]["p_adjusted"] = min(1.0, ds[i]["p_adjusted"] * 1.7)
        return f"disparities[{i}].p_adjusted", "holm adjustment"
    if case == "mirror's adjusted p":
        i = _find(r, lambda d: d["metric"] == "tnr" and d["p_adjusted"] and d["p_adjusted"] < 0.9)
        ds[i]["p_adjusted"] = 0.99
        return f"disparities[{i}].p_adjusted", "mirror"
    if case == "tolerance text":
        # a default may change between versions, so a result is judged with the tolerance it
        # states: one that clears the flag it carries is a contradiction
        i = _find(r, lambda d: d["metric"] == "selection_rate" and d["flagged"])
        ds[i]["tolerance"] = "ratio outside [0.001, 1000]"
        return f"disparities[{i}].flagged", ""
    if case == "tolerance text not the settings'":
        band = {"kind": "ratio", "low": 0.7, "high": 1.4}  # not the default: named in the settings
        r["spec"]["tolerances"] = {"selection_rate": band}
        i = _find(r, lambda d: d["metric"] == "selection_rate")  # the first one is read first
        ds[i]["tolerance"] = "ratio outside [0.5, 2]"
        return f"disparities[{i}].tolerance", "settings' tolerance"
    if case == "summary measure moved":
        i = next(k for k, x in enumerate(r["summary"]) if x["value"] is not None)
        r["summary"][i].update(value=0.01, ci_low=0.0, ci_high=0.02)
        return f"summary[{i}].value", "range"
    if case == "disparity of no group":
        i = _find(r, lambda d: d["metric"] == "fpr")
        r["disparities"][i]["group"] = "Martian"
        return f"disparities[{i}].group", "not a group"
    if case == "group n not its rows":
        r["provenance"]["rows_by_group"]["race"]["Asian"] = 999_999
        return f"groups[{_group(r, 'race', 'Asian')}].n", "rows_by_group"
    if case == "rows used not everyone's n":
        prov = r["provenance"]
        prov["rows_used"] -= 214
        prov["rows_excluded"] += 214
        return "overall.n", "rows used"
    if case == "missingness flag":  # the demo has no excluded rows: one row, flagged after
        # adjustment with an adjusted p-value of 0.5
        diff = {"value": 0.1, "ci_low": 0.01, "ci_high": 0.4, "method": "", "reason": None}
        r["missingness"] = [
            {"attribute": "race", "group": "Asian", "rows_read": 10, "excluded": 1,
             "by_reason": {"label": 1}, "rate": 0.1, "rest_rate": 0.0, "difference": diff,
             "p_value": 0.5, "p_adjusted": 0.5, "flagged": True, "flagged_adjusted": True,
             "reason": None}
        ]  # fmt: skip
        return "missingness[0].flagged_adjusted", "adjusted p-value"
    if case == "missingness gap unflagged":
        _edit(r, "missingness flag")
        r["missingness"][0].update(flagged=False, flagged_adjusted=False)
        return "missingness[0].flagged", "contradicts the gap"
    if case == "missingness rate":
        _edit(r, "missingness flag")
        r["missingness"][0].update(rate=0.3, flagged_adjusted=False)
        return "missingness[0].rate", "excluded of"
    raise AssertionError(case)


CASES = [
    "adjusted flag, adjusted p 0.09", "flag with p 0.9", "flag whose interval includes parity",
    "flag within tolerance", "real FPR disparity unflagged", "TNR disagrees with FPR",
    "FNR flagged, TPR not", "FNR is not 1 - TPR", "TNR is not 1 - FPR",
    "TPR and FNR shifted together", "difference set to 0",
    "ratio set to 1", "adjusted p not the family's adjustment", "mirror's adjusted p",
    "tolerance text", "tolerance text not the settings'", "summary measure moved",
    "disparity of no group", "group n not its rows",
    "rows used not everyone's n", "missingness flag", "missingness gap unflagged",
    "missingness rate",
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_a_contradicting_result_json_is_refused_naming_the_path(case: str) -> None:
    r = _full_result()
    where, why = _edit(r, case)
    with pytest.raises(ResultFormatError) as info:
        EvaluationResult.from_json(r)
    assert info.value.path == f"$.{where}", (info.value.path, where, info.value.message)
    assert why.lower() in info.value.message.lower(), info.value.message
    assert "\n" not in info.value.message


@pytest.mark.parametrize(
    "case",
    ["adjusted flag, adjusted p 0.09", "real FPR disparity unflagged", "difference set to 0"],
)
def test_a_contradicting_assessment_is_refused_in_one_sentence(tmp_path: Path, case: str) -> None:
    doc = _demo_doc()
    where, _ = _edit(doc["evaluation"]["result"], case)
    path = tmp_path / "edited.probity"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(DocumentError) as info:
        storage.load(path)
    message = info.value.message
    assert f"$.evaluation.result.{where}:" in message, message
    assert "re-run the evaluation" in message and "\n" not in message


def test_an_older_result_is_held_to_its_own_rule() -> None:
    """The schema-1 fixture was written before a mirror pair had one verdict (TNR judged on its
    own tolerance) and before a flag needed its p-value: it loads, and what held then is still
    checked."""
    doc = json.loads(SCHEMA1.read_text("utf-8"))
    EvaluationResult.from_json(copy.deepcopy(doc["evaluation"]["result"]))
    r = copy.deepcopy(doc["evaluation"]["result"])
    i = _find(r, lambda d: d["flagged"] and not d["flagged_adjusted"] and d["metric"] == "auroc")
    r["disparities"][i]["flagged_adjusted"] = True
    with pytest.raises(ResultFormatError, match="adjusted p-value"):
        EvaluationResult.from_json(r)
    r = copy.deepcopy(doc["evaluation"]["result"])
    where, _ = _edit(r, "difference set to 0")
    with pytest.raises(ResultFormatError) as info:
        EvaluationResult.from_json(r)
    assert info.value.path == f"$.{where}"


def test_stripping_the_mirror_marker_does_not_relax_the_rule() -> None:
    """A current result whose "judged on FPR, its mirror" tolerances are removed is still held
    to the current rule (its Koopman ratio method dates it)."""
    r = _full_result()
    for d in r["disparities"]:
        if d["metric"] in MIRRORS and d["tolerance"]:
            d["tolerance"] = d["tolerance"].split(": ", 1)[1]
    with pytest.raises(ResultFormatError) as info:
        EvaluationResult.from_json(copy.deepcopy(r))
    assert info.value.path.endswith(".tolerance"), info.value.message


def test_check_result_json_reads_an_embedded_result_under_its_path() -> None:
    """The function a comparison dossier's loader calls on each model's result."""
    r = _full_result()
    typed = check_result_json(copy.deepcopy(r), "$.models[1].result")
    assert isinstance(typed, EvaluationResult)
    where, _ = _edit(r, "flag with p 0.9")
    with pytest.raises(Invalid) as info:
        check_result_json(r, "$.models[1].result")
    assert info.value.path == f"$.models[1].result.{where}"
    with pytest.raises(Invalid):
        check_result_json({"summary": [{}]}, "$.models[0].result")


@pytest.mark.parametrize("clustered", [False, True])
def test_a_real_comparison_dossiers_model_results_pass(clustered: bool) -> None:
    """Every per-model result a comparison writes (probability, score and class models,
    clustered or not) reads back through :func:`check_result_json`; a damaged one is refused
    with the dossier's own advice."""
    from assessment.compare.analysis import CompareOptions, compare
    from assessment.compare.sources import ModelSource

    rng = np.random.default_rng(5)
    n = 1500
    y = rng.random(n) < 0.2
    attrs = (
        Attribute("sex", rng.integers(0, 2, n).astype(np.int32), ("F", "M")),
        Attribute("band", rng.integers(0, 3, n).astype(np.int32), ("B0", "B1", "B2")),
    )
    cluster = np.sort(rng.integers(0, n // 3, n)).astype(np.int32) if clustered else None
    if cluster is not None:
        cluster = np.unique(cluster, return_inverse=True)[1].astype(np.int32)
    prov = Provenance("shared.csv", "0" * 64, n, n)
    p = np.clip(0.2 + 0.3 * y + rng.normal(0, 0.2, n), 0, 1)
    inputs = [
        EvaluationInput(y, p, None, "probability", attrs, prov, cluster=cluster),
        EvaluationInput(y, np.log(p + 0.01), None, "score", attrs, prov, cluster=cluster),
        EvaluationInput(y, None, p >= 0.35, "class", attrs, prov, cluster=cluster),
    ]
    models = [ModelSource(name=f"M{i}", column=f"m{i}") for i in range(3)]
    spec = EvaluationSpec(intersections=(("sex", "band"),), bootstrap=200, seed=2)
    doc = json.loads(json.dumps(compare(models, inputs, spec, CompareOptions()).to_json()))
    for i, m in enumerate(doc["models"]):
        check_result_json(m["result"], f"$.models[{i}].result")
    r = doc["models"][0]["result"]
    where, _ = _edit(r, "ratio set to 1")
    with pytest.raises(Invalid) as info:
        check_result_json(r, "$.models[0].result", advice="re-run the comparison")
    assert info.value.path == f"$.models[0].result.{where}"
    assert info.value.problem.endswith("(re-run the comparison)"), info.value.problem


def test_the_constants_are_the_engines() -> None:
    assert SENSE_MIRRORS == dict(MIRRORS)
    assert SENSE_REF_ZERO_INFINITE == REF_ZERO_INFINITE
    from assessment.evaluation.multiplicity import NEVER_FLAGGED as ENGINE_NEVER
    from assessment.evaluation.result_sense import UNADJUSTED_NOTE as SENSE_NOTE
    from assessment.schema import UNADJUSTED_NOTE

    assert set(ENGINE_NEVER) == NEVER_FLAGGED
    assert SENSE_NOTE == UNADJUSTED_NOTE
    from assessment.evaluation.missingness import MISSINGNESS_DIFFERENCE
    from assessment.evaluation.result_sense import MISSINGNESS_DIFFERENCE as SENSE_GAP

    assert SENSE_GAP == MISSINGNESS_DIFFERENCE


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=30),
    st.sampled_from(["holm", "bh"]),
)
def test_adjust_p_equals_statsmodels(p: list[float], method: str) -> None:
    from statsmodels.stats.multitest import multipletests  # type: ignore[import-untyped]

    want = multipletests(p, method="holm" if method == "holm" else "fdr_bh")[1]
    assert np.allclose(adjust_p(p, method), want, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- real results are never refused


def test_the_pinned_results_and_the_stored_fixtures_load() -> None:
    with gzip.open(PIN, "rt", encoding="utf-8") as fh:
        pinned = json.load(fh)
    checked = 0
    for value in pinned.values():
        if isinstance(value, dict) and value.get("schema") == "probity-evaluation/1":
            EvaluationResult.from_json(value)
            checked += 1
    assert checked >= 6
    for path in (DEMO, SCHEMA1, *sorted(SCHEMA1.parent.glob("*.probity"))):
        storage.load(path)


def _real_runs(full: bool) -> list[tuple[Any, Any, dict[str, str], tuple[str, str]]]:
    from assessment.evaluation.io import ColumnMapping, read_table

    two = read_table(COMPAS / "compas-scores-two-years.csv")
    runs = [
        (two, ColumnMapping(label="two_year_recid", score="decile_score", score_kind="score",
                            threshold=5, attributes=["race", "sex", "age_cat"]),
         {"race": "Caucasian"}, ("race", "sex")),
    ]  # fmt: skip
    if not full:
        return runs
    aeq = read_table(COMPAS / "compas_for_aequitas.csv")
    demo = read_table(REPO / "resources/demo/validation_predictions.parquet")
    runs += [
        (two, ColumnMapping(label="two_year_recid", prediction="score_text",
                            prediction_positive=["Medium", "High"], attributes=["race", "sex"]),
         {"race": "Caucasian"}, ("race", "sex")),
        (aeq, ColumnMapping(label="label_value", prediction="score", prediction_positive=["1"],
                            attributes=["race", "sex", "age_cat"]),
         {"race": "Caucasian"}, ("race", "age_cat")),
    ]  # fmt: skip
    for col in ("predicted_probability", "gbm_probability"):
        for cluster in (None, "patient_nbr"):
            mapping = ColumnMapping(
                label="readmitted_30d", score=col, threshold=0.15,
                attributes=["race", "gender", "age_band"], cluster=cluster,
            )  # fmt: skip
            runs.append((demo, mapping, {"race": "Caucasian"}, ("race", "gender")))
    return runs


def _references(values: dict[str, str]) -> list[ReferenceSpec]:
    return [
        ReferenceSpec("largest"),
        ReferenceSpec("overall"),
        ReferenceSpec("value", values),
        ReferenceSpec("best", metric="auroc"),
        ReferenceSpec("best", metric="tpr"),
    ]


def _require_compas() -> None:
    """The shared real data is part of the set-up (conftest: CI keeps it beside the repo): a
    missing file fails with its path instead of skipping the check."""
    path = COMPAS / "compas-scores-two-years.csv"
    if not path.exists():
        pytest.fail(f"the shared COMPAS file is missing at {path}; CI keeps it beside the repo")


def _real_results_load(full: bool, bootstrap: int) -> None:
    from assessment.evaluation.io import prepare_input

    _require_compas()
    for table, mapping, values, inter in _real_runs(full):
        inp = prepare_input(table, mapping)
        for ref in _references(values):
            for mult in ("holm", "bh"):
                spec = EvaluationSpec(bootstrap=bootstrap, reference=ref, intersections=(inter,),
                                      multiplicity=mult, grid_points=5)  # fmt: skip
                written = json.loads(json.dumps(evaluate(inp, spec).to_json()))
                EvaluationResult.from_json(written)  # no refusal


def test_compas_results_load_with_every_reference_and_multiplicity() -> None:
    _real_results_load(full=False, bootstrap=0)


@pytest.mark.slow
def test_compas_and_demo_results_load_with_every_reference_and_multiplicity() -> None:
    """COMPAS (both files), the demo with and without clustering, both models: ~1 min."""
    _real_results_load(full=True, bootstrap=200)


def _inputs(data: st.DataObject) -> EvaluationInput:
    n = data.draw(st.integers(2, 400))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    k = data.draw(st.integers(1, 4))
    g = rng.integers(0, k, n).astype(np.int32)
    y = rng.random(n) < data.draw(st.sampled_from([0.0, 0.02, 0.3, 0.9, 1.0]))
    attrs = (
        Attribute("g", g, tuple(f"g{i}" for i in range(k))),
        Attribute("h", rng.integers(0, 2, n).astype(np.int32), ("a", "b")),
    )
    prov = Provenance("f", "0" * 64, n, n)
    cluster = None
    if data.draw(st.booleans()):
        cluster = np.sort(rng.integers(0, max(1, n // 3), n)).astype(np.int32)
        cluster = np.unique(cluster, return_inverse=True)[1].astype(np.int32)
    if data.draw(st.booleans()):
        p = rng.random(n)
        if data.draw(st.booleans()):
            p = np.round(p, 1)  # ties
        return EvaluationInput(y, p, None, "probability", attrs, prov, cluster=cluster)
    pred = rng.random(n) < data.draw(st.sampled_from([0.0, 0.5, 1.0]))
    return EvaluationInput(y, None, pred, "class", attrs, prov, cluster=cluster)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_result_the_engine_writes_passes_the_verdict_checks(data: st.DataObject) -> None:
    inp = _inputs(data)
    ref = data.draw(
        st.sampled_from(
            [
                ReferenceSpec("largest"),
                ReferenceSpec("overall"),
                ReferenceSpec("value", {"g": "g1", "h": "b"}),
                ReferenceSpec("best", metric="auroc"),
                ReferenceSpec("best", metric="fpr"),
            ]
        )
    )
    spec = EvaluationSpec(
        bootstrap=data.draw(st.sampled_from([0, 200])),
        seed=data.draw(st.integers(0, 1000)),
        reference=ref,
        multiplicity=data.draw(st.sampled_from(["holm", "bh"])),
        intersections=(("g", "h"),),
        grid_points=5,
        min_n=data.draw(st.sampled_from([0, 30])),
        ci_level=data.draw(st.sampled_from([0.9, 0.95, 0.99])),
    )
    written = json.loads(json.dumps(evaluate(inp, spec).to_json()))
    EvaluationResult.from_json(written)


def test_custom_tolerances_and_levels_are_never_refused() -> None:
    """Per-metric tolerances (a translated mirror limit, many digits), the legacy single
    tolerance and CI levels from 0.8 to 0.999 on COMPAS."""
    from assessment.evaluation.io import ColumnMapping, prepare_input, read_table
    from assessment.evaluation.spec import MetricTolerance, Tolerance

    _require_compas()
    table = read_table(COMPAS / "compas-scores-two-years.csv")
    mapping = ColumnMapping(label="two_year_recid", score="decile_score", score_kind="score",
                            threshold=5, attributes=["race", "sex"])  # fmt: skip
    inp = prepare_input(table, mapping)
    ref = ReferenceSpec("value", {"race": "Caucasian"})
    settings_ = [
        ({"tpr": MetricTolerance("diff", limit=0.03), "fpr": MetricTolerance("ratio", 0.9, 1.1),
          "auroc": MetricTolerance("diff", limit=0.0123456789)}, Tolerance()),
        ({"tnr": MetricTolerance("diff", limit=0.02)}, Tolerance()),
        ({}, Tolerance(0.9, 1.111, 0.05)),
    ]  # fmt: skip
    for tolerances, legacy in settings_:
        for level in (0.8, 0.999):
            spec = EvaluationSpec(bootstrap=0, reference=ref,
                                  intersections=(("race", "sex"),), tolerances=tolerances,
                                  tolerance=legacy, ci_level=level, grid_points=5)  # fmt: skip
            EvaluationResult.from_json(json.loads(json.dumps(evaluate(inp, spec).to_json())))
