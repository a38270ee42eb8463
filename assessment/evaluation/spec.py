"""What to compute: the user's choices for one evaluation, stored in the assessment as JSON.

The spec is everything except the data: threshold, which intersections, which reference group,
interval settings, flagging tolerances and the demographics to compare representativeness with.
It is validated once here, so the engine can trust it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from assessment.errors import EvaluationError

ReferenceKind = Literal["value", "largest", "best", "overall"]
AurocMethod = Literal["delong"]

REFERENCE_KINDS: tuple[str, ...] = ("value", "largest", "best", "overall")

METRIC_IDS: tuple[str, ...] = (
    "auroc",
    "tpr",
    "fpr",
    "tnr",
    "fnr",
    "ppv",
    "npv",
    "selection_rate",
    "prevalence",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "brier",
    "oe_ratio",
    "calibration_intercept",
    "calibration_slope",
)

# For "best" reference and summary measures: does a larger value mean better performance?
HIGHER_IS_BETTER: dict[str, bool] = {
    "auroc": True,
    "tpr": True,
    "fpr": False,
    "tnr": True,
    "fnr": False,
    "ppv": True,
    "npv": True,
    "accuracy": True,
    "balanced_accuracy": True,
    "f1": True,
    "brier": False,
}


@dataclass(frozen=True)
class ReferenceSpec:
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

    kind: ReferenceKind = "largest"
    values: dict[str, str] = field(default_factory=dict)
    metric: str = "auroc"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "values": dict(self.values), "metric": self.metric}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ReferenceSpec:
        """Build from JSON; missing keys take the field defaults."""
        default = cls()
        return cls(
            kind=d.get("kind", default.kind),
            values={str(k): str(v) for k, v in d.get("values", {}).items()},
            metric=str(d.get("metric", default.metric)),
        )


@dataclass(frozen=True)
class Tolerance:
    """A gap counts only when it is large: ratio outside [ratio_low, ratio_high] (the four-fifths
    rule and its inverse), or, for metrics without a meaningful ratio (calibration intercept and
    slope), an absolute difference above ``difference``."""

    ratio_low: float = 0.8
    ratio_high: float = 1.25
    difference: float = 0.1

    def to_json(self) -> dict[str, Any]:
        return {
            "ratio_low": self.ratio_low,
            "ratio_high": self.ratio_high,
            "difference": self.difference,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Tolerance:
        """Build from JSON; missing keys take the field defaults."""
        default = cls()
        return cls(
            ratio_low=float(d.get("ratio_low", default.ratio_low)),
            ratio_high=float(d.get("ratio_high", default.ratio_high)),
            difference=float(d.get("difference", default.difference)),
        )


@dataclass(frozen=True)
class EvaluationSpec:
    """All settings of one evaluation (JSON-serialisable, stored in ``doc.evaluation["config"]``).

    ``training_demographics``: {attribute: {group: count}} from the datasheet;
    ``reference_population``: {attribute: {group: proportion}};
    ``demographics_map``: {data attribute name: demographics attribute name} (unmapped data
    attributes are matched by name, case-insensitively).
    """

    threshold: float = 0.5
    intersections: tuple[tuple[str, ...], ...] = ()
    reference: ReferenceSpec = field(default_factory=ReferenceSpec)
    bootstrap: int = 1000
    seed: int = 20240601
    min_n: int = 30
    min_events: int = 10
    ci_level: float = 0.95
    tolerance: Tolerance = field(default_factory=Tolerance)
    auroc_method: AurocMethod = "delong"
    calibration_bins: int = 10
    grid_points: int = 101
    training_demographics: dict[str, dict[str, float]] = field(default_factory=dict)
    reference_population: dict[str, dict[str, float]] = field(default_factory=dict)
    demographics_map: dict[str, str] = field(default_factory=dict)

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
        if not 0 <= self.bootstrap <= 100_000:
            raise EvaluationError(
                f"Bootstrap replicates must be between 0 and 100000, not {self.bootstrap}."
            )
        if self.min_n < 0 or self.min_events < 0:
            raise EvaluationError("Minimum group size and minimum events must not be negative.")
        if not 0.5 <= self.ci_level < 1:
            raise EvaluationError(f"The CI level must be in [0.5, 1), not {self.ci_level}.")
        tol = self.tolerance
        if not (0 < tol.ratio_low <= 1 <= tol.ratio_high) or tol.difference < 0:
            raise EvaluationError(
                "The tolerance needs 0 < ratio_low <= 1 <= ratio_high and difference >= 0 "
                f"(got {tol.ratio_low}, {tol.ratio_high}, {tol.difference})."
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

    def with_threshold(self, threshold: float) -> EvaluationSpec:
        """The same settings at another decision threshold (validated again)."""
        return replace(self, threshold=float(threshold))

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "intersections": [list(c) for c in self.intersections],
            "reference": self.reference.to_json(),
            "bootstrap": self.bootstrap,
            "seed": self.seed,
            "min_n": self.min_n,
            "min_events": self.min_events,
            "ci_level": self.ci_level,
            "tolerance": self.tolerance.to_json(),
            "auroc_method": self.auroc_method,
            "calibration_bins": self.calibration_bins,
            "grid_points": self.grid_points,
            "training_demographics": {k: dict(v) for k, v in self.training_demographics.items()},
            "reference_population": {k: dict(v) for k, v in self.reference_population.items()},
            "demographics_map": dict(self.demographics_map),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> EvaluationSpec:
        """Build from JSON; missing keys take their defaults, wrong types become EvaluationError."""
        default = cls()
        try:
            return cls(
                threshold=float(d.get("threshold", default.threshold)),
                intersections=tuple(tuple(str(a) for a in c) for c in d.get("intersections", [])),
                reference=ReferenceSpec.from_json(d.get("reference", {})),
                bootstrap=int(d.get("bootstrap", default.bootstrap)),
                seed=int(d.get("seed", default.seed)),
                min_n=int(d.get("min_n", default.min_n)),
                min_events=int(d.get("min_events", default.min_events)),
                ci_level=float(d.get("ci_level", default.ci_level)),
                tolerance=Tolerance.from_json(d.get("tolerance", {})),
                auroc_method=d.get("auroc_method", default.auroc_method),
                calibration_bins=int(d.get("calibration_bins", default.calibration_bins)),
                grid_points=int(d.get("grid_points", default.grid_points)),
                training_demographics={
                    str(k): {str(g): float(c) for g, c in v.items()}
                    for k, v in d.get("training_demographics", {}).items()
                },
                reference_population={
                    str(k): {str(g): float(c) for g, c in v.items()}
                    for k, v in d.get("reference_population", {}).items()
                },
                demographics_map={str(k): str(v) for k, v in d.get("demographics_map", {}).items()},
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise EvaluationError(f"The evaluation settings are invalid ({exc}).") from exc
