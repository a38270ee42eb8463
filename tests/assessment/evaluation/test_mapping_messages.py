"""Error lines stay one readable line whatever the cell holds, and ±infinity in a probability
column is refused as outside 0–1 rather than quietly excluded (found by an independent attack:
a 5,000-digit outcome value made a 5,129-character error line; 1e999 and -inf were dropped as
"unparseable" and, with --quiet, nothing was said at all)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _evaluate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "evaluate",
            str(path),
            "--label",
            "y",
            "--score",
            "p",
            "--group",
            "g",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def _csv(tmp_path: Path, special: dict[int, str]) -> Path:
    rows = ["y,p,g"] + [f"{i % 2},{(i * 37 % 100) / 100:.2f},{'ab'[i % 3 % 2]}" for i in range(60)]
    for i, row in special.items():
        rows[i] = row
    path = tmp_path / "data.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("cell", ["1e999", "-inf", "inf", "-1e400"])
def test_infinite_probabilities_are_refused_as_outside_0_1(tmp_path: Path, cell: str) -> None:
    out = _evaluate(_csv(tmp_path, {5: f"1,{cell},a"}))
    assert out.returncode == 2, out.stdout + out.stderr
    line = out.stderr.strip()
    assert line.count("\n") == 0 and "Traceback" not in line
    assert "between 0 and 1" in line and "row 6" in line
    assert "percentages" not in line  # an infinity is no percentage


@pytest.mark.parametrize("where", ["outcome", "score"])
def test_a_huge_cell_is_quoted_short(tmp_path: Path, where: str) -> None:
    huge = "9" * 5000 if where == "outcome" else "x" * 5000
    rows = (
        {4: f"{huge},0.5,a"} if where == "outcome" else {i: f"1,{huge}{i},a" for i in range(1, 20)}
    )
    out = _evaluate(_csv(tmp_path, rows))
    assert out.returncode == 2, out.stdout + out.stderr
    line = out.stderr.strip()
    assert "Traceback" not in line and line.count("\n") == 0
    assert len(line) < 600, len(line)
    assert "(5,00" in line and "characters)" in line
