"""What to compute: the user's choices for one evaluation, stored in the assessment as JSON.

Written and read by the generic codec (:mod:`assessment.codec`): a setting added later is one
field with a default (stored settings without it read back with the default). Keys this version
does not know are skipped, as before the codec.

The spec is everything except the data: threshold, which intersections, which reference group,
interval settings, flagging tolerances and the demographics to compare representativeness with.
It is validated once here, so the engine can trust it.
"""

from __future__ import annotations

import math
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Literal

# Views of the catalogue, re-exported for the modules that read them from the spec.
from assessment.catalogue import HIGHER_IS_BETTER as HIGHER_IS_BETTER
from assessment.catalogue import METRIC_IDS as METRIC_IDS
from assessment.catalogue import METRICS, RATIO_BAND
from assessment.catalogue import ToleranceKind as ToleranceKind
from assessment.codec import JsonRecord
from assessment.errors import EvaluationError
from assessment.evaluation.limits import bootstrap_problem
from assessment.evaluation.mirrors import (
    MIRRORS,
    conflicting_tolerance,
    primary_of,
    refused_tolerance,
)
from assessment.jsoncheck import Invalid

# True while a stored assessment's settings are read (EvaluationSpec.from_json): they are read
# as they were, without the minimum number of bootstrap replicates a new run needs.
_READING_STORED: ContextVar[bool] = ContextVar("_READING_STORED", default=False)

ReferenceKind = Literal["value", "largest", "best", "overall"]
AurocMethod = Literal["delong"]
MultiplicityMethod = Literal["holm", "bh"]
MULTIPLICITY_METHODS: tuple[str, ...] = ("holm", "bh")

REFERENCE_KINDS: tuple[str, ...] = ("value", "largest", "best", "overall")


#: Seeds are 0 <= seed < 2**63: the generators take them, and the .probity codec stores them.
MAX_SEED = 2**63 - 1


def seed_problem(seed: Any) -> str | None:
    """What is wrong with ``seed`` as a random seed, or None (non-integers are the codec's)."""
    if isinstance(seed, int) and not isinstance(seed, bool) and not 0 <= seed <= MAX_SEED:
        return f"must be a whole number from 0 to {MAX_SEED:,}, not {seed}"
    return None


@dataclass(frozen=True)
class ReferenceSpec(JsonRecord):
    """How the reference group of each attribute is chosen.

    - ``value``: the named level per attribute (``values``). An intersection's reference is the
      cell matching its components' named levels; components without a named level take the
      level that makes the cell largest among the matching cells (``race=Caucasian`` for
      race×sex gives Caucasian×<the sex with most Caucasian rows>, never a cell of another
      race). Attributes, or intersections, without any named value fall back to ``largest``;
      so does a choice no cell with rows matches (a note in the result says so). The rule is
      stated in the result's ``methods["reference_group"]`` and each choice in its notes.
    - ``largest``: the group with most rows.
    - ``best``: the group with the best value of ``metric`` among groups with sufficient data.
    - ``overall``: the whole population (differences then use the group's complement, see
      :mod:`assessment.evaluation.disparities`).
    """

    codec_unknown = "ignore"

    kind: ReferenceKind = "largest"
    values: dict[str, str] = field(default_factory=dict)
    metric: str = "auroc"


@dataclass(frozen=True)
class Tolerance(JsonRecord):
    """A gap counts only when it is large: ratio outside [ratio_low, ratio_high] (the four-fifths
    rule and its inverse), or, for metrics without a meaningful ratio (calibration intercept and
    slope), an absolute difference above ``difference``."""

    codec_unknown = "ignore"

    ratio_low: float = 0.8
    ratio_high: float = 1.25
    difference: float = 0.1

