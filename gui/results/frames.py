"""Tabulate an :class:`EvaluationResult` (typed) for display and export.

Only reshaping: every number comes from the engine's result (or from its threshold fast path);
nothing is computed here. The frames are built once per result and shown through the shared
:class:`gui.data.table_model.DataFrameModel`, so they are treated as immutable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Views of the catalogue, re-exported for the results page.
from assessment.catalogue import METRIC_IDS as METRIC_IDS
from assessment.catalogue import METRIC_LABELS as METRIC_LABELS
from assessment.catalogue import THRESHOLD_METRICS as THRESHOLD_METRICS
from assessment.catalogue import metric_label as metric_label

if TYPE_CHECKING:
    from assessment.evaluation.result import Disparity, EvaluationResult, GroupResult

GROUP_COLUMNS = ("Attribute", "Group", "n", "Events", "Value", "CI low", "CI high", "Flags")



def group_entries(result: EvaluationResult, *, include_overall: bool = True
                  ) -> list[GroupResult]:
    """The overall entry (if any) followed by every group entry, in the engine's order."""
    return [result.overall, *result.groups] if include_overall else list(result.groups)


def attributes(result: EvaluationResult) -> list[str]:
    """Attribute names in first-seen order (single attributes before intersections)."""
    return result.attributes()


def _flags_text(entry: GroupResult) -> str:
    return ", ".join(f.replace("_", " ") for f in entry.flags)


def groups_frame(
    result: EvaluationResult,
    metric: str,
    *,
    attribute: str | None = None,
    override: dict[tuple[str, str], float | None] | None = None,
) -> Any:
    """One row per group: n, events, the metric's value and CI, flags.

    ``override`` maps (attribute, group) -> value at another threshold (from the engine's fast
    path); the CI columns are then blank, because the intervals were computed at the
    evaluated threshold only.
    """
    import pandas as pd

    flagged = flagged_groups(result, metric)
    rows: list[dict[str, Any]] = []
    for e in group_entries(result):
        if attribute is not None and e.attribute not in (attribute, "(all)"):
            continue
        m = e.metrics.get(metric)
        value = m.value if m is not None else None
        lo = m.ci_low if m is not None else None
        hi = m.ci_high if m is not None else None
        if override is not None:
            value = override.get((e.attribute, e.group), value)
            lo = hi = None
        flags = _flags_text(e)
        if (e.attribute, e.group) in flagged:
            flags = ", ".join(x for x in (flags, "gap vs reference") if x)
        if m is not None and m.value is None and m.reason and override is None:
            flags = ", ".join(x for x in (flags, m.reason) if x)
        rows.append(
            {
                "Attribute": e.attribute,
                "Group": e.group,
                "n": e.n,
                "Events": e.n_pos,
                "Value": _f(value),
                "CI low": _f(lo),
                "CI high": _f(hi),
                "Flags": flags,
            }
        )
    frame = pd.DataFrame(rows, columns=list(GROUP_COLUMNS))
    for col in ("Value", "CI low", "CI high"):
        frame[col] = frame[col].astype("float64")
    return frame


def flagged_groups(result: EvaluationResult, metric: str) -> set[tuple[str, str]]:
    """(attribute, group) pairs whose disparity on ``metric`` the engine flagged after the
    multiplicity adjustment."""
    return {(d.attribute, d.group) for d in result.disparities
            if d.metric == metric and adjusted_flag(d)}


def adjusted_flag(d: Disparity) -> bool:
    return d.flagged_adjusted


def _f(value: Any) -> float:
    return float("nan") if value is None else float(value)


