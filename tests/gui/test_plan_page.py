"""The Plan step: edit, open and save a plan, bad input, power check, judging, a second document."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assessment.document import Assessment
from assessment.evaluation.engine import evaluate
from assessment.evaluation.io import prepare_input
from assessment.evaluation.mapping import ColumnMapping, LoadedTable
from assessment.evaluation.record import evaluation_config, store_evaluation
from assessment.evaluation.spec import EvaluationSpec
from assessment.plan.model import SCHEMA
from gui.context import AppContext
from gui.data.session import EvaluationSession
from gui.plan.page import PlanPage
from gui.steps import steps_for


@pytest.fixture(autouse=True)
def collect_garbage_on_ui_thread():
    yield
    gc.collect()


@pytest.fixture
def page(qtbot, ctx) -> PlanPage:
    p = PlanPage(ctx)
    qtbot.addWidget(p)
    p.show()
    return p


PLAN = {
    "schema": SCHEMA,
    "title": "GUI plan",
    "outcome": "label",
    "score": "score",
    "threshold": 0.5,
    "attributes": ["sex"],
    "references": {"sex": "M"},
    "gates": [
        {"id": "G1", "metric": "tpr", "groups": "overall", "criterion": {"at_least": 0.05}},
        {"id": "G2", "metric": "auroc", "attribute": "sex", "criterion": {"at_least": 0.99}},
    ],
}


def run_in_window(ctx: AppContext) -> None:
    """What the Validation data page's Run does: evaluate, remember the run, store it."""
    rng = np.random.default_rng(4)
    n = 1200
    p = 1 / (1 + np.exp(-rng.normal(-0.5, 1.3, n)))
    frame = pd.DataFrame({"label": (rng.random(n) < p).astype(int), "score": p,
                          "sex": rng.choice(["F", "M"], n)})  # fmt: skip
    table = LoadedTable.from_frame(frame, "v.csv")
    mapping = ColumnMapping(label="label", score="score", attributes=["sex"])
    inputs = prepare_input(table, mapping)
    spec = EvaluationSpec(bootstrap=0)
    snapshot = evaluate(inputs, spec).to_json()
    EvaluationSession.of(ctx).set_run(inputs, spec, snapshot)
    store_evaluation(ctx.doc, evaluation_config(table, mapping, spec, None), snapshot)


def test_the_step_sits_before_validation_data() -> None:
    keys = [s.key for s in steps_for(Assessment.new())]
    assert keys.index("plan") + 1 == keys.index("data")


def test_edit_validate_open_save(qtbot, page, dialogs, tmp_path: Path) -> None:
    assert "No plan yet" in page.validity.text()
    page.new_plan()
    assert page.validity.text().startswith("✓ Valid plan")
    assert page.gates.rowCount() == 1
    page.editor.setPlainText(json.dumps({**PLAN, "alpha": 2}))
    assert "$.alpha" in page.validity.text() and page.gates.rowCount() == 0
    page.save_plan()  # an invalid plan is not saved: one sentence through the error funnel
    assert any("$.alpha" in m for m in dialogs.messages)
    source = tmp_path / "plan.json"
    source.write_text(json.dumps(PLAN), encoding="utf-8")
    dialogs.reply("ask_open_path", source)
    page.open_plan()
    assert "plan.json" in page.validity.text() and page.gates.rowCount() == 2
    target = tmp_path / "copy.json"
    dialogs.reply("ask_save_path", target)
    page.save_plan()
    assert json.loads(target.read_text(encoding="utf-8")) == PLAN
    broken = tmp_path / "broken.json"
    broken.write_bytes(b"\x00\xff{")
    dialogs.reply("ask_open_path", broken)
    page.open_plan()
    assert any("UTF-8" in m for m in dialogs.messages)
    assert page.gates.rowCount() == 2  # the open plan is kept


def test_power_check_names_what_cannot_pass(page, dialogs, tmp_path: Path) -> None:
    page.editor.setPlainText(json.dumps(PLAN))
    sizes = tmp_path / "sizes.csv"
    sizes.write_text("attribute,group,n,events\nsex,F,40,10\nsex,M,900,300\n", encoding="utf-8")
    dialogs.reply("ask_open_path", sizes)
    page.check_power()
    assert page.power.rowCount() == 3  # G1 overall, G2 for F and M
    assert "Cannot pass at these sizes" in page.power_note.text()
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    dialogs.reply("ask_open_path", bad)
    page.check_power()
    assert any("attribute,group,n,events" in m for m in dialogs.messages)


def test_judge_the_latest_run_and_a_second_document(qtbot, ctx, page, dialogs) -> None:
    page.editor.setPlainText(json.dumps(PLAN))
    page.judge()  # no run in this window yet
    assert any("run the evaluation on the Validation data page first" in m
               for m in dialogs.messages)  # fmt: skip
    run_in_window(ctx)
    page.judge()
    qtbot.waitUntil(lambda: bool(ctx.doc.evaluation.result_json().get("verdict")), timeout=30000)
    result = ctx.doc.evaluation.result_json()
    assert result["verdict"] == "fail"  # AUROC ≥ 0.99 cannot hold
    assert page.checks.rowCount() == len(result["gates"]) == 3
    assert "Overall verdict: FAIL" in page.verdict.text()
    assert "not locked" in page.verdict.text()
    assert page.is_complete()
    refs = result["references"]["sex"]
    assert result["plan"]["deviations"] == (
        [] if refs == "M" else
        [f"reference of sex: the plan says 'M', the run used {refs!r}"]
    )  # fmt: skip
    # the plan asks for another threshold than the run used: judged, and reported as deviation
    page.editor.setPlainText(json.dumps({**PLAN, "threshold": 0.4}))
    page.judge()
    qtbot.waitUntil(
        lambda: any(
            "threshold" in d for d in ctx.doc.evaluation.result_json()["plan"]["deviations"]
        ),
        timeout=30000,
    )
    assert "threshold: the plan says 0.4, the run used 0.5" in page.verdict.text()
    # a second document: its own (empty) plan, no verdicts, the first document untouched
    first = ctx.doc
    ctx.set_document(Assessment.new())
    page.refresh_now()
    assert page.editor.toPlainText() == "" and page.checks.rowCount() == 0
    assert not page.is_complete()
    assert first.evaluation.result.verdict == "fail"