@dataclass(frozen=True)
class MetricTolerance:
    """How large a gap on one metric must be to count.

    ``ratio``: group / reference outside [``low``, ``high``] (the four-fifths rule and its
    inverse by default), for rates where a ratio is meaningful (TPR, FPR, FNR, PPV, selection
    rate). ``diff``: |group − reference| > ``limit``, for metrics near a ceiling or on a scale
    where ratios mislead (AUROC, accuracy, TNR, NPV, calibration): a TNR of 0.95 vs 0.80 is the
    same gap as an FPR of 0.05 vs 0.20, which a ratio band on TNR would never see.
    """

    kind: ToleranceKind = "ratio"
    low: float = 0.8
    high: float = 1.25
    limit: float = 0.0

    def describe(self) -> str:
        if self.kind == "ratio":
            return f"ratio outside [{self.low:g}, {self.high:g}]"
        return f"|difference| > {self.limit:g}"

    def to_text(self) -> str:
        """The ``--tolerance`` spelling: ``ratio:0.8,1.25`` or ``diff:0.05``."""
        return (
            f"ratio:{self.low:g},{self.high:g}" if self.kind == "ratio" else f"diff:{self.limit:g}"
        )

    def check(self, metric: str) -> None:
        if self.kind == "ratio":
            if metric in NO_RATIO_METRICS:
                raise EvaluationError(
                    f"A ratio tolerance is not meaningful for {metric} (a signed quantity); "
                    f"use diff:LIMIT, e.g. {metric}=diff:0.2."
                )
            if (
                not (math.isfinite(self.low) and math.isfinite(self.high))
                or not 0 < self.low <= 1 <= self.high
            ):
                raise EvaluationError(
                    f"The ratio tolerance of {metric} needs 0 < low <= 1 <= high "
                    f"(got {self.low:g}, {self.high:g})."
                )
        elif self.kind == "diff":
            if not (math.isfinite(self.limit) and self.limit >= 0):
                raise EvaluationError(
                    f"The difference tolerance of {metric} must be a number >= 0, not "
                    f"{self.limit!r}."
                )
        else:
            raise EvaluationError(
                f"Unknown tolerance kind {self.kind!r} for {metric}; use ratio or diff."
            )

    @classmethod
    def parse(cls, text: str) -> MetricTolerance:
        """``ratio:LOW,HIGH`` or ``diff:LIMIT`` (EvaluationError naming the form otherwise)."""
        kind, sep, rest = text.strip().partition(":")
        kind = kind.strip().lower()
        try:
            if sep and kind == "ratio":
                low, high = (float(x) for x in rest.split(","))
                return cls("ratio", low=low, high=high)
            if sep and kind in ("diff", "difference"):
                return cls("diff", limit=float(rest))
        except ValueError:
            pass
        raise EvaluationError(
            f"A tolerance is ratio:LOW,HIGH (e.g. ratio:0.8,1.25) or diff:LIMIT (e.g. "
            f"diff:0.05), not {text!r}."
        )

    def to_json(self) -> dict[str, Any]:
        if self.kind == "ratio":
            return {"kind": "ratio", "low": self.low, "high": self.high}
        return {"kind": self.kind, "limit": self.limit}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MetricTolerance:
        kind = d.get("kind", "ratio")
        if kind == "ratio":
            return cls("ratio", low=float(d.get("low", 0.8)), high=float(d.get("high", 1.25)))
        return cls(kind, limit=float(d.get("limit", 0.0)))


# Metrics without a meaningful ratio (signed log-odds quantities) and the one never flagged.
NO_RATIO_METRICS: tuple[str, ...] = tuple(m.id for m in METRICS if not m.ratio_meaningful)
UNFLAGGED_METRICS: tuple[str, ...] = tuple(m.id for m in METRICS if m.tolerance_kind is None)

# Documented defaults (README "Evaluation engine: methods"). Ratio bands where ratios are
# meaningful (rates that can be small: TPR, FPR, PPV, selection rate); absolute differences
# for metrics near a ceiling or on their own scale. A mirror metric (FNR, TNR) has no default of
# its own: its pair is judged on its primary (TPR, FPR) with the primary's tolerance.
DEFAULT_TOLERANCES: dict[str, MetricTolerance] = {
    m.id: (
        MetricTolerance("ratio", *RATIO_BAND)
        if m.tolerance_kind == "ratio"
        else MetricTolerance("diff", limit=m.tolerance_limit or 0.0)
    )
    for m in METRICS
    if m.tolerance_kind is not None and m.id not in MIRRORS
}
#: Metrics a tolerance may be given for: the flagged ones, mirrors included (translated onto
#: their primary, or refused; see :func:`mirror_tolerance`).
TOLERANCE_METRICS: tuple[str, ...] = tuple(
    m.id for m in METRICS if m.tolerance_kind is not None
)


def mirror_tolerance(metric: str, tol: MetricTolerance) -> MetricTolerance:
    """The tolerance on ``metric``'s primary that says exactly what ``tol`` says on ``metric``.

    A difference limit carries over unchanged (|TNR_g − TNR_r| = |FPR_g − FPR_r|); a ratio band
    on a mirror member has no equivalent on its primary and is refused with one sentence naming
    the member that carries the pair's tolerance (:class:`EvaluationError`).
    """
    if metric not in MIRRORS:
        return tol
    if tol.kind != "diff":
        raise EvaluationError(refused_tolerance(metric, tol.to_text()))
    return tol


