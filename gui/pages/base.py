"""Base of the assessment pages: scrolling layout, refresh on change, rebuild on a new document.

A page refreshes from the document when it changes (once per event-loop turn, and only while
visible; hidden pages refresh when shown), and rebuilds its widgets when the document is replaced
(another instrument may mean other questions). Widgets are updated with signals blocked, so a
refresh never writes back to the document.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

from gui.context import AppContext
from gui.steps import PageDefaults

PAGE_MARGINS = (28, 20, 28, 24)
CONTENT_MAX_WIDTH = 1100


class AssessmentPage(PageDefaults, QWidget):
    """Scrollable page bound to ``ctx.doc``. Subclasses implement build() and refresh()."""

    title = ""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self._stale = True
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self._refresh_now)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(self.scroll_area)
        self.content: QWidget | None = None
        self.layout_: QVBoxLayout
        self._rebuild()
        ctx.changed.connect(self._on_changed)
        ctx.document_replaced.connect(self._on_replaced)

    # --- subclass API ----------------------------------------------------------------------------
    # Every page defines these three (a QWidget cannot also be an ABC, so they are declared here
    # as attributes for the type checker rather than as abstract methods):
    #   build(layout)  create the widgets for the current document into ``layout``;
    #   refresh()      show the document's current values (editors' signals blocked);
    #   is_complete()  whether the step has nothing left to do.
    build: Callable[[QVBoxLayout], None]
    refresh: Callable[[], None]
    is_complete: Callable[[], bool]

    def commit_pending(self) -> None:
        """Commit text still being typed (before Save or close). Default: move focus away."""
        focus = self.focusWidget()
        commit = getattr(focus, "commit", None)
        if callable(commit):
            commit()
        elif focus is not None and hasattr(focus, "editingFinished"):
            focus.editingFinished.emit()

    def detach(self) -> None:
        """Stop following the document (the main window is about to delete this page)."""
        self.ctx.changed.disconnect(self._on_changed)
        self.ctx.document_replaced.disconnect(self._on_replaced)
        self._refresh_timer.stop()

    # --- machinery -------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        old = self.scroll_area.takeWidget()  # deleted later: we may be inside one of its slots
        self.content = QWidget()
        self.content.setObjectName("pageContent")
        self.layout_ = QVBoxLayout(self.content)
        self.layout_.setContentsMargins(*PAGE_MARGINS)
        self.layout_.setSpacing(12)
        self.layout_.setAlignment(Qt.AlignmentFlag.AlignTop)
        if self.ctx.has_document:
            self.build(self.layout_)
        self.layout_.addStretch(1)
        self.content.setMaximumWidth(CONTENT_MAX_WIDTH)
        self.scroll_area.setWidget(self.content)
        if old is not None:
            old.deleteLater()
        self._stale = True
        self._refresh_now()

    @Slot(str)
    def _on_changed(self, _path: str) -> None:
        self._stale = True
        if self.isVisible():
            self._refresh_timer.start()

    @Slot()
    def _on_replaced(self) -> None:
        self._rebuild()

    @Slot()
    def _refresh_now(self) -> None:
        if self.ctx.has_document and self._stale:
            self._stale = False
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            self._refresh_now()

    def refresh_now(self) -> None:
        """Tests and callers that need the widgets current immediately."""
        self._stale = True
        self._refresh_now()
