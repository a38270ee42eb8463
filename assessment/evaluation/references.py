"""Which groups have sufficient data, and which group is each grouping's reference.

Moved out of :mod:`assessment.evaluation.disparities` (which re-exports these names) to keep
modules under the size limit; the rules are unchanged.
"""

from __future__ import annotations

import numpy as np

from assessment.evaluation.inputs import MISSING_GROUP
from assessment.evaluation.metrics import Counts, Grouping, GroupingStats
from assessment.evaluation.spec import HIGHER_IS_BETTER, EvaluationSpec


def _sufficient(stats: GroupingStats, spec: EvaluationSpec) -> np.ndarray:
    c = stats.counts
    return (c.n >= spec.min_n) & (c.n_pos >= spec.min_events) & (c.n_neg >= spec.min_events)


def insufficiency(c: Counts, g: int, spec: EvaluationSpec) -> tuple[str, ...]:
    """Why group ``g`` has insufficient data (empty when it has enough)."""
    n, npos, nneg = int(c.n[g]), int(c.n_pos[g]), int(c.n_neg[g])
    if n == 0:
        return ("no rows in the validation data",)
    why = []
    if n < spec.min_n:
        why.append(f"n = {n} < {spec.min_n}")
    if npos < spec.min_events:
        why.append(f"events (positive outcomes) = {npos} < {spec.min_events}")
    if nneg < spec.min_events:
        why.append(f"non-events (negative outcomes) = {nneg} < {spec.min_events}")
    return tuple(why)


REFERENCE_RULE = (
    "named value: each attribute's reference is its named level; an intersection's reference is "
    "the cell matching the named levels of its components, and components without a named level "
    "take the level that makes that cell the largest (most rows) among the matching cells (ties: "
    "first level in order); with no named level, or no cell with rows matching them, the largest "
    "cell is used (a note says which); a missing-value group or cell is chosen only when no "
    "group with a known value has rows"
)
LARGEST_RULE = (
    "largest group with a known value and sufficient data: the group with most rows among those "
    "with at least the minimum rows, events and non-events, never the '(missing)' group (or an "
    "intersection cell with a missing component) unless no other group has rows; when no known "
    "group has sufficient data, the largest known group; a note says when a larger group was "
    "passed over (a missing value, or insufficient data)"
)


def _has_missing(gp: Grouping, g: int) -> bool:
    """Is group ``g`` the "(missing)" level, or an intersection cell with one?"""
    cells = gp.cells if len(gp.cells) == gp.size else tuple((lab,) for lab in gp.labels)
    return MISSING_GROUP in cells[g]


def largest_group(
    stats: GroupingStats, notes: list[str] | None = None, spec: EvaluationSpec | None = None
) -> int:
    """The largest group whose value is known: a "(missing)" group (or a cell with a missing
    component) is a reference only when no other group has rows. With ``spec``, the largest
    known group with sufficient data (minimum rows, events and non-events) when there is one: an
    intersection's largest cell may rest on 4 events while 37 cells have 10 or more (issue 9,
    attack finding 10a), and every comparison against it would be "insufficient data".
    ``notes`` gets a line when a larger group was passed over."""
    gp, n = stats.grouping, stats.counts.n
    known = np.array([not _has_missing(gp, g) for g in range(gp.size)]) & (n > 0)
    if not known.any():
        return int(np.argmax(n))
    idx = int(np.argmax(np.where(known, n, -1)))
    top = int(np.argmax(n))
    if notes is not None and n[top] > n[idx]:
        notes.append(
            f"{gp.name}: the missing-value group {gp.labels[top]} (n = {int(n[top]):,}) is "
            f"larger, but a reference must be a known group; the largest known group "
            f"({gp.labels[idx]}, n = {int(n[idx]):,}) is used."
        )
    if spec is None:
        return idx
    enough = known & _sufficient(stats, spec)
    if enough[idx] or not enough.any():
        return idx
    best = int(np.argmax(np.where(enough, n, -1)))
    if notes is not None:
        notes.append(
            f"{gp.name}: the largest group {gp.labels[idx]} has insufficient data for a "
            f"reference ({'; '.join(insufficiency(stats.counts, idx, spec))}); the largest group "
            f"with sufficient data ({gp.labels[best]}, n = {int(n[best]):,}, "
            f"{int(stats.counts.n_pos[best]):,} events) is the reference."
        )
    return best


