"""Editable tables of the population page: reference shares, and the group-label map."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
)

from assessment.errors import DocumentError
from assessment.evaluation.group_map import UNMAPPED_LABEL as UNMAPPED
from assessment.evaluation.group_map_rows import MapRow


class PopulationTable(QTableWidget):
    """Attribute, group, share (%) rows; an edited share is committed through ``on_commit``."""

    COLUMNS = ("Attribute", "Group", "Share (%)")

    def __init__(self, on_commit: Callable[[dict[str, dict[str, float]]], None],
                 on_error: Callable[[BaseException], None]) -> None:
        super().__init__(0, len(self.COLUMNS))
        self.on_commit, self.on_error = on_commit, on_error
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAccessibleName("Reference population shares")
        self.setMinimumHeight(220)
        self.itemChanged.connect(self._changed)

    def show_population(self, population: dict[str, dict[str, float]]) -> None:
        self.blockSignals(True)
        rows = [(a, g, p) for a, groups in population.items() for g, p in groups.items()]
        self.setRowCount(len(rows))
        for i, (attr, group, share) in enumerate(rows):
            self.setItem(i, 0, QTableWidgetItem(attr))
            self.setItem(i, 1, QTableWidgetItem(group))
            self.setItem(i, 2, QTableWidgetItem(f"{100 * share:.2f}"))
        self.blockSignals(False)

    def add_row(self) -> None:
        self.blockSignals(True)
        row = self.rowCount()
        self.insertRow(row)
        for col in range(3):
            self.setItem(row, col, QTableWidgetItem(""))
        self.blockSignals(False)
        self.setCurrentCell(row, 0)
        first = self.item(row, 0)
        if first is not None:
            self.editItem(first)

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.selectedIndexes()}, reverse=True)
        for row in rows:
            self.removeRow(row)
        if rows:
            self._changed()

    def population(self) -> dict[str, dict[str, float]]:
        """The table's rows as {attribute: {group: proportion}}; incomplete rows are skipped.

        Raises DocumentError naming the row for a share that is not a number in [0, 100] or a
        group listed twice."""
        out: dict[str, dict[str, float]] = {}
        for row in range(self.rowCount()):
            items = [self.item(row, c) for c in range(3)]
            cells = [i.text().strip() if i is not None else "" for i in items]
            attr, group, text = cells
            if not (attr and group and text):
                continue
            try:
                share = float(text.replace(",", ".").rstrip("%"))
            except ValueError:
                raise DocumentError(
                    f"Row {row + 1}: “{text}” is not a share; type a percentage such as 12.5."
                ) from None
            if not 0 <= share <= 100:
                raise DocumentError(f"Row {row + 1}: a share must be between 0 and 100 %.")
            if group in out.setdefault(attr, {}):
                raise DocumentError(f"Row {row + 1}: {attr} = {group} is listed twice.")
            out[attr][group] = share / 100
        return out

    def _changed(self, *_args: object) -> None:
        try:
            population = self.population()
        except DocumentError as exc:
            self.on_error(exc)
            return
        self.on_commit(population)


class GroupMapTable(QTableWidget):
    """One row per data value: its count and a category chooser (or unmapped)."""

    COLUMNS = ("Data attribute", "Data value", "Rows", "Datasheet category")

    def __init__(self, on_choose: Callable[[str, str, str | None], None]) -> None:
        super().__init__(0, len(self.COLUMNS))
        self.on_choose = on_choose
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAccessibleName("Group-label map")
        self.setMinimumHeight(220)
        self.combos: dict[tuple[str, str], QComboBox] = {}

    def show_rows(self, rows: list[MapRow]) -> None:
        self.setRowCount(len(rows))
        self.combos = {}
        for i, r in enumerate(rows):
            for col, text in enumerate((r.attribute, r.value, f"{r.n:,}")):
                self.setItem(i, col, QTableWidgetItem(text))
            combo = QComboBox()
            combo.setAccessibleName(f"{r.attribute} = {r.value}: datasheet category")
            combo.addItem(UNMAPPED, None)
            for c in r.categories:
                combo.addItem(c, c)
            index = combo.findData(r.category) if r.category is not None else 0
            combo.setCurrentIndex(max(index, 0))
            if r.problem:  # the map names a category the datasheet lacks: say so, in place
                combo.insertItem(1, f"⚠ {r.wrong_category}: not a datasheet category", None)
                combo.setCurrentIndex(1)
                combo.setToolTip(r.problem[0].upper() + r.problem[1:] + ".")
                combo.setStyleSheet("QComboBox { color: #B00020; }")
            elif r.category is None and r.suggestion:
                combo.setToolTip(f"Suggested: {r.suggestion}")
            combo.activated.connect(partial(self._chosen, r.attribute, r.value))
            self.setCellWidget(i, 3, combo)
            self.combos[r.attribute, r.value] = combo

    def _chosen(self, attribute: str, value: str, *_args: object) -> None:
        combo = self.combos[attribute, value]
        self.on_choose(attribute, value, combo.currentData())
