"""The evaluation result: typed dataclasses with the "probity-evaluation/1" JSON shape.

Everyone downstream (CLI ``--json``, GUI tables, PDF report, the stored assessment) reads this
JSON, so ``to_json``/``from_json`` round-trip exactly. Both come from the generic codec
(:mod:`assessment.codec`), driven by the type hints: adding a field is one line here (give it a
default so results written before it still load). Numbers are plain floats; an undefined value
is ``None`` with a reason, never 0 and never NaN (JSON has no NaN).

Typed queries (:meth:`EvaluationResult.groups_of`, :meth:`~EvaluationResult.disparity`,
:meth:`~EvaluationResult.flagged`, :meth:`~EvaluationResult.insufficient`, …) are what the GUI,
the CLI and the report use instead of walking the JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from assessment.codec import COUNT, JsonRecord
from assessment.codec import clean as clean
from assessment.errors import EvaluationError
from assessment.evaluation.gate_checks import check_gates, check_plan, check_verdict
from assessment.evaluation.result_checks import (
    check_counts,
    check_grid,
    check_mapping_json,
    check_provenance,
    check_spec,
)
from assessment.evaluation.result_sense import check_result_sense
from assessment.jsoncheck import Invalid, expect_obj, required


def _plan_key(check: Any) -> dict[str, Any]:
    """Field metadata of the plan's optional keys: checked when read, absent unless judged."""
    return {"check": check, "omit_default": True}

if TYPE_CHECKING:
    from assessment.evaluation.spec import EvaluationSpec

SCHEMA = "probity-evaluation/1"
ENGINE_VERSION = "1.0.0"


class ResultFormatError(EvaluationError):
    """A stored result that does not have the probity-evaluation/1 shape; names the JSON path."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"This evaluation result is damaged: {path}: {problem}.")
        self.path = path
        self.problem = problem


class ResultPart(JsonRecord):
    """Base of the result's parts: probity-evaluation/1 grows by adding keys (never renaming),
    so keys a newer Probity added are skipped on reading, not refused."""

    codec_unknown = "ignore"


@dataclass(frozen=True)
class MetricValue(ResultPart):
    """One estimate with its interval; ``reason`` says why value or interval is missing."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    method: str = ""
    reason: str | None = None


@dataclass(frozen=True)
class GroupResult(ResultPart):
    """All metrics of one group (an attribute level, an intersection cell, or everyone)."""

    attribute: str
    group: str
    n: int = field(metadata=COUNT)
    n_pos: int = field(metadata=COUNT)
    n_neg: int = field(metadata=COUNT)
    flags: tuple[str, ...]
    flag_reasons: tuple[str, ...]
    metrics: dict[str, MetricValue]
    curves: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)

    def metric(self, metric_id: str) -> MetricValue:
        """One metric of this group (KeyError for an id outside METRIC_IDS)."""
        return self.metrics[metric_id]

    def metric_or_none(self, metric_id: str) -> MetricValue | None:
        """One metric of this group, or None where the group has no entry for it."""
        return self.metrics.get(metric_id)

    def curve(self, name: str) -> dict[str, list[float | None]] | None:
        """One curve (``roc``, ``reliability``) of this group, or None where it has none."""
        return self.curves.get(name) or None


@dataclass(frozen=True)
class Estimate(ResultPart):
    """A difference or ratio with its interval and the interval's method."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    method: str
    reason: str | None = None


@dataclass(frozen=True)
class Disparity(ResultPart):
    """One group compared with its attribute's reference group on one metric."""

    attribute: str
    group: str
    reference: str
    metric: str
    difference: Estimate
    ratio: Estimate
    flagged: bool
    reason: str | None
    # two-sided p-value of no difference, its multiplicity-adjusted value and the adjusted flag
    p_value: float | None = None
    p_adjusted: float | None = None
    flagged_adjusted: bool = False
    tolerance: str | None = None  # the metric's tolerance, e.g. "ratio outside [0.8, 1.25]"


@dataclass(frozen=True)
class SummaryMeasure(ResultPart):
    """A one-number summary of an attribute's disparities (e.g. equalized-odds difference)."""

    attribute: str
    measure: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    method: str
    reason: str | None = None
    # the groups whose values set it (max vs min), and the groups left out, with why
    # (absent from results written before summary measures were restricted to sufficient groups)
    set_by: tuple[str, ...] = field(default=(), metadata={"omit_default": True})
    excluded_groups: dict[str, str] | None = field(default=None, metadata={"omit_default": True})


@dataclass(frozen=True)
class RepresentativenessRow(ResultPart):
    """One group's share in the validation data beside the training cohort and population."""

    attribute: str
    group: str
    validation_n: int = field(metadata=COUNT)
    validation_share: float | None
    training_share: float | None
    reference_share: float | None
    difference_training: float | None
    difference_reference: float | None
    flag: str | None
    reason: str | None


