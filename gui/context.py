"""The application context every page is built with: ``Page(ctx)``.

One object, created by the main window, holds what pages share:

* the document session (``ctx.session``, :mod:`gui.document_session`): the current
  :class:`~assessment.document.Assessment` (``ctx.doc``), its file (``ctx.path``), its saved state
  and every page's state for it; ``document_replaced`` (pages reset) then ``document_shown``
  (the window refreshes) fire when New/Open/Recover swaps it, ``changed(path)`` relays every
  document listener call (answer set, undo, redo, ...), ``modified_changed(bool)`` the saved state;
* this window's identity for other windows and processes (``ctx.instance``, its lock files and
  recovery snapshots) and the state of the file it has open (``ctx.open_file``: lock, disk state
  last read or written, read-only), both from the Qt-free :mod:`assessment.locks`;
* the error funnel (``show_error``) and the modal ``ask_*`` helpers (thin wrappers over
  :mod:`gui.errors`, which tests replace);
* the config paths and settings (:mod:`gui.paths`);
* ``task_runner(owner)``: the owner's own :class:`~gui.tasks.TaskRunner` for background work
  (errors to the funnel); the context only counts busy runners for the window's indicator
  (``job_started``/``job_finished``) and stops them all on ``shutdown``.

Pages edit the document only through its own methods; nothing here holds a rule.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, SignalInstance
from PySide6.QtWidgets import QWidget

from assessment import locks
from gui import errors
from gui.document_session import DocumentSession
from gui.paths import Paths, Settings
from gui.tasks import TaskRunner

if TYPE_CHECKING:
    from assessment.document import Assessment
    from assessment.judgement import Judgement

class AppContext(QObject):
    """Shared state and services handed to every page as ``Page(ctx)``.

    The document and its per-document state live in ``ctx.session`` (a
    :class:`~gui.document_session.DocumentSession`); ``ctx.doc``, ``ctx.path``, ``ctx.modified``
    and the document signals are shortcuts to it. ``document_replaced`` (pages reset) fires
    before ``document_shown`` (the window refreshes its steps from the reset pages).
    """

    status_message = Signal(str, int)  # text, timeout in ms (0 = until replaced)
    data_file_requested = Signal(str)  # a data file was dropped/opened: the data page loads it
    navigate_requested = Signal(str)  # a page asks the main window to show step ``key``
    job_started = Signal()
    job_finished = Signal()

    def __init__(self, paths: Paths | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.paths = paths or Paths.resolve()
        self.settings = Settings(self.paths.settings_file)
        self.window: QWidget | None = None  # parent of dialogs; set by the main window
        self.session = DocumentSession(self)
        # Saves the document (asking for a path when it has none); True once saved. Set by the
        # main window, which owns the file commands; pages call it (export saves first).
        self.save_document: Callable[[], bool] | None = None
        self._runners: dict[int, TaskRunner] = {}
        self._busy_runners: set[int] = set()
        # This window as other windows and processes see it (lock files, recovery snapshots),
        # and the file it has open: its lock, the disk state last read or written, read-only.
        self.instance = locks.Instance(reviewer=str(self.settings.get("reviewer_name")))
        self.open_file: locks.OpenFile | None = None

    # --- the document (owned by the session) ---------------------------------------------------

    @property
    def document_replacing(self) -> SignalInstance:
        return self.session.replacing

    @property
    def document_replaced(self) -> SignalInstance:
        return self.session.replaced

    @property
    def document_shown(self) -> SignalInstance:
        return self.session.shown

    @property
    def changed(self) -> SignalInstance:
        return self.session.changed

    @property
    def modified_changed(self) -> SignalInstance:
        return self.session.modified_changed

    @property
    def file_changed(self) -> SignalInstance:
        return self.session.file_changed

    @property
    def doc(self) -> Assessment:
        return self.session.doc

    @property
    def has_document(self) -> bool:
        return self.session.has_document

    @property
    def path(self) -> Path | None:
        return self.session.path

    @property
    def modified(self) -> bool:
        return self.session.modified

    def set_document(self, doc: Assessment, path: Path | None = None) -> None:
        """Replace the open assessment (New, Open, Recover): see ``DocumentSession``."""
        self.session.set_document(doc, path)

    def mark_saved(self, path: Path) -> None:
        """Called after ``assessment.storage.save`` wrote the document to ``path``."""
        self.session.mark_saved(path)

    def judgement(self) -> Judgement:
        """``assessment.judgement.judge(doc)``, computed once per document change and shared."""
        return self.session.judgement()

    # --- messages and dialogs (looked up in gui.errors at call time, so tests can replace them) --

    def show_error(self, exc: BaseException) -> None:
        errors.report(self.window, exc, self.paths.crash_log)

    def show_status(self, text: str, timeout_ms: int = 4000) -> None:
        self.status_message.emit(text, timeout_ms)

    def inform(self, title: str, text: str) -> None:
        errors.inform(self.window, title, text)

    def ask_yes_no(self, title: str, text: str, default_yes: bool = False) -> bool:
        return errors.ask_yes_no(self.window, title, text, default_yes)

    def ask_open_path(self, title: str, filters: str, directory: str = "") -> Path | None:
        return errors.ask_open_path(self.window, title, filters, directory)

    def ask_save_path(self, title: str, filters: str, suggested: str = "") -> Path | None:
        return errors.ask_save_path(self.window, title, filters, suggested)

    def ask_text(self, title: str, label: str, text: str = "") -> str | None:
        return errors.ask_text(self.window, title, label, text)

    def ask_passphrase(self, title: str, label: str) -> str | None:
        return errors.ask_passphrase(self.window, title, label)

    def ask_choice(self, title: str, text: str, choices: list[str],
                   default: int = 0) -> str | None:
        return errors.ask_choice(self.window, title, text, choices, default)

    def ask_item(self, title: str, label: str, items: list[str], current: int = 0) -> str | None:
        return errors.ask_item(self.window, title, label, items, current)

    # --- background work -----------------------------------------------------------------------

    def task_runner(self, owner: QObject) -> TaskRunner:
        """A task runner for ``owner`` (its child: it stops with it); errors go to the funnel."""
        runner = TaskRunner(owner, on_error=self.show_error)
        key = id(runner)
        self._runners[key] = runner
        runner.busy_changed.connect(lambda busy, key=key: self._runner_busy(key, busy))
        runner.destroyed.connect(lambda *_, key=key: self._forget_runner(key))
        return runner

    @property
    def busy(self) -> bool:
        """Whether any page's background work (not a quick re-check) is running."""
        return bool(self._busy_runners)

    def _runner_busy(self, key: int, busy: bool) -> None:
        was = self.busy
        if busy:
            self._busy_runners.add(key)
        else:
            self._busy_runners.discard(key)
        if self.busy != was:
            (self.job_started if self.busy else self.job_finished).emit()

    def _forget_runner(self, key: int) -> None:
        self._runners.pop(key, None)
        self._busy_runners.discard(key)

    def shutdown(self, timeout_s: float = 10.0) -> bool:
        """Stop every page's runner: cancel, wait for the worker threads (close, tests)."""
        deadline = time.monotonic() + timeout_s
        return all([
            runner.stop(max(0.0, deadline - time.monotonic()))
            for runner in list(self._runners.values())
        ])
