"""Instruments as data: load and strictly validate ``resources/instruments/*.json``.

PROBAST 2019, PROBAST+AI 2025, the model card and the datasheet are JSON files (schema
``probity-instrument/1``), so that a corrected wording is a data change, not a code change. Every
rule the rest of Probity relies on (unique ids, the allowed answer codes, "NA" only on the
instrument's conditional items, columns / performance types / study types / overall tables that
point at things that exist) is checked here, once, when the file is loaded. A broken file is an
:class:`~assessment.errors.InstrumentError` naming the file and the JSON path of the first problem,
never a ``KeyError`` deep inside the GUI or the report.

This module is pure Python: no Qt, no reportlab.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Any, NoReturn, Protocol, TypeVar

from assessment.catalogue import ANSWER_CODES, BASE_ANSWERS, LEVELS, NOT_APPLICABLE
from assessment.errors import InstrumentError

SCHEMA = "probity-instrument/1"
RESOURCE_PACKAGE = "resources"
RESOURCE_FOLDER = "instruments"

PART_AXES: tuple[str, ...] = ("rob", "quality")
OVERALL_AXES: tuple[str, ...] = ("rob", "quality", "applicability")
CONFIDENCE_TAGS: tuple[str, ...] = ("V", "S", "R", "D")
FIELD_TYPES: tuple[str, ...] = (
    "text", "multiline", "choice", "multichoice", "bool", "date", "number", "demographics",
    "ubr", "checklist",  # items in resources/instruments/datasheet_ubr.json (assessment.ubr)
)
CHOICE_TYPES: tuple[str, ...] = ("choice", "multichoice")

#: Instrument id -> file name under resources/instruments.
INSTRUMENT_FILES: Mapping[str, str] = MappingProxyType({
    "probast-2019": "probast-2019.json",
    "probast-ai-2025": "probast-ai-2025.json",
})
FORM_FILES: Mapping[str, str] = MappingProxyType({
    "model-card": "model-card.json",
    "datasheet": "datasheet.json",
})
#: Field ids other modules address directly (document title, report header, evaluation).
REQUIRED_FORM_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "model-card": ("model_name", "model_version", "developer", "intended_use", "outcome"),
    "datasheet": ("training_demographics", "training_total_n", "training_outcome_prevalence"),
})
#: Demographics fields and the attributes the subgroup evaluation compares against.
REQUIRED_DEMOGRAPHICS: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType({
    "datasheet": MappingProxyType(
        {"training_demographics": ("sex", "age_band", "race", "ethnicity")}
    ),
})


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Variant:
    """Another published wording of an item (e.g. the E&E paper's), kept for the reviewer."""

    source: str
    text: str
    confidence: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Option:
    """A labelled id: an answer column (PROBAST 2019) or a performance type (PROBAST+AI)."""

    id: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class ReviewQuestionField:
    """One row of Step 1 (the review question, or PICOTS for PROBAST+AI)."""

    id: str
    label: str
    guidance: str
    wording_source: str | None = None
    confidence: str | None = None


@dataclass(frozen=True)
class Question:
    """A signalling question. ``answers`` holds "NA" only for the instrument's conditional items."""

    id: str
    part_id: str
    domain_id: str
    text: str
    guidance: str
    answers: tuple[str, ...]
    columns: tuple[str, ...]
    perf_types: tuple[str, ...] | None
    wording_source: str
    confidence: str
    conditional: bool = False
    variants: tuple[Variant, ...] = ()

    @property
    def allows_na(self) -> bool:
        """Whether "Not applicable" is an allowed answer (the instrument's conditional items)."""
        return NOT_APPLICABLE in self.answers


@dataclass(frozen=True)
class Applicability:
    """The applicability judgement of a domain (D1-D3): prompt and optional describe box."""

    prompt: str
    describe: str | None
    rationale_label: str


@dataclass(frozen=True)
class Domain:
    """A domain of one part (e.g. D1 Participants): its questions and judgement wording."""

    id: str
    part_id: str
    number: int
    name: str
    judgement_prompt: str
    rationale_label: str
    describe: tuple[str, ...]
    applicability: Applicability | None
    questions: tuple[Question, ...]
    wording_source: str | None = None
    confidence: str | None = None

    @property
    def key(self) -> str:
        """The document's key for this domain's judgement: ``"<part>:<domain>"``."""
        return f"{self.part_id}:{self.id}"


@dataclass(frozen=True)
class Part:
    """One assessed part: "main" (PROBAST 2019) or "development"/"evaluation" (PROBAST+AI)."""

    id: str
    label: str
    axis: str
    judgement_label: str
    applicability_rationale_label: str
    domains: tuple[Domain, ...]

    def domain(self, domain_id: str) -> Domain:
        """The domain with ``domain_id``; InstrumentError listing known domains otherwise."""
        return _find(self.domains, domain_id, f"Part '{self.id}' has no domain", "domains")


@dataclass(frozen=True)
class StudyType:
    """A kind of study being assessed and the parts and answer columns it fills in."""

    id: str
    label: str
    description: str
    parts: tuple[str, ...]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class OverallRule:
    """A Step-4 table: worst-of over ``domains`` of ``part`` on ``axis``, in the form's words."""

    id: str
    label: str
    part: str
    axis: str
    domains: tuple[str, ...]
    rules: Mapping[str, str] = field(hash=False)
    summary_label: str | None = None
    wording_source: str | None = None
    confidence: str | None = None


@dataclass(frozen=True)
class Prompt:
    """A discretionary reminder shown to the reviewer; it never changes a judgement itself."""

    id: str
    study_types: tuple[str, ...]
    overall: str | None
    when: str | None
    performance_types: tuple[str, ...] | None
    text: str
    wording_source: str | None = None
    confidence: str | None = None

    def applies(
        self,
        study_type: str | None,
        performance_types: Sequence[str] = (),
        overall_values: Mapping[str, str | None] | None = None,
    ) -> bool:
        """Whether to show the prompt for this study type, performance types and overall values.

        ``performance_types`` set on the prompt means "exactly these were evaluated" (e.g. the
        PROBAST+AI copy rule for apparent-only evaluations); ``overall``/``when`` means "the overall
        table ``overall`` currently computes to ``when``".
        """
        if study_type not in self.study_types:
            return False
        if self.performance_types is not None and (
            sorted(set(performance_types)) != sorted(self.performance_types)
        ):
            return False
        if self.overall is not None:
            value = (overall_values or {}).get(self.overall)
            if value != self.when:
                return False
        return True


@dataclass(frozen=True)
class Instrument:
    """A validated risk-of-bias instrument; lookups raise InstrumentError naming known ids."""

    id: str
    version: str
    name: str
    title: str
    full_name: str
    citation: tuple[str, ...]
    licence: str
    wording_source: str
    answers: Mapping[str, str] = field(hash=False)
    levels: Mapping[str, str] = field(hash=False)
    review_question: tuple[ReviewQuestionField, ...] = ()
    columns: tuple[Option, ...] = ()
    performance_types: tuple[Option, ...] = ()
    study_types: tuple[StudyType, ...] = ()
    parts: tuple[Part, ...] = ()
    overall: tuple[OverallRule, ...] = ()
    prompts: tuple[Prompt, ...] = ()
    study_type_note: str | None = None
    source: str = ""
    _questions: Mapping[str, tuple[Part, Domain, Question]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        index = {q.id: (p, d, q) for p, d, q in self.iter_questions()}
        object.__setattr__(self, "_questions", MappingProxyType(index))

    def iter_questions(self) -> Iterator[tuple[Part, Domain, Question]]:
        """All questions in form order, with their part and domain."""
        for part in self.parts:
            for domain in part.domains:
                for question in domain.questions:
                    yield part, domain, question

    def _entry(self, qid: str) -> tuple[Part, Domain, Question]:
        try:
            return self._questions[qid]
        except KeyError:
            raise InstrumentError(
                f"{self.title} has no signalling question '{qid}'; "
                f"known questions: {', '.join(self._questions)}."
            ) from None

    def question(self, qid: str) -> Question:
        """A signalling question by id (e.g. "1.1", "E-4.2")."""
        return self._entry(qid)[2]

    def part(self, part_id: str) -> Part:
        """A part by id."""
        return _find(self.parts, part_id, f"{self.title} has no part", "parts")

    def domain(self, part_id: str, domain_id: str) -> Domain:
        """A domain by its part and id."""
        return self.part(part_id).domain(domain_id)

    def study_type(self, study_type_id: str) -> StudyType:
        """A study type by id."""
        return _find(self.study_types, study_type_id, f"{self.title} has no study type",
                     "study types")

    def overall_rule(self, overall_id: str) -> OverallRule:
        """A Step-4 overall table by id."""
        return _find(self.overall, overall_id, f"{self.title} has no overall table",
                     "overall tables")

    @property
    def column_ids(self) -> tuple[str, ...]:
        """Answer column ids in form order (PROBAST 2019; empty for +AI)."""
        return tuple(c.id for c in self.columns)

    @property
    def performance_type_ids(self) -> tuple[str, ...]:
        """Performance type ids in form order (PROBAST+AI; empty for 2019)."""
        return tuple(p.id for p in self.performance_types)

    def applicable_columns(self, qid: str, study_type_id: str) -> tuple[str, ...]:
        """PROBAST 2019: the answer columns of ``qid`` that a study type fills in (form order)."""
        question = self.question(qid)
        wanted = set(self.study_type(study_type_id).columns)
        return tuple(c for c in question.columns if c in wanted)

    def study_types_for(self, qid: str) -> tuple[str, ...]:
        """Study types in which ``qid`` is answered (its part is used and, in 2019, a column)."""
        part, _, question = self._entry(qid)
        result = []
        for st in self.study_types:
            if part.id not in st.parts:
                continue
            if self.columns and not set(st.columns) & set(question.columns):
                continue
            result.append(st.id)
        return tuple(result)


@dataclass(frozen=True)
class DemographicAttribute:
    """One attribute of a demographics field (e.g. sex) and its groups in display order."""

    id: str
    label: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class FormField:
    """One field of a form; ``options`` for choice types, ``attributes`` for demographics."""

    id: str
    section_id: str
    label: str
    type: str
    guidance: str
    source: str
    required: bool = False
    options: tuple[str, ...] = ()
    attributes: tuple[DemographicAttribute, ...] = ()
    unit: str | None = None

    def attribute(self, attribute_id: str) -> DemographicAttribute:
        """A demographics attribute of this field by id."""
        return _find(self.attributes, attribute_id, f"Field '{self.id}' has no attribute",
                     "attributes")


@dataclass(frozen=True)
class FormSection:
    """A titled section of a form with its source citation."""

    id: str
    title: str
    source: str
    description: str
    fields: tuple[FormField, ...]


@dataclass(frozen=True)
class Form:
    """A validated form instrument (model card, datasheet)."""

    id: str
    version: str
    name: str
    title: str
    citation: tuple[str, ...]
    licence: str
    sections: tuple[FormSection, ...]
    source: str = ""

    def iter_fields(self) -> Iterator[tuple[FormSection, FormField]]:
        """All fields in form order, with their section."""
        for section in self.sections:
            for form_field in section.fields:
                yield section, form_field

    def field(self, field_id: str) -> FormField:
        """A field by its (form-wide unique) id; InstrumentError listing known fields otherwise."""
        fields = [form_field for _, form_field in self.iter_fields()]
        return _find(fields, field_id, f"{self.title} has no field", "fields")

    def section(self, section_id: str) -> FormSection:
        """A section by id."""
        return _find(self.sections, section_id, f"{self.title} has no section", "sections")


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_Item = TypeVar("_Item", bound=_HasId)


def _find(items: Sequence[_Item], item_id: str, what: str, plural: str) -> _Item:
    """The item with ``item_id``; otherwise an InstrumentError listing the ids that exist."""
    for item in items:
        if item.id == item_id:
            return item
    known = ", ".join(i.id for i in items)
    raise InstrumentError(f"{what} '{item_id}'; known {plural}: {known}.")


# --------------------------------------------------------------------------- public loading


def available_instruments() -> list[tuple[str, str]]:
    """(id, display title) of every risk-of-bias instrument, for pickers."""
    return [(iid, load_instrument(iid).title) for iid in INSTRUMENT_FILES]


def available_forms() -> list[tuple[str, str]]:
    """(id, display title) of every form instrument."""
    return [(fid, load_form(fid).title) for fid in FORM_FILES]


@cache
def load_instrument(instrument_id: str) -> Instrument:
    """Load and validate a risk-of-bias instrument (cached: instruments are immutable)."""
    return _load(instrument_id, INSTRUMENT_FILES, "instrument", validate_instrument_data)


@cache
def load_form(form_id: str) -> Form:
    """Load and validate a form instrument (model card, datasheet); cached like instruments."""
    return _load(form_id, FORM_FILES, "form", validate_form_data)


_Loaded = TypeVar("_Loaded", Instrument, Form)


def _load(
    item_id: str,
    files: Mapping[str, str],
    noun: str,
    validate: Callable[[Any, str], _Loaded],
) -> _Loaded:
    """Read, validate and check that the file declares the id it is installed under."""
    filename = files.get(item_id)
    if filename is None:
        raise InstrumentError(f"Unknown {noun} '{item_id}'; known {noun}s: {', '.join(files)}.")
    source = f"{RESOURCE_PACKAGE}/{RESOURCE_FOLDER}/{filename}"
    loaded = validate(_read_json(filename, source), source)
    if loaded.id != item_id:
        raise InstrumentError(
            f"Instrument file {source} is invalid at $.id: it declares '{loaded.id}' but is "
            f"installed as '{item_id}'. Reinstall Probity or correct the file."
        )
    return loaded


def installed_files() -> list[str]:
    """File names of every instrument and form Probity expects under resources/instruments."""
    from assessment.ubr import RESOURCE_FILE as UBR_FILE  # the datasheet's UBR/checklist items

    return [*INSTRUMENT_FILES.values(), *FORM_FILES.values(), UBR_FILE]


def _folder() -> Traversable:
    """The installed instruments folder (a separate function so tests can point it elsewhere)."""
    return resources.files(RESOURCE_PACKAGE) / RESOURCE_FOLDER


def _read_json(filename: str, source: str) -> Any:
    ref = _folder() / filename
    try:
        text = ref.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InstrumentError(
            f"Instrument file {source} is missing from the installation; reinstall Probity."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InstrumentError(
            f"Instrument file {source} cannot be read ({exc}); reinstall Probity."
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InstrumentError(
            f"Instrument file {source} is not valid JSON (line {exc.lineno}, column "
            f"{exc.colno}: {exc.msg}); reinstall Probity or correct the file."
        ) from None


# --------------------------------------------------------------------------- validation core


class _Checker:
    """Typed accessors over raw JSON that fail with the file and the JSON path of the problem."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> NoReturn:
        raise InstrumentError(
            f"Instrument file {self.source} is invalid at {path}: {problem}. "
            "Reinstall Probity or correct the file."
        )

    def obj(self, value: Any, path: str, required: Sequence[str],
            optional: Sequence[str] = ()) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected an object, found {_kind(value)}")
        for key in required:
            if key not in value:
                self.fail(f"{path}.{key}", "required key is missing")
        allowed = set(required) | set(optional)
        for key in value:
            if key not in allowed:
                self.fail(f"{path}.{key}",
                          f"unknown key (allowed: {', '.join(sorted(allowed))})")
        return value

    def string(self, value: Any, path: str, *, nullable: bool = False) -> Any:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"expected a non-empty text, found {_kind(value)}")
        return value

    def opt_string(self, obj: Mapping[str, Any], key: str, path: str) -> str | None:
        text: str | None = self.string(obj.get(key), f"{path}.{key}", nullable=True)
        return text

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"expected true or false, found {_kind(value)}")
        return value

    def integer(self, value: Any, path: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(path, f"expected an integer >= {minimum}, found {value!r}")
        return value

    def array(self, value: Any, path: str, *, nonempty: bool = False) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list, found {_kind(value)}")
        if nonempty and not value:
            self.fail(path, "the list must not be empty")
        return value

    def strings(self, value: Any, path: str, *, nonempty: bool = False,
                allowed: Sequence[str] | None = None, what: str = "value") -> tuple[str, ...]:
        items = self.array(value, path, nonempty=nonempty)
        out: list[str] = []
        for i, item in enumerate(items):
            self.string(item, f"{path}[{i}]")
            if allowed is not None and item not in allowed:
                self.fail(f"{path}[{i}]",
                          f"unknown {what} '{item}' (known: {', '.join(allowed) or 'none'})")
            if item in out:
                self.fail(f"{path}[{i}]", f"duplicate {what} '{item}'")
            out.append(item)
        return tuple(out)

    def unique(self, seen: dict[str, str], item_id: str, path: str, what: str) -> None:
        if item_id in seen:
            self.fail(path, f"duplicate {what} id '{item_id}' (first used at {seen[item_id]})")
        seen[item_id] = path

    def confidence(self, obj: Mapping[str, Any], path: str, *, required: bool) -> str | None:
        value = obj.get("confidence")
        if value is None and not required:
            return None
        if value not in CONFIDENCE_TAGS:
            self.fail(f"{path}.confidence",
                      f"expected one of {', '.join(CONFIDENCE_TAGS)}, found {value!r}")
        return str(value)

    def header(self, data: Any, kind: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail("$", f"expected an object, found {_kind(data)}")
        if data.get("schema") != SCHEMA:
            self.fail("$.schema", f"expected '{SCHEMA}', found {data.get('schema')!r}")
        if data.get("kind") != kind:
            self.fail("$.kind", f"expected '{kind}', found {data.get('kind')!r}")
        return data


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a text", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _citation(c: _Checker, data: Mapping[str, Any]) -> tuple[str, ...]:
    return c.strings(data["citation"], "$.citation", nonempty=True, what="citation")


# --------------------------------------------------------------------------- rob instruments


_ROB_REQUIRED = (
    "schema", "kind", "id", "version", "name", "full_name", "citation", "licence",
    "wording_source", "answers", "levels", "review_question", "columns", "performance_types",
    "study_types", "parts", "overall", "prompts",
)
_ROB_OPTIONAL = ("title", "study_type_note")


def validate_instrument_data(data: dict[str, Any], source: str) -> Instrument:
    """Validate raw instrument JSON and build the :class:`Instrument` (first problem raises)."""
    c = _Checker(source)
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
        full_name=data["full_name"], citation=_citation(c, data), licence=data["licence"],
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


def _answer_labels(c: _Checker, value: Any) -> dict[str, str]:
    labels = c.obj(value, "$.answers", BASE_ANSWERS, (NOT_APPLICABLE,))
    for code, label in labels.items():
        c.string(label, f"$.answers.{code}")
    return {code: labels[code] for code in ANSWER_CODES if code in labels}


def _level_labels(c: _Checker, value: Any, path: str) -> dict[str, str]:
    labels = c.obj(value, path, LEVELS)
    for level in LEVELS:
        c.string(labels[level], f"{path}.{level}")
    return {level: labels[level] for level in LEVELS}


def _review_question(c: _Checker, value: Any) -> tuple[ReviewQuestionField, ...]:
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


def _options(c: _Checker, value: Any, path: str, what: str) -> tuple[Option, ...]:
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


def _parts(c: _Checker, value: Any, ctx: _RobContext) -> tuple[Part, ...]:
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


def _domains(c: _Checker, value: Any, path: str, part_id: str, ctx: _RobContext,
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


def _applicability(c: _Checker, value: Any, path: str) -> Applicability | None:
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


def _question(c: _Checker, raw: Any, path: str, part_id: str, domain_id: str,
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


def _question_answers(c: _Checker, value: Any, path: str, conditional: bool,
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


def _question_perf_types(c: _Checker, value: Any, path: str,
                         ctx: _RobContext) -> tuple[str, ...] | None:
    if value is None:
        return None
    return c.strings(value, path, nonempty=True, allowed=ctx.perf_types,
                     what="performance type")


def _variants(c: _Checker, value: Any, path: str) -> tuple[Variant, ...]:
    out = []
    for i, raw in enumerate(c.array(value, path)):
        vpath = f"{path}[{i}]"
        item = c.obj(raw, vpath, ("source", "text"), ("confidence", "note"))
        out.append(Variant(source=c.string(item["source"], f"{vpath}.source"),
                           text=c.string(item["text"], f"{vpath}.text"),
                           confidence=c.confidence(item, vpath, required=False),
                           note=c.opt_string(item, "note", vpath)))
    return tuple(out)


def _study_types(c: _Checker, value: Any, parts: tuple[Part, ...],
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


def _overall(c: _Checker, value: Any, parts: tuple[Part, ...]) -> tuple[OverallRule, ...]:
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


def _prompts(c: _Checker, value: Any, study_types: tuple[StudyType, ...],
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


# --------------------------------------------------------------------------- forms


_FORM_REQUIRED = ("schema", "kind", "id", "version", "name", "citation", "licence", "sections")
_FORM_OPTIONAL = ("title", "wording_source")
_FIELD_REQUIRED = ("id", "label", "type", "guidance", "source")
_FIELD_OPTIONAL = ("required", "options", "attributes", "unit")


def validate_form_data(data: dict[str, Any], source: str) -> Form:
    """Validate raw form JSON (model card, datasheet) and build the :class:`Form`."""
    c = _Checker(source)
    c.header(data, "form")
    c.obj(data, "$", _FORM_REQUIRED, _FORM_OPTIONAL)
    for key in ("id", "version", "name", "licence"):
        c.string(data[key], f"$.{key}")
    c.opt_string(data, "wording_source", "$")
    section_ids: dict[str, str] = {}
    field_ids: dict[str, str] = {}
    sections = []
    for i, raw in enumerate(c.array(data["sections"], "$.sections", nonempty=True)):
        path = f"$.sections[{i}]"
        item = c.obj(raw, path, ("id", "title", "source", "fields"), ("description",))
        section_id = c.string(item["id"], f"{path}.id")
        c.unique(section_ids, section_id, f"{path}.id", "section")
        fields = tuple(
            _form_field(c, raw_f, f"{path}.fields[{j}]", section_id, field_ids)
            for j, raw_f in enumerate(c.array(item["fields"], f"{path}.fields", nonempty=True))
        )
        sections.append(FormSection(
            id=section_id, title=c.string(item["title"], f"{path}.title"),
            source=c.string(item["source"], f"{path}.source"),
            description=c.opt_string(item, "description", path) or "", fields=fields,
        ))
    form = Form(id=data["id"], version=data["version"], name=data["name"],
                title=c.opt_string(data, "title", "$") or data["name"],
                citation=_citation(c, data), licence=data["licence"],
                sections=tuple(sections), source=source)
    _check_required_fields(c, form, field_ids)
    return form


def _form_field(c: _Checker, raw: Any, path: str, section_id: str,
                field_ids: dict[str, str]) -> FormField:
    item = c.obj(raw, path, _FIELD_REQUIRED, _FIELD_OPTIONAL)
    field_id = c.string(item["id"], f"{path}.id")
    c.unique(field_ids, field_id, f"{path}.id", "field")
    ftype = item["type"]
    if ftype not in FIELD_TYPES:
        c.fail(f"{path}.type", f"expected one of {', '.join(FIELD_TYPES)}, found {ftype!r}")
    options: tuple[str, ...] = ()
    if ftype in CHOICE_TYPES:
        if "options" not in item:
            c.fail(f"{path}.options", f"a '{ftype}' field needs a list of options")
        options = c.strings(item["options"], f"{path}.options", nonempty=True, what="option")
    elif "options" in item:
        c.fail(f"{path}.options", f"only choice fields have options, this one is '{ftype}'")
    attributes: tuple[DemographicAttribute, ...] = ()
    if ftype == "demographics":
        if "attributes" not in item:
            c.fail(f"{path}.attributes", "a demographics field needs a list of attributes")
        attributes = _attributes(c, item["attributes"], f"{path}.attributes")
    elif "attributes" in item:
        c.fail(f"{path}.attributes", f"only demographics fields have attributes, this one is "
               f"'{ftype}'")
    return FormField(
        id=field_id, section_id=section_id, label=c.string(item["label"], f"{path}.label"),
        type=ftype, guidance=c.string(item["guidance"], f"{path}.guidance"),
        source=c.string(item["source"], f"{path}.source"),
        required=c.boolean(item.get("required", False), f"{path}.required"),
        options=options, attributes=attributes, unit=c.opt_string(item, "unit", path),
    )


def _attributes(c: _Checker, value: Any, path: str) -> tuple[DemographicAttribute, ...]:
    seen: dict[str, str] = {}
    out = []
    for i, raw in enumerate(c.array(value, path, nonempty=True)):
        apath = f"{path}[{i}]"
        item = c.obj(raw, apath, ("id", "label", "groups"))
        attr_id = c.string(item["id"], f"{apath}.id")
        c.unique(seen, attr_id, f"{apath}.id", "attribute")
        out.append(DemographicAttribute(
            id=attr_id, label=c.string(item["label"], f"{apath}.label"),
            groups=c.strings(item["groups"], f"{apath}.groups", nonempty=True, what="group"),
        ))
    return tuple(out)


def _check_required_fields(c: _Checker, form: Form, field_ids: Mapping[str, str]) -> None:
    """Fields that other modules address by id must exist, with the demographics they compare."""
    for field_id in REQUIRED_FORM_FIELDS.get(form.id, ()):
        if field_id not in field_ids:
            c.fail("$.sections", f"the {form.id} form must define a field '{field_id}'")
    for field_id, attr_ids in REQUIRED_DEMOGRAPHICS.get(form.id, {}).items():
        form_field = form.field(field_id)
        base = field_ids[field_id].removesuffix(".id")
        if form_field.type != "demographics":
            c.fail(f"{base}.type",
                   f"field '{field_id}' must be of type 'demographics'")
        present = {a.id for a in form_field.attributes}
        for attr_id in attr_ids:
            if attr_id not in present:
                c.fail(f"{base}.attributes",
                       f"field '{field_id}' must have the attribute '{attr_id}' "
                       f"(present: {', '.join(sorted(present))})")
