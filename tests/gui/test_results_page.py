"""Results page: tables from the stored result, sorting, plots, live threshold, export."""

from __future__ import annotations

import csv
import gc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt

import gui.errors
from assessment.document import Assessment
from assessment.evaluation.engine import point_metrics_at_threshold
from gui.data.page import ValidationDataPage
from gui.data.session import EvaluationSession
from gui.data.table_model import RAW_ROLE
from gui.results.page import ResultsPage

EVIL = ["=HYPERLINK(\"http://x\")", "+1", "-2", "@cmd"]


@pytest.fixture(autouse=True)
def collect_garbage_on_ui_thread():
    """Collect this test's widget garbage on the UI thread. Left to chance, Python's cyclic GC
    can run inside a later test's worker thread and delete QObjects there (a segfault)."""
    yield
    gc.collect()


def frame(n: int = 2400, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    site = rng.choice(["North", "South", *EVIL], n)
    sex = rng.choice(["F", "M"], n)
    p = 1 / (1 + np.exp(-rng.normal(-0.8, 1.2, n)))
    y = (rng.random(n) < p).astype(int)
    return pd.DataFrame({"label": y, "score": p.round(5), "site": site, "sex": sex})


@pytest.fixture
def evaluated(qtbot, ctx, tmp_path) -> tuple[ValidationDataPage, ResultsPage]:
    path = tmp_path / "v.csv"
    frame().to_csv(path, index=False)
    data = ValidationDataPage(ctx)
    results = ResultsPage(ctx)
    qtbot.addWidget(data)
    qtbot.addWidget(results)
    results.show()  # plots are built when the page is first shown
    with qtbot.waitSignal(data.table_loaded, timeout=20000):
        data.load_file(str(path))
    data.set_attributes(["site", "sex"])
    data.bootstrap_spin.setValue(200)
    with qtbot.waitSignal(results.refreshed, timeout=60000):
        data.run_evaluation()
    return data, results


def rows(page: ResultsPage, key: str = "groups") -> list[dict]:
    proxy = page.proxies[key]
    names = page.models[key].column_names()
    return [
        {names[c]: proxy.data(proxy.index(r, c), RAW_ROLE) for c in range(len(names))}
        for r in range(proxy.rowCount())
    ]


def select_metric(qtbot, page: ResultsPage, metric: str) -> None:
    """Choose a metric and let the whole redraw (tables now, plots next turn) finish."""
    page.metric_combo.setCurrentIndex(page.metric_combo.findData(metric))
    with qtbot.waitSignal(page.refreshed, timeout=5000):
        page.refresh()


def test_empty_before_evaluation(qtbot, ctx):
    page = ResultsPage(ctx)
    qtbot.addWidget(page)
    assert not page.is_complete()
    assert page.models["groups"].rowCount() == 0
    assert "No evaluation yet" in page.source_label.text()
    assert not page.export_button.isEnabled()


def test_tables_show_the_stored_result(qtbot, evaluated, ctx):
    _, page = evaluated
    result = ctx.doc.evaluation.result_json()
    assert page.is_complete() and page.title == "Subgroup results"
    select_metric(qtbot, page, "auroc")
    page.attribute_combo.setCurrentIndex(page.attribute_combo.findData("site"))
    page.refresh()
    shown = rows(page)
    assert shown[0]["Attribute"] == "(all)"
    site = {g["group"]: g for g in result["groups"] if g["attribute"] == "site"}
    assert {r["Group"] for r in shown[1:]} == set(site)
    for r in shown[1:]:
        m = site[r["Group"]]["metrics"]["auroc"]
        assert r["n"] == site[r["Group"]]["n"]
        assert r["Events"] == site[r["Group"]]["n_pos"]
        assert r["Value"] == pytest.approx(m["value"])
        assert r["CI low"] == pytest.approx(m["ci_low"])
        assert r["CI high"] == pytest.approx(m["ci_high"])
    # Disparity rows of the chosen metric, and the other tables, are filled.
    assert page.models["disparities"].rowCount() == sum(
        1 for d in result["disparities"] if d["metric"] == "auroc" and d["attribute"] == "site")
    assert page.models["summary"].rowCount() == len(result["summary"])
    assert page.models["representativeness"].rowCount() == len(result["representativeness"])


def test_sorting_by_value(qtbot, evaluated):
    _, page = evaluated
    select_metric(qtbot, page, "tpr")
    page.views["groups"].sortByColumn(4, Qt.SortOrder.DescendingOrder)
    values = [r["Value"] for r in rows(page) if r["Value"] is not None]
    assert values == sorted(values, reverse=True) and len(values) > 3


def test_flag_colours(qtbot, evaluated, ctx):
    _, page = evaluated
    result = ctx.doc.evaluation.result_json()
    flagged = [d for d in result["disparities"] if d["flagged_adjusted"]]
    metric = flagged[0]["metric"] if flagged else "tpr"
    select_metric(qtbot, page, metric)
    model = page.models["groups"]
    for r in range(model.rowCount()):
        flags = model.data(model.index(r, 7), RAW_ROLE) or ""
        brush = model.data(model.index(r, 7), Qt.ItemDataRole.BackgroundRole)
        assert (brush is not None) == bool(flags)
    shown = {(r["Attribute"], r["Group"]): r for r in rows(page)}
    visible = [d for d in flagged if d["metric"] == metric
               and (d["attribute"], d["group"]) in shown]
    for d in visible[:1]:  # a flagged row of the metric shown names the gap
        match = [shown[(d["attribute"], d["group"])]]
        assert "gap vs reference" in match[0]["Flags"]


def test_plots_draw_the_numbers(qtbot, evaluated, ctx):
    _, page = evaluated
    result = ctx.doc.evaluation.result_json()
    select_metric(qtbot, page, "auroc")
    page.attribute_combo.setCurrentIndex(page.attribute_combo.findData("sex"))
    with qtbot.waitSignal(page.refreshed, timeout=5000):  # plots follow the tables
        page.refresh()
    sex = {g["group"]: g for g in result["groups"] if g["attribute"] == "sex"}
    assert page.forest.shown["labels"] == list(sex)
    assert page.forest.shown["values"] == pytest.approx(
        [sex[k]["metrics"]["auroc"]["value"] for k in sex])
    assert page.forest.shown["low"] == pytest.approx(
        [sex[k]["metrics"]["auroc"]["ci_low"] for k in sex])
    assert len(page.roc.shown) == 2
    for label, (xs, ys) in page.roc.shown.items():
        grp = label.split(" (AUROC")[0]
        assert xs == pytest.approx([v for v in sex[grp]["curves"]["roc"]["fpr"]])
        assert ys[-1] == pytest.approx(1.0)
    assert set(page.calibration.shown) == set(sex)
    assert page.shares.shown["groups"] == [r["group"] for r in result["representativeness"]
                                           if r["attribute"] == "sex"]


def test_threshold_slider_uses_engine_fast_path(qtbot, evaluated, ctx):
    _, page = evaluated
    select_metric(qtbot, page, "tpr")
    with qtbot.waitSignal(page.refreshed, timeout=5000):
        page.slider.setValue(200)  # 0.2 on a probability score
    assert page.threshold == pytest.approx(0.2)
    assert page.live_source == "engine"
    session = EvaluationSession.of(ctx)
    expected = point_metrics_at_threshold(session.inputs, session.spec, 0.2)
    by_key = {(g["attribute"], g["group"]): g["metrics"]["tpr"] for g in expected["groups"]}
    for r in rows(page):
        if r["Attribute"] == "(all)":
            assert r["Value"] == pytest.approx(expected["overall"]["metrics"]["tpr"])
        else:
            assert r["Value"] == pytest.approx(by_key[(r["Attribute"], r["Group"])])
        assert r["CI low"] is None  # intervals belong to the evaluated threshold only
    assert "0.2" in page.threshold_note.text()
    assert page.forest.shown["values"] == pytest.approx(
        [r["Value"] for r in rows(page) if r["Attribute"] != "(all)" and r["Value"] is not None])
    page.reset_threshold()
    assert page.threshold is None
    assert rows(page)[0]["CI low"] is not None


def test_threshold_from_stored_grid_without_data(qtbot, evaluated, ctx):
    _, page = evaluated
    stored = Assessment.from_json(ctx.doc.to_json())
    EvaluationSession.of(ctx).clear()
    ctx.set_document(stored)
    select_metric(qtbot, page, "ppv")
    page.set_threshold(0.3)
    assert page.live_source == "grid"
    grid = stored.evaluation.result_json()["threshold_grid"]
    k = int(np.argmin(np.abs(np.array(grid["thresholds"]) - 0.3)))
    expected = {(g["attribute"], g["group"]): g["ppv"][k] for g in grid["groups"]}
    for r in rows(page):
        want = expected[(r["Attribute"], r["Group"])]
        assert (r["Value"] is None and want is None) or r["Value"] == pytest.approx(want)


def test_export_csv_and_xlsx_neutralise_formulas(qtbot, evaluated, tmp_path, monkeypatch):
    _, page = evaluated
    select_metric(qtbot, page, "tpr")
    page.attribute_combo.setCurrentIndex(page.attribute_combo.findData("site"))
    page.refresh()
    out_csv = tmp_path / "groups.csv"
    monkeypatch.setattr(gui.errors, "ask_save_path", lambda *a, **k: out_csv)
    page.export_button.click()
    with open(out_csv, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0][:5] == ["Attribute", "Group", "n", "Events", "Value"]
    groups = [row[1] for row in table[1:]]
    for evil in EVIL:
        assert "'" + evil in groups
        assert evil not in groups
    assert len(table) - 1 == page.proxies["groups"].rowCount()

    out_xlsx = page.export_to(tmp_path / "all")
    assert out_xlsx.suffix == ".xlsx"
    wb = load_workbook(out_xlsx)
    assert "Groups (all metrics)" in wb.sheetnames and "Disparities" in wb.sheetnames
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@"))
                    seen.add(cell.value)
    assert "'" + EVIL[0] in seen


def test_export_error_goes_to_funnel(qtbot, evaluated, tmp_path, monkeypatch):
    _, page = evaluated
    shown: list[str] = []
    monkeypatch.setattr(gui.errors, "show_message", lambda *a, **k: shown.append(a[2]))
    monkeypatch.setattr(gui.errors, "ask_save_path",
                        lambda *a, **k: tmp_path / "missing" / "x.csv")
    page.export_button.click()
    assert shown and "does not exist" in shown[0]
    assert not Path(tmp_path / "missing").exists()


def test_undo_of_the_evaluation_clears_the_results(qtbot, evaluated, ctx):
    data, page = evaluated
    assert page.is_complete() and data.is_complete()
    assert ctx.doc.undo()
    assert not page.is_complete() and not data.is_complete()
    assert page.models["groups"].rowCount() == 0
    assert ctx.doc.redo()
    assert page.is_complete() and page.models["groups"].rowCount() > 0
    assert data.is_complete()


def test_plot_titles_and_legends_show_names_from_the_data_literally(qtbot):
    """pyqtgraph renders titles, axis labels and legend entries as HTML; group and column
    names come from the reviewer's file and must appear exactly as written."""
    from gui.results.plots import CurvePlot, ForestPlot, ShareBars

    hostile = "<b>x</b> &amp; <img src=/etc/hostname>"
    curves = CurvePlot("ROC", "1 - specificity", "Sensitivity")
    qtbot.addWidget(curves.widget)
    curves.show(hostile, [(hostile, [0.0, 0.5, 1.0], [0.0, 0.7, 1.0])])
    item = curves.widget.getPlotItem()
    assert item.titleLabel.item.toPlainText() == f"ROC — {hostile}"
    legend_label = item.legend.items[0][1]
    assert legend_label.item.toPlainText() == hostile

    forest = ForestPlot()
    qtbot.addWidget(forest.widget)
    forest.show(f"AUROC by group ({hostile})", [
        {"label": hostile, "value": 0.7, "low": 0.6, "high": 0.8}], 0.7)
    title = forest.plot.getPlotItem().titleLabel.item.toPlainText()
    assert title == f"AUROC by group ({hostile})"

    shares = ShareBars()
    qtbot.addWidget(shares.widget)
    from assessment.evaluation.result import RepresentativenessRow

    shares.show(hostile, [RepresentativenessRow(hostile, hostile, 10, 0.5, *[None] * 6)])
    assert shares.widget.getPlotItem().titleLabel.item.toPlainText() == (
        f"Representativeness — {hostile}")