def _describe(gp: Grouping, named: dict[int, str]) -> str:
    return ", ".join(f"{gp.components[j]} = {v}" for j, v in sorted(named.items()))


def _named_reference(stats: GroupingStats, spec: EvaluationSpec, notes: list[str]) -> int:
    """The reference for ``kind == "value"`` (rule: :data:`REFERENCE_RULE`).

    Naming only some components of an intersection (``race=Caucasian`` for race×sex) must give
    a cell consistent with that choice (Caucasian×<largest sex among Caucasians>), never the
    largest cell overall, which may have another race.
    """
    gp = stats.grouping
    n = stats.counts.n
    values = spec.reference.values
    named = {j: values[c] for j, c in enumerate(gp.components) if c in values}
    if not named:
        largest = largest_group(stats, notes, spec)
        notes.append(
            f"{gp.name}: no reference value was chosen; the largest group "
            f"({gp.labels[largest]}) is the reference."
        )
        return largest
    cells = gp.cells if len(gp.cells) == gp.size else tuple((lab,) for lab in gp.labels)
    matching = [
        g for g in range(gp.size) if n[g] > 0 and all(cells[g][j] == v for j, v in named.items())
    ]
    if not matching:
        largest = largest_group(stats, notes, spec)
        notes.append(
            f"{gp.name}: no group with rows has {_describe(gp, named)} (the chosen reference); "
            f"the largest group ({gp.labels[largest]}) is used instead."
        )
        return largest
    known = [g for g in matching if not _has_missing(gp, g)]
    idx = max(known or matching, key=lambda g: (n[g], -g))
    free = [c for j, c in enumerate(gp.components) if j not in named]
    if free:
        notes.append(
            f"{gp.name}: the reference is {gp.labels[idx]}, the largest cell with "
            f"{_describe(gp, named)} as chosen ({', '.join(free)}: no reference value was "
            f"chosen, so the level with the most rows among those cells, n = {int(n[idx])})."
        )
    return idx


def choose_reference(stats: GroupingStats, spec: EvaluationSpec, notes: list[str]) -> int | None:
    """Index of the reference group of one grouping, or None for the overall population."""
    ref = spec.reference
    gp = stats.grouping
    if ref.kind == "overall":
        return None
    if ref.kind == "value":
        return _named_reference(stats, spec, notes)
    if ref.kind == "best":
        vals = stats.values[ref.metric]
        known = np.array([not _has_missing(gp, g) for g in range(gp.size)])
        ok = np.isfinite(vals) & _sufficient(stats, spec) & known
        if not ok.any():
            ok = np.isfinite(vals) & known
        if not ok.any():
            ok = np.isfinite(vals)
        if not ok.any():
            largest = largest_group(stats, notes)
            notes.append(
                f"{gp.name}: no group has a defined {ref.metric}; the largest group "
                f"({gp.labels[largest]}) is the reference."
            )
            return largest
        masked = np.where(ok, vals, -np.inf if HIGHER_IS_BETTER[ref.metric] else np.inf)
        idx = int(np.argmax(masked) if HIGHER_IS_BETTER[ref.metric] else np.argmin(masked))
        notes.append(
            f"{gp.name}: the reference is the best-performing group on {ref.metric} "
            f"({gp.labels[idx]}), chosen from the same data, so its gaps to the others tend "
            "to be overstated (selection effect)."
        )
        return idx
    largest = largest_group(stats, notes, spec)
    if _has_missing(gp, largest):
        notes.append(
            f"{gp.name}: every group with rows has a missing value; the largest "
            f"({gp.labels[largest]}) is the reference."
        )
    return largest


# The ratio against a reference value of 0 (disparities): infinite when the group's value is
# positive (then the flag is judged on the difference interval), else undefined.
REF_ZERO_INFINITE = (
    "the reference value is 0, so the ratio is infinite (the flag is judged on the difference "
    "interval)"
)
REF_ZERO_UNDEFINED = "the reference value is 0, so the ratio is undefined"


def caveat_for(stats: GroupingStats, g: int, ref: int | None, spec: EvaluationSpec) -> str | None:
    """ "insufficient data (…)" for a group or reference below the minimums, else None."""
    parts = []
    own = insufficiency(stats.counts, g, spec)
    if own:
        parts.append("; ".join(own))
    if ref is not None:
        theirs = insufficiency(stats.counts, ref, spec)
        if theirs:
            parts.append("reference group: " + "; ".join(theirs))
    return f"insufficient data ({'; '.join(parts)})" if parts else None
