"""The results page's threshold controls: the slider's scale (continuous, or snapping to the
distinct values of a discrete score), the number box beside it and "Re-run with intervals at this
threshold".

A score with few distinct values (COMPAS deciles 1–10, integer points) classifies a row positive
when ``score >= t``: every ``t`` between two neighbouring values gives the same classification as
the upper one. The slider therefore stops only at the distinct values (a continuous slider would
move through long stretches where nothing changes), and a typed threshold shows the value it is
equivalent to. :func:`discrete_stops` and :func:`equivalent_stop` are plain functions, tested
without a window.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

import numpy as np

from gui.results.views_parts import SLIDER_STEPS, ResultsPageParts

#: More distinct scores than this: a continuous slider (a probability, a fine-grained score).
MAX_STOPS = 100


def discrete_stops(scores: Any, grid: Sequence[float], kind: str | None,
                   grid_points: int) -> list[float] | None:
    """The distinct score values the slider stops at, or None for a continuous slider.

    ``scores``: the run's scores in memory (exact), or None when only the stored result is at
    hand; then a raw score whose quantile grid collapsed below ``grid_points`` values is
    discrete and the grid holds its values (a probability grid is 0, 0.01, …, 1: continuous).
    """
    if scores is not None:
        array = np.asarray(scores, dtype=float)
        distinct = np.unique(array[np.isfinite(array)])
        if 1 <= distinct.size <= MAX_STOPS:
            return [float(v) for v in distinct]
        return None
    if kind == "probability" or not grid:
        return None
    values = sorted({float(v) for v in grid})
    if len(values) < grid_points and len(values) <= MAX_STOPS:
        return values
    return None


def equivalent_stop(stops: Sequence[float], threshold: float) -> int:
    """Index of the smallest stop ``>= threshold`` (same classification under ``score >= t``);
    the last stop when the threshold lies above every score."""
    return min(bisect.bisect_left(list(stops), float(threshold) - 1e-12), len(stops) - 1)


class ThresholdScale(ResultsPageParts):
    """The slider's scale: the evaluated threshold, the range and, if discrete, the stops."""

    _stops: list[float] | None = None

    @property
    def evaluated_threshold(self) -> float:
        assert self.result is not None
        return self.result.threshold

    @property
    def stops(self) -> list[float] | None:
        """The distinct values the slider snaps to; None when it is continuous."""
        return self._stops

    def _threshold_range(self) -> tuple[float, float]:
        assert self.result is not None
        grid = self.result.threshold_grid.get("thresholds") or []
        kind = (self.result.provenance.get("mapping") or {}).get("score_kind")
        if grid:
            lo, hi = float(min(grid)), float(max(grid))
        else:
            lo, hi = 0.0, 1.0
        if kind == "probability":
            lo, hi = min(lo, 0.0), max(hi, 1.0)
        t = self.evaluated_threshold
        lo, hi = min(lo, t), max(hi, t)
        return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)

    def _find_stops(self) -> list[float] | None:
        result = self.result
        assert result is not None
        kind = (result.provenance.get("mapping") or {}).get("score_kind")
        if kind == "class":
            return None
        session = self.session
        scores = None
        if session.inputs is not None and self._shows_session_run():
            scores = getattr(session.inputs, "score", None)
            if scores is None:
                return None
        grid = result.threshold_grid.get("thresholds") or []
        points = int((result.spec or {}).get("grid_points") or 101)
        return discrete_stops(scores, grid, kind, points)

    def _configure_slider(self) -> None:
        self._stops = self._find_stops()
        lo, hi = self._threshold_range()
        self.slider.blockSignals(True)
        self.threshold_box.blockSignals(True)
        try:
            if self._stops is not None:
                self.slider.setRange(0, len(self._stops) - 1)
                self.slider.setPageStep(1)
                self.slider.setTickPosition(self.slider.TickPosition.TicksBelow)
                self.slider.setTickInterval(1)
                lo, hi = min(lo, self._stops[0]), max(hi, self._stops[-1])
            else:
                self.slider.setRange(0, SLIDER_STEPS)
                self.slider.setPageStep(SLIDER_STEPS // 10)
                self.slider.setTickPosition(self.slider.TickPosition.NoTicks)
            self.threshold_box.setRange(lo, hi)
            self.threshold_box.setSingleStep(1.0 if self._stops is not None else 0.01)
            self.slider.setValue(self._to_slider(self.evaluated_threshold))
            self.threshold_box.setValue(self.evaluated_threshold)
        finally:
            self.slider.blockSignals(False)
            self.threshold_box.blockSignals(False)
        self.threshold_label.setText(f"{self.evaluated_threshold:.3g}")

    def _to_slider(self, t: float) -> int:
        if self._stops is not None:
            return equivalent_stop(self._stops, t)
        lo, hi = self._threshold_range()
        return round((t - lo) / (hi - lo) * SLIDER_STEPS)

    def _from_slider(self, v: int) -> float:
        if self._stops is not None:
            return self._stops[max(0, min(len(self._stops) - 1, v))]
        lo, hi = self._threshold_range()
        return lo + (hi - lo) * v / SLIDER_STEPS

    def _as_shown_threshold(self, t: float) -> float | None:
        """A threshold as the view-model takes it: on a discrete score the stop it is equivalent
        to, and None when that is the evaluated threshold's stop (same classification: the
        evaluated values, with their intervals)."""
        if self._stops is None:
            return t
        k = equivalent_stop(self._stops, t)
        if k == equivalent_stop(self._stops, self.evaluated_threshold):
            return None
        return self._stops[k]

    def _box_committed(self) -> None:
        if self._binding or self.result is None:
            return
        self.vm.move_threshold(self._as_shown_threshold(float(self.threshold_box.value())))
        self._bind_box()

    def _bind_box(self) -> None:
        """The box shows the threshold the values are at (a typed value snaps to its stop)."""
        if self.result is None:
            return
        self.threshold_box.blockSignals(True)
        try:
            shown = self.vm.shown_threshold
            self.threshold_box.setValue(self.evaluated_threshold if shown is None else shown)
        finally:
            self.threshold_box.blockSignals(False)
        self._update_rerun()

    def _update_rerun(self) -> None:
        """Re-running needs the run's data in memory and a threshold away from the evaluated."""
        can = (self.result is not None and self.threshold is not None
               and self.session.inputs is not None and self._shows_session_run())
        self.rerun_button.setEnabled(bool(can))
        self.rerun_button.setToolTip(
            "Evaluate again at this threshold through the Validation data step: intervals, "
            "disparity flags and the stored result follow" if can else
            "Move the threshold first; re-running needs the validation data loaded in this "
            "window")

    def rerun_at_threshold(self) -> None:
        """Set the data page's threshold to the slider's and run the evaluation there (the
        document stores it as any run)."""
        if self.threshold is None or not self.rerun_button.isEnabled():
            return
        self.session.rerun_requested.emit(float(self.threshold))
