"""Groupings of the rows (everyone, each attribute, each intersection) and their confusion
counts, vectorised over groups: a grouping is a vector of integer group codes and counts come from
``np.bincount`` on ``code * 2 + outcome``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assessment.errors import EvaluationError
from assessment.evaluation.inputs import INTERSECTION_SEP, EvaluationInput

OVERALL_ATTRIBUTE = "(all)"
OVERALL_GROUP = "All"


@dataclass(frozen=True)
class Grouping:
    """One way of splitting the rows: ``codes[i]`` is row i's group (0..size-1), in the narrowest
    integer dtype that holds them (uint8 up to 256 groups; see :func:`wide` for arithmetic)."""

    name: str
    codes: np.ndarray
    labels: tuple[str, ...]
    components: tuple[str, ...]
    empty_cells: int = 0
    # cells[g][j]: group g's level of components[j] (labels joined by "×" are for display only;
    # a level name may itself contain "×").
    cells: tuple[tuple[str, ...], ...] = ()

    @property
    def size(self) -> int:
        return len(self.labels)

    @property
    def is_overall(self) -> bool:
        return self.name == OVERALL_ATTRIBUTE


def _small_codes(codes: np.ndarray, size: int) -> np.ndarray:
    """Codes in the narrowest integer dtype (1 byte per row for up to 256 groups): NumPy's
    stable sort of them is a radix sort, and a grouping's codes cost 1–4 bytes per row instead
    of 8. Arithmetic on codes (stratum keys) must widen them first (:func:`wide`)."""
    if size <= 256:
        return codes.astype(np.uint8, copy=False)
    if size <= 65536:
        return codes.astype(np.uint16, copy=False)
    if size <= np.iinfo(np.int32).max:
        return codes.astype(np.int32, copy=False)
    return codes.astype(np.intp, copy=False)


def wide(codes: np.ndarray) -> np.ndarray:
    """Codes as ``intp``, for arithmetic that would overflow the narrow dtype."""
    return codes.astype(np.intp, copy=False)


def build_groupings(
    inputs: EvaluationInput, intersections: tuple[tuple[str, ...], ...]
) -> list[Grouping]:
    """Overall, each attribute (all levels, even empty ones), then each intersection.

    Intersection cells are the observed combinations only (computed in O(n) with a bincount
    over the mixed-radix code, not ``np.unique``); the number of empty cells is kept for the
    notes.
    """
    n = inputs.n
    out = [
        Grouping(
            OVERALL_ATTRIBUTE,
            np.zeros(n, dtype=np.uint8),
            (OVERALL_GROUP,),
            (),
        )
    ]
    for attr in inputs.attributes:
        codes = np.asarray(attr.codes)
        if codes.shape != (n,):
            raise EvaluationError(
                f"Attribute {attr.name!r} has {codes.shape[0]} values for {n} rows."
            )
        if n and (codes.min() < 0 or codes.max() >= len(attr.levels)):
            raise EvaluationError(f"Attribute {attr.name!r} has codes outside its levels.")
        out.append(
            Grouping(
                attr.name,
                _small_codes(codes, len(attr.levels)),
                tuple(attr.levels),
                (attr.name,),
                cells=tuple((str(level),) for level in attr.levels),
            )
        )
    for combo in intersections:
        attrs = []
        for name in combo:
            try:
                attrs.append(inputs.attribute(name))
            except KeyError as exc:
                raise EvaluationError(
                    f"The intersection {INTERSECTION_SEP.join(combo)} names {name!r}, which is not "
                    f"a mapped attribute; map it as a group column first."
                ) from exc
        mixed = np.zeros(n, dtype=np.intp)
        total = 1
        for a in attrs:
            mixed = mixed * len(a.levels) + np.asarray(a.codes, dtype=np.intp)
            total *= len(a.levels)
        present = np.bincount(mixed, minlength=total) > 0
        remap = np.cumsum(present) - 1
        cells = np.flatnonzero(present)
        labels = []
        cell_levels = []
        for cell in cells:
            parts = []
            rest = int(cell)
            for a in reversed(attrs):
                rest, k = divmod(rest, len(a.levels))
                parts.append(str(a.levels[k]))
            cell_levels.append(tuple(reversed(parts)))
            labels.append(INTERSECTION_SEP.join(cell_levels[-1]))
        out.append(
            Grouping(
                INTERSECTION_SEP.join(combo),
                _small_codes(remap, cells.size)[mixed],
                tuple(labels),
                tuple(combo),
                empty_cells=int(total - cells.size),
                cells=tuple(cell_levels),
            )
        )
    return out


@dataclass(frozen=True)
class Counts:
    """Confusion counts per group (float64 arrays, one entry per group)."""

    n_pos: np.ndarray
    n_neg: np.ndarray
    tp: np.ndarray
    fp: np.ndarray

    @property
    def n(self) -> np.ndarray:
        total: np.ndarray = self.n_pos + self.n_neg
        return total

    @property
    def fn(self) -> np.ndarray:
        missed: np.ndarray = self.n_pos - self.tp
        return missed

    @property
    def tn(self) -> np.ndarray:
        rejected: np.ndarray = self.n_neg - self.fp
        return rejected


def stratum_keys(grouping: Grouping, y: np.ndarray) -> np.ndarray:
    """``code * 2 + outcome``: the group × outcome stratum of each row."""
    keys: np.ndarray = wide(grouping.codes) * 2 + y
    return keys


def confusion_counts(grouping: Grouping, keys: np.ndarray, pred: np.ndarray) -> Counts:
    size = grouping.size
    both = np.bincount(keys, minlength=2 * size).reshape(size, 2).astype(np.float64)
    pp = np.bincount(keys[pred], minlength=2 * size).reshape(size, 2).astype(np.float64)
    return Counts(n_pos=both[:, 1], n_neg=both[:, 0], tp=pp[:, 1], fp=pp[:, 0])


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, np.nan)
    ok = den > 0
    np.divide(num, den, out=out, where=ok)
    return out


def proportion_parts(c: Counts) -> dict[str, tuple[np.ndarray, np.ndarray, str]]:
    """Numerator, denominator and the reason used when the denominator is 0."""
    n = c.n
    return {
        "tpr": (c.tp, c.n_pos, "no positive outcomes in the group (n_pos = 0)"),
        "fpr": (c.fp, c.n_neg, "no negative outcomes in the group (n_neg = 0)"),
        "tnr": (c.tn, c.n_neg, "no negative outcomes in the group (n_neg = 0)"),
        "fnr": (c.fn, c.n_pos, "no positive outcomes in the group (n_pos = 0)"),
        "ppv": (c.tp, c.tp + c.fp, "no predicted positives in the group"),
        "npv": (c.tn, c.tn + c.fn, "no predicted negatives in the group"),
        "selection_rate": (c.tp + c.fp, n, "the group has no rows"),
        "prevalence": (c.n_pos, n, "the group has no rows"),
        "accuracy": (c.tp + c.tn, n, "the group has no rows"),
    }


def _one_class_reason(n_pos: float, n_neg: float) -> str | None:
    if n_pos <= 0 and n_neg <= 0:
        return "the group has no rows"
    if n_pos <= 0:
        return "no positive outcomes in the group (one class only)"
    if n_neg <= 0:
        return "no negative outcomes in the group (one class only)"
    return None
