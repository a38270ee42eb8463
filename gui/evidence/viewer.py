"""The side viewer: an attached evidence PDF at a page, with a quoted passage highlighted.

One viewer window per main window (:func:`viewer_for`), placed beside it. Opening a source
first re-checks the stored copy's SHA-256 (a worker of the page's task runner), then renders the
page with PDFium (``assessment.evidence_pdf``, same runner, lane ``render``); the quote is found
with PDFium's text search and painted over the page. A copy that changed since it was attached
is shown with a red sentence saying so; a missing one is not shown, the sentence says what to do.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt, Slot
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QKeySequence,
    QPainter,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assessment import evidence
from assessment.evidence_pdf import QuoteMatch, RenderedPage, find_quote, render_page
from gui.context import AppContext
from gui.tasks import IsCancelled, Progress

ZOOMS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)
POINTS_TO_PIXELS = 96 / 72  # zoom 100 % shows a page at its printed size on a 96-dpi screen
HIGHLIGHT = QColor(255, 213, 0, 110)
HIGHLIGHT_EDGE = QColor(204, 120, 0)
WARNING_STYLE = "QLabel { color: #8c1d18; background: #f9d6d3; padding: 6px; }"
NOTE_STYLE = "QLabel { color: #4a4a4a; padding: 2px 6px; }"

_VIEWERS: weakref.WeakKeyDictionary[AppContext, EvidenceViewer] = weakref.WeakKeyDictionary()


def viewer_for(ctx: AppContext) -> EvidenceViewer:
    """This window's viewer (created on first use; a child window of the main window)."""
    viewer = _VIEWERS.get(ctx)
    try:
        if viewer is not None:
            viewer.isVisible()  # raises if Qt deleted it with its parent
            return viewer
    except RuntimeError:
        pass
    viewer = EvidenceViewer(ctx, ctx.window)
    _VIEWERS[ctx] = viewer
    return viewer


def show_source(ctx: AppContext, sha256: str, page: int | None, quote: str = "") -> EvidenceViewer:
    """Open the side viewer on an attached document at ``page`` (1-based), quote highlighted."""
    viewer = viewer_for(ctx)
    viewer.open_document(sha256, page, quote)
    return viewer


