"""The document session: New, Open and Recover after the demo leave no trace of it on any page.

"No trace" is checked two ways. Every page of the window is walked and its widgets' visible
state (texts, choices, ticks, values, tabs, table contents, plots) compared with a second,
fresh window showing the same document; and the reproduction of issue 10 is asserted
directly (file, mapping, named reference, intersections, seed, "Done: … rows evaluated",
green ticks of an empty assessment).
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QSlider,
    QTabWidget,
    QTextEdit,
    QWidget,
)

from assessment import locks, storage
from assessment.document import Assessment
from gui.data.page import DEFAULT_SEED
from gui.data.session import EvaluationSession
from gui.errors import Choice
from gui.main_window import MainWindow
from tests.gui.helpers import open_window

WAIT_MS = 60_000


@pytest.fixture(autouse=True)
def collect_garbage_on_ui_thread():
    """Collect this test's widget garbage on the UI thread (see tests/gui/test_data_page.py)."""
    yield
    gc.collect()


def _model_cells(view: QAbstractItemView, max_rows: int = 60) -> list[Any]:
    model = view.model()
    if model is None:
        return []
    rows, cols = model.rowCount(), model.columnCount()
    header = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(cols)]
    cells = [[model.index(r, c).data() for c in range(cols)] for r in range(min(rows, max_rows))]
    return [rows, cols, header, cells]


def widget_state(root: QWidget) -> list[tuple[Any, ...]]:
    """What a person can see of every widget under ``root``, in creation order."""
    out: list[tuple[Any, ...]] = []
    for w in root.findChildren(QWidget):
        if w.window() is not root.window():  # a combo box's popup list
            continue
        if isinstance(w, QLabel):
            state: Any = (w.text(), w.toolTip())
        elif isinstance(w, QLineEdit):
            state = w.text()
        elif isinstance(w, QPlainTextEdit | QTextEdit):
            state = w.toPlainText()
        elif isinstance(w, QComboBox):
            state = (w.currentText(), [w.itemText(i) for i in range(w.count())])
        elif isinstance(w, QAbstractSpinBox):
            state = w.text()
        elif isinstance(w, QAbstractButton):
            state = (w.text(), w.isChecked(), w.toolTip())
        elif isinstance(w, QListWidget):
            state = [
                (w.item(i).text(), w.item(i).checkState().value, w.item(i).toolTip())
                for i in range(w.count())
            ]
        elif isinstance(w, QAbstractItemView):
            state = _model_cells(w)
        elif isinstance(w, QTabWidget):
            state = (w.currentIndex(), [w.tabText(i) for i in range(w.count())])
        elif isinstance(w, QSlider | QProgressBar):
            state = (w.minimum(), w.maximum(), w.value())
        else:
            continue
        out.append((type(w).__name__, w.objectName(), state, w.isVisibleTo(root), w.isEnabled()))
    return out


def plots_state(page: Any) -> list[Any]:
    """What the results page's plots show (pyqtgraph items are not widgets)."""
    if not getattr(page, "_plots_built", False):
        return []
    return [page.forest.shown, page.roc.shown, page.calibration.shown, page.shares.shown]


def walk_pages(qtbot, window: MainWindow) -> dict[str, Any]:
    """Show every step once (as a reviewer clicking down the list) and record its state."""
    states: dict[str, Any] = {}
    for step in window.steps:
        page = window.go_to(step.key)
        if hasattr(page, "refresh_now"):
            page.refresh_now()
    qtbot.wait(50)  # deferred refreshes and plot draws
    for step in window.steps:
        page = window.page(step.key)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        states[step.key] = (widget_state(page), plots_state(page))
    window.refresh_steps()
    states["step icons"] = [
        (window.step_list.item(r).text(), window.step_list.item(r).toolTip())
        for r in range(window.step_list.count())
    ]
    return states


def assert_same_pages(qtbot, used: MainWindow, fresh: MainWindow) -> None:
    before, after = walk_pages(qtbot, used), walk_pages(qtbot, fresh)
    assert list(before) == list(after)
    for key in before:
        differing = [(a, b) for a, b in zip(before[key][0], after[key][0], strict=False) if a != b]
        assert not differing, f"page {key!r} still shows the previous document: {differing[:3]}"
        assert before[key] == after[key], f"page {key!r} still shows the previous document"


