"""The :class:`ColumnMapping` (which columns mean what), its JSON form and its small parsers.

Plain data: applying a mapping to a table is :mod:`assessment.evaluation.mapping`'s, reading a
table's columns is :mod:`assessment.evaluation.columns`'.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from assessment.errors import DataError
from assessment.evaluation.columns import DEFAULT_MISSING, _fmt_num
from assessment.evaluation.inputs import ScoreKind

MAPPING_SCHEMA = "probity-mapping/1"
Severity = Literal["error", "warning", "info"]
# One positive value ("<30") or several (["Medium", "High"] = COMPAS "higher risk").
Positive = str | list[str] | None


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


def positive_values(positive: Positive) -> list[str] | None:
    """The positive value(s) as a list ("<30" -> ["<30"]); None = decide from the values."""
    if positive is None:
        return None
    if isinstance(positive, str):
        return [positive]
    return [str(p) for p in positive] or None
