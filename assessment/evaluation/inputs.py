"""The contract between data import (``assessment.evaluation.io``) and the metric engine.

Import turns a user's file plus a column mapping into an :class:`EvaluationInput`: clean,
validated NumPy arrays with every excluded row counted in the :class:`Provenance`.
The engine never sees a DataFrame and never has to re-validate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

MISSING_GROUP = "(missing)"
INTERSECTION_SEP = "×"

ScoreKind = Literal["probability", "score", "class"]


@dataclass(frozen=True)
class Attribute:
    """One sensitive attribute after mapping and binning.

    ``codes[i]`` indexes ``levels`` for row ``i`` (int32, no negatives: a missing value
    is its own level named :data:`MISSING_GROUP`).
    """

    name: str
    codes: np.ndarray
    levels: tuple[str, ...]


@dataclass(frozen=True)
class Provenance:
    """Where the numbers came from: printed in the report and stored in the result."""

    file_name: str
    sha256: str
    rows_read: int
    rows_used: int
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> row count
    mapping: dict[str, Any] = field(default_factory=dict)  # the ColumnMapping as JSON
    sheet: str | None = None
    # {attribute: {group: rows read}} and {attribute: {group: {reason: rows excluded}}}, counted
    # before exclusion, so a group that loses rows (or all of them) stays visible.
    rows_by_group: dict[str, dict[str, int]] = field(default_factory=dict)
    excluded_by_group: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    #: what the mapping decided that a reader must know, the first notes of the result: a
    #: doubtful patient column ("WARNING: …", :mod:`assessment.evaluation.patients`), outcome
    #: values counted as non-events
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"notes": list(self.notes)} if self.notes else {}
        return {
            "file_name": self.file_name,
            "sha256": self.sha256,
            "sheet": self.sheet,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_excluded": sum(self.excluded.values()),
            "excluded": dict(self.excluded),
            "mapping": dict(self.mapping),
            "rows_by_group": {a: dict(g) for a, g in self.rows_by_group.items()},
            "excluded_by_group": {
                a: {g: dict(r) for g, r in groups.items()}
                for a, groups in self.excluded_by_group.items()
            },
            **extra,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Provenance:
        return cls(
            file_name=str(d["file_name"]),
            sha256=str(d["sha256"]),
            rows_read=int(d["rows_read"]),
            rows_used=int(d["rows_used"]),
            excluded={str(k): int(v) for k, v in d.get("excluded", {}).items()},
            mapping=dict(d.get("mapping", {})),
            sheet=d.get("sheet"),
            rows_by_group={
                str(a): {str(g): int(k) for g, k in groups.items()}
                for a, groups in d.get("rows_by_group", {}).items()
            },
            excluded_by_group={
                str(a): {
                    str(g): {str(r): int(k) for r, k in reasons.items()}
                    for g, reasons in groups.items()
                }
                for a, groups in d.get("excluded_by_group", {}).items()
            },
            notes=tuple(str(w) for w in d.get("notes", [])),
        )


@dataclass(frozen=True)
class ExcludedRows:
    """The rows excluded before evaluation, each with its level of every attribute and its
    reason, so that exclusions can be counted per cell of an intersection chosen later
    (:func:`assessment.evaluation.missingness.with_intersections`).

    ``attributes[j].codes`` index the attribute's levels *before* exclusion (a level that lost
    every row keeps its name); ``reason[i]`` indexes ``reasons``. Memory: a few bytes per
    excluded row and attribute.
    """

    reasons: tuple[str, ...]
    reason: np.ndarray
    attributes: tuple[Attribute, ...]

    @classmethod
    def from_masks(
        cls, attrs: Sequence[Attribute], masks: Sequence[tuple[str, np.ndarray]]
    ) -> ExcludedRows:
        """From the attributes of every row read and one mask per reason (disjoint: each row
        under its first reason)."""
        n = int(np.asarray(attrs[0].codes).shape[0]) if attrs else 0
        reason = np.zeros(n, dtype=np.uint8)  # 1 byte per row read, freed on return
        for i in reversed(range(len(masks))):  # a row under its first reason
            reason[masks[i][1]] = i + 1
        lost = reason > 0
        return cls(
            reasons=tuple(name for name, _ in masks),
            reason=reason[lost] - 1,
            attributes=tuple(
                Attribute(name=a.name, codes=_narrow(np.asarray(a.codes)[lost], a.levels),
                          levels=a.levels)
                for a in attrs
            ),
        )


def _narrow(codes: np.ndarray, levels: tuple[str, ...]) -> np.ndarray:
    """1 byte per excluded row up to 256 levels, else 4."""
    return codes.astype(np.uint8 if len(levels) <= 256 else np.int32, copy=False)


@dataclass(frozen=True)
class EvaluationInput:
    """Validated arrays, one entry per used row.

    - ``y_true``: bool, True = the outcome's positive value.
    - ``score``: float64 when the model gives a score/probability (``score_kind`` is
      "probability" or "score"), else None.
    - ``y_pred``: bool predicted class when the mapping names a predicted-class column
      (``score_kind`` == "class"), else None (the engine derives it as score >= threshold).
    """

    y_true: np.ndarray
    score: np.ndarray | None
    y_pred: np.ndarray | None
    score_kind: ScoreKind
    attributes: tuple[Attribute, ...]
    provenance: Provenance
    # Patient (cluster) code per row, 0..C−1, when rows are clustered (several encounters of
    # one patient); None: every row is its own patient.
    cluster: np.ndarray | None = None
    # The excluded rows' attribute levels and reasons (None: not recorded, e.g. arrays built
    # by hand; intersections then have no exclusion counts).
    excluded_rows: ExcludedRows | None = None

    @property
    def n(self) -> int:
        return int(self.y_true.shape[0])

    def attribute(self, name: str) -> Attribute:
        for a in self.attributes:
            if a.name == name:
                return a
        known = ", ".join(a.name for a in self.attributes)
        raise KeyError(f"no attribute {name!r}; known attributes: {known}")
