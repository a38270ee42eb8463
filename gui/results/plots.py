"""pyqtgraph views of an evaluation result: forest plot, ROC, calibration, representativeness.

Each view draws numbers it is given (from the result snapshot or the engine's threshold fast
path) and keeps them in ``self.shown`` so tests assert on plotted data, not pixels. Light
background, Okabe–Ito colours (distinguishable with colour-vision deficiency), no dark theme.
pyqtgraph is imported only when the results page builds its plots, keeping start-up fast.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

if TYPE_CHECKING:
    from assessment.evaluation.result import RepresentativenessRow

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
             "#F0E442")
FLAG_COLOUR = "#C0392B"
INSUFFICIENT_COLOUR = "#8A8A8A"
OK_COLOUR = "#0072B2"
AXIS_COLOUR = "#303030"
MAX_CURVES = 8


def colour(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


def _plot_widget(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    widget = pg.PlotWidget(background="w")
    item = widget.getPlotItem()
    item.setTitle(title, color=AXIS_COLOUR, size="11pt")
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(AXIS_COLOUR))
        axis.setTextPen(pg.mkPen(AXIS_COLOUR))
        axis.setStyle(tickFont=QFont("DejaVu Sans", 9))
        axis.enableAutoSIPrefix(False)  # proportions read 0.65, never "650 (x0.001)"
    item.setLabel("bottom", x_label, color=AXIS_COLOUR)
    item.setLabel("left", y_label, color=AXIS_COLOUR)
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setMenuEnabled(False)
    widget.setMinimumHeight(240)
    return widget


def _legend(item: pg.PlotItem, offset: tuple[int, int]) -> pg.LegendItem:
    """Legend in a corner the data leaves free: (-x, -y) = bottom right, (x, y) = top left."""
    return item.addLegend(offset=offset, labelTextColor=AXIS_COLOUR,
                          brush=pg.mkBrush(255, 255, 255, 230), pen=pg.mkPen("#bbbbbb"))


def _nan(v: Any) -> float:
    return float("nan") if v is None else float(v)


ROW_PX = 22  # vertical room per group so labels never overlap; more rows scroll

#: The forest plot's kinds of group: legend text, marker symbol, fill.
FOREST_KINDS: dict[str, tuple[str, str, str]] = {
    "ok": ("No flagged gap", "o", OK_COLOUR),
    "flagged": ("Gap vs reference (flagged)", "t", FLAG_COLOUR),
    "insufficient": ("Too few to judge", "s", INSUFFICIENT_COLOUR),
}


def _forest_kind(row: dict[str, Any]) -> str:
    return "flagged" if row.get("flagged") else "insufficient" if row.get("insufficient") else "ok"


def legend_entries(item: pg.PlotItem) -> list[tuple[str, Any]]:
    """(label text, symbol) of each legend entry, read from the plot's items (for tests)."""
    legend = item.legend
    if legend is None:
        return []
    out = []
    for sample, label in legend.items:
        opts = getattr(sample.item, "opts", {})
        out.append((label.text, opts.get("symbol")))
    return out


def _message(item: pg.PlotItem, text: str) -> pg.TextItem:
    """A sentence in the middle of an empty plot: why it is empty and how to fill it."""
    note = pg.TextItem(text, color=AXIS_COLOUR, anchor=(0.5, 0.5))  # plain text: no escaping
    note.setTextWidth(320)
    item.addItem(note)
    note.setPos(0.5, 0.5)
    item.setXRange(0, 1, padding=0)
    item.setYRange(0, 1, padding=0)
    return note


