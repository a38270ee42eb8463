"""The Plan step: write, open and save an evaluation plan (probity-plan/1), check what it can
detect at expected sizes, attach its signed lock, and judge the latest evaluation with it.

The rules live in :mod:`assessment.plan`; this page only edits text and shows tables. Judging
re-runs the engine on this window's last evaluation at the levels the plan's multiplicity rule
sets (in a worker), then stores the result with its ``gates``/``verdict``/``plan`` keys as one
audited change, as the command line's ``evaluate --plan --into`` does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout

from assessment.errors import DataError, ProbityError
from assessment.plan.model import SCHEMA, Plan, PlanError
from assessment.plan.verdicts import VERDICT_LABELS
from gui.context import AppContext
from gui.data.session import EvaluationSession
from gui.pages.base import AssessmentPage
from gui.plan.tables import check_rows, fill, gate_rows, make_table, power_rows
from gui.widgets import Heading, Note

PLAN_FILTER = "Evaluation plan (*.json)"
WORK = "plan"



def _stored_result(ctx: Any) -> dict[str, Any]:
    """The document's stored result as evaluation JSON ({} when there is none)."""
    record = ctx.doc.evaluation
    return (record.result_json() or {}) if record is not None else {}

@dataclass

class PlanState:
    """The plan being edited in this window for the open document."""

    text: str = ""
    path: Path | None = None
    lock: Any = None  # assessment.plan.apply.LockInfo of a verified locked PDF


def template(doc_config: dict[str, Any] | None) -> str:
    """A starting plan, its columns taken from the last evaluation's mapping when there is one."""
    mapping = (doc_config or {}).get("mapping") or {}
    attrs = list(mapping.get("attributes") or [])
    gates: list[dict[str, Any]] = [
        {"id": "G1", "metric": "auroc", "groups": "overall", "criterion": {"at_least": 0.7},
         "assume": 0.75},
    ]  # fmt: skip
    if attrs:
        gates.append({"id": "G2", "metric": "tpr", "attribute": attrs[0], "groups": "each",
                      "versus": "reference", "criterion": {"difference_between": [-0.1, None]},
                      "assume": 0.0, "assume_reference": 0.7})  # fmt: skip
    plan = {
        "schema": SCHEMA,
        "title": "Evaluation plan",
        "purpose": "Acceptance criteria fixed before the validation data are analysed.",
        "outcome": mapping.get("label") or "outcome",
        "score": mapping.get("score") or "score",
        "threshold": mapping.get("threshold") if mapping.get("threshold") is not None else 0.5,
        "attributes": attrs,
        "min_group_size": 30,
        "alpha": 0.05,
        "multiplicity": "bonferroni",
        "gates": gates,
    }
    return json.dumps(plan, indent=2, ensure_ascii=False) + "\n"


