"""The report's gates table (summary page): the locked plan's verdicts on the stored evaluation.

Reads only the stored result's optional ``gates``/``verdict``/``plan`` keys (issue 12); nothing
is drawn for an evaluation run without a plan.
"""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Spacer

from assessment.catalogue import metric_short
from assessment.plan.apply import lock_sentence
from assessment.plan.verdicts import VERDICT_LABELS
from reports.layout import FRAME_WIDTH
from reports.markup import esc

MAX_GATE_ROWS = 60  # rows printed; the JSON export and the GUI hold every check


def _num(v: Any) -> str:
    return "—" if v is None else f"{v:.3g}"


def gates_section(b: Any) -> list[Any]:
    """Flowables for the summary page (``b``: the report's section builder)."""
    record = b.doc.evaluation
    if record is None or record.result.verdict is None:
        return []
    result = record.result
    plan = result.plan or {}
    checks = list(result.gates)
    levels = ", ".join(f"{100 * x:.4g}%" for x in plan.get("levels", []))
    out: list[Any] = [
        b.heading("Acceptance gates (evaluation plan)", 1),
        b.p(
            f"Plan <b>{esc(plan.get('title', '?'))}</b>: overall verdict "
            f"<b>{esc(VERDICT_LABELS.get(result.verdict, result.verdict).upper())}</b>. "
            f"{len(checks)} checks, family-wise error α = {plan.get('alpha', '?')} by "
            f"{esc(str(plan.get('multiplicity', '?')))}; two-sided interval level(s) {levels}. "
            + esc(lock_sentence(plan)),
            b.s.small,
        ),
    ]
    rows: list[list[Any]] = [
        [b.cell(h, bold=True) for h in ("Gate", "Group", "Value [interval]", "Bound",
                                        "Verdict", "Reasoning")]  # fmt: skip
    ]
    for c in checks[:MAX_GATE_ROWS]:
        who = f"{c['attribute']}: {c['group']}" + (
            f" vs {c['reference']}" if c.get("reference") else ""
        )
        value = f"{_num(c.get('value'))} [{_num(c.get('ci_low'))}, {_num(c.get('ci_high'))}]"
        rows.append(
            [
                b.cell(f"{c['gate']} {metric_short(c['metric'])}", small=True),
                b.cell(who, small=True),
                b.cell(value, small=True),
                b.cell(c["bound"], small=True),
                b.cell(VERDICT_LABELS.get(c["verdict"], c["verdict"]), bold=True),
                b.cell(c["reason"], small=True),
            ]
        )
    out.append(b.table(rows, [52, 90, 78, 70, 58, FRAME_WIDTH - 348]))
    if len(checks) > MAX_GATE_ROWS:
        out.append(b.p(f"… and {len(checks) - MAX_GATE_ROWS} more checks (see the JSON export).",
                       b.s.small))  # fmt: skip
    deviations = plan.get("deviations") or []
    out.append(b.p("<b>Deviations from the plan:</b> " + ("none." if not deviations else ""),
                   b.s.small))  # fmt: skip
    out += [b.p("• " + esc(d), b.s.small) for d in deviations]
    open_options = plan.get("not_fixed") or []
    if open_options:
        out.append(b.p("<b>Not fixed by the plan:</b> " + esc("; ".join(map(str, open_options))),
                       b.s.small))  # fmt: skip
    out += [b.p("Note: " + esc(str(n)), b.s.small) for n in plan.get("notes") or []]
    out.append(Spacer(1, 6))
    return out
