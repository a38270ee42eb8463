"""Differential missingness: does one group lose more rows to exclusion than the rest?

Rows without an outcome, a score or a prediction are excluded before evaluation (each under its
first reason, see :func:`assessment.evaluation.mapping.prepare_input`). A group that loses many
more rows than the others is evaluated on a selected subset, which can bias its metrics without
any sign in them. For every level of every attribute, the exclusion rate of the group is
compared with that of all other rows read (group vs the rest, independent binomials) by the
difference of proportions with Newcombe's hybrid score interval (method 10).

Flag: the interval excludes 0 and the rates differ by more than :data:`MISSINGNESS_DIFFERENCE`
(absolute). ``flagged_adjusted`` uses the multiplicity-adjusted p-value (the family: every
group of every attribute in this check; the spec's method, Holm by default) instead of the
unadjusted interval.
"""

from __future__ import annotations

import numpy as np

from assessment.evaluation import intervals as iv
from assessment.evaluation.inputs import Provenance
from assessment.evaluation.multiplicity import METHODS, adjust, newcombe_p
from assessment.evaluation.result import Estimate, MissingnessRow, clean
from assessment.evaluation.spec import EvaluationSpec

MISSINGNESS_DIFFERENCE = 0.02
METHOD = (
    "exclusion rate of the group minus that of all other rows read, "
    f"{iv.NEWCOMBE}; flagged when the interval excludes 0 and the rates differ by more than "
    f"{MISSINGNESS_DIFFERENCE:g}"
)


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
            f"subset. Family for the adjustment: every group of every attribute in this check, "
            f"{METHODS[spec.multiplicity]}."
        )
    return rows, notes, METHOD
