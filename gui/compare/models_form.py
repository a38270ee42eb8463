"""The Comparison page's model table: one row per model with its kind and operating point.

Name, column (``COL`` of the data file or ``FILE:COL``), kind (probability / raw score /
predicted class), threshold (the vendor's stated operating point; a raw score needs one, a
predicted class has none) and, for a predicted class, the value meaning "flagged". A model
from its own file (``FILE:COL``) is joined to the data file on the Key column under the table
(``--key``). The rows
become the ``compare`` command line's own options
(:func:`assessment.compare.model_form.model_argv`), so every check is the CLI's. Suggestions
(:func:`assessment.compare.model_form.suggest_model`) fill the kind and a raw score's threshold
and say why under the table; the reviewer changes any of them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from assessment.compare.model_form import KIND_LABELS, FormModel, KindSuggestion

COLUMNS = ["Name", "Column (or FILE:COLUMN)", "Kind", "Threshold", "Flagged value (class)"]
NAME, COLUMN, KIND, THRESHOLD, POSITIVE = range(5)
_EDITABLE = Qt.ItemFlag.ItemIsEditable
_NOT_FOR = {THRESHOLD: "A predicted class has no threshold.",
            POSITIVE: "Only a predicted class has a flagged value."}


class ModelTable(QWidget):
    """Editable rows of models; ``rows()`` reads them, ``set_rows()`` replaces them."""

    def __init__(self) -> None:
        super().__init__()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        header = self.table.horizontalHeaderItem(COLUMN)
        if header is not None:
            header.setToolTip("A column of the data file, or FILE:COLUMN for a model in its own "
                              "file (joined on the Key column below the table).")
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(130)
        self.table.horizontalHeader().setStretchLastSection(True)
        for col, width in ((NAME, 150), (COLUMN, 210), (KIND, 210), (THRESHOLD, 80)):
            self.table.setColumnWidth(col, width)
        lay.addWidget(self.table)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add model")
        self.add_button.clicked.connect(lambda: self.add_row())
        self.remove_button = QPushButton("Remove model")
        self.remove_button.clicked.connect(self.remove_selected)
        self.suggest_button = QPushButton("Suggest kinds from the data")
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.suggest_button)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        key_row = QHBoxLayout()
        key_row.addWidget(QLabel("Key column (models from their own files):"))
        self.key_edit = QLineEdit()
        self.key_edit.setPlaceholderText("the patient identifier the data file and every "
                                         "model's file share, e.g. encounter_id")
        self.key_edit.setToolTip("Needed when a model comes from its own file (FILE:COLUMN): "
                                 "every file has one row per patient with this identifier.")
        key_row.addWidget(self.key_edit, 1)
        lay.addLayout(key_row)
        self.suggestions = QLabel("")
        self.suggestions.setWordWrap(True)
        lay.addWidget(self.suggestions)
        self.add_row()
        self.add_row()

    # --- rows ------------------------------------------------------------------------------
    def add_row(self, model: FormModel | None = None) -> int:
        m = model or FormModel("", "")
        r = self.table.rowCount()
        self.table.insertRow(r)
        for col, text in ((NAME, m.name), (COLUMN, m.column), (THRESHOLD, m.threshold),
                          (POSITIVE, m.positive)):
            self.table.setItem(r, col, QTableWidgetItem(text))
        box = QComboBox()
        for kind, label in KIND_LABELS.items():
            box.addItem(label, kind)
        box.currentIndexChanged.connect(lambda _i, b=box: self._kind_changed(b))
        self.table.setCellWidget(r, KIND, box)
        self.set_kind(r, m.kind)
        return r

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for r in rows or [self.table.rowCount() - 1]:
            if r >= 0:
                self.table.removeRow(r)

    def set_rows(self, models: list[FormModel], key: str = "") -> None:
        self.table.setRowCount(0)
        self.key_edit.setText(key)
        for m in models:
            self.add_row(m)
        self.suggestions.setText("")

    def kind_box(self, r: int) -> QComboBox:
        box = self.table.cellWidget(r, KIND)
        assert isinstance(box, QComboBox)
        return box

    def set_kind(self, r: int, kind: str) -> None:
        box = self.kind_box(r)
        box.setCurrentIndex(max(0, box.findData(kind)))
        self._enable_cells(r, kind)

    def _kind_changed(self, box: QComboBox) -> None:
        for r in range(self.table.rowCount()):
            if self.table.cellWidget(r, KIND) is box:
                self._enable_cells(r, str(box.currentData()))

    def _enable_cells(self, r: int, kind: str) -> None:
        """A predicted class has no threshold, only the other kinds none of a flagged value;
        the cell that does not apply is greyed (its text is kept, and ignored)."""
        for col, applies in ((THRESHOLD, kind != "class"), (POSITIVE, kind == "class")):
            item = self.table.item(r, col)
            if item is None:
                continue
            flags = item.flags()
            item.setFlags(flags | _EDITABLE if applies else flags & ~_EDITABLE)
            item.setBackground(QBrush() if applies
                               else self.palette().brush(QPalette.ColorRole.Window))
            item.setToolTip("" if applies else _NOT_FOR[col])

    def _text(self, r: int, col: int) -> str:
        item = self.table.item(r, col)
        return "" if item is None else item.text()

    def rows(self) -> list[FormModel]:
        return [
            FormModel(self._text(r, NAME), self._text(r, COLUMN),
                      str(self.kind_box(r).currentData()), self._text(r, THRESHOLD),
                      self._text(r, POSITIVE))
            for r in range(self.table.rowCount())
        ]

    def key(self) -> str:
        """The Key column joining models from their own files (``--key``), as typed."""
        return self.key_edit.text()

    # --- suggestions -------------------------------------------------------------------------
    def apply_suggestions(self, found: dict[int, KindSuggestion]) -> None:
        """Set each suggested kind (and a raw score's threshold when its cell is empty) and
        list the reasons under the table."""
        lines = []
        for r, s in sorted(found.items()):
            if r >= self.table.rowCount():
                continue
            if s.kind is not None:
                self.set_kind(r, s.kind)
            item = self.table.item(r, THRESHOLD)
            if s.kind == "score" and s.threshold is not None and item is not None \
                    and not item.text().strip():
                item.setText(f"{s.threshold:g}")
            lines.append(s.sentence)
        self.suggestions.setText("\n".join(lines))
