"""Short background computations that must not take part in ``ctx.run_job``'s one-job rule.

``AppContext.run_job`` runs one job at a time and cancels the previous one, which is right for
long work (reading a file, evaluating, signing). Re-checking the mapping after an edit and the
threshold slider's fast path are short and frequent: through ``run_job`` they would cancel a
running evaluation, or be cancelled by one and never report. They reuse the context's
:class:`~gui.context.Job` (same thread pool, same UI-thread delivery) without that rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool


class QuickJobs(QObject):
    """Starts non-exclusive jobs and keeps each alive until its worker thread has returned."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[Any] = []

    def start(
        self,
        fn: Callable[[Callable[[float], None], Callable[[], bool]], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> Any:
        from gui.context import Job

        self._jobs = [job for job in self._jobs if not job.thread_finished()]
        job = Job(fn, on_done, None, on_error, None, self)
        self._jobs.append(job)
        QThreadPool.globalInstance().start(job.runnable)
        return job

    def wait(self, timeout_s: float = 5.0) -> bool:
        """Block until every started job's worker returned (shutdown and tests)."""
        return all(job.wait(timeout_s) for job in self._jobs)