def run_demo_evaluation(qtbot, window: MainWindow) -> None:
    """The reproduction of issue 10: the demo's data loaded, a named reference, another
    intersection, the evaluation run ("Done: … rows evaluated"), the results browsed."""
    data = window.page("data")
    with qtbot.waitSignal(data.table_loaded, timeout=WAIT_MS):
        window.go_to("data")  # the demo's own (hash-verified) data file opens
    assert data.seed_spin.value() == 296  # the demo's stored seed
    data.reference_combo.setCurrentIndex(data.reference_combo.findData("value"))
    data._reference_kind_changed()
    combo = data.reference_value_combos["race"]
    combo.setCurrentIndex(2)
    data.set_intersections([("race", "gender"), ("gender", "age_band")])
    data.bootstrap_spin.setValue(0)
    with qtbot.waitSignal(data.evaluation_finished, timeout=WAIT_MS):
        data.run_evaluation()
    assert data.status.text().startswith("Done: ") and "rows evaluated" in data.status.text()
    results = window.go_to("results")
    qtbot.waitUntil(lambda: results.result is not None, timeout=WAIT_MS)
    results.table_tabs.setCurrentIndex(1)
    results.plot_tabs.setCurrentIndex(2)
    results.metric_combo.setCurrentIndex(results.metric_combo.findData("tpr"))
    results.set_threshold(0.3)


def assert_no_demo_left(window: MainWindow) -> None:
    data = window.page("data")
    assert data.table is None and data.path is None
    assert data.file_label.text() == "No data file loaded."
    assert data.preview_model.rowCount() == 0
    assert data.outcome_combo.count() == 0 and data.attr_list.count() == 0
    assert data.intersection_list.count() == 0 and not data.reference_value_combos
    assert data.reference_combo.currentData() == "largest"
    assert data.seed_spin.value() == DEFAULT_SEED
    assert "rows evaluated" not in data.status.text()
    assert not data.is_complete() and not data.run_button.isEnabled()
    session = EvaluationSession.of(window.ctx)
    assert session.inputs is None and session.result is None
    results = window.page("results")
    assert results.result is None and results.threshold is None
    assert results.table_tabs.currentIndex() == 0
    assert all(model.rowCount() == 0 for model in results.models.values())
    assert not results.is_complete()
    if results._plots_built:
        assert results.forest.shown["labels"] == [] and results.roc.shown == {}


def new_assessment(window: MainWindow, dialogs) -> Assessment:
    from assessment.instruments import available_instruments

    name = dict(available_instruments())["probast-2019"]
    dialogs.reply("ask_item", f"{name} (probast-2019)")
    assert window.new_document()
    return window.ctx.doc


@pytest.mark.slow
def test_new_after_the_demo_leaves_no_trace_on_any_page(qtbot, dialogs):
    used = open_window(qtbot, Assessment.new())
    assert used.open_demo()
    run_demo_evaluation(qtbot, used)
    dialogs.reply("ask_save_discard_cancel", Choice.DISCARD)
    doc = new_assessment(used, dialogs)
    assert_no_demo_left(used)
    # The step icons of an empty assessment are right at once, before any edit.
    used.refresh_steps()
    icons = {
        used.step_list.item(r).data(Qt.ItemDataRole.UserRole + 1): used.step_list.item(r).toolTip()
        for r in range(used.step_list.count())
    }
    assert not any(tip.startswith("Complete") for tip in icons.values()), icons
    fresh = open_window(qtbot, Assessment.from_json(doc.to_json()))
    assert_same_pages(qtbot, used, fresh)
    # Run after New evaluates nothing of the demo's patients into this assessment.
    used.page("data").run_evaluation()
    assert dialogs.messages[-1].startswith("Load a validation data file first")
    assert used.ctx.doc.evaluation is None


@pytest.mark.slow
def test_open_and_recover_after_the_demo_leave_no_trace(qtbot, tmp_path, dialogs):
    other = Assessment.new("probast-2019")
    other.set_field("model_card", "model_name", "Other study")
    other.set_answer("1.1@development", "Y")
    path = tmp_path / "other.probity"
    storage.save(other, path)

    used = open_window(qtbot, Assessment.new())
    assert used.open_demo()
    run_demo_evaluation(qtbot, used)
    dialogs.reply("ask_save_discard_cancel", Choice.DISCARD)
    assert used.load_file(path)
    assert_no_demo_left(used)
    fresh = open_window(qtbot, Assessment.new())
    dialogs.reply("ask_choice", "Open anyway")  # `used` has it open (its lock file)
    assert fresh.load_file(path)
    assert_same_pages(qtbot, used, fresh)

    # Recovery of a crashed session's edits also replaces every page's state.
    assert used.open_demo()
    run_demo_evaluation(qtbot, used)
    edited = storage.load(path)
    edited.set_notes("typed before the crash")
    folder = used.ctx.paths.recovery_dir
    folder.mkdir(parents=True, exist_ok=True)
    crashed = locks.Instance()  # the window that wrote it is gone
    crashed.close()
    storage.write_recovery(edited, folder, Path(path), owner=crashed.owner)
    dialogs.reply("ask_yes_no", True)
    dialogs.reply("ask_choice", "Open anyway")  # now `fresh` has it open
    assert used.offer_recovery(only=Path(path))
    assert used.ctx.doc.notes == "typed before the crash"
    assert_no_demo_left(used)
