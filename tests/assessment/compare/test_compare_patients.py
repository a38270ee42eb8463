"""Break D, items 5, 6 and 9: internal column names never shown or stored; patients counted as
patients (not rows) with a patient column; missing patient ids and doubtful patient columns
stated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import main


def _frame(n: int = 400, per_patient: int = 2, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "pid": [f"p{i // per_patient:05d}" for i in range(n)],
        "y": (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x - 1)))).astype(int),
        "sex": rng.choice(["F", "M"], n),
        "pa": np.round(1 / (1 + np.exp(-(x + rng.normal(size=n) - 1))), 3),
        "pb": np.round(1 / (1 + np.exp(-(0.5 * x + rng.normal(size=n) - 1))), 3),
    })


@pytest.fixture(autouse=True)
def no_faulthandler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)


BASE = ["--label", "y", "--model", "A=pa", "--model", "B=pb", "--group", "sex",
        "--bootstrap", "0"]


def _compare(tmp_path: Path, frame: pd.DataFrame, extra: list[str],
             capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str, dict[str, Any]]:
    data = tmp_path / "v.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "c.json"
    code = main.main(["compare", str(data), *BASE, *extra, "--json", str(out)])
    o, e = capsys.readouterr()
    doc = json.loads(out.read_text()) if code == 0 else {}
    return code, o, e, doc


@pytest.mark.parametrize("option", [["--cluster", "nopat"], ["--group", "nogroup"]])
def test_internal_model_columns_are_never_listed(tmp_path: Path, option: list[str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, _o, err, _d = _compare(tmp_path, _frame(), option, capsys)
    assert code == 2
    assert "\x1f" not in err and "model0" not in err and "model1" not in err
    assert "(columns: pid, y, sex, pa, pb)" in err


def test_the_dossier_stores_each_vendors_own_column(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, _o, err, doc = _compare(tmp_path, _frame(), ["--cluster", "pid"], capsys)
    assert code == 0, err
    assert [m["result"]["provenance"]["mapping"]["score"] for m in doc["models"]] == ["pa", "pb"]
    assert "\\u001f" not in (tmp_path / "c.json").read_text()
