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
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from assessment.catalogue import PROPORTION_METRICS
from assessment.jsoncheck import Invalid, key_path

if TYPE_CHECKING:
    from assessment.evaluation.result import EvaluationResult, GroupResult

#: Rounding allowance of the comparisons (results are written by floating-point arithmetic).
EPS = 1e-9
UNIT_METRICS = frozenset((*PROPORTION_METRICS, "auroc", "balanced_accuracy", "f1", "brier"))
NON_NEGATIVE_METRICS = frozenset(("oe_ratio",))
ADVICE = "the file was changed after Probity wrote it; re-run the evaluation to replace it"


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


def _provenance(p: dict[str, Any], path: str) -> None:
    read, used, excluded = (p.get(k) for k in ("rows_read", "rows_used", "rows_excluded"))
    if not (isinstance(read, int) and isinstance(used, int) and isinstance(excluded, int)):
        return
    if used + excluded != read:
        raise _bad(path, f"rows_used {used} + rows_excluded {excluded} is not rows_read {read}")
