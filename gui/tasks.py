"""Background work, one task runner per owner (Orange3's pattern, STYLE.md §3).

A :class:`TaskRunner` belongs to one owner (a page, a dialog) as its Qt child, so it stops with
it. It runs pure functions ``fn(progress, cancelled) -> result`` in the global QThreadPool and
hands their outcome to callbacks on the UI thread. Its rules:

* **lanes**: a task runs in a named lane of its runner; starting a task cancels only the previous
  task of the same lane of the same runner (re-checking a mapping never cancels a running
  evaluation, an export never cancels another page's work);
* **one delivery mechanism**: workers put plain Python messages into the runner's queue; one
  UI-thread timer of the runner drains it. No Qt signal is ever emitted from a worker thread:
  PySide6 6.12 on Python 3.11 mishandled references of Python objects marshalled across threads
  (hence the pin to 6.11.3, see tests/gui/test_qt_refcounts.py), and an intermittent segfault
  was seen delivering queued cross-thread signals while the worker ran native code;
* **cancelled means silent**: a cancelled task's result (or error) is dropped; only its
  ``on_cancelled`` runs;
* **stops with its owner**: when the owner is deleted the runner's timer goes with it, so no
  callback can reach a deleted widget, and every task it started is told to cancel. ``stop()``
  does the same explicitly and waits for the worker threads (closing, tests);
* progress is throttled to 20 updates a second and coalesced (only the newest value counts).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from assessment.errors import Cancelled

Progress = Callable[[float], None]
IsCancelled = Callable[[], bool]
TaskFunction = Callable[[Progress, IsCancelled], Any]

PROGRESS_INTERVAL_S = 0.05
PUMP_INTERVAL_MS = 25
MAIN_LANE = "main"

_PROGRESS, _DONE, _ERROR, _CANCELLED = "progress", "done", "error", "cancelled"

# Runnables stay referenced here until the pool is idle. A runnable's ``finished`` event is set
# inside ``run()``, before the pool thread has returned from it; freeing the runnable in that
# window (a task deleted, a test's page collected) would free a C++ object a worker thread is
# still inside — heap corruption that surfaced as random segfaults elsewhere.
_LIVE_RUNNABLES: list[_Runnable] = []


def _release_idle_runnables() -> None:
    """Forget retained runnables once no pool thread runs anything (all run() calls returned)."""
    if QThreadPool.globalInstance().activeThreadCount() == 0:
        _LIVE_RUNNABLES.clear()


class _Runnable(QRunnable):
    """The worker side of one task: calls ``fn`` and posts its outcome into the runner's queue."""

    def __init__(
        self,
        fn: TaskFunction,
        task_id: int,
        inbox: queue.SimpleQueue[tuple[int, str, Any]],
        cancel: threading.Event,
    ) -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python owns it (see _LIVE_RUNNABLES); Qt must not delete it
        _release_idle_runnables()
        _LIVE_RUNNABLES.append(self)
        self._fn: TaskFunction | None = fn
        self._id = task_id
        self._inbox = inbox
        self._cancel = cancel
        self._last_progress = 0.0
        self.finished = threading.Event()

    def _progress(self, value: float) -> None:
        now = time.monotonic()
        value = min(max(float(value), 0.0), 1.0)
        if value >= 1.0 or now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self._inbox.put((self._id, _PROGRESS, value))

    def run(self) -> None:
        fn, self._fn = self._fn, None  # the closure may hold large data: do not retain it
        if fn is None:
            return
        try:
            result = fn(self._progress, self._cancel.is_set)
        except Cancelled:
            self._inbox.put((self._id, _CANCELLED, None))
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the error funnel
            self._inbox.put((self._id, _ERROR, exc))
        else:
            outcome = (_CANCELLED, None) if self._cancel.is_set() else (_DONE, result)
            self._inbox.put((self._id, *outcome))
        finally:
            self.finished.set()


