"""The Subgroup results page's view-model: plain state and typed events, no Qt.

:class:`ResultsViewModel` holds what the page shows — the typed result, which metric and
attribute are selected, the slider threshold (``None`` = the evaluated one) and a serial that
changes with every result — and says what changed through typed events. The page's widgets
only bind: a combo or the slider calls :meth:`~ResultsViewModel.select` or
:meth:`~ResultsViewModel.move_threshold`, and the page redraws on the event. The rules (which
attribute stays selected when a new result arrives, when a threshold snaps back to the evaluated
one) are here, testable without a window (``tests/gui/test_results_state.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assessment.evaluation.result import EvaluationResult

#: Thresholds closer than this to the evaluated one are the evaluated one.
SNAP = 1e-12


@dataclass(frozen=True)
class ResultShown:
    """A new result (or none): everything is redrawn."""

    result: EvaluationResult | None
    serial: int


@dataclass(frozen=True)
class SelectionChanged:
    """Another metric or attribute (``None`` = all attributes) is shown."""

    metric: str
    attribute: str | None


@dataclass(frozen=True)
class ThresholdMoved:
    """The slider threshold changed (``None``: back at the evaluated threshold)."""

    threshold: float | None


Event = ResultShown | SelectionChanged | ThresholdMoved
Listener = Callable[[Event], None]


class ResultsViewModel:
    """What the results page shows, for one document (see the module docstring)."""

    def __init__(self, default_metric: str) -> None:
        self.default_metric = default_metric
        self.result: EvaluationResult | None = None
        self.serial = 0
        self.metric = default_metric
        self.attribute: str | None = None
        self.threshold: float | None = None
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    # ------------------------------------------------------------------ queries
    @property
    def attributes(self) -> list[str]:
        return self.result.attributes() if self.result is not None else []

    @property
    def evaluated_threshold(self) -> float | None:
        return self.result.threshold if self.result is not None else None

    @property
    def shown_threshold(self) -> float | None:
        """The threshold the threshold-dependent values are shown at."""
        return self.evaluated_threshold if self.threshold is None else self.threshold

    # ------------------------------------------------------------------ changes
    def show(self, result: EvaluationResult | None) -> None:
        """A new result: the threshold back to the evaluated one; the attribute kept if the
        new result has it, else its first attribute."""
        self.result = result
        self.serial += 1
        self.threshold = None
        if result is None:
            self.attribute = None
        elif self.attribute not in result.attributes():
            attributes = result.attributes()
            self.attribute = attributes[0] if attributes else None
        self._emit(ResultShown(result, self.serial))

    def reset(self) -> None:
        """Another document: the default metric, no attribute, no result."""
        self.metric = self.default_metric
        self.attribute = None
        self.show(None)

    def select(self, *, metric: str | None = None, attribute: str | None | bool = False) -> None:
        """Show another metric and/or attribute (``attribute=None``: all attributes)."""
        new_metric = self.metric if metric is None else metric
        new_attribute = self.attribute if attribute is False else attribute
        assert new_attribute is None or isinstance(new_attribute, str)
        if (new_metric, new_attribute) == (self.metric, self.attribute):
            return
        self.metric, self.attribute = new_metric, new_attribute
        self._emit(SelectionChanged(self.metric, self.attribute))

    def take_over(self, metric: str, attribute: str | None) -> None:
        """The selection a widget was set to by code (no event: the caller redraws)."""
        self.metric, self.attribute = metric, attribute

    def move_threshold(self, threshold: float | None) -> None:
        """The slider moved (``None``, or the evaluated threshold: back to it)."""
        if self.result is None:
            return
        if threshold is not None and abs(float(threshold) - self.result.threshold) < SNAP:
            threshold = None
        threshold = None if threshold is None else float(threshold)
        if threshold == self.threshold:
            return
        self.threshold = threshold
        self._emit(ThresholdMoved(threshold))

    def snap_to_grid(self, threshold: float) -> None:
        """Values come from the stored grid's nearest point: say so without a redraw."""
        self.threshold = float(threshold)


__all__ = [
    "Event",
    "ResultShown",
    "ResultsViewModel",
    "SelectionChanged",
    "ThresholdMoved",
]
