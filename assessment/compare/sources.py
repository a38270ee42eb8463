"""Which model is which column, the join of per-vendor files on a patient key, and the rows
every model can be judged on.

A comparison is paired: every model must be judged on exactly the same patients. The vendors'
predictions come either as several columns of the validation file or as one file per vendor
joined on a key column (one row per patient in every file: a duplicate key is refused, never
guessed). A row is compared only when every model has a usable prediction for it; the rows left
out, per model, are counted in the join diagnostics. Each model's engine input is then built by
the ordinary mapping (:func:`assessment.evaluation.mapping.prepare_input`) from the same rows,
so outcome and group exclusions are the same for every model by construction, and checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from assessment.catalogue import DATA_SUFFIXES
from assessment.errors import DataError, ProbityError

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from assessment.evaluation.inputs import EvaluationInput
    from assessment.evaluation.mapping import ColumnMapping, LoadedTable

ModelKind = Literal["probability", "score", "class"]
MODEL_KINDS: tuple[str, ...] = ("probability", "score", "class")
# Names the decision curves use for the reference strategies: no vendor may take them.
RESERVED_NAMES: tuple[str, ...] = ("treat all", "treat none")
MAX_MODELS = 12
MAX_NAME_CHARS = 60  # a model's name heads table columns and figure legends
# a vendor file matching fewer than this share of the validation rows gets a warning
MIN_MATCH_SHARE = 0.9
# the aligned table's column of model i (a control character: no file's column is named so)
INTERNAL_PREFIX = "\x1fmodel"


@dataclass(frozen=True)
class ModelSource:
    """One vendor's model: where its predictions are and how to read them.

    ``file`` is None when ``column`` is a column of the validation file itself. ``threshold``
    is the vendor's stated operating point (a case is flagged when score ≥ threshold); a
    probability model without one uses 0.5, a raw score needs one, a predicted class has none
    (``positive`` then names the predicted value(s) meaning "flagged").
    """

    name: str
    column: str
    file: str | None = None
    kind: ModelKind = "probability"
    threshold: float | None = None
    positive: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "column": self.column,
            "file": self.file,
            "kind": self.kind,
            "threshold": self.threshold,
            "positive": list(self.positive),
        }


def model_name_problem(name: str) -> str | None:
    """Why ``name`` (stripped) cannot name a model, as a phrase ("contains '='"); None if it
    can. The form of the desktop app applies the same rule."""
    if "=" in name:
        return "contains '=', which separates a model's name from its column"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "contains a line break or another control character"
    if len(name) > MAX_NAME_CHARS:
        return (f"has {len(name):,} characters, more than the {MAX_NAME_CHARS} a name may have "
                "(it heads every table and figure)")
    if name.lower() in RESERVED_NAMES:
        return "is the name of a reference strategy in the decision curves"
    return None


def parse_model(text: str) -> tuple[str, str, str | None]:
    """``NAME=COL`` or ``NAME=FILE:COL`` (FILE ends in a data suffix) -> (name, column, file)."""
    name, sep, rest = text.partition("=")
    name, rest = name.strip(), rest.strip()
    if not sep or not name or not rest:
        raise DataError(
            f'--model takes NAME=COLUMN or NAME=FILE:COLUMN (e.g. "Vendor A"=score_a), '
            f"not {text!r}."
        )
    if len(name) > MAX_NAME_CHARS:
        raise DataError(
            f"--model: the model name {name[:30]!r}… has {len(name):,} characters; give a name "
            f"of at most {MAX_NAME_CHARS} characters (it heads every table and figure)."
        )
    if name.lower() in RESERVED_NAMES:
        raise DataError(
            f"--model {text}: {name!r} is the name of a reference strategy in the decision "
            "curves; give the model another name."
        )
    problem = model_name_problem(name)
    if problem is not None:
        raise DataError(f"--model: the model name {name[:40]!r} {problem}; give another name.")
    head, colon, col = rest.rpartition(":")
    if colon and head.lower().endswith(DATA_SUFFIXES):
        if not col.strip():
            raise DataError(f"--model {text}: name the column after {head}: (e.g. {head}:score).")
        return name, col.strip(), head
    return name, rest, None


def check_models(models: list[ModelSource]) -> None:
    """Refuse too few, too many or duplicate names, and kinds without what they need."""
    if len(models) < 2:
        raise DataError(
            "A comparison needs at least two models: give --model twice or more "
            '(e.g. --model "Vendor A"=score_a --model "Vendor B"=score_b).'
        )
    if len(models) > MAX_MODELS:
        raise DataError(f"A comparison takes at most {MAX_MODELS} models, not {len(models)}.")
    seen: dict[str, str] = {}
    for m in models:
        if m.name in seen.values():
            raise DataError(f"Two models are named {m.name!r}; give every model its own name.")
        if m.name.casefold() in seen:
            raise DataError(f"Two models are named {seen[m.name.casefold()]!r} and {m.name!r}, "
                            "which differ only in capitals; give every model its own name.")
        seen[m.name.casefold()] = m.name
        if m.kind not in MODEL_KINDS:
            raise DataError(
                f"Model {m.name!r}: unknown kind {m.kind!r}; use one of " + ", ".join(MODEL_KINDS)
            )
        if m.kind == "score" and m.threshold is None:
            raise DataError(
                f"Model {m.name!r} gives a raw score: state its operating point with "
                f"--threshold \"{m.name}\"=T (a case is flagged when score ≥ T)."
            )
        if m.kind == "class" and m.threshold is not None:
            raise DataError(
                f"Model {m.name!r} gives a predicted class, which has no threshold; drop "
                f"--threshold for it."
            )


@dataclass(frozen=True)
class JoinRow:
    """Join diagnostics of one file: rows, rows matched to the validation file, rows not."""

    file: str
    role: Literal["data", "model"]
    models: tuple[str, ...]
    rows: int
    matched: int
    unmatched: int
    duplicate_keys: int = 0
    missing_keys: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "role": self.role,
            "models": list(self.models),
            "rows": self.rows,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "duplicate_keys": self.duplicate_keys,
            "missing_keys": self.missing_keys,
        }


@dataclass(frozen=True)
class Aligned:
    """The validation table with one internal column per model, restricted to compared rows."""

    table: LoadedTable
    columns: dict[str, str]  # model name -> column of ``table``
    join: tuple[JoinRow, ...]
    rows_read: int
    # rows of the validation file left out because a model has no usable prediction for them,
    # counted under the first model (in --model order) that lacks one
    excluded: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # e.g. a vendor file that matches few of the rows
    # position in the validation file of each compared row (error messages name file rows)
    kept: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))


def _missing_tokens(mapping: ColumnMapping) -> set[str]:
    return {str(t).strip().lower() for t in mapping.missing} | {"", "nan", "none", "<na>"}


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("").str.strip()


def keys_as_written(table: LoadedTable, path: str | Path, key: str | None) -> LoadedTable:
    """``table`` with its key column as the text written in the file (spaces around stripped).

    The reader infers types, which would make "00001" the number 1 (and match "1") and turn a
    column with a blank into floats ("1.0"); keys are compared as text exactly as written, so
    a delimited file's key column is read again as text. A typed cell of a spreadsheet or
    Parquet file is written as its number ("1" for a whole number).
    """
    import pandas as pd

    if key is None or key not in table.frame.columns:
        return table
    frame = table.frame.copy()
    column = frame[key]
    if table.format in ("csv", "tsv"):
        try:
            text = pd.read_csv(
                path, sep=table.delimiter, encoding=table.encoding,
                usecols=[list(frame.columns).index(key)], dtype=str, keep_default_na=False,
                na_filter=False, low_memory=False, index_col=False,
            ).iloc[:, 0]
        except (OSError, ValueError, pd.errors.ParserError):
            text = None
        if text is not None and len(text) == len(frame):
            frame[key] = text.to_numpy()
            return replace(table, frame=frame)
    if pd.api.types.is_float_dtype(column.dtype):
        whole = column.notna() & (column == np.floor(column.fillna(0)))
        frame[key] = column.astype(object).where(
            ~whole, column.fillna(0).astype(np.int64).astype(str)
        )
    return replace(table, frame=frame)


def _keys(table: LoadedTable, key: str, mapping: ColumnMapping) -> tuple[pd.Series, np.ndarray]:
    if key not in table.frame.columns:
        raise DataError(
            f"{table.file_name} has no key column {key!r}; its columns are "
            + ", ".join(repr(c) for c in table.columns[:20])
            + ("…" if len(table.columns) > 20 else "")
            + "; name the patient key every file shares with --key."
        )
    keys = _text(table.frame[key])
    missing = keys.str.lower().isin(_missing_tokens(mapping)).to_numpy()
    present = keys[~missing]
    dup = present[present.duplicated(keep=False)]
    if len(dup):
        first = str(dup.iloc[0])
        n_values = int(dup.nunique())
        raise DataError(
            f"{table.file_name}: the key column {key!r} has {n_values:,} value"
            f"{'s' if n_values != 1 else ''} that occur more than once (first: {first!r}); each "
            "patient must appear once in every file, so remove the duplicate rows or choose a "
            "key that identifies one patient."
        )
    return keys, missing


def _example(keys: pd.Series) -> str:
    """The first non-empty key, quoted (or "no key" when there is none)."""
    present = keys[keys.astype(str) != ""]
    return repr(str(present.iloc[0])) if len(present) else "no key"


def _numbers(series: pd.Series, decimal: str, tokens: set[str]) -> np.ndarray:
    """The column as float64: NaN for a missing token, an empty cell or text that is no
    number (``decimal`` is the file's decimal separator)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    ):
        out: np.ndarray = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
        return out
    text = _text(series)
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    text = text.where(~text.str.lower().isin(tokens), "")
    values: np.ndarray = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    return values


def _usable(series: pd.Series, kind: str, decimal: str, tokens: set[str]) -> np.ndarray:
    """Rows whose prediction the mapping will accept (present and, for scores, numeric)."""
    if kind == "class":
        text = _text(series)
        out: np.ndarray = (~text.str.lower().isin(tokens)).to_numpy()
        return out
    # ±infinity is a number (out of range), not a missing cell: it is kept, so the mapping
    # refuses it in one sentence as evaluate does, instead of dropping the row quietly
    present: np.ndarray = ~np.isnan(_numbers(series, decimal, tokens))
    return present


def _column(table: LoadedTable, column: str, model: str) -> pd.Series:
    if column not in table.frame.columns:
        raise DataError(
            f"Model {model!r}: {table.file_name} has no column {column!r}; its columns are "
            + ", ".join(repr(c) for c in table.columns[:20])
            + ("…" if len(table.columns) > 20 else "")
            + "."
        )
    return table.frame[column]


def align(
    data: LoadedTable,
    models: list[ModelSource],
    model_tables: dict[str, LoadedTable],
    mapping: ColumnMapping,
    key: str | None = None,
) -> Aligned:
    """Join every model's predictions onto ``data`` and keep the rows every model can judge.

    ``model_tables`` maps a model's ``file`` to its table. Without ``key``, per-vendor files
    are refused (rows of different files cannot be matched by position safely).
    """
    import pandas as pd

    check_models(models)
    tokens = _missing_tokens(mapping)
    frame = data.frame
    n = int(frame.shape[0])
    data_keys: pd.Series | None = None
    join: list[JoinRow] = []
    data_missing_keys = 0
    if key is not None:
        data_keys, miss = _keys(data, key, mapping)
        data_missing_keys = int(miss.sum())
        data_keys = data_keys.where(~miss, None)
    columns: dict[str, pd.Series] = {}
    warnings: list[str] = []
    by_file: dict[str, list[ModelSource]] = {}
    for m in models:
        if m.file is None:
            columns[m.name] = _column(data, m.column, m.name)
        else:
            by_file.setdefault(m.file, []).append(m)
    for path, ms in by_file.items():
        table = model_tables[path]
        if data_keys is None:
            raise DataError(
                f"Model {ms[0].name!r} comes from its own file ({table.file_name}): name the "
                "patient key column both files share with --key (e.g. --key encounter_id)."
            )
        assert key is not None
        keys, miss = _keys(table, key, mapping)
        index = pd.Index(keys[~miss])
        pos = index.get_indexer(data_keys.fillna("\x00\x00missing"))
        hit = pos >= 0
        matched = int(hit.sum())
        join.append(
            JoinRow(
                file=table.file_name,
                role="model",
                models=tuple(m.name for m in ms),
                rows=int(table.frame.shape[0]),
                matched=matched,
                unmatched=int(table.frame.shape[0]) - matched,
                missing_keys=int(miss.sum()),
            )
        )
        if matched == 0:
            raise DataError(
                f"No row of {table.file_name} matches a row of {data.file_name} on {key!r} "
                f"(e.g. {_example(keys[~miss])} vs {_example(data_keys.dropna())}; keys are "
                "compared as text exactly as written); check that both files use the same "
                "patient key."
            )
        if matched < MIN_MATCH_SHARE * n:
            warnings.append(
                f"Only {matched:,} of the {n:,} rows of {data.file_name} ({100 * matched / n:.0f}"
                f"%) have a row in {table.file_name} on {key!r}: the comparison covers only "
                "those patients; check that the vendor scored the whole validation set."
            )
        for m in ms:
            col = _column(table, m.column, m.name)[~miss].reset_index(drop=True)
            taken = col.iloc[np.where(hit, pos, 0)].reset_index(drop=True)
            if m.kind == "class":
                columns[m.name] = taken.where(pd.Series(hit), None)
            else:  # numbers read with the vendor file's own decimal separator
                values = _numbers(taken, table.decimal, tokens)
                columns[m.name] = pd.Series(np.where(hit, values, np.nan))
    keep = np.ones(n, dtype=bool)
    excluded: dict[str, int] = {}
    for m in models:
        col = columns[m.name]
        ok = _usable(col.reset_index(drop=True), m.kind, data.decimal, tokens)
        lost = int((keep & ~ok).sum())
        if lost:
            excluded[f"no usable prediction from {m.name}"] = lost
        keep &= ok
    used = int(keep.sum())
    join.insert(
        0,
        JoinRow(
            file=data.file_name,
            role="data",
            models=tuple(m.name for m in models if m.file is None),
            rows=n,
            matched=used,
            unmatched=n - used,
            missing_keys=data_missing_keys,
        ),
    )
    if used == 0:
        detail = "; ".join(f"{v:,} with {k}" for k, v in excluded.items())
        raise DataError(
            f"No row of {data.file_name} has a usable prediction from every model ({detail}); "
            "a paired comparison needs the same patients for all models."
        )
    internal = {m.name: f"{INTERNAL_PREFIX}{i}" for i, m in enumerate(models)}
    new = frame.loc[keep].reset_index(drop=True).copy()
    for m in models:
        new[internal[m.name]] = columns[m.name].reset_index(drop=True)[keep].reset_index(
            drop=True
        )
    table2 = replace(data, frame=new, rows_read=used, duplicates={})
    return Aligned(
        table=table2, columns=internal, join=tuple(join), rows_read=n, excluded=excluded,
        warnings=tuple(warnings), kept=np.flatnonzero(keep),
    )


def _file_rows(text: str, aligned: Aligned, model: ModelSource) -> str:
    """``text`` with "row N" of the compared rows as the validation file's row (a spreadsheet
    row: header 1); for a vendor file, the row of the validation file it was matched to."""
    import re

    if not aligned.kept.size:
        return text
    where = f" of {aligned.join[0].file}" if model.file else ""

    def to_file(match: re.Match[str]) -> str:
        i = int(match.group(1)) - 2
        if not 0 <= i < aligned.kept.size:
            return match.group(0)
        return f"row {int(aligned.kept[i]) + 2}{where}"

    return re.sub(r"\brow (\d+)", to_file, text)


def _public(text: str, aligned: Aligned, models: list[ModelSource]) -> str:
    """``text`` without the internal model columns: dropped from a list of the table's
    columns, any other mention replaced by the model's own column."""
    for m in models:
        internal = aligned.columns[m.name]
        text = text.replace(f", {internal}", "").replace(f", {internal!r}", "")
        text = text.replace(internal, m.column)
    return text


def _with_column(inp: EvaluationInput, model: ModelSource) -> EvaluationInput:
    """The input with its provenance naming the vendor's column, not the internal one."""
    mapping = dict(inp.provenance.mapping)
    for key in ("score", "prediction"):
        if isinstance(mapping.get(key), str) and mapping[key].startswith(INTERNAL_PREFIX):
            mapping[key] = model.column
    return replace(inp, provenance=replace(inp.provenance, mapping=mapping))


def model_mapping(base: ColumnMapping, model: ModelSource, column: str) -> ColumnMapping:
    """The engine mapping of one model: ``base`` (outcome, groups, bins, missing tokens,
    cluster) with this model's prediction column and operating point."""
    if model.kind == "class":
        return replace(
            base,
            score=None,
            prediction=column,
            prediction_positive=list(model.positive) or None,
            threshold=None,
        )
    return replace(
        base,
        score=column,
        score_kind=model.kind,
        prediction=None,
        prediction_positive=None,
        threshold=model.threshold,
    )


def model_inputs(
    aligned: Aligned, models: list[ModelSource], base: ColumnMapping
) -> list[EvaluationInput]:
    """One engine input per model, all on the same rows (checked: a model whose mapping drops
    a row another keeps would break the pairing, and is refused with the reason)."""
    # _prepare is prepare_input without forgetting the table's column analyses after each
    # model: the outcome and the attributes are factorised once for all models, not per model
    from assessment.evaluation.columns import forget_analyses
    from assessment.evaluation.mapping import _prepare

    try:
        return _model_inputs(aligned, models, base, _prepare)
    finally:
        forget_analyses(aligned.table)


def _model_inputs(
    aligned: Aligned, models: list[ModelSource], base: ColumnMapping,
    prepare: Callable[[LoadedTable, ColumnMapping], EvaluationInput],
) -> list[EvaluationInput]:
    out = []
    for m in models:
        internal = aligned.columns[m.name]
        try:
            inp = prepare(aligned.table, model_mapping(base, m, internal))
        except ProbityError as exc:  # name the model and its real column, not the internal one
            where = f"{m.column!r}" + (f" of {Path(m.file).name}" if m.file else "")
            text = str(exc).replace(f"column {internal!r}", f"column {where} (model {m.name!r})")
            text = text.replace(repr(internal), f"{where} (model {m.name!r})")
            text = _file_rows(_public(text, aligned, models), aligned, m).replace(
                "(--prediction COLUMN)", f'(--kind "{m.name}"=class)').replace(
                "choose score kind 'score' with a threshold",
                f'give --kind "{m.name}"=score with --threshold "{m.name}"=T')
            exc.message, exc.args = text, (text,)
            raise
        out.append(_with_column(inp, m))
    first = out[0]
    for m, inp in zip(models[1:], out[1:], strict=True):
        if inp.n != first.n or not np.array_equal(inp.y_true, first.y_true):
            extra = {k: v for k, v in inp.provenance.excluded.items() if k != "missing outcome"}
            raise DataError(
                f"Model {m.name!r} leaves out rows the other models keep ({extra or 'rows'}); "
                "fix its predictions so every patient has a usable value."
            )
    return out


def patient_facts(
    aligned: Aligned, base: ColumnMapping, inputs: list[EvaluationInput]
) -> tuple[dict[str, Any] | None, list[str]]:
    """With a patient column (``--cluster``): ({column, patients, rows, missing_ids,
    most_rows}, warnings) of the compared rows; (None, []) without one.

    ``patients`` is the engine's count (a row with no patient id is a patient of its own);
    the warnings (:func:`~assessment.evaluation.patients.patient_column_warnings`, the rules
    ``evaluate --cluster`` applies too) name a doubtful patient column: missing ids, fewer
    than 20 distinct ids, or the outcome or a group column used as it.
    """
    from assessment.evaluation.columns import _resolve_column
    from assessment.evaluation.mapping_steps import _binary_column
    from assessment.evaluation.patients import patient_column_warnings

    first = inputs[0]
    if not base.cluster or first.cluster is None:
        return None, []
    table = aligned.table
    column = _resolve_column(table, base.cluster, "cluster")
    label = _resolve_column(table, base.label, "outcome")
    _pos, y_missing = _binary_column(table, label, base.positive, base.missing, "outcome",
                                     "--positive", require_two=True)
    keep = ~y_missing
    text = table.frame[column].astype("string").str.strip()
    no_id = (text.isna() | text.isin(list(base.missing))).to_numpy()
    missing: int | None = int((no_id & keep).sum()) if int(keep.sum()) == first.n else None
    present = text[keep & ~no_id] if missing is not None else text[~no_id]
    distinct = int(present.nunique())
    per_patient = np.bincount(first.cluster)
    facts = {"column": column, "patients": int(per_patient.size), "rows": first.n,
             "missing_ids": missing, "most_rows": int(per_patient.max(initial=0))}
    attributes = {_resolve_column(table, a, "attribute") for a in base.attributes}
    warnings = patient_column_warnings(
        column, rows=first.n, patients=int(per_patient.size), missing=missing, distinct=distinct,
        outcome=label, attributes=attributes,
    )  # fmt: skip
    return facts, warnings
