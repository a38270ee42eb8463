"""The threshold slider's data source when the run's data is in memory: the engine's fast path.

``point_metrics_at_threshold`` recomputes the confusion-count metrics of every group at another
threshold with one bincount per grouping (tens of milliseconds for a million rows, so the
results page runs it in a worker); this adapter keys its answer by metric and
(attribute, group) for :func:`gui.results.frames.groups_frame`.
"""

from __future__ import annotations

from typing import Any

LiveValues = dict[str, dict[tuple[str, str], float | None]]


def metrics_at_threshold(inputs: Any, spec: Any, threshold: float) -> LiveValues:
    """{metric id: {(attribute, group): value or None}} for every threshold-dependent metric."""
    from assessment.evaluation.engine import point_metrics_at_threshold

    out = point_metrics_at_threshold(inputs, spec, float(threshold))
    values: LiveValues = {}
    for entry in [out["overall"], *out["groups"]]:
        key = (entry["attribute"], entry["group"])
        for metric, v in (entry.get("metrics") or {}).items():
            values.setdefault(metric, {})[key] = None if v is None else float(v)
    return values
