"""A widget that shows a :class:`reports.verify.VerificationResult` as a reviewer reads it.

Shared by the Sign & export page (the check right after signing) and the Verify dialog. The
verdict itself comes from ``reports.verify``; this only lays it out: one banner, one row per
signature (signer, time, fingerprint, intact, coverage, trusted, problems) and the embedded
assessment's SHA-256.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from gui.data.table_model import DataFrameModel

OK_STYLE = ("background: #E3F4E8; color: #14532D; border: 1px solid #9BD3AE; "
            "border-radius: 4px; padding: 6px;")
BAD_STYLE = ("background: #FBE3E1; color: #7F1D1D; border: 1px solid #E8A29B; "
             "border-radius: 4px; padding: 6px;")
COLUMNS = ("Signer", "Signing time", "Certificate SHA-256", "Intact", "Coverage", "Trusted",
           "Certification", "Problems")


def _yes(v: bool) -> str:
    return "yes" if v else "NO"


def signature_rows(result: Any) -> list[dict[str, str]]:
    rows = []
    for s in result.signatures:
        rows.append({
            "Signer": s.signer or s.subject,
            "Signing time": s.signing_time or "(not stated)",
            "Certificate SHA-256": s.fingerprint,
            "Intact": _yes(s.intact),
            "Coverage": s.coverage,
            "Trusted": _yes(s.trusted),
            "Certification": "certifying" if s.certification else "approval",
            "Problems": "; ".join(s.problems),
        })
    return rows


class VerificationView(QWidget):
    """Banner + signatures table + embedded-assessment line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: Any = None
        self.rows: list[dict[str, str]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.banner = QLabel("")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setVisible(False)
        self.model = DataFrameModel(
            parent=self,
            foreground=lambda r, c: self._cell_colour(r, c),
        )
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setWordWrap(False)
        self.table.setAccessibleName("Signatures")
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.banner)
        layout.addWidget(self.table)
        layout.addWidget(self.details)
        layout.addStretch(1)

    def _cell_colour(self, row: int, column: int) -> Any:
        from PySide6.QtGui import QColor

        frame = self.model.frame()
        if frame is None or column == 0:
            return None
        value = frame.iat[row, column]
        if value == "NO" or (COLUMNS[row] == "Problems" and value):
            return QColor("#9B1C1C")
        return None

    def clear(self) -> None:
        self.result = None
        self.rows = []
        self.banner.setVisible(False)
        self.model.set_frame(None)
        self.details.setText("")

    def show_result(self, result: Any) -> None:
        import pandas as pd

        self.result = result
        n = len(result.signatures)
        if result.ok:
            text = (f"✔ Valid: {n} signature{'s' if n != 1 else ''}, intact, covering the file, "
                    "from trusted signers.")
            self.banner.setStyleSheet(OK_STYLE)
        else:
            failing = [s for s in result.signatures if not s.ok]
            reasons = "; ".join(result.all_problems) or "see the table"
            text = (f"✖ Not valid: {len(failing)} of {n} signatures fail ({reasons})."
                    if failing else f"✖ Not valid: {reasons}.")
            self.banner.setStyleSheet(BAD_STYLE)
        warnings = list(getattr(result, "warnings", []))
        if warnings:
            text += "".join(f"\n⚠ Warning: {w}." for w in warnings)
        self.banner.setText(text)
        self.banner.setVisible(True)
        self.rows = signature_rows(result)
        # One column per signature, one row per fact: a full fingerprint stays readable and a
        # countersigned report reads side by side.
        frame = pd.DataFrame(
            {"": list(COLUMNS),
             **{f"Signature {i}": [row[c] for c in COLUMNS]
                for i, row in enumerate(self.rows, start=1)}}
        )
        self.model.set_frame(frame)
        self.model.fit_columns(self.table, max_width=560)
        self.table.setFixedHeight(self.table.horizontalHeader().height()
                                  + 22 * len(COLUMNS) + 2 * self.table.frameWidth() + 2)
        embedded = (f"Embedded assessment: {result.assessment_name} "
                    f"(SHA-256 {result.assessment_sha256})"
                    if result.assessment_name
                    else "No assessment file is embedded: this is not a Probity report.")
        changes = "".join(f"\n{line}" for line in [*result.changes,
                                                     *(f"Warning: {w}" for w in warnings)])
        self.details.setText(
            f"{result.source} — {result.revisions} revision(s), file SHA-256 "
            f"{result.file_sha256}\n{embedded}{changes}"
        )