@dataclass(frozen=True)
class MissingnessRow(ResultPart):
    """Rows of one group excluded from the evaluation (missing outcome, score or prediction),
    compared with the rest of the data: a differential-missingness check."""

    attribute: str
    group: str
    rows_read: int = field(metadata=COUNT)
    excluded: int = field(metadata=COUNT)
    by_reason: dict[str, int] = field(metadata={"check": check_counts})
    rate: float | None
    rest_rate: float | None
    difference: Estimate
    p_value: float | None
    p_adjusted: float | None
    flagged: bool
    flagged_adjusted: bool
    reason: str | None


@dataclass(frozen=True)
class EvaluationResult(ResultPart):
    """Everything :func:`assessment.evaluation.engine.evaluate` computed, JSON-ready."""

    codec_schema = ("schema", SCHEMA)
    codec_kind = "result"

    created: str
    provenance: dict[str, Any] = field(metadata={"check": check_provenance})
    spec: dict[str, Any] = field(metadata={"check": check_spec})
    methods: dict[str, str]
    overall: GroupResult
    groups: tuple[GroupResult, ...]
    references: dict[str, str]
    disparities: tuple[Disparity, ...]
    summary: tuple[SummaryMeasure, ...]
    threshold_grid: dict[str, Any] = field(metadata={"check": check_grid})
    representativeness: tuple[RepresentativenessRow, ...]
    notes: tuple[str, ...]
    engine_version: str = ENGINE_VERSION
    missingness: tuple[MissingnessRow, ...] = ()
    # Evaluation plan (issue 12, assessment.plan): one row per gate check, the overall verdict
    # and the plan's record (SHA-256, lock, deviations); written only when a plan was judged.
    gates: tuple[dict[str, Any], ...] = field(default=(), metadata=_plan_key(check_gates))
    verdict: str | None = field(default=None, metadata=_plan_key(check_verdict))
    plan: dict[str, Any] | None = field(default=None, metadata=_plan_key(check_plan))

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

    def flagged(self) -> list[Disparity]:
        """The flagged disparities, in result order."""
        return [d for d in self.disparities if d.flagged]

    def insufficient(self) -> list[GroupResult]:
        """Groups too small to judge (flagged ``insufficient_data``), in result order."""
        return [g for g in self.groups if "insufficient_data" in g.flags]

    def representativeness_of(self, attribute: str) -> list[RepresentativenessRow]:
        """The representativeness rows of one data attribute, in result order."""
        return [r for r in self.representativeness if r.attribute == attribute]

    @cached_property
    def _spec(self) -> EvaluationSpec:
        from assessment.evaluation.spec import EvaluationSpec

        return EvaluationSpec.from_json(self.spec)

    def evaluation_spec(self) -> EvaluationSpec:
        """The spec this result was computed with, typed (validated when the result was read)."""
        return self._spec

    @property
    def threshold(self) -> float:
        """The decision threshold the result was computed at."""
        return float(self._spec.threshold)

    @property
    def rows_used(self) -> int:
        return int(self.provenance.get("rows_used") or 0)

    @property
    def rows_excluded(self) -> int:
        return int(self.provenance.get("rows_excluded") or 0)

    def flagged_adjusted(self) -> list[Disparity]:
        """The disparities flagged after the multiplicity adjustment, in result order."""
        return [d for d in self.disparities if d.flagged_adjusted]

    def source(self, key: str) -> Any:
        """One entry of the free-form provenance (``file_name``, ``sha256``, ``excluded``,
        ``mapping``, …), or None where this result does not record it."""
        return self.provenance.get(key)

    def method(self, key: str) -> str | None:
        """The statement of one method (a metric id or e.g. ``disparity_tolerance``), or None."""
        return self.methods.get(key)

    def attributes(self) -> list[str]:
        """The attributes and intersections with groups, in result order."""
        return list(dict.fromkeys(g.attribute for g in self.groups))

    @classmethod
    def from_json(cls, d: Any, path: str = "$") -> EvaluationResult:
        """Rebuild from JSON (e.g. a stored assessment).

        Anything that is not the probity-evaluation/1 shape is a :class:`ResultFormatError`
        (an EvaluationError) naming the JSON path of the first problem, under ``path``.
        """
        try:
            expect_obj(d, path)
            if d.get("schema") == SCHEMA:  # the free-form parts first, as before the codec
                for key in ("provenance", "spec", "threshold_grid"):
                    required(d, key, path)
            result = super().from_json(d, path)
            check_result_sense(result, path)
            return result
        except Invalid as exc:
            raise ResultFormatError(exc.path, exc.problem) from None


__all__ = [
    "SCHEMA",
    "Disparity",
    "Estimate",
    "EvaluationResult",
    "GroupResult",
    "MetricValue",
    "MissingnessRow",
    "RepresentativenessRow",
    "ResultFormatError",
    "SummaryMeasure",
    "check_mapping_json",
    "clean",
]