class PlanPage(AssessmentPage):
    title = "Evaluation plan"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.tasks = ctx.task_runner(self)

    def detach(self) -> None:
        self.tasks.discard()
        super().detach()

    @property
    def state(self) -> PlanState:
        return self.ctx.session.page_state("plan", PlanState)

    # ------------------------------------------------------------------ widgets
    def build(self, layout: QVBoxLayout) -> None:
        layout.addWidget(Heading(self.title))
        layout.addWidget(Note(
            "Fix the acceptance criteria before looking at the validation data. Each gate is a "
            "bound on a metric, or on its gap to the reference group, per subgroup; a gate "
            "passes when its whole interval is acceptable, fails when its whole interval is "
            "not, and otherwise there is insufficient evidence. Lock the plan with 'probity plan "
            "lock' (a signed PDF) before the data are first loaded."))  # fmt: skip
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, label, slot in (
            ("new", "New plan", self.new_plan),
            ("open", "Open plan…", self.open_plan),
            ("save", "Save plan as…", self.save_plan),
            ("lock", "Locked PDF…", self.attach_lock),
            ("power", "Check power…", self.check_power),
            ("judge", "Judge the latest evaluation", self.judge),
        ):
            button = QPushButton(label)
            button.setAccessibleName(label)
            button.clicked.connect(slot)
            row.addWidget(button)
            self.buttons[key] = button
        row.addStretch(1)
        layout.addLayout(row)
        self.editor = QPlainTextEdit()
        self.editor.setAccessibleName("Plan JSON")
        self.editor.setFont(QFont("DejaVu Sans Mono", 9))
        self.editor.setMinimumHeight(220)
        self.editor.textChanged.connect(self._edited)
        layout.addWidget(self.editor)
        self.validity = Note()
        self.validity.setAccessibleName("Plan check")
        layout.addWidget(self.validity)
        layout.addWidget(Heading("Gates", 2))
        self.gates = make_table(("Gate", "Metric", "Groups", "Criterion", "min n"), "Plan gates")
        layout.addWidget(self.gates)
        layout.addWidget(Heading("What the plan can detect", 2))
        self.power_note = Note("Check power… reads a sizes file (attribute,group,n,events).")
        layout.addWidget(self.power_note)
        self.power = make_table(("Gate", "Metric", "Group", "n", "Bound", "P(pass)", "80% power"),
                                "Plan power")  # fmt: skip
        layout.addWidget(self.power)
        layout.addWidget(Heading("Verdicts of the latest evaluation", 2))
        self.verdict = Note()
        self.verdict.setAccessibleName("Plan verdict")
        layout.addWidget(self.verdict)
        self.checks = make_table(("Gate", "Metric", "Group", "Value [interval]", "Level", "Bound",
                                  "Verdict", "Reasoning"), "Gate verdicts")  # fmt: skip
        self.checks.setMinimumHeight(320)
        layout.addWidget(self.checks)

    def refresh(self) -> None:
        if self.editor.toPlainText() != self.state.text:
            self.editor.blockSignals(True)
            self.editor.setPlainText(self.state.text)
            self.editor.blockSignals(False)
        self._show_plan()
        result = _stored_result(self.ctx)
        if not result.get("verdict"):
            self.verdict.setText("No evaluation has been judged with a plan yet.")
            fill(self.checks, [])
            return
        from assessment.plan.apply import lock_sentence

        record = result.get("plan") or {}
        deviations = record.get("deviations") or []
        self.verdict.setText(
            f"Overall verdict: {VERDICT_LABELS.get(result['verdict'], '?').upper()} "
            f"(plan {record.get('title', '?')!r}). {lock_sentence(record)} Deviations: "
            + ("; ".join(deviations) if deviations else "none.")
        )
        fill(self.checks, *check_rows(list(result.get("gates") or [])))

    def is_complete(self) -> bool:
        record = self.ctx.doc.evaluation
        return record is not None and record.result is not None and bool(record.result.verdict)

    # ------------------------------------------------------------------ plan text
    def current_plan(self) -> Plan:
        """The plan in the editor; PlanError names the JSON path of a problem."""
        return Plan.from_text(self.editor.toPlainText(), "the plan")

    @Slot()
    def _edited(self) -> None:
        self.state.text = self.editor.toPlainText()
        self._show_plan()

    def _show_plan(self) -> None:
        if not self.state.text.strip():
            self.validity.setText("No plan yet: New plan starts one, Open plan… reads a file.")
            fill(self.gates, [])
            return
        try:
            plan = self.current_plan()
        except PlanError as exc:
            self.validity.setText(f"⚠ {exc.message}")
            fill(self.gates, [])
            return
        where = f" ({self.state.path.name})" if self.state.path else ""
        self.validity.setText(f"✓ Valid plan{where}: {plan.title!r}, {len(plan.gates)} gates, "
                              f"{plan.multiplicity}, α = {plan.alpha:g}.")  # fmt: skip
        fill(self.gates, gate_rows(plan))

    def set_text(self, text: str, path: Path | None = None) -> None:
        self.state.path = path
        self.state.lock = None
        self.editor.setPlainText(text)

    @Slot()
    def new_plan(self) -> None:
        record = self.ctx.doc.evaluation
        self.set_text(template(record.config_json() if record is not None else None))

    @Slot()
    def open_plan(self) -> None:
        path = self.ctx.ask_open_path("Open an evaluation plan", PLAN_FILTER)
        if path is None:
            return
        from assessment.plan.apply import read_plan

        try:
            _, text = read_plan(path)
        except ProbityError as exc:
            self.ctx.show_error(exc)
            return
        self.set_text(text, path)

    @Slot()
    def save_plan(self) -> None:
        try:
            plan = self.current_plan()
        except PlanError as exc:
            self.ctx.show_error(exc)
            return
        path = self.ctx.ask_save_path("Save the evaluation plan", PLAN_FILTER, "plan.json")
        if path is None:
            return
        from assessment.fileio import atomic_write_text

        try:
            atomic_write_text(path, self.editor.toPlainText(), error=PlanError)
        except ProbityError as exc:
            self.ctx.show_error(exc)
            return
        self.state.path = path
        self.ctx.show_status(f"Saved the plan {plan.title!r} to {path.name}.")
        self._show_plan()

    @Slot()
    def attach_lock(self) -> None:
        path = self.ctx.ask_open_path("The locked plan (signed PDF)", "Locked plan (*.pdf)")
        if path is None:
            return
        from reports.plan_cli import read_lock_file

        try:
            self.state.lock = read_lock_file(path)
        except ProbityError as exc:
            self.ctx.show_error(exc)
            return
        self.ctx.show_status(f"Locked plan signed {self.state.lock.signed_at} by "
                             f"{self.state.lock.signer}.")  # fmt: skip

    @Slot()
    def check_power(self) -> None:
        try:
            plan = self.current_plan()
        except PlanError as exc:
            self.ctx.show_error(exc)
            return
        path = self.ctx.ask_open_path("Expected group sizes (attribute,group,n,events)",
                                      "Sizes (*.csv)")  # fmt: skip
        if path is None:
            return
        from assessment.plan.power import plan_power
        from assessment.plan.sizes import read_sizes

        try:
            report = plan_power(plan, read_sizes(path))
        except ProbityError as exc:
            self.ctx.show_error(exc)
            return
        self.power_note.setText(
            f"{report.k} checks at two-sided level {100 * report.level:.4g}% from {path.name}. "
            + " ".join(report.summary())
        )
        fill(self.power, *power_rows(report))

    # ------------------------------------------------------------------ judging
    @Slot()
    def judge(self) -> None:
        try:
            plan = self.current_plan()
        except PlanError as exc:
            self.ctx.show_error(exc)
            return
        session = EvaluationSession.of(self.ctx)
        record = self.ctx.doc.evaluation
        result = record.result_json() if record is not None else None
        if session.inputs is None or not session.matches(result):
            self.ctx.show_error(DataError(
                "Judging re-runs the engine on this window's latest evaluation: run the "
                "evaluation on the Validation data page first, then judge it with the plan."))
            return  # fmt: skip
        from assessment.plan.apply import PlanRun, deviations_from_run

        text = self.editor.toPlainText()
        run = PlanRun(plan=plan, text=text, source=self.state.path.name if self.state.path
                      else "the Plan step")  # fmt: skip
        config = record.config_json() if record is not None else {}
        if self.state.lock is not None:  # the locked plan is the one judged
            run.attach_lock(self.state.lock)
        run.deviations += deviations_from_run(
            run.plan, config.get("mapping") or {}, (result or {}).get("spec") or {},
            (result or {}).get("references") or {},
        )  # fmt: skip
        inputs, spec, snapshot = session.inputs, session.spec, dict(result or {})
        doc = self.ctx.doc

        def work(progress: Any, cancelled: Any) -> dict[str, Any]:
            from assessment.evaluation.engine import evaluate

            def rerun(level: float) -> dict[str, Any]:
                out = evaluate(inputs, replace(spec, ci_level=level), cancelled=cancelled)
                return out.to_json()

            return run.judge(snapshot, rerun, doc)

        self.buttons["judge"].setEnabled(False)
        self.verdict.setText("Judging the gates…")
        self.tasks.run(work, lambda data: self._judged(config, data),
                       on_error=self._failed, on_cancelled=self._failed_quietly,
                       lane=WORK)  # fmt: skip

    def _judged(self, config: dict[str, Any], data: dict[str, Any]) -> None:
        from assessment.evaluation.record import store_evaluation

        self.buttons["judge"].setEnabled(True)
        session = EvaluationSession.of(self.ctx)
        session.set_run(session.inputs, session.spec, data)
        store_evaluation(self.ctx.doc, config, data)
        self.refresh_now()

    def _failed(self, exc: BaseException) -> None:
        self.buttons["judge"].setEnabled(True)
        self.ctx.show_error(exc)
        self.refresh_now()

    def _failed_quietly(self) -> None:
        self.buttons["judge"].setEnabled(True)
        self.refresh_now()
