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

The mapping API (:class:`ColumnMapping`, :func:`prepare_input`, :func:`check_mapping`,
:func:`suggest_mapping`) lives in :mod:`assessment.evaluation.mapping` and is re-exported here,
so callers need one import: ``from assessment.evaluation.io import read_table, prepare_input``.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import os
import re
import struct
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from assessment.catalogue import TAB_SUFFIXES, data_format
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
    duplicates_of,
    parse_bins,
    prepare_input,
    suggest_mapping,
)
from assessment.fileio import mb, open_regular

CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 256 * 1024
_CHUNK = 1024 * 1024
_MiB = 1024 * 1024
# Python's csv module refuses fields over 128 KB by default; the sniffer reads up to 256 KB of a
# file whose cells may legitimately be longer (the limit that matters is ReadLimits.max_cell_kb).
csv.field_size_limit(max(csv.field_size_limit(), 4 * _SNIFF_BYTES))


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
                size / _MiB,
            )
        yield handle, size


def _fd_path(handle: BinaryIO, path: Path) -> str:
    """A path that opens exactly the checked file (Linux: /proc/self/fd/N), for readers that
    need a name."""
    proc = f"/proc/self/fd/{handle.fileno()}"
    return proc if os.path.exists(proc) else str(path)


def file_sha256(path: str | Path, limits: ReadLimits = DEFAULT_LIMITS) -> str:
    """SHA-256 of a data file's bytes, streamed through the same checks as :func:`read_table`."""
    path = Path(path)
    with _open_data(path, limits) as (handle, _):
        return _hash_and_sniff_encoding(handle, path, limits)[0]


def list_sheets(path: str | Path, limits: ReadLimits = DEFAULT_LIMITS) -> list[str]:
    """Sheet names of an XLSX workbook, in workbook order (for the GUI's sheet chooser)."""
    path = Path(path)
    with _open_data(path, limits) as (handle, size):
        _check_zip(handle, size, path, limits)
        wb = _open_workbook(handle, path)
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
            table = _read_xlsx(handle, size, path, sheet, sha, limits)
        elif kind == "parquet":
            table = _read_parquet(handle, size, path, sha, limits)
        else:
            table = _read_delimited(
                handle, path, head, sha, encoding or text_encoding, delimiter, limits
            )
    if table.frame.shape[0] == 0:
        where = f" (sheet {table.sheet!r})" if table.sheet else ""
        raise DataError(
            f"{path.name}{where} has a header row but no data rows; export the data again "
            "with its rows."
        )
    return table


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
        while chunk := fh.read(_CHUNK):
            seen += len(chunk)
            if seen > limits.file_bytes:
                raise over_limit(
                    path.name,
                    "the file grew to",
                    mb(seen),
                    mb(limits.file_bytes),
                    "max_file_mb",
                    seen / _MiB,
                )
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
        counts = [len(row) for row in _csv_rows(lines, cand)]
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
    for row in _csv_rows(sample.splitlines()[1:200], delimiter):
        for cell in row:
            if _DEC_COMMA.match(cell):
                comma += 1
            elif _DEC_POINT.match(cell):
                point += 1
    return "," if comma > 0 and point == 0 else "."


