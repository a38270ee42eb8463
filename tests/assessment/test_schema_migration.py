"""Schema 2 of .probity (issue 10): the evaluation as one typed record, each fact stored once.

Every shipped schema-1 file (the demo, the examples, and the demo as committed) opens with the
same content, round-trips, and gives the same report model as it did in schema 1 (asserted on
the model's rows, built here from the schema-1 JSON by the schema-1 reading of it: the same
numbers, read straight from the file); saving writes schema 2; the audit log records the
migration; a newer schema is refused; a damaged schema-2 evaluation names its JSON path.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment import storage
from assessment.errors import DocumentError
from assessment.evaluation.record import EvaluationRecord
from assessment.evaluation.result import EvaluationResult
from assessment.judgement import judge
from assessment.schema import SCHEMA_VERSION
from reports.model import report_model

REPO = Path(__file__).resolve().parents[2]
SHIPPED = [
    REPO / "resources" / "demo" / "demo.probity",
    *sorted((REPO / "resources" / "examples").glob("*.probity")),
]
# The demo and examples as Probity wrote them in schema 1 (saved before they were rebuilt in
# schema 2), so the migration is always tested on real schema-1 files.
SCHEMA_1 = sorted((Path(__file__).resolve().parent / "schema1").glob("*.probity"))


def _committed_demo() -> bytes | None:
    """The demo as committed (schema 1 until the lead rebuilds it), if git can say."""
    try:
        out = subprocess.run(
            ["git", "show", "HEAD:resources/demo/demo.probity"],
            cwd=REPO, capture_output=True, timeout=60, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout


def _sources() -> list[tuple[str, bytes]]:
    out = [(p.name, p.read_bytes()) for p in SHIPPED]
    out += [(f"schema1/{p.name}", p.read_bytes()) for p in SCHEMA_1]
    committed = _committed_demo()
    if committed:
        out.append(("HEAD:demo.probity", committed))
    return [(name, raw) for name, raw in out if json.loads(raw)["schema_version"] == 1]


V1_FILES = _sources()


def test_there_are_schema_1_files_to_migrate() -> None:
    assert SCHEMA_VERSION == 2
    assert len(V1_FILES) >= 3, "no schema-1 file left to test the migration with"


@pytest.mark.parametrize(("name", "raw"), V1_FILES, ids=[n for n, _ in V1_FILES])
def test_v1_file_migrates_with_the_same_content(tmp_path: Path, name: str, raw: bytes) -> None:
    v1 = json.loads(raw)
    doc = storage.loads(raw, source=name)
    # the audit log records the migration, after everything that was there
    assert doc.audit_raw[:-1] == v1["audit"]
    entry = doc.audit[-1]
    assert entry.field == "schema_version (migration)" and (entry.old, entry.new) == (1, 2)
    assert not doc.dirty
    # everything but the evaluation and the schema version is as it was
    saved = doc.to_json()
    assert saved["schema_version"] == 2
    for key, value in v1.items():
        if key not in ("schema_version", "evaluation", "audit"):
            assert saved[key] == value, key
    # the evaluation: the same facts, typed, each stored once
    old = v1["evaluation"]
    record = doc.evaluation
    if old["result"] is None and old["config"] is None:
        assert record is None and saved["evaluation"] is None
    else:
        assert record is not None
        if old["result"] is not None:
            assert record.result_json() == old["result"]  # the whole result, as evaluate --json
            assert record.config_json() == old["config"]
            stored = saved["evaluation"]
            assert "spec" not in stored["result"]
            assert not {"file_name", "sha256", "sheet", "mapping"} & set(
                stored["result"]["provenance"]
            )
            text = json.dumps(stored)
            assert text.count('"threshold"') == 1  # was four times in schema 1
            assert text.count(old["result"]["provenance"]["sha256"]) == 1
    # saving writes schema 2; that file reads back to the same document and bytes
    first = tmp_path / "v2.probity"
    storage.save(doc, first)
    again = storage.load(first)
    assert again.evaluation == doc.evaluation
    assert again.audit_raw == doc.audit_raw
    second = tmp_path / "v2-again.probity"
    storage.save(again, second)
    assert second.read_bytes() == first.read_bytes()
    assert json.loads(first.read_bytes())["schema_version"] == 2


@pytest.mark.parametrize(("name", "raw"), V1_FILES, ids=[n for n, _ in V1_FILES])
def test_report_model_is_unchanged_by_the_migration(
    tmp_path: Path, name: str, raw: bytes
) -> None:
    v1 = json.loads(raw)
    migrated = storage.loads(raw, source=name)
    path = tmp_path / "v2.probity"
    storage.save(migrated, path)
    v2 = storage.load(path)
    a, b = report_model(migrated), report_model(v2)
    assert a.demographics == b.demographics and a.stale == b.stale
    assert (a.title, a.status, a.open_items, a.warnings) == (
        b.title, b.status, b.open_items, b.warnings,
    )  # fmt: skip
    # ... and the rows are those of the schema-1 JSON itself, read independently here
    result = v1["evaluation"]["result"]
    if result is None:
        return
    reps = {(r["attribute"], r["group"]): r for r in result["representativeness"]}
    mapped = result["spec"].get("demographics_map") or {}
    seen = 0
    for table in b.demographics:
        for row in table.rows:
            if row.validation_n is None:
                continue
            matches = [
                r for (attr, _), r in reps.items()
                if mapped.get(attr, attr).lower() == table.attribute.lower()
                and r["group"].lower() == row.group.lower()
            ]  # fmt: skip
            assert len(matches) == 1, (table.attribute, row.group)
            assert row.validation_n == matches[0]["validation_n"]
            assert row.validation_share == matches[0]["validation_share"]
            assert row.flag == matches[0]["flag"]
            seen += 1
    assert seen == sum(1 for r in result["representativeness"] if r["validation_n"] is not None)
    # the judgement (which reads the evaluation) is the same too
    assert judge(migrated) == judge(v2)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    data = json.loads(SHIPPED[0].read_bytes())
    data["schema_version"] = 3
    path = tmp_path / "new.probity"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DocumentError) as info:
        storage.load(path)
    assert "newer Probity (schema 3; this version reads up to 2)" in info.value.message


def test_a_new_document_is_schema_2_without_evaluation() -> None:
    from assessment.document import Assessment

    doc = Assessment.new()
    assert doc.evaluation is None and not doc.has_evaluation_result
    data = doc.to_json()
    assert data["schema_version"] == 2 and data["evaluation"] is None
    assert storage.loads(storage.dumps(doc)).evaluation is None


# ------------------------------------------------------------------- damaged schema-2 files


def _v2_demo() -> dict[str, Any]:
    doc = storage.loads(SHIPPED[0].read_bytes())
    return json.loads(storage.dumps(doc))


V2 = _v2_demo()


def _load_error(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "damaged.probity"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DocumentError) as info:
        storage.load(path)
    message = info.value.message
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("result", "groups", 3, "metrics", "tpr", "value"), "abc",
         '$.evaluation.result.groups[3].metrics.tpr.value: expected a number or null, got "abc"'),
        (("result", "groups", 0, "n"), -1, "groups[0].n: expected a whole number of at least 0"),
        (("result", "spec"), {}, "$.evaluation.result.spec: stored once, in $.evaluation.spec"),
        (("result", "provenance", "sha256"), "x", "$.evaluation.result.provenance.sha256: stored"),
        (("spec",), None, "$.evaluation.spec: missing (a stored result needs its settings)"),
        (("spec", "bootstrap"), "lots", '$.evaluation.spec.bootstrap: expected a whole number'),
        (("spec", "bootstrap"), -1, "$.evaluation.spec: Bootstrap replicates cannot be negative"),
        (("spec", "intersections"), [[1]], "$.evaluation.spec.intersections[0][0]: expected text"),
        (("mapping", "score_kind"), "odds", "$.evaluation.mapping.score_kind: expected"),
        (("data", "sha256"), 5, "$.evaluation.data.sha256: expected text or null, got 5"),
        (("data", "extra"), 1, "$.evaluation.data.extra: unknown key"),
        (("schema",), "probity-record/9", "$.evaluation.schema: this evaluation record has"),
        (("extra",), 1, "$.evaluation.extra: unknown key"),
        (("result",), [], "$.evaluation.result: expected an object or null, got []"),
    ],
)  # fmt: skip
def test_damaged_v2_evaluation_names_the_path(
    tmp_path: Path, path: tuple[Any, ...], value: Any, expected: str
) -> None:
    data = copy.deepcopy(V2)
    node = data["evaluation"]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    message = _load_error(tmp_path, data)
    assert expected in message, message


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            out += _paths(v, (*prefix, i))
    return out


_EVAL_PATHS = [p for p in _paths(V2["evaluation"]) if p and "curves" not in p][:4000]
_GARBAGE = st.sampled_from([None, -1, 2.5, "x", True, [], {}, [None], {"a": 1}, 10**30])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(_EVAL_PATHS) - 1), value=_GARBAGE)
def test_fuzz_v2_evaluation_loads_or_gives_one_line(index: int, value: Any) -> None:
    """Any one value of a schema-2 evaluation replaced: it loads (and then its record reads,
    judges and saves) or it is refused with one line naming a path under $.evaluation."""
    data = copy.deepcopy(V2)
    path = _EVAL_PATHS[index]
    node = data["evaluation"]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    text = json.dumps(data)
    try:
        doc = storage.loads(text.encode("utf-8"))
    except DocumentError as exc:
        assert "\n" not in exc.message and "$." in exc.message
        return
    judge(doc)
    record = doc.evaluation
    if record is not None and record.result is not None:
        assert EvaluationResult.from_json(record.result_json()) == record.result
    assert storage.loads(storage.dumps(doc)).evaluation == record


def test_record_of_a_run_holds_what_the_result_was_computed_with() -> None:
    doc = storage.load(SHIPPED[0])
    record = doc.evaluation
    assert record is not None and record.result is not None
    again = EvaluationRecord.of_run(record.result, path=record.data.path)
    assert (again.data, again.mapping, again.spec, again.result) == (
        record.data, record.mapping, record.spec, record.result,
    )  # fmt: skip
    assert again.threshold == record.result.threshold == record.spec.threshold
    assert record.run_at == record.result.created
    assert record.column_mapping() is not None


def test_a_result_from_before_adjusted_flags_keeps_its_flags_and_says_so() -> None:
    """Schema-1 results written before the multiplicity adjustment carry ``flagged`` only: after
    migration their flags stay visible (as the adjusted flag); a note says they are unadjusted."""
    from assessment.schema import UNADJUSTED_NOTE

    raw = json.loads((Path(__file__).resolve().parent / "schema1" / "demo.probity").read_bytes())
    assert raw["schema_version"] == 1
    disparities = raw["evaluation"]["result"]["disparities"]
    flags = [bool(d["flagged"]) for d in disparities]
    assert any(flags)
    for d in disparities:
        d.pop("flagged_adjusted", None)
        d.pop("p_adjusted", None)
    doc = storage.loads(json.dumps(raw).encode(), source="old.probity")
    result = doc.evaluation.result
    assert [d.flagged_adjusted for d in result.disparities] == flags
    assert UNADJUSTED_NOTE in result.notes
