"""Issue 8 §2: hostile data files are refused with one line, in < 10 s and < 1 GB.

Every hostile file is built here, in the test's temporary folder: XLSX zip bombs (honest and
lying zip directories), XML with a DTD (billion laughs, external entity), malformed XML, a
sheet whose rows run past Excel's last row, nested/many-column/huge-row-group/huge-string
Parquet files, a truncated Parquet footer, a 100 MB CSV cell (on one line and quoted over many
lines), a first field over Python's 128 KB csv limit, too many CSV cells and columns, binary
junk, truncated files, a symlink to /dev/zero, a FIFO, a device, a folder.

Each case runs the reader (``read_table``, the one the CLI and the GUI use) in a fresh Python
process whose address space is capped with ``RLIMIT_AS`` at 1.5 GB and which is killed after a
timeout, so a regression fails the test instead of taking the machine down; the child reports
the reading time and its own peak RSS (VmHWM), which must stay under 10 s and 1 GB.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # ~40 child processes, each importing pandas and pyarrow

REPO = Path(__file__).resolve().parents[2]
ADDRESS_SPACE = 1536 * 1024 * 1024
MAX_SECONDS = 10.0
MAX_RSS_MB = 1024.0

CHILD = rf"""
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))
from assessment.errors import ProbityError
from assessment.evaluation.io import ReadLimits, read_table, list_sheets
limits = ReadLimits(**json.loads(sys.argv[2]))
start = time.perf_counter()
try:
    if sys.argv[3] == "sheets":
        out = {{"ok": list_sheets(sys.argv[1], limits)}}
    else:
        table = read_table(sys.argv[1], limits=limits)
        out = {{"ok": [table.rows_read, len(table.columns)]}}
except ProbityError as exc:
    out = {{"error": exc.message, "kind": type(exc).__name__}}
out["seconds"] = time.perf_counter() - start
# VmHWM (peak RSS of this program): ru_maxrss would include the forking test process's.
with open("/proc/self/status") as fh:
    peak = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
out["rss_mb"] = peak / 1024
print(json.dumps(out))
"""


def read_in_child(path: Path, what: str = "table", **limits: Any) -> dict[str, Any]:
    """Read ``path`` in a capped child process; return what it reports (never a traceback)."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), json.dumps(limits), what],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,  # the import of pandas/pyarrow on a loaded machine is not the reader's time
    )
    assert proc.returncode == 0, f"the reader crashed:\n{proc.stderr[-3000:]}"
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    log = os.environ.get("PROBITY_HOSTILE_LOG")  # a record of every case for the note
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"file": path.name, "limits": limits, **out}) + "\n")
    assert out["seconds"] < MAX_SECONDS, out
    assert out["rss_mb"] < MAX_RSS_MB, out
    if "error" in out:
        assert "\n" not in out["error"] and "Traceback" not in out["error"], out
    return out


def refused(path: Path, *needles: str, **limits: Any) -> str:
    out = read_in_child(path, **limits)
    assert "error" in out, f"{path.name} was read: {out}"
    for needle in needles:
        assert needle in out["error"], out["error"]
    return str(out["error"])


# ------------------------------------------------------------------------- special files


def test_symlink_to_dev_zero_fifo_device_and_folder(tmp_path: Path) -> None:
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    refused(zero, "is a device, not a data file")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # no writer: opening it for a blocking read would hang for ever
    refused(fifo, "is a named pipe (FIFO), not a data file")
    refused(Path("/dev/null"), "is a device")
    refused(tmp_path, "is a folder, not a data file")
    refused(tmp_path / "nothing.csv", "File not found")
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    refused(loop, "loop of symbolic links")


def test_file_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.write(b"y,score\n")
        fh.truncate(3 * 1024 * 1024)  # sparse: costs no disk
    refused(big, "the file is 3 MB, over the limit of 2 MB", "--max-file-mb", max_file_mb=2)


