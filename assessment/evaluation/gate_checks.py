"""The evaluation plan's keys in a stored evaluation result: ``gates``, ``verdict`` and ``plan``.

Written by :mod:`assessment.plan` (issue 12) and read back here, inside the evaluation package,
so the result does not import the plan package (which imports the evaluation).

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


def check_verdict(verdict: Any, path: str) -> None:
    if verdict is not None and verdict not in VERDICTS:
        raise Invalid(path, f"expected one of {', '.join(VERDICTS)} or null, got {show(verdict)}")


def check_gates(gates: Any, path: str) -> None:
    for i, g in enumerate(expect_list(gates, path)):
        at = f"{path}[{i}]"
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


def check_plan(plan: Any, path: str) -> None:
    if plan is None:
        return
    expect_obj(plan, path)
    expect_str(plan.get("title"), f"{path}.title")
    expect_str(plan.get("sha256"), f"{path}.sha256")
    expect_strings(plan.get("deviations", []), f"{path}.deviations")
    locked = plan.get("locked")
    if locked is not None:
        expect_obj(locked, f"{path}.locked")
        for k in ("sha256", "signed_at", "signer"):
            expect_str(locked.get(k), f"{path}.locked.{k}")
    before = plan.get("locked_before_data")
    if before is not None and not isinstance(before, bool):
        raise Invalid(f"{path}.locked_before_data", "expected true, false or null")


__all__ = ["VERDICTS", "check_gates", "check_plan", "check_verdict"]