class ForestPlot:
    """A metric by group with its CI as horizontal error bars; reference line at overall.

    ``widget`` is a scroll area: with many intersection cells the plot grows taller (one
    ``ROW_PX`` per group) instead of squeezing its labels on top of each other.
    """

    def __init__(self) -> None:
        from PySide6.QtWidgets import QFrame, QScrollArea

        self.plot = _plot_widget("", "", "")
        self.widget = QScrollArea()
        self.widget.setFrameShape(QFrame.Shape.NoFrame)
        self.widget.setWidgetResizable(True)
        self.widget.setWidget(self.plot)
        self.shown: dict[str, Any] = {"labels": [], "values": [], "low": [], "high": []}

    def clear(self) -> None:
        """Nothing drawn (no evaluation, or another document)."""
        item = self.plot.getPlotItem()
        item.clear()
        item.setTitle("")
        item.getAxis("left").setTicks([[]])
        self.shown = {"labels": [], "values": [], "low": [], "high": []}

    def show(self, title: str, rows: list[dict[str, Any]], overall: float | None) -> None:
        """``rows``: dicts with label, value, low, high, flagged, insufficient (top to bottom)."""
        item = self.plot.getPlotItem()
        self.plot.setMinimumHeight(max(240, 90 + ROW_PX * len(rows)))
        item.clear()
        if item.legend is not None:
            item.legend.clear()
        else:
            _legend(item, (-10, 10))
        item.setTitle(_text(title), color=AXIS_COLOUR, size="11pt")
        item.setLabel("bottom", _text(title.split(" by ")[0]), color=AXIS_COLOUR)
        rows = [r for r in rows if r.get("value") is not None]
        labels = [r["label"] for r in rows]
        values = np.array([_nan(r["value"]) for r in rows], dtype=float)
        low = np.array([_nan(r.get("low")) for r in rows], dtype=float)
        high = np.array([_nan(r.get("high")) for r in rows], dtype=float)
        self.shown = {"labels": labels, "values": values.tolist(), "low": low.tolist(),
                      "high": high.tolist()}
        axis = item.getAxis("left")
        if not rows:
            axis.setTicks([[]])
            item.setTitle(_text(f"{title} — no values to show"), color=AXIS_COLOUR, size="11pt")
            return
        ys = np.arange(len(rows), dtype=float)[::-1]
        has_ci = ~(np.isnan(low) | np.isnan(high))
        if has_ci.any():
            err = pg.ErrorBarItem(
                x=values[has_ci], y=ys[has_ci],
                left=(values - low)[has_ci], right=(high - values)[has_ci],
                beam=0.25, pen=pg.mkPen(AXIS_COLOUR, width=1.5),
            )
            item.addItem(err)
        # Shape and colour both tell the kinds apart (a colour alone fails in greyscale print
        # and for colour-vision deficiency); the legend names each kind shown.
        for kind, (name, symbol, fill) in FOREST_KINDS.items():
            keep = np.array([_forest_kind(r) == kind for r in rows], dtype=bool)
            if not keep.any():
                continue
            item.addItem(pg.ScatterPlotItem(
                x=values[keep], y=ys[keep], size=11, symbol=symbol, brush=pg.mkBrush(fill),
                pen=pg.mkPen("w", width=0.5), name=name))
        if overall is not None and math.isfinite(overall):
            line = pg.InfiniteLine(pos=overall, angle=90,
                                   pen=pg.mkPen("#555555", width=1, style=Qt.PenStyle.DashLine),
                                   label="overall", labelOpts={"color": "#555555",
                                                               "position": 0.97})
            item.addItem(line)
        axis.setTicks([[(float(y), lab) for y, lab in zip(ys, labels, strict=True)]])
        axis.setWidth(min(260, 12 + 7 * max(len(s) for s in labels)))
        lo_all = np.nanmin(np.concatenate([values, low[has_ci]])) if len(values) else 0.0
        hi_all = np.nanmax(np.concatenate([values, high[has_ci]])) if len(values) else 1.0
        pad = max(0.02, 0.05 * (hi_all - lo_all))
        item.setXRange(lo_all - pad, hi_all + pad, padding=0)
        item.setYRange(-0.7, len(rows) - 0.3, padding=0)