def _read_delimited(
    fh: BinaryIO,
    path: Path,
    head: bytes,
    sha: str,
    encoding: str,
    delimiter: str | None,
    limits: ReadLimits,
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
    raw_header = _csv_rows([header_line], delim)[0] if header_line else []
    _check_delimited(fh, path, encoding, delim, len(raw_header), limits)
    fh.seek(0)
    try:
        frame = pd.read_csv(
            fh,
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
    except (ValueError, OverflowError, MemoryError) as exc:  # the C parser's other limits
        raise DataError(
            f"Cannot read {path.name} as CSV ({_first_line(exc)}); check the delimiter and quoting."
        ) from exc
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _csv_rows(lines: Sequence[str], delim: str) -> list[list[str]]:
    """csv.reader over a few sniffed lines (a malformed line gives no rows, not an error)."""
    try:
        return list(csv.reader(lines, delimiter=delim)) or [[]]
    except csv.Error:
        return [[]]


def _text_chunks(fh: BinaryIO, encoding: str) -> Iterator[bytes]:
    """The file as ASCII-compatible bytes: as is for UTF-8/Latin-1, re-encoded for UTF-16."""
    fh.seek(0)
    if not encoding.lower().replace("_", "-").startswith("utf-16"):
        while chunk := fh.read(_CHUNK):
            yield chunk
        return
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    while chunk := fh.read(_CHUNK):
        yield decoder.decode(chunk).encode("utf-8", "replace")
    yield decoder.decode(b"", final=True).encode("utf-8", "replace")


def _check_delimited(
    fh: BinaryIO, path: Path, encoding: str, delim: str, columns: int, limits: ReadLimits
) -> None:
    """Rows, columns and the longest cell of a delimited file, from a streamed scan.

    RFC 4180 quoting is followed by quote parity (a doubled quote inside a quoted field
    toggles twice), vectorised per 1 MB chunk, so the scan costs a fraction of the parse and
    never holds more than a chunk. The first pass measures records (line ends outside quotes);
    only a file with a record longer than the cell limit gets a second, per-field pass, and a
    long field after a quote is confirmed with Python's csv module (a stray quote in an
    unquoted field would otherwise fool the parity).
    """
    if columns > limits.max_columns:
        raise over_limit(
            path.name,
            "the header has",
            f"{columns:,} columns",
            f"{limits.max_columns:,}",
            "max_columns",
            columns,
        )
    lines, longest = _scan(fh, encoding, None, limits.cell_bytes)
    if longest is not None:  # a record over the cell limit: look at its fields
        lines, long_field = _scan(fh, encoding, delim, limits.cell_bytes)
        if long_field is not None:
            line, exact = long_field
            if exact:
                raise over_limit(
                    path.name,
                    f"a cell in the row starting on line {line} is",
                    "longer",
                    mb(limits.cell_bytes),
                    "max_cell_kb",
                    None,
                )
            _confirm_long_cell(fh, path, encoding, delim, limits)
            lines = _count_line_ends(fh, encoding)  # the parity was misled: an upper bound
    rows = max(lines - 1, 0)  # the header is not a row
    cells = rows * max(columns, 1)
    if cells > limits.max_cells:
        raise over_limit(
            path.name,
            "the file holds about",
            f"{cells:,} cells ({rows:,} rows x {columns:,} columns)",
            f"{limits.max_cells:,} cells",
            "max_cells",
            cells,
        )


def _count_line_ends(fh: BinaryIO, encoding: str) -> int:
    newlines = returns = size = 0
    tail = b"\n"
    for chunk in _text_chunks(fh, encoding):
        newlines += chunk.count(b"\n")
        returns += chunk.count(b"\r")
        size += len(chunk)
        tail = chunk[-1:] or tail
    lines = newlines if newlines else returns
    return lines + (size > 0 and tail not in (b"\n", b"\r"))


def _scan(
    fh: BinaryIO, encoding: str, delim: str | None, limit: int
) -> tuple[int, tuple[int, bool] | None]:
    """One pass: (lines, None) or, at the first span between boundaries longer than
    ``limit``, (lines so far, (line it starts on, exact)). Boundaries are line ends outside
    quotes, and the delimiter too when ``delim`` is given; ``exact`` is False when a quote
    came before it (stray quotes can mislead the parity)."""
    import numpy as np

    quote = ord('"')
    sep = ord(delim) if delim is not None and ord(delim) < 128 else None
    parity = 0  # inside quotes before the next byte
    offset = 0
    last_boundary = -1  # offset of the last boundary
    last_line = 1  # the line the span after it starts on
    newlines = returns = 0
    tail_byte = 10
    quotes = False
    for chunk in _text_chunks(fh, encoding):
        a = np.frombuffer(chunk, dtype=np.uint8)
        if parity == 0 and b'"' not in chunk:  # the common case: no quoting in this chunk
            q = None
            nl = a == 10
            cr = a == 13 if b"\r" in chunk else None
        else:
            qb = (a == quote).view(np.uint8)
            inside = np.bitwise_xor.accumulate(qb) ^ qb ^ parity
            outside = inside == 0
            nl = (a == 10) & outside
            cr = (a == 13) & outside
            q = qb
        bounds = nl if cr is None else nl | cr
        if sep is not None:
            bounds = bounds | ((a == sep) if q is None else (a == sep) & outside)
        pos = np.flatnonzero(bounds)
        if pos.size:
            first = int(pos[0]) + offset - last_boundary - 1
            inner = int(np.diff(pos).max()) - 1 if pos.size > 1 else 0
            if max(first, inner) > limit:
                ends = pos + offset
                starts = np.concatenate(([last_boundary], ends[:-1]))
                k = int(np.flatnonzero(ends - starts - 1 > limit)[0])
                if k == 0:
                    line = last_line
                else:
                    line = 1 + newlines + int(np.count_nonzero(nl[: pos[k - 1] + 1]))
                seen = quotes or (q is not None and bool(q[: pos[k]].any()))
                return newlines, (line, not seen)
            plain = sep is None and cr is None  # every boundary is a line end
            upto = pos.size if plain else int(np.count_nonzero(nl[: pos[-1] + 1]))
            last_line = 1 + newlines + upto
            last_boundary = int(pos[-1]) + offset
        else:
            plain = False
        if q is not None:
            quotes = quotes or bool(q.any())
            parity = int(inside[-1] ^ q[-1]) if a.size else parity
        newlines += pos.size if plain else int(np.count_nonzero(nl))
        returns += 0 if cr is None else int(np.count_nonzero(cr))
        if a.size:
            tail_byte = int(a[-1])
        offset += a.size
        if offset - last_boundary - 1 > limit:  # a span still running past the limit
            return newlines, (last_line, not quotes)
    lines = newlines if newlines else returns
    lines += offset > 0 and tail_byte not in (10, 13)
    return lines, None


def _confirm_long_cell(
    fh: BinaryIO, path: Path, encoding: str, delim: str, limits: ReadLimits
) -> None:
    """Find the first cell longer than the limit with the csv module (exact, streamed)."""
    import io

    fh.seek(0)
    text = io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="")
    old = csv.field_size_limit()
    csv.field_size_limit(max(1, limits.cell_bytes))
    reader = csv.reader(text, delimiter=delim)
    start = 1
    try:
        for _ in reader:
            start = reader.line_num + 1
    except csv.Error as exc:
        if "field larger than field limit" not in str(exc):
            return  # the parser proper reports malformed quoting in its own words
        raise over_limit(
            path.name,
            f"a cell in the row starting on line {start} is",
            "longer",
            f"{mb(limits.cell_bytes)} (or a quote is never closed)",
            "max_cell_kb",
            None,
        ) from None
    finally:
        csv.field_size_limit(old)
        text.detach()


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
            f'{file_name}: a quoted value is never closed (a lone " character); '
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


#: Most parts an XLSX file may have, and the largest zip directory read.
_MAX_ZIP_ENTRIES = 10_000
_MAX_ZIP_DIRECTORY = 16 * _MiB
#: Parts smaller than this are not held to the compression-ratio limit.
_RATIO_GRACE = _MiB
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


def _check_zip(handle: BinaryIO, size: int, path: Path, limits: ReadLimits) -> None:
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
                        info.file_size / _MiB,
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
                    total / _MiB,
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
            f"{path.name} is not a readable XLSX workbook ({_first_line(exc)}); open it in a "
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
                f"{path.name}: part {info.filename!r} is damaged ({_first_line(exc)}); save the "
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


def _open_workbook(handle: BinaryIO, path: Path) -> Any:
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
    detail = _first_line(exc)[:160]
    return DataError(
        f"{path.name} is not a readable XLSX workbook ({kind}: {detail}); open it in a "
        "spreadsheet program and save it again as .xlsx."
    )


def _read_xlsx(
    handle: BinaryIO, size: int, path: Path, sheet: str | None, sha: str, limits: ReadLimits
) -> LoadedTable:
    import pandas as pd

    _check_zip(handle, size, path, limits)
    wb = _open_workbook(handle, path)
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


#: Largest Parquet footer (metadata) parsed; real files have kilobytes to a few megabytes.
_MAX_PARQUET_FOOTER = 64 * _MiB


_PARQUET_BATCH = 1 << 16


def _is_text(t: Any) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
    )


