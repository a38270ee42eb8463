"""pyqtgraph views of a comparison: overlaid ROC curves, decision curves and a forest plot,
one colour per model (Okabe–Ito, as the results page). ``shown`` keeps what was drawn so tests
assert on plotted data, not pixels."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from gui.compare import view
from gui.results.plots import _legend, _plot_widget, colour

REFERENCE = {"treat all": "#606060", "treat none": "#303030"}


class ComparisonPlots(QWidget):
    def __init__(self) -> None:
        super().__init__()
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.roc = _plot_widget("ROC curves", "1 − specificity (FPR)", "Sensitivity (TPR)")
        self.dca = _plot_widget("Decision curves", "Threshold probability", "Net benefit")
        row.addWidget(self.roc)
        row.addWidget(self.dca)
        lay.addLayout(row)
        self.forest = _plot_widget("AUROC per group (95% CI)", "AUROC", "")
        self.forest.setMinimumHeight(320)
        lay.addWidget(self.forest)
        self.shown: dict[str, Any] = {}

    def show_group(self, doc: dict[str, Any], key: view.GroupKey) -> None:
        names = [m["name"] for m in doc["models"]]
        where = view.key_label(key)
        self.roc.getPlotItem().setTitle(f"ROC curves · {where}")
        self.dca.getPlotItem().setTitle(f"Decision curves · {where}")
        self._roc(doc, key, names)
        self._dca(doc, key, names)
        self._forest(doc, names)

    def _roc(self, doc: dict[str, Any], key: view.GroupKey, names: list[str]) -> None:
        item = self.roc.getPlotItem()
        item.clear()
        legend = _legend(item, (-10, 10))
        legend.clear()
        item.plot([0, 1], [0, 1], pen=pg.mkPen("#999999", style=Qt.PenStyle.DashLine))
        shown = {}
        for i, m in enumerate(doc["models"]):
            curve = view.roc(m, key)
            if curve is None:
                continue
            item.plot(curve[0], curve[1], pen=pg.mkPen(colour(i), width=2), name=names[i])
            shown[names[i]] = curve
        self.shown["roc"] = shown

    def _dca(self, doc: dict[str, Any], key: view.GroupKey, names: list[str]) -> None:
        item = self.dca.getPlotItem()
        item.clear()
        legend = _legend(item, (-10, 10))
        legend.clear()
        shown = {}
        top = 0.01
        for c in view.curves(doc, key):
            name = c["model"]
            ys = [float("nan") if v is None else v for v in c["values"]]
            if name in REFERENCE:
                pen = pg.mkPen(REFERENCE[name], width=1, style=Qt.PenStyle.DotLine
                               if name == "treat all" else Qt.PenStyle.SolidLine)
            else:
                pen = pg.mkPen(colour(names.index(name)), width=2)
                top = max([top, *[y for y in ys if y == y]])
            item.plot(c["thresholds"], ys, pen=pen, name=name)
            shown[name] = (c["thresholds"], ys)
        item.setYRange(-0.25 * top, 1.05 * top)
        self.shown["decision"] = shown

    def _forest(self, doc: dict[str, Any], names: list[str]) -> None:
        item = self.forest.getPlotItem()
        item.clear()
        rows: list[tuple[str, int, Any]] = []
        for key in view.group_keys(doc):
            if key[0] is not None and "×" in key[0]:
                continue
            for i, m in enumerate(doc["models"]):
                g = view.model_group(m, key) or {}
                rows.append((view.key_label(key), i, g.get("metrics", {}).get("auroc")))
        ticks = []
        for r, (label, i, metric) in enumerate(rows):
            y = -r
            ticks.append((y, f"{label} · {names[i]}"))
            if not metric or metric.get("value") is None:
                continue
            lo, hi = metric.get("ci_low"), metric.get("ci_high")
            if lo is not None and hi is not None:
                item.plot([lo, hi], [y, y], pen=pg.mkPen(colour(i), width=2))
            item.plot([metric["value"]], [y], pen=None, symbol="o", symbolSize=7,
                      symbolBrush=colour(i), symbolPen=colour(i))
        item.getAxis("left").setTicks([ticks])
        self.forest.setMinimumHeight(max(320, 16 * len(rows)))
        self.shown["forest"] = rows
