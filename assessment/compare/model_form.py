"""The desktop app's per-model comparison settings: kind, operating point and suggestions.

The Comparison page's form holds one row per model (name, column, kind, threshold, flagged
value). Nothing is decided in the GUI: :func:`model_argv` turns the rows into the ``compare``
command line's own options (``--model``, ``--kind``, ``--threshold``,
``--prediction-positive``), which the CLI's parser and :func:`~assessment.compare.cli.
models_from_args` / :func:`~assessment.compare.sources.check_models` then check, exactly as on
the command line. :func:`suggest_model` proposes a kind from the column's values, with the same
rules as the Validation data page (:func:`assessment.evaluation.suggest.suggest_mapping`): a
column of exactly two values is a predicted class; numbers all within 0–1 a probability; other
numbers a raw score, which needs a threshold — one is proposed by
:func:`assessment.evaluation.suggest.suggest_threshold` (the share flagged closest to the
outcome's prevalence), stated as a suggestion to accept or change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assessment.catalogue import DATA_SUFFIXES
from assessment.compare.sources import MAX_MODELS, ModelKind, model_name_problem
from assessment.errors import DataError, ProbityError
from assessment.evaluation.column_mapping import ColumnMapping
from assessment.evaluation.columns import (
    DEFAULT_MISSING,
    LoadedTable,
    _code_column,
    _resolve_column,
)
from assessment.evaluation.columns import numeric as column_numbers
from assessment.evaluation.suggest import _two_numbers, suggest_threshold

KIND_LABELS: dict[str, str] = {
    "probability": "Probability (0–1)",
    "score": "Raw score (needs a threshold)",
    "class": "Predicted class",
}
ReadTable = Callable[[str], LoadedTable]
# rows of a column looked at for a suggestion (the data page's sample size)
SAMPLE_ROWS = 20000


@dataclass(frozen=True)
class FormModel:
    """One row of the form, as typed (texts stripped by :func:`model_argv`)."""

    name: str
    column: str  # COL (a column of the data file) or FILE:COL
    kind: str = "probability"
    threshold: str = ""
    positive: str = ""  # for a predicted class: the value meaning "flagged"


def _threshold(name: str, kind: str, text: str) -> None:
    """Refuse a threshold that is no finite number (or, for a probability, not within 0–1)
    in the form's words."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataError(
            f"Model {name!r}: the Threshold {text!r} is not a number; enter the vendor's "
            "operating point as a number (e.g. 0.15)."
        )
    if kind == "probability" and not 0.0 <= value <= 1.0:
        raise DataError(
            f"Model {name!r} gives a probability, so its Threshold must be between 0 and 1, "
            f"not {text}; correct it, or choose the kind Raw score."
        )


def _own_file(column: str) -> str | None:
    """The FILE of a ``FILE:COL`` cell (None: a column of the data file)."""
    head, colon, _col = column.rpartition(":")
    return head if colon and head.lower().endswith(DATA_SUFFIXES) else None


def check_model_columns(models: list[tuple[str, str, str | None]],
                        roles: dict[str, str]) -> None:
    """Refuse a model (name, column, file) reading a column of the data file that ``roles``
    (see :func:`column_roles`) gives another role: the outcome, a group, the patient or the key
    column is no prediction. The CLI and the form apply it alike."""
    for name, column, file in models:
        if file is None and column in roles:
            raise DataError(
                f"Model {name!r} reads the column {column!r}, which is {roles[column]}, not a "
                "prediction; give the model's own column."
            )