class CurvePlot:
    """ROC or calibration curves, one per group of an attribute, with the diagonal."""

    def __init__(self, title: str, x_label: str, y_label: str, *,
                 legend_offset: tuple[int, int] = (-10, -10), fit: bool = False) -> None:
        self.title = title
        self.widget = _plot_widget(title, x_label, y_label)
        self.legend_offset = legend_offset
        self.fit = fit  # zoom to the data (calibration: risks are often all below 0.3)
        self.shown: dict[str, tuple[list[float], list[float]]] = {}
        self.message = ""  # why the plot is empty and how to fill it ("" when it has curves)

    def clear(self) -> None:
        """Only the diagonal (no evaluation, or another document)."""
        self.show("", [])

    def show(self, subtitle: str, curves: list[tuple[str, list[Any], list[Any]]],
             markers: bool = False, empty: str = "") -> None:
        """``empty``: the sentence shown instead of bare axes when no curve can be drawn."""
        item = self.widget.getPlotItem()
        item.clear()
        if item.legend is not None:
            item.legend.clear()
        else:
            _legend(item, self.legend_offset)
        item.setTitle(_text(f"{self.title} — {subtitle}" if subtitle else self.title),
                      color=AXIS_COLOUR, size="11pt")
        diag = pg.PlotDataItem([0, 1], [0, 1],
                               pen=pg.mkPen("#999999", width=1, style=Qt.PenStyle.DashLine))
        item.addItem(diag)
        self.shown = {}
        for i, (label, xs, ys) in enumerate(curves[:MAX_CURVES]):
            x = np.array([_nan(v) for v in xs], dtype=float)
            y = np.array([_nan(v) for v in ys], dtype=float)
            keep = ~(np.isnan(x) | np.isnan(y))
            x, y = x[keep], y[keep]
            if x.size == 0:
                continue
            pen = pg.mkPen(colour(i), width=2)
            kwargs: dict[str, Any] = {"pen": pen, "name": _text(label)}
            if markers:
                kwargs.update(symbol="o", symbolSize=6, symbolBrush=colour(i),
                              symbolPen=pg.mkPen("w"))
            item.addItem(pg.PlotDataItem(x, y, **kwargs))
            self.shown[label] = (x.tolist(), y.tolist())
        self.message = empty if not self.shown and empty else ""
        item.legend.setVisible(not self.message)  # an empty legend box says nothing
        if self.message:
            item.removeItem(diag)
            _message(item, self.message)
            return
        top = 1.0
        if self.fit and self.shown:
            top = max(max(max(xs + ys) for xs, ys in self.shown.values()) * 1.1, 0.1)
            top = min(1.0, top)
        item.setXRange(0, top, padding=0.02)
        item.setYRange(0, top, padding=0.02)


class ShareBars:
    """Validation vs training vs reference-population shares per group, as grouped bars."""

    SERIES = (("validation_share", "Validation data", "#0072B2"),
              ("training_share", "Training cohort", "#E69F00"),
              ("reference_share", "Reference population", "#009E73"))

    def __init__(self) -> None:
        self.widget = _plot_widget("Representativeness", "", "Share of people")
        self.shown: dict[str, list[float]] = {}
        self.message = ""  # why bars are missing and how to add them ("" when all are there)

    def clear(self) -> None:
        """No bars (no evaluation, or another document)."""
        self.show("", [])
        self.shown = {}
        self.message = ""

    def show(self, attribute: str, rows: Sequence[RepresentativenessRow],
             empty: str = "", no_training: str = "") -> None:
        """``empty``: the sentence shown when there are no rows; ``no_training``: the note
        added to the title when the rows have no training-cohort shares."""
        item = self.widget.getPlotItem()
        item.clear()
        if item.legend is not None:
            item.legend.clear()
        else:
            _legend(item, (-10, 10))
        item.setTitle(_text(f"Representativeness — {attribute}" if attribute
                            else "Representativeness"),
                      color=AXIS_COLOUR, size="11pt")
        labels = [r.group for r in rows]
        present = [s for s in self.SERIES if any(getattr(r, s[0]) is not None for r in rows)]
        self.message = ""
        item.legend.setVisible(bool(rows))
        if not rows and empty:
            self.message = empty
            self.shown = {"groups": []}
            item.getAxis("bottom").setTicks([[]])
            _message(item, empty)
            return
        if rows and no_training and all(r.training_share is None for r in rows):
            self.message = no_training
            item.setTitle(_text(f"Representativeness — {attribute} ({no_training})"),
                          color=AXIS_COLOUR, size="11pt")
        self.shown = {"groups": labels}  # type: ignore[dict-item]
        width = 0.8 / max(1, len(present))
        top = 0.0
        for k, (key, name, col) in enumerate(present):
            heights = np.array([_nan(getattr(r, key)) for r in rows], dtype=float)
            xs = np.arange(len(rows), dtype=float) - 0.4 + width * (k + 0.5)
            keep = ~np.isnan(heights)
            bars = pg.BarGraphItem(x=xs[keep], height=heights[keep], width=width * 0.92,
                                   brush=pg.mkBrush(col), pen=pg.mkPen(QColor(col).darker(130)),
                                   name=name)
            item.addItem(bars)  # a named item joins the legend by itself
            self.shown[key] = heights.tolist()
            if keep.any():
                top = max(top, float(heights[keep].max()))
        item.getAxis("bottom").setTicks([[(float(i), lab) for i, lab in enumerate(labels)]])
        item.setXRange(-0.6, max(len(rows), 1) - 0.4, padding=0)
        item.setYRange(0, max(top * 1.15, 0.05), padding=0)


def _text(text: str) -> str:
    """Plain text for pyqtgraph's titles, axis labels and legend entries, which render HTML:
    column and group names come from the reviewer's data file and must show literally."""
    return html.escape(str(text), quote=False)
