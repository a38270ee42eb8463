"""The evaluation result: typed dataclasses with the "probity-evaluation/1" JSON shape.

Everyone downstream (CLI ``--json``, GUI tables, PDF report, the stored assessment) reads this
JSON, so ``to_json``/``from_json`` round-trip exactly. Numbers are plain floats; an undefined
value is ``None`` with a reason, never 0 and never NaN (JSON has no NaN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assessment.errors import EvaluationError
from assessment.jsoncheck import (
    Invalid,
    expect_bool,
    expect_int,
    expect_list,
    expect_num,
    expect_obj,
    expect_str,
    expect_strings,
    key_path,
    required,
    show,
)

if TYPE_CHECKING:
    from assessment.evaluation.spec import EvaluationSpec

SCHEMA = "probity-evaluation/1"
ENGINE_VERSION = "1.0.0"


def clean(x: Any) -> float | None:
    """A JSON-safe float: NaN/inf/None become None."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


class ResultFormatError(EvaluationError):
    """A stored result that does not have the probity-evaluation/1 shape; names the JSON path."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"This evaluation result is damaged: {path}: {problem}.")
        self.path = path
        self.problem = problem


def _opt(d: dict[str, Any], key: str, path: str = "$") -> float | None:
    v = expect_num(d.get(key), key_path(path, key), null=True)
    return None if v is None else float(v)


def _text(d: dict[str, Any], key: str, path: str) -> str:
    return str(expect_str(required(d, key, path), key_path(path, key)))


def _opt_text(d: dict[str, Any], key: str, path: str) -> str | None:
    return expect_str(d.get(key), key_path(path, key), null=True)


def _count(d: dict[str, Any], key: str, path: str) -> int:
    return int(expect_int(required(d, key, path), key_path(path, key), minimum=0))


def _items(d: dict[str, Any], key: str, path: str) -> list[tuple[str, Any]]:
    """The entries of a list field as (path, value) pairs."""
    where = key_path(path, key)
    return [(f"{where}[{i}]", v) for i, v in enumerate(expect_list(required(d, key, path), where))]


def _str_map(d: dict[str, Any], key: str, path: str) -> dict[str, str]:
    where = key_path(path, key)
    out = expect_obj(required(d, key, path), where)
    for k, v in out.items():
        expect_str(v, key_path(where, k))
    return dict(out)


_NUMBER_TYPES = (float, int, type(None))


def _numbers(v: Any, path: str) -> list[float | None]:
    """A list of numbers or nulls (curves, the threshold grid)."""
    values = expect_list(v, path)
    for i, x in enumerate(values):
        if type(x) not in _NUMBER_TYPES:  # bool is not a number here
            expect_num(x, f"{path}[{i}]", null=True)
    return [clean(x) for x in values]


def _interval_json(x: MetricValue | Estimate | SummaryMeasure) -> dict[str, Any]:
    """The five interval keys every estimate carries, in the schema's order."""
    return {
        "value": x.value,
        "ci_low": x.ci_low,
        "ci_high": x.ci_high,
        "method": x.method,
        "reason": x.reason,
    }


