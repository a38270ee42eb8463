"""File › Open of a signed PDF: verify it in the background, show the verdict, then show its
embedded assessment read-only with "Save a copy".

The rules live in :mod:`reports.received` (verify, refuse an unverified report's assessment
unless the reviewer chooses, name the copy); this dialog only lays them out. The assessment is
never saved over the report: "Save a copy…" writes a new ``.probity`` file, and
``on_open_copy(path)`` (given by the main window) may then open that copy for editing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from assessment.errors import ProbityError
from gui import errors
from gui.tasks import TaskRunner

PROBITY_FILTER = "Probity assessments (*.probity)"
READ_ONLY_NOTE = ("Read-only: this is the assessment inside the signed report. Save a copy to "
                  "work on it; the report itself is never changed.")


class ReceivedReportDialog(QDialog):
    """Verify ``path`` (started at once) and show the result and the embedded assessment."""

    opened = Signal(object)  # reports.received.ReceivedReport

    def __init__(
        self,
        path: Path,
        parent: QWidget | None = None,
        on_open_copy: Callable[[Path], Any] | None = None,
    ) -> None:
        from gui.export.verify_view import VerificationView

        super().__init__(parent)
        self.path = Path(path)
        self.on_open_copy = on_open_copy
        self.data: bytes | None = None
        self.result: Any = None
        self.received: Any = None
        self.tasks = TaskRunner(self, on_error=self._failed)
        self.setWindowTitle(f"Received report — {self.path.name}")
        self.resize(940, 680)
        layout = QVBoxLayout(self)
        self.status = QLabel(f"Checking the signatures of {self.path.name}…")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.status)
        self.view = VerificationView()
        layout.addWidget(self.view, 2)
        self.open_anyway = QPushButton("Open its assessment &anyway")
        self.open_anyway.setToolTip("The report does not verify: look at its assessment knowing "
                                    "it may have been changed or signed by someone untrusted")
        self.open_anyway.clicked.connect(lambda: self.show_assessment(allow_unverified=True))
        self.open_anyway.hide()
        self.trust_button = QPushButton("&Trust this signer…")
        self.trust_button.setToolTip("Add the signer's certificate to your trusted signers "
                                     "(Preferences › Trusted signers), then check again")
        self.trust_button.clicked.connect(self.trust_signers)
        self.trust_button.hide()
        row = QHBoxLayout()
        row.addWidget(self.open_anyway)
        row.addWidget(self.trust_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.read_only = QLabel(READ_ONLY_NOTE)
        self.read_only.setWordWrap(True)
        self.read_only.hide()
        layout.addWidget(self.read_only)
        self.document_view = QTextBrowser()
        self.document_view.setOpenLinks(False)
        self.document_view.setReadOnly(True)
        self.document_view.setAccessibleName("Received assessment (read-only)")
        self.document_view.hide()
        layout.addWidget(self.document_view, 3)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_copy_button = buttons.addButton(
            "&Save a copy…", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_copy_button.setEnabled(False)
        self.save_copy_button.clicked.connect(self.save_copy)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.finished.connect(lambda *_: self.tasks.cancel())
        self._start()

    # --- verification (background) ------------------------------------------------------------
    def _start(self) -> None:
        target = self.path

        def work(progress: Any, cancelled: Any) -> Any:
            from reports.received import read_received, verify_received

            data = read_received(target)
            return data, verify_received(data, source=target.name)

        self.tasks.run(work, self._verified)

    def _verified(self, outcome: tuple[bytes, Any]) -> None:
        self.data, self.result = outcome
        self.view.show_result(self.result)
        if self.result.ok:
            self.status.setText(f"{self.path.name}: every signature verifies.")
            self.show_assessment()
        else:
            from reports.received import unverified_sentence

            self.status.setText(unverified_sentence(self.result))
            self.open_anyway.show()
            # only untrusted is wrong (intact, valid, covering): trusting is the reviewer's call
            untrusted = [c for c in self.result.signatures if c.sound and not c.trusted]
            only_trust = not self.result.problems and all(
                c.sound and c.certificate_ok for c in self.result.signatures)
            self.trust_button.setVisible(bool(untrusted) and only_trust)

    def _failed(self, exc: BaseException) -> None:
        message = exc.message if isinstance(exc, ProbityError) else errors.user_message(exc)
        self.status.setText(message)

    def trust_signers(self) -> bool:
        """After the reviewer confirms the fingerprints, trust the report's signers and check
        the report again. True when something was trusted."""
        from reports.trust_store import certificates_from_bytes, trust_certificates

        if self.data is None or self.result is None:
            return False
        names = "\n".join(f"{c.signer or c.subject}: SHA-256 {c.fingerprint}"
                          for c in self.result.signatures if not c.trusted)
        if not errors.ask_yes_no(
            self, "Trust this signer",
            f"Trust reports signed by:\n{names}\n\nCompare the fingerprint with the signer "
            "(by phone or in person) first: anyone can make a certificate with any name.",
        ):
            return False
        try:
            trust_certificates(certificates_from_bytes(self.data, source=self.path.name),
                               source=self.path.name)
        except ProbityError as exc:
            self.status.setText(exc.message)
            return False
        self.trust_button.hide()
        self.open_anyway.hide()
        self.view.clear()
        self.status.setText(f"Checking the signatures of {self.path.name} again…")
        self._start()
        return True

    # --- the embedded assessment --------------------------------------------------------------
    def show_assessment(self, allow_unverified: bool = False) -> bool:
        from gui.received.summary import assessment_html
        from reports.received import embedded_assessment

        if self.data is None or self.result is None:
            return False
        try:
            self.received = embedded_assessment(
                self.data, self.result, allow_unverified=allow_unverified)
        except ProbityError as exc:
            self.status.setText(exc.message)
            return False
        self.open_anyway.hide()
        if self.received.opened_unverified:
            self.read_only.setText("NOT VERIFIED — opened at your request. " + READ_ONLY_NOTE)
        self.read_only.show()
        self.document_view.setHtml(assessment_html(self.received.document))
        self.document_view.show()
        self.save_copy_button.setEnabled(True)
        self.opened.emit(self.received)
        return True

    def save_copy(self) -> Path | None:
        from assessment import storage
        from reports.received import copy_name

        if self.received is None:
            return None
        suggested = str(self.path.parent / copy_name(self.path, self.received.document.title))
        out = errors.ask_save_path(self, "Save a copy of the received assessment",
                                   PROBITY_FILTER, suggested)
        if out is None:
            return None
        if out.suffix.lower() != ".probity":
            out = out.with_name(out.name + ".probity")
        if out.resolve() == self.path.resolve():
            self.status.setText("Choose another name: the copy may not replace the report.")
            return None
        try:
            storage.save(self.received.document, out)
        except (ProbityError, OSError) as exc:
            self.status.setText(errors.user_message(exc))
            return None
        self.status.setText(f"Saved a copy as {out}.")
        if self.on_open_copy is not None:
            self.on_open_copy(out)
        return out
