"""Formula-injection neutralisation and atomic CSV/XLSX export of result tables."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from assessment.errors import DataError
from assessment.evaluation.export import neutralise_cell, write_csv, write_xlsx

RISKY = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")']


@pytest.mark.parametrize("text", RISKY)
def test_risky_text_is_prefixed(text: str) -> None:
    assert neutralise_cell(text) == "'" + text


def test_safe_values_unchanged() -> None:
    assert neutralise_cell("Caucasian") == "Caucasian"
    assert neutralise_cell("<30") == "<30"
    assert neutralise_cell(-0.5) == -0.5
    assert neutralise_cell(np.int64(3)) == 3 and isinstance(neutralise_cell(np.int64(3)), int)
    assert neutralise_cell(float("nan")) is None
    assert neutralise_cell(None) is None


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"group": RISKY + ["ok"], "n": list(range(len(RISKY) + 1)), "=value": [0.5] * 8}
    )


def test_csv_cells_neutralised(tmp_path) -> None:
    out = tmp_path / "t.csv"
    write_csv(_frame(), out)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["group", "n", "'=value"]
    assert [r[0] for r in rows[1:]] == ["'" + t for t in RISKY] + ["ok"]
    assert rows[1][1] == "0" and rows[1][2] == "0.5"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_xlsx_has_no_formulas(tmp_path) -> None:
    out = tmp_path / "t.xlsx"
    write_xlsx({"Groups": _frame(), "Bad/name:[x]": _frame().iloc[:1]}, out)
    wb = load_workbook(out)
    assert wb.sheetnames == ["Groups", "Bad_name__x_"]
    ws = wb["Groups"]
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
    assert ws["A2"].value == "'=1+1"
    assert ws["B3"].value == 1 and ws["C2"].value == 0.5
    assert ws["C1"].value == "'=value"


def test_missing_folder_is_typed_error(tmp_path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        write_csv(_frame(), tmp_path / "nope" / "t.csv")
    with pytest.raises(DataError, match="no table"):
        write_xlsx({}, tmp_path / "t.xlsx")


class _BrokenFrame:
    """A table whose rows fail half-way, as a failing export would."""

    columns = ["group"]

    def itertuples(self, index: bool = False, name: str | None = None):
        yield ("ok",)
        raise RuntimeError("disk on fire")


def test_failed_write_leaves_old_file_and_no_temp(tmp_path) -> None:
    out = tmp_path / "t.csv"
    out.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_csv(_BrokenFrame(), out)
    assert out.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_xlsx({"T": _BrokenFrame()}, tmp_path / "t.xlsx")
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]