def _parquet_column_bytes(col: Any, name: str, path: Path, limits: ReadLimits) -> int:
    """Bytes one batch's column takes once expanded; refuses a text cell over the limit."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(col.type):
        return int(col.nbytes)
    if not _is_text(col.type.value_type):
        return int(col.nbytes)
    lengths = pc.binary_length(col.dictionary)
    longest = pc.max(lengths).as_py() or 0
    if longest > limits.cell_bytes:
        raise over_limit(
            path.name,
            f"a cell of column {name!r} holds",
            mb(longest),
            mb(limits.cell_bytes),
            "max_cell_kb",
            longest / 1024,
        )
    expanded = pc.sum(pc.take(lengths, col.indices)).as_py() or 0
    return int(expanded) + int(col.indices.nbytes)


def _parquet_type_problem(t: Any) -> str | None:
    """Why a column type cannot be read as one table column (None when it can)."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return _parquet_type_problem(t.value_type)
    if (
        pa.types.is_list(t)
        or pa.types.is_large_list(t)
        or pa.types.is_fixed_size_list(t)
        or pa.types.is_struct(t)
        or pa.types.is_map(t)
        or pa.types.is_union(t)
        or getattr(pa.types, "is_list_view", lambda _t: False)(t)
        or getattr(pa.types, "is_large_list_view", lambda _t: False)(t)
    ):
        return f"the nested type {t}"
    if isinstance(t, pa.ExtensionType):
        return f"the extension type {t}"
    return None


