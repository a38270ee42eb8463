"""`probity judge FILE [--json]`: the instrument's judgements for an assessment, headless."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "judge",
        help="print every domain's suggested and final judgement and the overall results",
        description="Print, for an assessment file, every domain's suggested and final "
        "judgement and the overall risk of bias / applicability (or what is still incomplete).",
    )
    p.add_argument("file", help="a .probity assessment file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run_judge)


def judgement_json(doc: Any, judgement: Any, source: str) -> dict[str, Any]:
    return {
        "file": source,
        "title": doc.title,
        "instrument": {"id": doc.instrument.id, "version": doc.instrument.version},
        "study_type": doc.study_type,
        "complete": judgement.complete,
        "domains": [asdict(d) for d in judgement.domains],
        "overall": [asdict(o) for o in judgement.overall],
        "unanswered": list(judgement.unanswered),
        "problems": list(judgement.problems),
        "prompts": list(judgement.prompts),
    }


def _cell(value: str | None) -> str:
    return value if value is not None else "—"


def format_judgement(doc: Any, judgement: Any) -> str:
    instrument = doc.instrument
    st = instrument.study_type(doc.study_type).label if doc.study_type else "not chosen"
    lines = [f"{doc.title} — {instrument.name} ({instrument.version}); study type: {st}", ""]
    width = max([len(f"{d.part}:{d.domain} {d.name}") for d in judgement.domains] + [6])
    lines.append(f"{'Domain':<{width}}  {'Suggested':<9}  {'Final':<9}  Applicability")
    for d in judgement.domains:
        final = _cell(d.final) + (" *" if d.final_is_override else "")
        app = _cell(d.applicability) if d.has_applicability else "n/a"
        lines.append(
            f"{d.part + ':' + d.domain + ' ' + d.name:<{width}}  "
            f"{_cell(d.suggested):<9}  {final:<9}  {app}"
        )
    if any(d.final_is_override for d in judgement.domains):
        lines.append("* the reviewer's final judgement departs from the suggestion")
    lines.append("")
    for o in judgement.overall:
        lines.append(f"{o.label}: {_cell(o.value)}" + (" (provisional)" if o.provisional else ""))
    if judgement.unanswered:
        lines.append(
            f"incomplete: {len(judgement.unanswered)} questions unanswered: "
            + ", ".join(judgement.unanswered)
        )
    other = [p for p in judgement.problems if "questions unanswered" not in p]
    if other:
        lines.append("incomplete: " + ("; ".join(other)))
    for prompt in judgement.prompts:
        lines.append(f"note: {prompt}")
    return "\n".join(lines)


def run_judge(args: argparse.Namespace) -> int:
    from assessment.judgement import judge
    from assessment.storage import load

    doc = load(args.file)
    judgement = judge(doc)
    if args.json:
        json.dump(
            judgement_json(doc, judgement, args.file), sys.stdout, indent=2, ensure_ascii=False
        )
        sys.stdout.write("\n")
    else:
        print(format_judgement(doc, judgement))
    return 0
