"""Mirror metrics: two rates on the same denominator, one the complement of the other.

TNR = 1 − FPR on the non-events and FNR = 1 − TPR on the events: a gap on one is the same gap,
sign reversed, on the other (Newcombe's interval and its p-value are symmetric under p → 1 − p).
A mirror pair therefore has ONE verdict, decided on its *primary* member — the member that carries
the pair in the multiplicity family (:mod:`assessment.evaluation.multiplicity`) — and ONE
tolerance, stated on the primary. A tolerance given for the other member is translated exactly
when the scales allow (an absolute-difference limit on TNR is the same limit on FPR, since
|TNR_g − TNR_r| = |FPR_g − FPR_r|) and refused otherwise (a ratio band on TNR is no band on FPR).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: non-primary member -> the primary member that carries the pair's verdict and tolerance
MIRRORS: Mapping[str, str] = MappingProxyType({"fnr": "tpr", "tnr": "fpr"})


def primary_of(metric: str) -> str:
    """The member whose verdict and tolerance apply to ``metric`` (itself if not a mirror)."""
    return MIRRORS.get(metric, metric)


def judged_on(metric: str) -> str:
    """The short reason shown on a non-primary member: "judged on FPR, its mirror"."""
    return f"judged on {primary_of(metric).upper()}, its mirror"


def refused_tolerance(metric: str, text: str) -> str:
    """The one sentence refusing a tolerance on a non-primary member that has no exact
    translation onto its primary."""
    primary = primary_of(metric)
    return (
        f"The {primary.upper()}/{metric.upper()} pair is judged on {primary.upper()}, so its "
        f"tolerance is set on {primary}: {metric}={text} has no exact equivalent there; give "
        f"{primary}=ratio:LOW,HIGH or {primary}=diff:LIMIT (or {metric}=diff:LIMIT, the same "
        "difference)."
    )


def conflicting_tolerance(metric: str, own: str, primary_text: str) -> str:
    primary = primary_of(metric)
    return (
        f"The {primary.upper()}/{metric.upper()} pair has one tolerance, set on {primary}: "
        f"{metric}={own} and {primary}={primary_text} disagree; give only {primary}'s."
    )
