"""Summary & judgement: a traffic-light overview of every domain, the overall judgements,
what is still open, and the reviewer's notes. Everything shown comes from ``judge(doc)``.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from assessment.judgement import Judgement
from gui.pages.base import AssessmentPage
from gui.pages.probast import domain_complete
from gui.widgets import LEVEL_COLOURS, CommitTextEdit, Heading, LevelChip, Note, level_text
from reports.model import report_warnings

COLUMNS = ("Domain", "Answered", "Suggested", "Final", "Applicability", "Status")


class SummaryPage(AssessmentPage):
    title = "Summary & judgement"

    def build(self, layout: QVBoxLayout) -> None:
        doc = self.ctx.doc
        layout.addWidget(Heading(self.title))
        layout.addWidget(Note(
            f"{doc.instrument.title}. Overall judgements are computed from the domains "
            "(worst of low < unclear < high); they are never typed. Double-click a domain, "
            "or select it and press Enter, to open it."))

        self.overall_box = QGroupBox("Overall judgement")
        self.overall_grid = QGridLayout(self.overall_box)
        self.overall_grid.setColumnStretch(2, 1)
        layout.addWidget(self.overall_box)
        self.overall_chips: dict[str, LevelChip] = {}
        self.overall_notes: dict[str, QLabel] = {}

        self.prompts = Note()
        self.prompts.setObjectName("prompts")
        self.prompts.setStyleSheet(
            "QLabel { color: #6b4a00; background: #fff6dc; border: 1px solid #e0c068;"
            " border-radius: 4px; padding: 8px; }")
        layout.addWidget(self.prompts)

        self.warnings = Note()
        self.warnings.setObjectName("signingWarnings")
        self.warnings.setAccessibleName("Before signing")
        self.warnings.setStyleSheet(self.prompts.styleSheet())
        layout.addWidget(self.warnings)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("domainTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTabKeyNavigation(False)
        self.table.setAccessibleName("Domain judgements")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(self._open_row)
        self.table.activated.connect(lambda index: self._open_row(index.row(), 0))
        layout.addWidget(self.table)

        self.problems_box = QGroupBox("Still to do")
        problems_layout = QVBoxLayout(self.problems_box)
        self.problems = QLabel()
        self.problems.setObjectName("problems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.RichText)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems.setAccessibleName("Open items")
        problems_layout.addWidget(self.problems)
        layout.addWidget(self.problems_box)

        self.evaluation_note = Note()
        self.evaluation_note.setObjectName("evaluationSummary")
        eval_box = QGroupBox("Subgroup evaluation")
        eval_layout = QVBoxLayout(eval_box)
        eval_layout.addWidget(self.evaluation_note)
        layout.addWidget(eval_box)

        notes_box = QGroupBox("Reviewer notes")
        notes_layout = QVBoxLayout(notes_box)
        self.notes = CommitTextEdit(lines=5)
        self.notes.setAccessibleName("Reviewer notes")
        self.notes.setPlaceholderText("Notes for the report: context, limitations, conflicts of "
                                      "interest, anything the reader should know.")
        self.notes.committed.connect(lambda text: self.ctx.doc.set_notes(text))
        notes_layout.addWidget(self.notes)
        layout.addWidget(notes_box)
        self._row_keys: list[str] = []

    @Slot(int, int)
    def _open_row(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._row_keys):
            self.ctx.navigate_requested.emit(f"domain:{self._row_keys[row]}")

    # --- state -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        doc = self.ctx.doc
        levels = dict(doc.instrument.levels)
        judgement = self.ctx.judgement()
        self._fill_overall(judgement, levels)
        from assessment.ubr import findings as ubr_findings  # UBR "not collected" (represent)

        prompts = [*judgement.prompts, *ubr_findings(doc.datasheet)]
        self.prompts.setText("\n\n".join(prompts))
        self.prompts.setVisible(bool(prompts))
        warnings = report_warnings(doc)
        self.warnings.setText("Before signing:\n" + "\n".join(f"⚠ {t}" for t in warnings)
                              if warnings else "")
        self.warnings.setVisible(bool(warnings))
        several = len({d.part for d in judgement.domains}) > 1
        parts = {p.id: p.label for p in doc.instrument.parts}
        self.table.setRowCount(len(judgement.domains))
        self._row_keys = []
        for row, d in enumerate(judgement.domains):
            self._row_keys.append(d.key)
            name = f"{parts[d.part]}: {d.domain} {d.name}" if several else f"{d.domain} {d.name}"
            status = ("Complete" if domain_complete(d) else
                      "Rationale missing" if d.rationale_missing else
                      "Needs your decision" if d.needs_decision else
                      f"{len(d.unanswered)} unanswered" if d.unanswered else
                      "Rate applicability" if d.has_applicability and d.applicability is None
                      else "Open")
            final_text = level_text(d.final, levels) + (" (override)" if d.final_is_override
                                                        else "")
            cells = [(name, None), (f"{d.answered} / {d.applicable}", None),
                     (level_text(d.suggested, levels), d.suggested),
                     (final_text, d.final),
                     (level_text(d.applicability, levels) if d.has_applicability else "n/a",
                      d.applicability if d.has_applicability else None),
                     (status, None)]
            for column, (text, level) in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (2, 3, 4) and (level is not None or text != "n/a"):
                    fg, bg = LEVEL_COLOURS.get(level, LEVEL_COLOURS[None])
                    item.setBackground(QBrush(QColor(bg)))
                    item.setForeground(QBrush(QColor(fg)))
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if column == 5 and text != "Complete":
                    item.setForeground(QBrush(QColor("#8c1d18")))
                self.table.setItem(row, column, item)
        height = self.table.horizontalHeader().height() + sum(
            self.table.rowHeight(r) for r in range(self.table.rowCount())) + 6
        self.table.setFixedHeight(height)

        self.open_items = list(judgement.problems)
        if self.open_items:
            self.problems.setText("<ul style='margin-left: -20px'>" + "".join(
                f"<li style='margin-bottom: 4px'>{html.escape(p)}</li>"
                for p in self.open_items) + "</ul>")
        else:
            self.problems.setText("Nothing left: every applicable question is answered and "
                                  "every judgement is made.")
        self.evaluation_note.setText(self._evaluation_text())
        self.notes.show_value(doc.notes)

    def _fill_overall(self, judgement: Judgement, levels: dict[str, str]) -> None:
        ids = [o.id for o in judgement.overall]
        if list(self.overall_chips) != ids:
            while self.overall_grid.count():
                item = self.overall_grid.takeAt(0)
                widget = item.widget() if item is not None else None
                if widget is not None:
                    widget.deleteLater()
            self.overall_chips, self.overall_notes = {}, {}
            for row, overall in enumerate(judgement.overall):
                label = QLabel(f"{overall.label}:")
                chip = LevelChip()
                chip.setObjectName(f"overall_{overall.id}")
                note = Note()
                self.overall_grid.addWidget(label, row, 0)
                self.overall_grid.addWidget(chip, row, 1)
                self.overall_grid.addWidget(note, row, 2)
                self.overall_chips[overall.id], self.overall_notes[overall.id] = chip, note
            if not judgement.overall:
                self.overall_grid.addWidget(Note("Choose the study type to see the overall "
                                                 "judgements."), 0, 0)
        for overall in judgement.overall:
            self.overall_chips[overall.id].set_level(overall.value)
            text = ("provisional: the assessment is not complete yet" if overall.provisional
                    else "")
            if overall.value is None:
                text = "not decided yet"
            self.overall_notes[overall.id].setText(text)

    def _evaluation_text(self) -> str:
        record = self.ctx.doc.evaluation
        result = record.result if record is not None else None
        if record is None or result is None:
            return "No subgroup evaluation yet: run one on the Validation data page."
        rows_read = result.provenance.get("rows_read", "?")
        warned = [g for g in result.groups if g.flags]
        return (f"Evaluated on {record.file_name or 'validation data'} "
                f"({result.rows_used} rows used of {rows_read}): "
                f"{len(result.groups)} groups, {len(result.flagged())} disparities flagged, "
                f"{len(warned)} groups with warnings. Details on the Subgroup results page.")

    def is_complete(self) -> bool:
        return self.ctx.judgement().complete

    def level(self) -> str | None:
        values = [o.value for o in self.ctx.judgement().overall if o.axis != "applicability"]
        return values[0] if len(values) == 1 else None
