"""The application context every page is built with: ``Page(ctx)``.

One object, created by the main window, holds what pages share:

* the document session (``ctx.session``, :mod:`gui.document_session`): the current
  :class:`~assessment.document.Assessment` (``ctx.doc``), its file (``ctx.path``), its saved state
  and every page's state for it; ``document_replaced`` (pages reset) then ``document_shown``
  (the window refreshes) fire when New/Open/Recover swaps it, ``changed(path)`` relays every
  document listener call (answer set, undo, redo, ...), ``modified_changed(bool)`` the saved state;
* the error funnel (``show_error``) and the modal ``ask_*`` helpers (thin wrappers over
  :mod:`gui.errors`, which tests replace);
* the config paths and settings (:mod:`gui.paths`);
* ``run_job``: runs a pure function ``fn(progress, cancelled) -> result`` in a QThreadPool worker
  (Orange3's pattern): one job at a time — a new job cancels the old one —, progress throttled to
  20 updates a second, only plain Python objects cross threads (through a Python queue that the
  job's UI-thread timer drains), callbacks run on the UI thread.

Pages edit the document only through its own methods; nothing here holds a rule.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, SignalInstance, Slot
from PySide6.QtWidgets import QWidget

from assessment.errors import Cancelled
from gui import errors
from gui.document_session import DocumentSession
from gui.paths import Paths, Settings

if TYPE_CHECKING:
    from assessment.document import Assessment
    from assessment.judgement import Judgement

Progress = Callable[[float], None]
IsCancelled = Callable[[], bool]
JobFunction = Callable[[Progress, IsCancelled], Any]

PROGRESS_INTERVAL_S = 0.05
PUMP_INTERVAL_MS = 25

# Messages from a worker to the UI thread. They travel through a Python queue that a UI-thread
# timer drains, never through a Qt signal emitted on a worker thread: PySide6 6.12 on Python
# 3.11 mishandled references of Python objects marshalled across threads (hence the pin to
# 6.11.3, see tests/gui/test_qt_refcounts.py), and an intermittent segfault was seen delivering
# queued cross-thread signals while the worker ran native code. A queue touched only by Python
# is immune to both.
_PROGRESS, _DONE, _ERROR, _CANCELLED = "progress", "done", "error", "cancelled"


# Runnables stay referenced here until the pool is idle. A runnable's ``finished`` event is set
# inside ``run()``, before the pool thread has returned from it; freeing the runnable in that
# window (a Job deleted, a test's context collected) would free a C++ object a worker thread
# is still inside — heap corruption that surfaced as random segfaults elsewhere.
_LIVE_RUNNABLES: list[_Runnable] = []


def _release_idle_runnables() -> None:
    """Forget retained runnables once no pool thread runs anything (all run() calls returned)."""
    if QThreadPool.globalInstance().activeThreadCount() == 0:
        _LIVE_RUNNABLES.clear()


class _Runnable(QRunnable):
    def __init__(self, fn: JobFunction, inbox: queue.SimpleQueue[tuple[str, Any]],
                 cancel: threading.Event) -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python owns it (see _LIVE_RUNNABLES); Qt must not delete it
        _release_idle_runnables()
        _LIVE_RUNNABLES.append(self)
        self._fn: JobFunction | None = fn
        self._inbox = inbox
        self._cancel = cancel
        self._last_progress = 0.0
        self.finished = threading.Event()

    def _progress(self, value: float) -> None:
        now = time.monotonic()
        value = min(max(float(value), 0.0), 1.0)
        if value >= 1.0 or now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self._inbox.put((_PROGRESS, value))

    def run(self) -> None:
        fn, self._fn = self._fn, None  # the closure may hold large data: do not retain it
        if fn is None:
            return
        try:
            result = fn(self._progress, self._cancel.is_set)
        except Cancelled:
            self._inbox.put((_CANCELLED, None))
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the error funnel
            self._inbox.put((_ERROR, exc))
        else:
            self._inbox.put((_CANCELLED, None) if self._cancel.is_set() else (_DONE, result))
        finally:
            self.finished.set()


class Job(QObject):
    """Handle of one background computation. Signals fire on the UI thread."""

    succeeded = Signal(object)
    failed = Signal(object)
    was_cancelled = Signal()
    progressed = Signal(float)
    ended = Signal()

    def __init__(
        self,
        fn: JobFunction,
        on_done: Callable[[Any], None] | None,
        on_progress: Callable[[float], None] | None,
        on_error: Callable[[BaseException], None],
        on_cancelled: Callable[[], None] | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._on_done = on_done
        self._on_progress = on_progress
        self._on_error = on_error
        self._on_cancelled = on_cancelled
        self._cancel = threading.Event()
        self._inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.runnable = _Runnable(fn, self._inbox, self._cancel)
        self.state = "running"
        # Created on the UI thread just before the runnable starts: poll the inbox from there.
        self._pump = QTimer(self)
        self._pump.setInterval(PUMP_INTERVAL_MS)
        self._pump.timeout.connect(self.deliver)
        self._pump.start()

    def cancel(self) -> None:
        """Ask the function to stop (its ``cancelled()`` returns True); results are dropped."""
        if self.state == "running":
            self._cancel.set()
            self.state = "cancelling"

    def is_running(self) -> bool:
        return self.state in ("running", "cancelling")

    def thread_finished(self) -> bool:
        return self.runnable.finished.is_set()

    def wait(self, timeout_s: float = 5.0) -> bool:
        """Block until the worker function returned (tests and shutdown only)."""
        return self.runnable.finished.wait(timeout_s)

    @Slot()
    def deliver(self) -> None:
        """Hand the worker's messages to the callbacks (UI thread, from the job's own timer)."""
        latest_progress: float | None = None
        while True:
            try:
                kind, payload = self._inbox.get_nowait()
            except queue.Empty:
                break
            if kind == _PROGRESS:
                latest_progress = payload  # coalesce: only the newest value matters
                continue
            if latest_progress is not None:
                self._handle_progress(latest_progress)
                latest_progress = None
            if kind == _DONE:
                self._handle_done(payload)
            elif kind == _ERROR:
                self._handle_error(payload)
            else:
                self._handle_cancelled()
        if latest_progress is not None:
            self._handle_progress(latest_progress)
        if not self.is_running():
            self._pump.stop()

    def stop_delivery(self) -> None:
        self._pump.stop()

    def _handle_progress(self, value: float) -> None:
        if self.state == "running":
            self.progressed.emit(value)
            if self._on_progress is not None:
                self._on_progress(value)

    def _handle_done(self, result: object) -> None:
        if self.state != "running":
            self._handle_cancelled()
            return
        self.state = "done"
        try:
            if self._on_done is not None:
                self._on_done(result)
            self.succeeded.emit(result)
        finally:
            self.ended.emit()

    def _handle_error(self, exc: BaseException) -> None:
        if self.state == "cancelling":
            self._handle_cancelled()
            return
        self.state = "failed"
        try:
            self._on_error(exc)
            self.failed.emit(exc)
        finally:
            self.ended.emit()

    def _handle_cancelled(self) -> None:
        self.state = "cancelled"
        try:
            if self._on_cancelled is not None:
                self._on_cancelled()
            self.was_cancelled.emit()
        finally:
            self.ended.emit()


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
        self._jobs: list[Job] = []
        self._current_job: Job | None = None
        self._pool = QThreadPool.globalInstance()

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

    def ask_item(self, title: str, label: str, items: list[str], current: int = 0) -> str | None:
        return errors.ask_item(self.window, title, label, items, current)

    # --- background jobs -----------------------------------------------------------------------

    def run_job(
        self,
        fn: JobFunction,
        on_done: Callable[[Any], None] | None = None,
        on_progress: Callable[[float], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        on_cancelled: Callable[[], None] | None = None,
    ) -> Job:
        """Run ``fn(progress, cancelled)`` in a worker; a running job is cancelled first.

        ``fn`` must be pure: it may not touch widgets or the document. It reports progress in
        [0, 1] through ``progress`` and should return early (or raise ``Cancelled``) when
        ``cancelled()`` is True. ``on_error`` defaults to the error funnel.
        """
        self.cancel_job()
        self._forget_ended_jobs()
        job = Job(fn, on_done, on_progress, on_error or self.show_error, on_cancelled, self)
        job.ended.connect(self._job_ended)
        self._jobs.append(job)
        self._current_job = job
        self.job_started.emit()
        self._pool.start(job.runnable)
        return job

    @property
    def current_job(self) -> Job | None:
        job = self._current_job
        return job if job is not None and job.is_running() else None

    def cancel_job(self) -> None:
        if self._current_job is not None:
            self._current_job.cancel()

    def _forget_ended_jobs(self) -> None:
        """Drop jobs whose callbacks have all run and whose thread has returned."""
        keep: list[Job] = []
        for job in self._jobs:
            if job.is_running() or not job.thread_finished():
                keep.append(job)
            else:
                job.deleteLater()
        self._jobs = keep

    @Slot()
    def _job_ended(self) -> None:
        if self._current_job is not None and not self._current_job.is_running():
            self._current_job = None
            self.job_finished.emit()

    def shutdown(self, timeout_s: float = 10.0) -> bool:
        """Cancel any job and wait for worker threads (on close, and in tests)."""
        self.cancel_job()
        deadline = time.monotonic() + timeout_s
        finished = all(job.wait(max(0.0, deadline - time.monotonic())) for job in self._jobs)
        for job in self._jobs:  # closing: late results are not delivered to pages being destroyed
            job.stop_delivery()
        self._jobs = [job for job in self._jobs if not job.thread_finished()]
        return finished
