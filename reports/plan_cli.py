"""CLI: ``plan check`` (what the plan can detect), ``plan lock`` (signed PDF) and ``evaluate
--locked-plan`` (the verified lock, so the run records it and every deviation from it).

Lives in reports/ because locking and verifying need the PDF machinery; cheap to import (the
heavy modules are imported inside the run functions).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "plan", help="check what an evaluation plan can detect, and lock it (signed PDF)"
    )
    sub = p.add_subparsers(dest="plan_command", metavar="ACTION", required=True)
    c = sub.add_parser(
        "check",
        help="power of each gate at the expected group sizes",
        description="Per gate and group: the chance of 'pass' at the gate's assumed true "
        "value, and the true values that give 80%% power; gates that cannot pass are named. "
        "Reads no outcome.",
    )
    c.add_argument("plan", type=Path, metavar="PLAN.json")
    src = c.add_mutually_exclusive_group(required=True)
    src.add_argument("--sizes", type=Path, metavar="FILE.csv",
                     help="expected sizes: CSV attribute,group,n,events")  # fmt: skip
    src.add_argument("--data", type=Path, metavar="DATA",
                     help="the validation data: group sizes and, from the predicted "
                     "probabilities, expected events (the outcome is not read)")  # fmt: skip
    c.add_argument("--json", type=Path, metavar="OUT.json", help="write the rows as JSON")
    c.set_defaults(func=run_check)
    lk = sub.add_parser("lock", help="render the plan as a PDF, attach its JSON and sign it")
    lk.add_argument("plan", type=Path, metavar="PLAN.json")
    lk.add_argument("--sign", type=Path, required=True, metavar="IDENTITY.p12")
    lk.add_argument("--passphrase-file", type=Path, required=True)
    lk.add_argument("--out", type=Path, required=True, metavar="PLAN.pdf")
    lk.add_argument("--location", default="")
    lk.set_defaults(func=run_lock)
    evaluate = subparsers.choices.get("evaluate")
    if evaluate is not None:
        evaluate.add_argument(
            "--locked-plan", type=Path, metavar="PLAN.pdf",
            help="the signed PDF 'plan lock' made: the run records its SHA-256 and signing time, "
            "whether it was signed before the data were first loaded into the assessment, and "
            "every difference between it and --plan as a deviation",
        )  # fmt: skip
        evaluate.add_argument(
            "--trust", type=Path, action="append", default=[], metavar="CERT.pem",
            help="trust this signer certificate for --locked-plan (repeatable), besides the "
            "trusted store; the lock's signer must be trusted",
        )  # fmt: skip
        evaluate.set_defaults(func=_with_lock(evaluate.get_default("func")))


def _with_lock(run: Any) -> Any:
    def wrapped(args: argparse.Namespace) -> int:
        locked = getattr(args, "locked_plan", None)
        if locked is not None:
            from assessment.errors import DataError

            if not getattr(args, "plan", None):
                raise DataError("--locked-plan needs --plan (the plan file to evaluate with).")
            args.plan_lock = read_lock_file(locked, getattr(args, "trust", []))
        return int(run(args))

    return wrapped


def read_lock_file(path: Path, trust: list[Path] | None = None) -> Any:
    from assessment.errors import ReportError
    from assessment.fileio import read_regular_bytes
    from reports.identity import load_certificates
    from reports.plan_report import read_locked_plan

    certs = tuple(c for p in trust or [] for c in load_certificates(p))
    data = read_regular_bytes(path, what="locked plan", max_bytes=64 * 1024 * 1024,
                              error=ReportError)  # fmt: skip
    return read_locked_plan(data, source=path.name, extra_trust=certs)


def run_lock(args: argparse.Namespace) -> int:
    from assessment.errors import ReportError
    from assessment.fileio import check_output
    from assessment.plan.apply import read_plan
    from assessment.storage import atomic_write_bytes
    from reports.identity import load_identity, read_passphrase
    from reports.plan_report import lock_plan

    check_output(args.out, [args.plan, args.sign, args.passphrase_file], error=ReportError)
    plan, text = read_plan(args.plan)
    identity = load_identity(args.sign, read_passphrase(args.passphrase_file))
    atomic_write_bytes(args.out, lock_plan(text, identity, location=args.location))
    print(
        f"Wrote {args.out}: plan {plan.title!r} ({len(plan.gates)} gates) locked and signed by "
        f"{identity.name}. Evaluate with --plan {args.plan} --locked-plan {args.out}."
    )
    return 0


def run_check(args: argparse.Namespace) -> int:
    from assessment.plan.apply import read_plan
    from assessment.plan.power import plan_power
    from assessment.plan.sizes import read_sizes, sizes_from_frame

    if args.json is not None:
        from assessment.errors import DataError
        from assessment.fileio import check_output

        check_output(args.json, [args.plan, args.sizes, args.data], error=DataError)
    plan, _ = read_plan(args.plan)
    if args.sizes is not None:
        sizes = read_sizes(args.sizes)
    else:
        from assessment.evaluation.io import read_table

        sizes = sizes_from_frame(plan, read_table(args.data).frame)
    report = plan_power(plan, sizes)
    print_power(plan, report, sys.stdout)
    if args.json is not None:
        from assessment.fileio import atomic_write_text

        rows = [r.to_json() for r in report.rows]
        atomic_write_text(args.json, json.dumps({"level": report.level, "checks": report.k,
                                                 "notes": list(report.notes), "rows": rows},
                                                indent=2) + "\n")  # fmt: skip
    return 0


def print_power(plan: Any, report: Any, out: TextIO) -> None:
    w = out.write
    w(f"Plan {plan.title!r}: {report.k} checks at two-sided level {100 * report.level:.4g}% "
      f"({plan.multiplicity}, α = {plan.alpha:g}"
      + ("; Holm's first step — its power is at least this" if plan.multiplicity == "holm"
         else "") + ")\n")  # fmt: skip
    for r in report.rows:
        who = r.group if r.reference is None else f"{r.group} vs {r.reference}"
        size = "—" if r.n is None else f"n={r.n:,}, events≈{r.events:,.0f}"
        power = "—" if r.power is None else f"{r.power:.0%}"
        at = "" if r.assumed is None else f" at assumed {r.assumed:g}"
        w(f"  {r.gate} {r.metric} {r.attribute}: {who} ({size}), bound {r.bound}: "
          f"P(pass){at} {power}; {r.needed or r.reason}\n")  # fmt: skip
    for line in report.summary():
        w(f"{line}\n")
