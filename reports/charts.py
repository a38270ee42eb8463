"""Vector charts for the report, drawn with reportlab.graphics from plain numbers.

Charts are drawn with primitive shapes rather than reportlab's chart classes so that every label
uses the embedded DejaVu font (the chart classes default to non-embedded Helvetica) and the
layout is fully under our control. Colours: Okabe-Ito (colour-blind safe); each series also
gets its own dash pattern, so curves stay distinguishable in greyscale print.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from reportlab import rl_config

# Per-assignment attribute validation of shapes is a development aid (reportlab's docs say to
# switch it off in production); it must be set before reportlab.graphics.shapes is imported.
rl_config.shapeChecking = 0

from reportlab.graphics.shapes import (  # noqa: E402
    Circle,
    Drawing,
    Group,
    Line,
    PolyLine,
    Rect,
    String,
)
from reportlab.lib import colors  # noqa: E402
from reportlab.lib.colors import Color  # noqa: E402
from reportlab.pdfbase.pdfmetrics import stringWidth  # noqa: E402

from assessment.catalogue import LEVEL_CHART_FILLS, NOT_RATED, level_label  # noqa: E402
from reports.fonts import SANS, SANS_BOLD  # noqa: E402

PALETTE = [colors.HexColor(h) for h in (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
)]
DASHES: list[list[float] | None] = [None, [4, 2], [1, 1.5], [6, 2, 1, 2], [2, 2], [8, 3]]
GRID = colors.HexColor("#E1E6EB")
AXIS = colors.HexColor("#4A4A4A")
MAX_CURVE_POINTS = 160

# Traffic-light convention (robvis style): colour AND symbol, so it survives greyscale print.
LIGHTS = {
    "low": ("+", colors.HexColor(LEVEL_CHART_FILLS["low"]), level_label("low")),
    "unclear": ("?", colors.HexColor(LEVEL_CHART_FILLS["unclear"]), level_label("unclear")),
    "high": ("−", colors.HexColor(LEVEL_CHART_FILLS["high"]), level_label("high")),
    None: ("·", colors.HexColor(LEVEL_CHART_FILLS[None]), NOT_RATED),
}


def _rect(
    x: float, y: float, w: float, h: float, *, fill: Color | None = None,
    stroke: Color | None = None, stroke_width: float = 1.0,
) -> Rect:
    """A rectangle with an optional fill and outline (None: not painted)."""
    r = Rect(x, y, w, h)
    r.fillColor = fill
    r.strokeColor = stroke
    r.strokeWidth = stroke_width
    return r


_Stroked = TypeVar("_Stroked", Line, PolyLine)


def _dashed(shape: _Stroked, dash: list[float] | None) -> _Stroked:
    """The shape with a dash pattern (None: solid, reportlab's default)."""
    if dash is not None:
        shape.strokeDashArray = dash
    return shape


def _drawing(width: float, height: float) -> Drawing:
    """A Drawing whose renderer starts in DejaVu (its default would be non-embedded Helvetica)."""
    d = Drawing(width, height)
    # types-reportlab does not declare the renderer's initialFont* attributes of a Drawing
    d.initialFontName = SANS  # type: ignore[attr-defined]
    d.initialFontSize = 7  # type: ignore[attr-defined]
    return d


def traffic_light(level: str | None, size: float = 13) -> Drawing:
    """A filled circle with the level's symbol, as used in robvis summary tables."""
    symbol, fill, _ = LIGHTS.get(level, LIGHTS[None])
    d = _drawing(size, size)
    d.add(Circle(size / 2, size / 2, size / 2 - 0.5, fillColor=fill, strokeColor=AXIS,
                 strokeWidth=0.4))
    fs = size * 0.78
    d.add(String(size / 2, size / 2 - fs * 0.36, symbol, fontName=SANS_BOLD, fontSize=fs,
                 textAnchor="middle", fillColor=colors.white if level == "high" else AXIS))
    return d


@dataclass(frozen=True)
class ForestRow:
    label: str
    value: float | None
    low: float | None
    high: float | None
    flagged: bool = False
    note: str = ""


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    span = hi - lo
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw), default=raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    t = first
    while t <= hi + 1e-9:
        ticks.append(round(t, 10))
        t += step
    return ticks