@dataclass(frozen=True)
class EvaluationSpec(JsonRecord):
    """All settings of one evaluation (JSON-serialisable, stored as the evaluation record's
    ``spec``).

    ``training_demographics``: {attribute: {group: count}} from the datasheet;
    ``reference_population``: {attribute: {group: proportion}};
    ``demographics_map``: {data attribute name: demographics attribute name} (unmapped data
    attributes are matched by name, case-insensitively);
    ``group_map``: {data attribute: {data value: datasheet category}} (the group-label map).
    """

    codec_unknown = "ignore"

    threshold: float = 0.5
    intersections: tuple[tuple[str, ...], ...] = ()
    reference: ReferenceSpec = field(default_factory=ReferenceSpec)
    bootstrap: int = 1000
    seed: int = 20240601
    min_n: int = 30
    min_events: int = 10
    ci_level: float = 0.95
    tolerance: Tolerance = field(default_factory=Tolerance)
    # per-metric overrides of DEFAULT_TOLERANCES (see tolerance_for)
    tolerances: dict[str, MetricTolerance] = field(default_factory=dict)
    multiplicity: MultiplicityMethod = "holm"
    auroc_method: AurocMethod = "delong"
    calibration_bins: int = 10
    grid_points: int = 101
    training_demographics: dict[str, dict[str, float]] = field(default_factory=dict)
    reference_population: dict[str, dict[str, float]] = field(default_factory=dict)
    demographics_map: dict[str, str] = field(default_factory=dict)
    # {data attribute: {data value: datasheet category}} (assessment.evaluation.group_map);
    # written only when set, so specs without a map read and hash as before
    group_map: dict[str, dict[str, str]] = field(
        default_factory=dict, metadata={"omit_default": True}
    )

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`EvaluationError` naming the setting and the allowed range."""
        if not (isinstance(self.threshold, (int, float)) and math.isfinite(self.threshold)):
            raise EvaluationError(f"The threshold must be a finite number, not {self.threshold!r}.")
        if self.reference.kind not in REFERENCE_KINDS:
            raise EvaluationError(
                f"Unknown reference kind {self.reference.kind!r}; use one of "
                + ", ".join(REFERENCE_KINDS)
                + "."
            )
        if self.reference.kind == "best" and self.reference.metric not in HIGHER_IS_BETTER:
            raise EvaluationError(
                f"The 'best group' reference needs a performance metric, not "
                f"{self.reference.metric!r}; use one of " + ", ".join(HIGHER_IS_BETTER) + "."
            )
        if seed_problem(self.seed):
            raise EvaluationError(f"The random seed {seed_problem(self.seed)}.")
        if not 0.5 <= self.ci_level < 1:
            raise EvaluationError(f"The CI level must be in [0.5, 1), not {self.ci_level}.")
        # a stored assessment's settings are read as they were (its result says what it was
        # computed with); a new run needs enough replicates for its percentile intervals
        level = None if _READING_STORED.get() else self.ci_level
        if problem := bootstrap_problem(self.bootstrap, level):
            raise EvaluationError(problem)
        if self.min_n < 0 or self.min_events < 0:
            raise EvaluationError("Minimum group size and minimum events must not be negative.")
        tol = self.tolerance
        if not (0 < tol.ratio_low <= 1 <= tol.ratio_high) or tol.difference < 0:
            raise EvaluationError(
                "The tolerance needs 0 < ratio_low <= 1 <= ratio_high and difference >= 0 "
                f"(got {tol.ratio_low}, {tol.ratio_high}, {tol.difference})."
            )
        for mid, mt in self.tolerances.items():
            if mid not in METRIC_IDS:
                raise EvaluationError(
                    f"Unknown metric {mid!r} in the tolerances; use one of "
                    + ", ".join(TOLERANCE_METRICS)
                    + "."
                )
            if mid in UNFLAGGED_METRICS:
                raise EvaluationError(
                    f"{mid} describes the data, not the model, and is never flagged; it takes "
                    "no tolerance."
                )
            mt.check(mid)
            translated = mirror_tolerance(mid, mt)
            primary = self.tolerances.get(primary_of(mid))
            if mid in MIRRORS and primary is not None and primary != translated:
                raise EvaluationError(
                    conflicting_tolerance(mid, mt.to_text(), primary.to_text())
                )
        if self.multiplicity not in MULTIPLICITY_METHODS:
            raise EvaluationError(
                f"Unknown multiplicity adjustment {self.multiplicity!r}; use holm or bh."
            )
        if self.auroc_method != "delong":
            raise EvaluationError(
                f"Unknown AUROC interval method {self.auroc_method!r}; use delong."
            )
        if not 2 <= self.calibration_bins <= 100:
            raise EvaluationError(
                f"Calibration bins must be between 2 and 100, not {self.calibration_bins}."
            )
        if not 2 <= self.grid_points <= 1001:
            raise EvaluationError(
                f"Threshold grid points must be between 2 and 1001, not {self.grid_points}."
            )
        for combo in self.intersections:
            if not 2 <= len(combo) <= 3 or len(set(combo)) != len(combo):
                raise EvaluationError(
                    "An intersection joins 2 or 3 different attributes, not "
                    + "×".join(combo)
                    + "."
                )
        for name, dist in self.reference_population.items():
            if any((not math.isfinite(v)) or v < 0 for v in dist.values()):
                raise EvaluationError(
                    f"Reference population proportions for {name!r} must be numbers >= 0."
                )
            total = sum(dist.values())
            if dist and not 0.98 <= total <= 1.02 and not 98 <= total <= 102:
                raise EvaluationError(
                    f"Reference population proportions for {name!r} add up to {total:g}; "
                    "they must add up to 1 (or 100 %)."
                )
        for name, counts in self.training_demographics.items():
            if any((not math.isfinite(v)) or v < 0 for v in counts.values()):
                raise EvaluationError(f"Training counts for {name!r} must be numbers >= 0.")

    def tolerance_for(self, metric: str) -> MetricTolerance:
        """The tolerance that applies to ``metric``: the spec's override, else the default.

        A mirror pair has one tolerance, its primary's (:mod:`assessment.evaluation.mirrors`):
        for TNR (FNR) this is FPR's (TPR's), and a difference limit given for the mirror member
        is that same limit on the primary. A stored spec from before per-metric tolerances may
        carry a changed single ``tolerance``: its ratio band then applies to the ratio-kind
        metrics and its difference to the calibration intercept and slope (its documented
        scope).
        """
        metric = primary_of(metric)
        if metric in self.tolerances:
            return self.tolerances[metric]
        for mirror, primary in MIRRORS.items():
            if primary == metric and mirror in self.tolerances:
                return mirror_tolerance(mirror, self.tolerances[mirror])
        default = DEFAULT_TOLERANCES[metric]
        legacy = self.tolerance
        if legacy != Tolerance():
            if default.kind == "ratio":
                return MetricTolerance("ratio", legacy.ratio_low, legacy.ratio_high)
            if metric in NO_RATIO_METRICS and legacy.difference != Tolerance().difference:
                return MetricTolerance("diff", limit=legacy.difference)
        return default

    def with_threshold(self, threshold: float) -> EvaluationSpec:
        """The same settings at another decision threshold (validated again)."""
        return replace(self, threshold=float(threshold))

    @classmethod
    def from_json(cls, d: Any, path: str = "$") -> EvaluationSpec:
        """Build from JSON (the generic codec); missing keys take their defaults, a wrong value
        is an :class:`EvaluationError` naming its JSON path and the problem."""
        seed = d.get("seed") if isinstance(d, dict) else None
        if seed_problem(seed):
            raise EvaluationError(
                f"The evaluation settings are invalid ({path}.seed: the random seed "
                f"{seed_problem(seed)})."
            )
        if isinstance(d, dict) and isinstance(d.get("tolerances"), dict):
            # Before mirror pairs had one verdict (issue 9), a ratio band (or a second
            # tolerance beside the primary's) could be stored on TNR or FNR. It has no exact
            # equivalent on FPR/TPR, which now judge the pair: a stored file is still read
            # without it (its stored result says what it was judged with) and a re-run uses
            # the primary's tolerance (README, "Mirror metrics have one verdict").
            d = {**d, "tolerances": _without_legacy_mirror_bands(d["tolerances"])}
        token = _READING_STORED.set(True)
        try:
            return super().from_json(d, path)
        except Invalid as exc:
            raise EvaluationError(
                f"The evaluation settings are invalid ({exc.path}: {exc.problem})."
            ) from None
        finally:
            _READING_STORED.reset(token)


def _without_legacy_mirror_bands(tolerances: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in tolerances.items()
        if not (
            k in MIRRORS
            and (
                (isinstance(v, dict) and v.get("kind", "ratio") == "ratio")
                or MIRRORS[k] in tolerances  # the primary's own tolerance judges the pair
            )
        )
    }
