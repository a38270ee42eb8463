"""The mapping's steps, one role at a time: outcome, score, predicted class, attribute.

Each step reads the table through :mod:`assessment.evaluation.columns` (one factorisation per
column, remembered) and raises :class:`~assessment.errors.DataError` with one sentence naming the
column and what to do; :func:`~assessment.evaluation.mapping.check_mapping` collects them for the
GUI, :func:`~assessment.evaluation.mapping.prepare_input` (and thereby the CLI) stops at the first.

A score column that holds only two values is a predicted class written as numbers (0/1): Brier
score, O/E ratio and calibration computed from it would be numbers about nothing, so
:func:`_score_column` refuses it and names the predicted-class mapping instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from assessment.errors import DataError
from assessment.evaluation.column_mapping import (
    ColumnMapping,
    Positive,
    _check_edges,
    band_labels,
    positive_values,
)
from assessment.evaluation.columns import (
    LoadedTable,
    _first,
    _fmt_num,
    _list_values,
    _quoted,
    _row_label,
)
from assessment.evaluation.columns import coded as column_codes
from assessment.evaluation.columns import numeric as column_numbers
from assessment.evaluation.inputs import MISSING_GROUP, Attribute
from assessment.evaluation.limits import LIMIT_OPTIONS, LimitError

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
THRESHOLD_NEEDED = (
    "Raw scores (not probabilities) have no default decision threshold; set the model's "
    "operating point, the score at or above which a case is predicted positive (--threshold T)."
)


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
    coded = column_codes(table, column, missing)
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


def outcome_values_notes(
    table: LoadedTable, column: str, positive: Positive, missing: Sequence[str]
) -> list[str]:
    """A note when ``--positive`` leaves an outcome column of more than two values: which
    values (and how many rows of each) are counted as non-events. Diabetes-130's ``readmitted``
    (``<30`` the event; ``>30`` and ``NO`` the non-events) is the documented use; a stray
    value (``maybe`` beside ``yes``/``no``) is thus counted and named, never silently a
    non-event."""
    wanted = positive_values(positive)
    if wanted is None:
        return []
    coded = column_codes(table, column, missing)
    texts = coded.texts
    if len(texts) <= 2:
        return []
    idx = set(_positive_indices(texts, wanted, column, "outcome", "--positive", table.decimal,
                                True))  # fmt: skip
    others = sorted((i for i in range(len(texts)) if i not in idx), key=lambda i: texts[i])
    shown = ", ".join(f"{_quoted(texts[i])} ({int(coded.counts[i]):,} rows)" for i in others[:8])
    more = f" and {len(others) - 8:,} more" if len(others) > 8 else ""
    events = ", ".join(_quoted(texts[i]) for i in sorted(idx))
    return [
        f"outcome: {column!r} has {len(texts):,} values; with {events} as the event, "
        f"{len(others):,} are counted as non-events: {shown}{more}; if any of them is no "
        "outcome (e.g. unknown), add it to the missing values (--missing) so its rows are "
        "excluded instead."
    ]


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
    num = column_numbers(table, column, mapping.missing)
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
    # values outside 0–1 are named first: one 1e+308 among probabilities made the column look
    # like "essentially two values (0.00086 and 1e+308)" (issue 9, attack finding 10b)
    if mapping.score_kind == "probability":
        vals = num.values
        # ±infinity is a number outside 0–1, not an unparseable cell to exclude quietly.
        outside = (vals < 0.0) | (vals > 1.0) | num.infinite
        n_out = int(outside.sum())
        if n_out:
            i = _first(outside)
            finite = vals[np.isfinite(vals)]
            # Percentages reach well past 10 and are not all whole numbers of a small scale
            # (COMPAS deciles 1–10 and integer points are raw scores, not percentages).
            looks_like_percent = (
                not num.infinite.any()
                and finite.size > 0
                and float(np.nanmin(finite)) >= 0.0
                and 10.0 < float(np.nanmax(finite)) <= 100.0
            )
            hint = " (they look like percentages: divide by 100)" if looks_like_percent else ""
            raise DataError(
                f"The score column {column!r} should hold probabilities between 0 and 1, but "
                f"{n_out:,} {'value is' if n_out == 1 else 'values are'} outside (first at "
                f"{_row_label(i)}: "
                f"{_quoted(num.raw.iloc[i]) if num.infinite[i] else _fmt_num(float(vals[i]))})"
                f"{hint}; choose score kind 'score' with a threshold "
                "if it is not a probability."
            )
    two = score_values_if_two(table, column, mapping.missing)
    if two is not None:
        raise DataError(two_valued_score_message(column, two))
    near = score_values_nearly_two(table, column, mapping.missing)
    if near is not None:
        raise DataError(nearly_two_valued_score_message(column, *near))
    return num.values, num.missing, num.bad


def score_values_if_two(
    table: LoadedTable, column: str, missing: Sequence[str]
) -> tuple[str, str] | None:
    """The two values of a score column that holds exactly two distinct numbers, else None.

    Read off the parsed numbers (remembered per column) with a min, a max and one comparison
    pass: no hashing, so a ten-million-row score column costs a few vectorised passes.
    Missing and unparseable cells are left out (they are excluded and counted elsewhere).
    """
    values = column_numbers(table, column, missing).values
    present = ~np.isnan(values)
    if not present.any():
        return None
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if low == high or not np.all((values == low) | (values == high) | ~present):
        return None
    return _fmt_num(low), _fmt_num(high)


#: A score column is a predicted class in disguise when every value is within this (times the
#: range, at least 1) of two values, or when at least NEAR_TWO_SHARE of them are.
NEAR_TWO_TOLERANCE = 1e-6
NEAR_TWO_SHARE = 0.999


def score_values_nearly_two(
    table: LoadedTable, column: str, missing: Sequence[str]
) -> tuple[str, str, int] | None:
    """(low, high, number of other values) when a score column is two values give or take a
    few: all within :data:`NEAR_TWO_TOLERANCE` of two values, or at least
    :data:`NEAR_TWO_SHARE` of them (a 0/1 column with one ``1e-9`` would otherwise pass as a
    score and get Brier, O/E and calibration). The two values are read off the 0.05 % and
    99.95 % order statistics (two O(n) partitions, no hashing)."""
    values = column_numbers(table, column, missing).values
    vals = values[np.isfinite(values)]
    n = int(vals.size)
    if n < 2:
        return None
    k = int(n * (1 - NEAR_TWO_SHARE) / 2)
    low = float(np.partition(vals, k)[k])
    high = float(np.partition(vals, n - 1 - k)[n - 1 - k])
    if low == high:
        return None
    tol = NEAR_TWO_TOLERANCE * max(1.0, float(np.max(vals) - np.min(vals)))
    near = (np.abs(vals - low) <= tol) | (np.abs(vals - high) <= tol)
    # the two values must be far apart compared with the tolerance (a real score is not)
    if high - low <= 2 * tol:
        return None
    near_count = int(near.sum())
    if near_count == n or near_count >= NEAR_TWO_SHARE * n:
        return _fmt_num(low), _fmt_num(high), n - near_count
    return None


def nearly_two_valued_score_message(column: str, low: str, high: str, others: int) -> str:
    """The one sentence that refuses a score column that is a predicted class give or take a
    few values (within 1e-6, or at least 99.9 % of the values)."""
    stray = f"; {others:,} other value{'s' if others != 1 else ''}" if others else ""
    return (
        f"The score column {column!r} holds essentially two values ({low} and {high}{stray}), "
        "so it is a predicted class, not a score, and Brier score, O/E ratio and calibration "
        "would be meaningless; map it as the predicted class (--prediction COLUMN "
        f"--prediction-positive {high}), after correcting any stray values in the file."
    )


def two_valued_score_message(column: str, values: tuple[str, str]) -> str:
    """The one sentence that refuses a two-valued column as a score (GUI and CLI alike)."""
    return (
        f"The score column {column!r} holds only two values ({values[0]} and {values[1]}), so it "
        "is a predicted class, not a score, and Brier score, O/E ratio and calibration would be "
        "meaningless; map it as the predicted class instead (--prediction COLUMN)."
    )


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
        raise DataError(THRESHOLD_NEEDED)


def _attribute(table: LoadedTable, column: str, mapping: ColumnMapping) -> Attribute:
    """Codes and sorted levels; missing values become the explicit "(missing)" level."""
    edges = mapping.bins.get(column)
    if edges is not None:
        _check_edges(edges, column)
        num = column_numbers(table, column, mapping.missing)
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
    coded = column_codes(table, column, mapping.missing)
    order = _natural_order(coded.texts, table.decimal)
    remap = np.empty(len(coded.texts) + 1, dtype=np.int64)
    remap[np.asarray(order, dtype=np.int64)] = np.arange(len(order))
    levels = [coded.texts[i] for i in order]
    has_missing = bool((coded.codes < 0).any())
    remap[-1] = len(levels)
    if has_missing:
        levels.append(MISSING_GROUP)
    codes = remap[coded.codes].astype(np.int32)
    _check_group_count(table, column, len(levels))
    return Attribute(column, codes, tuple(levels))


def _check_group_count(table: LoadedTable, column: str, groups: int) -> None:
    """Refuse an attribute with more groups than ``max_groups`` (an identifier, a free-text
    column) before any evaluation: each group costs intervals and resamples."""
    limit = table.limits.max_groups
    if groups > limit:
        raise LimitError(
            f"The sensitive attribute {column!r} has {groups:,} groups, over the limit of "
            f"{limit:,}; map a column of groups (or bin a numeric one), or if the groups are "
            f"genuine raise the limit with {LIMIT_OPTIONS['max_groups']}.",
            "max_groups",
            groups,
        )


def check_intersection_cells(
    attrs: Sequence[Attribute],
    intersections: Sequence[Sequence[str]],
    limit: int,
    how: str | None = None,
) -> None:
    """Refuse an intersection with more observed groups (cells) than ``limit``
    (``max_group_cells``) before any evaluation; ``how`` says how to raise the limit (default:
    the command-line option)."""
    how = how or f"raise the limit with {LIMIT_OPTIONS['max_group_cells']}"
    by_name = {a.name: a for a in attrs}
    for combo in intersections:
        parts = [by_name[c] for c in combo if c in by_name]
        if len(parts) < 2:
            continue
        combined = np.zeros(parts[0].codes.shape[0], dtype=np.int64)
        for a in parts:
            combined = _dense_codes(combined * (len(a.levels) + 1) + a.codes.astype(np.int64))
        cells = int(combined.max()) + 1 if combined.size else 0
        if cells > limit:
            names = " x ".join(repr(a.name) for a in parts)
            raise LimitError(
                f"The intersection {names} has {cells:,} groups, over the limit of {limit:,}; "
                f"intersect fewer or coarser attributes, or if the groups are genuine {how}.",
                "max_group_cells",
                cells,
            )


def _dense_codes(key: np.ndarray) -> np.ndarray:
    """``np.unique(key, return_inverse=True)[1]`` (int64): from a presence table over the keys'
    range when it is at most 4 slots per key (no sort of millions of keys), else by sorting."""
    if key.size == 0:
        return key
    low, high = int(key.min()), int(key.max())
    if high - low >= 4 * key.size:
        inverse: np.ndarray = np.unique(key, return_inverse=True)[1]
        return inverse.astype(np.int64).ravel()
    present = np.zeros(high - low + 1, dtype=bool)
    present[key - low] = True
    rank = np.cumsum(present, dtype=np.int64)
    rank -= 1
    codes: np.ndarray = rank[key - low]
    return codes


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


def _prediction(
    table: LoadedTable, column: str, mapping: ColumnMapping
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted class; without its own positive value(s) it borrows the outcome's when the
    prediction uses the outcome's vocabulary (e.g. both "<30"/">30"/"NO")."""
    positive = mapping.prediction_positive
    allow_absent = False
    if positive is None and mapping.positive is not None and mapping.label in table.columns:
        pred_texts = set(column_codes(table, column, mapping.missing).texts)
        label_texts = set(column_codes(table, mapping.label, mapping.missing).texts)
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
