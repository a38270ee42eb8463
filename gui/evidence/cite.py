"""Citing an attached evidence document from one answer slot: document, page, quoted passage.

Each slot's "Cite" button opens a menu: "Cite an evidence document…" (a dialog: document,
page, optional quote, with a preview in the side viewer) and one "Show" entry per cited
source, which opens the side viewer at that page with the quote highlighted. The new source is
added to the slot's sources through the document's own method (audited, undoable).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assessment import evidence
from assessment.document import Assessment, SourceRef
from assessment.errors import ProbityError
from gui.context import AppContext
from gui.evidence.viewer import show_source

CITE_KEY = "Ctrl+Shift+C"


class SlotPage(Protocol):
    ctx: AppContext

    def apply(self, change: Callable[[Assessment], None]) -> None: ...


def show_ref(ctx: AppContext, ref: SourceRef) -> None:
    """Open the side viewer at a source (its page, its quote)."""
    show_source(ctx, ref.evidence, evidence.page_number(ref), ref.quote)


class CiteDialog(QDialog):
    """Document, page and quote of a new source (window-modal, non-blocking: ``open()``)."""

    def __init__(self, ctx: AppContext, documents: list[evidence.EvidenceDocument],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.documents = documents
        self.setWindowTitle("Cite an evidence document")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.document = QComboBox()
        for entry in documents:
            self.document.addItem(f"{entry.title} ({entry.pages} pages)", entry.sha256)
        self.document.currentIndexChanged.connect(self._document_chosen)
        self.page = QSpinBox()
        self.page.setMinimum(1)
        self.quote = QPlainTextEdit()
        self.quote.setPlaceholderText("Optional: paste the passage that supports the answer")
        self.quote.setFixedHeight(90)
        form.addRow("Document", self.document)
        form.addRow("Page", self.page)
        form.addRow("Quoted text", self.quote)
        layout.addLayout(form)
        self.preview = QPushButton("Show in viewer")
        self.preview.clicked.connect(self.show_preview)
        layout.addWidget(self.preview)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("QLabel { color: #8c1d18; }")
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept_if_valid)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.result_ref: SourceRef | None = None
        self._document_chosen()

    def entry(self) -> evidence.EvidenceDocument:
        return self.documents[max(0, self.document.currentIndex())]

    @Slot()
    def _document_chosen(self) -> None:
        self.page.setMaximum(max(1, self.entry().pages))

    def source(self) -> SourceRef:
        return evidence.evidence_ref(self.entry(), self.page.value(), self.quote.toPlainText())

    @Slot()
    def show_preview(self) -> None:
        show_ref(self.ctx, self.source())

    @Slot()
    def _accept_if_valid(self) -> None:
        try:
            self.result_ref = self.source()
        except ProbityError as exc:
            self.problem.setText(exc.message)
            return
        self.accept()


class CiteButton(QToolButton):
    """The per-slot source menu: cite a document, show each cited source."""

    def __init__(self, page: SlotPage, key: str, accessible: str) -> None:
        super().__init__()
        self.page = page
        self.key = key
        self.setText("Cite")
        self.setAccessibleName(f"{accessible}: cite or show evidence")
        self.setToolTip("Cite an attached evidence document (page and quote), or show a cited one")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        # Not a tab stop (a slot stays three: answer, rationale, source); from the keyboard the
        # menu opens with CITE_KEY in the slot's source field.
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        # One width whatever the count, so the source fields of a page line up.
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("Cite (99)") + 24)
        self.menu_ = QMenu(self)
        self.menu_.aboutToShow.connect(self.fill_menu)
        self.setMenu(self.menu_)
        self.dialog: CiteDialog | None = None

    def add_shortcut(self, field: QWidget) -> None:
        """CITE_KEY in ``field`` (the slot's source text) opens this menu."""
        shortcut = QShortcut(QKeySequence(CITE_KEY), field, lambda: self.showMenu())
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        field.setToolTip(f"Free text: document, page. {CITE_KEY} cites an attached document.")

    def cited(self) -> list[SourceRef]:
        return [s for s in self.page.ctx.doc.answer(self.key).sources if s.evidence]

    def show_count(self, sources: tuple[SourceRef, ...]) -> None:
        linked = sum(1 for s in sources if s.evidence)
        self.setText(f"Cite ({linked})" if linked else "Cite")

    @Slot()
    def fill_menu(self) -> None:
        self.menu_.clear()
        doc = self.page.ctx.doc
        docs = evidence.documents(doc)
        cite = QAction("Cite an evidence document…" if docs else
                       "Cite: attach documents on the Evidence step first", self.menu_)
        cite.setEnabled(bool(docs))
        cite.triggered.connect(self.open_dialog)
        self.menu_.addAction(cite)
        table = evidence.by_hash(doc)
        refs = self.cited()
        if refs:
            self.menu_.addSeparator()
        for ref in refs:
            label = evidence.source_label(ref, table)
            action = QAction(f"Show: {label[:90]}{'…' if len(label) > 90 else ''}", self.menu_)
            action.setToolTip(label)
            action.triggered.connect(lambda _=False, ref=ref: show_ref(self.page.ctx, ref))
            self.menu_.addAction(action)

    @Slot()
    def open_dialog(self) -> CiteDialog | None:
        docs = evidence.documents(self.page.ctx.doc)
        if not docs:
            return None
        self.dialog = CiteDialog(self.page.ctx, docs, self.window())
        self.dialog.accepted.connect(self._cited)
        self.dialog.open()
        return self.dialog

    @Slot()
    def _cited(self) -> None:
        dialog = self.dialog
        if dialog is None or dialog.result_ref is None:
            return
        ref = dialog.result_ref
        self.page.apply(lambda doc: doc.set_answer_sources(
            self.key, [*doc.answer(self.key).sources, ref]))
        self.dialog = None
        dialog.deleteLater()
