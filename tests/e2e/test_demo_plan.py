"""The demo's locked evaluation plan (scripts/demo_plan.py): valid, signed, and judged in the demo.

These read the shipped resources/demo/ files, so they pass once the demo has been rebuilt with
``scripts/build_demo.py`` (which writes plan.json, plan.pdf and the judged demo.probity).
"""

from __future__ import annotations

from pathlib import Path

from assessment.plan.model import Plan, plan_sha256
from assessment.storage import load
from reports.plan_report import read_locked_plan

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"
REBUILD = "the demo has no locked plan yet: run .venv/bin/python scripts/build_demo.py"


def test_demo_plan_is_locked_and_judged() -> None:
    assert (DEMO / "plan.json").is_file(), REBUILD
    text = (DEMO / "plan.json").read_text(encoding="utf-8")
    plan = Plan.from_text(text, "plan.json")
    lock = read_locked_plan(
        (DEMO / "plan.pdf").read_bytes(), source="plan.pdf", require_trust=False
    )  # the demo's author is a throw-away identity: the shipped PDF is read for its content
    assert lock.sha256 == plan_sha256(text)
    result = load(DEMO / "demo.probity").evaluation.result_json()
    record = result["plan"]
    assert record["locked"]["sha256"] == lock.sha256 and record["deviations"] == []
    assert record["locked_before_data"] is True
    assert {c["gate"] for c in result["gates"]} == {g.id for g in plan.gates}
    assert result["verdict"] in ("pass", "fail", "insufficient")
    assert len(record["levels"]) >= 1 and record["multiplicity"] == plan.multiplicity
