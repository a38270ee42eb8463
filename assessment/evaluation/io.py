"""Read a user's validation file (CSV/TSV, XLSX, Parquet) into a :class:`LoadedTable`.

Delimiter and encoding are detected (UTF-8 with or without BOM, UTF-16 with BOM, else
Latin-1), as is a decimal comma ("0,73" in a ";"-separated file). The table remembers the
file's name, streamed SHA-256, row count, sheet and the duplicate column names of its *raw*
header (pandas renames a second ``x`` to ``x.1``, which would otherwise hide the problem).

The mapping API (:class:`ColumnMapping`, :func:`prepare_input`, :func:`check_mapping`,
:func:`suggest_mapping`) lives in :mod:`assessment.evaluation.mapping` and is re-exported here,
so callers need one import: ``from assessment.evaluation.io import read_table, prepare_input``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assessment.catalogue import TAB_SUFFIXES, data_format
from assessment.errors import DataError
from assessment.evaluation.mapping import (
    DEFAULT_MISSING,
    MAPPING_SCHEMA,
    ColumnMapping,
    LoadedTable,
    MappingIssue,
    band_labels,
    check_mapping,
    distinct_values,
    duplicates_of,
    parse_bins,
    prepare_input,
    suggest_mapping,
)

CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 256 * 1024
_CHUNK = 1024 * 1024


def list_sheets(path: str | Path) -> list[str]:
    """Sheet names of an XLSX workbook, in workbook order (for the GUI's sheet chooser)."""
    path = _existing_file(path)
    wb = _open_workbook(path)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def read_table(
    path: str | Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> LoadedTable:
    """Read CSV/TSV, XLSX or Parquet; the format comes from the file's first bytes, then its name.

    CSV cells are read without pandas' own missing-value rules (``keep_default_na=False``):
    which tokens mean "missing" is the mapping's decision, so a literal "NA" stays visible.
    """
    path = _existing_file(path)
    sha, head, text_encoding = _hash_and_sniff_encoding(path)
    kind = _detect_format(path, head)
    if kind == "xlsx":
        table = _read_xlsx(path, sheet, sha)
    elif kind == "parquet":
        table = _read_parquet(path, sha)
    else:
        table = _read_delimited(path, head, sha, encoding or text_encoding, delimiter)
    if table.frame.shape[0] == 0:
        where = f" (sheet {table.sheet!r})" if table.sheet else ""
        raise DataError(
            f"{path.name}{where} has a header row but no data rows; export the data again "
            "with its rows."
        )
    return table


def _existing_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise DataError(f"File not found: {path}; check the path.")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a data file; choose a CSV, XLSX or Parquet file.")
    return path


def _hash_and_sniff_encoding(path: Path) -> tuple[str, bytes, str]:
    """One streamed pass: SHA-256 of the bytes, the first bytes, and whether it is UTF-8.

    The incremental decoder sees every chunk, so a Latin-1 byte deep in a large file still
    switches the encoding, without holding the whole file in memory.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8 = True
    head = b""
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
                if len(head) < _SNIFF_BYTES:
                    head += chunk[: _SNIFF_BYTES - len(head)]
                if utf8:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        utf8 = False
            if utf8:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    utf8 = False
    except OSError as exc:
        raise DataError(
            f"Cannot read {path.name}: {exc.strerror or exc}; check permissions."
        ) from exc
    if head.startswith(codecs.BOM_UTF8):
        enc = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        enc = "utf-16"
    else:
        enc = "utf-8" if utf8 else "latin-1"
    return digest.hexdigest(), head, enc


def _detect_format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if not head.strip():
        raise DataError(f"{path.name} is empty; choose the file that holds the validation data.")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(
            f"{path.name} is an old Excel 97-2003 (.xls) workbook; save it as .xlsx or CSV."
        )
    if head.startswith(b"\x1f\x8b"):
        raise DataError(f"{path.name} is gzip-compressed; decompress it first.")
    fmt = data_format(suffix)
    if fmt is not None and fmt.id == "excel":
        raise DataError(f"{path.name} is not a valid XLSX workbook (it may be damaged).")
    if fmt is not None and fmt.id == "parquet":
        raise DataError(f"{path.name} is not a valid Parquet file (it may be damaged).")
    is_utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in head[:8192] and not is_utf16:
        raise DataError(
            f"{path.name} looks like a binary file, not CSV text; export the data as CSV, "
            "XLSX or Parquet."
        )
    return "delimited"


def _sniff_delimiter(sample: str, suffix: str) -> str:
    """Pick the candidate that splits the first lines into the same number (> 1) of fields.

    Ties go to the most fields; a ";" file with decimal commas ("0,73") is recognised because
    "," gives an inconsistent count between the header and the data lines.
    """
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut the last line
    lines = [ln for ln in lines[:200] if ln.strip()]
    if not lines:
        return "\t" if suffix in TAB_SUFFIXES else ","
    best: tuple[int, int, str] | None = None
    for rank, cand in enumerate(_ordered_candidates(suffix)):
        counts = [len(row) for row in csv.reader(lines, delimiter=cand)]
        if counts[0] < 2:
            continue
        consistent = sum(c == counts[0] for c in counts) / len(counts)
        if consistent < 0.9:
            continue
        key = (counts[0], -rank)
        if best is None or key > best[:2]:
            best = (counts[0], -rank, cand)
    if best is not None:
        return best[2]
    return "\t" if suffix in TAB_SUFFIXES else ","


def _ordered_candidates(suffix: str) -> tuple[str, ...]:
    if suffix in TAB_SUFFIXES:
        return ("\t", ",", ";", "|")
    return CANDIDATE_DELIMITERS


_DEC_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")
_DEC_POINT = re.compile(r"^\s*-?\d*\.\d+\s*$")


def _sniff_decimal(sample: str, delimiter: str) -> str:
    """Decimal "," when cells look like 0,73 and none like 0.73 (delimiter not ",")."""
    if delimiter == ",":
        return "."
    comma = point = 0
    for row in csv.reader(sample.splitlines()[1:200], delimiter=delimiter):
        for cell in row:
            if _DEC_COMMA.match(cell):
                comma += 1
            elif _DEC_POINT.match(cell):
                point += 1
    return "," if comma > 0 and point == 0 else "."


def _read_delimited(
    path: Path, head: bytes, sha: str, encoding: str, delimiter: str | None
) -> LoadedTable:
    import pandas as pd

    try:
        sample = head.decode(encoding, errors="ignore" if encoding != "latin-1" else "strict")
    except (LookupError, UnicodeDecodeError) as exc:
        raise DataError(f"Cannot decode {path.name} as {encoding}: {exc}.") from exc
    sample = sample.lstrip("\ufeff")
    delim = delimiter if delimiter else _sniff_delimiter(sample, path.suffix.lower())
    if len(delim) != 1:
        raise DataError(f"The delimiter must be one character, not {delim!r}.")
    decimal = _sniff_decimal(sample, delim)
    header_line = next(iter(sample.splitlines()), "")
    raw_header = next(csv.reader([header_line], delimiter=delim), [])
    try:
        frame = pd.read_csv(
            path,
            sep=delim,
            encoding=encoding,
            decimal=decimal,
            keep_default_na=False,
            na_filter=False,
            skipinitialspace=False,
            low_memory=False,
        )
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path.name} is not valid {encoding} text ({exc.reason} at byte {exc.start}); "
            "save it as UTF-8 or give the encoding."
        ) from exc
    except LookupError as exc:
        raise DataError(f"Unknown text encoding {encoding!r}; use e.g. utf-8 or latin-1.") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path.name} is empty; choose the file that holds the data.") from exc
    except pd.errors.ParserError as exc:
        raise DataError(_parser_error_message(path.name, delim, str(exc))) from exc
    names = [str(c) for c in frame.columns]
    duplicates = _duplicates_from_raw(raw_header, names)
    return LoadedTable(
        frame=frame,
        file_name=path.name,
        sha256=sha,
        rows_read=int(frame.shape[0]),
        format="tsv" if delim == "\t" else "csv",
        delimiter=delim,
        encoding=encoding,
        decimal=decimal,
        duplicates=duplicates,
    )


def _parser_error_message(file_name: str, delim: str, detail: str) -> str:
    """Say what pandas' C parser found in the user's words (which line, how many fields)."""
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
    if fields:
        want, line, saw = fields.groups()
        return (
            f"{file_name}: line {line} has {saw} fields but the header has {want} "
            f"(separator {_delim_name(delim)}); fix that line (a stray separator or an "
            "unclosed quote) or choose the right delimiter."
        )
    if "EOF inside string" in detail:
        return (
            f"{file_name}: a quoted value is never closed (a lone \" character); "
            "fix the quoting and load the file again."
        )
    last = detail.strip().splitlines()[-1] if detail.strip() else "unreadable text"
    return (
        f"Cannot read {file_name} as text separated by {_delim_name(delim)} ({last}); "
        "check the delimiter and quoting."
    )


def _delim_name(delim: str) -> str:
    return {"\t": "tabs", ",": "commas", ";": "semicolons", "|": "bars"}.get(delim, repr(delim))


def _duplicates_from_raw(
    raw_header: Sequence[str], names: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    """Duplicates of the *raw* header, mapped positionally to the frame's (renamed) columns.

    pandas silently renames a second ``decile_score`` to ``decile_score.1``; the raw header is
    the only place the duplication is still visible.
    """
    raw = [h.strip() for h in raw_header]
    if len(raw) != len(names):
        return duplicates_of(list(names))
    positions: dict[str, list[int]] = {}
    for i, h in enumerate(raw):
        positions.setdefault(h, []).append(i)
    return {h: tuple(names[i] for i in pos) for h, pos in positions.items() if len(pos) > 1}


def _mangle(names: Sequence[str]) -> list[str]:
    """pandas' renaming of repeated names: x, x.1, x.2 (skipping names already taken)."""
    seen: set[str] = set()
    out: list[str] = []
    counts: dict[str, int] = {}
    for n in names:
        new = n
        while new in seen:
            counts[n] = counts.get(n, 0) + 1
            new = f"{n}.{counts[n]}"
        seen.add(new)
        out.append(new)
    return out


def _open_workbook(path: Path) -> Any:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            # openpyxl warns about unsupported styling/extensions; irrelevant for the values.
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise DataError(
            f"{path.name} is not a readable XLSX workbook ({type(exc).__name__}); open it in "
            "a spreadsheet program and save it again as .xlsx."
        ) from exc


def _read_xlsx(path: Path, sheet: str | None, sha: str) -> LoadedTable:
    import pandas as pd

    wb = _open_workbook(path)
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
        ws = wb[chosen]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
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
    cols = _mangle(raw)
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
        duplicates=_duplicates_from_raw(raw, cols),
    )


def _read_parquet(path: Path, sha: str) -> LoadedTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(
            f"{path.name} is not a readable Parquet file ({str(exc).splitlines()[0]}); "
            "export it again."
        ) from exc
    raw = [str(n) for n in table.schema.names]
    cols = _mangle(raw)
    table = table.rename_columns(cols)
    frame = table.to_pandas()
    return LoadedTable(
        frame=frame,
        file_name=path.name,
        sha256=sha,
        rows_read=int(frame.shape[0]),
        format="parquet",
        duplicates=_duplicates_from_raw(raw, cols),
    )


__all__ = [
    "DEFAULT_MISSING",
    "MAPPING_SCHEMA",
    "ColumnMapping",
    "LoadedTable",
    "MappingIssue",
    "band_labels",
    "check_mapping",
    "distinct_values",
    "list_sheets",
    "parse_bins",
    "prepare_input",
    "read_table",
    "suggest_mapping",
]
