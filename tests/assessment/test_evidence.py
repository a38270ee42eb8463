"""Evidence documents: attaching (hash, copy beside the .probity, read-only, deduplicated,
audited and undoable), resolving (ok / changed / missing), source references with quotes, and
hostile PDFs (each refused with one sentence, none hangs)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from assessment import evidence, evidence_pdf, storage
from assessment.document import Assessment, Reviewer, SourceRef
from assessment.errors import DocumentError
from assessment.evidence import evidence_entries
from assessment.evidence_pdf import EvidenceError, find_quote, probe_pdf, render_page
from tests.evidence_helpers import SUBMISSION_PAGES, make_pdf


@pytest.fixture
def doc() -> Assessment:
    d = Assessment.new("probast-2019", reviewer=Reviewer(name="Ada Reviewer"))
    d.set_study_type("validation")
    return d


@pytest.fixture
def saved(tmp_path: Path, doc: Assessment) -> Path:
    path = tmp_path / "study.probity"
    storage.save(doc, path)
    return path


@pytest.fixture
def submission(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "submission.pdf", SUBMISSION_PAGES, title="ReadmitRisk dossier")


def test_attach_stores_a_read_only_copy_beside_the_document_by_hash(
        doc: Assessment, saved: Path, submission: Path) -> None:
    entry, added = evidence.attach(doc, saved, submission)
    sha = hashlib.sha256(submission.read_bytes()).hexdigest()
    assert added and entry.sha256 == sha
    assert (entry.title, entry.file_name, entry.pages) == ("ReadmitRisk dossier",
                                                          "submission.pdf", 3)
    assert entry.size == submission.stat().st_size
    stored = saved.parent / "study.evidence" / f"{sha}.pdf"
    assert stored.read_bytes() == submission.read_bytes()
    assert not stored.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert [p.name for p in stored.parent.iterdir()] == [stored.name]  # no temporary left
    # never copied into the .probity: the saved file holds the listing only
    storage.save(doc, saved)
    raw = json.loads(saved.read_text(encoding="utf-8"))
    assert raw["evidence"] == [entry.to_json()]
    assert len(saved.read_bytes()) < submission.stat().st_size + 20_000
    assert b"%PDF" not in saved.read_bytes()


def test_attach_is_audited_undoable_and_deduplicated(
        doc: Assessment, saved: Path, submission: Path, tmp_path: Path) -> None:
    entry, _ = evidence.attach(doc, saved, submission)
    assert doc.audit[-1].field == "evidence"
    copy = tmp_path / "renamed copy.pdf"
    copy.write_bytes(submission.read_bytes())
    again, added = evidence.attach(doc, saved, copy)
    assert not added and again == entry and len(evidence_entries(doc)) == 1
    assert doc.undo() and evidence_entries(doc) == []
    assert doc.redo() and evidence.documents(doc) == [entry]
    evidence.rename(doc, entry.sha256, "  Vendor   dossier ")
    assert evidence.documents(doc)[0].title == "Vendor dossier"
    with pytest.raises(EvidenceError, match="needs a title"):
        evidence.rename(doc, entry.sha256, "   ")
    evidence.remove(doc, entry.sha256)
    assert evidence_entries(doc) == [] and doc.undo() and len(evidence_entries(doc)) == 1


def test_attach_needs_a_saved_assessment(doc: Assessment, submission: Path) -> None:
    with pytest.raises(EvidenceError, match=r"^Save the assessment first"):
        evidence.attach(doc, None, submission)


def test_documents_round_trip_through_save_and_load(
        doc: Assessment, saved: Path, submission: Path) -> None:
    entry, _ = evidence.attach(doc, saved, submission)
    doc.set_answer_sources("1.1@validation", [
        evidence.evidence_ref(entry, 2, "enrolled\n  consecutively"),
        SourceRef("Smith 2020", "p. 4"),
    ])
    storage.save(doc, saved)
    back = storage.load(saved)
    assert evidence.documents(back) == [entry]
    first, second = back.answer("1.1@validation").sources
    assert (first.evidence, first.page, first.quote) == (entry.sha256, "p. 2",
                                                          "enrolled consecutively")
    assert second == SourceRef("Smith 2020", "p. 4")  # a free-text source keeps its old shape
    assert json.loads(saved.read_text())["answers"]["1.1@validation"]["sources"][1] == {
        "document": "Smith 2020", "page": "p. 4"}


def test_old_files_without_evidence_still_load(doc: Assessment, saved: Path) -> None:
    raw = json.loads(saved.read_text())
    assert "evidence" not in raw
    assert evidence_entries(storage.load(saved)) == []


@pytest.mark.parametrize(("entry", "problem"), [
    ({"sha256": "xyz"}, "missing"),
    ({"sha256": "ab" * 32, "title": "t", "file_name": "f", "pages": -1, "size": 1,
      "added": ""}, "pages"),
    ({"sha256": "AB" * 32, "title": "t", "file_name": "f", "pages": 1, "size": 1,
      "added": ""}, "SHA-256"),
])
def test_a_damaged_evidence_list_names_its_path(
        saved: Path, entry: dict[str, object], problem: str) -> None:
    raw = json.loads(saved.read_text())
    raw["evidence"] = [entry]
    saved.write_text(json.dumps(raw))
    with pytest.raises(DocumentError, match=r"\$\.evidence\[0\]") as info:
        storage.load(saved)
    assert problem in str(info.value)


def test_status_says_ok_missing_and_changed_in_one_sentence(
        doc: Assessment, saved: Path, submission: Path, tmp_path: Path) -> None:
    entry, _ = evidence.attach(doc, saved, submission)
    assert evidence.status(saved, entry).state == evidence.OK
    stored = evidence.stored_path(saved, entry.sha256)
    os.chmod(stored, 0o644)
    stored.write_bytes(stored.read_bytes() + b"\n% appended by someone\n")
    changed = evidence.status(saved, entry)
    assert changed.state == evidence.CHANGED
    assert "has changed since it was attached" in changed.message
    assert "Locate" in changed.message and changed.message.count(". ") == 0
    stored.unlink()
    missing = evidence.status(saved, entry)
    assert missing.state == evidence.MISSING and "Locate" in missing.message
    assert evidence.status(None, entry).state == evidence.UNSAVED


def test_locate_accepts_only_the_original(
        doc: Assessment, saved: Path, submission: Path, tmp_path: Path) -> None:
    entry, _ = evidence.attach(doc, saved, submission)
    stored = evidence.stored_path(saved, entry.sha256)
    os.chmod(stored, 0o644)
    stored.unlink()
    other = make_pdf(tmp_path / "other.pdf", ["Something else"])
    with pytest.raises(EvidenceError, match="is not the document attached as"):
        evidence.relocate(doc, saved, entry.sha256, other)
    assert evidence.relocate(doc, saved, entry.sha256, submission) == stored
    assert evidence.status(saved, entry).state == evidence.OK
    # a changed stored copy is replaced by the original too
    os.chmod(stored, 0o644)
    stored.write_bytes(b"%PDF-1.4 tampered")
    evidence.relocate(doc, saved, entry.sha256, submission)
    assert evidence.status(saved, entry).state == evidence.OK


def test_source_labels_and_links_kept_across_free_text_edits(
        doc: Assessment, saved: Path, submission: Path) -> None:
    entry, _ = evidence.attach(doc, saved, submission)
    ref = evidence.evidence_ref(entry, 3, "area under the ROC curve")
    table = evidence.by_hash(doc)
    assert evidence.source_label(ref, table) == (
        "ReadmitRisk dossier, p. 3 — “area under the ROC curve”")
    evidence.rename(doc, entry.sha256, "Dossier")
    assert evidence.source_label(ref, evidence.by_hash(doc)).startswith("Dossier, p. 3")
    assert evidence.source_label(SourceRef("Smith 2020", ""), table) == "Smith 2020"
    assert evidence.page_number(ref) == 3
    assert evidence.page_number(SourceRef("x", "table 2")) == 2
    assert evidence.page_number(SourceRef("x", "appendix")) is None
    kept = evidence.keep_links([SourceRef("ReadmitRisk dossier", "p. 3"), SourceRef("New", "")],
                               (ref,))
    assert kept == [ref, SourceRef("New", "")]
    with pytest.raises(EvidenceError, match="choose a page from 1 to 3"):
        evidence.evidence_ref(entry, 4)


def test_quotes_are_found_on_their_page_or_the_nearest_one(submission: Path) -> None:
    match = find_quote(submission, 1, "enrolled   CONSECUTIVELY")
    assert match is not None and match.page == 1 and match.rects
    left, bottom, right, top = match.rects[0]
    assert 60 < left < right and bottom < top < 842
    # wrong page typed: found on the page that has it
    elsewhere = find_quote(submission, 0, "area under the ROC curve")
    assert elsewhere is not None and elsewhere.page == 2
    assert find_quote(submission, 0, "not in this document at all") is None
    assert find_quote(submission, 0, "   ") is None


def test_pages_render_to_pixels(submission: Path) -> None:
    page = render_page(submission, 1, 1.0)
    assert page.page_count == 3 and abs(page.width - 595.3) < 1 and abs(page.height - 841.9) < 1
    assert render_page(submission, 1, 2.0).width == pytest.approx(2 * 595.3, abs=1)
    assert page.stride >= 4 * page.width and len(page.pixels) == page.stride * page.height
    assert min(page.pixels) < 100  # some dark text on white
    with pytest.raises(EvidenceError, match="page 9 does not exist"):
        render_page(submission, 8, 1.0)


# ------------------------------------------------------------------------------ hostile files


def _refused(doc: Assessment, saved: Path, path: Path) -> str:
    started = time.monotonic()
    with pytest.raises(EvidenceError) as info:
        evidence.attach(doc, saved, path)
    assert time.monotonic() - started < 40
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    assert evidence_entries(doc) == []
    folder = evidence.evidence_folder(saved)
    assert not folder.exists() or list(folder.iterdir()) == []  # nothing half-attached
    return message


def test_hostile_and_wrong_files_are_refused_with_one_sentence(
        doc: Assessment, saved: Path, tmp_path: Path, submission: Path) -> None:
    text = tmp_path / "notes.docx"
    text.write_bytes(b"PK\x03\x04 a word document")
    assert "is not a PDF" in _refused(doc, saved, text)
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert "is empty" in _refused(doc, saved, empty)
    locked = make_pdf(tmp_path / "locked.pdf", ["secret"], password="pw")
    assert "encrypted" in _refused(doc, saved, locked)
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(submission.read_bytes()[:300])
    assert "damaged PDF" in _refused(doc, saved, truncated)
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"%PDF-1.7\n" + os.urandom(20_000))
    assert "damaged PDF" in _refused(doc, saved, garbage)
    assert "not a file" in _refused(doc, saved, tmp_path)
    assert "cannot be read" in _refused(doc, saved, tmp_path / "gone.pdf")


def test_size_and_page_caps(doc: Assessment, saved: Path, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    big = make_pdf(tmp_path / "big.pdf", ["x"] * 12)
    monkeypatch.setattr(evidence, "MAX_BYTES", 1000)
    assert "more than the" in _refused(doc, saved, big)
    monkeypatch.undo()
    monkeypatch.setattr(evidence_pdf, "MAX_PAGES", 10)
    assert "has 12 pages, more than the 10 Probity attaches" in _refused(doc, saved, big)


@pytest.mark.parametrize(("child", "expected"), [
    ("import time; time.sleep(120)", "could not be read within 2 seconds"),
    ("import os; os.abort()", "made the PDF reader fail"),
    ("print('not json')", "made the PDF reader fail"),
    ("b = bytearray(3 * 1024**3)", "made the PDF reader fail"),  # over the memory limit
])
def test_a_reader_that_stalls_or_crashes_is_stopped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, child: str, expected: str) -> None:
    """The probe runs in a child process with time and memory limits: a PDFium stall or crash
    on a hostile file cannot hang or take down Probity."""
    pdf = make_pdf(tmp_path / "hostile.pdf", ["x"])
    monkeypatch.setattr(evidence_pdf, "probe_command", lambda path: [sys.executable, "-c", child])
    started = time.monotonic()
    with pytest.raises(EvidenceError, match=expected):
        probe_pdf(pdf, timeout_s=2)
    assert time.monotonic() - started < 10


def test_save_as_carries_the_stored_copies_over(
        doc: Assessment, saved: Path, submission: Path, tmp_path: Path) -> None:
    entry, _ = evidence.attach(doc, saved, submission)
    other = make_pdf(tmp_path / "other.pdf", ["Other"])
    second, _ = evidence.attach(doc, saved, other)
    broken = evidence.stored_path(saved, second.sha256)
    os.chmod(broken, 0o644)
    broken.unlink()
    elsewhere = tmp_path / "copy" / "renamed.probity"
    elsewhere.parent.mkdir()
    problems = evidence.carry_over(doc, saved, elsewhere)
    assert evidence.status(elsewhere, entry).state == evidence.OK
    assert evidence.stored_path(elsewhere, entry.sha256).parent.name == "renamed.evidence"
    assert len(problems) == 1 and "was not copied beside renamed.probity" in problems[0]
    assert evidence.carry_over(doc, saved, saved) == []  # same place: nothing to copy
    assert evidence.carry_over(doc, None, elsewhere) == []


def _handmade_pdf(path: Path, pages_object: bytes) -> Path:
    """A minimal PDF around a hostile page tree (object 2), with a correct xref table."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", pages_object,
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


