"""The instruments' data model: frozen dataclasses for risk-of-bias instruments (parts, domains,
signalling questions, study types, overall tables, prompts) and forms (sections, fields,
demographics attributes), with the queries the GUI and the report use, and the constants the
validators check against. Built by :mod:`assessment.instrument_rob` and
:mod:`assessment.instrument_forms`; loaded through :mod:`assessment.instruments`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, TypeVar

from assessment.catalogue import NOT_APPLICABLE
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
