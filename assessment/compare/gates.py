"""Gates of a locked evaluation plan, per model (the hook for issue 12's ``assessment.plan``).

The comparison applies one plan to every model's evaluation result, so the dossier can say
"B passes every gate; A fails the FNR ratio gate for race: Black (ratio 1.41, 1.22–1.63)". It
uses the plan package's public contract only —
``assessment.plan.apply.read_plan(path) -> (plan, text)`` and
``assessment.plan.verdicts.decide(plan, run, probe) -> report`` with ``run(level)`` the engine's
result JSON at that confidence level (Holm's step-down needs several levels) and a report with
``verdict``, ``checks``, ``gates_json()`` and ``summary_json()``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assessment.compare.sources import ModelSource
from assessment.errors import DataError, ProbityError

# evaluate_at(model index, confidence level) -> that model's evaluation result JSON
EvaluateAt = Callable[[int, float], dict[str, Any]]
GateChecker = Callable[[list[ModelSource], list[dict[str, Any]], EvaluateAt],
                       list[dict[str, Any]]]


def _plan_modules(plan_path: Path) -> tuple[Any, Any]:
    """The plan package (imported late: only a comparison with --plan needs it)."""
    del plan_path
    return importlib.import_module("assessment.plan.apply"), importlib.import_module(
        "assessment.plan.verdicts"
    )


def check_plan(plan_path: Path) -> None:
    """Fail fast (before any evaluation) when the plan file is missing or bad."""
    apply, _verdicts = _plan_modules(plan_path)
    try:
        apply.read_plan(plan_path)
    except ProbityError as exc:
        raise DataError(f"--plan: {exc.message}") from None


def _num(v: Any) -> str:
    return "—" if v is None else f"{float(v):.2f}"


def failed_sentence(check: dict[str, Any]) -> str:
    """'the <gate> gate for <attribute>: <group> (<on> 1.41, 1.22–1.63)'."""
    where = (
        "the whole population" if check.get("attribute") in (None, "(all)")
        else f"{check.get('attribute')}: {check.get('group')}"
    )
    return (
        f"the {check.get('gate')} gate for {where} ({check.get('on', 'value')} "
        f"{_num(check.get('value'))}, {_num(check.get('ci_low'))}–{_num(check.get('ci_high'))})"
    )


def gate_sentence(entry: dict[str, Any]) -> str:
    """One model's gates in a sentence for the dossier's summary."""
    verdict = entry["verdict"]
    if verdict == "pass":
        return f"{entry['model']} passes every gate."
    bad = [c for c in entry["checks"] if c.get("verdict") == verdict]
    what = "fails" if verdict == "fail" else "has too little data to judge"
    listed = "; ".join(failed_sentence(c) for c in bad[:3])
    more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
    return f"{entry['model']} {what} {listed}{more}."


def plan_gates(plan_path: Path) -> GateChecker:
    """The gate checker of one plan file (``compare(..., gate_checker=...)``)."""
    apply, verdicts = _plan_modules(plan_path)
    plan, _text = apply.read_plan(plan_path)

    def checker(
        models: list[ModelSource], results: list[dict[str, Any]], evaluate_at: EvaluateAt
    ) -> list[dict[str, Any]]:
        out = []
        for i, (m, probe) in enumerate(zip(models, results, strict=True)):
            report = verdicts.decide(plan, lambda level, i=i: evaluate_at(i, level), probe)
            entry = {
                "model": m.name,
                "verdict": str(report.verdict),
                "summary": report.summary_json(),
                "checks": report.gates_json(),
            }
            entry["sentence"] = gate_sentence(entry)
            out.append(entry)
        return out

    return checker