def test_binary_junk_and_truncated_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x7fELF\x02\x01\x01\x00" + os.urandom(200_000))
    refused(junk, "binary file")
    import pandas as pd

    good = tmp_path / "good.xlsx"
    pd.DataFrame({"y": range(2000), "p": [0.5] * 2000}).to_excel(good, index=False)
    for cut in (100, len(good.read_bytes()) // 2, len(good.read_bytes()) - 10):
        bad = tmp_path / f"cut{cut}.xlsx"
        bad.write_bytes(good.read_bytes()[:cut])
        refused(bad, "not a readable XLSX workbook")
    pq_good = tmp_path / "good.parquet"
    pd.DataFrame({"y": range(5000)}).to_parquet(pq_good)
    raw = pq_good.read_bytes()
    for cut in (8, len(raw) // 2, len(raw) - 1):
        bad = tmp_path / f"cut{cut}.parquet"
        bad.write_bytes(raw[:cut])
        refused(bad, "Parquet")
    lying = tmp_path / "footer.parquet"
    lying.write_bytes(raw[:-8] + struct.pack("<I", 2**31) + b"PAR1")
    refused(lying, "not a readable Parquet file")


# ------------------------------------------------------------------------- CSV


def test_a_100_mb_cell_is_refused_quickly(tmp_path: Path) -> None:
    one_line = tmp_path / "cell.csv"
    with one_line.open("w") as fh:
        fh.write("id,score,note\n1,0.5,")
        for _ in range(100):
            fh.write("x" * (1024 * 1024))
        fh.write("\n2,0.1,short\n")
    refused(
        one_line,
        "a cell in the row starting on line 2 is longer, over the limit of 1 MB",
        "--max-cell-kb",
    )
    quoted = tmp_path / "quoted.csv"
    with quoted.open("w") as fh:
        fh.write('id,score,note\n1,0.5,"')
        for _ in range(100):
            fh.write("line, with, commas\n" * 55_000)
        fh.write('"\n2,0.1,short\n')
    refused(quoted, "a cell in the row starting on line 2 is longer", "--max-cell-kb")


def test_a_long_cell_under_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text('y,note\n1,"' + "a, b\n" * 100_000 + '"\n0,x\n')
    out = read_in_child(path, max_cell_kb=1024)
    assert out["ok"] == [2, 2], out


def test_a_first_field_over_128_kb_is_read_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "wide_header.csv"
    name = "h" * 200_000
    path.write_text(f"{name},score\n1,0.5\n0,0.2\n")
    out = read_in_child(path)
    assert out["ok"] == [2, 2], out
    quoted = tmp_path / "quoted_header.csv"
    quoted.write_text(f'"{name}",score\n1,0.5\n')
    assert read_in_child(quoted)["ok"] == [1, 2]


def test_stray_quotes_do_not_cause_a_false_refusal(tmp_path: Path) -> None:
    path = tmp_path / "inches.csv"
    rows = "".join(f'{i},5" tall,0.{i % 10}\n' for i in range(60_000))
    path.write_text("id,height,score\n" + rows)
    out = read_in_child(path, max_cell_kb=64)
    assert out["ok"] == [60_000, 3], out
    # One stray quote early: everything after it looks quoted to the parity scan, the exact
    # check clears it, and the rows are still counted against the cell limit.
    one = tmp_path / "one_quote.csv"
    one.write_text(
        'id,height,score\n0,5" tall,0.1\n' + "".join(f"{i},tall,0.5\n" for i in range(60_000))
    )
    assert read_in_child(one, max_cell_kb=64)["ok"] == [60_001, 3]
    refused(one, "over the limit of 1,000 cells", max_cell_kb=64, max_cells=1000)


def test_too_many_cells_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("y,score\n" + "1,0.5\n" * 30_000)
    refused(
        path,
        "about 60,000 cells (30,000 rows x 2 columns), over the limit of 10,000 cells",
        "--max-cells",
        max_cells=10_000,
    )
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(5000)) + "\n" + ",".join("1" * 5000) + "\n")
    refused(wide, "the header has 5,000 columns, over the limit of 2,000", "--max-columns")


# ------------------------------------------------------------------------- XLSX


def _workbook(tmp_path: Path) -> dict[str, bytes]:
    """The parts of a small real workbook written by openpyxl."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["y", "score"])
    ws.append([1, 0.5])
    ws.append([0, "text"])
    path = tmp_path / "base.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write_zip(path: Path, parts: dict[str, Any]) -> Path:
    """Write parts (bytes, or a callable writing a big part in pieces) as a deflated zip."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            if callable(data):
                with zf.open(name, "w", force_zip64=True) as fh:
                    data(fh)
            else:
                zf.writestr(name, data)
    return path


SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData>"
)
SHEET_TAIL = b"</sheetData></worksheet>"


def _bomb(fh: Any) -> None:
    fh.write(SHEET_HEAD)
    block = b" " * (1024 * 1024)
    for _ in range(300):  # 300 MB of whitespace: ~0.3 MB compressed
        fh.write(block)
    fh.write(SHEET_TAIL)


def test_xlsx_zip_bomb_is_refused_from_the_zip_directory(tmp_path: Path) -> None:
    parts: dict[str, Any] = _workbook(tmp_path)
    parts[SHEET] = _bomb
    bomb = _write_zip(tmp_path / "bomb.xlsx", parts)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    refused(bomb, "is compressed", "a zip bomb?", "--max-ratio")
    refused(
        bomb,
        "unpacks to 300 MB, over the limit of 100 MB",
        "--max-unpacked-mb",
        max_unpacked_mb=100,
        max_ratio=10_000,
    )
    out = read_in_child(bomb, "sheets")
    assert "error" in out and "zip bomb" in out["error"]


