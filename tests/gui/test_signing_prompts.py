"""The record: what is signed is the saved file, by a named reviewer, and a draft says so.

Through the real main window: export with unsaved edits saves first (or exports nothing) and
embeds exactly the bytes on disk; a signer who is not the assessment's reviewer is asked about;
an unnamed reviewer is filled in from the identity (and then named in the audit log); an
incomplete assessment is signed only after a question, as a draft counting every open item.
"""

from __future__ import annotations

import gc
import hashlib
import io
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from assessment import storage
from assessment.document import Assessment, Reviewer
from assessment.judgement import judge
from gui.export import page as export_page
from gui.export.page import NewIdentity
from gui.main_window import demo_path
from reports.attachment import read_attachment
from reports.model import report_warnings
from tests.gui.helpers import open_window

PASSPHRASE = "a long enough passphrase for signing"
WAIT_MS = 120_000


@pytest.fixture(autouse=True)
def collect_garbage_on_ui_thread():
    """Collect this test's widget garbage on the UI thread (see tests/gui/test_data_page.py)."""
    yield
    gc.collect()


def make_identity(qtbot, window, monkeypatch, name: str) -> Path:
    page = window.go_to("export")
    monkeypatch.setattr(
        export_page,
        "ask_new_identity",
        lambda parent, defaults: NewIdentity(name, "Statistician", "Probity QA", "", PASSPHRASE),
    )
    with qtbot.waitSignal(page.identity_created, timeout=WAIT_MS) as blocker:
        page.create_button.click()
    return blocker.args[0]


def complete_doc(reviewer: str) -> Assessment:
    """The demo (complete) with a reviewer of our choosing, as a new unsaved document."""
    doc = storage.load(demo_path())
    doc.set_field("reviewer", "name", reviewer)
    assert judge(doc).complete
    doc.dirty = False
    return doc


def signature_reason(pdf: Path) -> str:
    reader = PdfFileReader(io.BytesIO(pdf.read_bytes()))
    return str(reader.embedded_signatures[0].sig_object["/Reason"])


def test_export_with_unsaved_edits_saves_first_and_embeds_the_saved_bytes(
    qtbot, tmp_path, dialogs, monkeypatch
):
    window = open_window(qtbot, complete_doc("Ana Silva"))
    make_identity(qtbot, window, monkeypatch, "Ana Silva")
    window.ctx.doc.set_notes("typed just before signing")
    assert window.ctx.modified and window.ctx.path is None
    page = window.go_to("export")

    # Declining the save exports nothing.
    dialogs.reply("ask_yes_no", False)
    page.export_signed_pdf(tmp_path / "nothing.pdf")
    assert not (tmp_path / "nothing.pdf").exists()
    assert "save the assessment first" in page.status.text()

    # Accepting saves (a new file: Save As asks where), then signs that file.
    saved = tmp_path / "signed-assessment.probity"
    dialogs.reply("ask_yes_no", True)
    dialogs.reply("ask_save_path", saved)
    dialogs.reply("ask_passphrase", PASSPHRASE)
    out = tmp_path / "report.pdf"
    with qtbot.waitSignal(page.exported, timeout=WAIT_MS) as blocker:
        page.export_signed_pdf(out)
    assert blocker.args[0].verification.ok
    assert saved.is_file() and not window.ctx.modified and window.ctx.path == saved.resolve()
    on_disk = saved.read_bytes()
    embedded = read_attachment(out.read_bytes()).data
    assert hashlib.sha256(embedded).hexdigest() == hashlib.sha256(on_disk).hexdigest()
    assert blocker.args[0].verification.assessment_sha256 == hashlib.sha256(on_disk).hexdigest()
    assert storage.loads(embedded).notes == "typed just before signing"
    assert signature_reason(out) == export_page.DEFAULT_REASON  # complete: no draft wording
    assert dialogs.messages == []


