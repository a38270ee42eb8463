"""Results page threshold: discrete stops, the number box, re-run with intervals through the
data page, the forest plot's legend and shapes, empty-plot messages, a 1024 × 768 screen."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QSize

from assessment.document import Assessment
from assessment.evaluation.engine import point_metrics_at_threshold
from gui.data.page import ValidationDataPage
from gui.data.session import EvaluationSession
from gui.data.table_model import RAW_ROLE
from gui.results.page import ResultsPage
from gui.results.plots import FOREST_KINDS, legend_entries
from gui.results.threshold import discrete_stops, equivalent_stop
from gui.results.views import CALIBRATION_EMPTY, NO_TRAINING_SHARES, SHARES_EMPTY


@pytest.fixture(autouse=True)
def collect_garbage_on_ui_thread():
    yield
    gc.collect()


def test_discrete_stops_and_equivalence() -> None:
    deciles = np.repeat(np.arange(1.0, 11.0), 7)
    assert discrete_stops(deciles, [], "score", 101) == [float(v) for v in range(1, 11)]
    assert discrete_stops(np.array([0.5, np.nan, 2.0]), [], "score", 101) == [0.5, 2.0]
    rng = np.random.default_rng(0)
    assert discrete_stops(rng.random(5000), [], "probability", 101) is None  # continuous
    # Probabilities given in tenths are discrete too (from the data in memory).
    assert discrete_stops(np.round(rng.random(500), 1), [], "probability", 101) == [
        pytest.approx(v / 10) for v in range(11)]
    # Without the data: a raw score's collapsed quantile grid is its values; a full grid or a
    # probability grid is continuous.
    assert discrete_stops(None, [1, 2, 3, 5], "score", 101) == [1.0, 2.0, 3.0, 5.0]
    assert discrete_stops(None, list(np.linspace(0, 1, 101)), "probability", 101) is None
    assert discrete_stops(None, list(np.linspace(3, 40, 101)), "score", 101) is None
    stops = [1.0, 2.0, 3.0, 5.0]
    # score >= t: any t in (2, 3] classifies like 3
    assert [equivalent_stop(stops, t) for t in (0.2, 1.0, 2.0, 2.01, 3.0, 4.0, 9.0)] == [
        0, 0, 1, 2, 2, 3, 3]


def decile_frame(n: int = 1500, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], n, p=[0.3, 0.7])
    decile = rng.integers(1, 11, n)
    y = (rng.random(n) < 0.1 + 0.07 * decile).astype(int)
    return pd.DataFrame({"two_year_recid": y, "decile_score": decile, "sex": sex})


def run(qtbot, data: ValidationDataPage, results: ResultsPage, path: Path,
        threshold: float | None = 5.0, attributes: tuple[str, ...] = ("sex",)) -> None:
    with qtbot.waitSignal(data.table_loaded, timeout=30000):
        data.load_file(str(path))
    data.check_now()
    data.set_attributes(list(attributes))
    data.bootstrap_spin.setValue(200)
    if threshold is not None:
        data.threshold_spin.setValue(threshold)
    with qtbot.waitSignal(results.refreshed, timeout=60000):
        data.run_evaluation()


@pytest.fixture
def deciles(qtbot, ctx, tmp_path) -> tuple[ValidationDataPage, ResultsPage]:
    path = tmp_path / "deciles.csv"
    decile_frame().to_csv(path, index=False)
    data, results = ValidationDataPage(ctx), ResultsPage(ctx)
    qtbot.addWidget(data)
    qtbot.addWidget(results)
    results.show()
    run(qtbot, data, results, path)
    assert data.output_kind.currentData() == "score"  # deciles read as a raw score
    return data, results


def _rows(page: ResultsPage) -> list[dict]:
    proxy, names = page.proxies["groups"], page.models["groups"].column_names()
    return [{names[c]: proxy.data(proxy.index(r, c), RAW_ROLE) for c in range(len(names))}
            for r in range(proxy.rowCount())]


def _select(qtbot, page: ResultsPage, metric: str) -> None:
    page.metric_combo.setCurrentIndex(page.metric_combo.findData(metric))
    with qtbot.waitSignal(page.refreshed, timeout=5000):
        page._selection_changed(user=True)


def test_slider_snaps_to_the_deciles_and_the_box_follows(qtbot, deciles, ctx):
    data, page = deciles
    assert page.stops == [float(v) for v in range(1, 11)]
    assert (page.slider.minimum(), page.slider.maximum()) == (0, 9)
    assert page.slider.value() == 4 and page.threshold_box.value() == 5.0  # evaluated at 5
    _select(qtbot, page, "tpr")
    with qtbot.waitSignal(page.refreshed, timeout=5000):
        page.slider.setValue(6)
    assert page.threshold == 7.0 and page.threshold_box.value() == 7.0
    session = EvaluationSession.of(ctx)
    expected = point_metrics_at_threshold(session.inputs, session.spec, 7.0)
    assert _rows(page)[0]["Value"] == pytest.approx(expected["overall"]["metrics"]["tpr"])
    # A typed threshold shows the decile it is equivalent to (score >= 7.5 is score >= 8).
    with qtbot.waitSignal(page.refreshed, timeout=5000):
        page.threshold_box.setValue(7.5)
    assert page.threshold == 8.0 and page.slider.value() == 7
    assert page.threshold_box.value() == 8.0
    # Typing a value equivalent to the evaluated threshold is the evaluated one, intervals and all.
    page.threshold_box.setValue(4.2)
    assert page.threshold is None and page.slider.value() == 4
    assert _rows(page)[0]["CI low"] is not None
    assert not page.rerun_button.isEnabled()  # nothing to re-run at the evaluated threshold


def test_rerun_with_intervals_goes_through_the_data_page(qtbot, deciles, ctx):
    data, page = deciles
    with qtbot.waitSignal(page.refreshed, timeout=5000):
        page.slider.setValue(7)
    assert page.threshold == 8.0 and page.rerun_button.isEnabled()
    with qtbot.waitSignal(page.refreshed, timeout=60000):
        page.rerun_button.click()
    # The document stores the new run; slider, box and data page agree on its threshold.
    assert ctx.doc.evaluation is not None and ctx.doc.evaluation.result.threshold == 8.0
    assert data.threshold_value() == 8.0
    assert page.threshold is None and page.evaluated_threshold == 8.0
    assert page.slider.value() == 7 and page.threshold_box.value() == 8.0
    assert _rows(page)[0]["CI low"] is not None  # intervals at the new threshold
    assert not page.rerun_button.isEnabled()
    assert ctx.doc.undo()  # an ordinary, undoable evaluation change
    assert ctx.doc.evaluation.result.threshold == 5.0


def test_rerun_refuses_clearly_without_data(qtbot, ctx, dialogs):
    data = ValidationDataPage(ctx)
    qtbot.addWidget(data)
    data.run_at_threshold(0.3)
    assert dialogs.messages[-1].startswith("Re-running needs the validation data")


def test_a_second_document_keeps_no_threshold_state(qtbot, deciles, ctx):
    _data, page = deciles
    with qtbot.waitSignal(page.refreshed, timeout=5000):
        page.slider.setValue(8)
    assert page.threshold == 9.0
    EvaluationSession.of(ctx).clear()
    ctx.set_document(Assessment.new())
    assert page.result is None and page.threshold is None and page.stops is None
    assert not page.threshold_box.isEnabled() and not page.rerun_button.isEnabled()


def test_forest_legend_shapes_and_empty_plot_messages(qtbot, deciles, ctx):
    _data, page = deciles
    page.forest.show("AUROC by group", [
        {"label": "a", "value": 0.7, "low": 0.6, "high": 0.8, "flagged": False,
         "insufficient": False},
        {"label": "b", "value": 0.5, "low": 0.4, "high": 0.6, "flagged": True,
         "insufficient": False},
        {"label": "c", "value": 0.6, "low": None, "high": None, "flagged": False,
         "insufficient": True},
    ], 0.65)
    entries = legend_entries(page.forest.plot.getPlotItem())
    assert entries == [(name, symbol) for name, symbol, _fill in FOREST_KINDS.values()]
    assert len({symbol for _n, symbol in entries}) == 3  # shape, not colour alone
    scatter = [i for i in page.forest.plot.getPlotItem().listDataItems()
               if i.opts.get("name") == FOREST_KINDS["flagged"][0]]
    assert len(scatter) == 1 and list(scatter[0].data["y"]) == [1.0]  # "b", second from top
    # Only the kinds present are in the legend.
    page.forest.show("x", [{"label": "a", "value": 0.7, "low": 0.6, "high": 0.8}], None)
    assert legend_entries(page.forest.plot.getPlotItem()) == [
        (FOREST_KINDS["ok"][0], FOREST_KINDS["ok"][1])]
    # A raw score has no calibration; no training counts, no reference: no shares.
    with qtbot.waitSignal(page.refreshed, timeout=5000):
        page.attribute_combo.setCurrentIndex(page.attribute_combo.findData("sex"))
        page._selection_changed(user=True)
    assert page.calibration.shown == {} and page.calibration.message == CALIBRATION_EMPTY["score"]
    assert page.roc.message == "" and page.roc.shown
    assert page.shares.message == SHARES_EMPTY.format(attribute="sex")
    texts = [i for i in page.calibration.widget.getPlotItem().items
             if type(i).__name__ == "TextItem"]
    assert texts and texts[0].toPlainText() == CALIBRATION_EMPTY["score"]


def test_shares_say_when_the_training_cohort_is_missing(qtbot, ctx, tmp_path):
    from gui.results.plots import ShareBars

    result_rows = [type("R", (), {"group": g, "validation_share": v, "training_share": None,
                                  "reference_share": r})()
                   for g, v, r in (("Female", 0.3, 0.5), ("Male", 0.7, 0.5))]
    bars = ShareBars()
    qtbot.addWidget(bars.widget)
    bars.show("sex", result_rows, empty="none", no_training=NO_TRAINING_SHARES)
    assert bars.message == NO_TRAINING_SHARES
    assert bars.shown["validation_share"] == [0.3, 0.7]
    bars.show("sex", [], empty="none at all")
    assert bars.message == "none at all"


def test_results_page_fits_a_1024_by_768_screen(qtbot, deciles):
    from tests.gui.helpers import open_window

    _data, page = deciles
    hint = page.minimumSizeHint()
    assert hint.width() <= 1024 - 260 and hint.height() <= 768 - 90, hint
    window = open_window(qtbot, Assessment.new())
    window.go_to("results")
    window_hint = window.minimumSizeHint()
    assert window_hint.width() <= 1024 and window_hint.height() <= 768, window_hint
    window.resize(QSize(1024, 768))
    results = window.page("results")
    qtbot.waitUntil(lambda: results.isVisible())
    assert results.width() >= results.minimumSizeHint().width()


def test_an_empty_plot_has_no_bare_legend_box(qtbot):
    from gui.results.plots import CurvePlot

    plot = CurvePlot("Calibration", "x", "y")
    qtbot.addWidget(plot.widget)
    plot.show("sex", [], empty="Why and how.")
    item = plot.widget.getPlotItem()
    assert plot.message == "Why and how." and not item.legend.isVisible()
    assert [type(i).__name__ for i in item.items] == ["TextItem"]  # no diagonal either
    plot.show("sex", [("F", [0.1, 0.5], [0.2, 0.4])], empty="Why and how.")
    assert plot.message == "" and item.legend.isVisible()
    assert plot.shown == {"F": ([0.1, 0.5], [0.2, 0.4])}


def test_file_new_resets_the_results_threshold_and_the_undo_label(qtbot, dialogs, tmp_path):
    from assessment.instruments import available_instruments
    from gui.errors import Choice
    from tests.gui.helpers import open_window

    path = tmp_path / "deciles.csv"
    decile_frame().to_csv(path, index=False)
    window = open_window(qtbot, Assessment.new())
    data = window.page("data")
    results = window.go_to("results")
    run(qtbot, data, results, path)
    with qtbot.waitSignal(results.refreshed, timeout=5000):
        results.slider.setValue(8)
    assert results.threshold == 9.0 and window.act_undo.text() == "&Undo evaluation"
    name = dict(available_instruments())["probast-2019"]
    dialogs.reply("ask_item", f"{name} (probast-2019)")
    dialogs.reply("ask_save_discard_cancel", Choice.DISCARD)
    assert window.new_document()
    assert results.threshold is None and results.stops is None and results.result is None
    assert not results.rerun_button.isEnabled()
    assert window.act_undo.text() == "&Undo" and not window.act_undo.isEnabled()


def test_reopened_without_data_the_stored_grid_gives_the_stops(qtbot, deciles, ctx):
    _data, page = deciles
    stored = Assessment.from_json(ctx.doc.to_json())
    EvaluationSession.of(ctx).clear()
    ctx.set_document(stored)
    assert page.result is not None
    assert page.stops == [float(v) for v in range(1, 11)]  # the collapsed quantile grid
    _select(qtbot, page, "tpr")
    with qtbot.waitSignal(page.refreshed, timeout=5000):
        page.slider.setValue(2)
    assert page.threshold == 3.0 and page.live_source == "grid"
    assert not page.rerun_button.isEnabled()  # no data in memory to re-run with
