"""Sign & export page and Verify dialog: identity, signed PDF in a worker, verification shown."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

import gui.errors
from assessment.document import Reviewer
from assessment.storage import load, save
from gui.context import AppContext
from gui.export import page as export_page
from gui.export.page import NewIdentity, SignExportPage
from gui.export.verify_dialog import VerifyDialog
from gui.main_window import demo_path

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def collect_garbage_on_ui_thread():
    """Collect this test's widget garbage on the UI thread. Left to chance, Python's cyclic GC
    can run inside a later test's worker thread and delete QObjects there (a segfault)."""
    yield
    gc.collect()


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    messages: list[str] = []
    monkeypatch.setattr(gui.errors, "show_message", lambda *a, **k: messages.append(a[2]))
    return messages


@pytest.fixture
def ctx(qtbot, tmp_path) -> AppContext:
    context = AppContext()
    # A complete assessment (the demo's answers): signing an incomplete one asks first, which
    # tests/gui/test_signing_prompts.py covers.
    doc = load(demo_path())
    reviewer = Reviewer(name="Dr Zoë Ångström", role="Methodologist",
                        organisation="Probity QA", email="z@example.org")
    for key, value in reviewer.to_json().items():
        doc.set_field("reviewer", key, value)
    doc.set_field("model_card", "model_name", "Readmission <30d & risk")
    path = tmp_path / "a.probity"
    save(doc, path)
    context.set_document(doc, path)
    yield context
    assert context.shutdown(20.0)


@pytest.fixture
def page(qtbot, ctx, monkeypatch) -> SignExportPage:
    monkeypatch.setattr(
        export_page, "ask_new_identity",
        lambda parent, defaults: NewIdentity(defaults["name"], defaults["role"],
                                             defaults["organisation"], defaults["email"],
                                             PASSPHRASE),
    )
    widget = SignExportPage(ctx)
    qtbot.addWidget(widget)
    return widget


def create_identity(qtbot, page: SignExportPage) -> Path:
    with qtbot.waitSignal(page.identity_created, timeout=30000) as blocker:
        page.create_button.click()
    return blocker.args[0]


def export(qtbot, page: SignExportPage, out: Path, passphrase: str, monkeypatch) -> None:
    monkeypatch.setattr(gui.errors, "ask_passphrase", lambda *a, **k: passphrase)
    page.export_signed_pdf(out)


def test_create_identity_and_export_verified_pdf(qtbot, page, tmp_path, monkeypatch, shown):
    assert page.title == "Sign & export" and not page.is_complete()
    assert not page.export_button.isEnabled()  # no identity yet
    identity = create_identity(qtbot, page)
    assert identity.exists() and identity.suffix == ".p12"
    assert page.selected_identity() == identity
    assert "Zoë" in page.identity_info.text()
    out = tmp_path / "report.pdf"
    with qtbot.waitSignal(page.exported, timeout=120000) as blocker:
        export(qtbot, page, out, PASSPHRASE, monkeypatch)
    outcome = blocker.args[0]
    assert outcome.path == out and out.read_bytes().startswith(b"%PDF-")
    assert outcome.verification.ok
    assert page.is_complete()
    view = page.verification
    assert view.model.columnCount() == 2  # facts + one signature
    assert [r["Signer"] for r in view.rows] == ["Dr Zoë Ångström"]
    assert view.rows[0]["Intact"] == "yes" and view.rows[0]["Trusted"] == "yes"
    assert view.model.frame()["Signature 1"].iat[0] == "Dr Zoë Ångström"
    assert view.banner.text().startswith("✔")
    # The saved .probity file is embedded byte for byte.
    import hashlib

    saved = (tmp_path / "a.probity").read_bytes()
    assert outcome.verification.assessment_sha256 == hashlib.sha256(saved).hexdigest()
    assert not shown


def test_wrong_passphrase_is_one_message_and_no_file(qtbot, page, tmp_path, monkeypatch,
                                                      shown):
    create_identity(qtbot, page)
    out = tmp_path / "nope.pdf"
    with qtbot.waitSignal(page.export_failed, timeout=60000):
        export(qtbot, page, out, "wrong passphrase!!", monkeypatch)
    assert not out.exists()
    assert len(shown) == 1 and "passphrase" in shown[0].lower()
    assert "Traceback" not in shown[0]
    assert not page.is_complete()
    assert page.export_button.isEnabled()