def _read_parquet(
    handle: BinaryIO, size: int, path: Path, sha: str, limits: ReadLimits
) -> LoadedTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    def unreadable(exc: BaseException) -> DataError:
        return DataError(
            f"{path.name} is not a readable Parquet file ({_first_line(exc)[:160]}); "
            "export it again."
        )

    if size < 12:
        raise DataError(f"{path.name} is not a readable Parquet file (too short); export it again.")
    handle.seek(size - 8)
    tail = handle.read(8)
    footer = int.from_bytes(tail[:4], "little")
    if tail[4:] != b"PAR1" or footer > size - 12:
        raise DataError(
            f"{path.name} is not a readable Parquet file (the end of the file is missing: it "
            "may be truncated); export it again."
        )
    if footer > _MAX_PARQUET_FOOTER:
        raise DataError(
            f"{path.name}: its Parquet metadata is {mb(footer)}, more than the "
            f"{mb(_MAX_PARQUET_FOOTER)} any data file needs; export it again with fewer "
            "row groups."
        )
    try:
        schema = pq.ParquetFile(_fd_path(handle, path)).schema_arrow
        as_dictionary = [f.name for f in schema if _is_text(f.type)]
        pf = pq.ParquetFile(_fd_path(handle, path), read_dictionary=as_dictionary)
        meta = pf.metadata
    except (pa.ArrowException, OSError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise unreadable(exc) from exc
    for f in schema:
        problem = _parquet_type_problem(f.type)
        if problem is not None:
            raise DataError(
                f"{path.name}: column {f.name!r} has {problem}; Probity reads flat columns "
                "(numbers, text, dates) only. Flatten or drop that column and export again."
            )
    columns = len(schema)
    if columns > limits.max_columns:
        raise over_limit(
            path.name,
            "the file has",
            f"{columns:,} columns",
            f"{limits.max_columns:,}",
            "max_columns",
            columns,
        )
    rows = meta.num_rows
    if rows * max(columns, 1) > limits.max_cells:
        raise over_limit(
            path.name,
            "the file holds",
            f"{rows * columns:,} cells ({rows:,} rows x {columns:,} columns)",
            f"{limits.max_cells:,} cells",
            "max_cells",
            rows * columns,
        )
    unpacked = 0
    for i in range(meta.num_row_groups):
        rg = meta.row_group(i)
        chunks = sum(max(rg.column(j).total_uncompressed_size, 0) for j in range(rg.num_columns))
        unpacked += max(rg.total_byte_size, chunks)
    if unpacked > limits.unpacked_bytes:
        raise over_limit(
            path.name,
            "its data unpacks to",
            mb(unpacked),
            mb(limits.unpacked_bytes),
            "max_unpacked_mb",
            unpacked / _MiB,
        )
    # Stream the rows in batches. Text columns are read as dictionaries, so a column of one
    # long string repeated a million times (tiny in the metadata, whose sizes are those of the
    # encoded pages) is measured before it is expanded; the expanded size counts against the
    # unpacked limit.
    batches = []
    total = 0
    try:
        for batch in pf.iter_batches(batch_size=_PARQUET_BATCH):
            for name, col in zip(batch.schema.names, batch.columns, strict=True):
                total += _parquet_column_bytes(col, name, path, limits)
                if total > limits.unpacked_bytes:
                    raise over_limit(
                        path.name,
                        "its data unpacks to more than",
                        mb(limits.unpacked_bytes),
                        mb(limits.unpacked_bytes),
                        "max_unpacked_mb",
                        None,
                    )
            batches.append(batch)
        if not batches:
            table = schema.empty_table()
        else:  # expand the text columns read as dictionaries, keep the pandas metadata
            table = pa.Table.from_batches(batches)
            for i, name in enumerate(table.column_names):
                if name in as_dictionary:
                    column = table.column(i)
                    table = table.set_column(i, name, column.cast(column.type.value_type))
            table = table.replace_schema_metadata(schema.metadata)
    except DataError:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise unreadable(exc) from exc
    raw = [str(n) for n in table.schema.names]
    cols = _mangle(raw)
    table = table.rename_columns(cols)
    try:
        frame = table.to_pandas()
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise unreadable(exc) from exc
    # Arrow's allocator keeps the freed batches (≈ 50 bytes per row) unless asked to return them.
    del table, batches
    pa.default_memory_pool().release_unused()
    return LoadedTable(
        frame=frame,
        file_name=path.name,
        sha256=sha,
        rows_read=int(frame.shape[0]),
        format="parquet",
        duplicates=_duplicates_from_raw(raw, cols),
    )


__all__ = [
    "DEFAULT_LIMITS",
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
