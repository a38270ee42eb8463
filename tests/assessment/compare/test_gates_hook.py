"""Gates of one evaluation plan per model, through the real plan package: each model's verdicts
equal an independent reading of the engine's own intervals at the plan's Bonferroni level, and
the dossier, the report and the page say which model fails which gate."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import main

GATE_BOUND = 0.70


def _data(tmp_path: Path, seed: int, n: int) -> Path:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(2 * x - 1)))).astype(int)
    path = tmp_path / "d.csv"
    pd.DataFrame({"y": y, "race": rng.choice(["A", "B"], n),
                  "good": np.round(1 / (1 + np.exp(-(2 * x - 1))), 4),
                  "weak": np.round(1 / (1 + np.exp(-(0.3 * x + rng.normal(size=n) - 1))), 4),
                  }).to_csv(path, index=False)  # fmt: skip
    return path


def _plan(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({
        "schema": "probity-plan/1", "title": "AUROC per race", "outcome": "y", "positive": ["1"],
        "attributes": ["race"], "multiplicity": "bonferroni", "alpha": 0.05,
        "gates": [{"id": "G1", "metric": "auroc", "attribute": "race", "groups": "each",
                   "criterion": {"at_least": GATE_BOUND}}],
    }), encoding="utf-8")  # fmt: skip
    return path


def _expected(data: Path, column: str, level: float) -> dict[str, str]:
    """Verdict per race group read independently from the engine's interval at ``level``."""
    from assessment.evaluation.engine import evaluate
    from assessment.evaluation.io import read_table
    from assessment.evaluation.mapping import ColumnMapping, prepare_input
    from assessment.evaluation.spec import EvaluationSpec

    inputs = prepare_input(read_table(data), ColumnMapping(
        label="y", positive=["1"], score=column, attributes=["race"]))  # fmt: skip
    result = evaluate(inputs, replace(EvaluationSpec(), bootstrap=0, ci_level=level))
    out = {}
    for g in result.groups_of("race"):
        m = g.metrics["auroc"]
        assert m.ci_low is not None and m.ci_high is not None
        out[g.group] = ("pass" if m.ci_low >= GATE_BOUND
                        else "fail" if m.ci_high < GATE_BOUND else "insufficient")  # fmt: skip
    return out


def test_gates_per_model_in_the_dossier(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    data, plan, out = _data(tmp_path, 8, 3000), _plan(tmp_path), tmp_path / "c.json"
    assert main.main(["compare", str(data), "--label", "y", "--model", "Good=good", "--model",
                      "Weak=weak", "--group", "race", "--bootstrap", "0", "--plan", str(plan),
                      "--json", str(out), "--quiet"]) == 0, capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert [(g["model"], g["verdict"]) for g in doc["gates"]] == [("Good", "pass"),
                                                                  ("Weak", "fail")]
    for entry, column in zip(doc["gates"], ("good", "weak"), strict=True):
        checks: list[dict[str, Any]] = entry["checks"]
        assert {c["level"] for c in checks} == {0.975}  # Bonferroni over two checks
        assert {c["group"]: c["verdict"] for c in checks} == _expected(data, column, 0.975)
    assert "Good passes every gate." in doc["summary"]
    weak = [s for s in doc["summary"] if s.startswith("Weak fails")][0]
    assert "the G1 gate for race: A (value 0." in weak


def test_a_missing_or_bad_plan_is_one_sentence_naming_the_option(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _data(tmp_path, 3, 200)
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "probity-plan/1", "gates": "many"}', encoding="utf-8")
    for plan in (tmp_path / "nope.json", bad):
        code = main.main(["compare", str(data), "--label", "y", "--model", "A=good",
                          "--model", "B=weak", "--group", "race", "--plan", str(plan)])
        err = capsys.readouterr().err
        assert code == 2 and "--plan" in err and err.count("\n") == 1, err


def test_gates_reach_the_report_and_the_page_text(tmp_path: Path) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    from gui.compare.view import gates_text
    from reports.compare_report import build_comparison_report

    data, plan, out = _data(tmp_path, 9, 1500), _plan(tmp_path), tmp_path / "c.json"
    assert main.main(["compare", str(data), "--label", "y", "--model", "P=good", "--model",
                      "Q=weak", "--group", "race", "--bootstrap", "0", "--plan", str(plan),
                      "--json", str(out), "--quiet"]) == 0
    doc = json.loads(out.read_text())
    pdf = build_comparison_report(out.read_bytes()).data
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages)
    assert "Q fails the G1" in text
    assert "Q fails the G1" in gates_text(doc)
