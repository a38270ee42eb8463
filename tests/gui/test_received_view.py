"""A received signed report: verified in the background, the verdict shown, the assessment
shown read-only, "Save a copy" writes a new file (never over the report); an untrusted report's
assessment only on request; a non-PDF is one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from assessment import storage
from gui.received.view import ReceivedReportDialog
from reports.identity import trust_certificate
from tests.gui.signed_report import build_signed_report


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    return build_signed_report(tmp_path_factory.mktemp("received"))


def open_dialog(qtbot, path: Path, **kwargs) -> ReceivedReportDialog:
    dialog = ReceivedReportDialog(path, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.tasks.running(), timeout=20000)
    return dialog


def test_trusted_report_shows_assessment_read_only_and_saves_a_copy(
        qtbot, dialogs, tmp_path, signed) -> None:
    pdf, certificate = signed
    trust_certificate(certificate)
    report = tmp_path / "vendor.pdf"
    report.write_bytes(pdf)
    opened_copies = []
    dialog = open_dialog(qtbot, report, on_open_copy=opened_copies.append)
    assert "every signature verifies" in dialog.status.text()
    assert dialog.document_view.isVisible() and dialog.document_view.isReadOnly()
    text = dialog.document_view.toPlainText()
    assert "Sepsis-Ω <Risk> 2.1 & beta" in text  # escaped: shown as typed, not as markup
    assert "Participants" in text and "Read-only" in dialog.read_only.text()
    assert not dialog.open_anyway.isVisible()
    copy = tmp_path / "my copy.probity"
    dialogs.reply("ask_save_path", copy)
    qtbot.mouseClick(dialog.save_copy_button, Qt.MouseButton.LeftButton)
    assert storage.dumps(storage.load(copy)) == storage.dumps(dialog.received.document)
    assert opened_copies == [copy] and report.read_bytes() == pdf
    # the suggestion sits beside the report and is not the report
    [(title, _filters, suggested)] = [args for n, args in dialogs.calls if n == "ask_save_path"]
    assert Path(suggested).parent == tmp_path and suggested.endswith("(received copy).probity")


def test_untrusted_report_needs_open_anyway_and_says_not_verified(
        qtbot, dialogs, tmp_path, signed) -> None:
    pdf, _certificate = signed
    report = tmp_path / "untrusted.pdf"
    report.write_bytes(pdf)
    dialog = open_dialog(qtbot, report)
    assert "does not verify" in dialog.status.text() and "not trusted" in dialog.status.text()
    assert not dialog.document_view.isVisible() and not dialog.save_copy_button.isEnabled()
    assert dialog.open_anyway.isVisible()
    qtbot.mouseClick(dialog.open_anyway, Qt.MouseButton.LeftButton)
    assert dialog.document_view.isVisible() and dialog.received.opened_unverified
    assert dialog.read_only.text().startswith("NOT VERIFIED")
    # choosing the report itself as the copy's name cannot overwrite it
    dialogs.reply("ask_save_path", report)
    assert dialog.save_copy() == tmp_path / "untrusted.pdf.probity"
    assert report.read_bytes() == pdf


def test_not_a_pdf_is_one_sentence(qtbot, dialogs, tmp_path) -> None:
    path = tmp_path / "fake.pdf"
    path.write_bytes(b"PK\x03\x04 this is a zip")
    dialog = open_dialog(qtbot, path)
    assert dialog.status.text() == "fake.pdf is not a PDF file."
    assert not dialog.document_view.isVisible() and not dialog.open_anyway.isVisible()
    assert dialogs.messages == []


def test_a_pdf_on_the_command_line_opens_as_a_received_report_and_its_copy_in_the_window(
        qtbot, dialogs, tmp_path, signed) -> None:
    """Second document: the window keeps its own (new) assessment until the copy is opened."""
    from gui import app as gui_app
    from gui.received.view import ReceivedReportDialog
    from tests.gui.helpers import open_window

    pdf, certificate = signed
    trust_certificate(certificate)
    report = tmp_path / "from vendor.pdf"
    report.write_bytes(pdf)
    window = open_window(qtbot)
    window.ctx.settings.set("open_demo_at_start", False)
    gui_app.open_initial_document(window, [str(report)])
    [dialog] = [d for d in window.findChildren(ReceivedReportDialog)]
    qtbot.waitUntil(lambda: not dialog.tasks.running(), timeout=20000)
    assert dialog.received is not None and dialog.received.verified
    assert window.ctx.path is None  # the report was not loaded as a data file nor an assessment
    copy = tmp_path / "copy.probity"
    dialogs.reply("ask_save_path", copy)
    dialog.save_copy()
    assert window.ctx.path == copy and window.ctx.doc.title == dialog.received.document.title
    dialog.close()


def test_trust_this_signer_asks_with_the_fingerprint_then_verifies_again(
        qtbot, dialogs, tmp_path, signed) -> None:
    from reports.identity import fingerprint
    from reports.trust_store import list_trusted

    pdf, certificate = signed
    report = tmp_path / "untrusted.pdf"
    report.write_bytes(pdf)
    dialog = open_dialog(qtbot, report)
    assert dialog.trust_button.isVisible()
    dialogs.reply("ask_yes_no", False)
    qtbot.mouseClick(dialog.trust_button, Qt.MouseButton.LeftButton)
    assert list_trusted().certificates == () and dialog.received is None
    dialogs.reply("ask_yes_no", True)
    qtbot.mouseClick(dialog.trust_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.tasks.running(), timeout=20000)
    asked = [args for name, args in dialogs.calls if name == "ask_yes_no"][-1]
    assert fingerprint(certificate) in asked[1]
    assert dialog.received is not None and dialog.received.verified
    assert not dialog.trust_button.isVisible() and dialog.document_view.isVisible()


def test_a_changed_report_offers_no_trust_button(qtbot, dialogs, tmp_path, signed) -> None:
    pdf, _certificate = signed
    tampered = bytearray(pdf)
    index = tampered.find(b"/Producer")
    tampered[index + 1] = ord("Q")
    report = tmp_path / "changed.pdf"
    report.write_bytes(bytes(tampered))
    dialog = open_dialog(qtbot, report)
    assert "does not verify" in dialog.status.text()
    assert not dialog.trust_button.isVisible() and dialog.open_anyway.isVisible()


def test_file_open_and_drop_accept_a_signed_report(qtbot, dialogs, tmp_path, signed) -> None:
    """File › Open (and a drop, which uses the same load_file) hands a PDF to the received view,
    never to the data page or the assessment loader; the window's own document is untouched."""
    from PySide6.QtCore import QMimeData, QPoint, QUrl
    from PySide6.QtGui import QDragEnterEvent

    from tests.gui.helpers import open_window

    pdf, certificate = signed
    trust_certificate(certificate)
    report = tmp_path / "vendor report.pdf"
    report.write_bytes(pdf)
    window = open_window(qtbot)
    before = window.ctx.path
    dialogs.reply("ask_open_path", report)
    assert window.open_dialog() is True
    [dialog] = window.findChildren(ReceivedReportDialog)
    qtbot.waitUntil(lambda: not dialog.tasks.running(), timeout=20000)
    assert dialog.received is not None and dialog.received.verified
    assert window.ctx.path == before
    dialog.close()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(report))])
    event = QDragEnterEvent(QPoint(1, 1), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    assert window._dropped_path(event) == report
