"""Suggesting a mapping and a raw score's threshold (the GUI pre-fills its form with these).

Suggestions only: the user confirms or changes every one. A raw score's threshold is the model's
decision rule, so :func:`suggest_threshold` prefers the operating point the model card states and
otherwise proposes one from the data, saying which.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from assessment.errors import DataError
from assessment.evaluation.column_mapping import ColumnMapping
from assessment.evaluation.columns import (
    DEFAULT_MISSING,
    LoadedTable,
    _as_table,
    _code_column,
    _Coded,
    _fmt_num,
    _Numeric,
    _numeric_column,
    _resolve_column,
)
from assessment.evaluation.columns import numeric as column_numbers
from assessment.evaluation.mapping_steps import _as_number, _binary_column, _positive_indices

if TYPE_CHECKING:
    import pandas as pd

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
    column named like score/prob/risk with more than two values (probability if all in 0–1;
    a raw score gets no threshold). Prediction: a score-named column with exactly two numbers
    (0/1), else a two-valued column named like prediction. Attributes: names like race, sex,
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
    if score and _two_numbers(profiles[score][0].texts, table.decimal):
        # A 0/1 (or other two-valued) "score" is a predicted class: map it as one.
        mapping.prediction = score
    elif score:
        vals = profiles[score][1].values
        finite = vals[np.isfinite(vals)]
        in_unit = finite.size > 0 and float(finite.min()) >= 0.0 and float(finite.max()) <= 1.0
        mapping.score = score
        # A raw score gets no threshold: the model's operating point is the user's to give
        # (suggest_threshold offers one, the form asks for it to be accepted or changed).
        mapping.score_kind = "probability" if in_unit else "score"
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


def _two_numbers(texts: list[str], decimal: str) -> bool:
    """Do a column's distinct texts hold exactly two distinct numbers (and nothing else)?"""
    if len(texts) != 2:
        return False
    nums = {_as_number(t, decimal) for t in texts}
    return None not in nums and len(nums) == 2


# --------------------------------------------------------------------------------------------
# A raw score's threshold
# --------------------------------------------------------------------------------------------

# A number stated as the decision rule: "≥ 5", ">= 0.15", "threshold 7", "cut-off of 4",
# "operating point: 0.3", "score of 5 or above/higher/more".
_NUMBER = r"([-+]?\d+(?:[.,]\d+)?)"
_STATED = (
    re.compile(r"(?:≥|>=|=>|⩾|\bat least\b)\s*" + _NUMBER, re.I),
    re.compile(
        r"\b(?:threshold|cut[- ]?off|cut[- ]?point|operating point)s?\b[^0-9\n]{0,20}?" + _NUMBER,
        re.I,
    ),
    re.compile(_NUMBER + r"\s*(?:or|and)\s*(?:above|higher|more|greater)\b", re.I),
)


def stated_operating_point(text: str | None) -> float | None:
    """The one operating point a model card's "Decision thresholds" text states, else None.

    Reads a number written as the decision rule ("≥ 5", ">= 0.15", "threshold 7", "cut-off of
    4", "5 or above"). Several different numbers (two operating points) give None: which one
    this evaluation uses is then the user's choice, not a guess.
    """
    if not text:
        return None
    found: list[float] = []
    for pattern in _STATED:
        for m in pattern.finditer(text):
            v = float(m.group(1).replace(",", "."))
            if math.isfinite(v) and v not in found:
                found.append(v)
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class ThresholdSuggestion:
    """A proposed threshold and the sentence that says where it comes from."""

    value: float
    source: Literal["model card", "score distribution"]
    reason: str
    share_positive: float  # share of rows with a score that it predicts positive


def suggest_threshold(
    data: LoadedTable | pd.DataFrame, mapping: ColumnMapping, stated: str | None = None
) -> ThresholdSuggestion | None:
    """A threshold to propose for a raw score (None when the score column cannot be read).

    1. The model card's stated operating point (``stated``, its "Decision thresholds" text),
       when it states exactly one and it lies within the scores' range.
    2. Otherwise from the score distribution: the score value whose rule "score ≥ t" predicts
       a share of rows positive closest to the outcome's prevalence (so the model flags as
       many cases as there are events); the median when the outcome cannot be read.
    """
    table = _as_table(data)
    try:
        column = _resolve_column(table, mapping.score, "score")
        num = column_numbers(table, column, mapping.missing)
    except DataError:
        return None
    scores = num.values[np.isfinite(num.values)]
    if scores.size == 0:
        return None
    lo, hi = float(scores.min()), float(scores.max())
    values, counts = np.unique(scores, return_counts=True)
    share_ge = np.cumsum(counts[::-1])[::-1] / scores.size  # share with score >= values[i]
    point = stated_operating_point(stated)
    if point is not None and lo <= point <= hi:
        share = float(np.count_nonzero(scores >= point)) / scores.size
        return ThresholdSuggestion(
            point,
            "model card",
            f"Suggested {_fmt_num(point)}: the operating point the model card states "
            f"({_excerpt(stated or '')}); it predicts {share:.1%} of the rows positive. "
            "Accept it or enter the threshold this model is used with.",
            share,
        )
    outside = (
        f"The model card's operating point {_fmt_num(point)} lies outside the scores "
        f"({_fmt_num(lo)} to {_fmt_num(hi)}). "
        if point is not None
        else ""
    )
    prevalence = _prevalence(table, mapping)
    if prevalence is not None:
        i = int(np.argmin(np.abs(share_ge - prevalence)))
        value, share = float(values[i]), float(share_ge[i])
        how = (
            f"it predicts {share:.1%} of the rows positive, closest to the outcome's "
            f"prevalence ({prevalence:.1%})"
        )
    else:
        value = float(np.median(scores))
        share = float(np.count_nonzero(scores >= value)) / scores.size
        how = f"the median score; it predicts {share:.1%} of the rows positive"
    return ThresholdSuggestion(
        value,
        "score distribution",
        f"{outside}Suggested {_fmt_num(value)} from the score distribution ({how}); it is not "
        "the model's stated operating point: accept it or enter the threshold this model is "
        "used with.",
        share,
    )


def _prevalence(table: LoadedTable, mapping: ColumnMapping) -> float | None:
    """Share of rows with an outcome whose outcome is positive, or None if it cannot be read."""
    try:
        label = _resolve_column(table, mapping.label, "outcome")
        is_pos, is_missing = _binary_column(
            table,
            label,
            mapping.positive,
            mapping.missing,
            "outcome",
            "--positive",
            require_two=True,
        )
    except DataError:
        return None
    present = int((~is_missing).sum())
    return float(np.count_nonzero(is_pos & ~is_missing)) / present if present else None


def _excerpt(text: str, limit: int = 80) -> str:
    one_line = " ".join(text.split())
    return f"“{one_line[:limit]}…”" if len(one_line) > limit else f"“{one_line}”"