class EvidenceViewer(QWidget):
    """Page navigation, zoom, the rendered page and what the reviewer must know about it."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.ctx = ctx
        self.setObjectName("evidenceViewer")
        self.setWindowTitle("Evidence")
        self.runner = ctx.task_runner(self)
        self.entry: evidence.EvidenceDocument | None = None
        self.path: Path | None = None
        self.page_index = 0
        self.zoom = 1.0
        self.quote = ""
        self.match: QuoteMatch | None = None
        self.rendered: RenderedPage | None = None
        self._build()
        ctx.document_replaced.connect(self._document_replaced)
        self.resize(720, 900)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.title_label = QLabel("No document")
        self.title_label.setWordWrap(True)
        self.title_label.setStyleSheet("QLabel { font-weight: 600; }")
        layout.addWidget(self.title_label)
        bar = QHBoxLayout()
        self.prev_button = self._tool("◀", "Previous page (Page Up)", self.previous_page)
        self.page_spin = QSpinBox()
        self.page_spin.setAccessibleName("Page number")
        self.page_spin.setMinimum(1)
        self.page_spin.setKeyboardTracking(False)
        self.page_spin.valueChanged.connect(self._page_typed)
        self.page_count_label = QLabel("of 0")
        self.next_button = self._tool("▶", "Next page (Page Down)", self.next_page)
        self.zoom_out_button = self._tool("−", "Zoom out (Ctrl+-)", self.zoom_out)
        self.zoom_label = QLabel("100 %")
        self.zoom_in_button = self._tool("+", "Zoom in (Ctrl++)", self.zoom_in)
        for widget in (self.prev_button, self.page_spin, self.page_count_label,
                       self.next_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        for widget in (self.zoom_out_button, self.zoom_label, self.zoom_in_button):
            bar.addWidget(widget)
        layout.addLayout(bar)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_STYLE)
        self.warning.setVisible(False)
        self.warning.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.warning)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(NOTE_STYLE)
        layout.addWidget(self.note)
        self.scroller = QScrollArea()
        self.scroller.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.canvas = QLabel()
        self.canvas.setAccessibleName("Page image")
        self.canvas.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroller.setWidget(self.canvas)
        self.scroller.setWidgetResizable(False)
        layout.addWidget(self.scroller, 1)
        for keys, slot in ((QKeySequence.StandardKey.MoveToPreviousPage, self.previous_page),
                           (QKeySequence.StandardKey.MoveToNextPage, self.next_page),
                           (QKeySequence.StandardKey.ZoomIn, self.zoom_in),
                           (QKeySequence.StandardKey.ZoomOut, self.zoom_out)):
            QShortcut(QKeySequence(keys), self, slot)
        self._update_controls()

    def _tool(self, text: str, tip: str, slot: Any) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip.split(" (")[0])
        button.clicked.connect(slot)
        return button

    # --- opening -------------------------------------------------------------------------------
    def open_document(self, sha256: str, page: int | None, quote: str = "") -> None:
        """Show an attached document at ``page`` (1-based), looking for ``quote`` there."""
        entry = evidence.by_hash(self.ctx.doc).get(sha256)
        self.quote, self.match, self.rendered = quote, None, None
        self._place_beside_window()
        self.show()
        if QGuiApplication.platformName() != "offscreen":  # which cannot raise windows
            self.raise_()
        if entry is None:
            self._clear("This source names a document that is no longer attached: attach it "
                        "again on the Evidence step, then cite it again.")
            return
        self.entry = entry
        self.page_index = max(0, min((page or 1) - 1, entry.pages - 1))
        self.title_label.setText(f"{entry.title} — {entry.file_name}")
        self.setWindowTitle(f"Evidence — {entry.title}")
        self.warning.setVisible(False)
        self.note.setText("Checking the stored copy…")
        probity_path = self.ctx.path

        def check(_progress: Progress, cancelled: IsCancelled) -> evidence.EvidenceStatus:
            return evidence.status(probity_path, entry, cancelled)

        self.runner.run(check, self._checked, lane="check", quiet=True)

    def _checked(self, status: evidence.EvidenceStatus) -> None:
        if status.state in (evidence.MISSING, evidence.UNSAVED) or status.path is None:
            self._clear(status.message)
            return
        self.path = status.path
        if status.state == evidence.CHANGED:
            self._warn(status.message)
        self._render(find=bool(self.quote))

    def _clear(self, message: str) -> None:
        self.path, self.rendered = None, None
        self.canvas.clear()
        self.canvas.resize(0, 0)
        self.note.setText("")
        self._warn(message)
        self._update_controls()

    def _warn(self, message: str) -> None:
        self.warning.setText(message)
        self.warning.setVisible(bool(message))

    # --- rendering -----------------------------------------------------------------------------
    def _render(self, find: bool = False) -> None:
        path, index, quote = self.path, self.page_index, self.quote
        if path is None:
            return
        scale = self.zoom * POINTS_TO_PIXELS * max(1.0, self.devicePixelRatioF())

        def work(_progress: Progress, _cancelled: IsCancelled
                 ) -> tuple[RenderedPage, QuoteMatch | None, bool]:
            match = find_quote(path, index, quote) if find and quote else None
            target = match.page if match is not None else index
            return render_page(path, target, scale), match, find

        self.runner.run(work, self._rendered, lane="render", on_error=self._render_failed)

    def _render_failed(self, exc: BaseException) -> None:
        self._clear(str(exc) if isinstance(exc, evidence.EvidenceError) else
                    f"The page could not be shown ({type(exc).__name__}); the stored copy may "
                    "be damaged: use Locate on the Evidence step.")

    def _rendered(self, outcome: tuple[RenderedPage, QuoteMatch | None, bool]) -> None:
        page, match, searched = outcome
        if searched:
            self.match = match
        self.rendered = page
        self.page_index = page.index
        image = QImage(page.pixels, page.width, page.height, page.stride,
                       QImage.Format.Format_RGBX8888).copy()
        highlighted = self.match is not None and self.match.page == page.index
        if highlighted and self.match is not None:
            painter = QPainter(image)
            painter.setPen(HIGHLIGHT_EDGE)
            for left, bottom, right, top in self.match.rects:
                rect = QRectF(left * page.scale, (page.page_height_pt - top) * page.scale,
                              (right - left) * page.scale, (top - bottom) * page.scale)
                painter.fillRect(rect.adjusted(-2, -2, 2, 2), HIGHLIGHT)
                painter.drawRect(rect.adjusted(-2, -2, 2, 2))
            painter.end()
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(max(1.0, self.devicePixelRatioF()))
        self.canvas.setPixmap(pixmap)
        self.canvas.resize(pixmap.deviceIndependentSize().toSize())
        self.note.setText(self._quote_note(searched))
        if highlighted and self.match is not None and self.match.rects:
            top = (page.page_height_pt - self.match.rects[0][3]) * self.zoom * POINTS_TO_PIXELS
            self.scroller.verticalScrollBar().setValue(max(0, int(top) - 80))
        self._update_controls()

    def _quote_note(self, searched: bool) -> str:
        if not self.quote:
            return ""
        if self.match is None:
            return ("The quoted text was not found in the document's text (it may be a scanned "
                    f"image, or quoted differently): “{self.quote}”.") if searched else ""
        if self.match.page == self.page_index:
            return f"Quote highlighted on page {self.page_index + 1}: “{self.quote}”."
        return f"The quote is on page {self.match.page + 1}."

    # --- navigation ----------------------------------------------------------------------------
    def go_to_page(self, page: int) -> None:
        """Show page ``page`` (1-based)."""
        if self.entry is None or self.path is None:
            return
        index = max(0, min(page - 1, self.entry.pages - 1))
        if index != self.page_index or self.rendered is None:
            self.page_index = index
            self._render()

    @Slot()
    def previous_page(self) -> None:
        self.go_to_page(self.page_index)

    @Slot()
    def next_page(self) -> None:
        self.go_to_page(self.page_index + 2)

    @Slot(int)
    def _page_typed(self, value: int) -> None:
        self.go_to_page(value)

    @Slot()
    def zoom_in(self) -> None:
        self._set_zoom(next((z for z in ZOOMS if z > self.zoom), ZOOMS[-1]))

    @Slot()
    def zoom_out(self) -> None:
        self._set_zoom(next((z for z in reversed(ZOOMS) if z < self.zoom), ZOOMS[0]))

    def _set_zoom(self, zoom: float) -> None:
        if zoom != self.zoom:
            self.zoom = zoom
            self._render()
        self._update_controls()

    def _update_controls(self) -> None:
        pages = self.entry.pages if self.entry is not None else 0
        shown = self.path is not None
        self.page_spin.blockSignals(True)
        self.page_spin.setMaximum(max(1, pages))
        self.page_spin.setValue(self.page_index + 1)
        self.page_spin.blockSignals(False)
        self.page_count_label.setText(f"of {pages}")
        self.prev_button.setEnabled(shown and self.page_index > 0)
        self.next_button.setEnabled(shown and self.page_index < pages - 1)
        self.page_spin.setEnabled(shown)
        self.zoom_label.setText(f"{self.zoom * 100:.0f} %")
        self.zoom_in_button.setEnabled(shown and self.zoom < ZOOMS[-1])
        self.zoom_out_button.setEnabled(shown and self.zoom > ZOOMS[0])

    def _place_beside_window(self) -> None:
        """Beside the main window on first opening (a side viewer, not over the answers)."""
        main = self.ctx.window
        if self.isVisible() or main is None:
            return
        frame = main.frameGeometry()
        screen = main.screen().availableGeometry() if main.screen() is not None else None
        x = frame.right() + 8
        if screen is not None and x + self.width() > screen.right():
            x = max(screen.left(), screen.right() - self.width())
        self.move(x, frame.top())

    @Slot()
    def _document_replaced(self) -> None:
        self.runner.discard()
        self.entry, self.quote, self.match = None, "", None
        self.title_label.setText("No document")
        self._clear("")
        self.hide()