class Task(QObject):
    """Handle of one background computation. Its signals fire on the UI thread."""

    succeeded = Signal(object)
    failed = Signal(object)
    was_cancelled = Signal()
    progressed = Signal(float)
    ended = Signal()

    def __init__(
        self,
        lane: str,
        on_done: Callable[[Any], None] | None,
        on_progress: Callable[[float], None] | None,
        on_error: Callable[[BaseException], None],
        on_cancelled: Callable[[], None] | None,
        quiet: bool,
    ) -> None:
        # No Qt parent: Python owns a task (the runner's dict, the caller's handle), so it lives
        # exactly as long as someone refers to it. (A parented task deleted with deleteLater
        # after its delivery crashed Qt: "shared QObject was deleted directly".)
        super().__init__()
        self.lane = lane
        self.quiet = quiet
        self._on_done = on_done
        self._on_progress = on_progress
        self._on_error = on_error
        self._on_cancelled = on_cancelled
        self.cancel_event = threading.Event()
        self.runnable: _Runnable | None = None
        self.state = "running"

    def cancel(self) -> None:
        """Ask the function to stop (its ``cancelled()`` returns True); results are dropped."""
        if self.state == "running":
            self.cancel_event.set()
            self.state = "cancelling"

    def discard(self) -> None:
        """Cancel without any callback: the work belonged to something that is gone."""
        self._on_done = self._on_progress = self._on_cancelled = None
        self._on_error = _ignore
        self.cancel()

    def is_running(self) -> bool:
        return self.state in ("running", "cancelling")

    def thread_finished(self) -> bool:
        return self.runnable is None or self.runnable.finished.is_set()

    def wait(self, timeout_s: float = 5.0) -> bool:
        """Block until the worker function returned (tests and shutdown only)."""
        return self.runnable is None or self.runnable.finished.wait(timeout_s)

    # --- delivery (UI thread, from the runner's timer) ------------------------------------------
    def _deliver(self, kind: str, payload: Any) -> None:
        if kind == _PROGRESS:
            if self.state == "running":
                self.progressed.emit(payload)
                if self._on_progress is not None:
                    self._on_progress(payload)
            return
        if self.state == "cancelling" or kind == _CANCELLED:
            self.state = "cancelled"
            try:
                if self._on_cancelled is not None:
                    self._on_cancelled()
                self.was_cancelled.emit()
            finally:
                self.ended.emit()
            return
        if self.state != "running":  # already ended (stop() while the message was queued)
            return
        self.state = "done" if kind == _DONE else "failed"
        try:
            if kind == _DONE:
                if self._on_done is not None:
                    self._on_done(payload)
                self.succeeded.emit(payload)
            else:
                self._on_error(payload)
                self.failed.emit(payload)
        finally:
            self.ended.emit()


def _ignore(_exc: BaseException) -> None:
    """The error handler of a discarded task."""


def _cancel_all(events: list[threading.Event]) -> None:
    """The owner is gone: every task it started is told to stop (nothing will be delivered)."""
    for event in events:
        event.set()


