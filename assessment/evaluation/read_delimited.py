"""CSV/TSV reading: delimiter and decimal-comma sniffing, the streamed rows/columns/cell-size
scan that runs before pandas parses, and pandas' parser errors in the user's words."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from assessment.catalogue import TAB_SUFFIXES
from assessment.errors import DataError
from assessment.evaluation.limits import ReadLimits, over_limit
from assessment.evaluation.mapping import LoadedTable
from assessment.evaluation.read_common import (
    CHUNK,
    SNIFF_BYTES,
    duplicates_from_raw,
    first_line,
    mangle,
)
from assessment.fileio import mb

if TYPE_CHECKING:
    import pandas as pd

CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
# Python's csv module refuses fields over 128 KB by default; the sniffer reads up to 256 KB of a
# file whose cells may legitimately be longer (the limit that matters is ReadLimits.max_cell_kb).
csv.field_size_limit(max(csv.field_size_limit(), 4 * SNIFF_BYTES))


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


def read_delimited(
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
    trailing = _first_row_extra(sample, delim, raw_header, path.name)
    fh.seek(0)
    try:
        # index_col=False: never take the first column as a row index. pandas does that when
        # the first data row has more fields than the header, and every name then sits one
        # column to the right of its data (the outcome read from the next column).
        frame = pd.read_csv(
            fh,
            sep=delim,
            encoding=encoding,
            decimal=decimal,
            keep_default_na=False,
            na_filter=False,
            skipinitialspace=False,
            low_memory=False,
            index_col=False,
            names=mangle([*raw_header, *(f"\0extra{i}" for i in range(trailing))])
            if trailing
            else None,
            header=0,
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
            f"Cannot read {path.name} as CSV ({first_line(exc)}); check the delimiter and quoting."
        ) from exc
    if trailing:
        frame = _drop_empty_trailing(frame, trailing, path.name, delim, len(raw_header))
    names = [str(c) for c in frame.columns]
    duplicates = duplicates_from_raw(raw_header, names)
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
        while chunk := fh.read(CHUNK):
            yield chunk
        return
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    while chunk := fh.read(CHUNK):
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


def _first_row_extra(sample: str, delim: str, header: list[str], file_name: str) -> int:
    """How many empty fields the first data row has beyond the header's (a separator at the end
    of every data row, as some spreadsheet exports write); a non-empty one is refused."""
    try:
        records = list(itertools.islice(csv.reader(io.StringIO(sample), delimiter=delim), 2))
    except csv.Error:
        return 0
    if not header or len(records) < 2 or len(records[1]) <= len(header):
        return 0
    extra = records[1][len(header) :]
    if any(cell.strip() for cell in extra):
        raise DataError(_parser_error_message(
            file_name, delim, f"Expected {len(header)} fields in line 2, saw {len(records[1])}"
        ))  # fmt: skip
    return len(extra)


def _drop_empty_trailing(
    frame: pd.DataFrame, extra: int, file_name: str, delim: str, columns: int
) -> pd.DataFrame:
    """The frame without the unnamed trailing columns, which must be empty on every row."""
    tail = frame.iloc[:, -extra:]
    filled = (tail.astype(str).apply(lambda c: c.str.strip()) != "").any(axis=1).to_numpy()
    if filled.any():
        row = int(filled.argmax())
        raise DataError(
            f"{file_name}: data row {row + 1:,} has a value after the last of the header's "
            f"{columns} columns (separator {_delim_name(delim)}; the other rows end with an "
            "empty field there); fix that row or name the column in the header."
        )
    return frame.iloc[:, :-extra]


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
