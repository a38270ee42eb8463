"""Semantic checks of a stored evaluation result: numbers that make sense, not only numbers.

The codec (:mod:`assessment.codec`) reads a result's *types*; a hand-edited or hostile file can
still say TPR = 7.5, n_pos > n, a confidence interval whose low end is above its high end or
that leaves out its own estimate, a p-value of 3. :func:`check_result_sense` refuses such a
result with :class:`~assessment.jsoncheck.Invalid` naming the JSON path and the problem (the
document loader turns it into its one-line message). Every check holds for every result the
engine writes (tested on COMPAS, Diabetes-130, the demo, the schema-1 fixtures and
hypothesis-generated data), with a rounding allowance of :data:`EPS`:

- groups: n_pos + n_neg = n; prevalence = n_pos / n;
- a proportion, AUROC, balanced accuracy, F1 or Brier score lies in [0, 1], as do the limits
  of a proportion's interval (Wilson); an O/E ratio is ≥ 0;
- every interval (a group's metric, a difference, a ratio, a summary measure): both limits or
  neither, low ≤ high, and the estimate within them;
- a ratio is ≥ 0 (not its limits: percentile-bootstrap F1 ratio limits come out a little
  below 0 on real data, so a limit check would refuse real files); p-values lie in [0, 1],
  the adjusted one not below the unadjusted one; a flag after adjustment implies the
  unadjusted flag;
- shares (representativeness) and missingness rates lie in [0, 1]; excluded ≤ rows read;
- provenance: rows used + rows excluded = rows read, when all three are stated.

The verdicts are re-derived from the stored numbers (:func:`check_verdicts`), so a flag cannot be
added, removed or moved by hand:

- mirror metrics: FNR = 1 − TPR and TNR = 1 − FPR in every group (to rounding), and a mirror
  member (TNR, FNR) carries its primary's (FPR, TPR) flags and adjusted p-value;
- a disparity's difference is the group's value minus its reference's, its ratio the group's
  value over the reference's (to rounding; the reference is the overall population when the
  settings say so, else the named group of the same attribute);
- the unadjusted flag is exactly the engine's rule on the stored numbers: the interval of the
  measure the tolerance is stated in excludes parity, the gap is beyond the tolerance (from the
  stored settings) and the p-value, when there is one, is below 1 − the CI level; a flag without
  the rule and a gap that meets the rule unflagged are both refused;
- the adjusted p-values are the Holm or Benjamini–Hochberg adjustment of the stored p-values in
  each metric family, and the adjusted flag is the unadjusted flag with p_adjusted below
  1 − the CI level; a differential-missingness flag after adjustment has its adjusted p-value
  below 1 − the CI level.

:func:`assessment.evaluation.record.check_result_json` reads a result embedded in another
document (a comparison dossier's per-model results) through the same checks.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from assessment.catalogue import PROPORTION_METRICS
from assessment.evaluation.mirrors import MIRRORS as _MIRRORS
from assessment.evaluation.mirrors import judged_on, primary_of
from assessment.evaluation.spec import DEFAULT_TOLERANCES, MetricTolerance
from assessment.jsoncheck import Invalid, key_path

if TYPE_CHECKING:
    from assessment.evaluation.result import (
        Disparity,
        EvaluationResult,
        GroupResult,
        SummaryMeasure,
    )
    from assessment.evaluation.spec import EvaluationSpec

#: Rounding allowance of the comparisons (results are written by floating-point arithmetic).
EPS = 1e-9
UNIT_METRICS = frozenset((*PROPORTION_METRICS, "auroc", "balanced_accuracy", "f1", "brier"))
NON_NEGATIVE_METRICS = frozenset(("oe_ratio",))
ADVICE = "the file was changed after Probity wrote it; re-run the evaluation to replace it"
#: Rounding allowance of a re-derived value (a difference, a ratio, a mirror 1 − x, an adjusted
#: p-value): the engine computes them from the same counts in another order.
DERIVED_EPS = 1e-9
#: non-primary mirror member -> its primary (as :data:`assessment.evaluation.mirrors.MIRRORS`)
MIRRORS = dict(_MIRRORS)
#: metrics never flagged (as :data:`assessment.evaluation.multiplicity.NEVER_FLAGGED`)
NEVER_FLAGGED = frozenset(("prevalence",))
#: the ratio's reason when the reference value is 0 and the group's is positive (the flag is then
#: judged on the difference interval; as :data:`assessment.evaluation.references.REF_ZERO_INFINITE`)
#: the note of a schema-1 result from before the multiplicity adjustment, whose adjusted flags
#: repeat the unadjusted ones (as :data:`assessment.schema.UNADJUSTED_NOTE`)
UNADJUSTED_NOTE = (
    "This evaluation was stored by an earlier Probity without multiplicity-adjusted flags: its "
    "adjusted flags repeat the unadjusted ones; run it again for Holm/BH-adjusted flags."
)
#: how a mirror member's reason and tolerance start ("judged on FPR, its mirror")
JUDGED_ON = "judged on"
REF_ZERO_INFINITE = (
    "the reference value is 0, so the ratio is infinite (the flag is judged on the difference "
    "interval)"
)


def _bad(path: str, what: str) -> Invalid:
    return Invalid(path, f"{what} ({ADVICE})")


def _finite(v: float | None, path: str) -> None:
    if v is not None and not math.isfinite(v):
        raise _bad(path, f"expected a finite number, got {v}")


def _within(v: float | None, low: float, high: float, path: str, what: str) -> None:
    if v is not None and not low - EPS <= v <= high + EPS:
        span = f"[{low:g}, {high:g}]" if math.isfinite(high) else f"at least {low:g}"
        raise _bad(path, f"{what} {v:g} is outside {span}" if math.isfinite(high) else
                   f"{what} {v:g} is not {span}")  # fmt: skip


def _interval(value: float | None, low: float | None, high: float | None, path: str) -> None:
    """Both limits or neither; low ≤ high; the estimate within them."""
    for key, v in (("value", value), ("ci_low", low), ("ci_high", high)):
        _finite(v, key_path(path, key))
    if (low is None) != (high is None):
        raise _bad(path, "an interval needs both limits or neither, got one")
    if value is None and low is not None:
        raise _bad(key_path(path, "value"), "an interval without its estimate (null)")
    if low is None or high is None:
        return
    if low > high + EPS:
        raise _bad(key_path(path, "ci_low"), f"the interval's low end {low:g} is above its "
                   f"high end {high:g}")  # fmt: skip
    if value is not None:
        slack = EPS * max(1.0, abs(value))
        if not low - slack <= value <= high + slack:
            raise _bad(path, f"the estimate {value:g} lies outside its own interval "
                       f"[{low:g}, {high:g}]")  # fmt: skip


def _group(g: GroupResult, path: str) -> None:
    if g.n_pos + g.n_neg != g.n:
        raise _bad(path, f"n_pos {g.n_pos} + n_neg {g.n_neg} is not n {g.n}")
    for mid, m in g.metrics.items():
        mpath = key_path(key_path(path, "metrics"), mid)
        _interval(m.value, m.ci_low, m.ci_high, mpath)
        if mid in UNIT_METRICS:
            _within(m.value, 0.0, 1.0, key_path(mpath, "value"), mid.upper())
        if mid in PROPORTION_METRICS:
            _within(m.ci_low, 0.0, 1.0, key_path(mpath, "ci_low"), f"{mid.upper()}'s limit")
            _within(m.ci_high, 0.0, 1.0, key_path(mpath, "ci_high"), f"{mid.upper()}'s limit")
        if mid in NON_NEGATIVE_METRICS:
            _within(m.value, 0.0, math.inf, key_path(mpath, "value"), mid)
    prev = g.metrics.get("prevalence")
    if prev is not None and prev.value is not None and g.n > 0:
        if abs(prev.value - g.n_pos / g.n) > 1e-6:
            raise _bad(key_path(key_path(path, "metrics"), "prevalence") + ".value",
                       f"prevalence {prev.value:g} is not n_pos / n = {g.n_pos}/{g.n}")  # fmt: skip


def _p(v: float | None, path: str) -> None:
    _finite(v, path)
    _within(v, 0.0, 1.0, path, "the p-value")


def check_result_sense(r: EvaluationResult, path: str = "$") -> None:
    """Refuse (:class:`Invalid`, naming the JSON path) a result whose numbers cannot be true."""
    _group(r.overall, key_path(path, "overall"))
    for i, g in enumerate(r.groups):
        _group(g, f"{path}.groups[{i}]")
    for i, d in enumerate(r.disparities):
        dpath = f"{path}.disparities[{i}]"
        _interval(d.difference.value, d.difference.ci_low, d.difference.ci_high,
                  key_path(dpath, "difference"))  # fmt: skip
        rpath = key_path(dpath, "ratio")
        _interval(d.ratio.value, d.ratio.ci_low, d.ratio.ci_high, rpath)
        _within(d.ratio.value, 0.0, math.inf, key_path(rpath, "value"), "a ratio")
        _p(d.p_value, key_path(dpath, "p_value"))
        _p(d.p_adjusted, key_path(dpath, "p_adjusted"))
        if d.p_value is not None and d.p_adjusted is not None:
            if d.p_adjusted < d.p_value - EPS:
                raise _bad(key_path(dpath, "p_adjusted"), f"the adjusted p-value "
                           f"{d.p_adjusted:g} is below the unadjusted {d.p_value:g}")  # fmt: skip
        if d.flagged_adjusted and not d.flagged:
            raise _bad(key_path(dpath, "flagged_adjusted"),
                       "flagged after adjustment but not before")  # fmt: skip
    for i, s in enumerate(r.summary):
        _interval(s.value, s.ci_low, s.ci_high, f"{path}.summary[{i}]")
    for i, row in enumerate(r.representativeness):
        rp = f"{path}.representativeness[{i}]"
        for key in ("validation_share", "training_share", "reference_share"):
            _finite(getattr(row, key), key_path(rp, key))
            _within(getattr(row, key), 0.0, 1.0, key_path(rp, key), "a share")
    for i, mrow in enumerate(r.missingness):
        mp = f"{path}.missingness[{i}]"
        if mrow.excluded > mrow.rows_read:
            raise _bad(key_path(mp, "excluded"), f"{mrow.excluded} rows excluded of "
                       f"{mrow.rows_read} read")  # fmt: skip
        for key in ("rate", "rest_rate"):
            _finite(getattr(mrow, key), key_path(mp, key))
            _within(getattr(mrow, key), 0.0, 1.0, key_path(mp, key), "a rate")
        _p(mrow.p_value, key_path(mp, "p_value"))
        _p(mrow.p_adjusted, key_path(mp, "p_adjusted"))
    _provenance(r.provenance, key_path(path, "provenance"))
    check_verdicts(r, path)


def _provenance(p: dict[str, Any], path: str) -> None:
    read, used, excluded = (p.get(k) for k in ("rows_read", "rows_used", "rows_excluded"))
    if not (isinstance(read, int) and isinstance(used, int) and isinstance(excluded, int)):
        return
    if used + excluded != read:
        raise _bad(path, f"rows_used {used} + rows_excluded {excluded} is not rows_read {read}")


# ---------------------------------------------------------------------------- the verdicts


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= DERIVED_EPS * max(1.0, abs(a), abs(b))


def _num(v: float | None) -> str:
    return "null" if v is None else f"{v:.6g}"


def check_verdicts(r: EvaluationResult, path: str = "$") -> None:
    """Refuse (:class:`Invalid`) a result whose flags, mirror values, differences, ratios or
    adjusted p-values are not what its own numbers give (see the module docstring)."""
    for i, g in enumerate(r.groups):
        _mirror_values(g, f"{path}.groups[{i}]")
        _count_identities(g, f"{path}.groups[{i}]")
    _mirror_values(r.overall, key_path(path, "overall"))
    _count_identities(r.overall, key_path(path, "overall"))
    spec = r.evaluation_spec()
    values = {(g.attribute, g.group): g for g in r.groups}
    primaries = {
        (d.attribute, d.group, d.reference, d.metric): d
        for d in r.disparities
        if d.metric in MIRRORS.values()
    }
    # A result written before a mirror pair had one verdict (no "judged on FPR, its mirror"
    # tolerance; also before the flag needed its p-value below 1 − the level): each member was
    # judged on its own stored tolerance, and the unadjusted flag on the interval alone. Koopman
    # ratio intervals came after both, so their method statement also marks the current rule.
    current = "Koopman" in r.methods.get("disparity_ratio_proportion", "") or any(
        d.metric in MIRRORS and (d.tolerance or "").startswith(JUDGED_ON) for d in r.disparities
    )
    # before the multiplicity adjustment (migrated schema 1): the adjusted flag repeats the flag
    adjusted = UNADJUSTED_NOTE not in r.notes
    _group_rows(r, path)
    for i, d in enumerate(r.disparities):
        dpath = f"{path}.disparities[{i}]"
        group = values.get((d.attribute, d.group))
        if group is None:
            raise _bad(key_path(dpath, "group"), f"{d.attribute}={d.group} is not a group of "
                       "this result")  # fmt: skip
        overall = spec.reference.kind == "overall"
        ref = r.overall if overall else values.get((d.attribute, d.reference))
        if ref is None:
            raise _bad(key_path(dpath, "reference"), f"{d.attribute}={d.reference} is not a "
                       "group of this result")  # fmt: skip
        _gap_values(d, group, ref, dpath)
        if d.metric in MIRRORS:
            primary = primaries.get((d.attribute, d.group, d.reference, MIRRORS[d.metric]))
            if current and primary is not None:
                _mirror_verdict(d, primary, dpath)
            else:
                _flag_rule(
                    d, _parse_tolerance(d.tolerance), spec.ci_level, dpath, current, adjusted
                )
            continue
        _flag_rule(d, _tolerance(d, spec, dpath), spec.ci_level, dpath, current, adjusted)
    if adjusted:
        _adjusted(r, spec, path)
    for i, sm in enumerate(r.summary):
        _summary_value(r, sm, f"{path}.summary[{i}]")
    _missingness(r, spec, path)


#: the exclusion-rate gap a missingness flag needs (as missingness.MISSINGNESS_DIFFERENCE)
MISSINGNESS_DIFFERENCE = 0.02


def _missingness(r: EvaluationResult, spec: EvaluationSpec, path: str) -> None:
    """Differential missingness: the rate is excluded / rows read, the difference the rate minus
    the rest's; flagged when the gap is beyond ±0.02 and its interval excludes 0, after
    adjustment when the gap is beyond ±0.02 and the adjusted p-value is below 1 − the level."""
    alpha = 1 - spec.ci_level  # as missingness.py
    for i, m in enumerate(r.missingness):
        mp = f"{path}.missingness[{i}]"
        if m.rate is not None and m.rows_read > 0 and not _close(m.rate, m.excluded / m.rows_read):
            raise _bad(key_path(mp, "rate"), f"{m.rate:.6g} is not {m.excluded} excluded of "
                       f"{m.rows_read} read")  # fmt: skip
        d = m.difference
        if d.value is not None and m.rate is not None and m.rest_rate is not None:
            if not _close(d.value, m.rate - m.rest_rate):
                raise _bad(f"{mp}.difference.value", f"{d.value:.6g} is not the rate "
                           f"{m.rate:.6g} minus the rest's {m.rest_rate:.6g}")  # fmt: skip
        big = d.value is not None and abs(d.value) > MISSINGNESS_DIFFERENCE
        excludes = (
            d.ci_low is not None and d.ci_high is not None and (d.ci_low > 0 or d.ci_high < 0)
        )
        q = m.p_adjusted
        for key, want in (
            ("flagged", big and excludes),
            ("flagged_adjusted", big and q is not None and q < alpha),
        ):
            if getattr(m, key) != want:
                raise _bad(key_path(mp, key), f"{getattr(m, key)} contradicts the gap "
                           f"{_num(d.value)} (a flag needs more than ±{MISSINGNESS_DIFFERENCE:g}), "
                           f"its interval and its adjusted p-value {_num(q)}")  # fmt: skip


# summary measure -> (its metrics, "range" or "ratio"), as assessment.evaluation.summary.MEASURES
SUMMARY_MEASURES: dict[str, tuple[tuple[str, ...], str]] = {
    "equalized_odds_difference": (("tpr", "fpr"), "range"),
    "equal_opportunity_difference": (("tpr",), "range"),
    "demographic_parity_difference": (("selection_rate",), "range"),
    "demographic_parity_ratio": (("selection_rate",), "ratio"),
    "auroc_gap": (("auroc",), "range"),
}


def _summary_value(r: EvaluationResult, sm: SummaryMeasure, path: str) -> None:
    """A summary measure is the range (or min/max ratio) of its metric over the groups of its
    attribute that it does not list as left out (results that list them)."""
    how = SUMMARY_MEASURES.get(sm.measure)
    if how is None or sm.value is None or sm.excluded_groups is None:
        return
    mids, kind = how
    left = sm.excluded_groups
    groups = [g for g in r.groups if g.attribute == sm.attribute and g.group not in left]
    gaps: list[float] = []
    for mid in mids:
        vals = [m.value for g in groups if (m := g.metrics.get(mid)) is not None]
        if len(vals) != len(groups) or any(v is None for v in vals) or len(vals) < 2:
            return  # not derivable from what is stored
        got = [float(v) for v in vals if v is not None]
        if kind == "range":
            gaps.append(max(got) - min(got))
        elif max(got) > 0:
            gaps.append(min(got) / max(got))
        else:
            return
    want = max(gaps)
    if not _close(sm.value, want):
        raise _bad(key_path(path, "value"), f"{sm.measure} {sm.value:.6g} is not the "
                   f"{'range' if kind == 'range' else 'min/max ratio'} of its groups' "
                   f"{'/'.join(m.upper() for m in mids)} ({want:.6g})")  # fmt: skip


def _group_rows(r: EvaluationResult, path: str) -> None:
    """Everyone's n is the rows used; each group's n is at most its rows read
    (``provenance.rows_by_group``, counted before exclusion), and equal to it when no row was
    excluded."""
    prov = r.provenance
    used = prov.get("rows_used")
    if isinstance(used, int) and not isinstance(used, bool) and r.overall.n != used:
        raise _bad(f"{path}.overall.n", f"{r.overall.n} is not the {used} rows used")
    by_group = prov.get("rows_by_group")
    if not isinstance(by_group, dict):
        return
    none_excluded = prov.get("rows_excluded") == 0
    for i, g in enumerate(r.groups):
        rows = by_group.get(g.attribute)
        k = rows.get(g.group) if isinstance(rows, dict) else None
        if not isinstance(k, int) or isinstance(k, bool):
            continue
        if g.n > k or (none_excluded and g.n != k):
            raise _bad(f"{path}.groups[{i}].n", f"{g.attribute}={g.group} has n {g.n} but "
                       f"{k} rows read in provenance.rows_by_group"
                       + (" and no row was excluded" if g.n < k else ""))  # fmt: skip


def _count_identities(g: GroupResult, path: str) -> None:
    """Accuracy, selection rate, PPV, NPV, balanced accuracy and F1 are what the group's
    confusion counts give, the counts being tp = TPR·n_pos and fp = FPR·n_neg."""
    m = {k: v.value for k, v in g.metrics.items()}
    tpr, fpr = m.get("tpr"), m.get("fpr")
    tp = tpr * g.n_pos if tpr is not None else (0.0 if g.n_pos == 0 else None)
    fp = fpr * g.n_neg if fpr is not None else (0.0 if g.n_neg == 0 else None)
    if tp is None or fp is None or g.n == 0:
        return
    fn, tn = g.n_pos - tp, g.n_neg - fp
    want = {
        "selection_rate": (tp + fp) / g.n,
        "accuracy": (tp + tn) / g.n,
        "ppv": tp / (tp + fp) if tp + fp > 0 else None,
        "npv": tn / (tn + fn) if tn + fn > 0 else None,
        "balanced_accuracy": (tpr + 1 - fpr) / 2 if tpr is not None and fpr is not None else None,
        "f1": 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn > 0 else None,
    }
    for mid, w in want.items():
        got = m.get(mid)
        if got is not None and w is not None and not _close(got, w):
            where = f"{key_path(key_path(path, 'metrics'), mid)}.value"
            raise _bad(where, f"{mid} {got:.6g} is not what the group's TPR, FPR, n_pos and "
                       f"n_neg give ({w:.6g})")  # fmt: skip


def _mirror_values(g: GroupResult, path: str) -> None:
    """FNR = 1 − TPR and TNR = 1 − FPR (same denominator)."""
    for mirror, primary in MIRRORS.items():
        a, b = g.metrics.get(mirror), g.metrics.get(primary)
        if a is None or b is None:
            continue
        mpath = f"{key_path(key_path(path, 'metrics'), mirror)}.value"
        if (a.value is None) != (b.value is None):
            raise _bad(mpath, f"{mirror.upper()} is {_num(a.value)} but {primary.upper()} is "
                       f"{_num(b.value)}; one is 1 minus the other")  # fmt: skip
        if a.value is not None and b.value is not None and not _close(a.value, 1 - b.value):
            raise _bad(mpath, f"{mirror.upper()} {a.value:.6g} is not 1 − {primary.upper()} "
                       f"{b.value:.6g}")  # fmt: skip


def _gap_values(d: Disparity, group: GroupResult, ref: GroupResult, path: str) -> None:
    """The difference and ratio are the group's value against its reference's."""
    gm, rm = group.metrics.get(d.metric), ref.metrics.get(d.metric)
    if gm is None or rm is None or gm.value is None or rm.value is None:
        return
    gv, rv = gm.value, rm.value
    diff, ratio = d.difference.value, d.ratio.value
    if diff is not None and not _close(diff, gv - rv):
        raise _bad(key_path(key_path(path, "difference"), "value"), f"the difference {diff:.6g} "
                   f"is not {d.group}'s {gv:.6g} minus {d.reference}'s {rv:.6g}")  # fmt: skip
    if ratio is not None and rv != 0 and not _close(ratio, gv / rv):
        raise _bad(key_path(key_path(path, "ratio"), "value"), f"the ratio {ratio:.6g} is not "
                   f"{d.group}'s {gv:.6g} over {d.reference}'s {rv:.6g}")  # fmt: skip


def _tolerance(d: Disparity, spec: EvaluationSpec, path: str) -> MetricTolerance | None:
    """The tolerance ``d`` was judged with. One the settings name for its metric must be the
    stated one; a default may differ between Probity versions (TPR's became a difference limit
    after results had been written with the ratio band), so a result judged by its version's
    default is re-derived with the tolerance it states."""
    if d.metric in NEVER_FLAGGED:
        return None
    try:
        tol = spec.tolerance_for(d.metric)
    except KeyError:  # no tolerance: never flagged
        return None
    stated = _parse_tolerance(d.tolerance)
    if stated is not None and tol == DEFAULT_TOLERANCES.get(primary_of(d.metric)):
        return stated
    if d.tolerance is not None and d.tolerance != tol.describe():
        raise _bad(key_path(path, "tolerance"), f"{d.tolerance!r} is not the settings' "
                   f"tolerance for {d.metric} ({tol.describe()!r})")  # fmt: skip
    return tol


_RATIO_TOL = re.compile(r"ratio outside \[([^,\]]+), ([^\]]+)\]")
_DIFF_TOL = re.compile(r"\|difference\| > (\S+)")


def _parse_tolerance(text: str | None) -> MetricTolerance | None:
    """A stored tolerance statement read back (``MetricTolerance.describe``), or None."""
    try:
        if text is not None and (m := _RATIO_TOL.fullmatch(text)):
            return MetricTolerance("ratio", float(m.group(1)), float(m.group(2)))
        if text is not None and (m := _DIFF_TOL.fullmatch(text)):
            return MetricTolerance("diff", limit=float(m.group(1)))
    except ValueError:
        return None
    return None


def _mirror_verdict(d: Disparity, primary: Disparity, path: str) -> None:
    """A mirror member shows its primary's verdict (one verdict per pair)."""
    want = None if primary.tolerance is None else f"{judged_on(d.metric)}: {primary.tolerance}"
    if d.tolerance != want:
        raise _bad(key_path(path, "tolerance"), f"{d.tolerance!r} is not its mirror "
                   f"{primary.metric.upper()}'s tolerance ({primary.tolerance!r})")  # fmt: skip
    for key in ("flagged", "flagged_adjusted"):
        if getattr(d, key) != getattr(primary, key):
            raise _bad(key_path(path, key), f"{d.metric.upper()} and its mirror "
                       f"{primary.metric.upper()} disagree ({key} {getattr(d, key)} vs "
                       f"{getattr(primary, key)}); the pair has one verdict")  # fmt: skip
    a, b = d.p_adjusted, primary.p_adjusted
    if (a is None) != (b is None) or (a is not None and b is not None and not _close(a, b)):
        raise _bad(key_path(path, "p_adjusted"), f"{d.metric.upper()}'s adjusted p-value "
                   f"{_num(a)} is not its mirror {primary.metric.upper()}'s {_num(b)}")  # fmt: skip


