"""Limits on what Probity reads from a data file (issue 8 §2), and the error naming them.

Kept apart from :mod:`assessment.evaluation.io` so the ``evaluate`` command can declare its
options without importing pandas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from assessment.errors import DataError

#: Most bootstrap replicates an evaluation draws (spec ``bootstrap``, ``--bootstrap``, the app's
#: "Bootstrap B"). Replicates are drawn in blocks of bounded working memory
#: (:mod:`assessment.evaluation.boot_blocks`), but the percentile intervals and p-values need
#: every replicate of every group and bootstrap metric (8 bytes each), so B itself is capped:
#: 100,000 replicates already give a 95% percentile limit to about ±0.1 percentile points.
MAX_BOOTSTRAP = 100_000


#: Fewest replicates that must lie beyond each limit of a percentile bootstrap interval. With B
#: replicates a (1 − α) percentile limit is the (α/2)·B-th smallest replicate: below 5 beyond
#: it the limit is an extreme order statistic of a handful of draws (B = 2 gave a "95%" interval
#: and a verdict). Efron & Tibshirani (1993, §19.3) recommend B ≥ 1,000 for percentile
#: intervals (the default); the minimum 2·5/α (200 at 95%) is where the interval can stand.
MIN_BOOTSTRAP_TAIL = 5


def min_bootstrap(level: float = 0.95) -> int:
    """Fewest bootstrap replicates for a percentile interval at ``level`` (200 at 95%)."""
    return max(1, math.ceil(round(2 * MIN_BOOTSTRAP_TAIL / (1 - level), 6)))


def bootstrap_problem(b: object, level: float | None = 0.95) -> str | None:
    """One sentence when ``b`` is not a usable number of bootstrap replicates, else None.
    ``level`` (the interval level) sets the minimum above 0; None checks only 0 to the cap
    (a stored assessment's settings, read as they were)."""
    # above 95% (a plan's multiplicity-adjusted levels, 99.9% and more) the minimum stays the
    # 95% one, so a plan's re-evaluation at its adjusted level still runs; the plan's verdicts
    # say when B is too few for that level (assessment.plan.verdicts.bootstrap_needed)
    low = min_bootstrap(min(level, 0.95)) if level is not None and 0 < level < 1 else 1
    allowed = f"use 0 for no bootstrap intervals, or from {low:,} to {MAX_BOOTSTRAP:,}"
    if isinstance(b, bool) or not isinstance(b, int):
        return f"Bootstrap replicates must be a whole number, not {b!r}: {allowed}."
    if b < 0:
        return f"Bootstrap replicates cannot be negative ({b}): {allowed}."
    if b > MAX_BOOTSTRAP:
        return (
            f"Bootstrap replicates must be at most {MAX_BOOTSTRAP:,}, not {b:,}: more adds no "
            f"useful precision while memory grows with B, so choose {MAX_BOOTSTRAP:,} or fewer."
        )
    if level is not None and 0 < b < low:
        return (
            f"{b:,} bootstrap replicates are too few for a {level:.0%} percentile interval "
            f"(each limit would rest on fewer than {MIN_BOOTSTRAP_TAIL} replicates): {allowed}; "
            "1,000 or more is recommended."
        )
    return None


#: Memory the bootstrap's replicates may take (bytes): the percentile intervals and p-values keep
#: every replicate of every group and bootstrap metric, so memory grows with B × groups. 1.5 GiB
#: leaves room for the data and the app on an 8 GB machine; a run above it is refused before it
#: starts (issue 9, attack finding 3: B = 30,000 over 1,210 cells died with a numpy traceback).
BOOTSTRAP_MEMORY_BUDGET = 1536 * 1024 * 1024

#: Replicate arrays kept per group: tp, fp, n_pos, n_neg, TPR, FPR, selection rate, F1, balanced
#: accuracy (every score kind), plus Brier, O/E, calibration slope and intercept (probabilities).
BOOTSTRAP_REPLICATE_METRICS = {"probability": 13, "other": 9}

#: Working memory of one block of replicates (boot_blocks.BLOCK_BUDGET) and what a run holds
#: besides its replicates (data, curves): added to the estimate.
_BOOTSTRAP_OVERHEAD = 64 * 1024 * 1024


def bootstrap_bytes(b: int, groups: int, largest: int, probability: bool) -> int:
    """Estimated peak memory of the bootstrap's replicates: B × groups (all groupings) ×
    replicate metrics × 8 bytes kept, plus twice the largest grouping's (its blocks are stacked
    into one array, and the comparisons draw their differences from it), plus one block.
    Measured: 1,232 groups (1,210 cells), B = 1,000 and 3,000 peaked at 0.51 and 1.21 GB."""
    metrics = BOOTSTRAP_REPLICATE_METRICS["probability" if probability else "other"]
    return 8 * metrics * b * (groups + 2 * largest) + _BOOTSTRAP_OVERHEAD


def bootstrap_memory_problem(
    b: int, groups: int, largest: int, probability: bool,
    budget: int = BOOTSTRAP_MEMORY_BUDGET,
) -> str | None:
    """One sentence when ``b`` replicates over ``groups`` groups (``largest`` in the largest
    grouping) would take more than ``budget`` bytes, naming the largest B that fits; else None."""
    if b <= 0 or bootstrap_bytes(b, groups, largest, probability) <= budget:
        return None
    per = bootstrap_bytes(1, groups, largest, probability) - _BOOTSTRAP_OVERHEAD
    fits = max(0, (budget - _BOOTSTRAP_OVERHEAD) // per)
    fits = fits // 100 * 100 if fits >= 1000 else fits
    need = bootstrap_bytes(b, groups, largest, probability) / 1024**3
    head = (
        f"{b:,} bootstrap replicates over {groups:,} groups would need about {need:.1f} GB of "
        f"memory, over the {budget / 1024**3:.1f} GB the bootstrap may use"
    )
    if fits >= min_bootstrap():
        return (
            f"{head}: use at most {fits:,} replicates (--bootstrap, in the app Bootstrap B), or "
            "fewer intersections or groups (merge rare levels with --group-map or --bin)."
        )
    return (
        f"{head}, even at the minimum of {min_bootstrap():,} replicates: use fewer intersections "
        "or groups (merge rare levels with --group-map or --bin), or --bootstrap 0 for no "
        "bootstrap intervals."
    )


@dataclass(frozen=True)
class ReadLimits:
    """How much of a data file Probity reads before refusing it (checked *before* reading).

    The defaults hold any realistic validation data set (a million rows of twenty columns)
    while a hostile file (a zip bomb, a Parquet file whose metadata promises billions of
    values, a 100 MB cell) is refused in well under a second and a gigabyte. Each refusal is a
    :class:`LimitError` naming the limit and the option that raises it; ``evaluate`` has an
    option per limit and the GUI offers to raise the limit and read again.
    """

    max_file_mb: float = 1024.0  #: size of the file on disk
    max_cells: int = 20_000_000  #: rows x columns
    max_columns: int = 2_000  #: columns
    max_cell_kb: float = 1024.0  #: text of one cell (CSV field, XLSX or Parquet string)
    max_unpacked_mb: float = 512.0  #: decompressed XLSX parts / uncompressed Parquet data
    max_ratio: float = 100.0  #: compression ratio of one XLSX part (zip bombs: ~1000)
    #: groups of one sensitive attribute (checked when the mapping is applied, before any
    #: evaluation: an identifier mapped as an attribute would otherwise cost gigabytes)
    max_groups: int = 200
    #: observed combinations of all sensitive attributes together (intersection cells)
    max_group_cells: int = 2_000

    @property
    def file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def cell_bytes(self) -> int:
        return int(self.max_cell_kb * 1024)

    @property
    def unpacked_bytes(self) -> int:
        return int(self.max_unpacked_mb * 1024 * 1024)

    def to_json(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, d: Any) -> ReadLimits:
        """Limits from settings; unknown keys and values that are not positive numbers are
        ignored (the default stays)."""
        if not isinstance(d, dict):
            return cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            v = d.get(f.name)
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                if v > 0:
                    values[f.name] = int(v) if f.type in ("int", int) else float(v)
        return cls(**values)

    def raised(self, limit: str, needed: float) -> ReadLimits:
        """A copy with ``limit`` raised to at least ``needed`` (with 25% headroom)."""
        current = getattr(self, limit)
        value = max(current, needed * 1.25)
        if isinstance(current, int):
            value = int(math.ceil(value))
        return replace(self, **{limit: value})


DEFAULT_LIMITS = ReadLimits()

#: The ``evaluate`` option of each limit (messages name it).
LIMIT_OPTIONS: dict[str, str] = {
    "max_file_mb": "--max-file-mb",
    "max_cells": "--max-cells",
    "max_columns": "--max-columns",
    "max_cell_kb": "--max-cell-kb",
    "max_unpacked_mb": "--max-unpacked-mb",
    "max_ratio": "--max-ratio",
    "max_groups": "--max-groups",
    "max_group_cells": "--max-group-cells",
}


class LimitError(DataError):
    """A data file over one of the :class:`ReadLimits`; ``limit`` names it, ``needed`` is the
    value that would let this file through when it is known (None otherwise)."""

    def __init__(self, message: str, limit: str, needed: float | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.needed = needed


def over_limit(
    name: str, what: str, value: str, limit: str, key: str, needed: float | None
) -> LimitError:
    return LimitError(
        f"{name}: {what} {value}, over the limit of {limit}; if the file is genuine, raise it "
        f"with {LIMIT_OPTIONS[key]} (in the app: Raise limit and read again).",
        key,
        needed,
    )
