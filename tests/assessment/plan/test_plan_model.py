"""The probity-plan/1 format: round trip, each criterion kind, and hostile plans named by path."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from assessment.plan.apply import read_plan
from assessment.plan.model import MAX_PLAN_BYTES, SCHEMA, Plan, PlanError


def base() -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "title": "Release check",
        "purpose": "Pre-specified acceptance criteria",
        "outcome": "y",
        "positive": ["1"],
        "score": "p",
        "threshold": 0.3,
        "attributes": ["race", "sex"],
        "intersections": [["race", "sex"]],
        "references": {"race": "White"},
        "min_group_size": 40,
        "alpha": 0.05,
        "multiplicity": "holm",
        "gates": [
            {"id": "G1", "metric": "auroc", "groups": "overall", "criterion": {"at_least": 0.7}},
            {
                "id": "G2",
                "metric": "fpr",
                "attribute": "race",
                "groups": "each",
                "versus": "reference",
                "criterion": {"ratio_between": [0.8, 1.25]},
                "min_n": 100,
                "assume": 1.0,
            },
            {
                "id": "G3",
                "metric": "tpr",
                "attribute": "race×sex",
                "groups": ["Black×F"],
                "versus": "reference",
                "criterion": {"difference_between": [-0.1, None]},
            },
        ],
    }


def test_round_trip_and_defaults() -> None:
    plan = Plan.from_json(base())
    assert Plan.from_json(json.loads(plan.to_text())) == plan
    g2 = plan.gates[1]
    assert plan.gate_min_n(g2) == 100 and plan.gate_min_n(plan.gates[0]) == 40
    assert plan.gates[2].criterion.acceptable() == (-0.1, math.inf)
    minimal = Plan.from_json(
        {"schema": SCHEMA, "title": "t", "gates": [], "score": "p", "outcome": "y"}
    )
    assert minimal.multiplicity == "bonferroni" and minimal.alpha == 0.05
    assert minimal.min_group_size == 30


@pytest.mark.parametrize(
    ("criterion", "versus", "region", "on"),
    [
        ({"at_least": 0.7}, None, (0.7, math.inf), "value"),
        ({"at_most": 0.2}, None, (-math.inf, 0.2), "value"),
        ({"ratio_at_most": 1.25}, "reference", (-math.inf, 1.25), "ratio"),
        ({"ratio_between": [0.8, 1.25]}, "reference", (0.8, 1.25), "ratio"),
        ({"difference_at_most": 0.05}, "reference", (-math.inf, 0.05), "difference"),
        ({"difference_between": [-0.05, 0.05]}, "reference", (-0.05, 0.05), "difference"),
        ({"difference_between": [None, 0.02]}, "reference", (-math.inf, 0.02), "difference"),
    ],
)
def test_each_criterion_kind(
    criterion: dict[str, Any], versus: str | None, region: tuple[float, float], on: str
) -> None:
    d = base()
    d["gates"] = [
        {"id": "X", "metric": "tpr", "attribute": "race", "versus": versus, "criterion": criterion}
    ]
    gate = Plan.from_json(d).gates[0]
    assert gate.criterion.acceptable() == region
    assert gate.criterion.on == on
    assert gate.groups == "each"
    assert gate.criterion.to_json() == criterion


def broken(path: list[Any], value: Any, *, delete: bool = False) -> dict[str, Any]:
    d = copy.deepcopy(base())
    target: Any = d
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return d


@pytest.mark.parametrize(
    ("data", "where", "says"),
    [
        (broken(["schema"], "probity-plan/2"), "$.schema", "probity-plan/1"),
        (broken(["surprise"], 1), "$.surprise", "unknown key"),
        (broken(["title"], "  "), "$.title", "empty"),
        (broken(["alpha"], 0.9), "$.alpha", "[1e-06, 0.5]"),
        (broken(["alpha"], "0.05"), "$.alpha", "expected a number"),
        (broken(["multiplicity"], "bh"), "$.multiplicity", "bonferroni"),
        (broken(["threshold"], 1.5), "$.threshold", "[0, 1]"),
        (broken(["prediction"], "cls"), "$.prediction", "not both"),
        (broken(["references", "age"], "old"), "$.references.age", "not one of"),
        (broken(["intersections", 0], ["race"]), "$.intersections[0]", "2 or 3"),
        (broken(["gates"], None, delete=True), "$.gates", "missing"),
        (broken(["gates", 0, "metric"], "auc"), "$.gates[0].metric", "not one of"),
        (broken(["gates", 0, "criterion"], {}), "$.gates[0].criterion", "exactly one"),
        (
            broken(["gates", 0, "criterion"], {"at_least": 0.7, "at_most": 0.9}),
            "$.gates[0].criterion",
            "exactly one",
        ),
        (
            broken(["gates", 0, "criterion"], {"ratio_at_most": 1.2}),
            "$.gates[0].criterion",
            "set versus",
        ),
        (
            broken(["gates", 1, "criterion"], {"at_least": 0.1}),
            "$.gates[1].criterion",
            "versus must be null",
        ),
        (
            broken(["gates", 1, "criterion", "ratio_between"], [1.25, 0.8]),
            "$.gates[1].criterion.ratio_between[1]",
            "exceed",
        ),
        (
            broken(["gates", 1, "criterion", "ratio_between"], [0, 2]),
            "$.gates[1].criterion.ratio_between",
            "positive",
        ),
        (
            broken(["gates", 1, "criterion", "ratio_between"], [None, None]),
            "$.gates[1].criterion.ratio_between",
            "one end",
        ),
        (broken(["gates", 1, "attribute"], "age"), "$.gates[1].attribute", "not an attribute"),
        (broken(["gates", 1, "versus"], "best"), "$.gates[1].versus", "reference"),
        (broken(["gates", 1, "min_n"], 0), "$.gates[1].min_n", "at least 1"),
        (broken(["gates", 1, "min_n"], True), "$.gates[1].min_n", "whole number"),
        (broken(["gates", 1, "groups"], []), "$.gates[1].groups", "'each', 'overall'"),
        (broken(["gates", 1, "groups"], "overall"), "$.gates[1].versus", "no reference"),
        (broken(["gates", 1, "id"], "G1"), "$.gates[1].id", "earlier gate"),
        (
            broken(["gates", 1, "metric"], "calibration_slope"),
            "$.gates[1].criterion",
            "ratio of calibration_slope",
        ),
        (broken(["gates", 0, "assume"], float("nan")), "$.gates[0].assume", "finite"),
    ],
)
def test_bad_plans_name_the_json_path(data: dict[str, Any], where: str, says: str) -> None:
    with pytest.raises(PlanError) as exc:
        Plan.from_json(data)
    message = exc.value.message
    assert f"{where}:" in message or f"{where} " in message, message
    assert says in message
    assert "\n" not in message


def test_prediction_plan_refuses_score_metrics() -> None:
    d = base()
    d["score"], d["prediction"] = None, "cls"
    with pytest.raises(PlanError, match=r"\$\.gates\[0\]\.metric.*needs a score"):
        Plan.from_json(d)


def test_hostile_files(tmp_path: Path) -> None:
    cases = {
        "notjson.json": (b"{not json", "is not JSON"),
        "nan.json": (json.dumps(base()).replace("0.05", "NaN").encode(), "is not JSON"),
        "binary.json": (bytes(range(256)), "not UTF-8"),
        "deep.json": (b"[" * 5000 + b"]" * 5000, "plan"),
        "list.json": (b"[]", "expected an object"),
        "huge.json": (b" " * (MAX_PLAN_BYTES + 1), "plan file"),
    }
    for name, (raw, says) in cases.items():
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(PlanError) as exc:
            read_plan(path)
        assert says in exc.value.message, (name, exc.value.message)
        assert "\n" not in exc.value.message
    with pytest.raises(PlanError, match="not found|No such|does not exist"):
        read_plan(tmp_path / "absent.json")


def test_duplicate_keys_are_refused_with_their_path() -> None:
    text = json.dumps(base())
    top = text.replace('"alpha": 0.05', '"alpha": 0.05, "alpha": 0.5')
    with pytest.raises(PlanError, match=r"\$\.alpha appears twice"):
        Plan.from_text(top)
    gate = text.replace('"min_n": 100', '"min_n": 100, "min_n": 1')
    with pytest.raises(PlanError, match=r"\$\.gates\[1\]\.min_n appears twice"):
        Plan.from_text(gate)


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (["gates", 0, "criterion"], {"at_least": 2}, "$.gates[0].criterion.at_least"),
        (["gates", 0, "criterion"], {"at_least": -0.1}, "$.gates[0].criterion.at_least"),
        (["gates", 1, "criterion"], {"difference_between": [-2, 0.1]},
         "$.gates[1].criterion.difference_between"),
        (["alpha"], 1e-300, "$.alpha"),
        (["alpha"], 0.6, "$.alpha"),
    ],
)  # fmt: skip
def test_impossible_bounds_and_alpha_are_refused(path: list[Any], value: Any, where: str) -> None:
    d = copy.deepcopy(base())
    target: Any = d
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(PlanError) as exc:
        Plan.from_json(d)
    assert f"{where}:" in exc.value.message, exc.value.message
    edge = copy.deepcopy(base())
    edge["alpha"] = 1e-6  # the smallest allowed, and a bound at the end of the range
    edge["gates"][0]["criterion"] = {"at_least": 1.0}
    Plan.from_json(edge)
