"""A user's table and its columns as the mapping sees them: distinct values, numbers, names.

:class:`LoadedTable` is a table as read. Every per-column analysis works on the column's
*distinct* values (``pd.factorize``) and maps back with integer codes, so a million rows cost a
few hashing passes, not a Python loop. :func:`coded` and :func:`numeric` remember their analysis
per (table, column, missing tokens): the GUI re-checks the mapping on every edit, and a column
that did not change is not factorised again. The memory they keep is bounded
(:data:`ANALYSIS_BUDGET_BYTES`); past it the oldest analysis is dropped and recomputed on demand.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from assessment.errors import DataError
from assessment.evaluation.limits import DEFAULT_LIMITS, ReadLimits

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_MISSING: tuple[str, ...] = ("?", "", "NA", "N/A", "NaN", "null")
# Memory the per-table analysis cache may keep (codes: 8 bytes a row; numbers: 11 bytes a row).
ANALYSIS_BUDGET_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class LoadedTable:
    """A user's table as read, plus what the report needs to say where it came from.

    ``duplicates`` maps a header name that occurs more than once in the raw file to the column
    names the frame uses for its copies (pandas' convention: ``x``, ``x.1``, ``x.2``).
    ``decimal`` is the decimal separator found in the file ("," for "0,73").
    """

    frame: pd.DataFrame
    file_name: str
    sha256: str
    rows_read: int
    sheet: str | None = None
    format: str = "csv"
    delimiter: str | None = None
    encoding: str | None = None
    decimal: str = "."
    duplicates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: the limits the file was read under; applying a mapping checks the group counts against
    #: them (max_groups, max_group_cells)
    limits: ReadLimits = DEFAULT_LIMITS
    #: what reading changed about the file's columns (e.g. identical duplicate columns merged)
    notes: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, file_name: str = "(in memory)") -> LoadedTable:
        """Wrap an in-memory frame (tests, the GUI's demo data); the hash covers its contents."""
        import pandas as pd

        digest = hashlib.sha256()
        digest.update("\x1f".join(map(str, frame.columns)).encode("utf-8"))
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        if frame.shape[1] == 0:
            raise DataError(f"{file_name} has no columns.")
        return cls(
            frame=frame,
            file_name=file_name,
            sha256=digest.hexdigest(),
            rows_read=int(frame.shape[0]),
            format="frame",
            duplicates=duplicates_of([str(c) for c in frame.columns]),
        )


def duplicates_of(names: list[str]) -> dict[str, tuple[str, ...]]:
    positions: dict[str, list[str]] = {}
    for n in names:
        positions.setdefault(n, []).append(n)
    return {n: tuple(v) for n, v in positions.items() if len(v) > 1}


def _fmt_num(x: float) -> str:
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def _resolve_column(table: LoadedTable, name: str | None, role: str) -> str:
    """The frame column for ``name``, or a DataError naming close matches / duplicates."""
    if not name:
        raise DataError(f"Choose the {role} column.")
    cols = table.columns
    if name in table.duplicates:
        copies = table.duplicates[name]
        raise DataError(
            f"Column {name!r} ({role}) appears {len(copies)} times in the header of "
            f"{table.file_name} (pandas would call the copies {', '.join(map(repr, copies))}); "
            "rename the duplicates in the file so the column is unambiguous."
        )
    if name in cols:
        return name
    close = difflib.get_close_matches(name, cols, n=3, cutoff=0.6)
    folded = [c for c in cols if c.strip().casefold() == name.strip().casefold()]
    hints = list(dict.fromkeys(folded + close))
    hint = f"; did you mean {' or '.join(map(repr, hints))}?" if hints else ""
    listing = ", ".join(cols[:12]) + (", ..." if len(cols) > 12 else "")
    raise DataError(
        f"Column {name!r} ({role}) is not in {table.file_name}{hint} "
        f"(columns: {listing})" + ("" if hint else "; check the spelling.")
    )


def _is_numeric_dtype(series: pd.Series) -> bool:
    import pandas as pd

    return bool(
        pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
    )


def _value_text(v: Any) -> str:
    """How a cell value is shown and compared: 1.0 -> "1", " a " -> "a", True -> "True"."""
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        fv = float(v)
        if math.isnan(fv):
            return ""
        return _fmt_num(fv) if math.isfinite(fv) else str(fv)
    return str(v).strip()


_QUOTE_MAX = 40


def _quoted(v: Any) -> str:
    """A cell quoted in a message, cut to :data:`_QUOTE_MAX` characters (a 5,000-digit cell
    must not make a 5,000-character error line)."""
    text = _value_text(v)
    if len(text) > _QUOTE_MAX:
        return repr(text[:_QUOTE_MAX]) + f"… ({len(text):,} characters)"
    return repr(text)


@dataclass(frozen=True)
class _Coded:
    """A column as integer codes into distinct texts; code -1 = missing."""

    codes: np.ndarray  # int64, -1 = missing
    texts: list[str]  # distinct non-missing texts
    counts: np.ndarray  # rows per text


def _code_column(series: pd.Series, missing: Iterable[str]) -> _Coded:
    """Factorize, normalise each distinct value to text, fold missing tokens to code -1."""
    import pandas as pd

    raw_codes, uniques = pd.factorize(series, use_na_sentinel=True)
    raw_codes = np.asarray(raw_codes, dtype=np.int64)
    utexts = [_value_text(u) for u in np.asarray(uniques, dtype=object)]
    miss = {m.strip().casefold() for m in missing}
    # texts -> merged code (two raw values can share a text, e.g. "a" and "a ")
    index: dict[str, int] = {}
    remap = np.full(len(utexts) + 1, -1, dtype=np.int64)  # last slot serves raw code -1
    for i, t in enumerate(utexts):
        if t.casefold() in miss:
            continue
        remap[i] = index.setdefault(t, len(index))
    codes = remap[raw_codes]
    counts = np.bincount(codes[codes >= 0], minlength=len(index))
    return _Coded(codes=codes, texts=list(index), counts=counts)


@dataclass(frozen=True)
class _Numeric:
    values: np.ndarray  # float64; NaN where missing or unparseable
    missing: np.ndarray  # bool
    bad: np.ndarray  # bool: present but not a finite number
    raw: pd.Series  # for quoting the first offending cell in a message
    infinite: np.ndarray  # bool: parsed as ±infinity (part of ``bad``)


def _numeric_column(series: pd.Series, decimal: str, missing: Iterable[str]) -> _Numeric:
    """Parse a column as numbers; missing tokens vs unparseable text kept apart."""
    import pandas as pd

    if _is_numeric_dtype(series):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        miss = np.isnan(values)
        bad = np.isinf(values)
        return _Numeric(np.where(bad, np.nan, values), miss, bad, series, bad.copy())
    # One C-speed pass over all cells; only the cells that did not parse (usually few) get
    # the slower treatment: strip, compare with the missing tokens, parse again.
    text = series.astype(object).astype(str) if series.dtype == object else series.astype(str)
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    values = np.array(pd.to_numeric(text, errors="coerce"), dtype=np.float64)
    infinite = np.isinf(values)
    values[~np.isfinite(values)] = np.nan
    miss = np.zeros(values.shape[0], dtype=bool)
    idx = np.flatnonzero(np.isnan(values))
    if idx.size:
        isna = series.iloc[idx].isna().to_numpy()
        sub = text.iloc[idx].str.strip()
        tokens = {m.strip().casefold() for m in missing}
        miss[idx] = isna | sub.str.casefold().isin(tokens).to_numpy()
        again = np.array(pd.to_numeric(sub, errors="coerce"), dtype=np.float64)
        infinite[idx] |= np.isinf(again) & ~miss[idx]
        again[~np.isfinite(again) | miss[idx]] = np.nan
        values[idx] = again
    bad = np.isnan(values) & ~miss
    return _Numeric(values, miss, bad, series, infinite & bad)


def _row_label(i: int) -> str:
    """Row number as a spreadsheet shows it: the header is row 1, the first data row is 2."""
    return f"row {int(i) + 2}"


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _list_values(texts: Sequence[str], counts: Sequence[int] | None = None, limit: int = 8) -> str:
    items = [
        f"{_quoted(t)} ({int(c):,})" if counts is not None else _quoted(t)
        for t, c in zip(texts, counts if counts is not None else [0] * len(texts), strict=False)
    ]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def distinct_values(
    data: LoadedTable | pd.DataFrame,
    column: str,
    missing: Sequence[str] = DEFAULT_MISSING,
    limit: int = 200,
) -> list[tuple[str, int]]:
    """A column's values exactly as the mapping compares them (1.0 -> "1", stripped, missing
    tokens left out), most frequent first: the choices for a positive-value or reference box."""
    table = _as_table(data)
    col = _resolve_column(table, column, "chosen")
    c = coded(table, col, missing)
    order = np.argsort(-c.counts, kind="stable")[:limit]
    return [(c.texts[i], int(c.counts[i])) for i in order]


# --------------------------------------------------------------------------------------------
# Analyses remembered per table (one factorisation per column and missing-token set)
# --------------------------------------------------------------------------------------------


class _AnalysisCache:
    """Analyses of one table's columns, oldest dropped first once over the byte budget."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0

    def get(self, key: Hashable, compute: Any, size: Any) -> Any:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit[0]
        value = compute()  # outside the lock: a check in a worker never blocks the window
        nbytes = int(size(value))
        with self._lock:
            if key not in self._items and nbytes <= ANALYSIS_BUDGET_BYTES:
                self._items[key] = (value, nbytes)
                self._bytes += nbytes
                while self._bytes > ANALYSIS_BUDGET_BYTES and self._items:
                    _old, (_v, old_bytes) = self._items.popitem(last=False)
                    self._bytes -= old_bytes
        return value


_CACHES: weakref.WeakKeyDictionary[LoadedTable, _AnalysisCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache_of(table: LoadedTable) -> _AnalysisCache:
    with _CACHES_LOCK:
        cache = _CACHES.get(table)
        if cache is None:
            cache = _CACHES[table] = _AnalysisCache()
        return cache


def forget_analyses(table: LoadedTable) -> None:
    """Drop the analyses remembered for ``table`` (their memory goes back at once)."""
    with _CACHES_LOCK:
        _CACHES.pop(table, None)


def _tokens(missing: Iterable[str]) -> frozenset[str]:
    return frozenset(m.strip().casefold() for m in missing)


def coded(table: LoadedTable, column: str, missing: Iterable[str]) -> _Coded:
    """:func:`_code_column` of a table's column, computed once per set of missing tokens."""
    key = ("coded", column, _tokens(missing))
    return _cache_of(table).get(  # type: ignore[no-any-return]
        key,
        lambda: _code_column(table.frame[column], missing),
        lambda c: c.codes.nbytes + c.counts.nbytes,
    )


def numeric(table: LoadedTable, column: str, missing: Iterable[str]) -> _Numeric:
    """:func:`_numeric_column` of a table's column, computed once per set of missing tokens."""
    key = ("numeric", column, table.decimal, _tokens(missing))
    return _cache_of(table).get(  # type: ignore[no-any-return]
        key,
        lambda: _numeric_column(table.frame[column], table.decimal, missing),
        lambda v: v.values.nbytes + v.missing.nbytes + v.bad.nbytes + v.infinite.nbytes,
    )


def _as_table(data: LoadedTable | pd.DataFrame) -> LoadedTable:
    return data if isinstance(data, LoadedTable) else LoadedTable.from_frame(data)
