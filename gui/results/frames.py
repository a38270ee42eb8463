"""Tabulate an EvaluationResult JSON snapshot for display and export.

Only reshaping: every number comes from the engine's result (or from its threshold fast path);
nothing is computed here. The frames are built once per result and shown through the shared
:class:`gui.data.table_model.DataFrameModel`, so they are treated as immutable.
"""

from __future__ import annotations

from typing import Any

# Views of the catalogue, re-exported for the results page.
from assessment.catalogue import METRIC_IDS as METRIC_IDS
from assessment.catalogue import METRIC_LABELS as METRIC_LABELS
from assessment.catalogue import THRESHOLD_METRICS as THRESHOLD_METRICS
from assessment.catalogue import metric_label as metric_label

GROUP_COLUMNS = ("Attribute", "Group", "n", "Events", "Value", "CI low", "CI high", "Flags")



def group_entries(result: dict[str, Any], *, include_overall: bool = True) -> list[dict[str, Any]]:
    """The overall entry (if any) followed by every group entry, in the engine's order."""
    entries: list[dict[str, Any]] = []
    overall = result.get("overall")
    if include_overall and isinstance(overall, dict):
        entries.append(overall)
    entries.extend(result.get("groups") or [])
    return entries


def attributes(result: dict[str, Any]) -> list[str]:
    """Attribute names in first-seen order (single attributes before intersections)."""
    seen: list[str] = []
    for g in result.get("groups") or []:
        if g["attribute"] not in seen:
            seen.append(g["attribute"])
    return seen


def _flags_text(entry: dict[str, Any]) -> str:
    flags = list(entry.get("flags") or [])
    return ", ".join(f.replace("_", " ") for f in flags)


