"""The evaluation result: typed dataclasses with the "probity-evaluation/1" JSON shape.

Everyone downstream (CLI ``--json``, GUI tables, PDF report, the stored assessment) reads this
JSON, so ``to_json``/``from_json`` round-trip exactly. Numbers are plain floats; an undefined
value is ``None`` with a reason, never 0 and never NaN (JSON has no NaN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from assessment.errors import EvaluationError

SCHEMA = "probity-evaluation/1"
ENGINE_VERSION = "1.0.0"


def clean(x: Any) -> float | None:
    """A JSON-safe float: NaN/inf/None become None."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _opt(d: dict[str, Any], key: str) -> float | None:
    v = d.get(key)
    return None if v is None else float(v)


def _interval_json(x: MetricValue | Estimate | SummaryMeasure) -> dict[str, Any]:
    """The five interval keys every estimate carries, in the schema's order."""
    return {
        "value": x.value,
        "ci_low": x.ci_low,
        "ci_high": x.ci_high,
        "method": x.method,
        "reason": x.reason,
    }


def _interval_fields(d: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments for the five interval keys, read back from JSON."""
    return {
        "value": _opt(d, "value"),
        "ci_low": _opt(d, "ci_low"),
        "ci_high": _opt(d, "ci_high"),
        "method": str(d.get("method", "")),
        "reason": d.get("reason"),
    }


@dataclass(frozen=True)
class MetricValue:
    """One estimate with its interval; ``reason`` says why value or interval is missing."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    method: str = ""
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _interval_json(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MetricValue:
        return cls(**_interval_fields(d))


@dataclass(frozen=True)
class GroupResult:
    """All metrics of one group (an attribute level, an intersection cell, or everyone)."""

    attribute: str
    group: str
    n: int
    n_pos: int
    n_neg: int
    flags: tuple[str, ...]
    flag_reasons: tuple[str, ...]
    metrics: dict[str, MetricValue]
    curves: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)

    def metric(self, metric_id: str) -> MetricValue:
        """One metric of this group (KeyError for an id outside METRIC_IDS)."""
        return self.metrics[metric_id]

    def to_json(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "group": self.group,
            "n": self.n,
            "n_pos": self.n_pos,
            "n_neg": self.n_neg,
            "flags": list(self.flags),
            "flag_reasons": list(self.flag_reasons),
            "metrics": {k: v.to_json() for k, v in self.metrics.items()},
            "curves": {k: {kk: list(vv) for kk, vv in v.items()} for k, v in self.curves.items()},
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> GroupResult:
        return cls(
            attribute=str(d["attribute"]),
            group=str(d["group"]),
            n=int(d["n"]),
            n_pos=int(d["n_pos"]),
            n_neg=int(d["n_neg"]),
            flags=tuple(d.get("flags", [])),
            flag_reasons=tuple(d.get("flag_reasons", [])),
            metrics={k: MetricValue.from_json(v) for k, v in d.get("metrics", {}).items()},
            curves={
                k: {kk: [clean(x) for x in vv] for kk, vv in v.items()}
                for k, v in d.get("curves", {}).items()
            },
        )


@dataclass(frozen=True)
class Estimate:
    """A difference or ratio with its interval and the interval's method."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    method: str
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _interval_json(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Estimate:
        return cls(**_interval_fields(d))


@dataclass(frozen=True)
class Disparity:
    """One group compared with its attribute's reference group on one metric."""

    attribute: str
    group: str
    reference: str
    metric: str
    difference: Estimate
    ratio: Estimate
    flagged: bool
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "group": self.group,
            "reference": self.reference,
            "metric": self.metric,
            "difference": self.difference.to_json(),
            "ratio": self.ratio.to_json(),
            "flagged": self.flagged,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Disparity:
        return cls(
            attribute=str(d["attribute"]),
            group=str(d["group"]),
            reference=str(d["reference"]),
            metric=str(d["metric"]),
            difference=Estimate.from_json(d["difference"]),
            ratio=Estimate.from_json(d["ratio"]),
            flagged=bool(d["flagged"]),
            reason=d.get("reason"),
        )


@dataclass(frozen=True)
class SummaryMeasure:
    """A one-number summary of an attribute's disparities (e.g. equalized-odds difference)."""

    attribute: str
    measure: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    method: str
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"attribute": self.attribute, "measure": self.measure, **_interval_json(self)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SummaryMeasure:
        return cls(
            attribute=str(d["attribute"]),
            measure=str(d["measure"]),
            **_interval_fields(d),
        )


@dataclass(frozen=True)
class RepresentativenessRow:
    """One group's share in the validation data beside the training cohort and population."""

    attribute: str
    group: str
    validation_n: int
    validation_share: float | None
    training_share: float | None
    reference_share: float | None
    difference_training: float | None
    difference_reference: float | None
    flag: str | None
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "group": self.group,
            "validation_n": self.validation_n,
            "validation_share": self.validation_share,
            "training_share": self.training_share,
            "reference_share": self.reference_share,
            "difference_training": self.difference_training,
            "difference_reference": self.difference_reference,
            "flag": self.flag,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RepresentativenessRow:
        return cls(
            attribute=str(d["attribute"]),
            group=str(d["group"]),
            validation_n=int(d["validation_n"]),
            validation_share=_opt(d, "validation_share"),
            training_share=_opt(d, "training_share"),
            reference_share=_opt(d, "reference_share"),
            difference_training=_opt(d, "difference_training"),
            difference_reference=_opt(d, "difference_reference"),
            flag=d.get("flag"),
            reason=d.get("reason"),
        )


@dataclass(frozen=True)
class MissingnessRow:
    """Rows of one group excluded from the evaluation (missing outcome, score or prediction),
    compared with the rest of the data: a differential-missingness check."""

    attribute: str
    group: str
    rows_read: int
    excluded: int
    by_reason: dict[str, int]
    rate: float | None
    rest_rate: float | None
    difference: Estimate
    p_value: float | None
    p_adjusted: float | None
    flagged: bool
    flagged_adjusted: bool
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "group": self.group,
            "rows_read": self.rows_read,
            "excluded": self.excluded,
            "by_reason": dict(self.by_reason),
            "rate": self.rate,
            "rest_rate": self.rest_rate,
            "difference": self.difference.to_json(),
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "flagged": self.flagged,
            "flagged_adjusted": self.flagged_adjusted,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MissingnessRow:
        return cls(
            attribute=str(d["attribute"]),
            group=str(d["group"]),
            rows_read=int(d["rows_read"]),
            excluded=int(d["excluded"]),
            by_reason={str(k): int(v) for k, v in d.get("by_reason", {}).items()},
            rate=_opt(d, "rate"),
            rest_rate=_opt(d, "rest_rate"),
            difference=Estimate.from_json(d["difference"]),
            p_value=_opt(d, "p_value"),
            p_adjusted=_opt(d, "p_adjusted"),
            flagged=bool(d.get("flagged", False)),
            flagged_adjusted=bool(d.get("flagged_adjusted", False)),
            reason=d.get("reason"),
        )


@dataclass(frozen=True)
class EvaluationResult:
    """Everything :func:`assessment.evaluation.engine.evaluate` computed, JSON-ready."""

    created: str
    provenance: dict[str, Any]
    spec: dict[str, Any]
    methods: dict[str, str]
    overall: GroupResult
    groups: tuple[GroupResult, ...]
    references: dict[str, str]
    disparities: tuple[Disparity, ...]
    summary: tuple[SummaryMeasure, ...]
    threshold_grid: dict[str, Any]
    representativeness: tuple[RepresentativenessRow, ...]
    notes: tuple[str, ...]
    engine_version: str = ENGINE_VERSION
    missingness: tuple[MissingnessRow, ...] = ()

    def group(self, attribute: str, group: str) -> GroupResult:
        """The entry of one group; KeyError names what exists."""
        if attribute == self.overall.attribute and group == self.overall.group:
            return self.overall
        for g in self.groups:
            if g.attribute == attribute and g.group == group:
                return g
        raise KeyError(f"no group {attribute}={group}")

    def groups_of(self, attribute: str) -> list[GroupResult]:
        """The groups of one attribute or intersection, in result order."""
        return [g for g in self.groups if g.attribute == attribute]

    def disparity(self, attribute: str, group: str, metric: str) -> Disparity:
        """One group's comparison with its reference on one metric; KeyError if absent."""
        for d in self.disparities:
            if d.attribute == attribute and d.group == group and d.metric == metric:
                return d
        raise KeyError(f"no disparity for {attribute}={group} on {metric}")

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "created": self.created,
            "engine_version": self.engine_version,
            "provenance": dict(self.provenance),
            "spec": dict(self.spec),
            "methods": dict(self.methods),
            "overall": self.overall.to_json(),
            "groups": [g.to_json() for g in self.groups],
            "references": dict(self.references),
            "disparities": [d.to_json() for d in self.disparities],
            "summary": [s.to_json() for s in self.summary],
            "threshold_grid": self.threshold_grid,
            "representativeness": [r.to_json() for r in self.representativeness],
            "notes": list(self.notes),
            "missingness": [m.to_json() for m in self.missingness],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> EvaluationResult:
        """Rebuild from JSON (e.g. a stored assessment); a wrong schema is an EvaluationError."""
        if d.get("schema") != SCHEMA:
            raise EvaluationError(
                f"This evaluation result has schema {d.get('schema')!r}; Probity reads {SCHEMA}."
            )
        try:
            return cls(
                created=str(d["created"]),
                engine_version=str(d.get("engine_version", "")),
                provenance=dict(d["provenance"]),
                spec=dict(d["spec"]),
                methods={str(k): str(v) for k, v in d["methods"].items()},
                overall=GroupResult.from_json(d["overall"]),
                groups=tuple(GroupResult.from_json(g) for g in d["groups"]),
                references={str(k): str(v) for k, v in d["references"].items()},
                disparities=tuple(Disparity.from_json(x) for x in d["disparities"]),
                summary=tuple(SummaryMeasure.from_json(x) for x in d["summary"]),
                threshold_grid=dict(d["threshold_grid"]),
                representativeness=tuple(
                    RepresentativenessRow.from_json(x) for x in d["representativeness"]
                ),
                notes=tuple(str(x) for x in d["notes"]),
                missingness=tuple(MissingnessRow.from_json(x) for x in d.get("missingness", [])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EvaluationError(f"This evaluation result is damaged ({exc}).") from exc
