"""Column mapping: which columns of a user's table are outcome, score/prediction and attributes.

:func:`prepare_input` applies a :class:`ColumnMapping` to a :class:`LoadedTable` and returns
the engine's :class:`~assessment.evaluation.inputs.EvaluationInput`, counting every excluded
row by reason; :func:`check_mapping` lists every problem at once for the GUI's inline
messages; :func:`suggest_mapping` pre-fills the form from column names and contents.

Everything a user can get wrong raises :class:`~assessment.errors.DataError` with one sentence
that names the file/column/row and says what to do. Per-column work is done on the column's
*distinct* values (``pd.factorize``) and mapped back with integer codes, so a million rows cost
a few hashing passes, not a Python loop.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np

from assessment.errors import DataError
from assessment.evaluation.inputs import (
    MISSING_GROUP,
    Attribute,
    EvaluationInput,
    Provenance,
    ScoreKind,
)

if TYPE_CHECKING:
    import pandas as pd

MAPPING_SCHEMA = "probity-mapping/1"
DEFAULT_MISSING: tuple[str, ...] = ("?", "", "NA", "N/A", "NaN", "null")
# Values of a two-valued outcome that need no explicit positive value: (negative, positive).
_BOOLEAN_PAIRS: tuple[tuple[str, str], ...] = (
    ("0", "1"),
    ("false", "true"),
    ("no", "yes"),
    ("n", "y"),
    ("f", "t"),
    ("negative", "positive"),
)
# At most this share of non-missing scores may be unparseable before we refuse the column:
# a stray "pending" is excluded and counted, a text column mapped as score is an error.
_MAX_UNPARSEABLE_SHARE = 0.05

Severity = Literal["error", "warning", "info"]
# One positive value ("<30") or several (["Medium", "High"] = COMPAS "higher risk").
Positive = str | list[str] | None


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


# --------------------------------------------------------------------------------------------
# Column mapping
# --------------------------------------------------------------------------------------------


@dataclass
class ColumnMapping:
    """Which columns mean what. Plain and mutable so the GUI can bind its fields to it.

    - ``label`` + ``positive``: the true outcome and which value(s) count as the event (needed
      unless the outcome is 0/1 or boolean-like, e.g. "<30" for Diabetes-130's readmitted;
      a list means any of them, e.g. ["<30", ">30"] = readmitted at all).
    - ``score`` with ``score_kind`` "probability" (0–1) or "score" (any real; needs
      ``threshold``), *or* ``prediction`` (+ ``prediction_positive``) for a predicted class
      (e.g. COMPAS score_text with ["Medium", "High"] = predicted high risk).
    - ``threshold``: a case is predicted positive when score >= threshold (0.5 by default for
      probabilities).
    - ``attributes``: sensitive attributes; ``bins[attr]`` = ascending edges that turn a
      continuous attribute into bands "[40, 50)"; ``missing``: cell values meaning "missing".
    """

    label: str = ""
    positive: Positive = None
    score: str | None = None
    score_kind: Literal["probability", "score"] = "probability"
    prediction: str | None = None
    prediction_positive: Positive = None
    threshold: float | None = None
    attributes: list[str] = field(default_factory=list)
    bins: dict[str, list[float]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=lambda: list(DEFAULT_MISSING))
    # Patient identifier: rows with the same value are one cluster (e.g. Diabetes-130's
    # patient_nbr); intervals are then cluster-robust. A missing value is a patient of its own.
    cluster: str | None = None

    @property
    def kind(self) -> ScoreKind:
        return "class" if self.prediction and not self.score else self.score_kind

    @property
    def effective_threshold(self) -> float | None:
        if self.threshold is not None:
            return float(self.threshold)
        return 0.5 if self.kind == "probability" else None

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": MAPPING_SCHEMA,
            "label": self.label,
            "positive": self.positive,
            "score": self.score,
            "score_kind": self.score_kind,
            "prediction": self.prediction,
            "prediction_positive": self.prediction_positive,
            "threshold": self.threshold,
            "attributes": list(self.attributes),
            "bins": {k: [float(e) for e in v] for k, v in self.bins.items()},
            "missing": list(self.missing),
            "cluster": self.cluster,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ColumnMapping:
        """Rebuild from :meth:`to_json`; a malformed mapping is a DataError naming the key."""
        if not isinstance(d, dict):
            raise DataError("The column mapping must be a JSON object.")
        schema = d.get("schema", MAPPING_SCHEMA)
        if schema != MAPPING_SCHEMA:
            raise DataError(f"Unknown column-mapping schema {schema!r}; expected {MAPPING_SCHEMA}.")
        try:
            kind = d.get("score_kind", "probability")
            if kind not in ("probability", "score"):
                raise ValueError(f"score_kind must be 'probability' or 'score', not {kind!r}")
            threshold = d.get("threshold")
            bins = {str(k): [float(e) for e in v] for k, v in (d.get("bins") or {}).items()}
            return cls(
                label=str(d.get("label") or ""),
                positive=_opt_positive(d.get("positive")),
                score=_opt_str(d.get("score")),
                score_kind=kind,
                prediction=_opt_str(d.get("prediction")),
                prediction_positive=_opt_positive(d.get("prediction_positive")),
                threshold=None if threshold is None else float(threshold),
                attributes=[str(a) for a in d.get("attributes") or []],
                bins=bins,
                missing=[str(m) for m in d.get("missing", DEFAULT_MISSING)],
                cluster=_opt_str(d.get("cluster")),
            )
        except (TypeError, ValueError) as exc:
            raise DataError(f"The column mapping is malformed: {exc}.") from exc


def _opt_str(v: Any) -> str | None:
    return None if v is None else str(v)


def _opt_positive(v: Any) -> Positive:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, list):
        return [str(x) for x in v]
    raise ValueError(f"a positive value must be text or a list of texts, not {v!r}")


@dataclass(frozen=True)
class MappingIssue:
    """One inline message for the GUI's mapping page (column None = about the whole mapping)."""

    column: str | None
    message: str
    severity: Severity = "error"


