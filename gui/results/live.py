"""The threshold slider's data source when the run's data is in memory: the engine's fast path.

``point_metrics_at_threshold`` recomputes the confusion-count metrics of every group at another
threshold with one bincount per grouping (milliseconds for a million rows); this adapter keys its
answer by (attribute, group) for :func:`gui.results.frames.groups_frame`.
"""

from __future__ import annotations

from typing import Any


def metrics_at_threshold(
    inputs: Any, spec: Any, threshold: float, metric: str
) -> dict[tuple[str, str], float | None]:
    from assessment.evaluation.engine import point_metrics_at_threshold

    out = point_metrics_at_threshold(inputs, spec, float(threshold))
    values: dict[tuple[str, str], float | None] = {}
    for entry in [out["overall"], *out["groups"]]:
        v = (entry.get("metrics") or {}).get(metric)
        values[(entry["attribute"], entry["group"])] = None if v is None else float(v)
    return values