def test_signer_who_is_not_the_reviewer_is_asked_about(qtbot, tmp_path, dialogs, monkeypatch):
    doc = complete_doc("Ana Silva")
    path = tmp_path / "a.probity"
    storage.save(doc, path)
    window = open_window(qtbot, storage.load(path))
    window.ctx.set_document(storage.load(path), path)
    make_identity(qtbot, window, monkeypatch, "Bruno Costa")
    assert window.ctx.doc.reviewer.name == "Ana Silva"  # a named reviewer is never replaced
    page = window.go_to("export")

    dialogs.reply("ask_yes_no", False)
    page.export_signed_pdf(tmp_path / "no.pdf")
    title, text = dialogs.calls[-1][1][:2]
    assert title == "The signer is not the reviewer"
    assert "Ana Silva" in text and "Bruno Costa" in text
    assert not (tmp_path / "no.pdf").exists()
    assert "Ana Silva's identity" in page.status.text()

    dialogs.reply("ask_yes_no", True)
    dialogs.reply("ask_passphrase", PASSPHRASE)
    with qtbot.waitSignal(page.exported, timeout=WAIT_MS) as blocker:
        page.export_signed_pdf(tmp_path / "yes.pdf")
    assert blocker.args[0].verification.signatures[0].signer == "Bruno Costa"


def test_an_identity_names_an_unnamed_reviewer_and_the_audit_log_follows(
    qtbot, dialogs, monkeypatch
):
    window = open_window(qtbot, Assessment.new("probast-2019", reviewer=Reviewer()))
    assert window.ctx.doc.reviewer.name == ""
    make_identity(qtbot, window, monkeypatch, "Carla Dias")
    reviewer = window.ctx.doc.reviewer
    assert (reviewer.name, reviewer.role, reviewer.organisation) == (
        "Carla Dias",
        "Statistician",
        "Probity QA",
    )
    window.ctx.doc.set_notes("an edit after choosing the identity")
    assert window.ctx.doc.audit[-1].reviewer == "Carla Dias"
    assert all(
        e.reviewer != "(unnamed reviewer)"
        for e in window.ctx.doc.audit
        if e.field.startswith(("notes", "reviewer"))
    )


def test_incomplete_assessment_is_signed_only_after_asking_as_a_draft(
    qtbot, tmp_path, dialogs, monkeypatch
):
    doc = Assessment.new("probast-2019", reviewer=Reviewer(name="Ana Silva"))
    doc.set_study_type("validation")
    doc.set_answer("1.1@validation", "Y")
    path = tmp_path / "draft.probity"
    storage.save(doc, path)
    window = open_window(qtbot, storage.load(path))
    window.ctx.set_document(storage.load(path), path)
    make_identity(qtbot, window, monkeypatch, "Ana Silva")
    j = window.ctx.judgement()
    # Every unanswered question, applicability rating and pending decision is one open item.
    expected = len(j.unanswered) + sum(1 for p in j.problems if "unanswered" not in p)
    assert expected > 4 and j.open_items == expected

    # The Summary and Sign pages list it before signing.
    summary = window.go_to("summary")
    summary.refresh_now()
    assert summary.warnings.isVisibleTo(summary)
    assert f"incomplete: {expected} open items" in summary.warnings.text()
    page = window.go_to("export")
    assert f"incomplete: {expected} open items" in page.warnings_label.text()
    assert len(report_warnings(window.ctx.doc)) == 1

    dialogs.reply("ask_yes_no", False)
    page.export_signed_pdf(tmp_path / "no.pdf")
    title, text = dialogs.calls[-1][1][:2]
    assert title == "Sign an incomplete assessment?" and f"{expected} open items" in text
    assert not (tmp_path / "no.pdf").exists()

    dialogs.reply("ask_yes_no", True)
    dialogs.reply("ask_passphrase", PASSPHRASE)
    out = tmp_path / "draft.pdf"
    with qtbot.waitSignal(page.exported, timeout=WAIT_MS):
        page.export_signed_pdf(out)
    assert signature_reason(out).startswith(f"draft — incomplete ({expected} open items): ")


def test_stale_evaluation_and_font_warnings_are_listed_before_signing(qtbot, dialogs):
    doc = storage.load(demo_path())
    assert report_warnings(doc) == []
    doc.set_field(
        "datasheet", "training_demographics", {"race": {"Caucasian": 10, "AfricanAmerican": 90}}
    )
    doc.set_field("reviewer", "name", "Reviewer 张伟")
    window = open_window(qtbot, doc)
    summary = window.go_to("summary")
    summary.refresh_now()
    warnings = report_warnings(window.ctx.doc)
    assert len(warnings) == 2
    text = summary.warnings.text()
    assert all(w in text for w in warnings)
    assert (
        "The evaluation is out of date: training demographics (age_band, ethnicity, race, sex)"
        in text
    )
    assert "print as boxes" in text and "张" in text
    page = window.go_to("export")
    assert "out of date" in page.warnings_label.text()
