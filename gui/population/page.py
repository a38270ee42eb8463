"""Reference population & group labels: the figures representativeness is compared with.

The reference population comes from a bundled table (with its citation and year), a CSV file,
or the table typed here; its source is stored with it and printed in the report. The group-label
map says which datasheet category each value of the evaluated data counts as (suggested from
normalised names and a synonym table; unmapped values are shown and not compared). Both are
document state (``Assessment.reference_population`` / ``_source``, ``group_maps``); the next
evaluation run uses them.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
)

from assessment.errors import ProbityError
from assessment.evaluation.cli import read_distribution
from assessment.evaluation.group_map_rows import document_map_rows, with_suggestions
from assessment.populations import available, describe_source, load_population, normalised
from gui.pages.base import AssessmentPage
from gui.population.tables import GroupMapTable, PopulationTable
from gui.widgets import Heading, Note

CSV_FILTER = "CSV files (*.csv *.txt);;All files (*)"


class PopulationPage(AssessmentPage):
    title = "Reference population & group labels"

    # --- building --------------------------------------------------------------------------------
    def build(self, layout: QVBoxLayout) -> None:
        layout.addWidget(Heading(self.title))
        layout.addWidget(Note(
            "Representativeness compares each group's share of the validation data with the "
            "training cohort (datasheet) and with this reference population. The group-label "
            "map says which datasheet category each data value counts as; re-run the "
            "evaluation after changing either."))

        box = QGroupBox("Reference population")
        col = QVBoxLayout(box)
        row = QHBoxLayout()
        self.bundled = QComboBox()
        self.bundled.setAccessibleName("Bundled reference tables")
        for pid, title in available():
            self.bundled.addItem(title, pid)
        self.use_bundled = QPushButton("Use this table")
        self.use_bundled.clicked.connect(self._use_bundled)
        self.import_csv = QPushButton("Import CSV…")
        self.import_csv.setToolTip("Columns attribute,group,proportion (or percent, or count)")
        self.import_csv.clicked.connect(self._import_csv)
        self.clear = QPushButton("Clear")
        self.clear.clicked.connect(self._clear)
        for w in (self.bundled, self.use_bundled, self.import_csv, self.clear):
            row.addWidget(w)
        row.addStretch(1)
        col.addLayout(row)
        self.source_note = Note("")
        col.addWidget(self.source_note)
        self.table = PopulationTable(self._commit_population, self.ctx.show_error)
        col.addWidget(self.table)
        edit_row = QHBoxLayout()
        self.add_row = QPushButton("Add a row")
        self.add_row.clicked.connect(self.table.add_row)
        self.remove_row = QPushButton("Remove selected rows")
        self.remove_row.clicked.connect(self.table.remove_selected)
        edit_row.addWidget(self.add_row)
        edit_row.addWidget(self.remove_row)
        edit_row.addStretch(1)
        col.addLayout(edit_row)
        self.totals_note = Note("")
        col.addWidget(self.totals_note)
        layout.addWidget(box)

        mbox = QGroupBox("Group-label map (data value → datasheet category)")
        mcol = QVBoxLayout(mbox)
        self.map_note = Note("")
        mcol.addWidget(self.map_note)
        self.map_table = GroupMapTable(self._choose_category)
        mcol.addWidget(self.map_table)
        mrow = QHBoxLayout()
        self.suggest = QPushButton("Fill in suggestions for unmapped values")
        self.suggest.clicked.connect(self._fill_suggestions)
        self.to_data = QPushButton("Go to Validation data to re-run")
        self.to_data.clicked.connect(lambda: self.ctx.navigate_requested.emit("data"))
        mrow.addWidget(self.suggest)
        mrow.addWidget(self.to_data)
        mrow.addStretch(1)
        mcol.addLayout(mrow)
        layout.addWidget(mbox)

    # --- reference population ----------------------------------------------------------------
    def _use_bundled(self) -> None:
        pid = self.bundled.currentData()
        if pid is None:
            return
        try:
            pop = load_population(str(pid))
        except ProbityError as exc:
            self.ctx.show_error(exc)
            return
        self.ctx.doc.set_reference_population(pop.shares())
        self.ctx.doc.set_reference_population_source(pop.source_record())
        self.ctx.show_status(f"Reference population: {pop.title}")

    def _import_csv(self) -> None:
        folder = str(self.ctx.path.parent) if self.ctx.path else ""
        path = self.ctx.ask_open_path("Import a reference population", CSV_FILTER, folder)
        if path is None:
            return
        try:
            population = normalised(read_distribution(path, "reference population"), path.name)
        except ProbityError as exc:
            self.ctx.show_error(exc)
            return
        self.ctx.doc.set_reference_population(population)
        self.ctx.doc.set_reference_population_source(
            {"id": "csv", "title": f"CSV file {path.name}", "edited": False})

    def _clear(self) -> None:
        self.ctx.doc.set_reference_population({})
        self.ctx.doc.set_reference_population_source({})

    def _commit_population(self, population: dict[str, dict[str, float]]) -> None:
        doc = self.ctx.doc
        if population == doc.reference_population:
            return
        doc.set_reference_population(population)
        source = doc.reference_population_source
        if source and not source.get("edited"):
            doc.set_reference_population_source({**source, "edited": True})

    # --- group-label map ---------------------------------------------------------------------
    def _choose_category(self, attribute: str, value: str, category: str | None) -> None:
        maps = self.ctx.doc.group_maps
        entry = maps.setdefault(attribute, {})
        if category is None:
            entry.pop(value, None)
        else:
            entry[value] = category
        self.ctx.doc.set_group_maps(maps)

    def _fill_suggestions(self) -> None:
        rows = document_map_rows(self.ctx.doc)
        filled = with_suggestions(self.ctx.doc.group_maps, rows)
        if filled != self.ctx.doc.group_maps:
            self.ctx.doc.set_group_maps(filled)

    # --- state -------------------------------------------------------------------------------
    def refresh(self) -> None:
        doc = self.ctx.doc
        population = doc.reference_population
        self.table.show_population(population)
        self.source_note.setText(
            "Source: " + describe_source(doc.reference_population_source)
            if population else "No reference population: the “Reference share” column stays "
            "empty. Choose a bundled table, import a CSV, or add rows.")
        totals = [f"{a}: {100 * sum(g.values()):.1f} %" for a, g in population.items()]
        off = [a for a, g in population.items() if not 0.98 <= sum(g.values()) <= 1.02]
        self.totals_note.setText(
            ("Totals per attribute: " + "; ".join(totals)
             + (f". {', '.join(off)} must add up to 100 % before the evaluation can use it."
                if off else ".")) if population else "")
        rows = document_map_rows(doc)
        self.map_table.show_rows(rows)
        unmapped = [r for r in rows if r.category is None]
        if not rows:
            self.map_note.setText(
                "No evaluated data yet: run the evaluation once on the Validation data page; "
                "its attributes and values appear here to be mapped.")
        else:
            hint = sum(1 for r in unmapped if r.suggestion)
            wrong = [r.problem for r in rows if r.problem]
            self.map_note.setText(
                f"{len(rows)} data values; {len(unmapped)} unmapped (shown but not compared)"
                + (f", {hint} with a suggestion." if hint else ".")
                + "".join(f" ⚠ {p[0].upper()}{p[1:]}." for p in wrong))
        self.suggest.setEnabled(any(r.suggestion for r in unmapped))

    def is_complete(self) -> bool:
        """A reference population is set and no unmapped value has a suggestion waiting (values
        no category fits, e.g. COMPAS's own age bands, are the reviewer's call)."""
        doc = self.ctx.doc
        return bool(doc.reference_population) and not any(
            r.category is None and r.suggestion for r in document_map_rows(doc))


__all__ = ["PopulationPage"]
