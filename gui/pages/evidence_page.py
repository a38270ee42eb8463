"""The Evidence step: the PDFs the reviewer assessed, attached by SHA-256 beside the .probity.

Attach with the button or by dropping PDFs on the page. Copying, hashing and checking a file
(``assessment.evidence.prepare``: PDFium in a time-limited child process) run in a worker; the
listing itself is one audited, undoable change. Each row shows the title (editable), the file,
pages, the SHA-256 and whether the stored copy is intact (re-checked in a worker whenever the
list or the file changes). Show opens the side viewer; Locate puts a missing or changed copy
back from the original file; Remove takes a document off the list (undo brings it back).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from assessment import evidence
from assessment.catalogue import EVIDENCE_STATE_LABELS
from assessment.errors import ProbityError
from gui.context import AppContext
from gui.evidence.viewer import show_source
from gui.pages.base import AssessmentPage
from gui.tasks import IsCancelled, Progress, TaskRunner
from gui.widgets import Heading, Note

COLUMNS = ("Title", "File", "Pages", "SHA-256", "Stored copy")
PDF_FILTER = "PDF documents (*.pdf);;All files (*)"
STATE_COLOURS = {evidence.OK: "#135e2b", evidence.CHANGED: "#8c1d18",
                 evidence.MISSING: "#8c1d18", evidence.UNSAVED: "#6b4a00"}


def dropped_files(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]


class EvidencePage(AssessmentPage):
    title = "Evidence documents"

    def __init__(self, ctx: AppContext) -> None:
        self.statuses: dict[str, evidence.EvidenceStatus] = {}
        self._checked_for: tuple[object, ...] | None = None
        self._runner: TaskRunner | None = None
        super().__init__(ctx)
        self.setAcceptDrops(True)
        ctx.file_changed.connect(self._file_changed)

    # --- building ------------------------------------------------------------------------------
    def build(self, layout: QVBoxLayout) -> None:
        layout.addWidget(Heading("Evidence documents"))
        layout.addWidget(Note(
            "The documents you assessed: the vendor's submission, the paper, its supplement. "
            "Each is stored by its SHA-256 in a folder beside the assessment file (never inside "
            "it) and listed in the report; cite them from the signalling questions (Cite) by "
            "page and quoted passage. PDF files only; drop them here or use Attach."))
        buttons = QHBoxLayout()
        self.attach_button = QPushButton("Attach PDF…")
        self.attach_button.clicked.connect(self.choose_files)
        self.show_button = QPushButton("Show")
        self.show_button.clicked.connect(self.show_selected)
        self.locate_button = QPushButton("Locate…")
        self.locate_button.setToolTip("Choose the original file of a missing or changed copy")
        self.locate_button.clicked.connect(self.locate_selected)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        for button in (self.attach_button, self.show_button, self.locate_button,
                       self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Evidence documents")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.table.setMinimumHeight(220)
        self.table.itemChanged.connect(self._item_changed)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        layout.addWidget(self.table)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        self.status_line = QLabel()  # the stored copies' state, apart from the last action's
        self.status_line.setWordWrap(True)
        self.status_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status_line)

    @property
    def runner(self) -> TaskRunner:
        """This page's task runner (made on first use: the base class refreshes while it is
        still being constructed)."""
        if self._runner is None:
            self._runner = self.ctx.task_runner(self)
        return self._runner

    # --- state ---------------------------------------------------------------------------------
    def is_complete(self) -> bool:
        docs = evidence.documents(self.ctx.doc)
        return bool(docs) and all(
            self.statuses.get(d.sha256, None) is not None
            and self.statuses[d.sha256].state == evidence.OK for d in docs)

    def needs_attention(self) -> bool:
        return any(s.state in (evidence.CHANGED, evidence.MISSING)
                   for s in self.statuses.values())

    def refresh(self) -> None:
        docs = evidence.documents(self.ctx.doc)
        selected = self.selected_hash()
        self.table.blockSignals(True)
        self.table.setRowCount(len(docs))
        for row, entry in enumerate(docs):
            title = QTableWidgetItem(entry.title)
            title.setData(Qt.ItemDataRole.UserRole, entry.sha256)
            title.setToolTip("Double-click the title to rename; double-click elsewhere to show")
            cells = [title, QTableWidgetItem(entry.file_name), QTableWidgetItem(str(entry.pages)),
                     QTableWidgetItem(entry.short_hash + "…"), QTableWidgetItem("Checking…")]
            cells[3].setToolTip(entry.sha256)
            cells[3].setData(Qt.ItemDataRole.AccessibleTextRole, entry.sha256)
            for column, item in enumerate(cells):
                if column:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, item)
            self._show_status(row, self.statuses.get(entry.sha256))
            if entry.sha256 == selected:
                self.table.selectRow(row)
        self.table.blockSignals(False)
        if not docs:
            self.message.setText("No document attached yet." if self.ctx.path is not None else
                                 "Save the assessment first: attached documents are stored in "
                                 "a folder beside its file.")
        self._update_buttons()
        self._check_statuses(docs)

    def _show_status(self, row: int, status: evidence.EvidenceStatus | None) -> None:
        item = self.table.item(row, 4)
        if item is None:
            return
        if status is None:
            item.setText("Checking…")
            return
        item.setText(EVIDENCE_STATE_LABELS[status.state])
        item.setToolTip(status.message or "The stored copy has the recorded SHA-256.")
        item.setForeground(QColor(STATE_COLOURS[status.state]))

    def _check_statuses(self, docs: list[evidence.EvidenceDocument]) -> None:
        key = (self.ctx.path, tuple(d.sha256 for d in docs))
        if key == self._checked_for:
            return
        self._checked_for = key
        path = self.ctx.path

        def check(_progress: Progress, cancelled: IsCancelled
                  ) -> dict[str, evidence.EvidenceStatus]:
            return {d.sha256: evidence.status(path, d, cancelled) for d in docs}

        self.runner.run(check, self._statuses_checked, lane="status", quiet=True)

    def _statuses_checked(self, statuses: dict[str, evidence.EvidenceStatus]) -> None:
        self.statuses = statuses
        problems = [s.message for s in statuses.values() if s.state != evidence.OK]
        self.status_line.setText(" ".join(problems) if problems else
                                 f"{len(statuses)} document(s); every stored copy is intact."
                                 if statuses else "")
        self.status_line.setStyleSheet("QLabel { color: #8c1d18; }" if problems else "")
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None:
                self._show_status(row, statuses.get(str(item.data(Qt.ItemDataRole.UserRole))))

    def recheck(self) -> None:
        """Check the stored copies again (after Locate, or when the reviewer asks)."""
        self._checked_for = None
        self.statuses = {}
        self.refresh_now()

    @Slot()
    def _file_changed(self) -> None:
        self.recheck()

    def selected_hash(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _update_buttons(self) -> None:
        chosen = self.selected_hash() is not None
        for button in (self.show_button, self.locate_button, self.remove_button):
            button.setEnabled(chosen)

    # --- commands ------------------------------------------------------------------------------
    @Slot()
    def choose_files(self) -> None:
        path = self.ctx.ask_open_path("Attach an evidence document", PDF_FILTER)
        if path is not None:
            self.attach_files([path])

    def attach_files(self, paths: list[Path]) -> None:
        """Copy, hash and check the files in a worker; list the good ones, name the others."""
        if self.ctx.path is None and self.ctx.save_document is not None and self.ctx.ask_yes_no(
                "Attach evidence", "Evidence documents are stored in a folder beside the "
                "assessment file. Save the assessment now?", default_yes=True):
            self.ctx.save_document()
        probity_path, known = self.ctx.path, evidence.by_hash(self.ctx.doc)
        if probity_path is None:
            self.message.setText("Save the assessment first: attached documents are stored in "
                                 "a folder beside its file.")
            return
        self.message.setText(f"Checking {len(paths)} file(s)…")

        def work(progress: Progress, cancelled: IsCancelled
                 ) -> list[evidence.Prepared | ProbityError]:
            out: list[evidence.Prepared | ProbityError] = []
            for i, source in enumerate(paths):
                if cancelled():
                    break
                try:
                    out.append(evidence.prepare(probity_path, source, known))
                except ProbityError as exc:
                    out.append(exc)
                progress((i + 1) / len(paths))
            return out

        self.runner.run(work, self._attached, lane="attach")

    def _attached(self, outcomes: list[evidence.Prepared | ProbityError]) -> None:
        added, already, failed = [], [], []
        for outcome in outcomes:
            if isinstance(outcome, ProbityError):
                failed.append(outcome.message)
            elif evidence.add(self.ctx.doc, outcome):
                added.append(outcome.entry.title)
            else:
                already.append(outcome.entry.title)
        parts = []
        if added:
            parts.append(f"Attached {', '.join(f'“{t}”' for t in added)}.")
        if already:
            parts.append(f"Already attached: {', '.join(f'“{t}”' for t in already)}.")
        parts += failed
        self.message.setText(" ".join(parts))
        if failed:
            self.ctx.inform("Attach evidence", "\n".join(failed))
        self._checked_for = None
        self.refresh_now()

    @Slot()
    def show_selected(self) -> None:
        sha = self.selected_hash()
        if sha is not None:
            show_source(self.ctx, sha, 1)

    @Slot(int, int)
    def _double_clicked(self, row: int, column: int) -> None:
        if column:
            self.table.selectRow(row)
            self.show_selected()

    @Slot()
    def locate_selected(self) -> None:
        sha = self.selected_hash()
        if sha is None:
            return
        path = self.ctx.ask_open_path("Locate the original document", PDF_FILTER)
        if path is None:
            return
        try:
            evidence.relocate(self.ctx.doc, self.ctx.path, sha, path)
        except ProbityError as exc:
            self.ctx.show_error(exc)
            return
        self.ctx.show_status("The original is back in the evidence folder.", 6000)
        self.recheck()

    @Slot()
    def remove_selected(self) -> None:
        sha = self.selected_hash()
        if sha is None:
            return
        cited = evidence.cited_by(self.ctx.doc, sha)
        if cited and not self.ctx.ask_yes_no(
                "Remove evidence document",
                f"{len(cited)} answer(s) cite this document ({', '.join(cited[:6])}). Their "
                "sources keep its name and page but can no longer open it. Remove it?"):
            return
        self.apply_change(lambda: evidence.remove(self.ctx.doc, sha))

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        sha = str(item.data(Qt.ItemDataRole.UserRole))
        self.apply_change(lambda: evidence.rename(self.ctx.doc, sha, item.text()))

    def apply_change(self, change: Callable[[], None]) -> None:
        try:
            change()
        except ProbityError as exc:
            self.ctx.show_error(exc)
            QTimer.singleShot(0, self.refresh_now)

    # --- drag and drop -------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if dropped_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = dropped_files(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        # Leave the drag-and-drop handler before a question may open.
        QTimer.singleShot(0, lambda: self.attach_files(paths))
