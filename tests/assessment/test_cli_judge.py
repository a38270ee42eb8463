"""`python main.py judge` as a user runs it: output, JSON, exit codes, bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assessment import storage
from assessment.document import Assessment
from assessment.judgement import applicable_slots

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def complete_file(tmp_path: Path) -> Path:
    doc = Assessment.new("probast-2019")
    doc.set_field("model_card", "model_name", "Sepsis-Ω")
    doc.set_study_type("validation")
    for slot in applicable_slots(doc.instrument, "validation", []):
        doc.set_answer(slot.key, "PY")
    doc.set_answer("4.1@validation", "N")
    doc.set_domain("main:D4", final="high", rationale="Only 40 events.")
    for key in ("main:D1", "main:D2", "main:D3"):
        doc.set_domain(key, applicability="low")
    path = tmp_path / "complete.probity"
    storage.save(doc, path)
    return path


def test_judge_complete(complete_file: Path) -> None:
    out = _run("judge", str(complete_file))
    assert out.returncode == 0, out.stderr
    assert "Sepsis-Ω" in out.stdout
    assert "Overall risk of bias: high" in out.stdout
    assert "Overall applicability: low" in out.stdout  # label from the instrument's Step 4
    assert "incomplete" not in out.stdout


def test_judge_json(complete_file: Path) -> None:
    out = _run("judge", str(complete_file), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["complete"] is True
    assert {o["id"]: o["value"] for o in data["overall"]} == {"rob": "high", "applicability": "low"}
    d4 = next(d for d in data["domains"] if d["key"] == "main:D4")
    assert (d4["suggested"], d4["final"]) == ("high", "high")


def test_judge_incomplete_lists_ids(tmp_path: Path) -> None:
    doc = Assessment.new("probast-2019")
    doc.set_study_type("validation")
    doc.set_answer("1.1@validation", "Y")
    path = tmp_path / "inc.probity"
    storage.save(doc, path)
    out = _run("judge", str(path))
    assert out.returncode == 0
    assert "incomplete: 16 questions unanswered: 1.2@validation, 2.1@validation" in out.stdout


@pytest.mark.parametrize("payload", [b"", b'{"format": "probity-assessment", "sch', b"\x00\xff"])
def test_judge_broken_file_one_line_exit_2(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "broken.probity"
    path.write_bytes(payload)
    out = _run("judge", str(path))
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("probity: error: ")
    assert "Traceback" not in out.stderr
