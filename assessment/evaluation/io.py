"""Read a user's validation file (CSV/TSV, XLSX, Parquet) into a :class:`LoadedTable`.

Every file is treated as hostile until checked (issue 8): only a regular file is opened (a
symlink to ``/dev/zero``, a FIFO, a device or a folder is refused at once), and the
:class:`ReadLimits` are checked *before* the parser sees the data: file size; for CSV the rows,
columns and the longest cell from one streamed scan; for XLSX each zip part's declared size and
compression ratio from the zip directory, and no DTD (``<!DOCTYPE``: entity expansion, external
entities) in any XML part; for Parquet the footer, column count, column types (nested types are
refused) and the row groups' uncompressed sizes from the metadata. The parsers then read from
the descriptor that was checked, so a file swapped after the checks is never read.

Delimiter and encoding are detected (UTF-8 with or without BOM, UTF-16 with BOM, else
Latin-1), as is a decimal comma ("0,73" in a ";"-separated file). The table remembers the
file's name, streamed SHA-256, row count, sheet and the duplicate column names of its *raw*
header (pandas renames a second ``x`` to ``x.1``, which would otherwise hide the problem).

The readers live by format in :mod:`~assessment.evaluation.read_delimited`,
:mod:`~assessment.evaluation.read_xlsx` and :mod:`~assessment.evaluation.read_parquet` (what they
share in :mod:`~assessment.evaluation.read_common`); this module opens and checks the file, detects
its format and dispatches.

The mapping API (:class:`ColumnMapping`, :func:`prepare_input`, :func:`check_mapping`,
:func:`suggest_mapping`) lives in :mod:`assessment.evaluation.mapping` and is re-exported here,
so callers need one import: ``from assessment.evaluation.io import read_table, prepare_input``.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from assessment.catalogue import data_format
from assessment.errors import DataError
from assessment.evaluation.limits import (
    DEFAULT_LIMITS,
    LIMIT_OPTIONS,
    LimitError,
    ReadLimits,
    over_limit,
)
from assessment.evaluation.mapping import (
    DEFAULT_MISSING,
    MAPPING_SCHEMA,
    ColumnMapping,
    LoadedTable,
    MappingIssue,
    band_labels,
    check_mapping,
    distinct_values,
    parse_bins,
    prepare_input,
    suggest_mapping,
)
from assessment.evaluation.read_common import CHUNK, SNIFF_BYTES, MiB
from assessment.evaluation.read_delimited import CANDIDATE_DELIMITERS, read_delimited
from assessment.evaluation.read_parquet import read_parquet
from assessment.evaluation.read_xlsx import check_zip, open_workbook, read_xlsx
from assessment.fileio import mb, open_regular


@contextlib.contextmanager
def _open_data(path: Path, limits: ReadLimits) -> Iterator[tuple[BinaryIO, int]]:
    """The checked descriptor of a regular data file within the size limit."""
    if not os.path.lexists(path):
        raise DataError(f"File not found: {path}; check the path.")
    handle, size = open_regular(path, what="data file", error=DataError)
    with handle:
        if size > limits.file_bytes:
            raise over_limit(
                path.name,
                "the file is",
                mb(size),
                mb(limits.file_bytes),
                "max_file_mb",
                size / MiB,
            )
        yield handle, size


def file_sha256(path: str | Path, limits: ReadLimits = DEFAULT_LIMITS) -> str:
    """SHA-256 of a data file's bytes, streamed through the same checks as :func:`read_table`."""
    path = Path(path)
    with _open_data(path, limits) as (handle, _):
        return _hash_and_sniff_encoding(handle, path, limits)[0]