def forest_plot(rows: Sequence[ForestRow], *, metric: str, width: float,
                reference: float | None = None, reference_label: str = "overall") -> Drawing:
    """Point estimates with CI whiskers, one row per group; a dashed line marks the overall value.

    Groups whose value is undefined are listed with their reason instead of a point, so no
    group disappears from the picture.
    """
    row_h, top, bottom = 13.0, 18.0, 30.0
    label_w = min(150.0, width * 0.34)
    note_w = 92.0
    plot_x0, plot_x1 = label_w + 6, width - note_w - 6
    height = top + bottom + row_h * max(len(rows), 1)
    d = _drawing(width, height)
    finite = [v for r in rows for v in (r.value, r.low, r.high) if v is not None]
    if reference is not None:
        finite.append(reference)
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if hi - lo < 0.05:
        lo, hi = lo - 0.05, hi + 0.05
    pad = (hi - lo) * 0.06
    lo, hi = lo - pad, hi + pad
    if 0 <= min(finite or [0]) and lo < 0:
        lo = 0.0

    def sx(v: float) -> float:
        return plot_x0 + (v - lo) / (hi - lo) * (plot_x1 - plot_x0)

    y_axis = bottom - 6
    d.add(String(plot_x0, height - 11, metric, fontName=SANS_BOLD, fontSize=8, fillColor=AXIS))
    d.add(String(plot_x1 + 6, height - 11, "estimate [95% CI]", fontName=SANS_BOLD, fontSize=7,
                 fillColor=AXIS))
    for t in _nice_ticks(lo, hi, 8):
        x = sx(t)
        d.add(Line(x, y_axis, x, height - top + 4, strokeColor=GRID, strokeWidth=0.5))
        d.add(Line(x, y_axis, x, y_axis - 3, strokeColor=AXIS, strokeWidth=0.6))
        d.add(String(x, y_axis - 11, f"{t:g}", fontName=SANS, fontSize=7, textAnchor="middle",
                     fillColor=AXIS))
    d.add(Line(plot_x0, y_axis, plot_x1, y_axis, strokeColor=AXIS, strokeWidth=0.6))
    if reference is not None:
        x = sx(reference)
        d.add(Line(x, y_axis, x, height - top + 4, strokeColor=AXIS, strokeWidth=0.7,
                   strokeDashArray=[3, 2]))
        d.add(String(x, y_axis - 21, f"{reference_label} {reference:.3f}", fontName=SANS,
                     fontSize=6.5, textAnchor="middle", fillColor=AXIS))
    for i, r in enumerate(rows):
        y = height - top - row_h * (i + 0.5)
        if i % 2 == 0:
            d.add(_rect(0, y - row_h / 2, width, row_h, fill=colors.HexColor("#F6F8FA")))
        colour = PALETTE[1] if r.flagged else PALETTE[0]
        d.add(String(0, y - 2.5, _fit(r.label, SANS, 7, label_w), fontName=SANS, fontSize=7,
                     fillColor=AXIS))
        if r.value is None:
            d.add(String(plot_x0 + 2, y - 2.5, _fit(f"not estimable: {r.note}", SANS, 6.5,
                                                    plot_x1 - plot_x0), fontName=SANS,
                         fontSize=6.5, fillColor=colors.HexColor("#7A7A7A")))
            d.add(String(plot_x1 + 6, y - 2.5, "—", fontName=SANS, fontSize=7, fillColor=AXIS))
            continue
        if r.low is not None and r.high is not None:
            d.add(Line(sx(r.low), y, sx(r.high), y, strokeColor=colour, strokeWidth=1.1))
            for v in (r.low, r.high):
                d.add(Line(sx(v), y - 2.5, sx(v), y + 2.5, strokeColor=colour, strokeWidth=1.1))
            text = f"{r.value:.3f} [{r.low:.3f}, {r.high:.3f}]"
        else:
            text = f"{r.value:.3f}"
        d.add(_rect(sx(r.value) - 2.6, y - 2.6, 5.2, 5.2, fill=colour))
        if r.flagged:
            text += " ⚑"
        d.add(String(plot_x1 + 6, y - 2.5, text, fontName=SANS, fontSize=6.5, fillColor=AXIS))
    return d


@dataclass(frozen=True)
class Series:
    label: str
    xs: Sequence[float | None]  # None: an undefined point (e.g. an empty calibration bin)
    ys: Sequence[float | None]


