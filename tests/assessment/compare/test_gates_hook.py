"""The gates hook against the plan module's public contract (read_plan, decide), with a
stand-in module: each model's own result is the probe, run(level) re-evaluates that model at
the asked confidence level, and the dossier says which model fails which gate."""

from __future__ import annotations

import json
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import main


@dataclass
class _Report:
    verdict: str
    checks: list[dict[str, Any]]

    def gates_json(self) -> list[dict[str, Any]]:
        return self.checks

    def summary_json(self) -> dict[str, Any]:
        return {"checks": len(self.checks)}


@pytest.fixture()
def fake_plan(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float, float]]:
    """A plan with one gate 'AUROC ≥ 0.70 in every race group', judged on the lower limit."""
    seen: list[tuple[str, float, float]] = []
    pkg = types.ModuleType("assessment.plan")
    apply = types.ModuleType("assessment.plan.apply")
    verdicts = types.ModuleType("assessment.plan.verdicts")
    apply.read_plan = lambda path: ({"gate": "AUROC ≥ 0.70"}, Path(path).read_text())

    def decide(plan: Any, run: Any, probe: dict[str, Any]) -> _Report:
        data = run(0.99)  # a Holm step at a stricter level
        checks = []
        for g in data["groups"]:
            if g["attribute"] != "race":
                continue
            m = g["metrics"]["auroc"]
            verdict = "pass" if m["ci_low"] is not None and m["ci_low"] >= 0.70 else "fail"
            checks.append({"gate": plan["gate"], "attribute": "race", "group": g["group"],
                           "on": "value", "value": m["value"], "ci_low": m["ci_low"],
                           "ci_high": m["ci_high"], "verdict": verdict})
        seen.append((probe["provenance"]["mapping"]["score"], probe["spec"]["ci_level"],
                     data["spec"]["ci_level"]))
        verdict = "fail" if any(c["verdict"] == "fail" for c in checks) else "pass"
        return _Report(verdict, checks)

    verdicts.decide = decide
    monkeypatch.setitem(sys.modules, "assessment.plan", pkg)
    monkeypatch.setitem(sys.modules, "assessment.plan.apply", apply)
    monkeypatch.setitem(sys.modules, "assessment.plan.verdicts", verdicts)
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)
    return seen


def test_gates_per_model_in_the_dossier(tmp_path: Path, fake_plan: list[Any],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(8)
    n = 3000
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(2 * x - 1)))).astype(int)
    data = tmp_path / "d.csv"
    pd.DataFrame({"y": y, "race": rng.choice(["A", "B"], n),
                  "good": np.round(1 / (1 + np.exp(-(2 * x - 1))), 4),
                  "weak": np.round(1 / (1 + np.exp(-(0.3 * x + rng.normal(size=n) - 1))), 4),
                  }).to_csv(data, index=False)
    plan = tmp_path / "plan.json"
    plan.write_text("{}")
    out = tmp_path / "c.json"
    assert main.main(["compare", str(data), "--label", "y", "--model", "Good=good", "--model",
                      "Weak=weak", "--group", "race", "--bootstrap", "0", "--plan", str(plan),
                      "--json", str(out), "--quiet"]) == 0, capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert [(g["model"], g["verdict"]) for g in doc["gates"]] == [("Good", "pass"),
                                                                  ("Weak", "fail")]
    # each model's own result is its probe; run(level) re-evaluated it at 0.99
    assert [(s[0][-1], s[1], s[2]) for s in fake_plan] == [("0", 0.95, 0.99), ("1", 0.95, 0.99)]
    assert "Good passes every gate." in doc["summary"]
    weak = [s for s in doc["summary"] if s.startswith("Weak fails")][0]
    assert "the AUROC ≥ 0.70 gate for race: A (value 0." in weak


def test_missing_plan_module_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "assessment.plan", None)  # import fails
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)
    data = tmp_path / "d.csv"
    pd.DataFrame({"y": [0, 1] * 10, "g": ["a"] * 20, "p": [0.2, 0.7] * 10,
                  "q": [0.3, 0.6] * 10}).to_csv(data, index=False)
    code = main.main(["compare", str(data), "--label", "y", "--model", "A=p", "--model", "B=q",
                      "--group", "g", "--plan", str(tmp_path / "plan.json")])
    err = capsys.readouterr().err
    assert code == 2 and "no evaluation-plan module yet" in err and err.count("\n") == 1


def test_gates_reach_the_report_and_the_page_text(tmp_path: Path, fake_plan: list[Any],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    from gui.compare.view import gates_text
    from reports.compare_report import build_comparison_report

    rng = np.random.default_rng(9)
    n = 1500
    x = rng.normal(size=n)
    data = tmp_path / "d.csv"
    pd.DataFrame({"y": (rng.random(n) < 1 / (1 + np.exp(-(2 * x - 1)))).astype(int),
                  "race": rng.choice(["A", "B"], n), "p": np.round(1 / (1 + np.exp(-x)), 3),
                  "q": np.round(rng.random(n), 3)}).to_csv(data, index=False)
    (tmp_path / "plan.json").write_text("{}")
    out = tmp_path / "c.json"
    assert main.main(["compare", str(data), "--label", "y", "--model", "P=p", "--model", "Q=q",
                      "--group", "race", "--bootstrap", "0", "--plan",
                      str(tmp_path / "plan.json"), "--json", str(out), "--quiet"]) == 0
    doc = json.loads(out.read_text())
    pdf = build_comparison_report(out.read_bytes()).data
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages)
    assert "Q fails the AUROC" in text
    assert "Q fails the AUROC" in gates_text(doc)
