"""Schema 2 and the representativeness keys: ``group_maps`` and ``reference_population_source``
are optional top-level keys (checked on load, kept by the migration from schema 1, written only
once set), and the spec's ``group_map`` is a codec field written only when set."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from assessment import storage
from assessment.errors import DocumentError, EvaluationError
from assessment.evaluation.spec import EvaluationSpec
from assessment.populations import load_population
from assessment.schema import SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "tests" / "assessment" / "schema1" / "demo.probity"  # the demo as schema 1 wrote it
MAP = {"race": {"Caucasian": "White", "African-American": "Black or African American"}}


def _v1_demo() -> dict[str, Any]:
    data = json.loads(DEMO.read_bytes())
    assert data["schema_version"] == 1
    return dict(data)


def _with_keys(data: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["group_maps"] = copy.deepcopy(MAP)
    out["reference_population_source"] = load_population("us-census-2020").source_record()
    out["evaluation"]["config"]["spec"]["group_map"] = copy.deepcopy(MAP)
    out["evaluation"]["result"]["spec"]["group_map"] = copy.deepcopy(MAP)
    return out


def test_v1_file_with_the_keys_migrates_keeping_them(tmp_path: Path) -> None:
    v1 = _with_keys(_v1_demo())
    doc = storage.loads(json.dumps(v1).encode(), source="v1.probity")
    assert doc.group_maps == MAP
    assert doc.reference_population_source == v1["reference_population_source"]
    record = doc.evaluation
    assert record is not None and record.spec is not None and record.result is not None
    assert record.spec.group_map == MAP
    assert record.result.evaluation_spec().group_map == MAP
    path = tmp_path / "v2.probity"
    storage.save(doc, path)
    saved = json.loads(path.read_bytes())
    assert saved["schema_version"] == SCHEMA_VERSION
    assert saved["group_maps"] == MAP
    assert saved["reference_population_source"] == v1["reference_population_source"]
    assert saved["evaluation"]["spec"]["group_map"] == MAP
    again = storage.load(path)
    assert again.group_maps == MAP and again.evaluation == record


def test_files_without_the_keys_are_written_without_them(tmp_path: Path) -> None:
    doc = storage.loads(DEMO.read_bytes(), source="demo.probity")
    path = tmp_path / "v2.probity"
    storage.save(doc, path)
    saved = json.loads(path.read_bytes())
    assert "group_maps" not in saved and "reference_population_source" not in saved
    assert saved["evaluation"] is None or "group_map" not in saved["evaluation"]["spec"]


@pytest.mark.parametrize(
    ("key", "value", "where"),
    [
        ("group_maps", {"race": {"Caucasian": 5}}, "$.group_maps"),
        ("reference_population_source", {"year": "twenty"}, "$.reference_population_source"),
    ],
)
@pytest.mark.parametrize("version", [1, 2])
def test_damaged_keys_are_refused_in_either_schema(
    tmp_path: Path, key: str, value: object, where: str, version: int
) -> None:
    doc = storage.loads(DEMO.read_bytes(), source="demo.probity")
    if version == 1:
        data = _v1_demo()
    else:
        path = tmp_path / "v2.probity"
        storage.save(doc, path)
        data = json.loads(path.read_bytes())
    data[key] = value
    with pytest.raises(DocumentError) as exc:
        storage.loads(json.dumps(data).encode(), source="bad.probity")
    assert where in exc.value.message and "\n" not in exc.value.message


def test_spec_group_map_is_a_codec_field_written_only_when_set() -> None:
    plain = EvaluationSpec()
    assert "group_map" not in plain.to_json()
    assert EvaluationSpec.from_json(plain.to_json()) == plain
    mapped = EvaluationSpec(group_map=copy.deepcopy(MAP))
    assert mapped.to_json()["group_map"] == MAP
    assert EvaluationSpec.from_json(mapped.to_json()) == mapped
    with pytest.raises(EvaluationError, match=r"\$\.group_map\.race\.Caucasian"):
        EvaluationSpec.from_json({"group_map": {"race": {"Caucasian": 5}}})
