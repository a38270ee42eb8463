"""Differential missingness: does one group lose more rows to exclusion than the rest?

Rows without an outcome, a score or a prediction are excluded before evaluation (each under its
first reason, see :func:`assessment.evaluation.mapping.prepare_input`). A group that loses many
more rows than the others is evaluated on a selected subset, which can bias its metrics without
any sign in them. For every level of every attribute, the exclusion rate of the group is
compared with that of all other rows read (group vs the rest, independent binomials) by the
difference of proportions with Newcombe's hybrid score interval (method 10). Every cell of every
intersection is checked the same way (:func:`with_intersections` counts its rows read and
excluded, by reason): a cell can lose a quarter of its rows while the margins look even.

Flag: the interval excludes 0 and the rates differ by more than :data:`MISSINGNESS_DIFFERENCE`
(absolute). ``flagged_adjusted`` uses the multiplicity-adjusted p-value (the family: every
group of every attribute and every intersection cell in this check; the spec's method, Holm by
default) instead of the unadjusted interval.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from assessment.evaluation import intervals as iv
from assessment.evaluation.groupings import Grouping
from assessment.evaluation.inputs import (
    INTERSECTION_SEP,
    Attribute,
    EvaluationInput,
    ExcludedRows,
    Provenance,
)
from assessment.evaluation.multiplicity import METHODS, adjust, newcombe_p
from assessment.evaluation.result import Estimate, MissingnessRow, clean
from assessment.evaluation.spec import EvaluationSpec

MISSINGNESS_DIFFERENCE = 0.02
CHUNK = 1 << 20  # rows per chunk when counting cells (8 MB of int64 keys)
DENSE_CELLS = 1 << 20  # up to this many cell × reason counts: one array (8 MB), else sorting
METHOD = (
    "exclusion rate of the group minus that of all other rows read, "
    f"{iv.NEWCOMBE}; flagged when the interval excludes 0 and the rates differ by more than "
    f"{MISSINGNESS_DIFFERENCE:g}"
)


def with_intersections(inputs: EvaluationInput, groupings: Sequence[Grouping]) -> Provenance:
    """The provenance with rows read and rows excluded (by reason) for every cell of every
    intersection in ``groupings`` added to ``rows_by_group`` / ``excluded_by_group`` under the
    intersection's name (e.g. ``"race×sex"``), cells labelled as the engine labels them.

    Rows read per cell = the cell's rows used (one bincount of the grouping's codes) + its
    excluded rows (one bincount over the excluded rows' mixed-radix cell × reason code), so
    O(rows) per intersection; a cell that lost every row is still listed. Unchanged when the
    excluded rows were not recorded although some were excluded (arrays built by hand).
    """
    prov = inputs.provenance
    ex = inputs.excluded_rows
    inter = [gp for gp in groupings if len(gp.components) > 1]
    if not inter or (ex is None and any(prov.excluded.values())):
        return prov
    rows = dict(prov.rows_by_group)
    excluded = dict(prov.excluded_by_group)
    for gp in inter:
        rows[gp.name], excluded[gp.name] = _cell_counts(gp, inputs)
    return replace(prov, rows_by_group=rows, excluded_by_group=excluded)


def _cell_counts(
    gp: Grouping, inputs: EvaluationInput
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Rows read and excluded by reason per cell of one intersection, in the order of the
    cells' level indices (the engine's order when no level lost every row)."""
    used = np.zeros(gp.size, dtype=np.int64)
    for start in range(0, gp.codes.size, CHUNK):  # bincount widens to 8 bytes: by chunks
        used += np.bincount(gp.codes[start : start + CHUNK], minlength=gp.size)
    ex = inputs.excluded_rows
    if ex is None or ex.reason.size == 0:
        return {lab: int(k) for lab, k in zip(gp.labels, used, strict=True) if k}, {}
    by_name = {a.name: a for a in ex.attributes}
    parts = [by_name[c] for c in gp.components]
    radix = [len(a.levels) for a in parts]
    # each used cell's mixed-radix index over the levels before exclusion
    index = [{str(lvl): i for i, lvl in enumerate(a.levels)} for a in parts]
    used_cell: dict[int, int] = {}
    for g, cell_levels in enumerate(gp.cells):
        mixed = 0
        for lookup, r, lvl in zip(index, radix, cell_levels, strict=True):
            mixed = mixed * r + lookup[lvl]
        used_cell[mixed] = int(used[g])
    lost: dict[int, dict[str, int]] = {}
    for key, count in _cell_reason_counts(ex, parts, radix):
        cell, reason = divmod(key, len(ex.reasons))
        lost.setdefault(cell, {})[ex.reasons[reason]] = count
    read: dict[str, int] = {}
    excl: dict[str, dict[str, int]] = {}
    for cell in sorted(used_cell.keys() | lost.keys()):
        levels: list[str] = []
        rest = cell
        for a, r in zip(reversed(parts), reversed(radix), strict=True):
            rest, k = divmod(rest, r)
            levels.append(str(a.levels[k]))
        label = INTERSECTION_SEP.join(reversed(levels))
        reasons = lost.get(cell, {})
        read[label] = used_cell.get(cell, 0) + sum(reasons.values())
        if reasons:
            excl[label] = reasons
    return read, excl


def _cell_reason_counts(
    ex: ExcludedRows, parts: Sequence[Attribute], radix: Sequence[int]
) -> list[tuple[int, int]]:
    """(cell × reasons + reason, rows) of the excluded rows, the cell a mixed-radix index over
    the levels before exclusion. By chunks of rows (a few MB at any size); a bincount over the
    possible cells when they are few, else a sort of each chunk (3 attributes of 200 levels)."""
    n_reasons = len(ex.reasons)
    total = int(np.prod(radix, dtype=np.int64)) * n_reasons
    dense = np.zeros(total, dtype=np.int64) if total <= DENSE_CELLS else None
    sparse: Counter[int] = Counter()
    for start in range(0, ex.reason.size, CHUNK):
        stop = start + CHUNK
        key = np.zeros(min(stop, ex.reason.size) - start, dtype=np.int64)
        for a, r in zip(parts, radix, strict=True):
            key = key * r + a.codes[start:stop]
        key = key * n_reasons + ex.reason[start:stop]
        if dense is not None:
            dense += np.bincount(key, minlength=total)
        else:
            hits, counts = np.unique(key, return_counts=True)
            sparse.update(dict(zip(hits.tolist(), counts.tolist(), strict=True)))
    if dense is not None:
        hit = np.flatnonzero(dense)
        return list(zip(hit.tolist(), dense[hit].tolist(), strict=True))
    return sorted(sparse.items())


def missingness(
    provenance: Provenance, spec: EvaluationSpec
) -> tuple[list[MissingnessRow], list[str], str]:
    """Rows, notes and the method text; no rows when nothing was excluded."""
    if not any(provenance.excluded.values()) or not provenance.rows_by_group:
        return [], [], METHOD
    keys: list[tuple[str, str]] = []
    read: list[int] = []
    lost: list[int] = []
    rest_read: list[int] = []
    rest_lost: list[int] = []
    for attr, groups in provenance.rows_by_group.items():
        total_read = sum(groups.values())
        excl = provenance.excluded_by_group.get(attr, {})
        total_lost = sum(sum(r.values()) for r in excl.values())
        for group, n in groups.items():
            k = sum(excl.get(group, {}).values())
            keys.append((attr, group))
            read.append(n)
            lost.append(k)
            rest_read.append(total_read - n)
            rest_lost.append(total_lost - k)
    k1, n1, k2, n2 = (np.asarray(a, dtype=np.float64) for a in (lost, read, rest_lost, rest_read))
    d, lo, hi = iv.newcombe(k1, n1, k2, n2, spec.ci_level)
    p = newcombe_p(k1, n1, k2, n2)
    p_adj = adjust(p, spec.multiplicity)
    alpha = 1 - spec.ci_level
    pct = f"{100 * spec.ci_level:g}%"
    rows = []
    for i, (attr, group) in enumerate(keys):
        has_rest = n2[i] > 0
        value = clean(d[i]) if has_rest else None
        ci_lo, ci_hi = (clean(lo[i]), clean(hi[i])) if value is not None else (None, None)
        big = value is not None and abs(value) > MISSINGNESS_DIFFERENCE
        excludes = ci_lo is not None and ci_hi is not None and (ci_lo > 0 or ci_hi < 0)
        flagged = bool(big and excludes)
        flagged_adj = bool(big and np.isfinite(p_adj[i]) and p_adj[i] < alpha)
        if value is None:
            reason: str | None = "no other rows to compare with (the attribute has one group)"
        elif flagged or flagged_adj:
            reason = (
                f"exclusion rate {k1[i] / n1[i]:.1%} vs {k2[i] / n2[i]:.1%} in the rest: "
                f"difference {value:+.3f} beyond ±{MISSINGNESS_DIFFERENCE:g}"
                + (f", {pct} CI excludes 0" if flagged else "")
                + (f", adjusted p = {p_adj[i]:.2g}" if flagged_adj else "")
            )
        else:
            reason = None
        rows.append(
            MissingnessRow(
                attribute=attr,
                group=group,
                rows_read=int(n1[i]),
                excluded=int(k1[i]),
                by_reason=dict(provenance.excluded_by_group.get(attr, {}).get(group, {})),
                rate=clean(k1[i] / n1[i]) if n1[i] > 0 else None,
                rest_rate=clean(k2[i] / n2[i]) if has_rest else None,
                difference=Estimate(
                    value, ci_lo, ci_hi, iv.NEWCOMBE, reason if value is None else None
                ),
                p_value=clean(p[i]),
                p_adjusted=clean(p_adj[i]),
                flagged=flagged,
                flagged_adjusted=flagged_adj,
                reason=reason,
            )
        )
    notes = []
    hits = [r for r in rows if r.flagged_adjusted or r.flagged]
    if hits:
        listed = "; ".join(
            f"{r.attribute} = {r.group}: {r.excluded:,} of {r.rows_read:,} rows excluded "
            f"({(r.rate or 0):.1%} vs {(r.rest_rate or 0):.1%} in the rest"
            + (", after adjustment" if r.flagged_adjusted else ", unadjusted only")
            + ")"
            for r in hits[:10]
        )
        more = f" and {len(hits) - 10} more" if len(hits) > 10 else ""
        notes.append(
            f"differential missingness: {len(hits)} group(s) lose more or fewer rows to "
            f"exclusion than the rest ({listed}{more}); their metrics come from a selected "
            f"subset. Family for the adjustment: every group of every attribute and every "
            f"intersection cell in this check, "
            f"{METHODS[spec.multiplicity]}."
        )
    return rows, notes, METHOD