def test_xlsx_zip_bomb_with_a_lying_directory(tmp_path: Path) -> None:
    """The central directory claims a small size: zipfile stops there and the CRC fails."""
    parts: dict[str, Any] = _workbook(tmp_path)
    parts[SHEET] = _bomb
    bomb = _write_zip(tmp_path / "liar.xlsx", parts)
    raw = bytearray(bomb.read_bytes())
    name = SHEET.encode()
    at = raw.find(b"PK\x01\x02")  # each central-directory record
    patched = 0
    while at >= 0:
        n_len, x_len = struct.unpack("<HH", raw[at + 28 : at + 32])
        if raw[at + 46 : at + 46 + n_len] == name:
            (size,) = struct.unpack("<I", raw[at + 24 : at + 28])
            assert size != 0xFFFFFFFF  # 300 MB needs no zip64 record
            raw[at + 24 : at + 28] = struct.pack("<I", 5000)  # "uncompressed: 5,000 bytes"
            patched += 1
        at = raw.find(b"PK\x01\x02", at + 4)
    assert patched == 1
    liar = tmp_path / "liar2.xlsx"
    liar.write_bytes(bytes(raw))
    refused(liar, "not a readable XLSX workbook")


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>"
)


@pytest.mark.parametrize(
    ("part", "body"),
    [
        (
            SHEET,
            BILLION_LAUGHS + SHEET_HEAD[38:] + b'<row r="1"><c r="A1" t="inlineStr"><is>'
            b"<t>&lol9;</t></is></c></row>" + SHEET_TAIL,
        ),
        (
            "xl/sharedStrings.xml",
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM '
            b'"file:///etc/passwd">]><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml'
            b'/2006/main"><si><t>&xxe;</t></si></sst>',
        ),
        (
            "xl/workbook.xml",
            b"\xef\xbb\xbf<!-- <a> --><!DOCTYPE wb SYSTEM 'http://x/y.dtd'><workbook/>",
        ),
        (
            "[Content_Types].xml",
            "<?xml version='1.0' encoding='UTF-16'?><!DOCTYPE t []><Types/>".encode("utf-16"),
        ),
    ],
)
def test_xml_with_a_dtd_is_refused(tmp_path: Path, part: str, body: bytes) -> None:
    parts: dict[str, Any] = _workbook(tmp_path)
    parts[part] = body
    path = _write_zip(tmp_path / "dtd.xlsx", parts)
    refused(path, "declares a DTD (<!DOCTYPE>)")


def test_malformed_xml_is_one_line(tmp_path: Path) -> None:
    parts: dict[str, Any] = _workbook(tmp_path)
    parts[SHEET] = SHEET_HEAD + b'<row r="1"><c r="A1"><v>1</v></c><row>' + SHEET_TAIL
    refused(_write_zip(tmp_path / "bad.xlsx", parts), "not a readable XLSX workbook")
    parts = _workbook(tmp_path)
    parts["xl/workbook.xml"] = b"<workbook><sheets><sheet name='x'"
    refused(_write_zip(tmp_path / "bad2.xlsx", parts), "not a readable XLSX workbook")
    parts = _workbook(tmp_path)
    del parts["xl/workbook.xml"]
    refused(_write_zip(tmp_path / "bad3.xlsx", parts), "not a readable XLSX workbook")


