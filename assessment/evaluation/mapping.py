"""Column mapping: which columns of a user's table are outcome, score/prediction and attributes.

:func:`prepare_input` applies a :class:`ColumnMapping` to a :class:`LoadedTable` and returns
the engine's :class:`~assessment.evaluation.inputs.EvaluationInput`, counting every excluded
row by reason; :func:`check_mapping` lists every problem at once for the GUI's inline
messages; :func:`suggest_mapping` pre-fills the form from column names and contents and
:func:`suggest_threshold` proposes a raw score's threshold.

Everything a user can get wrong raises :class:`~assessment.errors.DataError` with one sentence
that names the file/column/row and says what to do. The work is split by concern:

- :mod:`assessment.evaluation.columns`: the table and its columns (distinct values, numbers),
  each analysis computed once per column and remembered;
- :mod:`assessment.evaluation.column_mapping`: the :class:`ColumnMapping` dataclass, its JSON
  form and the bin-edge parser;
- :mod:`assessment.evaluation.mapping_steps`: one role at a time (outcome, score, predicted
  class, attribute), each raising its DataError;
- :mod:`assessment.evaluation.suggest`: the suggested mapping and threshold;
- this module: the two entry points that run the steps, and the public names (importable from
  here, as before the split).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from assessment.errors import DataError
from assessment.evaluation.column_mapping import (
    MAPPING_SCHEMA,
    ColumnMapping,
    MappingIssue,
    Positive,
    Severity,
    band_labels,
    parse_bins,
    positive_values,
)
from assessment.evaluation.columns import (
    DEFAULT_MISSING,
    LoadedTable,
    _as_table,
    _resolve_column,
    distinct_values,
    duplicates_of,
    forget_analyses,
)
from assessment.evaluation.disparities import EXTREME_SELECTION
from assessment.evaluation.inputs import Attribute, EvaluationInput, ExcludedRows, Provenance
from assessment.evaluation.mapping_steps import (
    THRESHOLD_NEEDED,
    _attribute,
    _binary_column,
    _check_roles,
    _check_threshold,
    _prediction,
    _score_column,
    outcome_values_notes,
    score_values_if_two,
    two_valued_score_message,
)
from assessment.evaluation.patients import patient_column_warnings
from assessment.evaluation.suggest import (
    ThresholdSuggestion,
    stated_operating_point,
    suggest_mapping,
    suggest_threshold,
)

if TYPE_CHECKING:
    import pandas as pd

_T = TypeVar("_T")


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
        threshold = mapping.effective_threshold
        if len(issues) == n_before and scored is not None and threshold is not None:
            values, usable = scored[0], ~(scored[1] | scored[2])
            if mapping.score_kind == "score":
                # A raw score's threshold is the model's decision rule: say which rule applies.
                issues.append(
                    MappingIssue(
                        mapping.score,
                        f"Raw scores (not probabilities): a case counts as predicted positive "
                        f"when {mapping.score} ≥ {threshold:g}; calibration metrics need "
                        "probabilities.",
                        "info",
                    )
                )
            _warn_extreme(
                issues,
                mapping.score,
                values[usable] >= threshold,
                f"The decision rule {mapping.score} ≥ {threshold:g}",
            )
    elif roles_ok and mapping.prediction:
        pred_col = attempt(
            mapping.prediction, lambda: _resolve_column(table, mapping.prediction, "prediction")
        )
        if pred_col is not None:
            predicted = attempt(pred_col, lambda: _prediction(table, pred_col, mapping))
            if predicted is not None:
                _warn_extreme(
                    issues,
                    pred_col,
                    predicted[0][~predicted[1]],
                    f"The predicted class in {pred_col!r}",
                )
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


def _warn_extreme(
    issues: list[MappingIssue], column: str | None, predicted: np.ndarray, rule: str
) -> None:
    if predicted.size:
        message = extreme_selection_message(
            float(np.count_nonzero(predicted)) / predicted.size, rule
        )
        if message is not None:
            issues.append(MappingIssue(column, message, "warning"))


def _rows(k: int) -> str:
    return "1 row has" if k == 1 else f"{k:,} rows have"


def prepare_input(data: LoadedTable | pd.DataFrame, mapping: ColumnMapping) -> EvaluationInput:
    """Apply the mapping: validated arrays for the engine, excluded rows counted by reason.

    Exclusion reasons are tested in a fixed order and each row is counted once, under its
    first reason: missing outcome, missing score / missing prediction, unparseable score.
    A missing attribute value is never a reason: it becomes the "(missing)" group.

    The column analyses it used are released afterwards: the engine that runs next gets the
    memory back (a form's next check analyses its columns once again).
    """
    table = _as_table(data)
    try:
        return _prepare(table, mapping)
    finally:
        forget_analyses(table)


def _prepare(table: LoadedTable, mapping: ColumnMapping) -> EvaluationInput:
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
    warnings: list[str] = []
    if mapping.cluster:
        cluster_col = _resolve_column(table, mapping.cluster, "cluster")
        cluster, no_id, distinct = _cluster_codes(table, cluster_col, keep, mapping)
        warnings = patient_column_warnings(
            cluster_col, rows=int(keep.sum()), patients=distinct + no_id, missing=no_id,
            distinct=distinct, outcome=label, attributes={a.name for a in attrs},
            rows_word="used rows",
        )  # fmt: skip
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
        notes=(
            *(f"WARNING: {w}" for w in warnings),
            *outcome_values_notes(table, label, mapping.positive, mapping.missing),
        ),
    )
    return EvaluationInput(
        y_true=np.ascontiguousarray(y_true, dtype=bool),
        score=None if score is None else np.ascontiguousarray(score[keep], dtype=np.float64),
        y_pred=None if y_pred is None else np.ascontiguousarray(y_pred[keep], dtype=bool),
        score_kind=mapping.kind,
        attributes=attributes,
        provenance=provenance,
        cluster=cluster,
        excluded_rows=ExcludedRows.from_masks(attrs, reasons),  # fixG: per intersection cell
    )


def _cluster_codes(
    table: LoadedTable, column: str, keep: np.ndarray, mapping: ColumnMapping
) -> tuple[np.ndarray, int, int]:
    """Patient codes 0..C−1 of the kept rows (in the order patients first appear), the number
    of kept rows without an id and the number of distinct ids; each missing identifier is a
    patient of its own (as in ``compare``; the warnings say how many)."""
    import pandas as pd

    series = table.frame[column]
    if series.dtype.kind in "iu":  # integer ids: no text, no missing values but the tokens
        codes = _integer_cluster_codes(series.to_numpy()[keep], mapping.missing)
    else:
        text = series[keep].astype("string").str.strip()
        missing = text.isna() | text.isin(list(mapping.missing))
        codes, _ = pd.factorize(text.where(~missing))
        codes = np.asarray(codes, dtype=np.int64)
    lone = codes < 0
    distinct = int(codes.max(initial=-1)) + 1
    no_id = int(lone.sum())
    codes[lone] = distinct + np.arange(no_id)
    # int32 (4 bytes per row) unless there are over 2³¹ − 1 patients
    narrow = np.int32 if codes.size < np.iinfo(np.int32).max else np.int64
    return np.ascontiguousarray(codes, dtype=narrow), no_id, distinct


def _integer_cluster_codes(values: np.ndarray, tokens: Sequence[str]) -> np.ndarray:
    """The codes the text path gives integer ids (a number's text is its decimal form, one per
    number, so the same patients in the same order), factorised on the integers themselves
    instead of 10M strings; −1 for an id written as a missing-value token (e.g. "-1")."""
    import pandas as pd

    as_ints = {int(t) for t in tokens if t.lstrip("-").isdigit() and str(int(t)) == t}
    missing = np.isin(values, list(as_ints)) if as_ints else None
    if missing is None or not missing.any():
        codes, _ = pd.factorize(values)
        return np.asarray(codes, dtype=np.int64)
    out = np.full(values.size, -1, dtype=np.int64)
    out[~missing] = pd.factorize(values[~missing])[0]
    return out


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


def extreme_selection_message(share: float, rule: str) -> str | None:
    """A warning when ``rule`` predicts >= 99 % or <= 1 % of the rows positive, else None."""
    if EXTREME_SELECTION < share < 1 - EXTREME_SELECTION:
        return None
    what = "positive" if share >= 1 - EXTREME_SELECTION else "negative"
    return (
        f"{rule} predicts {share:.1%} of the rows positive, almost everyone {what}: TPR, FPR, "
        "PPV and selection-rate gaps would say little; check the threshold against the "
        "model's stated operating point."
    )


__all__ = [
    "DEFAULT_MISSING",
    "MAPPING_SCHEMA",
    "THRESHOLD_NEEDED",
    "ColumnMapping",
    "LoadedTable",
    "MappingIssue",
    "Positive",
    "Severity",
    "ThresholdSuggestion",
    "band_labels",
    "check_mapping",
    "distinct_values",
    "duplicates_of",
    "extreme_selection_message",
    "parse_bins",
    "positive_values",
    "prepare_input",
    "score_values_if_two",
    "stated_operating_point",
    "suggest_mapping",
    "suggest_threshold",
    "two_valued_score_message",
]
