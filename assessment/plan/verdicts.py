"""Gate verdicts: pass, fail or insufficient evidence, with family-wise error control.

Each gate expands into *checks* (one per group it names). A check reads the interval the
evaluation engine computed — the group's metric interval (Wilson, DeLong, bootstrap…) or its
difference/ratio interval against the reference (Newcombe, Koopman, MOVER, bootstrap) — at the
two-sided level the multiplicity rule sets, and compares the whole interval with the
acceptable region [a, b] of the criterion (bounds inclusive):

- **pass**: the whole interval lies in [a, b];
- **fail**: the whole interval lies outside it (entirely below a or entirely above b);
- **insufficient evidence**: otherwise, or when the group (or its reference) has fewer rows than
  the gate's ``min_n``, or the engine could not compute the interval (the reason is given).

Error control. Each check carries two one-sided claims ("acceptable", "not acceptable"); for any
true value at most one of them can be wrong, and a two-sided interval at level 1 − γ makes a
given wrong claim with probability ≤ γ/2. With k checks, 2k claims, k of them true nulls:

- ``bonferroni``: every check at 1 − α/k, i.e. each one-sided claim at α/(2k); the chance of any
  wrong pass or wrong fail in the plan is ≤ α (for a one-sided bound it is ≤ α/2: conservative);
- ``holm``: Holm's step-down over the 2k one-sided claims: with r checks already decided, the
  others are read at two-sided level 1 − 2α/(2k − r) (first round = Bonferroni's), repeated until
  no new check is decided. Intervals are nested in the level, so this is Holm's procedure on the
  p-values the intervals invert; family-wise error ≤ α;
- ``none``: every check at 1 − α (no family-wise control; the report says so).

Overall verdict: fail if any check fails, else insufficient if any is insufficient, else pass.
Pure Python: the engine is reached through a callable ``run(level) -> result JSON``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from assessment.catalogue import metric_short
from assessment.plan.model import Gate, Plan, PlanError

Verdict = Literal["pass", "fail", "insufficient"]
VERDICT_LABELS: dict[str, str] = {
    "pass": "pass",
    "fail": "fail",
    "insufficient": "insufficient evidence",
}
#: Exit codes of ``evaluate --plan``.
EXIT_CODES: dict[str, int] = {"pass": 0, "fail": 1, "insufficient": 3}
OVERALL_ID = ("(all)", "All")


@dataclass(frozen=True)
class Check:
    """One gate applied to one group (a row of the gates table)."""

    gate: str
    metric: str
    attribute: str
    group: str
    reference: str | None
    on: str  # "value" | "ratio" | "difference"
    bound: str
    n: int | None
    n_reference: int | None
    min_n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    level: float
    verdict: Verdict
    reason: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Target:
    """What a check reads before the level is known."""

    gate: Gate
    attribute: str
    group: str


def overall_verdict(verdicts: list[str]) -> Verdict:
    if not verdicts:
        return "insufficient"
    if "fail" in verdicts:
        return "fail"
    if "insufficient" in verdicts:
        return "insufficient"
    return "pass"


def classify(low: float, high: float, a: float, b: float) -> Verdict:
    """The verdict of an interval [low, high] against the acceptable region [a, b]."""
    if a <= low and high <= b:
        return "pass"
    if high < a or low > b:
        return "fail"
    return "insufficient"


def targets(plan: Plan, data: dict[str, Any]) -> list[Target]:
    """Every check the plan asks for on this result (groups not in the data are kept)."""
    refs = data.get("references", {})
    out: list[Target] = []
    for gate in plan.gates:
        if gate.groups == "overall":
            out.append(Target(gate, *OVERALL_ID))
            continue
        attr = gate.attribute or ""
        if gate.groups == "each":
            names = [g["group"] for g in data.get("groups", []) if g["attribute"] == attr]
            if gate.versus == "reference":
                names = [n for n in names if n != refs.get(attr)]
            if not names:
                out.append(Target(gate, attr, "(no groups)"))
            out += [Target(gate, attr, n) for n in names]
        else:
            ref = refs.get(attr) if gate.versus == "reference" else None
            out += [Target(gate, attr, n) for n in gate.groups if n != ref]
    return out


def reference_note(gate: Gate, attribute: str, reference: str) -> str:
    """The one rule for a gate that lists the reference group against the reference."""
    return (
        f"{gate.id}: {attribute} = {reference} is the reference group, so it is not compared "
        "with itself (skipped; not counted as a check)"
    )


def skipped_references(plan: Plan, refs: dict[str, Any]) -> list[str]:
    """Notes for gates whose group list names the reference group with ``versus: reference``."""
    return [
        reference_note(gate, gate.attribute or "", str(refs[gate.attribute or ""]))
        for gate in plan.gates
        if gate.versus == "reference"
        and not isinstance(gate.groups, str)
        and refs.get(gate.attribute or "") in gate.groups
    ]


def _group(data: dict[str, Any], attribute: str, group: str) -> dict[str, Any] | None:
    if (attribute, group) == OVERALL_ID:
        overall: dict[str, Any] = data["overall"]
        return overall
    for g in data.get("groups", []):
        if g["attribute"] == attribute and g["group"] == group:
            return dict(g)
    return None


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def judge(plan: Plan, t: Target, data: dict[str, Any], level: float) -> Check:
    """The verdict of one check on a result computed at two-sided ``level``."""
    gate, crit = t.gate, t.gate.criterion
    min_n = plan.gate_min_n(gate)
    pct = f"{100 * level:.4g}%"
    ref_name = data.get("references", {}).get(t.attribute) if gate.versus else None
    g = _group(data, t.attribute, t.group)
    ref = _group(data, t.attribute, ref_name) if ref_name is not None else None
    base: dict[str, Any] = {
        "gate": gate.id,
        "metric": gate.metric,
        "attribute": t.attribute,
        "group": t.group,
        "reference": ref_name,
        "on": crit.on,
        "bound": crit.describe(),
        "n": None if g is None else int(g["n"]),
        "n_reference": None if ref is None else int(ref["n"]),
        "min_n": min_n,
        "level": level,
    }

    def out(verdict: Verdict, reason: str, est: dict[str, Any] | None = None) -> Check:
        est = est or {}
        return Check(
            **base,
            value=est.get("value"),
            ci_low=est.get("ci_low"),
            ci_high=est.get("ci_high"),
            verdict=verdict,
            reason=reason,
        )

    if g is None:
        return out("insufficient", f"The data have no group {t.attribute} = {t.group}.")
    if gate.versus and ref is None:
        return out("insufficient", f"{t.attribute} has no reference group in this evaluation.")
    if gate.versus and ref_name == t.group:
        return out("insufficient", f"{t.group} is the reference group of {t.attribute} itself.")
    est: dict[str, Any] | None
    if crit.on == "value":
        est = g["metrics"].get(gate.metric)
    else:
        est = next(
            (
                d[crit.on]
                for d in data.get("disparities", [])
                if d["attribute"] == t.attribute
                and d["group"] == t.group
                and d["metric"] == gate.metric
            ),
            None,
        )
    small = [
        f"{who} has n = {n:,}"
        for who, n in ((t.group, base["n"]), (ref_name, base["n_reference"]))
        if who is not None and n is not None and n < min_n
    ]
    if small:
        return out(
            "insufficient",
            f"{' and '.join(small)}, below the gate's minimum of {min_n:,} rows.",
            est,
        )
    name = metric_short(gate.metric)
    if est is None or est.get("ci_low") is None or est.get("ci_high") is None:
        why = (est or {}).get("reason") or "the engine computed no interval"
        return out("insufficient", f"No {pct} interval for the {name} {crit.on}: {why}.", est)
    if "percentile bootstrap" in str(est.get("method") or ""):
        replicates = int((data.get("spec") or {}).get("bootstrap") or 0)
        need = bootstrap_needed(level)
        if replicates < need:
            return out(
                "insufficient",
                f"The {pct} {name} interval is a percentile bootstrap of B = {replicates:,} "
                f"replicates; a limit at that level needs at least {need:,} "
                f"(--bootstrap {need}), so its verdict would depend on the seed.",
                est,
            )
    lo, hi = float(est["ci_low"]), float(est["ci_high"])
    a, b = crit.acceptable()
    verdict = classify(lo, hi, a, b)
    span = f"the {pct} interval {_fmt(lo)} to {_fmt(hi)}"
    what = {"value": name, "ratio": f"{name} ratio", "difference": f"{name} difference"}[crit.on]
    if verdict == "pass":
        reason = f"The whole of {span} lies within the acceptable {what} ({crit.describe()})."
    elif verdict == "fail":
        reason = f"The whole of {span} lies outside the acceptable {what} ({crit.describe()})."
    else:
        reason = (
            f"{span[0].upper()}{span[1:]} straddles a bound ({crit.describe()}), so the data "
            "cannot decide."
        )
    return out(verdict, reason, est)


#: Bootstrap replicates wanted beyond each limit of a percentile interval.
TAIL_REPLICATES = 10


def bootstrap_needed(level: float) -> int:
    """The replicates a two-sided percentile interval at ``level`` needs (TAIL beyond each)."""
    return math.ceil(round(2 * TAIL_REPLICATES / (1 - level), 6))


def check_count_level(plan: Plan, k: int, decided: int = 0) -> float:
    """The two-sided level of a check when k checks are planned and ``decided`` are decided."""
    if k < 1:
        raise PlanError("The plan has no checks to run: add a gate.")
    if plan.multiplicity == "none":
        return 1.0 - plan.alpha
    if plan.multiplicity == "bonferroni":
        return 1.0 - plan.alpha / k
    return 1.0 - 2.0 * plan.alpha / (2 * k - decided)


@dataclass(frozen=True)
class GateReport:
    """The outcome of a plan on one evaluation."""

    checks: tuple[Check, ...]
    verdict: Verdict
    multiplicity: str
    alpha: float
    k: int
    levels: tuple[float, ...]
    notes: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def gates_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.checks]

    def summary_json(self) -> dict[str, Any]:
        return {
            "multiplicity": self.multiplicity,
            "alpha": self.alpha,
            "checks": self.k,
            "levels": list(self.levels),
        }


def decide(plan: Plan, run: Callable[[float], dict[str, Any]], probe: dict[str, Any]) -> GateReport:
    """Run the plan's checks; ``run(level)`` returns the engine's result JSON at that level.

    ``probe``: any result of the same data and spec (the groups and references do not depend on
    the level), used to list the checks; it is reused when its level is the one needed.
    """
    if not plan.gates:
        raise PlanError("The plan has no gates: add at least one gate before evaluating with it.")
    cache: dict[float, dict[str, Any]] = {float(probe["spec"]["ci_level"]): probe}

    def at(level: float) -> dict[str, Any]:
        if level not in cache:
            cache[level] = run(level)
        return cache[level]

    found = targets(plan, probe)
    k = len(found)
    decided: dict[int, Check] = {}
    levels: list[float] = []
    while True:
        level = check_count_level(plan, k, len(decided))
        levels.append(level)
        data = at(level)
        new = {
            i: c
            for i, t in enumerate(found)
            if i not in decided and (c := judge(plan, t, data, level)).verdict != "insufficient"
        }
        decided.update(new)
        if plan.multiplicity != "holm" or not new or len(decided) == k:
            break
    last = levels[-1]
    checks = tuple(decided.get(i) or judge(plan, t, at(last), last) for i, t in enumerate(found))
    return GateReport(
        checks=checks,
        verdict=overall_verdict([c.verdict for c in checks]),
        multiplicity=plan.multiplicity,
        alpha=plan.alpha,
        k=k,
        levels=tuple(levels),
        notes=tuple(skipped_references(plan, probe.get("references") or {})),
    )
