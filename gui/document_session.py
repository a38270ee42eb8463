"""The open document and everything that belongs to it alone.

One :class:`DocumentSession` per window owns the current
:class:`~assessment.document.Assessment`, its file, its saved/modified state, the in-memory
evaluation data of its last run (:class:`~gui.data.session.EvaluationSession`) and the state
each page keeps for this document (``page_state``). Replacing the document (New, Open, a dropped
file, Recover) drops all of that before anyone is told, then announces the change in two
phases, so no page and no step icon can show the previous document:

0. ``replacing``: the window retires the pages the new document has no step for (another
   instrument has other domains);
1. ``replaced``: the remaining pages reset to what the new document holds (data file, mapping,
   seed, tabs, threshold, results, export outcome);
2. ``shown``: the window rebuilds its step list and step icons, which read the pages' state.

The session holds no rules: edits go through the document's own methods, and ``changed(path)``
relays every document listener call (answer set, undo, redo, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, Signal

from gui.data.session import EvaluationSession

if TYPE_CHECKING:
    from assessment.document import Assessment
    from assessment.judgement import Judgement

State = TypeVar("State")


class DocumentSession(QObject):
    """The current assessment, its file and modified state, and its per-document page state."""

    replacing = Signal()  # phase 0: pages without a step in the new document are retired
    replaced = Signal()  # phase 1: pages reset to the new document
    shown = Signal()  # phase 2: the window refreshes steps and icons from the reset pages
    changed = Signal(str)  # the document changed at this path (edit, undo, redo)
    modified_changed = Signal(bool)
    file_changed = Signal(object)  # Path | None

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._doc: Assessment | None = None
        self._path: Path | None = None
        self._modified = False
        self._judgement: Judgement | None = None
        self._page_state: dict[str, object] = {}
        self.generation = 0  # increases with every replaced document
        self.evaluation = EvaluationSession(self)

    # --- the document --------------------------------------------------------------------------
    @property
    def doc(self) -> Assessment:
        if self._doc is None:
            raise RuntimeError("no assessment is open yet")
        return self._doc

    @property
    def has_document(self) -> bool:
        return self._doc is not None

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def modified(self) -> bool:
        return self._modified

    def set_document(self, doc: Assessment, path: Path | None = None) -> None:
        """Replace the open assessment (New, Open, drop, Recover).

        Everything of the previous document (its in-memory evaluation data, every page's
        state) is forgotten first; then ``replacing``, ``replaced`` and ``shown`` fire in
        that order. The
        saved state is the document's own ``dirty`` flag (a recovered document is dirty).
        """
        if self._doc is not None:
            self._doc.remove_listener(self._relay)
        self._doc = doc
        self._judgement = None
        self._page_state.clear()
        self.evaluation.clear()
        self.generation += 1
        doc.add_listener(self._relay)
        self._path = path
        self._set_modified(bool(doc.dirty))
        self.file_changed.emit(path)
        self.replacing.emit()
        self.replaced.emit()
        self.shown.emit()

    def mark_saved(self, path: Path) -> None:
        """Called after ``assessment.storage.save`` wrote the document to ``path``."""
        self._path = path
        self._set_modified(bool(self.doc.dirty))
        self.file_changed.emit(path)

    def judgement(self) -> Judgement:
        """``assessment.judgement.judge(doc)``, computed once per document change and shared."""
        if self._judgement is None:
            from assessment.judgement import judge

            self._judgement = judge(self.doc)
        return self._judgement

    # --- per-document page state ---------------------------------------------------------------
    def page_state(self, key: str, factory: Callable[[], State]) -> State:
        """The state page ``key`` keeps for the current document, created on first use.

        Dropped when the document is replaced, so a page that keeps its state here cannot
        carry anything of one document into the next.
        """
        state = self._page_state.get(key)
        if state is None:
            state = factory()
            self._page_state[key] = state
        return state  # type: ignore[return-value]

    # --- machinery -----------------------------------------------------------------------------
    def _relay(self, path: str) -> None:
        self._judgement = None
        self._set_modified(bool(self.doc.dirty))
        self.changed.emit(path)

    def _set_modified(self, value: bool) -> None:
        if value != self._modified:
            self._modified = value
            self.modified_changed.emit(value)
