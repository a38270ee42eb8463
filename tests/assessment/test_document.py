"""The assessment document: audit log, undo/redo, save/load, crash safety, recovery, bad files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assessment import locks, storage
from assessment.document import Assessment, Reviewer, SourceRef
from assessment.errors import DocumentError


@pytest.fixture
def doc() -> Assessment:
    d = Assessment.new("probast-2019", reviewer=Reviewer(name="Ada Reviewer", role="Assessor"))
    d.set_study_type("validation")
    d.set_field("model_card", "model_name", "ReadmitRisk")
    d.set_answer("1.1@validation", "PY")
    d.set_answer_rationale("1.1@validation", "Registry cohort; <b>bold</b> & ünïcödé — Ωμέγα")
    d.set_answer_sources("1.1@validation", [SourceRef("Smith 2020", "p. 4")])
    d.set_domain("main:D1", final="low", applicability="unclear")
    return d


def test_every_change_is_audited_with_old_and_new(doc: Assessment) -> None:
    doc.set_answer("1.1@validation", "N")
    last = doc.audit[-1]
    assert last.field == "answers.1.1@validation.value"
    assert (last.old, last.new) == ("PY", "N")
    assert last.reviewer == "Ada Reviewer"
    assert len(doc.audit) >= 7


def test_undo_redo_restores_values_and_is_audited(doc: Assessment) -> None:
    doc.set_answer("1.1@validation", "N")
    assert doc.undo()
    assert doc.answer("1.1@validation").value == "PY"
    assert doc.audit[-1].field.endswith("(undo)")
    assert doc.redo()
    assert doc.answer("1.1@validation").value == "N"
    while doc.undo():
        pass
    assert doc.answer("1.1@validation").value is None
    assert doc.study_type is None
    assert not doc.can_undo and doc.can_redo


def test_listeners_hear_changes(doc: Assessment) -> None:
    heard: list[str] = []
    doc.add_listener(heard.append)
    doc.set_notes("checked")
    doc.set_notes("checked")  # no change, no event
    assert heard == ["notes"]


def test_save_load_round_trip(doc: Assessment, tmp_path: Path) -> None:
    path = tmp_path / "a.probity"
    storage.save(doc, path)
    assert not doc.dirty
    again = storage.load(path)
    assert again.to_json() == doc.to_json()
    assert again.answer("1.1@validation").sources == (SourceRef("Smith 2020", "p. 4"),)
    assert again.title == "ReadmitRisk"


def test_crash_during_save_keeps_previous_file(
    doc: Assessment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.probity"
    storage.save(doc, path)
    before = path.read_bytes()
    doc.set_notes("new text that must not half-land")

    def crash(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(DocumentError, match="(?i)no space left"):
        storage.save(doc, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.probity"]  # no temp file left
    assert doc.dirty


def test_recovery_round_trip(doc: Assessment, tmp_path: Path) -> None:
    folder = tmp_path / "recovery"
    folder.mkdir()
    writer = locks.Instance()
    storage.write_recovery(doc, folder, tmp_path / "a.probity", owner=writer.owner)
    assert storage.list_recoveries(folder) == []  # its window still runs: not offered
    writer.close()
    found = storage.list_recoveries(folder)
    assert len(found) == 1 and found[0].title == "ReadmitRisk"
    assert found[0].original == str(tmp_path / "a.probity")
    back = storage.load_recovery(found[0])
    assert back.to_json() == doc.to_json() and back.dirty
    storage.discard_recovery(found[0].path)
    assert storage.list_recoveries(folder) == []


def _write(tmp_path: Path, payload: bytes | str) -> Path:
    p = tmp_path / "bad.probity"
    p.write_bytes(payload.encode() if isinstance(payload, str) else payload)
    return p


def _mutated(doc: Assessment, **changes) -> str:
    data = doc.to_json()
    for dotted, value in changes.items():
        node = data
        parts = dotted.split("/")
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: "", "is empty"),
        (lambda d: json.dumps(d.to_json())[:200], "damaged: invalid JSON"),
        (lambda d: b"\x89PNG\r\n\x1a\n\x00\xff", "not UTF-8"),
        (lambda d: "[1, 2]", "expected a JSON object"),
        (lambda d: '{"hello": 1}', "not a Probity assessment"),
        (lambda d: _mutated(d, schema_version=99), "newer Probity"),
        (
            lambda d: _mutated(d, answers={"9.9@validation": {"value": "Y"}}),
            "unknown question '9.9'",
        ),
        (
            lambda d: _mutated(d, answers={"1.1@validation": {"value": "maybe"}}),
            "not an allowed answer",
        ),
        (lambda d: _mutated(d, notes=42), "notes: expected text"),
        (lambda d: _mutated(d, **{"domains": {"main:D9": {}}}), "unknown domain"),
        (
            lambda d: _mutated(d, **{"domains": {"main:D1": {"final": "medium"}}}),
            "not low, unclear or high",
        ),
        (lambda d: _mutated(d, study_type="prospective"), "unknown study type"),
        (lambda d: _mutated(d, **{"instrument": {"id": "quadas-2"}}), "instrument.id"),
    ],
)
def test_bad_files_give_one_clear_message(doc: Assessment, tmp_path: Path, make, expected) -> None:
    path = _write(tmp_path, make(doc))
    before = path.read_bytes()
    with pytest.raises(DocumentError) as info:
        storage.load(path)
    assert expected in info.value.message
    assert "\n" not in info.value.message.strip()
    assert path.read_bytes() == before  # never overwritten


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="does not exist"):
        storage.load(tmp_path / "nope.probity")
    with pytest.raises(DocumentError, match="is a folder"):
        storage.load(tmp_path)


def test_new_files_get_ordinary_permissions_recovery_stays_private(
    doc: Assessment, tmp_path: Path
) -> None:
    old = os.umask(0o022)
    try:
        storage.save(doc, tmp_path / "shared.probity")
        rec = storage.write_recovery(doc, tmp_path, None, owner=locks.Instance().owner)
    finally:
        os.umask(old)
    assert (tmp_path / "shared.probity").stat().st_mode & 0o777 == 0o644
    assert rec.stat().st_mode & 0o777 == 0o600
    (tmp_path / "shared.probity").chmod(0o640)
    storage.save(doc, tmp_path / "shared.probity")
    assert (tmp_path / "shared.probity").stat().st_mode & 0o777 == 0o640