def _thin(points_x: Sequence[float | None], points_y: Sequence[float | None]) -> list[float]:
    """Interleaved points, decimated to at most MAX_CURVE_POINTS (keeps the end points).
    Points with an undefined coordinate (an empty calibration bin) are left out."""
    pairs = [(x, y) for x, y in zip(points_x, points_y, strict=False)
             if x is not None and y is not None]
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    n = len(xs)
    if n <= MAX_CURVE_POINTS:
        idx = list(range(n))
    else:
        step = (n - 1) / (MAX_CURVE_POINTS - 1)
        idx = sorted({round(i * step) for i in range(MAX_CURVE_POINTS)} | {0, n - 1})
    out: list[float] = []
    for i in idx:
        out.extend((float(xs[i]), float(ys[i])))
    return out


def curve_chart(series: Sequence[Series], *, title: str, xlabel: str, ylabel: str,
                width: float, height: float = 230, diagonal: str = "",
                markers: bool = False) -> Drawing:
    """Unit-square line chart (ROC or reliability diagram) with a legend on the right."""
    d = _drawing(width, height)
    legend_w = min(170.0, width * 0.36)
    x0, y0 = 34.0, 30.0
    side = min(width - legend_w - x0 - 10, height - y0 - 20)
    x1, y1 = x0 + side, y0 + side

    def px(v: float) -> float:
        return x0 + max(0.0, min(1.0, v)) * side

    def py(v: float) -> float:
        return y0 + max(0.0, min(1.0, v)) * side

    d.add(String(x0, height - 10, title, fontName=SANS_BOLD, fontSize=8.5, fillColor=AXIS))
    for t in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        d.add(Line(px(t), y0, px(t), y1, strokeColor=GRID, strokeWidth=0.5))
        d.add(Line(x0, py(t), x1, py(t), strokeColor=GRID, strokeWidth=0.5))
        d.add(String(px(t), y0 - 10, f"{t:.1f}", fontName=SANS, fontSize=6.5,
                     textAnchor="middle", fillColor=AXIS))
        d.add(String(x0 - 4, py(t) - 2.3, f"{t:.1f}", fontName=SANS, fontSize=6.5,
                     textAnchor="end", fillColor=AXIS))
    d.add(_rect(x0, y0, side, side, stroke=AXIS, stroke_width=0.6))
    d.add(String((x0 + x1) / 2, y0 - 21, xlabel, fontName=SANS, fontSize=7.5,
                 textAnchor="middle", fillColor=AXIS))
    ylab = String(0, 0, ylabel, fontName=SANS, fontSize=7.5, textAnchor="middle", fillColor=AXIS)
    g = Group(ylab)
    g.rotate(90)
    g.translate((y0 + y1) / 2, -9)
    d.add(g)
    if diagonal:
        d.add(Line(px(0), py(0), px(1), py(1), strokeColor=colors.HexColor("#9AA3AD"),
                   strokeWidth=0.7, strokeDashArray=[2, 2]))
    lx = x1 + 14
    ly = y1 - 4
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        dash = DASHES[i % len(DASHES)]
        pts = _thin(s.xs, s.ys)
        if len(pts) >= 4:
            d.add(_dashed(PolyLine([px(v) if k % 2 == 0 else py(v) for k, v in enumerate(pts)],
                                   strokeColor=colour, strokeWidth=1.2), dash))
        if markers:
            for k in range(0, len(pts), 2):
                d.add(Circle(px(pts[k]), py(pts[k + 1]), 1.8, fillColor=colour,
                             strokeColor=None))
        y = ly - 12 * i
        d.add(_dashed(Line(lx, y + 2.5, lx + 16, y + 2.5, strokeColor=colour, strokeWidth=1.4),
                      dash))
        d.add(String(lx + 20, y, _fit(s.label, SANS, 7, legend_w - 24), fontName=SANS,
                     fontSize=7, fillColor=AXIS))
    if diagonal:
        y = ly - 12 * len(series)
        d.add(Line(lx, y + 2.5, lx + 16, y + 2.5, strokeColor=colors.HexColor("#9AA3AD"),
                   strokeWidth=0.7, strokeDashArray=[2, 2]))
        d.add(String(lx + 20, y, diagonal, fontName=SANS, fontSize=7, fillColor=AXIS))
    return d