def test_sheet_claiming_huge_dimensions_or_rows(tmp_path: Path) -> None:
    parts: dict[str, Any] = _workbook(tmp_path)
    parts[SHEET] = (
        SHEET_HEAD.replace(b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>')
        + b'<row r="1"><c r="A1" t="inlineStr"><is><t>y</t></is></c></row>'
        + b'<row r="2"><c r="A2"><v>1</v></c></row>'
        + SHEET_TAIL
    )
    out = read_in_child(_write_zip(tmp_path / "dim.xlsx", parts))
    assert out["ok"] == [1, 1], out  # the claimed dimension is ignored
    parts[SHEET] = (
        SHEET_HEAD + b'<row r="1"><c r="A1"><v>1</v></c></row>'
        b'<row r="999999999"><c r="A999999999"><v>1</v></c></row>' + SHEET_TAIL
    )
    refused(
        _write_zip(tmp_path / "rows.xlsx", parts),
        "a row numbered 999,999,999, beyond Excel's last row",
    )
    many = "".join(
        f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>1</v></c>' for c in "ABCDE") + "</row>"
        for r in range(1, 3001)
    )
    parts[SHEET] = SHEET_HEAD + many.encode() + SHEET_TAIL
    refused(
        _write_zip(tmp_path / "cells.xlsx", parts),
        "more than 10,000 cells",
        "--max-cells",
        max_cells=10_000,
    )


def test_xlsx_long_cell(tmp_path: Path) -> None:
    """Excel stops at 32,767 characters a cell; a hand-made sheet need not."""
    parts: dict[str, Any] = _workbook(tmp_path)
    long_text = b"z" * (3 * 1024 * 1024)
    parts[SHEET] = (
        SHEET_HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>y</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>note</t></is></c></row><row r="2"><c r="A2"><v>1</v>'
        b'</c><c r="B2" t="inlineStr"><is><t>' + long_text + b"</t></is></c></row>" + SHEET_TAIL
    )
    path = _write_zip(tmp_path / "long.xlsx", parts)
    refused(
        path,
        "a cell in row 2 holds 3 MB, over the limit of 1 MB",
        "--max-cell-kb",
        max_ratio=10_000,
    )


# ------------------------------------------------------------------------- Parquet


def test_nested_parquet_types_are_refused_with_a_sentence(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cases = {
        "list": pa.array([[1, 2], [3]]),
        "struct": pa.array([{"a": 1}, {"a": 2}]),
        "map": pa.array([[("k", 1)], [("j", 2)]], type=pa.map_(pa.string(), pa.int64())),
    }
    for kind, column in cases.items():
        path = tmp_path / f"{kind}.parquet"
        pq.write_table(pa.table({"y": [1, 0], "nested": column}), path)
        refused(path, "column 'nested' has the nested type", "reads flat columns")


def test_many_column_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table({f"c{i}": [1, 2] for i in range(5000)}), path)
    refused(path, "5,000 columns, over the limit of 2,000", "--max-columns")


def test_huge_row_group_parquet(tmp_path: Path) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "rowgroup.parquet"
    zeros = pa.array(np.zeros(60_000_000, dtype=np.int8))
    pq.write_table(pa.table({"y": zeros}), path, row_group_size=60_000_000, compression="zstd")
    assert path.stat().st_size < 5 * 1024 * 1024
    refused(
        path,
        "60,000,000 cells (60,000,000 rows x 1 columns), over the limit of 20,000,000 cells",
        "--max-cells",
    )
    refused(path, "its data unpacks to", "--max-unpacked-mb", max_cells=10**9, max_unpacked_mb=20)


def test_parquet_dictionary_bomb_is_stopped_while_streaming(tmp_path: Path) -> None:
    """A repeated long string is tiny in the metadata (dictionary indices) but not decoded."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "dict.parquet"
    value = "v" * 2000
    column = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(1_000_000, dtype="int32")), pa.array([value])
    )
    pq.write_table(pa.table({"y": column.cast(pa.string())}), path)
    assert path.stat().st_size < 2 * 1024 * 1024
    refused(path, "its data unpacks to more than", "--max-unpacked-mb")


def test_parquet_long_string_cell(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "cell.parquet"
    pq.write_table(pa.table({"y": [1, 0], "note": ["x" * (5 * 1024 * 1024), "ok"]}), path)
    refused(path, "a cell of column 'note' holds 5 MB, over the limit of 1 MB")


# ------------------------------------------------------------------------- the options


def test_evaluate_options_raise_the_limits(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    # three distinct scores: a two-valued score column is a predicted class and refused as --score
    path.write_text("y,score,sex\n" + "1,0.9,F\n0,0.1,M\n1,0.6,F\n0,0.3,M\n" * 25)
    base = [
        sys.executable,
        "main.py",
        "evaluate",
        str(path),
        "--label",
        "y",
        "--score",
        "score",
        "--group",
        "sex",
        "--bootstrap",
        "200",
        "--quiet",
    ]
    low = subprocess.run(
        [*base, "--max-cells", "100"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert low.returncode == 2
    assert "over the limit of 100 cells" in low.stderr and "--max-cells" in low.stderr
    assert low.stderr.count("\n") == 1
    ok = subprocess.run(
        [*base, "--max-cells", "1000"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert ok.returncode == 0, ok.stderr


def test_limits_from_settings_and_raising() -> None:
    from assessment.evaluation.io import DEFAULT_LIMITS, ReadLimits

    limits = ReadLimits.from_json(
        {"max_cells": 5, "max_ratio": "x", "max_columns": -1, "unknown": 3}
    )
    assert limits.max_cells == 5 and limits.max_ratio == DEFAULT_LIMITS.max_ratio
    assert limits.max_columns == DEFAULT_LIMITS.max_columns
    assert ReadLimits.from_json(limits.to_json()) == limits
    assert limits.raised("max_cells", 100).max_cells == 125
    assert isinstance(limits.raised("max_cells", 100).max_cells, int)
