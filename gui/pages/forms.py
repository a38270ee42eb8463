"""Model card and datasheet pages, generated from the form instruments (model-card, datasheet).

Every field's editor follows its declared type; required fields are marked, guidance and the
field's source (Mitchell et al., FDA draft guidance, HTI-1, Gebru et al.) are shown with it.
The datasheet's demographics field is an editable table of counts per attribute and group.
"""

from __future__ import annotations

import datetime as _dt
from functools import partial
from typing import Any

from PySide6.QtCore import QRegularExpression, Qt, Slot
from PySide6.QtGui import QColor, QDoubleValidator, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from assessment.errors import DocumentError, ProbityError
from assessment.instruments import FormField
from gui.context import AppContext
from gui.pages.base import AssessmentPage
from gui.pages.ubr_editors import ChecklistEditor, UbrEditor
from gui.widgets import CommitLineEdit, CommitTextEdit, Heading, Note

BOOL_CHOICES = (("", None), ("Yes", True), ("No", False))
WIDE_TYPES = ("demographics", "ubr", "checklist")  # editors spanning both grid columns
NOT_SET = "— not set —"


def is_filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | dict):
        return bool(value)
    return True


class DemographicsTable(QTableWidget):
    """Counts per attribute and group; the share column is derived for display only."""

    COLUMNS = ("Attribute", "Group", "Count", "Share")

    def __init__(self, page: FormPage, field: FormField) -> None:
        super().__init__(0, len(self.COLUMNS))
        self.page = page
        self.field = field
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside it
        self.setAccessibleName(f"{field.label}: counts per group")
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(2, 110)
        header.resizeSection(3, 80)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.setMaximumWidth(680)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._rows: list[tuple[str, str]] = []
        self._extra: dict[str, list[str]] = {}  # groups added here, shown until a count is typed
        self.itemChanged.connect(self._item_changed)

    def add_group(self) -> None:
        """Add a group named as in the data (e.g. "[20-30)"), then edit its count."""
        labels = [a.label for a in self.field.attributes]
        picked = self.page.ctx.ask_item("Add a group", "Attribute:", labels, 0)
        if picked is None:
            return
        attribute = self.field.attributes[labels.index(picked)]
        name = self.page.ctx.ask_text(
            "Add a group", f"{attribute.label} group, named as in the validation data:")
        if name is None or not name.strip():
            return
        name = name.strip()
        if (attribute.id, name) not in self._rows:
            self._extra.setdefault(attribute.id, []).append(name)
            self.show_value(self.page.value(self.field.id))
        row = self._rows.index((attribute.id, name))
        self.setFocus()
        self.setCurrentCell(row, 2)  # the CurrentChanged edit trigger opens the count editor

    def rows(self) -> list[tuple[str, str]]:
        return list(self._rows)

    def show_value(self, value: Any) -> None:
        counts: dict[str, dict[str, Any]] = value if isinstance(value, dict) else {}
        rows: list[tuple[str, str, str]] = []
        for attribute in self.field.attributes:
            groups = list(attribute.groups)
            groups += [g for g in counts.get(attribute.id, {}) if g not in groups]
            groups += [g for g in self._extra.get(attribute.id, []) if g not in groups]
            rows += [(attribute.id, attribute.label, g) for g in groups]
        self.blockSignals(True)
        self.setRowCount(len(rows))
        self._rows = [(a, g) for a, _, g in rows]
        for r, (attr_id, attr_label, group) in enumerate(rows):
            attr_counts = counts.get(attr_id, {})
            count = attr_counts.get(group)
            total = sum(v for v in attr_counts.values() if isinstance(v, int | float))
            cells = (attr_label, group, "" if count is None else str(count),
                     f"{100 * count / total:.1f} %" if count is not None and total else "")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c != 2:
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                    if c == 3:
                        item.setForeground(QColor("#4a4a4a"))
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(r, c, item)
        self.blockSignals(False)
        height = self.horizontalHeader().height() + sum(
            self.rowHeight(r) for r in range(self.rowCount())) + 4
        self.setFixedHeight(height)  # the page scrolls; the table shows every group

    @Slot(QTableWidgetItem)
    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 2:
            return
        attr_id, group = self._rows[item.row()]
        text = item.text().strip().replace(" ", "").replace(",", "")
        current = self.page.value(self.field.id)
        counts = {a: dict(g) for a, g in current.items()} if isinstance(current, dict) else {}
        if text:
            if not text.isdigit():
                label = self.field.attribute(attr_id).label
                self.page.ctx.show_error(DocumentError(
                    f"The count for {label} = {group} must be a whole number of people "
                    f"(0 or more), not “{item.text()}”."))
                self.page.refresh_now()
                return
            counts.setdefault(attr_id, {})[group] = int(text)
        else:
            counts.get(attr_id, {}).pop(group, None)
        counts = {a: g for a, g in counts.items() if g}
        self.page.set_value(self.field.id, counts)


