"""The ranked summary: which model leads on each headline metric, and whether the lead is real.

A ranking never rests on a difference whose interval includes 0 without saying so: each
sentence qualifies every adjacent step of the stated order with its paired difference and
interval, groups models whose step is not established in braces, says where a pair was not
compared (incumbent mode) and where two models give identical predictions.
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


KIND_NAMES = {"class": "predicted class", "score": "raw score", "probability": "probability"}

IDENTICAL = "the two models give identical predictions on every patient"


def _step(
    entries: list[dict[str, Any]], better: str, worse: str, pct: str
) -> tuple[bool, str]:
    """Whether ``better`` is established ahead of ``worse``, and the clause saying why."""
    found = [x for x in entries if {x["model_a"], x["model_b"]} == {better, worse}]
    if not found:
        return False, (f"{better} vs {worse}: not compared (only the pairs with the incumbent "
                       "were computed), so their order is not established")
    e = found[0]
    d = e["difference"]
    if d.get("reason") == IDENTICAL:
        return False, f"{better} and {worse}: {IDENTICAL}, so neither ranks above the other"
    sign = 1.0 if e["model_a"] == better else -1.0
    if d["value"] is None:
        return False, (f"{better} vs {worse}: no paired difference ({d.get('reason')}), so "
                       "their order is not established")
    if d["ci_low"] is None or d["ci_high"] is None:
        why = f": {d['reason']}" if d.get("reason") else ""
        return False, (f"{better} vs {worse}: {_fmt(sign * d['value'])} (no interval{why}), "
                       "so their order is not established")
    lo, hi = sorted((sign * d["ci_low"], sign * d["ci_high"]))
    ok = not lo <= 0 <= hi
    verdict = "interval excludes 0" if ok else (
        "interval includes 0: not distinguishable, so their order is not established")
    return ok, (f"{better} vs {worse}: {_fmt(sign * d['value'])} ({pct} CI {_fmt(lo)} to "
                f"{_fmt(hi)}, {verdict})")


def _unranked(models: list[ModelSource], est: dict[str, float], metric: str) -> str:
    """" Not ranked on M: X (a predicted class has no M)." for the models whose kind lacks the
    metric (empty when there are none)."""
    unranked = [m for m in models if m.name not in est and m.kind != "probability"]
    if not unranked:
        return ""
    name = label(metric)
    kinds = " or a ".join(sorted({KIND_NAMES[m.kind] for m in unranked}))
    noun = "Brier score" if metric == "brier" else name
    return (f" Not ranked on {name}: {', '.join(m.name for m in unranked)} (a {kinds} has no "
            f"{noun}).")


def ranked_summary(
    models: list[ModelSource], paired: list[dict[str, Any]], level: float
) -> list[str]:
    """One sentence per headline metric (whole population).

    The stated order only separates two tiers (by ``>``) where the paired difference of every
    model of the upper tier against the next model has an interval that excludes 0; models
    whose order is not established are shown together in braces, and every step is qualified.
    """
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
            if why := _unranked(models, est, metric):  # say why there is no ranking
                name = label(metric)
                out.append(f"{name[:1].upper()}{name[1:]}: no ranking.{why}")
            continue
        lower = metric in LOWER_IS_BETTER
        order = sorted(est, key=lambda m: est[m], reverse=not lower)
        tiers: list[list[str]] = [[order[0]]]
        clauses: list[str] = []
        for m in order[1:]:
            ok, clause = _step(entries, tiers[-1][-1], m, pct)
            clauses.append(clause)
            if ok:  # a new tier only if every model of the tier above is ahead of m
                for other in tiers[-1][:-1]:
                    ok_other, clause = _step(entries, other, m, pct)
                    clauses.append(clause)
                    ok = ok and ok_other
            if ok:
                tiers.append([m])
            else:
                tiers[-1].append(m)
        shown = [
            f"{t[0]} {_fmt(est[t[0]])}" if len(t) == 1
            else "{" + ", ".join(f"{m} {_fmt(est[m])}" for m in t) + "}"
            for t in tiers
        ]
        ranking = (" < " if lower else " > ").join(shown)
        direction = "lower is better" if lower else "higher is better"
        name = label(metric)
        sentence = f"{name[:1].upper()}{name[1:]} ({direction}): {ranking}. "
        sentence += "; ".join(clauses) + "."
        if len(tiers) == 1:
            sentence += f" The ranking on {name} is not established by these data."
        elif len(tiers[0]) == 1:
            sentence += f" {order[0]} leads."
        sentence += _unranked(models, est, metric)
        out.append(sentence)
    return out
