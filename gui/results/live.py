"""The threshold slider's data source when the run's data is in memory: the engine's fast path.

``point_metrics_at_threshold`` recomputes the confusion-count metrics of every group at another
threshold with one bincount per grouping (tens of milliseconds for a million rows, so the
results page runs it in a worker); this adapter keys its answer by metric and
(attribute, group) for :func:`gui.results.frames.groups_frame`.
"""

from __future__ import annotations

from typing import Any

LiveValues = dict[str, dict[tuple[str, str], float | None]]


def metrics_at_threshold(inputs: Any, spec: Any, threshold: float) -> LiveValues:
    """{metric id: {(attribute, group): value or None}} for every threshold-dependent metric."""
    from assessment.evaluation.engine import point_metrics_at_threshold

    out = point_metrics_at_threshold(inputs, spec, float(threshold))
    values: LiveValues = {}
    for entry in [out["overall"], *out["groups"]]:
        key = (entry["attribute"], entry["group"])
        for metric, v in (entry.get("metrics") or {}).items():
            values.setdefault(metric, {})[key] = None if v is None else float(v)
    return values


class LiveThreshold:
    """The results page's worker lane for the fast path (a mixin of the page)."""

    _live_cache: dict[tuple[int, float], Any]
    _live_pending: tuple[int, float] | None
    _result_serial: Any
    ctx: Any
    refresh: Any
    session: Any
    tasks: Any
    threshold: Any

    def _request_live(self, threshold: float) -> None:
        """Run the fast path in a worker (a million rows take longer than a frame).

        A quick task in the page's own runner: it neither cancels a running evaluation (the
        data page's) nor is cancelled by one; a newer threshold cancels it.
        """
        inputs, spec, serial = self.session.inputs, self.session.spec, self._result_serial
        if self._live_pending == (serial, threshold):
            return
        self._live_pending = (serial, threshold)

        def work(progress: Any, cancelled: Any) -> Any:
            return metrics_at_threshold(inputs, spec, threshold)

        def failed(exc: BaseException) -> None:
            if self._live_pending == (serial, threshold):
                self._live_pending = None
            self.ctx.show_error(exc)

        self.tasks.run(work, lambda out: self._live_ready(serial, threshold, out),
                       on_error=failed, quiet=True)

    def _live_ready(self, serial: int, threshold: float, values: Any) -> None:
        if self._live_pending == (serial, threshold):
            self._live_pending = None
        self._live_cache[(serial, threshold)] = values
        if len(self._live_cache) > 64:
            self._live_cache.pop(next(iter(self._live_cache)))
        if serial == self._result_serial and self.threshold == threshold:
            self.refresh()
