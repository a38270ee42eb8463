"""The Evidence step, citing from a signalling question and the side viewer (pytest-qt,
offscreen): attach by dialog and by drop, bad files refused with one sentence, title editing
with undo, ok/changed/missing status, a source opening the viewer at its page with the quote
highlighted, navigation and zoom, and a second document replacing the first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QColor, QDropEvent

from assessment import evidence, storage
from assessment.document import Assessment, Reviewer
from assessment.evidence import evidence_entries
from gui.evidence.viewer import EvidenceViewer, viewer_for
from gui.main_window import MainWindow
from gui.pages.evidence_page import EvidencePage
from gui.pages.probast import DomainPage
from tests.evidence_helpers import SUBMISSION_PAGES, make_pdf

WAIT_MS = 30_000


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    doc = Assessment.new("probast-2019", reviewer=Reviewer(name="Ada Reviewer"))
    doc.set_study_type("validation")
    path = tmp_path / "study.probity"
    storage.save(doc, path)
    return path


@pytest.fixture
def submission(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "submission.pdf", SUBMISSION_PAGES, title="ReadmitRisk dossier")


@pytest.fixture
def window(qtbot, saved: Path) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win, before_close_func=lambda w: w.close_without_prompt())
    win.set_document(storage.load(saved), saved)
    win.show()
    qtbot.waitExposed(win)
    return win


def evidence_page(window: MainWindow) -> EvidencePage:
    page = window.go_to("evidence")
    assert isinstance(page, EvidencePage)
    page.refresh_now()
    return page


def wait_attached(qtbot, window: MainWindow, count: int) -> None:
    qtbot.waitUntil(lambda: len(evidence_entries(window.ctx.doc)) == count, timeout=WAIT_MS)


def wait_status(qtbot, page: EvidencePage, text: str, row: int = 0) -> None:
    qtbot.waitUntil(lambda: page.table.rowCount() > row and page.table.item(row, 4) is not None
                    and page.table.item(row, 4).text() == text, timeout=WAIT_MS)


def attach(qtbot, window: MainWindow, dialogs, pdf: Path) -> EvidencePage:
    page = evidence_page(window)
    dialogs.reply("ask_open_path", pdf)
    page.attach_button.click()
    wait_attached(qtbot, window, 1)
    wait_status(qtbot, page, "OK")
    return page


def test_attach_by_dialog_lists_title_file_pages_hash_and_status(
        qtbot, window, dialogs, submission, saved) -> None:
    page = attach(qtbot, window, dialogs, submission)
    entry = evidence.documents(window.ctx.doc)[0]
    row = [page.table.item(0, c).text() for c in range(5)]
    assert row == ["ReadmitRisk dossier", "submission.pdf", "3", entry.sha256[:12] + "…", "OK"]
    assert page.table.item(0, 3).toolTip() == entry.sha256
    assert evidence.stored_path(saved, entry.sha256).is_file()
    assert page.is_complete() and not page.needs_attention()
    assert window.ctx.modified  # an audited document change, saved with the document
    assert window.ctx.doc.audit[-1].field == "evidence"


def _drop(page: EvidencePage, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    page.dropEvent(event)
    assert event.isAccepted()


def test_drop_attaches_good_files_and_names_the_bad_ones(
        qtbot, window, dialogs, submission, tmp_path) -> None:
    page = evidence_page(window)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a pdf")
    locked = make_pdf(tmp_path / "locked.pdf", ["secret"], password="pw")
    supplement = make_pdf(tmp_path / "supplement.pdf", ["Table S1", "Table S2"])
    _drop(page, [submission, notes, locked, supplement])
    wait_attached(qtbot, window, 2)
    qtbot.waitUntil(lambda: bool(dialogs.messages), timeout=WAIT_MS)
    message = dialogs.messages[-1]
    assert "notes.txt is not a PDF" in message and "locked.pdf is encrypted" in message
    assert "Traceback" not in message
    assert [d.file_name for d in evidence.documents(window.ctx.doc)] == [
        "submission.pdf", "supplement.pdf"]
    wait_status(qtbot, page, "OK", row=1)
    # the same file again is not listed twice
    _drop(page, [submission])
    qtbot.waitUntil(lambda: "Already attached" in page.message.text(), timeout=WAIT_MS)
    assert len(evidence_entries(window.ctx.doc)) == 2


def test_an_unsaved_assessment_is_saved_first_or_nothing_happens(
        qtbot, dialogs, submission) -> None:
    win = MainWindow()
    qtbot.addWidget(win, before_close_func=lambda w: w.close_without_prompt())
    doc = Assessment.new("probast-2019")
    win.set_document(doc, None)
    win.show()
    page = evidence_page(win)
    assert "Save the assessment first" in page.message.text()
    dialogs.reply("ask_yes_no", False)
    page.attach_files([submission])
    assert "Save the assessment first" in page.message.text()
    assert evidence_entries(doc) == []


def test_title_is_edited_in_place_and_undone(qtbot, window, dialogs, submission) -> None:
    page = attach(qtbot, window, dialogs, submission)
    page.table.item(0, 0).setText("Vendor submission v2")
    assert evidence.documents(window.ctx.doc)[0].title == "Vendor submission v2"
    page.table.item(0, 0).setText("   ")
    assert dialogs.messages and "needs a title" in dialogs.messages[-1]
    assert evidence.documents(window.ctx.doc)[0].title == "Vendor submission v2"
    assert window.ctx.doc.undo()
    page.refresh_now()
    assert page.table.item(0, 0).text() == "ReadmitRisk dossier"


def test_changed_and_missing_copies_are_said_in_the_list_and_the_viewer(
        qtbot, window, dialogs, submission, saved) -> None:
    page = attach(qtbot, window, dialogs, submission)
    entry = evidence.documents(window.ctx.doc)[0]
    stored = evidence.stored_path(saved, entry.sha256)
    os.chmod(stored, 0o644)
    stored.write_bytes(stored.read_bytes() + b"\n% edited\n")
    page.recheck()
    wait_status(qtbot, page, "Changed")
    assert page.needs_attention() and not page.is_complete()
    assert "has changed since it was attached" in page.status_line.text()
    page.table.selectRow(0)
    page.show_selected()
    viewer = viewer_for(window.ctx)
    qtbot.waitUntil(lambda: viewer.rendered is not None, timeout=WAIT_MS)
    assert viewer.warning.isVisible()
    assert "what you see is not what was assessed" in viewer.warning.text()
    # Locate puts the original back
    dialogs.reply("ask_open_path", submission)
    page.locate_selected()
    wait_status(qtbot, page, "OK")
    os.chmod(stored, 0o644)
    stored.unlink()
    page.recheck()
    wait_status(qtbot, page, "Missing")
    page.show_selected()
    qtbot.waitUntil(lambda: "is missing" in viewer.warning.text(), timeout=WAIT_MS)
    assert viewer.canvas.pixmap().isNull()


def _domain_page(window: MainWindow) -> DomainPage:
    page = window.go_to("domain:main:D1")
    assert isinstance(page, DomainPage)
    page.refresh_now()
    return page


def test_cite_then_click_opens_the_page_with_the_quote_highlighted(
        qtbot, window, dialogs, submission) -> None:
    attach(qtbot, window, dialogs, submission)
    page = _domain_page(window)
    editor = page.cards["1.1"].editors["1.1@validation"]
    dialog = editor.cite.open_dialog()
    assert dialog is not None and dialog.page.maximum() == 3
    dialog.page.setValue(2)
    dialog.quote.setPlainText("enrolled consecutively\nat three hospitals")
    dialog._accept_if_valid()
    ref = window.ctx.doc.answer("1.1@validation").sources[0]
    assert (ref.page, ref.quote) == ("p. 2", "enrolled consecutively at three hospitals")
    page.refresh_now()
    assert editor.cite.text() == "Cite (1)"
    assert editor.sources.toPlainText() == "ReadmitRisk dossier, p. 2"
    # free-text editing of the sources keeps the link
    editor._sources_committed("ReadmitRisk dossier, p. 2; Smith 2020, p. 4")
    assert window.ctx.doc.answer("1.1@validation").sources[0] == ref
    # after a rename the field shows the current title, and editing it still keeps the link
    evidence.rename(window.ctx.doc, ref.evidence, "Dossier")
    page.refresh_now()
    assert editor.sources.toPlainText() == "Dossier, p. 2; Smith 2020, p. 4"
    editor._sources_committed("Dossier, p. 2")
    assert window.ctx.doc.answer("1.1@validation").sources == (ref,)
    assert window.ctx.doc.undo() and window.ctx.doc.undo()  # the edit, then the rename
    page.refresh_now()
    editor.cite.fill_menu()
    shows = [a for a in editor.cite.menu_.actions() if a.text().startswith("Show:")]
    assert [a.text() for a in shows] == [
        "Show: ReadmitRisk dossier, p. 2 — “enrolled consecutively at three hospitals”"]
    shows[0].trigger()
    viewer = viewer_for(window.ctx)
    qtbot.waitUntil(lambda: viewer.rendered is not None, timeout=WAIT_MS)
    assert viewer.isVisible() and viewer.page_index == 1 and viewer.page_spin.value() == 2
    assert viewer.match is not None and viewer.match.page == 1
    assert viewer.note.text().startswith("Quote highlighted on page 2")
    assert not viewer.warning.isVisible()
    _assert_highlight_painted(viewer)


def _assert_highlight_painted(viewer: EvidenceViewer) -> None:
    image = viewer.canvas.pixmap().toImage()
    page, match = viewer.rendered, viewer.match
    left, bottom, right, top = match.rects[0]
    x = int((left + right) / 2 * page.scale)
    y_above = int((page.page_height_pt - top) * page.scale) - 1  # inside the margin band
    colour = QColor(image.pixel(x, max(0, y_above)))
    assert colour.blue() < 200 < colour.red()  # yellow over white paper


def test_a_quote_on_another_page_moves_there_and_a_missing_quote_is_said(
        qtbot, window, dialogs, submission) -> None:
    attach(qtbot, window, dialogs, submission)
    sha = evidence.documents(window.ctx.doc)[0].sha256
    from gui.evidence.viewer import show_source

    viewer = show_source(window.ctx, sha, 1, "area under the ROC curve")
    qtbot.waitUntil(lambda: viewer.rendered is not None, timeout=WAIT_MS)
    assert viewer.page_index == 2 and viewer.note.text().startswith("Quote highlighted on page 3")
    viewer = show_source(window.ctx, sha, 2, "words that are nowhere")
    qtbot.waitUntil(lambda: "was not found" in viewer.note.text(), timeout=WAIT_MS)
    assert viewer.page_index == 1 and viewer.rendered.index == 1


def test_viewer_pages_and_zooms(qtbot, window, dialogs, submission) -> None:
    attach(qtbot, window, dialogs, submission)
    sha = evidence.documents(window.ctx.doc)[0].sha256
    from gui.evidence.viewer import show_source

    viewer = show_source(window.ctx, sha, 1)
    qtbot.waitUntil(lambda: viewer.rendered is not None, timeout=WAIT_MS)
    assert not viewer.prev_button.isEnabled() and viewer.next_button.isEnabled()
    width = viewer.canvas.pixmap().width()
    viewer.next_button.click()
    qtbot.waitUntil(lambda: viewer.rendered.index == 1, timeout=WAIT_MS)
    viewer.page_spin.setValue(3)
    qtbot.waitUntil(lambda: viewer.rendered.index == 2, timeout=WAIT_MS)
    assert not viewer.next_button.isEnabled()
    viewer.zoom_in_button.click()
    qtbot.waitUntil(lambda: viewer.canvas.pixmap().width() > width * 1.2, timeout=WAIT_MS)
    assert viewer.zoom_label.text() == "125 %"
    for _ in range(6):
        viewer.zoom_out()
    assert viewer.zoom_label.text() == "50 %" and not viewer.zoom_out_button.isEnabled()


def test_a_second_document_replaces_the_first(qtbot, window, dialogs, submission, tmp_path
                                               ) -> None:
    page = attach(qtbot, window, dialogs, submission)
    sha = evidence.documents(window.ctx.doc)[0].sha256
    from gui.evidence.viewer import show_source

    viewer = show_source(window.ctx, sha, 1)
    qtbot.waitUntil(lambda: viewer.rendered is not None, timeout=WAIT_MS)
    other = Assessment.new("probast-2019")
    other_path = tmp_path / "other.probity"
    storage.save(other, other_path)
    window.set_document(other, other_path)
    assert not viewer.isVisible() and viewer.entry is None
    page = evidence_page(window)
    assert page.table.rowCount() == 0
    # the old document's source cannot open in the new one
    show_source(window.ctx, sha, 1)
    assert "no longer attached" in viewer.warning.text()


def test_the_cite_menu_opens_from_the_keyboard_without_an_extra_tab_stop(
        qtbot, window, dialogs, submission, monkeypatch) -> None:
    from gui.evidence.cite import CITE_KEY, CiteButton

    attach(qtbot, window, dialogs, submission)
    page = _domain_page(window)
    editor = page.cards["1.1"].editors["1.1@validation"]
    assert not editor.cite.focusPolicy() & Qt.FocusPolicy.TabFocus
    opened: list[bool] = []
    monkeypatch.setattr(CiteButton, "showMenu", lambda self: opened.append(True))
    editor.sources.setFocus()
    qtbot.waitUntil(editor.sources.hasFocus)
    from PySide6.QtGui import QKeySequence

    combo = QKeySequence(CITE_KEY)[0]
    qtbot.keyClick(editor.sources, combo.key(), combo.keyboardModifiers())
    assert opened == [True]


def test_save_as_takes_the_evidence_folder_along(
        qtbot, window, dialogs, submission, tmp_path) -> None:
    page = attach(qtbot, window, dialogs, submission)
    entry = evidence.documents(window.ctx.doc)[0]
    target = tmp_path / "elsewhere" / "copy.probity"
    target.parent.mkdir()
    dialogs.reply("ask_save_path", target)
    assert window.save_as()
    assert window.ctx.path == target.resolve()
    assert evidence.status(target, entry).state == evidence.OK
    page.recheck()
    wait_status(qtbot, page, "OK")
