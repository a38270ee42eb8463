"""The results page's view-model (gui/results/state.py): plain state and typed events, no Qt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assessment.evaluation.result import EvaluationResult
from gui.results.state import ResultShown, ResultsViewModel, SelectionChanged, ThresholdMoved

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.probity"


@pytest.fixture(scope="module")
def result() -> EvaluationResult:
    """The demo's result (read as stored, whatever its schema version)."""
    data = json.loads(DEMO.read_text(encoding="utf-8"))["evaluation"]
    from assessment.evaluation.record import EvaluationRecord

    if "config" in data:  # schema 1
        record, _ = EvaluationRecord.from_v1(data["config"], data["result"])
    else:
        record = EvaluationRecord.from_json(data)
    assert record is not None and record.result is not None
    return record.result


def _recording(vm: ResultsViewModel) -> list[object]:
    events: list[object] = []
    vm.subscribe(events.append)
    return events


def test_a_result_selects_its_first_attribute_and_the_evaluated_threshold(result) -> None:
    vm = ResultsViewModel("auroc")
    events = _recording(vm)
    vm.show(result)
    assert events == [ResultShown(result, 1)]
    assert vm.attributes == result.attributes() and vm.attribute == result.attributes()[0]
    assert vm.threshold is None and vm.shown_threshold == result.threshold == 0.15


def test_selection_and_threshold_events(result) -> None:
    vm = ResultsViewModel("auroc")
    vm.show(result)
    events = _recording(vm)
    vm.select(metric="tpr")
    vm.select(metric="tpr")  # no change, no event
    vm.select(attribute=None)  # all attributes
    vm.move_threshold(0.3)
    vm.move_threshold(0.15 + 1e-13)  # the evaluated threshold: back to None
    assert events == [
        SelectionChanged("tpr", result.attributes()[0]),
        SelectionChanged("tpr", None),
        ThresholdMoved(0.3),
        ThresholdMoved(None),
    ]
    vm.snap_to_grid(0.31)  # the grid's nearest point, no redraw
    assert vm.threshold == 0.31 and len(events) == 4


def test_a_new_result_keeps_an_attribute_it_has_and_resets_the_threshold(result) -> None:
    vm = ResultsViewModel("auroc")
    vm.show(result)
    vm.select(attribute="gender")
    vm.move_threshold(0.4)
    vm.show(result)
    assert vm.attribute == "gender" and vm.threshold is None and vm.serial == 2
    vm.select(attribute="no such attribute")
    vm.show(result)
    assert vm.attribute == result.attributes()[0]


def test_no_result_and_reset(result) -> None:
    vm = ResultsViewModel("auroc")
    events = _recording(vm)
    vm.move_threshold(0.2)  # nothing shown: nothing to move
    assert events == [] and vm.threshold is None and vm.evaluated_threshold is None
    vm.show(result)
    vm.select(metric="ppv")
    vm.reset()
    assert (vm.result, vm.metric, vm.attribute, vm.threshold) == (None, "auroc", None, None)
    assert events[-1] == ResultShown(None, 2)
