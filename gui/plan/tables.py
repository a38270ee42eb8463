"""Read-only tables of the Plan step: the plan's gates, the verdicts of a run, the power check."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from assessment.catalogue import metric_short
from assessment.plan.model import Plan
from assessment.plan.verdicts import VERDICT_LABELS

VERDICT_COLOURS = {"pass": "#DCEFD9", "fail": "#F8D7D3", "insufficient": "#FFF2C6"}


def make_table(headers: tuple[str, ...], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setAccessibleName(name)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(True)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setMinimumHeight(120)
    return table


def fill(
    table: QTableWidget, rows: list[list[str]], colours: list[str | None] | None = None
) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            if colours and colours[r]:
                item.setBackground(QColor(colours[r]))
            table.setItem(r, c, item)
    table.resizeRowsToContents()


def _num(v: Any) -> str:
    return "—" if v is None else f"{v:.4g}"


def gate_rows(plan: Plan) -> list[list[str]]:
    out = []
    for g in plan.gates:
        groups = g.groups if isinstance(g.groups, str) else ", ".join(g.groups)
        who = "overall" if g.groups == "overall" else f"{g.attribute}: {groups}"
        out.append([g.id, metric_short(g.metric), who + (" vs reference" if g.versus else ""),
                    g.criterion.describe(), str(plan.gate_min_n(g))])  # fmt: skip
    return out


def check_rows(checks: list[dict[str, Any]]) -> tuple[list[list[str]], list[str | None]]:
    rows, colours = [], []
    for c in checks:
        who = f"{c['attribute']}: {c['group']}" + (f" vs {c['reference']}" if c.get("reference")
                                                   else "")  # fmt: skip
        rows.append([
            c["gate"], metric_short(c["metric"]), who,
            f"{_num(c.get('value'))} [{_num(c.get('ci_low'))}, {_num(c.get('ci_high'))}]",
            f"{100 * float(c['level']):.4g}%", c["bound"],
            VERDICT_LABELS.get(c["verdict"], c["verdict"]), c["reason"],
        ])  # fmt: skip
        colours.append(VERDICT_COLOURS.get(c["verdict"]))
    return rows, colours


def power_rows(report: Any) -> tuple[list[list[str]], list[str | None]]:
    rows, colours = [], []
    for r in report.rows:
        who = r.group if r.reference is None else f"{r.group} vs {r.reference}"
        rows.append([
            r.gate, metric_short(r.metric), f"{r.attribute}: {who}",
            "—" if r.n is None else f"{r.n:,}", r.bound,
            "—" if r.power is None else f"{r.power:.0%}", r.needed or r.reason,
        ])  # fmt: skip
        colours.append(VERDICT_COLOURS["fail"] if r.cannot_pass else None)
    return rows, colours
