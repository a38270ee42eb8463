"""Datasheet editors for the under-represented (All of Us UBR characteristics: collected with
counts, or not collected) and for the ML-friendly dataset checklist. The items come from
``assessment.ubr`` (data), the values are written through the page's ``set_value``."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QWidget

from assessment.errors import DocumentError
from assessment.instruments import FormField
from assessment.ubr import catalogue
from gui.widgets import CommitLineEdit

if TYPE_CHECKING:
    from gui.pages.forms import FormPage

NOT_ANSWERED = "— not answered —"
STATUS = ((NOT_ANSWERED, None), ("Collected", True), ("Not collected", False))


class UbrEditor(QWidget):
    """One row per UBR characteristic: status, participants recorded, of them under-represented."""

    def __init__(self, page: FormPage, field: FormField) -> None:
        super().__init__()
        self.page, self.field = page, field
        self.setAccessibleName(field.label)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for col, text in enumerate(("Characteristic", "Status", "Recorded (n)",
                                    "Under-represented (n)")):
            head = QLabel(f"<b>{text}</b>")
            grid.addWidget(head, 0, col)
        self.status: dict[str, QComboBox] = {}
        self.known: dict[str, CommitLineEdit] = {}
        self.ubr: dict[str, CommitLineEdit] = {}
        for row, item in enumerate(catalogue().ubr.items, start=1):
            label = QLabel(f"{item.label} <span style='color:#5a5e66'>— under-represented: "
                           f"{item.text}</span>")
            label.setWordWrap(True)
            label.setToolTip(f"Under-represented: {item.text}")
            grid.addWidget(label, row, 0)
            combo = QComboBox()
            combo.setAccessibleName(f"{item.label}: collected?")
            for text, value in STATUS:
                combo.addItem(text, value)
            combo.activated.connect(partial(self._commit, item.id))
            grid.addWidget(combo, row, 1)
            self.status[item.id] = combo
            for col, (store, what) in enumerate(((self.known, "recorded"),
                                                 (self.ubr, "under-represented")), start=2):
                edit = CommitLineEdit()
                edit.setValidator(QIntValidator(0, 2_000_000_000))
                edit.setPlaceholderText("count")
                edit.setAccessibleName(f"{item.label}: participants {what}")
                edit.setToolTip(f"Under-represented: {item.text}")
                edit.committed.connect(partial(self._commit, item.id))
                grid.addWidget(edit, row, col)
                store[item.id] = edit
        grid.setColumnStretch(0, 1)

    def _commit(self, item_id: str, *_args: Any) -> None:
        value = dict(self.page.value(self.field.id) or {})
        collected = self.status[item_id].currentData()
        known, ubr = self._count(self.known[item_id]), self._count(self.ubr[item_id])
        if collected is None and known is None and ubr is None:
            value.pop(item_id, None)
        else:
            if collected is None and (known is not None or ubr is not None):
                collected = True  # typing a count says it was collected
            value[item_id] = {"collected": collected,
                              "known_n": known if collected else None,
                              "ubr_n": ubr if collected else None}
            if known is not None and ubr is not None and ubr > known:
                label = catalogue().ubr.label(item_id)
                self.page.ctx.show_error(DocumentError(
                    f"{label}: {ubr} under-represented participants is more than the {known} "
                    "with it recorded; correct one of the two counts."))
                self.page.refresh_now()
                return
        self.page.set_value(self.field.id, value)

    @staticmethod
    def _count(edit: CommitLineEdit) -> int | None:
        text = edit.text().strip()
        return int(text) if text.isdigit() else None

    def show_value(self, value: Any) -> None:
        answers = value if isinstance(value, dict) else {}
        for item_id, combo in self.status.items():
            raw = answers.get(item_id)
            a: dict[str, Any] = raw if isinstance(raw, dict) else {}
            combo.blockSignals(True)
            combo.setCurrentIndex(max(combo.findData(a.get("collected")), 0))
            combo.blockSignals(False)
            collected = a.get("collected") is not False
            for store, key in ((self.known, "known_n"), (self.ubr, "ubr_n")):
                n = a.get(key)
                store[item_id].show_value("" if n is None else str(n))
                store[item_id].setEnabled(collected)


class ChecklistEditor(QWidget):
    """One answer (yes, partly, no, unclear) per ML-friendly dataset criterion."""

    def __init__(self, page: FormPage, field: FormField) -> None:
        super().__init__()
        self.page, self.field = page, field
        self.setAccessibleName(field.label)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        cat = catalogue()
        self.combos: dict[str, QComboBox] = {}
        for row, item in enumerate(cat.checklist.items):
            label = QLabel(item.label)
            label.setToolTip(item.text)
            combo = QComboBox()
            combo.setAccessibleName(f"{item.label}: met?")
            combo.setToolTip(item.text)
            combo.addItem(NOT_ANSWERED, None)
            for answer in cat.answers:
                combo.addItem(answer, answer)
            combo.activated.connect(partial(self._commit, item.id))
            label.setBuddy(combo)
            grid.addWidget(label, row, 0)
            grid.addWidget(combo, row, 1)
            self.combos[item.id] = combo
        grid.setColumnStretch(0, 1)

    def _commit(self, item_id: str, *_args: Any) -> None:
        value = dict(self.page.value(self.field.id) or {})
        answer = self.combos[item_id].currentData()
        if answer is None:
            value.pop(item_id, None)
        else:
            value[item_id] = answer
        self.page.set_value(self.field.id, value)

    def show_value(self, value: Any) -> None:
        answers = value if isinstance(value, dict) else {}
        for item_id, combo in self.combos.items():
            combo.blockSignals(True)
            combo.setCurrentIndex(max(combo.findData(answers.get(item_id)), 0))
            combo.blockSignals(False)