def long_groups_frame(result: EvaluationResult) -> Any:
    """Every group × every metric (for export): value, CI, method, reason."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for e in group_entries(result):
        for metric_id, m in e.metrics.items():
            rows.append(
                {
                    "attribute": e.attribute,
                    "group": e.group,
                    "n": e.n,
                    "events": e.n_pos,
                    "metric": metric_id,
                    "value": _f(m.value),
                    "ci_low": _f(m.ci_low),
                    "ci_high": _f(m.ci_high),
                    "method": m.method,
                    "reason": m.reason or "",
                    "flags": ", ".join(e.flags),
                }
            )
    return pd.DataFrame(rows)


def disparities_frame(result: EvaluationResult, metric: str | None = None,
                      attribute: str | None = None) -> Any:
    """Difference and ratio to the reference group with CIs; ``metric`` and ``attribute``
    filter when given."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for d in result.disparities:
        if metric is not None and d.metric != metric:
            continue
        if attribute is not None and d.attribute != attribute:
            continue
        diff, ratio = d.difference, d.ratio
        rows.append(
            {
                "Attribute": d.attribute,
                "Group": d.group,
                "Reference": d.reference,
                "Metric": metric_label(d.metric),
                "Difference": _f(diff.value),
                "Diff. CI low": _f(diff.ci_low),
                "Diff. CI high": _f(diff.ci_high),
                "Ratio": _f(ratio.value),
                "Ratio CI low": _f(ratio.ci_low),
                "Ratio CI high": _f(ratio.ci_high),
                "Tolerance": d.tolerance or "",
                "Adjusted p": _f(d.p_adjusted),
                "Flagged": "flagged" if adjusted_flag(d) else (
                    "unadjusted only" if d.flagged else ""),
                "Reason": d.reason or "",
            }
        )
    columns = ["Attribute", "Group", "Reference", "Metric", "Difference", "Diff. CI low",
               "Diff. CI high", "Ratio", "Ratio CI low", "Ratio CI high", "Tolerance",
               "Adjusted p", "Flagged", "Reason"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["Adjusted p"] = frame["Adjusted p"].astype("float64")
    for col in columns[4:10]:
        frame[col] = frame[col].astype("float64")
    return frame


def summary_frame(result: EvaluationResult) -> Any:
    import pandas as pd

    rows = [
        {
            "Attribute": s.attribute,
            "Measure": s.measure.replace("_", " "),
            "Value": _f(s.value),
            "CI low": _f(s.ci_low),
            "CI high": _f(s.ci_high),
            "Method": s.method,
        }
        for s in result.summary
    ]
    frame = pd.DataFrame(rows, columns=["Attribute", "Measure", "Value", "CI low", "CI high",
                                        "Method"])
    for col in ("Value", "CI low", "CI high"):
        frame[col] = frame[col].astype("float64")
    return frame


def representativeness_frame(result: EvaluationResult) -> Any:
    import pandas as pd

    rows = [
        {
            "Attribute": r.attribute,
            "Group": r.group,
            "Validation n": r.validation_n,
            "Validation share": _f(r.validation_share),
            "Training share": _f(r.training_share),
            "Reference share": _f(r.reference_share),
            "Flag": (r.flag or "").replace("_", " "),
            "Reason": r.reason or "",
        }
        for r in result.representativeness
    ]
    columns = ["Attribute", "Group", "Validation n", "Validation share", "Training share",
               "Reference share", "Flag", "Reason"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns[3:6]:
        frame[col] = frame[col].astype("float64")
    return frame


def missingness_frame(result: EvaluationResult) -> Any:
    """Rows excluded per group and reason, with the differential-missingness check."""
    import pandas as pd

    rows = []
    for m in result.missingness:
        diff = m.difference
        rows.append(
            {
                "Attribute": m.attribute,
                "Group": m.group,
                "Rows read": m.rows_read,
                "Excluded": m.excluded,
                "By reason": "; ".join(f"{k}: {v:,}" for k, v in m.by_reason.items()),
                "Rate": _f(m.rate),
                "Rest rate": _f(m.rest_rate),
                "Difference": _f(diff.value),
                "Diff. CI low": _f(diff.ci_low),
                "Diff. CI high": _f(diff.ci_high),
                "Adjusted p": _f(m.p_adjusted),
                "Flagged": "flagged" if m.flagged_adjusted else (
                    "unadjusted only" if m.flagged else ""),
                "Reason": m.reason or "",
            }
        )
    columns = ["Attribute", "Group", "Rows read", "Excluded", "By reason", "Rate", "Rest rate",
               "Difference", "Diff. CI low", "Diff. CI high", "Adjusted p", "Flagged", "Reason"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns[5:11]:
        frame[col] = frame[col].astype("float64")
    return frame


def grid_metrics_at(result: EvaluationResult, metric: str, threshold: float
                    ) -> tuple[float, dict[tuple[str, str], float | None]] | None:
    """Nearest stored threshold-grid point for a metric the grid holds, or None.

    Used when the validation data is not loaded (a reopened assessment): the snapshot's
    ``threshold_grid`` still lets the slider show TPR, FPR, PPV and selection rate.
    """
    grid = result.threshold_grid
    thresholds = grid.get("thresholds") or []
    if not thresholds:
        return None
    k = min(range(len(thresholds)), key=lambda i: abs(float(thresholds[i]) - threshold))
    out: dict[tuple[str, str], float | None] = {}
    for g in grid.get("groups") or []:
        series = g.get(metric)
        if series is None:
            return None
        v = series[k]
        out[(g["attribute"], g["group"])] = None if v is None else float(v)
    return float(thresholds[k]), out