class FormPage(AssessmentPage):
    """A form instrument rendered as grouped, typed editors bound to one document section."""

    form_id = ""
    section = ""

    def __init__(self, ctx: AppContext) -> None:
        from assessment.instruments import load_form

        self.form = load_form(self.form_id)
        self.editors: dict[str, QWidget] = {}
        super().__init__(ctx)

    # --- building --------------------------------------------------------------------------------
    def build(self, layout: QVBoxLayout) -> None:
        form = self.form
        layout.addWidget(Heading(self.title))
        layout.addWidget(Note(f"{form.title} (version {form.version}). Fields marked * are "
                              "required. " + "; ".join(form.citation)))
        self.editors = {}
        for section in form.sections:
            box = QGroupBox(section.title)
            grid = QGridLayout(box)
            grid.setColumnStretch(1, 1)
            grid.setVerticalSpacing(6)
            row = 0
            if section.description:
                grid.addWidget(Note(section.description), row, 0, 1, 2)
                row += 1
            for field in section.fields:
                row = self._add_field(grid, row, field)
            layout.addWidget(box)

    def _add_field(self, grid: QGridLayout, row: int, field: FormField) -> int:
        label = QLabel(f"{field.label}{' *' if field.required else ''}")
        label.setWordWrap(True)
        label.setMinimumWidth(180)
        label.setMaximumWidth(260)
        label.setToolTip(field.guidance)
        editor = self._editor(field)
        editor.setToolTip(field.guidance)
        if not editor.accessibleName():
            editor.setAccessibleName(field.label)
        label.setBuddy(editor)
        self.editors[field.id] = editor
        if field.type in WIDE_TYPES:
            label.setMaximumWidth(16777215)  # spans the page: no need to wrap
            grid.addWidget(label, row, 0, 1, 2)
            row += 1
            grid.addWidget(editor, row, 0, 1, 2)
            row += 1
            if isinstance(editor, DemographicsTable):
                add = QPushButton("Add a group named as in the data…")
                add.setAccessibleName(f"{field.label}: add a group")
                add.clicked.connect(editor.add_group)
                grid.addWidget(add, row, 0, 1, 2, Qt.AlignmentFlag.AlignLeft)
        else:
            grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(editor, row, 1)
        row += 1
        hint = " ".join(p for p in (field.guidance, f"Source: {field.source}.") if p)
        note = Note(hint)
        note.setStyleSheet("QLabel { color: #5a5e66; font-size: 9pt; }")
        wide = field.type in WIDE_TYPES
        grid.addWidget(note, row, 0 if wide else 1, 1, 2 if wide else 1)
        return row + 1

    def _editor(self, field: FormField) -> QWidget:  # one branch per field type
        kind = field.type
        if kind == "multiline":
            edit = CommitTextEdit(lines=2)
            edit.committed.connect(partial(self.set_value, field.id))
            return edit
        if kind in ("text", "date", "number"):
            line = CommitLineEdit()
            if kind == "date":
                line.setPlaceholderText("YYYY-MM-DD")
                line.setValidator(QRegularExpressionValidator(
                    QRegularExpression(r"^$|^\d{0,4}(-\d{0,2}(-\d{0,2})?)?$")))
                line.committed.connect(partial(self._commit_date, field))
            elif kind == "number":
                line.setPlaceholderText(field.unit or "number")
                validator = QDoubleValidator()
                validator.setNotation(QDoubleValidator.Notation.StandardNotation)
                line.setValidator(validator)
                line.committed.connect(partial(self._commit_number, field))
            else:
                line.committed.connect(partial(self.set_value, field.id))
            return line
        if kind == "choice":
            combo = QComboBox()
            combo.addItem(NOT_SET, None)
            for option in field.options:
                combo.addItem(option, option)
            combo.activated.connect(partial(self._combo_chosen, field.id))
            return combo
        if kind == "bool":
            combo = QComboBox()
            for text, value in BOOL_CHOICES:
                combo.addItem(text or NOT_SET, value)
            combo.activated.connect(partial(self._combo_chosen, field.id))
            return combo
        if kind == "multichoice":
            holder = QWidget()
            holder.setAccessibleName(field.label)
            flow = QGridLayout(holder)
            flow.setContentsMargins(0, 0, 0, 0)
            boxes: list[QCheckBox] = []
            for index, option in enumerate(field.options):
                box = QCheckBox(option)
                box.setAccessibleName(f"{field.label}: {option}")
                box.clicked.connect(partial(self._commit_multi, field.id))
                flow.addWidget(box, index // 2, index % 2)
                boxes.append(box)
            holder.boxes = boxes  # type: ignore[attr-defined]
            return holder
        if kind == "demographics":
            return DemographicsTable(self, field)
        if kind == "ubr":
            return UbrEditor(self, field)
        if kind == "checklist":
            return ChecklistEditor(self, field)
        raise DocumentError(f"{self.form.title}: field '{field.id}' has unknown type '{kind}'.")

    # --- editing ---------------------------------------------------------------------------------
    def value(self, field_id: str) -> Any:
        data = self.ctx.doc.model_card if self.section == "model_card" else self.ctx.doc.datasheet
        return data.get(field_id)

    def set_value(self, field_id: str, value: Any) -> None:
        if isinstance(value, str) and not value.strip():
            value = ""
        try:
            self.ctx.doc.set_field(self.section, field_id, value)
        except ProbityError as exc:
            self.ctx.show_error(exc)
            self.refresh_now()

    def _combo_chosen(self, field_id: str, *_index: int) -> None:
        combo = self.editors[field_id]
        assert isinstance(combo, QComboBox)
        self.set_value(field_id, combo.currentData())

    def _commit_date(self, field: FormField, text: str) -> None:
        text = text.strip()
        if text:
            try:
                _dt.date.fromisoformat(text)
            except ValueError:
                self.ctx.show_error(DocumentError(
                    f"“{text}” is not a date for {field.label}; write it as YYYY-MM-DD."))
                self.refresh_now()
                return
        self.set_value(field.id, text)

    def _commit_number(self, field: FormField, text: str) -> None:
        text = text.strip().replace(",", ".")
        if not text:
            self.set_value(field.id, None)
            return
        try:
            number = float(text)
        except ValueError:
            self.ctx.show_error(DocumentError(
                f"“{text}” is not a number for {field.label}; type digits only."))
            self.refresh_now()
            return
        self.set_value(field.id, int(number) if number.is_integer() else number)

    def _commit_multi(self, field_id: str) -> None:
        holder = self.editors[field_id]
        chosen = [b.text() for b in holder.boxes if b.isChecked()]  # type: ignore[attr-defined]
        self.set_value(field_id, chosen)

    # --- state -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        data = self.ctx.doc.model_card if self.section == "model_card" else self.ctx.doc.datasheet
        for _, field in self.form.iter_fields():
            editor = self.editors.get(field.id)
            value = data.get(field.id)
            if isinstance(editor, CommitLineEdit | CommitTextEdit):
                editor.show_value("" if value is None else str(value))
            elif isinstance(editor, QComboBox):
                index = editor.findData(value)
                if index < 0 and value is not None:  # a value outside the options: keep it visible
                    editor.addItem(str(value), value)
                    index = editor.count() - 1
                editor.setCurrentIndex(max(index, 0))
            elif isinstance(editor, DemographicsTable | UbrEditor | ChecklistEditor):
                editor.show_value(value)
            elif editor is not None and hasattr(editor, "boxes"):
                chosen = set(value) if isinstance(value, list) else set()
                for box in editor.boxes:
                    box.setChecked(box.text() in chosen)

    def missing_required(self) -> list[str]:
        data = self.ctx.doc.model_card if self.section == "model_card" else self.ctx.doc.datasheet
        return [f.label for _, f in self.form.iter_fields()
                if f.required and not is_filled(data.get(f.id))]

    def is_complete(self) -> bool:
        return not self.missing_required()


class ModelCardPage(FormPage):
    title = "Model card"
    form_id = "model-card"
    section = "model_card"


class DatasheetPage(FormPage):
    title = "Training data (datasheet)"
    form_id = "datasheet"
    section = "datasheet"