def parse_bins(text: str) -> list[float]:
    """Bin edges from text: "40,50,60" or "40 50 60" -> [40.0, 50.0, 60.0] (ascending)."""
    parts = [p for p in re.split(r"[,\s;]+", text.strip()) if p]
    try:
        edges = [float(p) for p in parts]
    except ValueError as exc:
        raise DataError(f"Bin edges must be numbers separated by commas, not {text!r}.") from exc
    _check_edges(edges, None)
    return edges


def _check_edges(edges: Sequence[float], column: str | None) -> None:
    where = f" for column {column!r}" if column else ""
    if not edges:
        raise DataError(f"Give at least one bin edge{where}, e.g. 40,50,60.")
    if any(not math.isfinite(e) for e in edges):
        raise DataError(f"Bin edges{where} must be finite numbers.")
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise DataError(f"Bin edges{where} must be strictly increasing, got {list(edges)}.")


def band_labels(edges: Sequence[float]) -> list[str]:
    """Labels for the bands cut by ``edges``: "< 40", "[40, 50)", ..., "≥ 60"."""
    f = [_fmt_num(e) for e in edges]
    labels = [f"< {f[0]}"]
    labels += [f"[{a}, {b})" for a, b in zip(f, f[1:], strict=False)]
    labels.append(f"≥ {f[-1]}")
    return labels


def _fmt_num(x: float) -> str:
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


# --------------------------------------------------------------------------------------------
# Column helpers (vectorised: work on distinct values, map back with codes)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Mapping steps (each raises DataError; check_mapping collects them, prepare_input stops)
# --------------------------------------------------------------------------------------------