def model_argv(rows: list[FormModel], key: str = "",
               roles: dict[str, str] | None = None) -> list[str]:
    """The ``compare`` options of the rows (blank rows skipped), for the CLI's parser, each
    as ``--option=VALUE`` (a value starting with "-" stays a value).

    Everything the CLI would refuse about the models is refused here first, in the form's
    words (a row without a name or column, a name the CLI cannot take or two names that differ
    only in case, a raw score without a threshold, a threshold that is no number, a model from
    its own file without the key column ``key`` that joins it, a column with one of the
    ``roles`` of :func:`check_model_columns`); the CLI's checks then run again on the options
    (:func:`assessment.compare.cli.models_from_args`). ``key`` becomes ``--key``.
    """
    argv: list[str] = []
    seen: dict[str, str] = {}
    own_files: list[str] = []
    for r in rows:
        name, column = r.name.strip(), r.column.strip()
        if not name and not column:
            continue
        if not name or not column:
            raise DataError(
                f"The model row {name or column!r} needs both a name and a column: fill in "
                "the other cell or remove the row."
            )
        problem = model_name_problem(name)  # the CLI's rule
        if problem is not None:
            raise DataError(f"The model name {name[:40]!r} {problem}; rename the model.")
        if name.casefold() in seen:
            raise DataError(
                f"Two models are named {seen[name.casefold()]!r} and {name!r}, which differ "
                "only in capitals; give every model a name of its own."
            )
        seen[name.casefold()] = name
        if r.kind not in KIND_LABELS:
            raise DataError(f"Model {name!r}: choose its Kind in the table.")
        own_file = _own_file(column)
        if own_file is not None:
            own_files.append(name)
            if not column.rpartition(":")[2].strip():
                raise DataError(f"Model {name!r}: name the column of {own_file} after the colon "
                                f"(e.g. {own_file}:score).")
        check_model_columns([(name, column, own_file)], roles or {})
        argv += [f"--model={name}={column}", f"--kind={name}={r.kind}"]
        threshold, positive = r.threshold.strip(), r.positive.strip()
        if r.kind == "score" and not threshold:
            raise DataError(
                f"Model {name!r} gives a raw score: enter its operating point in the Threshold "
                "column (a case is flagged when score ≥ threshold) or accept the suggestion."
            )
        if threshold and r.kind != "class":
            _threshold(name, r.kind, threshold)
            argv += [f"--threshold={name}={threshold}"]
        if positive and r.kind == "class":
            argv += [f"--prediction-positive={name}={positive}"]
    if len(seen) == 1:
        raise DataError("A comparison needs at least two models: fill in a second row of the "
                        "table (a name and a column).")
    if len(seen) > MAX_MODELS:
        raise DataError(f"A comparison takes at most {MAX_MODELS} models, not {len(seen)}: "
                        "remove some rows of the table.")
    if own_files and not key.strip():
        raise DataError(
            f"Model {own_files[0]!r} comes from its own file: enter the Key column, the "
            "patient identifier that file and the data file share, so its rows can be "
            "matched to the data file's."
        )
    if key.strip():
        argv += [f"--key={key.strip()}"]
    return argv


# The command line's options a comparison's messages name, and what the form calls them.
_FORM_WORDS: tuple[tuple[str, str], ...] = (
    (r'give --kind "([^"]+)"=score with --threshold "[^"]+"=T',
     r"choose the kind Raw score for \1 and enter its Threshold"),
    (r'--kind "([^"]+)"=class', r"the kind Predicted class for \1"),
    (r'--kind "([^"]+)"=score', r"the kind Raw score for \1"),
    (r'--kind "([^"]+)"=probability', r"the kind Probability for \1"),
    (r'--threshold "([^"]+)"=T', r"a Threshold for \1"),
    (r"\(--prediction-positive VALUE\)", "(enter it in the Flagged value column)"),
    (r"\(--prediction-positive ([^)\s]+)\)", r"(Flagged value \1)"),
    (r"\(--positive VALUE\)", "(enter it in the Event value field)"),
    (r" with --max-[a-z-]+ \(in the app: Raise limit and read again\)", ""),
    (r" with --max-[a-z-]+", ""),  # the page offers to raise the limit
    (r"with --key\b", "in the Key column"),
    (r"--key\b", "the Key column"),
    (r"drop --threshold for it", "leave its Threshold empty"),
)


def in_form_words(message: str) -> str:
    """``message`` (a comparison's refusal, worded for the command line) with the options the
    form has fields for named as the form names them (``--kind "B"=class`` → "the kind
    Predicted class for B", ``--key`` → "the Key column"); other text unchanged."""
    for pattern, replacement in _FORM_WORDS:
        message = re.sub(pattern, replacement, message)
    return message