def _excludes_parity(d: Disparity, tol: MetricTolerance) -> bool | None:
    """Whether the interval the rule reads excludes parity (None: no interval to judge)."""
    diff, ratio = d.difference, d.ratio
    diff_excl = (
        None if diff.ci_low is None or diff.ci_high is None
        else diff.ci_low > 0 or diff.ci_high < 0
    )  # fmt: skip
    if tol.kind == "diff":
        return diff_excl
    if ratio.value is None:  # infinite (reference 0): judged on the difference being above 0
        return None if diff.ci_low is None else diff.ci_low > 0
    if ratio.ci_low is not None and ratio.ci_high is not None:
        return ratio.ci_low > 1 or ratio.ci_high < 1
    return diff_excl


def _beyond(d: Disparity, tol: MetricTolerance) -> bool:
    assert d.difference.value is not None
    if tol.kind == "diff":
        return abs(d.difference.value) > tol.limit
    if d.ratio.value is None:
        return d.ratio.reason == REF_ZERO_INFINITE
    return d.ratio.value < tol.low or d.ratio.value > tol.high


def _flag_rule(
    d: Disparity,
    tol: MetricTolerance | None,
    level: float,
    path: str,
    current: bool,
    adjusted: bool = True,
) -> None:
    """The unadjusted flag is the engine's rule on the stored numbers (see the module docstring);
    the adjusted flag is the unadjusted one with the adjusted p-value below 1 − ``level``.
    Without a tolerance (``tol`` None) only the flag's interval and p-value are checked; in a
    result written before the current rule (``current`` False) the unadjusted flag did not
    need its p-value; without the adjustment (``adjusted`` False) the adjusted flag repeats the
    flag."""
    # as the engine: 0.05, not 0.05000…04 (before the current rule: 1 − level unrounded)
    alpha = round(1 - level, 12) if current else 1 - level
    pct = f"{100 * level:g}%"
    fpath = key_path(path, "flagged")
    if d.metric in NEVER_FLAGGED or d.difference.value is None:
        if d.flagged:
            raise _bad(fpath, f"flagged without a difference to judge ({d.metric})")
        return
    p_ok = d.p_value is None or d.p_value < alpha or not current
    if tol is None:  # either interval excluding parity may have carried the flag
        excludes: bool | None = any(
            _excludes_parity(d, MetricTolerance(kind)) for kind in ("ratio", "diff")
        )
        beyond = True
    else:
        excludes = _excludes_parity(d, tol)
        beyond = _beyond(d, tol)
    rule = bool(excludes) and beyond and p_ok
    if d.flagged and not rule:
        why = (
            f"its p-value {d.p_value:.3g} is not below {alpha:g}" if not p_ok
            else "there is no interval to judge it" if excludes is None
            else f"its {pct} interval includes parity" if not excludes
            else f"the gap is within its tolerance ({tol.describe() if tol else '?'})"
        )  # fmt: skip
        raise _bad(fpath, f"flagged, but {why}")
    if rule and not d.flagged and tol is not None:
        raise _bad(fpath, f"not flagged, but its {pct} interval excludes parity, the gap is "
                   f"beyond its tolerance ({tol.describe()}) and its p-value is "
                   f"{_num(d.p_value)}")  # fmt: skip
    if not adjusted:
        want = d.flagged
    else:
        want = d.flagged and d.p_adjusted is not None and d.p_adjusted < alpha
    if d.flagged_adjusted != want:
        raise _bad(key_path(path, "flagged_adjusted"), f"{d.flagged_adjusted} contradicts "
                   f"flagged {d.flagged} and the adjusted p-value {_num(d.p_adjusted)} "
                   f"(an adjusted flag needs both, below {alpha:g})")  # fmt: skip


