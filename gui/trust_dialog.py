"""Preferences › Trusted signers: the colleagues whose signatures this reviewer trusts.

A thin view over :mod:`reports.trust_store` (which owns every rule): it lists subject, issuer,
SHA-256 fingerprint and validity of each trusted certificate, imports a certificate file or the
signers of a signed PDF, and removes one after asking. A refused file is named in one sentence
in the dialog itself (never a traceback, never a lost list).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from assessment.errors import ProbityError
from gui import errors

CERT_FILTER = "Certificates (*.cer *.crt *.pem *.der);;All files (*)"
PDF_FILTER = "Signed reports (*.pdf)"
COLUMNS = ("Subject", "Issuer", "Validity", "SHA-256 fingerprint")


class TrustedSignersDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Trusted signers")
        self.resize(1180, 440)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Reports signed by these people verify as trusted on this computer. Import a "
            "colleague's certificate (.cer, .crt or .pem), or take it from a report they "
            "signed; compare the fingerprint with them (by phone, in person) before trusting it."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.setAccessibleName("Trusted signer certificates")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table, 1)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        self.import_button = QPushButton("&Import certificate…")
        self.import_button.clicked.connect(self.import_certificate)
        self.from_pdf_button = QPushButton("From a signed &PDF…")
        self.from_pdf_button.clicked.connect(self.import_from_pdf)
        self.remove_button = QPushButton("&Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.remove_button.setEnabled(False)
        for button in (self.import_button, self.from_pdf_button, self.remove_button):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.fingerprints: list[str] = []
        self.refresh()

    # --- view --------------------------------------------------------------------------------
    def refresh(self) -> None:
        from reports.trust_store import list_trusted

        listing = list_trusted()
        self.table.setRowCount(len(listing.certificates))
        self.fingerprints = []
        for row, info in enumerate(listing.certificates):
            cells = (info.subject or "(no subject)", info.issuer or "(no issuer)",
                     info.status(), info.fingerprint)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
            self.fingerprints.append(info.fingerprint)
        self.table.resizeColumnsToContents()
        for column in (0, 1):
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), 300))
        if listing.unreadable:
            self.say("Some files in the trusted store cannot be read and are ignored: "
                     + "; ".join(listing.unreadable))
        self._selection_changed()

    def say(self, text: str) -> None:
        self.message.setText(text)

    def _selection_changed(self) -> None:
        self.remove_button.setEnabled(self.selected_fingerprint() is not None)

    def selected_fingerprint(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        index = rows[0].row()
        return self.fingerprints[index] if 0 <= index < len(self.fingerprints) else None

    # --- commands ----------------------------------------------------------------------------
    def import_certificate(self) -> None:
        path = errors.ask_open_path(self, "Import a signer's certificate", CERT_FILTER)
        if path is not None:
            self.import_path(path)

    def import_from_pdf(self) -> None:
        path = errors.ask_open_path(self, "Trust the signers of a report", PDF_FILTER)
        if path is not None:
            self.import_path(path)

    def import_path(self, path: Path) -> bool:
        """Import ``path``; True when something was trusted. Refusals are said in the dialog."""
        from reports.trust_store import import_trusted

        try:
            infos = import_trusted(path)
        except ProbityError as exc:
            self.say(exc.message)
            return False
        self.refresh()
        names = ", ".join(i.subject for i in infos)
        self.say(f"Trusted {len(infos)} certificate(s) from {path.name}: {names}.")
        for row, fp in enumerate(self.fingerprints):
            if fp == infos[-1].fingerprint:
                self.table.selectRow(row)
        return True

    def remove_selected(self) -> None:
        from reports.trust_store import remove_trusted

        fp = self.selected_fingerprint()
        if fp is None:
            return
        item = self.table.item(self.fingerprints.index(fp), 0)
        subject = item.text() if item is not None else fp
        if not errors.ask_yes_no(
            self, "Remove trusted signer",
            f"Stop trusting {subject}?\nSHA-256 {fp}\nReports they signed will then verify "
            "as not trusted on this computer.",
        ):
            return
        remove_trusted(fp)
        self.refresh()
        self.say(f"{subject} is no longer trusted.")