def form_error(exc: ProbityError) -> ProbityError:
    """``exc`` itself, its message put :func:`in_form_words` (for the app's error funnel)."""
    exc.message = in_form_words(exc.message)
    exc.args = (exc.message,)
    return exc


@dataclass(frozen=True)
class KindSuggestion:
    """A proposed kind (None: the column is no prediction) and threshold, and why."""

    kind: ModelKind | None
    threshold: float | None
    sentence: str


def suggest_model(table: LoadedTable, column: str, label: str | None) -> KindSuggestion:
    """The kind (and a raw score's threshold) the column's values suggest; see the module."""
    col = _resolve_column(table, column, "model")
    sample = table.frame[col].iloc[:SAMPLE_ROWS]
    texts = _code_column(sample, DEFAULT_MISSING).texts
    if len(texts) == 2:
        values = " and ".join(sorted(texts))
        what = "two numbers" if _two_numbers(list(texts), table.decimal) else "two values"
        return KindSuggestion("class", None, f"{column}: {what} ({values}), so a predicted "
                              "class (no threshold).")
    num = column_numbers(table, col, DEFAULT_MISSING)
    present = ~num.missing
    if int(present.sum()) == 0 or bool(num.bad[present].any()):
        return KindSuggestion(None, None, f"{column}: not all values are numbers and there are "
                              f"{len(texts)} distinct ones, so it is no prediction column.")
    values = num.values[present & np.isfinite(num.values)]
    if values.size and float(values.min()) >= 0.0 and float(values.max()) <= 1.0:
        return KindSuggestion("probability", None, f"{column}: numbers within 0–1, so a "
                              "probability (threshold 0.5 unless the vendor states another).")
    suggestion = suggest_threshold(table, ColumnMapping(label=label or "", score=col,
                                                        score_kind="score"))
    if suggestion is None:
        return KindSuggestion("score", None, f"{column}: numbers outside 0–1, so a raw score; "
                              "enter its operating point.")
    return KindSuggestion("score", suggestion.value,
                          f"{column}: numbers outside 0–1, so a raw score. {suggestion.reason}")


def column_roles(label: str, groups: str, cluster: str, key: str) -> dict[str, str]:
    """The data file's columns the form already gives another role (column → role), which
    are no model's prediction: the outcome, the group columns (comma-separated), the patient
    column and the key column."""
    roles = {g.strip(): "a group column" for g in groups.split(",") if g.strip()}
    for column, role in ((key, "the key column"), (cluster, "the patient column"),
                         (label, "the outcome column")):
        if column.strip():
            roles[column.strip()] = role
    return roles


def suggest_models(
    data: str, label: str | None, rows: list[FormModel], read: ReadTable,
    roles: dict[str, str] | None = None,
) -> dict[int, KindSuggestion]:
    """:func:`suggest_model` for every filled row (row index → suggestion); ``read(path)``
    reads a table (the data file, or a vendor's ``FILE`` of ``FILE:COL``). A column that cannot
    be read, or a column of the data file that ``roles`` (see :func:`column_roles`; the
    outcome is always one) gives another role, gets a suggestion with no kind whose sentence
    says why."""
    from assessment.compare.sources import parse_model

    taken = dict(roles or {})
    if label:
        taken[label] = "the outcome column"
    tables: dict[str, LoadedTable] = {}
    out: dict[int, KindSuggestion] = {}
    for i, r in enumerate(rows):
        if not r.column.strip():
            continue
        try:
            _name, column, file = parse_model(f"model={r.column.strip()}")  # names: on Run
            if file is None and column in taken:
                out[i] = KindSuggestion(None, None, f"{column}: {taken[column]}, not a model's "
                                        "prediction; give the model's own column.")
                continue
            path = file or data
            if path not in tables:
                tables[path] = read(path)
            out[i] = suggest_model(tables[path], column, label if file is None else None)
        except ProbityError as exc:
            out[i] = KindSuggestion(None, None, f"{r.column.strip()}: {in_form_words(str(exc))}")
    return out