def _interval_fields(d: dict[str, Any], path: str = "$") -> dict[str, Any]:
    """Constructor arguments for the five interval keys, read back from JSON."""
    expect_obj(d, path)
    return {
        "value": _opt(d, "value", path),
        "ci_low": _opt(d, "ci_low", path),
        "ci_high": _opt(d, "ci_high", path),
        "method": str(expect_str(d.get("method", ""), key_path(path, "method"))),
        "reason": _opt_text(d, "reason", path),
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
    def from_json(cls, d: dict[str, Any], path: str = "$") -> MetricValue:
        return cls(**_interval_fields(d, path))


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
    def from_json(cls, d: dict[str, Any], path: str = "$") -> GroupResult:
        expect_obj(d, path)
        metrics = expect_obj(d.get("metrics", {}), key_path(path, "metrics"))
        curves = expect_obj(d.get("curves", {}), key_path(path, "curves"))
        return cls(
            attribute=_text(d, "attribute", path),
            group=_text(d, "group", path),
            n=_count(d, "n", path),
            n_pos=_count(d, "n_pos", path),
            n_neg=_count(d, "n_neg", path),
            flags=tuple(expect_strings(d.get("flags", []), key_path(path, "flags"))),
            flag_reasons=tuple(
                expect_strings(d.get("flag_reasons", []), key_path(path, "flag_reasons"))
            ),
            metrics={
                k: MetricValue.from_json(v, key_path(f"{path}.metrics", k))
                for k, v in metrics.items()
            },
            curves={
                k: {
                    kk: _numbers(vv, key_path(key_path(f"{path}.curves", k), kk))
                    for kk, vv in expect_obj(v, key_path(f"{path}.curves", k)).items()
                }
                for k, v in curves.items()
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
    def from_json(cls, d: dict[str, Any], path: str = "$") -> Estimate:
        return cls(**_interval_fields(d, path))


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
    # two-sided p-value of no difference, its multiplicity-adjusted value and the adjusted flag
    p_value: float | None = None
    p_adjusted: float | None = None
    flagged_adjusted: bool = False
    tolerance: str | None = None  # the metric's tolerance, e.g. "ratio outside [0.8, 1.25]"

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
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "flagged_adjusted": self.flagged_adjusted,
            "tolerance": self.tolerance,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any], path: str = "$") -> Disparity:
        expect_obj(d, path)
        return cls(
            attribute=_text(d, "attribute", path),
            group=_text(d, "group", path),
            reference=_text(d, "reference", path),
            metric=_text(d, "metric", path),
            difference=Estimate.from_json(required(d, "difference", path), f"{path}.difference"),
            ratio=Estimate.from_json(required(d, "ratio", path), f"{path}.ratio"),
            flagged=expect_bool(required(d, "flagged", path), f"{path}.flagged"),
            reason=_opt_text(d, "reason", path),
            p_value=_opt(d, "p_value", path),
            p_adjusted=_opt(d, "p_adjusted", path),
            flagged_adjusted=expect_bool(
                d.get("flagged_adjusted", False), f"{path}.flagged_adjusted"
            ),
            tolerance=_opt_text(d, "tolerance", path),
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
    # the groups whose values set it (max vs min), and the groups left out, with why
    set_by: tuple[str, ...] = ()
    excluded_groups: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"attribute": self.attribute, "measure": self.measure, **_interval_json(self)}
        if self.excluded_groups is not None:  # absent in results from before the restriction
            out["set_by"] = list(self.set_by)
            out["excluded_groups"] = dict(self.excluded_groups)
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any], path: str = "$") -> SummaryMeasure:
        expect_obj(d, path)
        has = "excluded_groups" in d
        return cls(
            attribute=_text(d, "attribute", path),
            measure=_text(d, "measure", path),
            **_interval_fields(d, path),
            set_by=tuple(expect_strings(d.get("set_by", []), key_path(path, "set_by"))),
            excluded_groups=_str_map(d, "excluded_groups", path) if has else None,
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
    def from_json(cls, d: dict[str, Any], path: str = "$") -> RepresentativenessRow:
        expect_obj(d, path)
        return cls(
            attribute=_text(d, "attribute", path),
            group=_text(d, "group", path),
            validation_n=_count(d, "validation_n", path),
            validation_share=_opt(d, "validation_share", path),
            training_share=_opt(d, "training_share", path),
            reference_share=_opt(d, "reference_share", path),
            difference_training=_opt(d, "difference_training", path),
            difference_reference=_opt(d, "difference_reference", path),
            flag=_opt_text(d, "flag", path),
            reason=_opt_text(d, "reason", path),
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
    def from_json(cls, d: dict[str, Any], path: str = "$") -> MissingnessRow:
        expect_obj(d, path)
        by_reason = expect_obj(d.get("by_reason", {}), f"{path}.by_reason")
        for k, v in by_reason.items():
            expect_int(v, key_path(f"{path}.by_reason", k), minimum=0)
        return cls(
            attribute=_text(d, "attribute", path),
            group=_text(d, "group", path),
            rows_read=_count(d, "rows_read", path),
            excluded=_count(d, "excluded", path),
            by_reason={str(k): int(v) for k, v in by_reason.items()},
            rate=_opt(d, "rate", path),
            rest_rate=_opt(d, "rest_rate", path),
            difference=Estimate.from_json(required(d, "difference", path), f"{path}.difference"),
            p_value=_opt(d, "p_value", path),
            p_adjusted=_opt(d, "p_adjusted", path),
            flagged=expect_bool(d.get("flagged", False), f"{path}.flagged"),
            flagged_adjusted=expect_bool(
                d.get("flagged_adjusted", False), f"{path}.flagged_adjusted"
            ),
            reason=_opt_text(d, "reason", path),
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

    def flagged(self) -> list[Disparity]:
        """The flagged disparities, in result order."""
        return [d for d in self.disparities if d.flagged]

    def insufficient(self) -> list[GroupResult]:
        """Groups too small to judge (flagged ``insufficient_data``), in result order."""
        return [g for g in self.groups if "insufficient_data" in g.flags]

    def representativeness_of(self, attribute: str) -> list[RepresentativenessRow]:
        """The representativeness rows of one data attribute, in result order."""
        return [r for r in self.representativeness if r.attribute == attribute]

    def evaluation_spec(self) -> EvaluationSpec:
        """The spec this result was computed with, typed (validated when the result was read)."""
        from assessment.evaluation.spec import EvaluationSpec

        return EvaluationSpec.from_json(self.spec)

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
    def from_json(cls, d: dict[str, Any], path: str = "$") -> EvaluationResult:
        """Rebuild from JSON (e.g. a stored assessment).

        Anything that is not the probity-evaluation/1 shape is a :class:`ResultFormatError`
        (an EvaluationError) naming the JSON path of the first problem, under ``path``.
        """
        try:
            return cls._from_json(d, path)
        except Invalid as exc:
            raise ResultFormatError(exc.path, exc.problem) from None

    @classmethod
    def _from_json(cls, d: dict[str, Any], path: str) -> EvaluationResult:
        expect_obj(d, path)
        if d.get("schema") != SCHEMA:
            raise Invalid(
                f"{path}.schema",
                f"this result has schema {show(d.get('schema'))}; Probity reads {SCHEMA}",
            )
        provenance = expect_obj(required(d, "provenance", path), f"{path}.provenance")
        _check_provenance(provenance, f"{path}.provenance")
        spec = expect_obj(required(d, "spec", path), f"{path}.spec")
        _check_spec(spec, f"{path}.spec")
        grid = expect_obj(required(d, "threshold_grid", path), f"{path}.threshold_grid")
        _check_grid(grid, f"{path}.threshold_grid")
        return cls(
            created=_text(d, "created", path),
            engine_version=str(expect_str(d.get("engine_version", ""), f"{path}.engine_version")),
            provenance=dict(provenance),
            spec=dict(spec),
            methods=_str_map(d, "methods", path),
            overall=GroupResult.from_json(required(d, "overall", path), f"{path}.overall"),
            groups=tuple(GroupResult.from_json(g, p) for p, g in _items(d, "groups", path)),
            references=_str_map(d, "references", path),
            disparities=tuple(Disparity.from_json(x, p) for p, x in _items(d, "disparities", path)),
            summary=tuple(SummaryMeasure.from_json(x, p) for p, x in _items(d, "summary", path)),
            threshold_grid=dict(grid),
            representativeness=tuple(
                RepresentativenessRow.from_json(x, p)
                for p, x in _items(d, "representativeness", path)
            ),
            notes=tuple(expect_strings(required(d, "notes", path), f"{path}.notes")),
            missingness=tuple(
                MissingnessRow.from_json(x, f"{path}.missingness[{i}]")
                for i, x in enumerate(expect_list(d.get("missingness", []), f"{path}.missingness"))
            ),
        )


def _check_provenance(p: dict[str, Any], path: str) -> None:
    """The provenance keys the report and the GUI read from the stored result."""
    for key in ("file_name", "sha256", "sheet"):
        expect_str(p.get(key), key_path(path, key), null=True)
    for key in ("rows_read", "rows_used", "rows_excluded"):
        expect_int(p.get(key), key_path(path, key), null=True, minimum=0)
    excluded = expect_obj(p.get("excluded", {}), f"{path}.excluded")
    for k, v in excluded.items():
        expect_int(v, key_path(f"{path}.excluded", k), minimum=0)
    mapping = p.get("mapping")
    if mapping is not None:
        check_mapping_json(mapping, f"{path}.mapping")


def check_mapping_json(m: Any, path: str) -> None:
    """The JSON shape of a stored column mapping (``ColumnMapping.to_json``), path by path.

    Checked here rather than by ``ColumnMapping.from_json`` so that opening a document does not
    import NumPy (the mapping module needs it); the keys are those of ``to_json``.
    """
    expect_obj(m, path)
    for key in ("label", "score", "prediction"):
        expect_str(m.get(key), key_path(path, key), null=True)
    for key in ("positive", "prediction_positive"):
        v = m.get(key)
        if isinstance(v, list):
            expect_strings(v, key_path(path, key))
        else:
            expect_str(v, key_path(path, key), null=True)
    kind = m.get("score_kind", "probability")
    if kind not in ("probability", "score"):
        raise Invalid(f"{path}.score_kind", f'expected "probability" or "score", got {show(kind)}')
    expect_num(m.get("threshold"), f"{path}.threshold", null=True)
    expect_strings(m.get("attributes") or [], f"{path}.attributes")
    expect_strings(m.get("missing", []), f"{path}.missing")
    bins = expect_obj(m.get("bins") or {}, f"{path}.bins")
    for k, edges in bins.items():
        _numbers(edges, key_path(f"{path}.bins", k))


def _check_spec(spec: dict[str, Any], path: str) -> None:
    """The settings as stored with the result (read back by the report and the GUI)."""
    from assessment.evaluation.spec import EvaluationSpec

    intersections = expect_list(spec.get("intersections", []), f"{path}.intersections")
    for i, combo in enumerate(intersections):
        expect_strings(combo, f"{path}.intersections[{i}]")
    try:
        EvaluationSpec.from_json(spec)
    except EvaluationError as exc:
        raise Invalid(path, exc.message.rstrip(".")) from exc
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise Invalid(path, f"malformed settings ({type(exc).__name__}: {exc})") from exc


def _check_grid(grid: dict[str, Any], path: str) -> None:
    """Thresholds and, per group, one value (or null) per threshold for each grid metric."""
    thresholds = _numbers(grid.get("thresholds", []), f"{path}.thresholds")
    if any(t is None for t in thresholds):
        raise Invalid(f"{path}.thresholds", "expected numbers only, got a null")
    for i, g in enumerate(expect_list(grid.get("groups", []), f"{path}.groups")):
        gpath = f"{path}.groups[{i}]"
        expect_obj(g, gpath)
        _text(g, "attribute", gpath)
        _text(g, "group", gpath)
        for key, series in g.items():
            if key in ("attribute", "group"):
                continue
            values = _numbers(series, key_path(gpath, key))
            if len(values) != len(thresholds):
                raise Invalid(
                    key_path(gpath, key),
                    f"expected {len(thresholds)} values (one per threshold), got {len(values)}",
                )
