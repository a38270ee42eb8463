"""XLSX reading: zip-bomb and DTD checks from the zip directory before openpyxl opens the
workbook, then the sheet's rows streamed with the cell limits counted as they arrive."""

from __future__ import annotations

import codecs
import struct
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from assessment.errors import DataError
from assessment.evaluation.limits import ReadLimits, over_limit
from assessment.evaluation.mapping import LoadedTable
from assessment.evaluation.read_common import MiB, duplicates_from_raw, first_line, mangle
from assessment.fileio import mb

#: Most parts an XLSX file may have, and the largest zip directory read.
_MAX_ZIP_ENTRIES = 10_000
_MAX_ZIP_DIRECTORY = 16 * MiB
#: Parts smaller than this are not held to the compression-ratio limit.
_RATIO_GRACE = MiB
#: How much of each XML part's start is read to check there is no DTD before the root.
_PROLOG_BYTES = 64 * 1024


def _zip_directory(handle: BinaryIO, size: int, path: Path) -> tuple[int, int]:
    """(entries, directory bytes) from the end-of-central-directory record (zip64 too)."""
    tail_len = min(size, 65_535 + 22)
    handle.seek(size - tail_len)
    tail = handle.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise DataError(
            f"{path.name} is not a readable XLSX workbook (no zip directory; the file may be "
            "truncated); open it in a spreadsheet program and save it again as .xlsx."
        )
    (_, _, _, _, entries, cd_size, _, _) = struct.unpack("<4s4H2LH", tail[at : at + 22])
    if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and at >= 20:
        loc = tail[at - 20 : at]
        if loc[:4] == b"PK\x06\x07":
            (offset,) = struct.unpack("<Q", loc[8:16])
            handle.seek(offset)
            rec = handle.read(56)
            if rec[:4] == b"PK\x06\x06" and len(rec) == 56:
                entries, cd_size = struct.unpack("<QQ", rec[32:48])
    return entries, cd_size


def check_zip(handle: BinaryIO, size: int, path: Path, limits: ReadLimits) -> None:
    """Zip-bomb and entity checks of an XLSX, from its directory, before openpyxl opens it."""
    import zipfile

    entries, cd_size = _zip_directory(handle, size, path)
    if entries > _MAX_ZIP_ENTRIES or cd_size > _MAX_ZIP_DIRECTORY:
        raise DataError(
            f"{path.name} has {entries:,} parts in a {mb(cd_size)} zip directory; a workbook has "
            f"a few dozen (at most {_MAX_ZIP_ENTRIES:,} are read). Save it again as .xlsx."
        )
    handle.seek(0)
    try:
        with zipfile.ZipFile(handle) as zf:
            infos = zf.infolist()
            total = 0
            for info in infos:
                if info.flag_bits & 0x1:
                    raise DataError(
                        f"{path.name}: part {info.filename!r} is encrypted; remove the password "
                        "in the spreadsheet program and save it again."
                    )
                total += info.file_size
                if info.file_size > limits.unpacked_bytes:
                    raise over_limit(
                        path.name,
                        f"part {info.filename!r} unpacks to",
                        mb(info.file_size),
                        mb(limits.unpacked_bytes),
                        "max_unpacked_mb",
                        info.file_size / MiB,
                    )
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > _RATIO_GRACE and ratio > limits.max_ratio:
                    raise over_limit(
                        path.name,
                        f"part {info.filename!r} is compressed",
                        f"{ratio:,.0f}:1 (a zip bomb?)",
                        f"{limits.max_ratio:,.0f}:1",
                        "max_ratio",
                        ratio,
                    )
            if total > limits.unpacked_bytes:
                raise over_limit(
                    path.name,
                    "the workbook unpacks to",
                    mb(total),
                    mb(limits.unpacked_bytes),
                    "max_unpacked_mb",
                    total / MiB,
                )
            for info in infos:
                if not info.is_dir():
                    _check_xml_prolog(zf, info, path)
    except DataError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        raise DataError(
            f"{path.name} is not a readable XLSX workbook ({first_line(exc)}); open it in a "
            "spreadsheet program and save it again as .xlsx."
        ) from exc


def _check_xml_prolog(zf: Any, info: Any, path: Path) -> None:
    """Refuse a DTD in an XML part: entities (billion laughs) and external entities (XXE)
    can only be declared there, and the DTD must come before the root element."""
    import zlib

    with zf.open(info) as part:
        try:
            head = part.read(_PROLOG_BYTES)
        except (zlib.error, EOFError) as exc:
            raise DataError(
                f"{path.name}: part {info.filename!r} is damaged ({first_line(exc)}); save the "
                "workbook again as .xlsx."
            ) from exc
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or head[:2] in (
        b"<\x00",
        b"\x00<",
    ):
        head = head.decode("utf-16", errors="ignore").encode("utf-8", "ignore")
    text = head.removeprefix(codecs.BOM_UTF8)
    i = 0
    while True:
        while i < len(text) and text[i : i + 1] in b" \t\r\n":
            i += 1
        if text.startswith(b"<?", i):
            end, close = text.find(b"?>", i), 2
        elif text.startswith(b"<!--", i):
            end, close = text.find(b"-->", i), 3
        elif text.startswith(b"<!", i):  # <!DOCTYPE ...> (any case: refuse anything DTD-like)
            raise DataError(
                f"{path.name}: part {info.filename!r} declares a DTD (<!DOCTYPE>), which "
                "no spreadsheet program writes and which can hide entity-expansion or "
                "external-entity attacks; the workbook is not read."
            )
        else:
            return  # the root element (or not XML at all: a picture, which is not parsed)
        if end < 0:
            return  # an unfinished prolog: the XML parser reports the damage
        i = end + close


