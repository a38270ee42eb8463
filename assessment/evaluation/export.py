"""Write result tables to CSV and XLSX without handing a spreadsheet a formula.

Group labels and column names come from the user's data file, so a value such as
``=HYPERLINK("http://...")`` or ``@SUM(A1)`` would be executed by Excel or LibreOffice when the
exported table is opened (CSV/formula injection, OWASP). Every text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is therefore prefixed with a single
quote, the neutralisation OWASP recommends; numbers stay numbers. Writes go through the one atomic
writer (:func:`assessment.fileio.atomic_write`), so a failed export never leaves half a file.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, BinaryIO

from assessment.errors import DataError
from assessment.fileio import FORMULA_PREFIXES as FORMULA_PREFIXES
from assessment.fileio import atomic_write
from assessment.fileio import neutralise_cell as neutralise_cell


def _rows(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterable[list[Any]]:
    yield [neutralise_cell(str(h)) for h in header]
    for row in rows:
        yield [neutralise_cell(v) for v in row]


def _table(frame: Any) -> tuple[list[Any], Iterable[Sequence[Any]]]:
    """Header and row iterator from a DataFrame (duck-typed so pandas stays a lazy import)."""
    header = [str(c) for c in frame.columns]
    return header, frame.itertuples(index=False, name=None)


def write_csv(frame: Any, path: str | os.PathLike[str]) -> None:
    """Write one table as UTF-8 CSV (with BOM so Excel reads accents), cells neutralised."""

    def write(handle: BinaryIO) -> None:
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
        writer = csv.writer(text)
        header, rows = _table(frame)
        for row in _rows(header, rows):
            writer.writerow(["" if v is None else v for v in row])
        text.flush()
        text.detach()  # the atomic writer closes the file

    atomic_write(path, write, error=DataError)


def _sheet_title(name: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 chars, none of []:*?/\\, unique."""
    clean = "".join("_" if ch in '[]:*?/\\' else ch for ch in name).strip("'") or "Sheet"
    title = clean[:31]
    k = 2
    while title.lower() in used:
        suffix = f" ({k})"
        title = clean[: 31 - len(suffix)] + suffix
        k += 1
    used.add(title.lower())
    return title


def write_xlsx(sheets: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write several tables, one sheet each, with every text cell stored as text.

    openpyxl turns any string starting with ``=`` into a formula, so neutralisation here is
    not cosmetic; cells are additionally given the text data type explicitly.
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    if not sheets:
        raise DataError("There is no table to export; run the evaluation first.")
    wb = Workbook(write_only=False)
    for blank in list(wb.worksheets):  # the workbook's default empty sheet
        wb.remove(blank)
    used: set[str] = set()
    for name, frame in sheets.items():
        ws = wb.create_sheet(_sheet_title(str(name), used))
        header, rows = _table(frame)
        widths = [len(str(h)) for h in header]
        for r, row in enumerate(_rows(header, rows), start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"
                    widths[c - 1] = max(widths[c - 1], min(len(value), 60))
        for c, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = max(8, width + 2)
        ws.freeze_panes = "A2"
    atomic_write(path, wb.save, error=DataError)