def groups_frame(
    result: dict[str, Any],
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
        if attribute is not None and e["attribute"] not in (attribute, "(all)"):
            continue
        m = (e.get("metrics") or {}).get(metric) or {}
        value, lo, hi = m.get("value"), m.get("ci_low"), m.get("ci_high")
        if override is not None:
            value = override.get((e["attribute"], e["group"]), value)
            lo = hi = None
        flags = _flags_text(e)
        if (e["attribute"], e["group"]) in flagged:
            flags = ", ".join(x for x in (flags, "gap vs reference") if x)
        if m.get("value") is None and m.get("reason") and override is None:
            flags = ", ".join(x for x in (flags, m["reason"]) if x)
        rows.append(
            {
                "Attribute": e["attribute"],
                "Group": e["group"],
                "n": int(e.get("n", 0)),
                "Events": int(e.get("n_pos", 0)),
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


def flagged_groups(result: dict[str, Any], metric: str) -> set[tuple[str, str]]:
    """(attribute, group) pairs whose disparity on ``metric`` the engine flagged (after the
    multiplicity adjustment; results from before it have only the unadjusted flag)."""
    return {
        (d["attribute"], d["group"])
        for d in result.get("disparities") or []
        if d.get("metric") == metric and adjusted_flag(d)
    }


def adjusted_flag(d: dict[str, Any]) -> bool:
    return bool(d.get("flagged_adjusted", d.get("flagged")))


def _f(value: Any) -> float:
    return float("nan") if value is None else float(value)


def long_groups_frame(result: dict[str, Any]) -> Any:
    """Every group × every metric (for export): value, CI, method, reason."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for e in group_entries(result):
        for metric_id, m in (e.get("metrics") or {}).items():
            rows.append(
                {
                    "attribute": e["attribute"],
                    "group": e["group"],
                    "n": int(e.get("n", 0)),
                    "events": int(e.get("n_pos", 0)),
                    "metric": metric_id,
                    "value": _f(m.get("value")),
                    "ci_low": _f(m.get("ci_low")),
                    "ci_high": _f(m.get("ci_high")),
                    "method": m.get("method") or "",
                    "reason": m.get("reason") or "",
                    "flags": ", ".join(e.get("flags") or []),
                }
            )
    return pd.DataFrame(rows)


def disparities_frame(result: dict[str, Any], metric: str | None = None,
                      attribute: str | None = None) -> Any:
    """Difference and ratio to the reference group with CIs; ``metric`` and ``attribute``
    filter when given."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for d in result.get("disparities") or []:
        if metric is not None and d.get("metric") != metric:
            continue
        if attribute is not None and d.get("attribute") != attribute:
            continue
        diff, ratio = d.get("difference") or {}, d.get("ratio") or {}
        rows.append(
            {
                "Attribute": d["attribute"],
                "Group": d["group"],
                "Reference": d.get("reference", ""),
                "Metric": metric_label(d.get("metric", "")),
                "Difference": _f(diff.get("value")),
                "Diff. CI low": _f(diff.get("ci_low")),
                "Diff. CI high": _f(diff.get("ci_high")),
                "Ratio": _f(ratio.get("value")),
                "Ratio CI low": _f(ratio.get("ci_low")),
                "Ratio CI high": _f(ratio.get("ci_high")),
                "Tolerance": d.get("tolerance") or "",
                "Adjusted p": _f(d.get("p_adjusted")),
                "Flagged": "flagged" if adjusted_flag(d) else (
                    "unadjusted only" if d.get("flagged") else ""),
                "Reason": d.get("reason") or "",
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


def summary_frame(result: dict[str, Any]) -> Any:
    import pandas as pd

    rows = [
        {
            "Attribute": s["attribute"],
            "Measure": str(s.get("measure", "")).replace("_", " "),
            "Value": _f(s.get("value")),
            "CI low": _f(s.get("ci_low")),
            "CI high": _f(s.get("ci_high")),
            "Method": s.get("method") or "",
            "Set by": " vs ".join(s.get("set_by") or []),
            "Left out": "; ".join(f"{g} ({why})" for g, why in
                                  (s.get("excluded_groups") or {}).items()),
            "Reason": s.get("reason") or "",
        }
        for s in result.get("summary") or []
    ]
    frame = pd.DataFrame(rows, columns=["Attribute", "Measure", "Value", "CI low", "CI high",
                                        "Set by", "Left out", "Reason", "Method"])
    for col in ("Value", "CI low", "CI high"):
        frame[col] = frame[col].astype("float64")
    return frame


def representativeness_frame(result: dict[str, Any]) -> Any:
    import pandas as pd

    rows = [
        {
            "Attribute": r["attribute"],
            "Group": r["group"],
            "Validation n": int(r.get("validation_n") or 0),
            "Validation share": _f(r.get("validation_share")),
            "Training share": _f(r.get("training_share")),
            "Reference share": _f(r.get("reference_share")),
            "Flag": str(r.get("flag") or "").replace("_", " "),
            "Reason": r.get("reason") or "",
        }
        for r in result.get("representativeness") or []
    ]
    columns = ["Attribute", "Group", "Validation n", "Validation share", "Training share",
               "Reference share", "Flag", "Reason"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns[3:6]:
        frame[col] = frame[col].astype("float64")
    return frame


def missingness_frame(result: dict[str, Any]) -> Any:
    """Rows excluded per group and reason, with the differential-missingness check."""
    import pandas as pd

    rows = []
    for m in result.get("missingness") or []:
        diff = m.get("difference") or {}
        rows.append(
            {
                "Attribute": m["attribute"],
                "Group": m["group"],
                "Rows read": int(m.get("rows_read") or 0),
                "Excluded": int(m.get("excluded") or 0),
                "By reason": "; ".join(
                    f"{k}: {v:,}" for k, v in (m.get("by_reason") or {}).items()
                ),
                "Rate": _f(m.get("rate")),
                "Rest rate": _f(m.get("rest_rate")),
                "Difference": _f(diff.get("value")),
                "Diff. CI low": _f(diff.get("ci_low")),
                "Diff. CI high": _f(diff.get("ci_high")),
                "Adjusted p": _f(m.get("p_adjusted")),
                "Flagged": "flagged" if m.get("flagged_adjusted") else (
                    "unadjusted only" if m.get("flagged") else ""),
                "Reason": m.get("reason") or "",
            }
        )
    columns = ["Attribute", "Group", "Rows read", "Excluded", "By reason", "Rate", "Rest rate",
               "Difference", "Diff. CI low", "Diff. CI high", "Adjusted p", "Flagged", "Reason"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns[5:11]:
        frame[col] = frame[col].astype("float64")
    return frame


def grid_metrics_at(result: dict[str, Any], metric: str, threshold: float
                    ) -> tuple[float, dict[tuple[str, str], float | None]] | None:
    """Nearest stored threshold-grid point for a metric the grid holds, or None.

    Used when the validation data is not loaded (a reopened assessment): the snapshot's
    ``threshold_grid`` still lets the slider show TPR, FPR, PPV and selection rate.
    """
    grid = result.get("threshold_grid") or {}
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
