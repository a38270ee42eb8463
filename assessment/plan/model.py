"""The evaluation plan, ``probity-plan/1``: criteria fixed before the validation data are seen.

A plan is plain JSON (README "Evaluation plan: the JSON format" documents every field). Reading
one is strict: an unknown key, a wrong type or an impossible value is a :class:`PlanError` whose
message names the JSON path of the problem (``$.gates[2].criterion.ratio_between[1]``) and what
to write instead. Pure Python (no Qt, no pandas).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from assessment.catalogue import METRIC, METRIC_IDS
from assessment.errors import ProbityError
from assessment.jsoncheck import (
    Invalid,
    check_json_values,
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

SCHEMA = "probity-plan/1"
#: Largest plan file read (a plan is a page of JSON; this refuses a hostile multi-GB file).
MAX_PLAN_BYTES = 2 * 1024 * 1024
MAX_GATES = 200
#: The smallest family-wise error a plan may set (below it no interval is computed reliably).
MIN_ALPHA = 1e-6
#: Metrics that are proportions (their values, and so bounds on them, lie in [0, 1]).
UNIT_METRICS = frozenset(
    m for m in METRIC if m not in ("oe_ratio", "calibration_intercept", "calibration_slope")
)

Multiplicity = Literal["bonferroni", "holm", "none"]
MULTIPLICITY: dict[str, str] = {
    "bonferroni": "Bonferroni: every check at two-sided level 1 − α/k (k checks in the plan)",
    "holm": "Holm (1979) step-down over the 2k one-sided claims: a check is re-read at a "
    "wider level as other checks reach a verdict",
    "none": "none: every check at two-sided level 1 − α",
}
#: Criterion kinds: on the metric itself, or on its gap to the reference group.
ON_METRIC = ("at_least", "at_most")
ON_RATIO = ("ratio_at_most", "ratio_between")
ON_DIFFERENCE = ("difference_at_most", "difference_between")
CRITERIA = ON_METRIC + ON_RATIO + ON_DIFFERENCE

PLAN_KEYS = (
    "schema",
    "title",
    "purpose",
    "outcome",
    "positive",
    "score",
    "prediction",
    "score_kind",
    "threshold",
    "attributes",
    "intersections",
    "references",
    "min_group_size",
    "alpha",
    "multiplicity",
    "gates",
)
GATE_KEYS = (
    "id",
    "metric",
    "attribute",
    "groups",
    "versus",
    "criterion",
    "min_n",
    "assume",
    "assume_reference",
    "note",
)


class PlanError(ProbityError):
    """A plan file cannot be read or does not follow ``probity-plan/1``."""


@dataclass(frozen=True)
class Criterion:
    """One bound: ``kind`` from :data:`CRITERIA`; ``low``/``high`` (None = unbounded)."""

    kind: str
    low: float | None
    high: float | None

    @property
    def on(self) -> Literal["value", "ratio", "difference"]:
        if self.kind in ON_RATIO:
            return "ratio"
        if self.kind in ON_DIFFERENCE:
            return "difference"
        return "value"

    def acceptable(self) -> tuple[float, float]:
        """The acceptable region [a, b] (±inf where unbounded); bounds themselves pass."""
        return (
            -math.inf if self.low is None else self.low,
            math.inf if self.high is None else self.high,
        )

    def describe(self) -> str:
        what = {"value": "", "ratio": "ratio to reference ", "difference": "difference "}[self.on]
        if self.low is not None and self.high is not None:
            return f"{what}in [{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f"{what}≥ {self.low:g}"
        return f"{what}≤ {self.high:g}"

    def to_json(self) -> dict[str, Any]:
        if self.kind in ("at_least",):
            return {self.kind: self.low}
        if self.kind in ("at_most", "ratio_at_most", "difference_at_most"):
            return {self.kind: self.high}
        return {self.kind: [self.low, self.high]}


@dataclass(frozen=True)
class Gate:
    """One acceptance gate: a bound on a metric (or its gap to the reference) per group."""

    id: str
    metric: str
    attribute: str | None
    groups: Literal["each", "overall"] | tuple[str, ...]
    versus: Literal["reference"] | None
    criterion: Criterion
    min_n: int | None = None
    assume: float | None = None
    assume_reference: float | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "metric": self.metric,
            "attribute": self.attribute,
            "groups": self.groups if isinstance(self.groups, str) else list(self.groups),
            "versus": self.versus,
            "criterion": self.criterion.to_json(),
            "min_n": self.min_n,
        }
        if self.assume is not None:
            out["assume"] = self.assume
        if self.assume_reference is not None:
            out["assume_reference"] = self.assume_reference
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Plan:
    """A ``probity-plan/1`` document, validated."""

    title: str
    purpose: str = ""
    outcome: str = ""
    positive: tuple[str, ...] = ()
    score: str | None = None
    prediction: str | None = None
    score_kind: Literal["probability", "score"] = "probability"
    threshold: float | None = None
    attributes: tuple[str, ...] = ()
    intersections: tuple[tuple[str, ...], ...] = ()
    references: dict[str, str] = field(default_factory=dict)
    min_group_size: int = 30
    alpha: float = 0.05
    multiplicity: Multiplicity = "bonferroni"
    gates: tuple[Gate, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "title": self.title,
            "purpose": self.purpose,
            "outcome": self.outcome,
            "positive": list(self.positive),
            "score": self.score,
            "prediction": self.prediction,
            "score_kind": self.score_kind,
            "threshold": self.threshold,
            "attributes": list(self.attributes),
            "intersections": [list(c) for c in self.intersections],
            "references": dict(self.references),
            "min_group_size": self.min_group_size,
            "alpha": self.alpha,
            "multiplicity": self.multiplicity,
            "gates": [g.to_json() for g in self.gates],
        }

    def to_text(self) -> str:
        """Canonical JSON text (what ``plan lock`` attaches and hashes)."""
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def gate_min_n(self, gate: Gate) -> int:
        return self.min_group_size if gate.min_n is None else gate.min_n

    @classmethod
    def from_json(cls, data: Any) -> Plan:
        """Validate parsed JSON; :class:`PlanError` names the JSON path of the first problem."""
        try:
            check_json_values(data)
            return _plan(data)
        except Invalid as exc:
            raise PlanError(f"The plan is not valid {SCHEMA}: {exc.path}: {exc.problem}.") from None

    @classmethod
    def from_text(cls, text: str, name: str = "the plan") -> Plan:
        try:
            data = json.loads(
                text, parse_constant=_refuse_constant, object_pairs_hook=_pairs_once
            )
        except ValueError as exc:
            raise PlanError(f"{name} is not JSON ({exc}); fix the file or save it again.") from None
        except RecursionError:
            raise PlanError(f"{name} is nested too deeply to be a plan; fix the file.") from None
        duplicate = _first_duplicate(data, "$")
        if duplicate is not None:
            raise PlanError(
                f"{name}: {duplicate} appears twice (only one value can count); remove one."
            )
        try:
            return cls.from_json(data)
        except PlanError as exc:
            raise PlanError(f"{name}: {exc.message}") from None


def plan_sha256(text: str | bytes) -> str:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(raw).hexdigest()


class _Pairs(dict[str, Any]):
    """A parsed JSON object that repeated a key (the first repeated key kept in ``duplicate``)."""

    duplicate: str = ""


def _pairs_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = _Pairs(pairs)
    if len(out) == len(pairs):
        return dict(out)
    seen: set[str] = set()
    for k, _v in pairs:
        if k in seen:
            out.duplicate = k
            break
        seen.add(k)
    return out


def _first_duplicate(v: Any, path: str) -> str | None:
    """The JSON path of the first key repeated in an object (``json.loads`` keeps the last)."""
    if isinstance(v, _Pairs):
        return key_path(path, v.duplicate)
    if isinstance(v, dict):
        for k, x in v.items():
            found = _first_duplicate(x, key_path(path, k))
            if found is not None:
                return found
    elif isinstance(v, list):
        for i, x in enumerate(v):
            found = _first_duplicate(x, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# ---- validation -------------------------------------------------------------------------------


def _opt_text(d: dict[str, Any], key: str, path: str) -> str | None:
    v = expect_str(d.get(key), key_path(path, key), null=True)
    if v is not None and not v.strip():
        raise Invalid(key_path(path, key), "empty text; write a column name or null")
    return v


def _finite(v: Any, path: str, *, null: bool = False) -> float | None:
    x = expect_num(v, path, null=null)
    if x is None:
        return None
    if not math.isfinite(x):
        raise Invalid(path, f"expected a finite number, got {show(v)}")
    return float(x)


def _plan(d: Any) -> Plan:
    p = "$"
    expect_obj(d, p, PLAN_KEYS)
    if d.get("schema") != SCHEMA:
        raise Invalid(f"{p}.schema", f"expected {SCHEMA!r}, got {show(d.get('schema'))}")
    title = expect_str(required(d, "title", p), f"{p}.title") or ""
    if not title.strip():
        raise Invalid(f"{p}.title", "empty; give the plan a title")
    score, prediction = _opt_text(d, "score", p), _opt_text(d, "prediction", p)
    if score is not None and prediction is not None:
        raise Invalid(f"{p}.prediction", "give either score or prediction, not both")
    kind = d.get("score_kind", "probability")
    if kind not in ("probability", "score"):
        raise Invalid(f"{p}.score_kind", f"expected 'probability' or 'score', got {show(kind)}")
    threshold = _finite(d.get("threshold"), f"{p}.threshold", null=True)
    if threshold is not None and kind == "probability" and not 0 <= threshold <= 1:
        raise Invalid(f"{p}.threshold", f"a probability threshold is in [0, 1], got {threshold:g}")
    positive = d.get("positive", [])
    if isinstance(positive, str):
        positive = [positive]
    positive = expect_strings(positive, f"{p}.positive")
    attributes = expect_strings(d.get("attributes", []), f"{p}.attributes")
    if len(set(attributes)) != len(attributes):
        raise Invalid(f"{p}.attributes", "an attribute is listed twice")
    intersections = _intersections(d.get("intersections", []), attributes, f"{p}.intersections")
    refs = expect_obj(d.get("references", {}), f"{p}.references")
    for k, v in refs.items():
        expect_str(v, key_path(f"{p}.references", k))
        if k not in attributes:
            raise Invalid(key_path(f"{p}.references", k), "not one of the plan's attributes")
    min_group = expect_int(d.get("min_group_size", 30), f"{p}.min_group_size", minimum=1)
    alpha = _finite(d.get("alpha", 0.05), f"{p}.alpha")
    assert alpha is not None
    if not MIN_ALPHA <= alpha <= 0.5:
        raise Invalid(
            f"{p}.alpha", f"the family-wise error is in [{MIN_ALPHA:g}, 0.5], got {alpha:g}"
        )
    mult = d.get("multiplicity", "bonferroni")
    if mult not in MULTIPLICITY:
        raise Invalid(
            f"{p}.multiplicity", f"expected one of {', '.join(MULTIPLICITY)}, got {show(mult)}"
        )
    raw_gates = expect_list(required(d, "gates", p), f"{p}.gates")
    if len(raw_gates) > MAX_GATES:
        raise Invalid(f"{p}.gates", f"{len(raw_gates)} gates; a plan holds at most {MAX_GATES}")
    names = set(attributes) | {"×".join(c) for c in intersections}
    gates: list[Gate] = []
    for i, g in enumerate(raw_gates):
        gate = _gate(g, f"{p}.gates[{i}]", names, prediction is not None and score is None)
        if any(x.id == gate.id for x in gates):
            raise Invalid(f"{p}.gates[{i}].id", f"{gate.id!r} is used by an earlier gate")
        gates.append(gate)
    return Plan(
        title=title,
        purpose=expect_str(d.get("purpose", ""), f"{p}.purpose") or "",
        outcome=expect_str(d.get("outcome", ""), f"{p}.outcome") or "",
        positive=tuple(positive),
        score=score,
        prediction=prediction,
        score_kind=kind,
        threshold=threshold,
        attributes=tuple(attributes),
        intersections=intersections,
        references=dict(refs),
        min_group_size=min_group,
        alpha=alpha,
        multiplicity=mult,
        gates=tuple(gates),
    )


def _intersections(v: Any, attributes: list[str], path: str) -> tuple[tuple[str, ...], ...]:
    out: list[tuple[str, ...]] = []
    for i, combo in enumerate(expect_list(v, path)):
        cols = expect_strings(combo, f"{path}[{i}]")
        if not 2 <= len(cols) <= 3 or len(set(cols)) != len(cols):
            raise Invalid(f"{path}[{i}]", "an intersection names 2 or 3 different attributes")
        for j, c in enumerate(cols):
            if c not in attributes:
                raise Invalid(f"{path}[{i}][{j}]", f"{c!r} is not in $.attributes")
        out.append(tuple(cols))
    return tuple(out)


def _criterion(v: Any, path: str) -> Criterion:
    obj = expect_obj(v, path, CRITERIA)
    if len(obj) != 1:
        raise Invalid(path, f"give exactly one of {', '.join(CRITERIA)}")
    kind, raw = next(iter(obj.items()))
    at = key_path(path, kind)
    if kind in ("at_least",):
        return Criterion(kind, _finite(raw, at), None)
    if kind in ("at_most", "difference_at_most", "ratio_at_most"):
        high = _finite(raw, at)
        if kind == "ratio_at_most" and high is not None and high <= 0:
            raise Invalid(at, "a ratio bound is positive")
        return Criterion(kind, None, high)
    pair = expect_list(raw, at)
    if len(pair) != 2:
        raise Invalid(at, "expected [low, high] (null for an open end)")
    low, high = _finite(pair[0], f"{at}[0]", null=True), _finite(pair[1], f"{at}[1]", null=True)
    if low is None and high is None:
        raise Invalid(at, "at least one end must be a number")
    if low is not None and high is not None and not low < high:
        raise Invalid(f"{at}[1]", f"the upper end must exceed the lower end {low:g}")
    if kind == "ratio_between" and any(x is not None and x <= 0 for x in (low, high)):
        raise Invalid(at, "ratio bounds are positive")
    return Criterion(kind, low, high)


def _check_range(metric: str, crit: Criterion, path: str) -> None:
    """Refuse a bound the metric can never reach (a TPR of at least 2, a negative O/E)."""
    if metric in UNIT_METRICS:
        span = {"value": (0.0, 1.0), "difference": (-1.0, 1.0)}.get(crit.on)
    elif metric == "oe_ratio" and crit.on == "value":
        span = (0.0, math.inf)
    else:
        return
    if span is None:
        return
    for x in (crit.low, crit.high):
        if x is not None and not span[0] <= x <= span[1]:
            where = "a difference of " if crit.on == "difference" else ""
            raise Invalid(
                f"{path}.{crit.kind}",
                f"{x:g} is outside the range of {where}{metric} "
                f"([{span[0]:g}, {span[1]:g}]); no result can be judged against it",
            )


def _gate(g: Any, path: str, names: set[str], classes_only: bool) -> Gate:
    expect_obj(g, path, GATE_KEYS)
    gid = expect_str(required(g, "id", path), f"{path}.id") or ""
    if not gid.strip() or len(gid) > 40:
        raise Invalid(f"{path}.id", "a short non-empty name such as 'G1'")
    metric = str(expect_str(required(g, "metric", path), f"{path}.metric"))
    if metric not in METRIC:
        raise Invalid(f"{path}.metric", f"{show(metric)} is not one of {', '.join(METRIC_IDS)}")
    if classes_only and METRIC[metric].needs in ("score", "probability"):
        raise Invalid(f"{path}.metric", f"{metric} needs a score column; the plan has predictions")
    groups_raw = g.get("groups", "each")
    groups: Literal["each", "overall"] | tuple[str, ...]
    if groups_raw in ("each", "overall"):
        groups = groups_raw
    elif isinstance(groups_raw, list) and groups_raw:
        groups = tuple(expect_strings(groups_raw, f"{path}.groups"))
    else:
        raise Invalid(
            f"{path}.groups", f"'each', 'overall' or a list of groups, got {show(groups_raw)}"
        )
    attribute = expect_str(g.get("attribute"), f"{path}.attribute", null=True)
    if groups != "overall" and attribute not in names:
        raise Invalid(
            f"{path}.attribute",
            f"{show(attribute)} is not an attribute or intersection of the plan "
            f"({', '.join(sorted(names)) or 'none listed in $.attributes'})",
        )
    versus = g.get("versus")
    if versus not in (None, "reference"):
        raise Invalid(f"{path}.versus", f"null or 'reference', got {show(versus)}")
    crit = _criterion(required(g, "criterion", path), f"{path}.criterion")
    if versus is None and crit.on != "value":
        raise Invalid(f"{path}.criterion", f"{crit.kind} compares with the reference: set versus")
    if versus == "reference" and crit.on == "value":
        raise Invalid(f"{path}.criterion", f"{crit.kind} bounds the metric; versus must be null")
    if versus == "reference" and groups == "overall":
        raise Invalid(f"{path}.versus", "the overall population has no reference group")
    _check_range(metric, crit, f"{path}.criterion")
    if crit.on == "ratio" and not METRIC[metric].ratio_meaningful:
        raise Invalid(
            f"{path}.criterion", f"a ratio of {metric} means nothing; bound the difference"
        )
    min_n = expect_int(g.get("min_n"), f"{path}.min_n", null=True, minimum=1)
    return Gate(
        id=gid,
        metric=metric,
        attribute=None if groups == "overall" else attribute,
        groups=groups,
        versus=versus,
        criterion=crit,
        min_n=min_n,
        assume=_finite(g.get("assume"), f"{path}.assume", null=True),
        assume_reference=_finite(g.get("assume_reference"), f"{path}.assume_reference", null=True),
        note=expect_str(g.get("note", ""), f"{path}.note") or "",
    )
