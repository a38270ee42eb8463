"""A comparison's per-model figures for every group: decision curves (net benefit against
treat-all and treat-none), the operating point and the capacity mode (each model's top-K/N
threshold), as ``probity-comparison/1`` entries.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from assessment.compare import usefulness as us
from assessment.compare.sources import ModelSource
from assessment.evaluation.inputs import EvaluationInput
from assessment.evaluation.metrics import OVERALL_ATTRIBUTE, Grouping
from assessment.evaluation.result import clean


def attribute_of(gp: Grouping) -> str | None:
    return None if gp.name == OVERALL_ATTRIBUTE else gp.name


def group_of(gp: Grouping, g: int) -> str | None:
    return None if gp.name == OVERALL_ATTRIBUTE else gp.labels[g]


def curve_entries(
    gp: Grouping,
    models: list[ModelSource],
    inputs: list[EvaluationInput],
    flags: list[np.ndarray],
    y: np.ndarray,
    thresholds: np.ndarray,
    bins: dict[int, np.ndarray],
) -> list[dict[str, Any]]:
    out = []
    tl = [float(t) for t in thresholds]
    cc = None
    for i, (m, inp, fl) in enumerate(zip(models, inputs, flags, strict=True)):
        score = inp.score if inp.score_kind == "probability" else None
        cc = us.curve_counts(gp.codes, gp.size, y, thresholds, score, fl, bins.get(i))
        nb = us.net_benefit(cc, thresholds)
        out += [
            {
                "model": m.name,
                "attribute": attribute_of(gp),
                "group": group_of(gp, g),
                "thresholds": tl,
                "values": [clean(v) for v in nb[g]],
            }
            for g in range(gp.size)
        ]
    assert cc is not None
    ta = us.treat_all(cc, thresholds)
    for g in range(gp.size):
        out.append(
            {
                "model": "treat all",
                "attribute": attribute_of(gp),
                "group": group_of(gp, g),
                "thresholds": tl,
                "values": [clean(v) for v in ta[g]],
            }
        )
        out.append(
            {
                "model": "treat none",
                "attribute": attribute_of(gp),
                "group": group_of(gp, g),
                "thresholds": tl,
                "values": [0.0] * len(tl),
            }
        )
    return out


def table_operating_points(table: np.ndarray, k: int) -> list[us.OperatingPoint]:
    """Every model's counts at its operating point per group, read off the outcome × flag
    pattern table (:func:`assessment.compare.paired.pattern_table`, built once per grouping
    for the paired proportions) instead of four bincounts over the rows per model: the same
    integer counts."""
    cells = np.arange(table.shape[1])
    t = table.astype(np.float64)
    pos = (cells & 1).astype(bool)
    n = t.sum(axis=1)
    n_pos = t[:, pos].sum(axis=1)
    out = []
    for i in range(k):
        flagged = ((cells >> (i + 1)) & 1).astype(bool)
        out.append(
            us.OperatingPoint(
                n=n,
                n_pos=n_pos,
                flagged=t[:, flagged].sum(axis=1),
                tp=t[:, flagged & pos].sum(axis=1),
            )
        )
    return out


def point_entries(
    gp: Grouping,
    models: list[ModelSource],
    points: list[us.OperatingPoint],
    mode: str,
    threshold: float | None,
) -> list[dict[str, Any]]:
    out = []
    for m, op in zip(models, points, strict=True):
        fig = op.figures()
        for g in range(gp.size):
            out.append(
                {
                    "model": m.name,
                    "mode": mode,
                    "attribute": attribute_of(gp),
                    "group": group_of(gp, g),
                    "threshold": threshold if threshold is not None else m.threshold,
                    "n": int(op.n[g]),
                    "n_pos": int(op.n_pos[g]),
                    "flagged": int(op.flagged[g]),
                    "true_positives": int(op.tp[g]),
                    **{k: clean(v[g]) for k, v in fig.items()},
                }
            )
    return out


def capacity_thresholds(
    models: list[ModelSource], inputs: list[EvaluationInput], capacity: tuple[int, int] | None
) -> dict[int, float]:
    if capacity is None:
        return {}
    share = capacity[0] / capacity[1]
    return {
        i: us.top_k_threshold(np.asarray(inp.score, dtype=np.float64), share)
        for i, inp in enumerate(inputs)
        if inp.score is not None
    }


def capacity_json(
    capacity: tuple[int, int] | None,
    models: list[ModelSource],
    thresholds: dict[int, float],
    rows: list[dict[str, Any]],
) -> dict[str, Any] | None:
    if capacity is None:
        return None
    return {
        "k": capacity[0],
        "per": capacity[1],
        "share": capacity[0] / capacity[1],
        "thresholds": {models[i].name: clean(t) for i, t in thresholds.items()},
        "not_applicable": [m.name for i, m in enumerate(models) if i not in thresholds],
        "groups": rows,
    }
