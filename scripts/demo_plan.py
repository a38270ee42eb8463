"""The demo's locked evaluation plan (issue 12), called by scripts/build_demo.py.

Writes ``resources/demo/plan.json`` (the plan) and ``resources/demo/plan.pdf`` (the plan rendered,
the JSON attached, signed by a "demo plan author" identity created for this build in a throw-away
folder: only its certificate, inside the signature, survives), then judges the demo evaluation
with it exactly as ``evaluate --plan plan.json --locked-plan plan.pdf`` does. The signature holds
the real signing time, so plan.pdf differs on every build (a signature cannot be reproduced).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

PLAN_AUTHOR = "Demo Plan Author"


def demo_plan(threshold: float) -> dict[str, Any]:
    return {
        "schema": "probity-plan/1",
        "title": "Demo readmission model: acceptance gates",
        "purpose": "Criteria a transitional-care programme set before the held-out validation: "
                   "discrimination overall and per age band, calibration-in-the-large overall, "
                   "and no group's sensitivity more than 10 points below the largest group's.",
        "outcome": "readmitted_30d",
        "positive": ["1"],
        "score": "predicted_probability",
        "score_kind": "probability",
        "threshold": threshold,
        "attributes": ["race", "gender", "age_band"],
        "intersections": [["race", "gender"]],
        "min_group_size": 30,
        "alpha": 0.05,
        "multiplicity": "holm",
        "gates": [
            {"id": "G1", "metric": "auroc", "groups": "overall", "criterion": {"at_least": 0.62},
             "assume": 0.66},
            {"id": "G2", "metric": "oe_ratio", "groups": "overall",
             "criterion": {"at_least": 0.85}, "assume": 1.0},
            {"id": "G3", "metric": "tpr", "attribute": "race", "groups": "each",
             "versus": "reference", "criterion": {"difference_between": [-0.1, None]},
             "min_n": 300, "assume": 0.0, "assume_reference": 0.4},
            {"id": "G4", "metric": "auroc", "attribute": "age_band", "groups": "each",
             "criterion": {"at_least": 0.55}, "min_n": 400, "assume": 0.66},
        ],
    }  # fmt: skip


def lock_and_judge(
    predictions: Path, config: dict[str, Any], result: dict[str, Any], out_dir: Path
) -> dict[str, Any]:
    """Write and lock the demo plan, then return ``result`` with its gates and verdict."""
    from assessment.document import Assessment
    from assessment.evaluation.engine import evaluate
    from assessment.evaluation.io import read_table
    from assessment.evaluation.mapping import ColumnMapping, prepare_input
    from assessment.evaluation.spec import EvaluationSpec
    from assessment.plan.apply import PlanRun, deviations_from_run
    from assessment.plan.model import Plan
    from reports.identity import create_identity, load_identity
    from reports.plan_report import lock_plan, read_locked_plan

    mapping = ColumnMapping.from_json(config["mapping"])
    spec = EvaluationSpec.from_json(config["spec"])
    text = json.dumps(demo_plan(spec.threshold), indent=2, ensure_ascii=False) + "\n"
    plan = Plan.from_text(text, "the demo plan")
    (out_dir / "plan.json").write_text(text, encoding="utf-8")
    passphrase = os.urandom(16).hex().encode()
    old = os.environ.get("PROBITY_CONFIG_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PROBITY_CONFIG_DIR"] = str(Path(tmp) / "config")
        try:
            p12 = create_identity(PLAN_AUTHOR, passphrase, role="Plan author",
                                  organisation="Probity demo", out=Path(tmp) / "author.p12",
                                  key_type="ec-p256")  # fmt: skip
            author = load_identity(p12, passphrase)
            pdf = lock_plan(text, author)
        finally:
            if old is None:
                os.environ.pop("PROBITY_CONFIG_DIR", None)
            else:
                os.environ["PROBITY_CONFIG_DIR"] = old
    (out_dir / "plan.pdf").write_bytes(pdf)
    lock = read_locked_plan(pdf, source="plan.pdf", extra_trust=(author.certificate,))
    inputs = prepare_input(read_table(predictions), mapping)
    run = PlanRun(plan=plan, text=text, source="plan.json")
    run.deviations = deviations_from_run(
        plan, config["mapping"], result["spec"], result.get("references") or {}
    )
    run.attach_lock(lock)

    def rerun(level: float) -> dict[str, Any]:
        return evaluate(inputs, replace(spec, ci_level=level)).to_json()

    judged = run.judge(result, rerun, Assessment.new("probast-2019"))
    judged["plan"]["lock_note"] = (
        "the plan was locked when the demo was built, before the run; the demo's audit log shows "
        "the pinned build date of a reproducible build, not this clock"
    )
    return judged