def adjust_p(p: list[float], method: str) -> list[float]:
    """Holm (step-down) or Benjamini–Hochberg (step-up) adjusted p-values, capped at 1."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [0.0] * m
    if method == "holm":
        run = 0.0
        for rank, i in enumerate(order):
            run = max(run, (m - rank) * p[i])
            out[i] = min(run, 1.0)
    else:
        run = math.inf
        for rank in range(m - 1, -1, -1):
            i = order[rank]
            run = min(run, m / (rank + 1) * p[i])
            out[i] = min(run, 1.0)
    return out


def _adjusted(r: EvaluationResult, spec: EvaluationSpec, path: str) -> None:
    """Each metric family's adjusted p-values are the adjustment of its stored p-values."""
    families: dict[str, list[int]] = {}
    for i, d in enumerate(r.disparities):
        if d.metric in NEVER_FLAGGED or d.metric in MIRRORS:
            continue
        families.setdefault(d.metric, []).append(i)
    for idx in families.values():
        with_p = [i for i in idx if r.disparities[i].p_value is not None]
        for i in idx:
            if r.disparities[i].p_value is None and r.disparities[i].p_adjusted is not None:
                raise _bad(f"{path}.disparities[{i}].p_adjusted",
                           "an adjusted p-value without its p-value")  # fmt: skip
        ps = [float(r.disparities[i].p_value or 0.0) for i in with_p]
        for i, q in zip(with_p, adjust_p(ps, spec.multiplicity), strict=True):
            stored = r.disparities[i].p_adjusted
            if stored is None or not _close(stored, q):
                raise _bad(f"{path}.disparities[{i}].p_adjusted", f"the adjusted p-value "
                           f"{_num(stored)} is not the {spec.multiplicity} adjustment of the "
                           f"family's p-values ({q:.6g})")  # fmt: skip
