"""``probity evaluate DATA … --into FILE.probity``: the headless Run button.

The evaluation must land in the assessment as the GUI stores it: the run's file, SHA-256,
mapping and spec beside the result, the document's own demographics compared with, one audit
entry by the document's reviewer, and an atomic save that leaves the file intact on failure.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import main
from assessment.storage import load, save
from reports.model import report_model

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def no_faulthandler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)


@pytest.fixture
def data_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    n = 600
    race = rng.choice(["Black", "White"], n, p=[0.3, 0.7])
    y = (rng.random(n) < 0.3).astype(int)
    p = np.clip(0.3 * y + rng.normal(0.35, 0.15, n), 0.001, 0.999).round(4)
    path = tmp_path / "validation.csv"
    pd.DataFrame({"y": y, "p": p, "race": race}).to_csv(path, index=False)
    return path


@pytest.fixture
def assessment_file(tmp_path: Path) -> Path:
    path = tmp_path / "study.probity"
    shutil.copy(REPO / "resources" / "examples" / "complete.probity", path)
    doc = load(path)
    doc.set_field("datasheet", "training_demographics", {"race": {"black": 250, "white": 750}})
    save(doc, path)
    return path


def _evaluate(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main.main(["evaluate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_into_stores_the_run_like_the_gui(data_csv, assessment_file, capsys) -> None:
    before = load(assessment_file)
    n_audit = len(before.audit)
    code, out, err = _evaluate(
        [str(data_csv), "--label", "y", "--score", "p", "--group", "race", "--bootstrap", "0",
         "--into", str(assessment_file)],
        capsys,
    )
    assert code == 0, err
    assert f"Stored the evaluation in {assessment_file}" in out
    doc = load(assessment_file)
    ev = doc.evaluation
    assert ev is not None
    config, result = ev.config_json(), ev.result_json()
    assert config["file"] == str(data_csv.resolve())
    assert config["file_name"] == data_csv.name
    assert config["sha256"] == hashlib.sha256(data_csv.read_bytes()).hexdigest()
    assert config["mapping"]["label"] == "y" and config["mapping"]["attributes"] == ["race"]
    assert config["spec"] == result["spec"]  # the run configuration is the result's spec
    # The document's datasheet is what the representativeness check compared with.
    assert result["spec"]["training_demographics"] == {"race": {"black": 250.0, "white": 750.0}}
    rows = {r["group"]: r for r in result["representativeness"]}
    assert set(rows) == {"Black", "White"}
    assert rows["Black"]["training_share"] == pytest.approx(0.25)
    assert result["provenance"]["rows_used"] == 600
    # One audit entry, by the assessment's reviewer, for the evaluation.
    assert len(doc.audit) == n_audit + 1
    entry = doc.audit[-1]
    assert entry.field == "evaluation" and entry.reviewer == "Demo Reviewer"
    # Everything else is as it was; the report of this file is current.
    assert doc.answers == before.answers
    assert report_model(doc).stale == ()
    assert not list(assessment_file.parent.glob("*.tmp"))


def test_into_refuses_a_missing_or_foreign_file_before_reading_data(
    data_csv, tmp_path, capsys
) -> None:
    base = [str(data_csv), "--label", "y", "--score", "p", "--group", "race"]
    code, _, err = _evaluate([*base, "--into", str(tmp_path / "nope.probity")], capsys)
    assert code == 2 and "no such assessment" in err and "Traceback" not in err
    code, _, err = _evaluate([*base, "--into", str(tmp_path / "out.json")], capsys)
    assert code == 2 and "ends in .probity" in err


def test_failed_run_leaves_the_assessment_untouched(data_csv, assessment_file, capsys) -> None:
    original = assessment_file.read_bytes()
    code, _, err = _evaluate(
        [str(data_csv), "--label", "y", "--score", "p", "--group", "ethnicity",
         "--into", str(assessment_file)],
        capsys,
    )
    assert code == 2 and "ethnicity" in err
    assert assessment_file.read_bytes() == original