def _binary_column(
    table: LoadedTable,
    column: str,
    positive: Positive,
    missing: Sequence[str],
    role: str,
    option: str,
    *,
    require_two: bool,
    allow_absent: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(is_positive, is_missing) for an outcome or predicted-class column."""
    coded = _code_column(table.frame[column], missing)
    texts = coded.texts
    if not texts:
        raise DataError(
            f"The {role} column {column!r} has no values (every cell is missing); "
            f"choose the column that holds the {role}."
        )
    if require_two and len(texts) == 1:
        raise DataError(
            f"The {role} column {column!r} has a single value ({texts[0]!r} in all "
            f"{int(coded.counts[0]):,} rows with a value); subgroup metrics need both outcomes."
        )
    wanted = positive_values(positive)
    idx = _positive_indices(texts, wanted, column, role, option, table.decimal, allow_absent)
    is_pos = np.isin(coded.codes, np.asarray(idx, dtype=np.int64))
    is_missing = coded.codes < 0
    if require_two:
        n_pos = int(coded.counts[idx].sum()) if idx else 0
        if n_pos == int(coded.counts.sum()):
            shown = ", ".join(_quoted(texts[i]) for i in idx)
            raise DataError(
                f"Every row of the {role} column {column!r} has a positive value ({shown}); "
                "subgroup metrics need both outcomes."
            )
    return is_pos, is_missing


def positive_values(positive: Positive) -> list[str] | None:
    """The positive value(s) as a list ("<30" -> ["<30"]); None = decide from the values."""
    if positive is None:
        return None
    if isinstance(positive, str):
        return [positive]
    return [str(p) for p in positive] or None


def _match_value(texts: list[str], want: str, decimal: str) -> int | None:
    want = want.strip()
    if want in texts:
        return texts.index(want)
    num = _as_number(want, decimal)
    if num is not None:
        for i, t in enumerate(texts):
            if _as_number(t, decimal) == num:
                return i
    folded = [i for i, t in enumerate(texts) if t.casefold() == want.casefold()]
    return folded[0] if len(folded) == 1 else None


def _positive_indices(
    texts: list[str],
    wanted: list[str] | None,
    column: str,
    role: str,
    option: str,
    decimal: str,
    allow_absent: bool = False,
) -> list[int]:
    """Indices into ``texts`` of the positive value(s); [] = none present (all negative)."""
    if wanted is not None:
        found: list[int] = []
        for want in wanted:
            i = _match_value(texts, want, decimal)
            if i is None and not allow_absent:
                raise DataError(
                    f"The positive value {want!r} does not occur in the {role} column "
                    f"{column!r}; its values are {_list_values(texts)}."
                )
            if i is not None and i not in found:
                found.append(i)
        return found
    if len(texts) == 2:
        folded = {_canonical_bool(t, decimal): i for i, t in enumerate(texts)}
        for neg, pos in _BOOLEAN_PAIRS:
            if set(folded) == {neg, pos}:
                return [folded[pos]]
    if len(texts) == 1:
        canon = _canonical_bool(texts[0], decimal)
        for neg, pos in _BOOLEAN_PAIRS:
            if canon in (neg, pos):
                return [0] if canon == pos else []
    if len(texts) > 20:
        raise DataError(
            f"The {role} column {column!r} has {len(texts):,} different values "
            f"({_list_values(texts, limit=5)}), so it does not look like a yes/no {role}; "
            f"choose the right column or give the value(s) that mean positive ({option} VALUE)."
        )
    raise DataError(
        f"The {role} column {column!r} has {len(texts)} values ({_list_values(texts)}), "
        f"so say which one is the positive {role} ({option} VALUE)."
    )


def _as_number(text: str, decimal: str) -> float | None:
    t = text.strip().replace(",", ".") if decimal == "," else text.strip()
    try:
        v = float(t)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _canonical_bool(text: str, decimal: str) -> str:
    num = _as_number(text, decimal)
    if num is not None and num in (0.0, 1.0):
        return "1" if num == 1.0 else "0"
    return text.strip().casefold()


def _score_column(
    table: LoadedTable, column: str, mapping: ColumnMapping
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scores, missing mask, unparseable mask); raises on a text column or bad probabilities."""
    num = _numeric_column(table.frame[column], table.decimal, mapping.missing)
    present = int((~num.missing).sum())
    n_bad = int(num.bad.sum())
    if present == 0:
        raise DataError(
            f"The score column {column!r} has no values (every cell is missing); choose the "
            "column with the model's scores."
        )
    if n_bad and (n_bad == present or n_bad > _MAX_UNPARSEABLE_SHARE * present):
        i = _first(num.bad)
        raise DataError(
            f"The score column {column!r} is not numeric: {n_bad:,} values are not numbers "
            f"(first at {_row_label(i)}: {_quoted(num.raw.iloc[i])}); choose a numeric "
            "score column, add the token to the missing values, or map a predicted class instead."
        )
    if mapping.score_kind == "probability":
        vals = num.values
        # ±infinity is a number outside 0–1, not an unparseable cell to exclude quietly.
        outside = (vals < 0.0) | (vals > 1.0) | num.infinite
        n_out = int(outside.sum())
        if n_out:
            i = _first(outside)
            hint = (
                " (they look like percentages: divide by 100)"
                if not num.infinite.any() and np.nanmax(vals) <= 100.0 and np.nanmin(vals) >= 0.0
                else ""
            )
            raise DataError(
                f"The score column {column!r} should hold probabilities between 0 and 1, but "
                f"{n_out:,} values are outside (first at {_row_label(i)}: "
                f"{_quoted(num.raw.iloc[i]) if num.infinite[i] else _fmt_num(float(vals[i]))})"
                f"{hint}; choose score kind 'score' with a threshold "
                "if it is not a probability."
            )
    return num.values, num.missing, num.bad


def _check_threshold(mapping: ColumnMapping) -> None:
    t = mapping.threshold
    if mapping.kind == "class":
        return
    if t is not None and not math.isfinite(t):
        raise DataError("The threshold must be a finite number.")
    if mapping.kind == "probability" and t is not None and not 0.0 <= t <= 1.0:
        raise DataError(
            f"The threshold {t:g} is outside 0–1, but the scores are probabilities; use a "
            "threshold between 0 and 1 or score kind 'score'."
        )
    if mapping.kind == "score" and t is None:
        raise DataError(
            "Raw scores need a decision threshold (a case is positive when score ≥ threshold); "
            "give --threshold."
        )


def _attribute(table: LoadedTable, column: str, mapping: ColumnMapping) -> Attribute:
    """Codes and sorted levels; missing values become the explicit "(missing)" level."""
    series = table.frame[column]
    edges = mapping.bins.get(column)
    if edges is not None:
        _check_edges(edges, column)
        num = _numeric_column(series, table.decimal, mapping.missing)
        if num.bad.any():
            i = _first(num.bad)
            raise DataError(
                f"Column {column!r} is binned but {int(num.bad.sum()):,} values are not numbers "
                f"(first at {_row_label(i)}: {_quoted(num.raw.iloc[i])}); add the token to "
                "the missing values or remove the bins."
            )
        band = np.searchsorted(np.asarray(edges, dtype=np.float64), num.values, side="right")
        labels = band_labels(edges)
        band = np.where(num.missing, len(labels), band)
        used = np.bincount(band, minlength=len(labels) + 1) > 0
        levels_all = [*labels, MISSING_GROUP]
        keep = np.flatnonzero(used)
        remap = np.full(len(levels_all), -1, dtype=np.int64)
        remap[keep] = np.arange(keep.size)
        codes = remap[band].astype(np.int32)
        return Attribute(column, codes, tuple(levels_all[k] for k in keep))
    coded = _code_column(series, mapping.missing)
    order = _natural_order(coded.texts, table.decimal)
    remap = np.empty(len(coded.texts) + 1, dtype=np.int64)
    remap[np.asarray(order, dtype=np.int64)] = np.arange(len(order))
    levels = [coded.texts[i] for i in order]
    has_missing = bool((coded.codes < 0).any())
    remap[-1] = len(levels)
    if has_missing:
        levels.append(MISSING_GROUP)
    codes = remap[coded.codes].astype(np.int32)
    return Attribute(column, codes, tuple(levels))


def _natural_order(texts: list[str], decimal: str) -> list[int]:
    """Numeric order when every level is a number (ages 9 < 10), else case-insensitive text."""
    nums = [_as_number(t, decimal) for t in texts]
    if texts and all(n is not None for n in nums):
        return sorted(range(len(texts)), key=lambda i: (nums[i], texts[i]))
    return sorted(range(len(texts)), key=lambda i: (texts[i].casefold(), texts[i]))


def _check_roles(mapping: ColumnMapping) -> None:
    if mapping.score and mapping.prediction:
        raise DataError(
            "Map either a score column or a predicted-class column, not both "
            f"({mapping.score!r} and {mapping.prediction!r})."
        )
    if not mapping.score and not mapping.prediction:
        raise DataError("Choose the model's score column or its predicted-class column.")
    if mapping.score_kind not in ("probability", "score"):
        raise DataError(f"Score kind must be 'probability' or 'score', not {mapping.score_kind!r}.")


# --------------------------------------------------------------------------------------------
# Public mapping API
# --------------------------------------------------------------------------------------------


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
    coded = _code_column(table.frame[col], missing)
    order = np.argsort(-coded.counts, kind="stable")[:limit]
    return [(coded.texts[i], int(coded.counts[i])) for i in order]


_T = TypeVar("_T")


def _as_table(data: LoadedTable | pd.DataFrame) -> LoadedTable:
    return data if isinstance(data, LoadedTable) else LoadedTable.from_frame(data)


def check_mapping(data: LoadedTable | pd.DataFrame, mapping: ColumnMapping) -> list[MappingIssue]:
    """Every problem of the mapping at once, for inline messages next to the GUI's fields.

    Runs the same steps as :func:`prepare_input`, but collects instead of stopping at the
    first error, and adds warnings (excluded rows, many levels, a column used twice).
    """
    table = _as_table(data)
    issues: list[MappingIssue] = []
    n = table.rows_read

    def attempt(column: str | None, fn: Callable[[], _T]) -> _T | None:
        """``fn()``, or None after recording its DataError as an issue of ``column``."""
        try:
            return fn()
        except DataError as exc:
            issues.append(MappingIssue(column, exc.message, "error"))
            return None

    label = attempt(mapping.label or None, lambda: _resolve_column(table, mapping.label, "outcome"))
    if label is not None:
        res = attempt(
            label,
            lambda: _binary_column(
                table,
                label,
                mapping.positive,
                mapping.missing,
                "outcome",
                "--positive",
                require_two=True,
            ),
        )
        if res is not None and res[1].any():
            k = int(res[1].sum())
            issues.append(
                MappingIssue(
                    label,
                    f"{k:,} of {n:,} rows ({k / n:.1%}) have no outcome and will be excluded.",
                    "warning",
                )
            )
    n_before = len(issues)
    attempt(None, lambda: _check_roles(mapping))
    roles_ok = len(issues) == n_before
    if roles_ok and mapping.score:
        score_col = attempt(mapping.score, lambda: _resolve_column(table, mapping.score, "score"))
        if score_col is not None:
            scored = attempt(score_col, lambda: _score_column(table, score_col, mapping))
            if scored is not None:
                k_miss, k_bad = int(scored[1].sum()), int(scored[2].sum())
                if k_miss:
                    issues.append(
                        MappingIssue(
                            score_col, f"{_rows(k_miss)} no score and will be excluded.", "warning"
                        )
                    )
                if k_bad:
                    issues.append(
                        MappingIssue(
                            score_col,
                            f"{_rows(k_bad)} a score that is not a number and will be excluded.",
                            "warning",
                        )
                    )
        n_before = len(issues)
        attempt(mapping.score, lambda: _check_threshold(mapping))
        if mapping.score_kind == "score" and len(issues) == n_before:
            # A raw score's threshold is the model's decision rule, not something to guess:
            # say plainly which rule will be applied (suggest_mapping starts at the median).
            issues.append(
                MappingIssue(
                    mapping.score,
                    f"Raw scores (not probabilities): a case counts as predicted positive when "
                    f"{mapping.score} ≥ {mapping.effective_threshold:g}. Set the threshold the "
                    "model is used with; calibration metrics need probabilities.",
                    "info",
                )
            )
    elif roles_ok and mapping.prediction:
        pred_col = attempt(
            mapping.prediction, lambda: _resolve_column(table, mapping.prediction, "prediction")
        )
        if pred_col is not None:
            attempt(pred_col, lambda: _prediction(table, pred_col, mapping))
    if not mapping.attributes:
        issues.append(
            MappingIssue(None, "Choose at least one sensitive attribute (e.g. sex, race).", "error")
        )
    used = {c for c in (mapping.label, mapping.score, mapping.prediction) if c}
    for attr in mapping.attributes:
        col = attempt(attr, functools.partial(_resolve_column, table, attr, "attribute"))
        if col is None:
            continue
        if col in used:
            issues.append(
                MappingIssue(col, f"Column {col!r} is also mapped as outcome or score.", "warning")
            )
        a = attempt(col, functools.partial(_attribute, table, col, mapping))
        if a is not None and col not in mapping.bins and len(a.levels) > 50:
            issues.append(
                MappingIssue(
                    col,
                    f"Column {col!r} has {len(a.levels):,} distinct values; if it is continuous "
                    "(e.g. age), give bin edges.",
                    "warning",
                )
            )
    for col in mapping.bins:
        if col not in mapping.attributes:
            issues.append(
                MappingIssue(
                    col, f"Bins are given for {col!r}, which is not an attribute.", "warning"
                )
            )
    return issues


def _rows(k: int) -> str:
    return "1 row has" if k == 1 else f"{k:,} rows have"


def _prediction(
    table: LoadedTable, column: str, mapping: ColumnMapping
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted class; without its own positive value(s) it borrows the outcome's when the
    prediction uses the outcome's vocabulary (e.g. both "<30"/">30"/"NO")."""
    positive = mapping.prediction_positive
    allow_absent = False
    if positive is None and mapping.positive is not None and mapping.label in table.columns:
        pred_texts = set(_code_column(table.frame[column], mapping.missing).texts)
        label_texts = set(_code_column(table.frame[mapping.label], mapping.missing).texts)
        wanted = {w.strip() for w in positive_values(mapping.positive) or []}
        if wanted & pred_texts or pred_texts <= label_texts:
            positive, allow_absent = mapping.positive, True
    return _binary_column(
        table,
        column,
        positive,
        mapping.missing,
        "prediction",
        "--prediction-positive",
        require_two=False,
        allow_absent=allow_absent,
    )


def prepare_input(data: LoadedTable | pd.DataFrame, mapping: ColumnMapping) -> EvaluationInput:
    """Apply the mapping: validated arrays for the engine, excluded rows counted by reason.

    Exclusion reasons are tested in a fixed order and each row is counted once, under its
    first reason: missing outcome, missing score / missing prediction, unparseable score.
    A missing attribute value is never a reason: it becomes the "(missing)" group.
    """
    table = _as_table(data)
    _check_roles(mapping)
    label = _resolve_column(table, mapping.label, "outcome")
    y_pos, y_missing = _binary_column(
        table, label, mapping.positive, mapping.missing, "outcome", "--positive", require_two=True
    )
    excluded_mask = y_missing.copy()
    excluded: dict[str, int] = {}
    reasons: list[tuple[str, np.ndarray]] = []  # (reason, rows first excluded for it)
    _count(excluded, "missing outcome", y_missing, reasons)
    score: np.ndarray | None = None
    y_pred: np.ndarray | None = None
    if mapping.score:
        col = _resolve_column(table, mapping.score, "score")
        _check_threshold(mapping)
        values, s_missing, s_bad = _score_column(table, col, mapping)
        _count(excluded, "missing score", s_missing & ~excluded_mask, reasons)
        excluded_mask |= s_missing
        _count(excluded, "unparseable score", s_bad & ~excluded_mask, reasons)
        excluded_mask |= s_bad
        score = values
    else:
        col = _resolve_column(table, mapping.prediction, "prediction")
        p_pos, p_missing = _prediction(table, col, mapping)
        _count(excluded, "missing prediction", p_missing & ~excluded_mask, reasons)
        excluded_mask |= p_missing
        y_pred = p_pos
    if not mapping.attributes:
        raise DataError("Choose at least one sensitive attribute (e.g. sex, race).")
    attrs = [
        _attribute(table, _resolve_column(table, a, "attribute"), mapping)
        for a in dict.fromkeys(mapping.attributes)
    ]
    keep = ~excluded_mask
    cluster = None
    if mapping.cluster:
        cluster_col = _resolve_column(table, mapping.cluster, "cluster")
        cluster = _cluster_codes(table, cluster_col, keep, mapping)
    rows_by_group, excluded_by_group = _exclusions_by_group(attrs, reasons)
    rows_used = int(keep.sum())
    if rows_used == 0:
        counts = ", ".join(f"{v:,} {k}" for k, v in excluded.items())
        raise DataError(f"No usable rows in {table.file_name}: {counts}; check the mapping.")
    y_true = y_pos[keep]
    n_pos = int(y_true.sum())
    if n_pos == 0 or n_pos == rows_used:
        which = "positive" if n_pos else "negative"
        raise DataError(
            f"After excluding rows, the outcome {label!r} is {which} in all {rows_used:,} usable "
            "rows; subgroup metrics need both outcomes."
        )
    attributes = tuple(_subset_attribute(a, keep) for a in attrs)
    provenance = Provenance(
        file_name=table.file_name,
        sha256=table.sha256,
        rows_read=table.rows_read,
        rows_used=rows_used,
        excluded=excluded,
        mapping=mapping.to_json(),
        sheet=table.sheet,
        rows_by_group=rows_by_group,
        excluded_by_group=excluded_by_group,
    )
    return EvaluationInput(
        y_true=np.ascontiguousarray(y_true, dtype=bool),
        score=None if score is None else np.ascontiguousarray(score[keep], dtype=np.float64),
        y_pred=None if y_pred is None else np.ascontiguousarray(y_pred[keep], dtype=bool),
        score_kind=mapping.kind,
        attributes=attributes,
        provenance=provenance,
        cluster=cluster,
    )


def _cluster_codes(
    table: LoadedTable, column: str, keep: np.ndarray, mapping: ColumnMapping
) -> np.ndarray:
    """Patient codes 0..C−1 of the kept rows; each missing identifier is a patient of its own."""
    import pandas as pd

    series = table.frame[column][keep]
    text = series.astype("string").str.strip()
    missing = text.isna() | text.isin(list(mapping.missing))
    codes, _ = pd.factorize(text.where(~missing))
    codes = np.asarray(codes, dtype=np.int64)
    lone = codes < 0
    codes[lone] = codes.max(initial=-1) + 1 + np.arange(int(lone.sum()))
    return np.ascontiguousarray(codes)


def _count(
    excluded: dict[str, int],
    reason: str,
    mask: np.ndarray,
    reasons: list[tuple[str, np.ndarray]],
) -> None:
    k = int(mask.sum())
    if k:
        excluded[reason] = excluded.get(reason, 0) + k
        reasons.append((reason, mask))


def _exclusions_by_group(
    attrs: Sequence[Attribute], reasons: Sequence[tuple[str, np.ndarray]]
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, dict[str, int]]]]:
    """Rows read and rows excluded (by reason) per level of every attribute, from all rows.

    Counted before exclusion, so a group that loses every row still appears. One bincount per
    attribute and reason: O(rows × reasons).
    """
    rows: dict[str, dict[str, int]] = {}
    excluded: dict[str, dict[str, dict[str, int]]] = {}
    for a in attrs:
        size = len(a.levels)
        total = np.bincount(a.codes, minlength=size)
        rows[a.name] = {lvl: int(k) for lvl, k in zip(a.levels, total, strict=True) if k}
        per: dict[str, dict[str, int]] = {}
        for reason, mask in reasons:
            counts = np.bincount(a.codes[mask], minlength=size)
            for lvl, k in zip(a.levels, counts, strict=True):
                if k:
                    per.setdefault(lvl, {})[reason] = int(k)
        excluded[a.name] = per
    return rows, excluded


