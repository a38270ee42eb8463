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


def test_patients_not_rows_with_a_patient_column(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    frame = _frame(400, per_patient=2)
    code, out, err, doc = _compare(tmp_path, frame, ["--cluster", "pid"], capsys)
    assert code == 0, err
    assert "on 200 patients (400 rows; patient column 'pid')" in out
    assert doc["data"]["patients"] == frame["pid"].nunique() == 200
    assert doc["data"]["patient_column"] == "pid" and doc["data"]["rows_compared"] == 400
    assert doc["data"]["missing_patient_ids"] == 0 and doc["warnings"] == []
    assert any("200 patients" in n and "several" in n for n in doc["notes"])
    assert "WARNING" not in out


def test_no_several_rows_note_when_every_patient_has_one_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, doc = _compare(tmp_path, _frame(400, per_patient=1), ["--cluster", "pid"],
                                   capsys)
    assert code == 0, err
    assert not any("several per patient" in n or "Rows are clustered" in n
                   for n in doc["notes"])
    assert any("each of the 400 patients has one row" in n for n in doc["notes"])


def test_without_a_patient_column_each_row_is_a_patient(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, doc = _compare(tmp_path, _frame(), [], capsys)
    assert code == 0, err
    assert "on 400 patients of v.csv" in out
    assert doc["data"]["patient_column"] is None and doc["data"]["patients"] == 400


def test_missing_patient_ids_are_counted_and_said(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    frame = _frame(400, per_patient=2)
    frame.loc[:49, "pid"] = None  # 50 rows (25 patients' worth) without an id
    code, out, err, doc = _compare(tmp_path, frame, ["--cluster", "pid"], capsys)
    assert code == 0, err
    # independent count: 175 patients with ids + 50 rows each a patient of its own
    assert doc["data"]["patients"] == frame["pid"].nunique() + 50 == 225
    assert doc["data"]["missing_patient_ids"] == 50
    assert "WARNING: 50 of the 400 compared rows have no patient id in 'pid'" in out
    assert any("50 of the 400" in w for w in doc["warnings"])


@pytest.mark.parametrize(("column", "said"), [("y", "also the outcome"),
                                               ("sex", "also a group column"),
                                               ("few", "only 5 distinct values")])
def test_a_doubtful_patient_column_gets_a_warning(tmp_path: Path, column: str, said: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    frame = _frame()
    frame["few"] = [f"w{i % 5}" for i in range(len(frame))]
    code, out, err, doc = _compare(tmp_path, frame, ["--cluster", column], capsys)
    assert code == 0, err
    assert f"WARNING: The patient column {column!r}" in out and said in out
    assert len(doc["warnings"]) == 1


def test_the_pdf_cover_names_patients_and_the_patient_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reports.compare_report import build_comparison_report

    _code, _o, _e, doc = _compare(tmp_path, _frame(400, per_patient=2), ["--cluster", "pid"],
                                  capsys)
    pdf = build_comparison_report((tmp_path / "c.json").read_bytes())
    import pypdfium2 as pdfium

    text = "".join(p.get_textpage().get_text_range() for p in pdfium.PdfDocument(pdf.data))
    flat = " ".join(text.split())
    assert "200 patients (400 rows; patient column 'pid')" in flat
    assert "by the patient column 'pid'" in flat


def test_quiet_keeps_the_warnings_on_stderr(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, _doc = _compare(tmp_path, _frame(), ["--cluster", "sex", "--quiet"], capsys)
    assert code == 0 and out == ""
    assert err.startswith("WARNING: The patient column 'sex' is also a group column")
