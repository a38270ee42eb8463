"""Charts of the comparison report: decision curves and a forest plot with one colour per model.

Same conventions as :mod:`reports.charts` (embedded DejaVu fonts, Okabe-Ito colours plus a
dash pattern per series, so curves stay apart in greyscale print).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, String
from reportlab.lib.colors import Color

from reports.charts import AXIS, DASHES, GRID, PALETTE, _dashed, _drawing, _nice_ticks
from reports.fonts import SANS

TREAT_ALL = "treat all"
TREAT_NONE = "treat none"


@dataclass(frozen=True)
class Curve:
    label: str
    xs: Sequence[float]
    ys: Sequence[float | None]


def _style(i: int, label: str) -> tuple[Color, list[float] | None, float]:
    if label == TREAT_ALL:
        return AXIS, [1, 2], 0.8
    if label == TREAT_NONE:
        return AXIS, None, 0.6
    return PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)], 1.3


def decision_chart(curves: Sequence[Curve], *, title: str, width: float,
                   height: float = 190) -> Drawing:
    """Net benefit against threshold probability; the y range runs from a little below 0 (where
    treat-all falls away) to the largest net benefit, so the models' differences stay visible."""
    d = _drawing(width, height)
    legend_w = min(150.0, width * 0.32)
    x0, y0 = 40.0, 28.0
    x1, y1 = width - legend_w - 8, height - 18
    xs_all = [x for c in curves for x in c.xs]
    top = max([y for c in curves for y in c.ys if y is not None] + [0.01])
    lo_y = -0.25 * top
    hi_y = top * 1.05
    xmin, xmax = min(xs_all), max(xs_all)

    def px(v: float) -> float:
        return x0 + (v - xmin) / (xmax - xmin or 1) * (x1 - x0)

    def py(v: float) -> float:
        v = min(max(v, lo_y), hi_y)
        return y0 + (v - lo_y) / (hi_y - lo_y) * (y1 - y0)

    for t in _nice_ticks(lo_y, hi_y):
        d.add(Line(x0, py(t), x1, py(t), strokeColor=GRID, strokeWidth=0.4))
        d.add(String(x0 - 3, py(t) - 2.5, f"{t:.2f}", fontName=SANS, fontSize=6.5,
                     textAnchor="end"))
    for t in _nice_ticks(xmin, xmax):
        d.add(Line(px(t), y0, px(t), y0 - 2, strokeColor=AXIS, strokeWidth=0.5))
        d.add(String(px(t), y0 - 10, f"{t:g}", fontName=SANS, fontSize=6.5, textAnchor="middle"))
    d.add(Line(x0, y0, x1, y0, strokeColor=AXIS, strokeWidth=0.6))
    d.add(Line(x0, y0, x0, y1, strokeColor=AXIS, strokeWidth=0.6))
    d.add(String((x0 + x1) / 2, 4, "threshold probability", fontName=SANS, fontSize=7,
                 textAnchor="middle"))
    d.add(String(x0, height - 10, title, fontName=SANS, fontSize=8))
    ly = y1 - 4
    for i, c in enumerate(curves):
        colour, dash, width_ = _style(i, c.label)
        runs: list[list[float]] = [[]]
        for x, y in zip(c.xs, c.ys, strict=False):
            if y is None or y < lo_y:
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1] += [px(x), py(y)]
        for pts in runs:
            if len(pts) >= 4:
                d.add(_dashed(PolyLine(pts, strokeColor=colour, strokeWidth=width_,
                                       fillColor=None), dash))
        lx = x1 + 10
        d.add(_dashed(Line(lx, ly + 2.5, lx + 18, ly + 2.5, strokeColor=colour,
                           strokeWidth=width_), dash))
        d.add(String(lx + 22, ly, c.label[:28], fontName=SANS, fontSize=7))
        ly -= 11
    return d


@dataclass(frozen=True)
class ModelPoint:
    group: str
    model: int
    value: float | None
    low: float | None
    high: float | None


def model_forest(points: Sequence[ModelPoint], names: Sequence[str], *, metric: str,
                 width: float) -> Drawing:
    """One row per group × model, the model's colour on its point and whisker."""
    row_h, top, bottom = 11.0, 16.0, 26.0
    label_w = min(170.0, width * 0.38)
    height = top + bottom + row_h * len(points)
    d = _drawing(width, height)
    vals = [v for p in points for v in (p.low, p.high, p.value) if v is not None]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.05, hi + 0.05
    x0, x1 = label_w + 6, width - 8

    def px(v: float) -> float:
        return x0 + (v - lo) / (hi - lo) * (x1 - x0)

    for t in _nice_ticks(lo, hi):
        if lo <= t <= hi:
            d.add(Line(px(t), bottom - 4, px(t), height - top, strokeColor=GRID, strokeWidth=0.4))
            d.add(String(px(t), bottom - 13, f"{t:.2f}", fontName=SANS, fontSize=6.5,
                         textAnchor="middle"))
    d.add(String((x0 + x1) / 2, 3, metric, fontName=SANS, fontSize=7, textAnchor="middle"))
    for r, p in enumerate(points):
        y = height - top - row_h * (r + 0.5)
        colour = PALETTE[p.model % len(PALETTE)]
        d.add(String(0, y - 2.5, f"{p.group} · {names[p.model]}"[:40], fontName=SANS,
                     fontSize=6.5))
        if p.value is None:
            d.add(String(x0, y - 2.5, "not defined", fontName=SANS, fontSize=6.5))
            continue
        if p.low is not None and p.high is not None:
            d.add(Line(px(p.low), y, px(p.high), y, strokeColor=colour, strokeWidth=1))
        d.add(Circle(px(p.value), y, 2.2, fillColor=colour, strokeColor=colour))
    return d