def _subset_attribute(a: Attribute, keep: np.ndarray) -> Attribute:
    """Rows subset; levels no longer present after exclusion are dropped (no empty groups)."""
    codes = a.codes[keep]
    present = np.bincount(codes, minlength=len(a.levels)) > 0
    if present.all():
        return Attribute(a.name, np.ascontiguousarray(codes, dtype=np.int32), a.levels)
    idx = np.flatnonzero(present)
    remap = np.full(len(a.levels), -1, dtype=np.int64)
    remap[idx] = np.arange(idx.size)
    return Attribute(a.name, remap[codes].astype(np.int32), tuple(a.levels[i] for i in idx))


# --------------------------------------------------------------------------------------------
# Suggesting a mapping (the GUI pre-fills its form with this)
# --------------------------------------------------------------------------------------------

# Outcome-name patterns, strongest first: "label"/"outcome" beat a study-specific
# "two_year_recid", which beats a generic "event"/"status".
_LABEL_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^(y|y_true|label|label_value|outcome|target|truth|ground_truth|actual)$", re.I),
    re.compile(r"(outcome|label|target|truth)", re.I),
    re.compile(r"(readmit|recid|died|death|mortality|deceased|diagnos)", re.I),
    re.compile(r"(^event$|^class$|status)", re.I),
)
_LABEL_NAMES = re.compile("|".join(f"(?:{p.pattern})" for p in _LABEL_PATTERNS), re.I)
_SCORE_NAMES = re.compile(
    r"(score|prob|proba|probability|risk|y_score|y_prob|logit|pred_prob|likelihood|^p$|^phat$)",
    re.IGNORECASE,
)
_PRED_NAMES = re.compile(r"(^pred$|prediction|predicted|y_pred|^yhat$|^y_hat$|decision)", re.I)
_ATTR_NAMES = re.compile(
    r"(race|ethnic|^sex$|gender|^age|age_|agegroup|age_group|language|insurance|payer|"
    r"religion|disab|region|marital|income|education|nationality|country|deprivation|imd)",
    re.IGNORECASE,
)
_ID_NAMES = re.compile(r"(^id$|_id$|^id_|identifier|^index$|encounter|patient_nbr|^name$)", re.I)


