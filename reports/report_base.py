"""Shared pieces of the report renderer: cell formatting and the section builder's base
(styles, tables, glyph checks). The sections live in report_assessment.py and
report_evaluation.py; reports/report.py puts them together."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any

from reportlab.platypus import (
    LongTable,
    Paragraph,
    Table,
    TableStyle,
)

from assessment.catalogue import (
    NOT_RATED,
)
from reports.attachment import SignatureSlot
from reports.fonts import SANS, SANS_BOLD, missing_glyphs
from reports.layout import (
    FRAME_WIDTH,
    HEAD_BG,
    RULE,
    ZEBRA,
    Heading,
    Styles,
)
from reports.markup import esc
from reports.model import ReportModel

if TYPE_CHECKING:
    from assessment.document import Assessment
    from assessment.evaluation.result import (
        Estimate,
        EvaluationResult,
        MetricValue,
        SummaryMeasure,
    )
    from assessment.judgement import Judgement

METRICS_PER_TABLE = 4
AUDIT_LAST = 100  # audit entries printed in the appendix; the full log is attached
AUDIT_ATTACHMENT = "audit-log.csv"
AUDIT_CELL = 400  # characters of a change summary printed (wrapped) in the appendix


def _count(n: float) -> str:
    """A count as typed in the datasheet (500, not 500.0)."""
    return f"{n:g}" if n != int(n) else f"{int(n)}"


def _clip_cell(text: str, width: float, size: float = 7) -> str:
    """Plain (unparsed, fast) table text cut to the column width; used for data labels that
    are printed in full elsewhere in the report."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = " ".join(str(text)[: int(width / (size * 0.25)) + 2].split())  # no glyph is narrower
    limit = width - 6
    if stringWidth(text, SANS, size) <= limit:
        return text
    lo, hi = 0, len(text)  # longest prefix that fits with the ellipsis (binary search)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if stringWidth(text[:mid] + "…", SANS, size) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _ci(entry: MetricValue | Estimate | SummaryMeasure | None, digits: int = 3) -> str:
    """Value [CI] of a typed estimate (the CI only when both ends exist); "—" without a value."""
    if entry is None or entry.value is None:
        return "—"
    text = _fmt(entry.value, digits)
    if entry.ci_low is not None and entry.ci_high is not None:
        text += f" [{_fmt(entry.ci_low, digits)}, {_fmt(entry.ci_high, digits)}]"
    return text


def _level(level: str | None, labels: dict[str, str] | Any) -> str:
    return NOT_RATED if level is None else str(labels.get(level, level))


def _when(ts: str) -> str:
    """An audit timestamp as the appendix prints it (UTC, no offset)."""
    return ts.replace("T", " ").replace("+00:00", "")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SectionBuilder:
    """The state and helpers every report section uses."""

    def __init__(self, doc: Assessment, judgement: Judgement, styles: Styles, sha: str,
                 source_name: str, when: dt.datetime, model: ReportModel) -> None:
        self.doc, self.j, self.s, self.model = doc, judgement, styles, model
        self.sha, self.source_name, self.when = sha, source_name, when
        self.inst = doc.instrument
        self.record = doc.evaluation  # the typed run (assessment.evaluation.record)
        # the typed result (assessment.evaluation.result): sections use its query methods
        self.result: EvaluationResult | None = self.record.result if self.record else None
        self.slots: list[SignatureSlot] = []
        self.chart_count = 0
        self.warnings: list[str] = []

    # ------------------------------------------------------------------ helpers
    def p(self, markup: str, style: Any = None) -> Paragraph:
        return Paragraph(markup, style or self.s.body)

    def cell(self, value: Any, bold: bool = False, small: bool = False) -> Paragraph:
        style = self.s.cell_bold if bold else (self.s.cell_small if small else self.s.cell)
        return Paragraph(esc(value), style)

    def heading(self, text: str, level: int = 0) -> Heading:
        style = (self.s.h1, self.s.h2, self.s.h3)[level]
        return Heading(esc(text), style, level, text)

    def table(self, rows: list[list[Any]], widths: Sequence[float], *, header: int = 1,
              long: bool = False, extra: Iterable[tuple[Any, ...]] = ()) -> Table:
        cls = LongTable if long else Table
        t = cls(rows, colWidths=list(widths), repeatRows=header, hAlign="LEFT")
        style: list[tuple[Any, ...]] = [
            ("FONT", (0, 0), (-1, -1), SANS, 8),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.4, RULE),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ]
        if header:
            style += [("BACKGROUND", (0, 0), (-1, header - 1), HEAD_BG),
                      ("FONT", (0, 0), (-1, header - 1), SANS_BOLD, 8)]
        if len(rows) > header + 1:
            style.append(("ROWBACKGROUNDS", (0, header), (-1, -1), [None, ZEBRA]))
        style.extend(extra)
        t.setStyle(TableStyle(style))
        return t

    def kv_table(self, pairs: list[tuple[str, Any]], key_width: float = 150) -> Table:
        rows = [[self.cell(k, bold=True), self.cell(v)] for k, v in pairs]
        return self.table(rows, [key_width, FRAME_WIDTH - key_width], header=0)

    def check_glyphs(self, *texts: str) -> None:
        missing = set().union(*(missing_glyphs(t) for t in texts if t))
        if missing:
            self.warnings.append(
                "Characters not in the bundled font print as boxes: " + "".join(sorted(missing))
            )

    def _slot_label(self, key: str) -> str:
        if "@" not in key:
            return ""
        tail = key.split("@", 1)[1]
        for opt in (*self.inst.columns, *self.inst.performance_types):
            if opt.id == tail:
                return str(opt.label)
        return tail

    @staticmethod
    def _compact() -> list[tuple[Any, ...]]:
        return [("FONT", (0, 0), (-1, -1), SANS, 7, 8.4),
                ("FONT", (0, 0), (-1, 0), SANS_BOLD, 7, 8.4),
                ("TOPPADDING", (0, 0), (-1, -1), 1.2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.8)]

    @staticmethod
    def _value(v: Any) -> str:
        if v is None or v == "" or v == []:
            return "—"
        if isinstance(v, bool):
            return "Yes" if v else "No"
        if isinstance(v, list):
            return ", ".join(str(x) for x in v)
        if isinstance(v, dict):
            return json.dumps(v, ensure_ascii=False, sort_keys=True)
        return str(v)
