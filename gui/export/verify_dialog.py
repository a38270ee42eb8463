"""Verify dialog: open any Probity report and show signers, integrity, coverage and trust.

Verification (``reports.verify.verify_file``) runs in a worker: pyHanko's validation of a large
report takes longer than a frame. The dialog only lays the result out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.export.verify_view import VerificationView

PDF_FILTER = "PDF reports (*.pdf);;All files (*)"


class VerifyDialog(QDialog):
    """Modeless-capable dialog; ``verify(path)`` checks a file, ``choose_file`` asks for one."""

    verified = Signal(object)  # VerificationResult
    failed = Signal(object)  # exception

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.path: Path | None = None
        self.result: Any = None
        self.tasks = ctx.task_runner(self)  # its own: it cancels nobody else's work
        self.setWindowTitle("Verify a signed report")
        self.resize(900, 420)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.open_button = QPushButton("&Open report…")
        self.open_button.clicked.connect(self.choose_file)
        self.file_label = QLabel("Choose a PDF report to check its signatures.")
        self.file_label.setWordWrap(True)
        row.addWidget(self.open_button)
        row.addWidget(self.file_label, 1)
        layout.addLayout(row)
        self.view = VerificationView()
        layout.addWidget(self.view, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.finished.connect(self._stop)

    def choose_file(self) -> None:
        path = self.ctx.ask_open_path("Verify a signed report", PDF_FILTER)
        if path is not None:
            self.verify(Path(path))

    def verify(self, path: Path) -> None:
        self.path = target = Path(path)
        self.view.clear()
        self.file_label.setText(f"Checking {target.name}…")
        self.open_button.setEnabled(False)

        def work(progress: Any, cancelled: Any) -> Any:
            from reports.verify import verify_file

            return verify_file(target)

        self.tasks.run(work, self._done, on_error=self._failed, on_cancelled=self._cancelled)

    def _done(self, result: Any) -> None:
        self.result = result
        self.open_button.setEnabled(True)
        self.file_label.setText(str(self.path))
        self.view.show_result(result)
        self.verified.emit(result)

    def _failed(self, exc: BaseException) -> None:
        self.open_button.setEnabled(True)
        message = getattr(exc, "message", None) or str(exc)
        self.file_label.setText(f"{self.path.name if self.path else 'The file'}: {message}")
        self.failed.emit(exc)
        self.ctx.show_error(exc)

    def _cancelled(self) -> None:
        self.open_button.setEnabled(True)

    def _stop(self, *_: Any) -> None:
        """Closing the dialog drops a running check (the worker returns on its own)."""
        self.tasks.cancel()