def suggest_mapping(data: LoadedTable | pd.DataFrame) -> ColumnMapping:
    """A first guess from column names and contents; the user confirms or changes it.

    Outcome: a name like outcome/label/target/recid with 2–3 distinct values. Score: a numeric
    column named like score/prob/risk with many values (probability if all in 0–1).
    Prediction: a two-valued column named like prediction. Attributes: names like race, sex,
    gender, age (a numeric age with many values gets decade bins).
    """
    table = _as_table(data)
    frame = table.frame
    dup_copies = {c for copies in table.duplicates.values() for c in copies}
    sample = frame.iloc[: min(len(frame), 20000)]
    missing = DEFAULT_MISSING
    profiles: dict[str, tuple[_Coded, _Numeric]] = {}
    for col in table.columns:
        if col in dup_copies or _ID_NAMES.search(col):
            continue
        s = sample[col]
        profiles[col] = (_code_column(s, missing), _numeric_column(s, table.decimal, missing))

    def distinct(col: str) -> int:
        return len(profiles[col][0].texts)

    def numeric_share(col: str) -> float:
        num = profiles[col][1]
        present = int((~num.missing).sum())
        return 0.0 if present == 0 else 1.0 - int(num.bad.sum()) / present

    label = _best(
        [c for c in profiles if 2 <= distinct(c) <= 3],
        lambda c: (_label_strength(c), distinct(c) == 2),
        require=lambda c: bool(_LABEL_NAMES.search(c)),
    )
    mapping = ColumnMapping(label=label or "")
    if label:
        texts = profiles[label][0].texts
        try:
            idx = _positive_indices(texts, None, label, "outcome", "--positive", table.decimal)
            mapping.positive = texts[idx[0]] if idx else None
        except DataError:
            mapping.positive = None
    score = _best(
        [
            c
            for c in profiles
            if c != label
            and numeric_share(c) == 1.0
            and distinct(c) >= 2
            and _SCORE_NAMES.search(c)
        ],
        lambda c: (_name_rank(c, _SCORE_NAMES), distinct(c)),
    )
    if score:
        vals = profiles[score][1].values
        finite = vals[np.isfinite(vals)]
        in_unit = finite.size > 0 and float(finite.min()) >= 0.0 and float(finite.max()) <= 1.0
        mapping.score = score
        mapping.score_kind = "probability" if in_unit else "score"
        if not in_unit and finite.size:
            mapping.threshold = float(np.median(finite))
    else:
        pred = _best(
            [c for c in profiles if c != label and distinct(c) == 2 and _PRED_NAMES.search(c)],
            lambda c: _name_rank(c, _PRED_NAMES),
        )
        mapping.prediction = pred
    taken = {label, mapping.score, mapping.prediction}
    for col in profiles:
        if col in taken or not _ATTR_NAMES.search(col):
            continue
        k = distinct(col)
        if k < 2:
            continue
        if k <= 50:
            mapping.attributes.append(col)
        elif numeric_share(col) == 1.0 and re.search(r"age", col, re.I):
            mapping.attributes.append(col)
            vals = profiles[col][1].values
            lo, hi = np.nanmin(vals), np.nanmax(vals)
            edges = [float(e) for e in range(20, 100, 10) if lo < e <= hi]
            mapping.bins[col] = edges or [float(np.nanmedian(vals))]
    return mapping


def _label_strength(col: str) -> int:
    for i, pattern in enumerate(_LABEL_PATTERNS):
        if pattern.search(col):
            return len(_LABEL_PATTERNS) - i
    return 0


def _name_rank(col: str, pattern: re.Pattern[str]) -> int:
    """2 = the whole name matches, 1 = part of it, 0 = none (prefers 'label' to 'x_label')."""
    m = pattern.search(col)
    if not m:
        return 0
    return 2 if m.group(0).casefold() == col.casefold() else 1


def _best(
    candidates: list[str],
    key: Callable[[str], Any],
    require: Callable[[str], bool] | None = None,
) -> str | None:
    """The candidate with the highest ``key`` among those passing ``require``; ties: first."""
    pool = [c for c in candidates if require is None or require(c)]
    if not pool:
        return None
    return max(pool, key=lambda c: (key(c), -candidates.index(c)))


__all__ = [
    "DEFAULT_MISSING",
    "MAPPING_SCHEMA",
    "ColumnMapping",
    "LoadedTable",
    "MappingIssue",
    "band_labels",
    "check_mapping",
    "distinct_values",
    "parse_bins",
    "prepare_input",
    "suggest_mapping",
]
