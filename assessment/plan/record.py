"""The plan's keys in a stored evaluation result: ``gates``, ``verdict`` and ``plan``.

Checked when a result is read back (a stored assessment, a ``--json`` file), so the report and the
GUI can print them without a traceback; a bad value is named by its JSON path.
"""

from __future__ import annotations

from typing import Any

from assessment.jsoncheck import (
    Invalid,
    expect_int,
    expect_list,
    expect_num,
    expect_obj,
    expect_str,
    expect_strings,
    key_path,
    show,
)

CHECK_TEXT = ("gate", "metric", "attribute", "group", "on", "bound", "verdict", "reason")
CHECK_NUMBERS = ("value", "ci_low", "ci_high")
VERDICTS = ("pass", "fail", "insufficient")


def check_gate_fields(d: dict[str, Any], path: str) -> dict[str, Any]:
    """{gates, verdict, plan} for EvaluationResult, or Invalid naming the first bad value."""
    verdict = d.get("verdict")
    if verdict not in VERDICTS:
        raise Invalid(
            f"{path}.verdict", f"expected one of {', '.join(VERDICTS)}, got {show(verdict)}"
        )
    gates = expect_list(d.get("gates", []), f"{path}.gates")
    for i, g in enumerate(gates):
        at = f"{path}.gates[{i}]"
        expect_obj(g, at)
        for k in CHECK_TEXT:
            expect_str(g.get(k), key_path(at, k))
        expect_str(g.get("reference"), key_path(at, "reference"), null=True)
        for k in CHECK_NUMBERS:
            expect_num(g.get(k), key_path(at, k), null=True)
        expect_num(g.get("level"), key_path(at, "level"))
        for k in ("n", "n_reference"):
            expect_int(g.get(k), key_path(at, k), null=True)
        if g["verdict"] not in VERDICTS:
            raise Invalid(key_path(at, "verdict"), f"expected one of {', '.join(VERDICTS)}")
    plan = d.get("plan")
    if plan is not None:
        expect_obj(plan, f"{path}.plan")
        expect_str(plan.get("title"), f"{path}.plan.title")
        expect_str(plan.get("sha256"), f"{path}.plan.sha256")
        expect_strings(plan.get("deviations", []), f"{path}.plan.deviations")
        locked = plan.get("locked")
        if locked is not None:
            expect_obj(locked, f"{path}.plan.locked")
            for k in ("sha256", "signed_at", "signer"):
                expect_str(locked.get(k), f"{path}.plan.locked.{k}")
        before = plan.get("locked_before_data")
        if before is not None and not isinstance(before, bool):
            raise Invalid(f"{path}.plan.locked_before_data", "expected true, false or null")
    return {"gates": tuple(dict(g) for g in gates), "verdict": verdict, "plan": plan}