@pytest.mark.parametrize("pages_object", [
    b"<< /Type /Pages /Kids [2 0 R 2 0 R] /Count 2 >>",  # a page tree that contains itself
    b"<< /Type /Pages /Kids [] /Count 0 >>",  # no pages
])
def test_hostile_page_trees_are_refused(doc: Assessment, saved: Path, tmp_path: Path,
                                        pages_object: bytes) -> None:
    pdf = _handmade_pdf(tmp_path / "tree.pdf", pages_object)
    message = _refused(doc, saved, pdf)
    assert message.startswith("tree.pdf ")
    assert any(s in message for s in ("damaged PDF", "more than the", "has no pages"))


@pytest.mark.parametrize("count", [b"1", b"999999999"])
def test_the_handmade_pdf_is_itself_readable(doc: Assessment, saved: Path, tmp_path: Path,
                                             count: bytes) -> None:
    """The hostile variants above differ from a valid file only in their page tree; a /Count
    claiming a billion pages is not believed (PDFium counts the pages there are)."""
    pdf = _handmade_pdf(tmp_path / "ok.pdf", b"<< /Type /Pages /Kids [3 0 R] /Count " + count
                        + b" >>")
    entry, added = evidence.attach(doc, saved, pdf)
    assert added and entry.pages == 1
