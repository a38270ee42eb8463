"""Validation of a risk-of-bias instrument's JSON (PROBAST 2019, PROBAST+AI 2025): ids,
answer codes ("NA" only on conditional items), columns, performance and study types, overall
tables and prompts that point at things that exist; builds the :class:`Instrument`."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from assessment.catalogue import ANSWER_CODES, BASE_ANSWERS, LEVELS, NOT_APPLICABLE
from assessment.instrument_checker import Checker, read_citation
from assessment.instrument_model import (
    OVERALL_AXES,
    PART_AXES,
    Applicability,
    Domain,
    Instrument,
    Option,
    OverallRule,
    Part,
    Prompt,
    Question,
    ReviewQuestionField,
    StudyType,
    Variant,
)

_ROB_REQUIRED = (
    "schema", "kind", "id", "version", "name", "full_name", "citation", "licence",
    "wording_source", "answers", "levels", "review_question", "columns", "performance_types",
    "study_types", "parts", "overall", "prompts",
)
_ROB_OPTIONAL = ("title", "study_type_note")


def validate_instrument_data(data: dict[str, Any], source: str) -> Instrument:
    """Validate raw instrument JSON and build the :class:`Instrument` (first problem raises)."""
    c = Checker(source)
    c.header(data, "rob")
    c.obj(data, "$", _ROB_REQUIRED, _ROB_OPTIONAL)
    for key in ("id", "version", "name", "full_name", "licence", "wording_source"):
        c.string(data[key], f"$.{key}")
    answers = _answer_labels(c, data["answers"])
    levels = _level_labels(c, data["levels"], "$.levels")
    review = _review_question(c, data["review_question"])
    columns = _options(c, data["columns"], "$.columns", "column")
    perf_types = _options(c, data["performance_types"], "$.performance_types",
                          "performance type")
    ctx = _RobContext(answers=tuple(answers), columns=tuple(o.id for o in columns),
                      perf_types=tuple(o.id for o in perf_types))
    parts = _parts(c, data["parts"], ctx)
    study_types = _study_types(c, data["study_types"], parts, ctx)
    overall = _overall(c, data["overall"], parts)
    prompts = _prompts(c, data["prompts"], study_types, overall, ctx)
    return Instrument(
        id=data["id"], version=data["version"], name=data["name"],
        title=c.opt_string(data, "title", "$") or data["name"],
        full_name=data["full_name"], citation=read_citation(c, data), licence=data["licence"],
        wording_source=data["wording_source"],
        answers=MappingProxyType(answers), levels=MappingProxyType(levels),
        review_question=review, columns=columns, performance_types=perf_types,
        study_types=study_types, parts=parts, overall=overall, prompts=prompts,
        study_type_note=c.opt_string(data, "study_type_note", "$"), source=source,
    )


@dataclass(frozen=True)
class _RobContext:
    answers: tuple[str, ...]
    columns: tuple[str, ...]
    perf_types: tuple[str, ...]


def _answer_labels(c: Checker, value: Any) -> dict[str, str]:
    labels = c.obj(value, "$.answers", BASE_ANSWERS, (NOT_APPLICABLE,))
    for code, label in labels.items():
        c.string(label, f"$.answers.{code}")
    return {code: labels[code] for code in ANSWER_CODES if code in labels}


def _level_labels(c: Checker, value: Any, path: str) -> dict[str, str]:
    labels = c.obj(value, path, LEVELS)
    for level in LEVELS:
        c.string(labels[level], f"{path}.{level}")
    return {level: labels[level] for level in LEVELS}


def _review_question(c: Checker, value: Any) -> tuple[ReviewQuestionField, ...]:
    seen: dict[str, str] = {}
    out = []
    for i, raw in enumerate(c.array(value, "$.review_question", nonempty=True)):
        path = f"$.review_question[{i}]"
        item = c.obj(raw, path, ("id", "label", "guidance"), ("wording_source", "confidence"))
        c.string(item["id"], f"{path}.id")
        c.unique(seen, item["id"], f"{path}.id", "review question")
        out.append(ReviewQuestionField(
            id=item["id"], label=c.string(item["label"], f"{path}.label"),
            guidance=c.string(item["guidance"], f"{path}.guidance"),
            wording_source=c.opt_string(item, "wording_source", path),
            confidence=c.confidence(item, path, required=False),
        ))
    return tuple(out)


def _options(c: Checker, value: Any, path: str, what: str) -> tuple[Option, ...]:
    seen: dict[str, str] = {}
    out = []
    for i, raw in enumerate(c.array(value, path)):
        ipath = f"{path}[{i}]"
        item = c.obj(raw, ipath, ("id", "label"), ("description",))
        c.string(item["id"], f"{ipath}.id")
        c.unique(seen, item["id"], f"{ipath}.id", what)
        out.append(Option(id=item["id"], label=c.string(item["label"], f"{ipath}.label"),
                          description=c.opt_string(item, "description", ipath) or ""))
    return tuple(out)


def _parts(c: Checker, value: Any, ctx: _RobContext) -> tuple[Part, ...]:
    part_ids: dict[str, str] = {}
    question_ids: dict[str, str] = {}
    out = []
    for i, raw in enumerate(c.array(value, "$.parts", nonempty=True)):
        path = f"$.parts[{i}]"
        item = c.obj(raw, path, ("id", "label", "axis", "judgement_label", "domains"),
                     ("applicability_rationale_label",))
        part_id = c.string(item["id"], f"{path}.id")
        c.unique(part_ids, part_id, f"{path}.id", "part")
        if item["axis"] not in PART_AXES:
            c.fail(f"{path}.axis",
                   f"expected one of {', '.join(PART_AXES)}, found {item['axis']!r}")
        domains = _domains(c, item["domains"], f"{path}.domains", part_id, ctx, question_ids)
        out.append(Part(
            id=part_id, label=c.string(item["label"], f"{path}.label"), axis=item["axis"],
            judgement_label=c.string(item["judgement_label"], f"{path}.judgement_label"),
            applicability_rationale_label=(
                c.opt_string(item, "applicability_rationale_label", path)
                or "Rationale of applicability rating"),
            domains=domains,
        ))
    return tuple(out)


def _domains(c: Checker, value: Any, path: str, part_id: str, ctx: _RobContext,
             question_ids: dict[str, str]) -> tuple[Domain, ...]:
    ids: dict[str, str] = {}
    numbers: dict[str, str] = {}
    out = []
    for i, raw in enumerate(c.array(value, path, nonempty=True)):
        dpath = f"{path}[{i}]"
        item = c.obj(raw, dpath,
                     ("id", "number", "name", "judgement_prompt", "rationale_label", "describe",
                      "applicability", "questions"),
                     ("wording_source", "confidence"))
        domain_id = c.string(item["id"], f"{dpath}.id")
        c.unique(ids, domain_id, f"{dpath}.id", "domain")
        number = c.integer(item["number"], f"{dpath}.number", 1)
        c.unique(numbers, str(number), f"{dpath}.number", "domain number")
        questions = tuple(
            _question(c, raw_q, f"{dpath}.questions[{j}]", part_id, domain_id, ctx, question_ids)
            for j, raw_q in enumerate(c.array(item["questions"], f"{dpath}.questions",
                                              nonempty=True))
        )
        out.append(Domain(
            id=domain_id, part_id=part_id, number=number,
            name=c.string(item["name"], f"{dpath}.name"),
            judgement_prompt=c.string(item["judgement_prompt"], f"{dpath}.judgement_prompt"),
            rationale_label=c.string(item["rationale_label"], f"{dpath}.rationale_label"),
            describe=c.strings(item["describe"], f"{dpath}.describe", what="describe prompt"),
            applicability=_applicability(c, item["applicability"], f"{dpath}.applicability"),
            questions=questions,
            wording_source=c.opt_string(item, "wording_source", dpath),
            confidence=c.confidence(item, dpath, required=False),
        ))
    return tuple(out)


def _applicability(c: Checker, value: Any, path: str) -> Applicability | None:
    if value is None:
        return None
    item = c.obj(value, path, ("prompt", "describe"), ("rationale_label",))
    return Applicability(
        prompt=c.string(item["prompt"], f"{path}.prompt"),
        describe=c.string(item["describe"], f"{path}.describe", nullable=True),
        rationale_label=(c.opt_string(item, "rationale_label", path)
                         or "Rationale of applicability rating"),
    )


_QUESTION_REQUIRED = ("id", "text", "guidance", "answers", "columns", "perf_types",
                      "wording_source", "confidence")
_QUESTION_OPTIONAL = ("variants", "conditional")


def _question(c: Checker, raw: Any, path: str, part_id: str, domain_id: str,
              ctx: _RobContext, question_ids: dict[str, str]) -> Question:
    item = c.obj(raw, path, _QUESTION_REQUIRED, _QUESTION_OPTIONAL)
    qid = c.string(item["id"], f"{path}.id")
    c.unique(question_ids, qid, f"{path}.id", "question")
    conditional = c.boolean(item.get("conditional", False), f"{path}.conditional")
    answers = _question_answers(c, item["answers"], f"{path}.answers", conditional, ctx)
    columns = c.strings(item["columns"], f"{path}.columns", allowed=ctx.columns, what="column")
    if ctx.columns and not columns:
        c.fail(f"{path}.columns", "list at least one answer column of the instrument "
               f"({', '.join(ctx.columns)})")
    return Question(
        id=qid, part_id=part_id, domain_id=domain_id,
        text=c.string(item["text"], f"{path}.text"),
        guidance=c.string(item["guidance"], f"{path}.guidance"),
        answers=answers, columns=columns,
        perf_types=_question_perf_types(c, item["perf_types"], f"{path}.perf_types", ctx),
        wording_source=c.string(item["wording_source"], f"{path}.wording_source"),
        confidence=c.confidence(item, path, required=True) or "",
        conditional=conditional,
        variants=_variants(c, item.get("variants", []), f"{path}.variants"),
    )


def _question_answers(c: Checker, value: Any, path: str, conditional: bool,
                      ctx: _RobContext) -> tuple[str, ...]:
    answers = c.strings(value, path, nonempty=True, allowed=ANSWER_CODES, what="answer code")
    for i, code in enumerate(answers):
        if code not in ctx.answers:
            c.fail(f"{path}[{i}]", f"answer '{code}' is not offered by this instrument "
                   f"(its answers: {', '.join(ctx.answers)})")
        if code == NOT_APPLICABLE and not conditional:
            c.fail(f"{path}[{i}]", "'NA' is only allowed on a question declared "
                   "\"conditional\": true (the instrument's asterisked items)")
    missing = [code for code in BASE_ANSWERS if code not in answers]
    if missing:
        c.fail(path, f"every signalling question must offer {', '.join(BASE_ANSWERS)}; "
               f"missing {', '.join(missing)}")
    if conditional and NOT_APPLICABLE not in answers:
        c.fail(path, "a conditional question must offer 'NA'")
    return answers


def _question_perf_types(c: Checker, value: Any, path: str,
                         ctx: _RobContext) -> tuple[str, ...] | None:
    if value is None:
        return None
    return c.strings(value, path, nonempty=True, allowed=ctx.perf_types,
                     what="performance type")


def _variants(c: Checker, value: Any, path: str) -> tuple[Variant, ...]:
    out = []
    for i, raw in enumerate(c.array(value, path)):
        vpath = f"{path}[{i}]"
        item = c.obj(raw, vpath, ("source", "text"), ("confidence", "note"))
        out.append(Variant(source=c.string(item["source"], f"{vpath}.source"),
                           text=c.string(item["text"], f"{vpath}.text"),
                           confidence=c.confidence(item, vpath, required=False),
                           note=c.opt_string(item, "note", vpath)))
    return tuple(out)


def _study_types(c: Checker, value: Any, parts: tuple[Part, ...],
                 ctx: _RobContext) -> tuple[StudyType, ...]:
    part_ids = tuple(p.id for p in parts)
    seen: dict[str, str] = {}
    out = []
    for i, raw in enumerate(c.array(value, "$.study_types", nonempty=True)):
        path = f"$.study_types[{i}]"
        item = c.obj(raw, path, ("id", "label", "description", "parts", "columns"))
        st_id = c.string(item["id"], f"{path}.id")
        c.unique(seen, st_id, f"{path}.id", "study type")
        columns = c.strings(item["columns"], f"{path}.columns", allowed=ctx.columns,
                            what="column")
        if ctx.columns and not columns:
            c.fail(f"{path}.columns", "a study type must fill at least one answer column")
        out.append(StudyType(
            id=st_id, label=c.string(item["label"], f"{path}.label"),
            description=c.string(item["description"], f"{path}.description"),
            parts=c.strings(item["parts"], f"{path}.parts", nonempty=True, allowed=part_ids,
                            what="part"),
            columns=columns,
        ))
    return tuple(out)


def _overall(c: Checker, value: Any, parts: tuple[Part, ...]) -> tuple[OverallRule, ...]:
    by_id = {p.id: p for p in parts}
    seen: dict[str, str] = {}
    out = []
    for i, raw in enumerate(c.array(value, "$.overall", nonempty=True)):
        path = f"$.overall[{i}]"
        item = c.obj(raw, path, ("id", "label", "part", "axis", "domains", "rules"),
                     ("summary_label", "wording_source", "confidence"))
        rule_id = c.string(item["id"], f"{path}.id")
        c.unique(seen, rule_id, f"{path}.id", "overall table")
        part = by_id.get(item["part"])
        if part is None:
            c.fail(f"{path}.part", f"unknown part {item['part']!r} "
                   f"(known: {', '.join(by_id)})")
        axis = item["axis"]
        if axis not in OVERALL_AXES:
            c.fail(f"{path}.axis", f"expected one of {', '.join(OVERALL_AXES)}, found {axis!r}")
        if axis != "applicability" and axis != part.axis:
            c.fail(f"{path}.axis", f"part '{part.id}' is judged on axis '{part.axis}', "
                   f"not '{axis}'")
        domains = c.strings(item["domains"], f"{path}.domains", nonempty=True,
                            allowed=tuple(d.id for d in part.domains), what="domain")
        if axis == "applicability":
            for j, domain_id in enumerate(domains):
                if part.domain(domain_id).applicability is None:
                    c.fail(f"{path}.domains[{j}]",
                           f"domain '{domain_id}' has no applicability judgement")
        out.append(OverallRule(
            id=rule_id, label=c.string(item["label"], f"{path}.label"), part=part.id,
            axis=axis, domains=domains,
            rules=MappingProxyType(_level_labels(c, item["rules"], f"{path}.rules")),
            summary_label=c.opt_string(item, "summary_label", path),
            wording_source=c.opt_string(item, "wording_source", path),
            confidence=c.confidence(item, path, required=False),
        ))
    return tuple(out)


def _prompts(c: Checker, value: Any, study_types: tuple[StudyType, ...],
             overall: tuple[OverallRule, ...], ctx: _RobContext) -> tuple[Prompt, ...]:
    st_ids = tuple(s.id for s in study_types)
    overall_ids = tuple(o.id for o in overall)
    seen: dict[str, str] = {}
    out = []
    for i, raw in enumerate(c.array(value, "$.prompts")):
        path = f"$.prompts[{i}]"
        item = c.obj(raw, path, ("id", "study_types", "overall", "when", "text"),
                     ("performance_types", "wording_source", "confidence"))
        prompt_id = c.string(item["id"], f"{path}.id")
        c.unique(seen, prompt_id, f"{path}.id", "prompt")
        target = item["overall"]
        if target is not None and target not in overall_ids:
            c.fail(f"{path}.overall", f"unknown overall table {target!r} "
                   f"(known: {', '.join(overall_ids)})")
        when = item["when"]
        if (target is None) != (when is None):
            c.fail(f"{path}.when", "'overall' and 'when' must be given together")
        if when is not None and when not in LEVELS:
            c.fail(f"{path}.when", f"expected one of {', '.join(LEVELS)}, found {when!r}")
        perf = item.get("performance_types")
        out.append(Prompt(
            id=prompt_id,
            study_types=c.strings(item["study_types"], f"{path}.study_types", nonempty=True,
                                  allowed=st_ids, what="study type"),
            overall=target, when=when,
            performance_types=None if perf is None else c.strings(
                perf, f"{path}.performance_types", nonempty=True, allowed=ctx.perf_types,
                what="performance type"),
            text=c.string(item["text"], f"{path}.text"),
            wording_source=c.opt_string(item, "wording_source", path),
            confidence=c.confidence(item, path, required=False),
        ))
    return tuple(out)
