"""Issue 8 §5: the audit log stays small (long values by digest, keystroke commits coalesced),
old logs load unchanged, and damaged optional keys are refused with one line."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment import audit, document, storage
from assessment.document import Assessment, Reviewer
from assessment.errors import DocumentError

REPO = Path(__file__).resolve().parents[2]


class Clock:
    """Stands in for assessment.document._now: time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(document, "_now", c)
    return c


def new_doc(name: str = "Ada Reviewer") -> Assessment:
    doc = Assessment.new("probast-2019", reviewer=Reviewer(name=name))
    doc.set_study_type("validation")
    return doc


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_forty_edits_of_a_two_megabyte_note_keep_the_file_small(tmp_path: Path, clock) -> None:
    """Reproduction: 40 edits of a 2 MB note made a 169 MB file. Now the note is stored once and
    each edit costs a few hundred bytes of log."""
    doc = new_doc()
    note = "".join(f"Observation {i}: the cohort excluded transfers. " for i in range(45_000))
    assert len(note) > 2_000_000
    for i in range(40):
        clock.advance(120)  # separate sittings: every edit is its own entry
        note = note[:1_000_000] + f" [edit {i}] " + note[1_000_000:]
        doc.set_notes(note)
    path = tmp_path / "big.probity"
    storage.save(doc, path)
    size = path.stat().st_size
    assert size < len(note.encode()) + 60_000, size
    notes_entries = [e for e in doc.audit if e.field == "notes"]
    assert len(notes_entries) == 40
    assert all(len(json.dumps(e.to_json())) < 700 for e in notes_entries)


def test_long_text_change_is_logged_by_sha256_and_length_with_a_diff(clock) -> None:
    doc = new_doc()
    before = "x" * 150 + "The derivation cohort came from one hospital. " + "y" * 150
    doc.set_notes(before)
    clock.advance(300)
    after = before.replace("one hospital", "three hospitals in two countries")
    doc.set_notes(after)
    entry = doc.audit[-1]
    assert entry.old == {"sha256": sha(before), "chars": len(before), "type": "text"}
    assert entry.new == {"sha256": sha(after), "chars": len(after), "type": "text"}
    start = os.path.commonprefix([before, after])
    assert entry.diff is not None
    assert entry.diff.startswith(f"at character {len(start) + 1:,}:")
    assert "removed 12 characters “one hospital”" in entry.diff
    assert "inserted 32 characters “three hospitals in two countries”" in entry.diff
    assert audit.describe(entry.new).startswith(f"[{len(after):,} characters, SHA-256 ")


def test_short_values_are_still_logged_in_full(clock) -> None:
    doc = new_doc()
    doc.set_notes("a" * audit.LONG_TEXT)
    doc.set_answer("1.1@validation", "PY")
    notes, answer = doc.audit[-2], doc.audit[-1]
    assert (notes.old, notes.new, notes.diff) == ("", "a" * audit.LONG_TEXT, None)
    assert (answer.old, answer.new) == (None, "PY")
    assert set(answer.to_json()) == {"ts", "reviewer", "field", "old", "new"}