class TaskRunner(QObject):
    """Runs one owner's background work; see the module docstring for its rules."""

    busy_changed = Signal(bool)  # a task that is not quiet started (True) / none left (False)

    def __init__(
        self, owner: QObject, on_error: Callable[[BaseException], None] | None = None
    ) -> None:
        super().__init__(owner)
        self._default_error = on_error
        self._inbox: queue.SimpleQueue[tuple[int, str, Any]] = queue.SimpleQueue()
        self._tasks: dict[int, Task] = {}  # started and not yet ended, or thread still inside
        self._current: dict[str, Task] = {}  # the newest task of each lane
        self._next_id = 0
        self._busy = False
        self._stopped = False
        self._cancel_events: list[threading.Event] = []
        # No reference to self: called while the runner (a child of the owner) is destroyed.
        self.destroyed.connect(lambda *_, events=self._cancel_events: _cancel_all(events))
        self._timer = QTimer(self)
        self._timer.setInterval(PUMP_INTERVAL_MS)
        self._timer.timeout.connect(self._pump)

    # --- API -------------------------------------------------------------------------------------
    def run(
        self,
        fn: TaskFunction,
        on_done: Callable[[Any], None] | None = None,
        *,
        on_progress: Callable[[float], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        lane: str = MAIN_LANE,
        quiet: bool = False,
    ) -> Task:
        """Run ``fn(progress, cancelled)`` in a worker; this lane's previous task is cancelled.

        ``fn`` must be pure: it may not touch widgets or the document. It reports progress in
        [0, 1] through ``progress`` and should return early (or raise ``Cancelled``) when
        ``cancelled()`` is True. ``on_error`` defaults to the runner's (the error funnel).
        ``quiet`` tasks (short re-checks) do not count as "busy" for the window's indicator.
        """
        self.cancel(lane)
        handler = on_error or self._default_error
        if handler is None:
            raise ValueError("no error handler: pass on_error or give the runner one")
        task = Task(lane, on_done, on_progress, handler, on_cancelled, quiet)
        if self._stopped:  # the owner is closing (a late timer): nothing runs any more
            task.state = "cancelled"
            return task
        self._next_id += 1
        task_id = self._next_id
        task.runnable = _Runnable(fn, task_id, self._inbox, task.cancel_event)
        self._forget_finished()
        self._tasks[task_id] = task
        self._current[lane] = task
        self._cancel_events.append(task.cancel_event)
        self._timer.start()
        self._update_busy()
        QThreadPool.globalInstance().start(task.runnable)
        return task

    def cancel(self, lane: str | None = None) -> None:
        """Cancel this runner's running task of ``lane`` (None: of every lane)."""
        for key, task in list(self._current.items()):
            if lane is None or key == lane:
                task.cancel()

    def discard(self, lane: str | None = None) -> None:
        """Cancel ``lane``'s task (None: every task) without calling any of its callbacks
        (the document it worked for was replaced)."""
        for key, task in list(self._current.items()):
            if lane is None or key == lane:
                task.discard()
                del self._current[key]
        self._update_busy()

    def running(self, lane: str | None = MAIN_LANE) -> bool:
        """Whether a task of ``lane`` (None: of any lane) is running or being cancelled."""
        return any(
            task.is_running() for key, task in self._current.items() if lane is None or key == lane
        )

    @property
    def busy(self) -> bool:
        return self._busy

    def wait(self, timeout_s: float = 5.0) -> bool:
        """Block until every started worker returned (tests and shutdown only)."""
        deadline = time.monotonic() + timeout_s
        return all(t.wait(max(0.0, deadline - time.monotonic())) for t in self._tasks.values())

    def stop(self, timeout_s: float = 10.0) -> bool:
        """Cancel everything, wait for the workers; nothing is delivered afterwards."""
        self._stopped = True
        self.cancel()
        finished = self.wait(timeout_s)
        self._timer.stop()
        for task in self._tasks.values():
            task.state = "cancelled" if task.is_running() else task.state
        self._tasks = {i: t for i, t in self._tasks.items() if not t.thread_finished()}
        self._current.clear()
        self._update_busy()
        return finished

    # --- machinery -------------------------------------------------------------------------------
    @Slot()
    def _pump(self) -> None:
        """Hand the workers' messages to their tasks (UI thread, from this runner's timer)."""
        progress: dict[int, float] = {}
        while True:
            try:
                task_id, kind, payload = self._inbox.get_nowait()
            except queue.Empty:
                break
            task = self._tasks.get(task_id)
            if task is None:
                continue
            if kind == _PROGRESS:
                progress[task_id] = payload  # coalesce: only the newest value matters
                continue
            if task_id in progress:
                task._deliver(_PROGRESS, progress.pop(task_id))
            task._deliver(kind, payload)
            if self._current.get(task.lane) is task and not task.is_running():
                del self._current[task.lane]
        for task_id, value in progress.items():
            task = self._tasks.get(task_id)
            if task is not None:
                task._deliver(_PROGRESS, value)
        self._forget_finished()
        self._update_busy()
        if not self._tasks:
            self._timer.stop()

    def _forget_finished(self) -> None:
        """Drop tasks whose outcome was delivered and whose worker thread has returned."""
        for task_id, task in list(self._tasks.items()):
            if not task.is_running() and task.thread_finished():
                del self._tasks[task_id]
                self._cancel_events.remove(task.cancel_event)

    def _update_busy(self) -> None:
        busy = any(t.is_running() and not t.quiet for t in self._tasks.values())
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
