"""``evaluate --plan``: the plan supplies the options, the gates judge the result.

Options in the plan are used unless given on the command line; a command-line value that differs
from the plan's is used and reported as a deviation. With a locked plan (``--locked-plan``, added
by :mod:`reports.plan_cli`, which verifies the signed PDF) every difference between the locked
plan and the plan file used is a deviation too, and the run records the lock's SHA-256 and
signing time and whether the plan was locked before the validation file was first loaded into
the assessment (from its audit log).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assessment.plan.model import MAX_PLAN_BYTES, Plan, PlanError, plan_sha256
from assessment.plan.verdicts import (
    TAIL_REPLICATES,
    VERDICT_LABELS,
    GateReport,
    bootstrap_needed,
    decide,
)

if TYPE_CHECKING:
    from assessment.document import Assessment

#: evaluate options the plan can supply: dest -> (option, default when not given).
FROM_PLAN: dict[str, tuple[str, Any]] = {
    "label": ("--label", None),
    "positive": ("--positive", None),
    "score": ("--score", None),
    "prediction": ("--prediction", None),
    "score_kind": ("--score-kind", "probability"),
    "threshold": ("--threshold", None),
    "group": ("--group", None),
    "intersect": ("--intersect", []),
    "reference": ("--reference", []),
    "min_n": ("--min-n", 30),
}


@dataclass(frozen=True)
class LockInfo:
    """A verified ``plan lock`` PDF: the plan it holds and its signature."""

    plan_text: str
    sha256: str  # of plan_text (UTF-8)
    signed_at: str  # ISO 8601, from the signature
    signer: str
    pdf_sha256: str
    pdf_name: str
    signer_fingerprint: str = ""  # SHA-256 of the signer's certificate
    trusted: bool = False  # the signer was trusted when the lock was read

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "signed_at": self.signed_at,
            "signer": self.signer,
            "signer_fingerprint": self.signer_fingerprint,
            "signer_trusted": self.trusted,
            "pdf_sha256": self.pdf_sha256,
            "pdf_name": self.pdf_name,
        }


def add_plan_options(p: argparse.ArgumentParser) -> None:
    """``--plan`` on ``evaluate``; the options the plan can supply stop being required."""
    p.add_argument(
        "--plan",
        metavar="PLAN.json",
        help="an evaluation plan (probity-plan/1): its options are used unless given here (a "
        "conflict is a deviation) and its gates are judged; exit code 0 all gates pass, 1 one "
        "fails, 3 none fails but one has insufficient evidence, 2 bad input",
    )
    p.set_defaults(plan_parser=p)  # to report a missing option as argparse did
    for action in p._actions:
        if action.dest in ("label", "group"):
            action.required = False
    for group in p._mutually_exclusive_groups:
        group.required = False


def read_plan(path: str | Path) -> tuple[Plan, str]:
    """(plan, its text) from a JSON file; :class:`PlanError` names the problem."""
    from assessment.fileio import read_regular_bytes

    raw = read_regular_bytes(
        path,
        what="plan file",
        max_bytes=MAX_PLAN_BYTES,
        error=PlanError,
        limit_hint="a plan is a page of JSON",
    )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PlanError(f"{Path(path).name} is not UTF-8 text; save the plan as UTF-8.") from None
    return Plan.from_text(text, Path(path).name), text


def _given(args: argparse.Namespace, dest: str) -> bool:
    value = getattr(args, dest, None)
    return value is not None and value != FROM_PLAN[dest][1]


def _plan_value(plan: Plan, dest: str) -> Any:
    refs = [f"{k}={v}" for k, v in plan.references.items()]
    return {
        "label": plan.outcome or None,
        "positive": list(plan.positive) or None,
        "score": plan.score,
        "prediction": plan.prediction,
        "score_kind": plan.score_kind,
        "threshold": plan.threshold,
        "group": list(plan.attributes) or None,
        "intersect": [",".join(c) for c in plan.intersections],
        "reference": refs,
        "min_n": plan.min_group_size,
    }[dest]


def _same(dest: str, a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    if dest == "threshold" and a is not None and b is not None:
        return float(a) == float(b)
    return bool(a == b)


def fill_from_plan(args: argparse.Namespace, plan: Plan) -> list[str]:
    """Fill ``args`` from the plan where the command line is silent; return the deviations."""
    deviations: list[str] = []
    model_given = _given(args, "score") or _given(args, "prediction")
    for dest, (option, _default) in FROM_PLAN.items():
        planned = _plan_value(plan, dest)
        if dest in ("score", "prediction") and model_given:
            if planned is not None and getattr(args, dest) != planned:
                deviations.append(
                    f"{option}: the plan names {planned!r}, the run used "
                    f"{getattr(args, dest)!r} (command line)"
                )
            continue
        if _given(args, dest):
            if planned not in (None, []) and not _same(dest, planned, getattr(args, dest)):
                deviations.append(
                    f"{option}: the plan says {_show(planned)}, the run used "
                    f"{_show(getattr(args, dest))} (command line)"
                )
        elif planned not in (None, []):
            setattr(args, dest, planned)
    return deviations


#: Analysis options no plan field fixes: dest -> option.
OPEN_OPTIONS: dict[str, str] = {
    "prediction_positive": "--prediction-positive",
    "reference_kind": "--reference-kind",
    "bootstrap": "--bootstrap",
    "seed": "--seed",
    "min_events": "--min-events",
    "tolerance": "--tolerance",
    "bin": "--bin",
    "missing": "--missing",
    "cluster": "--cluster",
    "group_map": "--group-map",
}


def not_fixed_by_plan(args: argparse.Namespace, plan: Plan) -> list[str]:
    """The analysis options the run used that the plan leaves open (stated, not deviations)."""
    out: list[str] = []
    for dest, (option, _default) in FROM_PLAN.items():
        used = getattr(args, dest, None)
        if _plan_value(plan, dest) in (None, []) and used not in (None, []):
            out.append(f"{option} {_show(used)}")
    for dest, option in OPEN_OPTIONS.items():
        used = getattr(args, dest, None)
        if used not in (None, [], ""):
            out.append(f"{option} {_show(used)}")
    return out


def _show(v: Any) -> str:
    if isinstance(v, list):
        return ", ".join(map(str, v)) or "(none)"
    return repr(v)


def require_model_options(args: argparse.Namespace) -> None:
    """What argparse required before ``--plan`` existed, now that a plan may supply it: a
    missing option is reported by argparse (usage line, exit code 2) as before."""
    from assessment.errors import DataError

    missing = [
        option
        for option, ok in (
            ("--label", getattr(args, "label", None)),
            ("--group", getattr(args, "group", None)),
            (
                "--score/--prediction",
                getattr(args, "score", None) or getattr(args, "prediction", None),
            ),
        )
        if not ok
    ]
    if not missing:
        return
    text = "the following arguments are required: " + ", ".join(missing)
    parser = getattr(args, "plan_parser", None)
    if isinstance(parser, argparse.ArgumentParser):
        parser.error(text + " (or give them in the plan with --plan)")
    raise DataError(text + ".")


def json_paths_differ(a: Any, b: Any, path: str = "$") -> list[str]:
    """The JSON paths where two parsed documents differ (first 50)."""
    out: list[str] = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(dict.fromkeys([*a, *b])):
            if k not in a or k not in b:
                out.append(f"{path}.{k} {'added' if k not in a else 'removed'}")
            else:
                out += json_paths_differ(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += json_paths_differ(x, y, f"{path}[{i}]")
    elif a != b:
        out.append(
            f"{path}: locked {json.dumps(a, ensure_ascii=False)[:60]}, used "
            f"{json.dumps(b, ensure_ascii=False)[:60]}"
        )
    return out[:50]


def bootstrap_notes(report: GateReport, data: dict[str, Any]) -> list[str]:
    """A warning when a bootstrap interval was read at a level its replicates cannot resolve."""
    from assessment.catalogue import BOOTSTRAP_METRICS

    b = int((data.get("spec") or {}).get("bootstrap") or 0)
    levels = [c.level for c in report.checks if c.metric in BOOTSTRAP_METRICS]
    if not levels:
        return []
    level = max(levels)
    beyond = b * (1 - level) / 2
    if beyond >= TAIL_REPLICATES:
        return []
    need = bootstrap_needed(level)
    return [
        f"bootstrap intervals were read at {100 * level:.4g}% with B = {b}: about "
        f"{beyond:.1f} replicates lie beyond each limit (groups above 500 rows use a normal "
        f"limit instead); use --bootstrap {need} or more for stable limits"
    ]


def first_loaded(doc: Assessment | None, data_sha256: str) -> str | None:
    """When the validation file (by SHA-256) first entered the assessment, from its audit log."""
    if doc is None:
        return None
    for entry in doc.audit_raw:
        if data_sha256 in json.dumps(entry.get("new"), ensure_ascii=False):
            return str(entry["ts"])
    return None


def _parse_ts(text: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


@dataclass
class PlanRun:
    """One ``evaluate --plan`` run: the plan, where it came from, and what departed from it."""

    plan: Plan
    text: str
    source: str
    deviations: list[str] = field(default_factory=list)
    lock: LockInfo | None = None
    report: GateReport | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # printed to stderr even with --quiet
    not_fixed: list[str] = field(default_factory=list)  # options the plan leaves open
    last_record: dict[str, Any] = field(default_factory=dict)  # the "plan" of the result

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PlanRun | None:
        """None without --plan (then the usual options are required)."""
        path = getattr(args, "plan", None)
        if not path:
            require_model_options(args)
            return None
        plan, text = read_plan(path)
        run = cls(plan=plan, text=text, source=Path(path).name)
        lock = getattr(args, "plan_lock", None)
        if lock is not None:  # the locked plan is the one judged
            run.attach_lock(lock)
        run.deviations += fill_from_plan(args, run.plan)
        run.not_fixed = not_fixed_by_plan(args, run.plan)
        require_model_options(args)
        return run

    def attach_lock(self, lock: LockInfo) -> None:
        """Judge with the locked plan; a --plan file that differs is listed as a deviation."""
        self.lock = lock
        if lock.sha256 == plan_sha256(self.text):
            return
        locked = json.loads(lock.plan_text)
        used = json.loads(self.text)
        changes = json_paths_differ(locked, used) or ["the text differs (layout or whitespace)"]
        first = (
            f"the plan file {self.source} is not the locked plan (SHA-256 "
            f"{plan_sha256(self.text)[:16]}… vs locked {lock.sha256[:16]}…): it was edited after "
            f"locking; the gates were judged with the locked plan from {lock.pdf_name}"
        )
        self.warnings.append(first)
        self.deviations[:0] = [first] + [f"plan changed after locking: {c}" for c in changes]
        self.plan = Plan.from_text(lock.plan_text, f"the plan attached to {lock.pdf_name}")
        self.text = lock.plan_text
        self.source = f"{lock.pdf_name} (locked)"

    def judge(
        self,
        data: dict[str, Any],
        rerun: Callable[[float], dict[str, Any]],
        doc: Assessment | None = None,
    ) -> dict[str, Any]:
        """Add ``gates``, ``verdict`` and ``plan`` to the result JSON ``data`` (returned)."""
        self.report = decide(self.plan, rerun, data)
        self.notes = [*self.report.notes, *bootstrap_notes(self.report, data)]
        out = dict(data)
        out["gates"] = self.report.gates_json()
        out["verdict"] = self.report.verdict
        out["plan"] = self.last_record = self.record(data, doc)
        return out

    def record(self, data: dict[str, Any], doc: Assessment | None) -> dict[str, Any]:
        assert self.report is not None
        rec: dict[str, Any] = {
            "title": self.plan.title,
            "source": self.source,
            "sha256": plan_sha256(self.text),
            **self.report.summary_json(),
            "deviations": list(self.deviations),
            "not_fixed": list(self.not_fixed),
            "notes": list(self.notes),
            "locked": None,
            "locked_before_data": None,
            "data_first_loaded": None,
        }
        if self.lock is None:
            rec["lock_note"] = "the plan was not locked (no --locked-plan): nothing shows it was "
            rec["lock_note"] += "fixed before the data were seen"
            return rec
        rec["locked"] = self.lock.to_json()
        sha = str(data.get("provenance", {}).get("sha256", ""))
        first = first_loaded(doc, sha) if sha else None
        signed = _parse_ts(self.lock.signed_at)
        if first is not None:
            # the audit log keeps whole seconds: a tie counts as "not before"
            rec["data_first_loaded"] = first
            rec["locked_before_data"] = signed < _parse_ts(first)
            rec["lock_note"] = "data first loaded into the assessment per its audit log"
        else:
            now = dt.datetime.now(dt.UTC)
            rec["data_first_loaded"] = now.isoformat(timespec="seconds")
            rec["locked_before_data"] = signed <= now
            rec["lock_note"] = (
                "this run is the first time the assessment saw the data"
                if doc is not None
                else "no assessment given (--into): the data were first loaded by this run"
            )
        return rec

    def print(self, out: TextIO) -> None:
        assert self.report is not None
        r = self.report
        w = out.write
        levels = ", ".join(f"{100 * x:.4g}%" for x in r.levels)
        w(
            f"\nPlan {self.plan.title!r} ({self.source}): {r.k} checks, {r.multiplicity} "
            f"(α = {r.alpha:g}); two-sided interval level(s) {levels}\n"
        )
        for c in r.checks:
            who = c.group if c.reference is None else f"{c.group} vs {c.reference}"
            ci = (
                f"{c.value:.4g} [{c.ci_low:.4g}, {c.ci_high:.4g}]"
                if c.value is not None and c.ci_low is not None and c.ci_high is not None
                else "—"
            )
            w(
                f"  {c.gate} {c.metric} {c.attribute}: {who}: {ci} bound {c.bound} → "
                f"{VERDICT_LABELS[c.verdict].upper()}: {c.reason}\n"
            )
        if self.lock is not None:
            w(
                f"Locked plan: SHA-256 {self.lock.sha256[:16]}…, signed {self.lock.signed_at} by "
                f"{self.lock.signer} (trusted certificate SHA-256 {self.lock.signer_fingerprint})\n"
            )
        w(f"{lock_sentence(self.last_record)}\n" if self.last_record else "")
        for d in self.deviations:
            w(f"Deviation: {d}\n")
        if self.not_fixed:
            w(f"Not fixed by the plan: {'; '.join(self.not_fixed)}\n")
        for n in self.notes:
            w(f"Note: {n}\n")
        w(f"Verdict: {VERDICT_LABELS[r.verdict].upper()} (exit code {r.exit_code})\n")

    @property
    def exit_code(self) -> int:
        assert self.report is not None
        return self.report.exit_code


def deviations_from_run(
    plan: Plan,
    mapping: dict[str, Any],
    spec: dict[str, Any],
    references: dict[str, str] | None = None,
) -> list[str]:
    """What a run (its stored mapping and spec JSON; ``references``: the reference groups it
    actually used) did differently from the plan (the GUI's counterpart of
    :func:`fill_from_plan`: there the run's settings come from the pages)."""
    out: list[str] = []

    def differ(what: str, planned: Any, used: Any) -> None:
        if planned in (None, [], {}, ""):
            return
        if isinstance(planned, list) and isinstance(used, list):
            same = sorted(map(str, planned)) == sorted(map(str, used))
        else:
            same = planned == used
        if not same:
            out.append(f"{what}: the plan says {_show(planned)}, the run used {_show(used)}")

    positive = mapping.get("positive")
    used_positive = [positive] if isinstance(positive, str) else list(positive or [])
    refs = {**((spec.get("reference") or {}).get("values") or {}), **(references or {})}
    differ("outcome", plan.outcome, mapping.get("label"))
    differ("event values", list(plan.positive), used_positive)
    differ("score column", plan.score, mapping.get("score"))
    differ("prediction column", plan.prediction, mapping.get("prediction"))
    differ("threshold", plan.threshold, spec.get("threshold"))
    differ("attributes", list(plan.attributes), list(mapping.get("attributes") or []))
    differ(
        "intersections",
        [",".join(c) for c in plan.intersections],
        [",".join(c) for c in spec.get("intersections") or []],
    )
    for attr, group in plan.references.items():
        differ(f"reference of {attr}", group, refs.get(attr, "(largest group)"))
    differ("minimum group size", plan.min_group_size, spec.get("min_n"))
    return out


def lock_sentence(plan: dict[str, Any]) -> str:
    """Was the plan locked, and before the data were first loaded into the assessment?"""
    locked = plan.get("locked")
    if not locked:
        return ("The plan was not locked: nothing shows that its criteria were fixed before the "
                "data were seen.")  # fmt: skip
    when = str(locked.get("signed_at", "?"))
    first = plan.get("data_first_loaded") or "unknown"
    before = plan.get("locked_before_data")
    verdict = (
        "before the validation file was first loaded into the assessment"
        if before
        else "AFTER the validation file was first loaded into the assessment"
        if before is False
        else "at a time that cannot be compared with the data's first load"
    )
    return (
        f"Locked plan SHA-256 {locked.get('sha256', '?')}, signed {when} by "
        f"{locked.get('signer', '?')}: locked {verdict} (first loaded {first}; "
        f"{plan.get('lock_note', '')})."
    )
