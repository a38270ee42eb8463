"""The ranked summary: which model leads on each headline metric, and whether the lead is real.

A ranking never rests on a difference whose interval includes 0 without saying so: each
sentence names the leader, its paired difference against every other model with the interval,
and says "not distinguishable from 0" where the interval includes 0.
"""

from __future__ import annotations

from typing import Any

from assessment.catalogue import metric_short
from assessment.compare.paired_bootstrap import LOWER_IS_BETTER
from assessment.compare.sources import ModelSource

HEADLINE: tuple[str, ...] = ("auroc", "net_benefit", "brier", "tpr")
LABELS = {
    "net_benefit": "net benefit",
    "calibration_in_the_large": "calibration-in-the-large error",
    "tpr": "sensitivity",
    "fpr": "false-positive rate",
}


def label(metric: str) -> str:
    if metric in LABELS:
        return LABELS[metric]
    try:
        return metric_short(metric)
    except KeyError:
        return metric


def _fmt(x: float) -> str:
    return f"{x:.3f}".replace("-", "−")


def _overall(paired: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    return [e for e in paired if e["metric"] == metric and e["attribute"] is None]


def ranked_summary(
    models: list[ModelSource], paired: list[dict[str, Any]], level: float
) -> list[str]:
    """One sentence per headline metric (whole population)."""
    out = []
    pct = f"{100 * level:g}%"
    for metric in HEADLINE:
        entries = _overall(paired, metric)
        if not entries:
            continue
        est: dict[str, float] = {}
        for e in entries:
            for side in ("a", "b"):
                v = e[f"estimate_{side}"]
                if v is not None:
                    est[e[f"model_{side}"]] = v
        if len(est) < 2:
            continue
        lower = metric in LOWER_IS_BETTER
        order = sorted(est, key=lambda m: est[m], reverse=not lower)
        leader = order[0]
        parts = []
        for other in order[1:]:
            found = [x for x in entries if {x["model_a"], x["model_b"]} == {leader, other}]
            if not found:
                parts.append(f"against {other}: not compared (only the pairs with the "
                             "incumbent were computed), so this order is not established")
                continue
            e = found[0]
            d = e["difference"]
            sign = 1.0 if e["model_a"] == leader else -1.0
            if d["value"] is None:
                parts.append(f"against {other}: no paired difference ({d.get('reason')})")
                continue
            if d["ci_low"] is None or d["ci_high"] is None:
                why = f": {d['reason']}" if d.get("reason") else ""
                parts.append(f"against {other}: {_fmt(sign * d['value'])} (no interval{why}, "
                             "so the order is not established)")
                continue
            lo, hi = sorted((sign * d["ci_low"], sign * d["ci_high"]))
            verdict = (
                "not distinguishable from 0" if lo <= 0 <= hi else "interval excludes 0"
            )
            parts.append(
                f"against {other}: {_fmt(sign * d['value'])} ({pct} CI {_fmt(lo)} to "
                f"{_fmt(hi)}, {verdict})"
            )
        ranking = " > ".join(f"{m} {_fmt(est[m])}" for m in order) if not lower else " < ".join(
            f"{m} {_fmt(est[m])}" for m in order
        )
        direction = "lower is better" if lower else "higher is better"
        name = label(metric)
        sentence = f"{name[:1].upper()}{name[1:]} ({direction}): {ranking}."
        if parts:
            sentence += f" {leader} leads; " + "; ".join(parts) + "."
        if models and parts and all("not distinguishable" in p or "not established" in p
                                    for p in parts):
            sentence += f" The ranking on {label(metric)} is not established by these data."
        out.append(sentence)
    return out