def list_sheets(path: str | Path, limits: ReadLimits = DEFAULT_LIMITS) -> list[str]:
    """Sheet names of an XLSX workbook, in workbook order (for the GUI's sheet chooser)."""
    path = Path(path)
    with _open_data(path, limits) as (handle, size):
        check_zip(handle, size, path, limits)
        wb = open_workbook(handle, path)
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
    limits: ReadLimits = DEFAULT_LIMITS,
) -> LoadedTable:
    """Read CSV/TSV, XLSX or Parquet; the format comes from the file's first bytes, then its name.

    CSV cells are read without pandas' own missing-value rules (``keep_default_na=False``):
    which tokens mean "missing" is the mapping's decision, so a literal "NA" stays visible.
    Files over ``limits`` raise :class:`LimitError` before they are parsed.
    """
    path = Path(path)
    with _open_data(path, limits) as (handle, size):
        sha, head, text_encoding = _hash_and_sniff_encoding(handle, path, limits)
        kind = _detect_format(path, head)
        handle.seek(0)
        if kind == "xlsx":
            table = read_xlsx(handle, size, path, sheet, sha, limits)
        elif kind == "parquet":
            table = read_parquet(handle, size, path, sha, limits)
        else:
            table = read_delimited(
                handle, path, head, sha, encoding or text_encoding, delimiter, limits
            )
    if table.frame.shape[0] == 0:
        where = f" (sheet {table.sheet!r})" if table.sheet else ""
        raise DataError(
            f"{path.name}{where} has a header row but no data rows; export the data again "
            "with its rows."
        )
    return _merge_identical_duplicates(dataclasses.replace(table, limits=limits))


def _merge_identical_duplicates(table: LoadedTable) -> LoadedTable:
    """Keep one copy of a header that occurs more than once when its columns are identical
    cell for cell (ProPublica's ``compas-scores-two-years.csv`` has ``decile_score`` twice),
    with a note; copies that differ stay ambiguous, and mapping one is refused."""
    if not table.duplicates:
        return table
    frame = table.frame
    drop: list[str] = []
    rename: dict[str, str] = {}
    left: dict[str, tuple[str, ...]] = {}
    notes = list(table.notes)
    for name, copies in table.duplicates.items():
        first = frame[copies[0]]
        if all(frame[c].equals(first) for c in copies[1:]):
            drop.extend(copies[1:])
            rename[copies[0]] = name
            notes.append(
                f"Column {name!r} appears {len(copies)} times in the header of "
                f"{table.file_name} with identical values; one copy is used."
            )
        else:
            left[name] = copies
    if not drop:
        return table
    merged = frame.drop(columns=drop).rename(columns=rename)
    return dataclasses.replace(table, frame=merged, duplicates=left, notes=tuple(notes))


def _hash_and_sniff_encoding(
    fh: BinaryIO, path: Path, limits: ReadLimits
) -> tuple[str, bytes, str]:
    """One streamed pass: SHA-256 of the bytes, the first bytes, and whether it is UTF-8.

    The incremental decoder sees every chunk, so a Latin-1 byte deep in a large file still
    switches the encoding, without holding the whole file in memory. A file that grows past
    the size limit while it is read stops there.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8 = True
    head = b""
    seen = 0
    try:
        while chunk := fh.read(CHUNK):
            seen += len(chunk)
            if seen > limits.file_bytes:
                raise over_limit(
                    path.name,
                    "the file grew to",
                    mb(seen),
                    mb(limits.file_bytes),
                    "max_file_mb",
                    seen / MiB,
                )
            digest.update(chunk)
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
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


__all__ = [
    "DEFAULT_LIMITS",
    "CANDIDATE_DELIMITERS",
    "DEFAULT_MISSING",
    "LIMIT_OPTIONS",
    "LimitError",
    "ReadLimits",
    "MAPPING_SCHEMA",
    "ColumnMapping",
    "LoadedTable",
    "MappingIssue",
    "band_labels",
    "check_mapping",
    "distinct_values",
    "file_sha256",
    "list_sheets",
    "parse_bins",
    "prepare_input",
    "read_table",
    "suggest_mapping",
]