def test_verify_dialog_shows_signers_and_catches_tampering(qtbot, page, ctx, tmp_path,
                                                           monkeypatch, shown):
    create_identity(qtbot, page)
    out = tmp_path / "signed.pdf"
    with qtbot.waitSignal(page.exported, timeout=120000):
        export(qtbot, page, out, PASSPHRASE, monkeypatch)

    dialog = VerifyDialog(ctx)
    qtbot.addWidget(dialog)
    monkeypatch.setattr(gui.errors, "ask_open_path", lambda *a, **k: out)
    with qtbot.waitSignal(dialog.verified, timeout=60000) as blocker:
        dialog.open_button.click()
    result = blocker.args[0]
    assert result.ok and dialog.view.banner.text().startswith("✔")
    rows = dialog.view.rows
    assert [r["Signer"] for r in rows] == ["Dr Zoë Ångström"]
    assert rows[0]["Coverage"]
    assert "Embedded assessment" in dialog.view.details.text()

    tampered = tmp_path / "tampered.pdf"
    data = bytearray(out.read_bytes())
    data += b"\n% appended after signing\n"
    tampered.write_bytes(bytes(data))
    with qtbot.waitSignal(dialog.verified, timeout=60000) as blocker:
        dialog.verify(tampered)
    assert not blocker.args[0].ok
    assert dialog.view.banner.text().startswith("✖")

    not_pdf = tmp_path / "x.pdf"
    not_pdf.write_text("hello", encoding="utf-8")
    with qtbot.waitSignal(dialog.failed, timeout=60000):
        dialog.verify(not_pdf)
    assert shown and "not a PDF" in shown[-1]


def test_export_does_not_cancel_a_running_evaluation(qtbot, page, ctx, tmp_path, monkeypatch,
                                                     shown):
    """The export runs in the page's own task runner: another page's work keeps running."""
    import threading
    import time

    from PySide6.QtCore import QObject

    create_identity(qtbot, page)
    release = threading.Event()

    def long_task(progress, cancelled):
        end = time.monotonic() + 10
        while not cancelled() and not release.is_set() and time.monotonic() < end:
            time.sleep(0.01)
        return "evaluated"

    data_page = QObject()  # another owner, e.g. the Validation data page evaluating
    evaluation = ctx.task_runner(data_page).run(long_task)
    with qtbot.waitSignal(page.exported, timeout=120000) as blocker:
        export(qtbot, page, tmp_path / "r.pdf", PASSPHRASE, monkeypatch)
    assert blocker.args[0].verification.ok and (tmp_path / "r.pdf").exists()
    assert evaluation.is_running() and evaluation.state == "running"
    with qtbot.waitSignal(evaluation.succeeded, timeout=5000):
        release.set()
    assert not shown


def test_import_organisation_identity(qtbot, page, tmp_path, monkeypatch, shown):
    from reports.identity import create_identity

    issued = create_identity("Org Signer", b"org-passphrase-1", organisation="Hospital",
                             out=tmp_path / "issued.p12")
    monkeypatch.setattr(gui.errors, "ask_open_path", lambda *a, **k: issued)
    monkeypatch.setattr(gui.errors, "ask_passphrase", lambda *a, **k: "wrong-passphrase")
    page.import_button.click()
    assert shown and "passphrase" in shown[-1].lower()
    monkeypatch.setattr(gui.errors, "ask_passphrase", lambda *a, **k: "org-passphrase-1")
    page.import_button.click()
    assert page.selected_identity() is not None
    assert page.selected_identity().name == "issued.p12"
    assert "Org Signer" in page.identity_info.text() or "issued" in page.identity_info.text()
    assert page.export_button.isEnabled()


def test_export_button_click_asks_for_the_path_and_exports(qtbot, page, ctx, tmp_path,
                                                           monkeypatch, shown):
    """The real button, clicked: its clicked(bool) flag must not reach export_signed_pdf."""
    create_identity(qtbot, page)
    out = tmp_path / "clicked.pdf"
    monkeypatch.setattr(ctx, "ask_save_path", lambda *a, **k: out)
    monkeypatch.setattr(gui.errors, "ask_passphrase", lambda *a, **k: PASSPHRASE)
    with qtbot.waitSignal(page.exported, timeout=120000) as blocker:
        qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].path == out and blocker.args[0].verification.ok
    assert not shown
    qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
    dialogs = page.findChildren(VerifyDialog)
    assert len(dialogs) == 1 and dialogs[0].isVisible()
    dialogs[0].close()
