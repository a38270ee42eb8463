"""What several evaluations of the same rows share: the engine hook of a comparison.

A comparison evaluates every model on the same patients: the outcome, the groupings (each
attribute's codes and the intersections' cells) do not depend on the score, so an
:class:`EvaluationContext` builds them once and :func:`assessment.evaluation.engine.evaluate`
uses them for every model. With ``keep_placements`` the engine also hands back, per grouping,
the AUROC and DeLong placement values it computes anyway (:class:`ModelParts`), which the
paired DeLong test needs; they are the same numbers, not a second computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assessment.errors import EvaluationError
from assessment.evaluation.auroc import AurocResult
from assessment.evaluation.groupings import Grouping, build_groupings
from assessment.evaluation.inputs import EvaluationInput


@dataclass(frozen=True)
class EvaluationContext:
    """The score-independent row data of several evaluations of the same rows (built once by
    :meth:`build`; :meth:`check` refuses an input whose rows differ)."""

    y: np.ndarray  # the outcome per row (bool)
    attributes: tuple[tuple[str, np.ndarray], ...]  # (name, codes) per attribute
    intersections: tuple[tuple[str, ...], ...]
    groupings: tuple[Grouping, ...]
    # hand back every grouping's per-row DeLong placements (8 bytes per row and grouping)
    keep_placements: bool = False

    @classmethod
    def build(
        cls,
        inputs: EvaluationInput,
        intersections: Sequence[tuple[str, ...]],
        *,
        keep_placements: bool = False,
    ) -> EvaluationContext:
        combos = tuple(tuple(c) for c in intersections)
        return cls(
            y=np.asarray(inputs.y_true, dtype=bool),
            attributes=tuple((a.name, np.asarray(a.codes)) for a in inputs.attributes),
            intersections=combos,
            groupings=tuple(build_groupings(inputs, combos)),
            keep_placements=keep_placements,
        )

    def check(self, inputs: EvaluationInput, intersections: Sequence[tuple[str, ...]]) -> None:
        """Raise :class:`EvaluationError` unless ``inputs`` has this context's rows: the same
        outcome and attribute codes and the same intersections (a programming error, not bad
        data: a comparison builds its inputs from one table)."""
        same = (
            inputs.n == self.y.size
            and tuple(tuple(c) for c in intersections) == self.intersections
            and len(inputs.attributes) == len(self.attributes)
            and np.array_equal(np.asarray(inputs.y_true, dtype=bool), self.y)
            and all(
                a.name == name and np.array_equal(np.asarray(a.codes), codes)
                for a, (name, codes) in zip(inputs.attributes, self.attributes, strict=True)
            )
        )
        if not same:
            raise EvaluationError(
                "The shared evaluation context was built for other rows than this model's "
                "input: build it from the same table (outcome, attributes, intersections)."
            )


@dataclass(frozen=True)
class ModelParts:
    """By-products of one model's evaluation that a comparison reuses: per grouping (in the
    context's order), the engine's AUROC result, with per-row placements when the context
    keeps them; None for predicted classes (no score)."""

    auroc: tuple[AurocResult | None, ...]