def open_workbook(handle: BinaryIO, path: Path) -> Any:
    import openpyxl

    handle.seek(0)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about unsupported styling/extensions; irrelevant for the values.
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # any failure of the parser on a hostile file is one sentence
        raise _xlsx_error(path, exc) from exc


def _xlsx_error(path: Path, exc: BaseException) -> DataError:
    kind = "its XML is malformed" if isinstance(exc, SyntaxError) else type(exc).__name__
    detail = first_line(exc)[:160]
    return DataError(
        f"{path.name} is not a readable XLSX workbook ({kind}: {detail}); open it in a "
        "spreadsheet program and save it again as .xlsx."
    )


def read_xlsx(
    handle: BinaryIO, size: int, path: Path, sheet: str | None, sha: str, limits: ReadLimits
) -> LoadedTable:
    import pandas as pd

    check_zip(handle, size, path, limits)
    wb = open_workbook(handle, path)
    try:
        names = list(wb.sheetnames)
        if not names:
            raise DataError(f"{path.name} has no worksheets.")
        chosen = names[0] if sheet is None else sheet
        if chosen not in names:
            raise DataError(
                f"{path.name} has no sheet named {sheet!r}; its sheets are: "
                + ", ".join(repr(n) for n in names)
                + "."
            )
        try:
            rows = _sheet_rows(wb[chosen], path, limits)
        except DataError:
            raise
        except Exception as exc:  # XML errors surface while the rows are parsed
            raise _xlsx_error(path, exc) from exc
    finally:
        wb.close()
    while rows and all(v is None or (isinstance(v, str) and not v.strip()) for v in rows[-1]):
        rows.pop()
    if not rows:
        raise DataError(
            f"Sheet {chosen!r} of {path.name} is empty; choose the sheet with the data."
        )
    header = rows[0]
    width = max(len(r) for r in rows)
    while (
        width > 0
        and header[width - 1 : width] in ([None], [])
        and all(len(r) < width or r[width - 1] is None for r in rows[1:])
    ):
        width -= 1
    if width == 0:
        raise DataError(f"Sheet {chosen!r} of {path.name} has no header row.")
    raw = [
        f"Unnamed: {i}" if (i >= len(header) or header[i] is None) else str(header[i]).strip()
        for i in range(width)
    ]
    cols = mangle(raw)
    body = [(r + [None] * (width - len(r)))[:width] for r in rows[1:]]
    frame = pd.DataFrame.from_records(body, columns=cols) if body else pd.DataFrame(columns=cols)
    frame = frame.infer_objects()
    return LoadedTable(
        frame=frame,
        file_name=path.name,
        sha256=sha,
        rows_read=int(frame.shape[0]),
        sheet=chosen,
        format="xlsx",
        duplicates=duplicates_from_raw(raw, cols),
    )


#: Excel's own row limit; a sheet whose rows are numbered beyond it was not written by Excel.
_EXCEL_ROWS = 1_048_576


def _xml_rows(ws: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, values) of the rows present in the sheet's XML, gaps not filled in.

    openpyxl's own iterator yields an empty row for every missing row number, so a sheet with
    one row numbered 999,999,999 would take minutes; its parser (pinned openpyxl 3.1) gives the
    numbers. Falls back to the public iterator if those internals change.
    """
    try:
        from openpyxl.worksheet._reader import WorkSheetParser

        source = ws._get_source()
    except (ImportError, AttributeError):
        yield from enumerate(ws.iter_rows(values_only=True), start=1)
        return
    with source as src:
        parser = WorkSheetParser(
            src,
            ws._shared_strings,
            data_only=ws.parent.data_only,
            epoch=ws.parent.epoch,
            date_formats=ws.parent._date_formats,
            timedelta_formats=ws.parent._timedelta_formats,
        )
        for idx, row in parser.parse():
            yield idx, ws._get_row(row, values_only=True)


def _sheet_rows(ws: Any, path: Path, limits: ReadLimits) -> list[list[Any]]:
    """The sheet's rows, counting cells as they stream in.

    The sheet's stored dimension is ignored: a hostile sheet that claims a million rows of
    16,384 columns would otherwise be padded to that size. Rows numbered past Excel's last
    row are refused as soon as they appear.
    """
    rows: list[list[Any]] = []
    cells = 0
    max_cell = limits.cell_bytes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for idx, r in _xml_rows(ws):
            if idx > _EXCEL_ROWS:
                raise DataError(
                    f"{path.name}: the sheet has a row numbered {idx:,}, beyond Excel's last "
                    f"row ({_EXCEL_ROWS:,}); it was not written by a spreadsheet program."
                )
            if idx <= len(rows):
                continue  # a repeated row number: the first one wins, as in openpyxl
            gap = idx - 1 - len(rows)
            cells += gap
            row = list(r)
            while row and row[-1] is None:
                row.pop()
            if len(row) > limits.max_columns:
                raise over_limit(
                    path.name,
                    f"row {idx} has",
                    f"{len(row):,} columns",
                    f"{limits.max_columns:,}",
                    "max_columns",
                    len(row),
                )
            cells += max(len(row), 1)
            if cells > limits.max_cells:
                raise over_limit(
                    path.name,
                    "the sheet holds more than",
                    f"{limits.max_cells:,} cells",
                    f"{limits.max_cells:,} cells",
                    "max_cells",
                    None,
                )
            for v in row:
                if type(v) is str and len(v) > max_cell // 4 and len(v.encode()) > max_cell:
                    raise over_limit(
                        path.name,
                        f"a cell in row {idx} holds",
                        mb(len(v.encode())),
                        mb(max_cell),
                        "max_cell_kb",
                        len(v.encode()) / 1024,
                    )
            rows.extend([] for _ in range(gap))
            rows.append(row)
    return rows
