"""Preferences › Trusted signers: import (certificate file, signed PDF), hostile files said in
one sentence inside the dialog, remove after asking; a second dialog sees the same store."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from gui.trust_dialog import COLUMNS, TrustedSignersDialog
from tests.gui.signed_report import build_signed_report
from tests.reports.cert_helpers import make_cert, pem, sha256_colon


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    return build_signed_report(tmp_path_factory.mktemp("signed"))


@pytest.fixture
def dialog(qtbot) -> TrustedSignersDialog:
    widget = TrustedSignersDialog()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def cells(dialog: TrustedSignersDialog) -> list[list[str]]:
    return [[dialog.table.item(r, c).text() for c in range(len(COLUMNS))]
            for r in range(dialog.table.rowCount())]


def test_import_a_certificate_through_the_button_and_see_its_details(
        qtbot, dialog, dialogs, tmp_path) -> None:
    cert = make_cert("Dr Colleague")
    path = tmp_path / "colleague.crt"
    path.write_bytes(pem(cert))
    assert cells(dialog) == [] and not dialog.remove_button.isEnabled()
    dialogs.reply("ask_open_path", path)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    [row] = cells(dialog)
    assert row[0] == "CN=Dr Colleague, O=Ward 7 <QA> & Co" and row[1] == row[0]
    assert row[3] == sha256_colon(cert)
    assert row[2] == f"valid until {cert.not_valid_after_utc:%Y-%m-%d}"
    assert "Trusted 1 certificate(s) from colleague.crt" in dialog.message.text()
    assert dialog.remove_button.isEnabled()  # the new row is selected
    second = TrustedSignersDialog()  # another window's dialog reads the same store
    qtbot.addWidget(second)
    assert cells(second) == cells(dialog)


def test_hostile_files_are_one_sentence_in_the_dialog_and_nothing_changes(
        qtbot, dialog, dialogs, tmp_path) -> None:
    now = dt.datetime.now(dt.UTC)
    files = {
        "garbage.pem": b"\x00\x01 not a certificate",
        "expired.pem": pem(make_cert("Old", start=now - dt.timedelta(days=900), days=30)),
        "ca.pem": pem(make_cert("Root CA", ca=True)),
    }
    huge = tmp_path / "huge.cer"
    with huge.open("wb") as fh:
        fh.truncate(11 * 1024 * 1024)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    for path, expected in ((tmp_path / "garbage.pem", "not an X.509 certificate"),
                           (tmp_path / "expired.pem", "expired on"),
                           (tmp_path / "ca.pem", "certification-authority"),
                           (huge, "at most")):
        dialogs.reply("ask_open_path", path)
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
        text = dialog.message.text()
        assert expected in text and "\n" not in text and "Traceback" not in text
        assert cells(dialog) == []
    assert dialogs.messages == []  # said in the dialog, no modal box


def test_import_from_a_signed_pdf_then_remove_after_asking(
        qtbot, dialog, dialogs, tmp_path, signed) -> None:
    pdf, certificate = signed
    path = tmp_path / "vendor report.pdf"
    path.write_bytes(pdf)
    dialogs.reply("ask_open_path", path)
    qtbot.mouseClick(dialog.from_pdf_button, Qt.MouseButton.LeftButton)
    [row] = cells(dialog)
    assert "Vendor Reviewer" in row[0] and row[3] == sha256_colon(certificate)
    dialog.table.selectRow(0)
    dialogs.reply("ask_yes_no", False)  # "No": nothing removed
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert len(cells(dialog)) == 1
    dialogs.reply("ask_yes_no", True)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert cells(dialog) == [] and "no longer trusted" in dialog.message.text()
    asked = [args for name, args in dialogs.calls if name == "ask_yes_no"]
    assert sha256_colon(certificate) in asked[-1][1]


def test_preferences_opens_trusted_signers(qtbot, monkeypatch) -> None:
    from gui import errors
    from gui.context import AppContext
    from gui.dialogs import PreferencesDialog

    ctx = AppContext()
    prefs = PreferencesDialog(ctx)
    qtbot.addWidget(prefs)
    opened = []
    monkeypatch.setattr(errors, "run_modal", lambda d: opened.append(d) or 0)
    qtbot.mouseClick(prefs.trusted, Qt.MouseButton.LeftButton)
    assert isinstance(opened[0], TrustedSignersDialog)
    opened[0].deleteLater()