def test_a_large_structured_value_is_logged_by_digest(clock) -> None:
    doc = new_doc()
    demographics = {"race": {f"group {i:03d}": i * 10 for i in range(300)}}
    doc.set_field("datasheet", "training_demographics", demographics)
    entry = doc.audit[-1]
    canonical = json.dumps(demographics, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert entry.new == {"sha256": sha(canonical), "chars": len(canonical), "type": "json"}
    assert entry.old is None
    assert (
        entry.diff == f"structured value replaced (nothing → {len(canonical):,} characters of JSON)"
    )
    assert doc.training_demographics == demographics  # the document itself keeps the value


@settings(max_examples=200, deadline=None)
@given(
    head=st.text(max_size=300),
    cut=st.text(max_size=80),
    put=st.text(max_size=80),
    tail=st.text(max_size=300),
)
def test_diff_summary_agrees_with_common_prefix_and_suffix(head, cut, put, tail) -> None:
    old, new = head + cut + tail, head + put + tail
    summary = audit.text_diff(old, new)
    if old == new:
        assert summary == "no change"
        return
    # Reference: os.path.commonprefix on the strings and on their reversals.
    prefix = len(os.path.commonprefix([old, new]))
    rest = min(len(old), len(new)) - prefix
    suffix = len(os.path.commonprefix([old[::-1][:rest], new[::-1][:rest]]))
    removed = len(old) - prefix - suffix
    inserted = len(new) - prefix - suffix
    assert summary.startswith(f"at character {prefix + 1:,}:")
    assert (f"removed {removed:,} characters" in summary) == (removed > 0)
    assert (f"inserted {inserted:,} characters" in summary) == (inserted > 0)
    assert summary.endswith(f"({len(old):,} → {len(new):,} characters)")


def test_keystroke_commits_of_one_field_become_one_entry(clock) -> None:
    doc = new_doc()
    doc.dirty = False  # as after loading the file
    start = len(doc.audit)
    text = ""
    for word in ("The ", "model ", "was ", "never ", "externally ", "validated."):
        clock.advance(2)  # a typing pause commits; the next words follow within seconds
        text += word
        doc.set_answer_rationale("1.1@validation", text)
    assert len(doc.audit) == start + 1
    entry = doc.audit[-1]
    assert (entry.old, entry.new, entry.edits) == (None, text, 6)
    assert entry.ts == "2026-03-01T09:00:02+00:00"
    assert entry.until == "2026-03-01T09:00:12+00:00"
    # each commit is still its own undo step
    assert doc.undo()
    assert doc.answer("1.1@validation").rationale == "The model was never externally "


def test_coalescing_stops_at_a_pause_another_field_reviewer_save_or_undo(tmp_path, clock):
    doc = new_doc()
    doc.set_notes("first")
    clock.advance(5)
    doc.set_notes("first second")
    assert doc.audit[-1].edits == 2
    clock.advance(audit.COALESCE_SECONDS + 1)  # a pause: a new entry
    doc.set_notes("first second third")
    assert doc.audit[-1].edits == 1 and doc.audit[-1].old == "first second"
    clock.advance(1)
    doc.set_field("model_card", "model_name", "M")  # another field
    clock.advance(1)
    doc.set_notes("first second third fourth")
    assert doc.audit[-1].edits == 1
    clock.advance(1)
    doc.set_field("reviewer", "name", "Bo Second")  # another reviewer from now on
    clock.advance(1)
    doc.set_notes("by Bo")
    assert doc.audit[-1].reviewer == "Bo Second" and doc.audit[-1].edits == 1
    storage.save(doc, tmp_path / "a.probity")  # written to the file: never rewritten
    saved = copy.deepcopy(doc.audit_raw)
    clock.advance(1)
    doc.set_notes("by Bo, after saving")
    assert doc.audit_raw[: len(saved)] == saved
    assert doc.audit[-1].old == "by Bo" and doc.audit[-1].edits == 1
    clock.advance(1)
    doc.undo()
    clock.advance(1)
    doc.set_notes("retyped")
    assert doc.audit[-2].field == "notes (undo)"
    assert doc.audit[-1].edits == 1 and doc.audit[-1].old == "by Bo"


def test_answers_are_never_coalesced(clock) -> None:
    doc = new_doc()
    for value in ("Y", "N", "Y"):
        clock.advance(1)
        doc.set_answer("1.1@validation", value)
    assert [(e.old, e.new) for e in doc.audit[-3:]] == [(None, "Y"), ("Y", "N"), ("N", "Y")]


def test_coalesced_long_text_keeps_the_digest_of_the_value_before_the_first_commit(clock):
    doc = new_doc()
    base = "Lorem ipsum dolor sit amet. " * 20
    doc.set_notes(base)
    clock.advance(120)
    for extra in ("One", "One more", "One more sentence."):
        clock.advance(3)
        doc.set_notes(base + extra)
    entry = doc.audit[-1]
    assert entry.edits == 3
    assert entry.old["sha256"] == sha(base)
    assert entry.new["sha256"] == sha(base + "One more sentence.")
    assert f"at character {len(base) + 1:,}: inserted 18 characters" in (entry.diff or "")


def legacy_file(tmp_path: Path) -> tuple[Path, bytes]:
    """A file as earlier versions wrote it: every value logged in full, however long."""
    data = new_doc().to_json()
    long_note = "Earlier versions logged this note in full on every edit. " * 400
    data["notes"] = long_note + "!"
    data["audit"] += [
        {
            "ts": "2025-06-01T10:00:00+00:00",
            "reviewer": "Ada Reviewer",
            "field": "notes",
            "old": "",
            "new": long_note,
        },
        {
            "ts": "2025-06-01T10:00:05+00:00",
            "reviewer": "Ada Reviewer",
            "field": "notes",
            "old": long_note,
            "new": long_note + "!",
        },
        {
            "ts": "2025-06-01T10:01:00+00:00",
            "reviewer": "Ada Reviewer",
            "field": "datasheet.training_demographics",
            "old": None,
            "new": {"race": {f"g{i}": i for i in range(400)}},
        },
    ]
    raw = (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    path = tmp_path / "legacy.probity"
    path.write_bytes(raw)
    return path, raw


def test_old_audit_logs_load_and_save_unchanged(tmp_path: Path, clock) -> None:
    path, raw = legacy_file(tmp_path)
    doc = storage.load(path)
    assert doc.audit_raw == json.loads(raw)["audit"]
    assert doc.audit[-2].new == doc.notes  # full values read as they were written
    out = tmp_path / "again.probity"
    storage.save(doc, out)
    assert out.read_bytes() == raw
    # editing it appends new-style entries and leaves the old ones as they were
    clock.advance(1)
    doc.set_notes(doc.notes + "?")
    assert doc.audit_raw[:-1] == json.loads(raw)["audit"]
    assert doc.audit[-1].diff is not None


@pytest.mark.parametrize("name", ["complete.probity", "incomplete.probity"])
def test_shipped_examples_load_and_save_unchanged(tmp_path: Path, name: str) -> None:
    """A shipped file saves as it loaded (once in schema 2: the shipped ones are schema 1 and
    are migrated on the first save, see tests/assessment/test_schema_migration.py)."""
    source = REPO / "resources" / "examples" / name
    first = tmp_path / "first.probity"
    storage.save(storage.load(source), first)
    raw = first.read_bytes()
    out = tmp_path / name
    storage.save(storage.load(first), out)
    assert out.read_bytes() == raw


def test_compact_and_coalesced_entries_survive_a_save_and_load(tmp_path: Path, clock) -> None:
    doc = new_doc()
    doc.set_notes("n" * 500)
    clock.advance(2)
    doc.set_notes("n" * 501)
    storage.save(doc, tmp_path / "c.probity")
    again = storage.load(tmp_path / "c.probity")
    assert again.audit_raw == doc.audit_raw
    assert again.audit[-1].edits == 2 and again.audit[-1].diff


@pytest.mark.parametrize(
    ("key", "value", "where"),
    [
        ("diff", 3, "audit[0].diff"),
        ("edits", 0, "audit[0].edits"),
        ("edits", True, "audit[0].edits"),
        ("edits", "2", "audit[0].edits"),
        ("until", [], "audit[0].until"),
    ],
)
def test_damaged_optional_audit_keys_give_one_line(key, value, where) -> None:
    data = new_doc().to_json()
    data["audit"][0][key] = value
    with pytest.raises(DocumentError) as err:
        Assessment.from_json(data, source="x.probity")
    assert where in err.value.message and "\n" not in err.value.message


def test_summary_counts_any_log() -> None:
    entries = [
        {
            "ts": "2026-01-01T10:00:00+00:00",
            "reviewer": "A",
            "field": "notes",
            "old": None,
            "new": "x",
            "edits": 4,
            "until": "2026-01-01T10:01:00+00:00",
        },
        {
            "ts": "2026-01-01T09:00:00+00:00",
            "reviewer": "B",
            "field": "answers.1.1@v.value",
            "old": None,
            "new": "Y",
        },
        {
            "ts": "2026-01-02T08:00:00+00:00",
            "reviewer": "A",
            "field": "document",
            "old": None,
            "new": {"sha256": "0" * 64, "chars": 9000, "type": "text"},
            "diff": "…",
        },
    ]
    s = audit.summarise(entries)
    assert (s.entries, s.edits, s.coalesced, s.digests) == (3, 6, 1, 1)
    assert (s.first, s.last) == ("2026-01-01T09:00:00+00:00", "2026-01-02T08:00:00+00:00")
    assert s.by_reviewer == [("A", 2), ("B", 1)]
    assert dict(s.by_section) == {"notes": 1, "answers": 1, "document": 1}


def test_full_log_csv_neutralises_formulas_and_keeps_every_row() -> None:
    import csv
    import io

    entries = [
        {
            "ts": "t",
            "reviewer": '=HYPERLINK("http://x")',
            "field": "notes",
            "old": None,
            "new": "+1",
        }
    ] * 3
    rows = list(csv.reader(io.StringIO(audit.csv_bytes(entries).decode("utf-8"))))
    assert rows[0] == list(audit.CSV_HEADER)
    assert len(rows) == 4
    assert rows[1][2] == '\'=HYPERLINK("http://x")' and rows[1][6] == "'+1"
