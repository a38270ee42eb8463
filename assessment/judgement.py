"""The instrument's judgement rules, applied to an assessment.

PROBAST (2019) and PROBAST+AI (2025) leave the domain rating to the reviewer: answers only
*suggest* it. Probity therefore computes

* a **suggested** domain judgement from the applicable answers: any N/PN -> "high" (the reviewer
  must confirm or change it), otherwise any NI -> "unclear", otherwise (all Y/PY, NA ignored) ->
  "low"; no suggestion while applicable questions are unanswered, except that an N/PN suggests
  "high" at once;
* the reviewer's **final** judgement: their explicit choice, or the suggestion when it is low or
  unclear and all questions are answered; a final that departs from the suggestion needs a
  rationale, and a suggested "high" needs the reviewer's explicit decision;
* **overall** judgements, always computed, never typed: worst of (low < unclear < high) over the
  domains of a part (risk of bias / quality) or over their applicability ratings (D1-D3),
  where one "high" decides the overall even before everything is answered.

Unanswered applicable questions, pending decisions and missing rationales make the result
incomplete, and each is listed so the reviewer knows what is left to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assessment.catalogue import CONCERN_ANSWERS, FAVOURABLE_ANSWERS, LEVEL_RANK

if TYPE_CHECKING:
    from assessment.document import Assessment
    from assessment.instruments import Domain, Instrument, Part, Question

ORDER = LEVEL_RANK
CONCERNING = CONCERN_ANSWERS
FAVOURABLE = FAVOURABLE_ANSWERS


@dataclass(frozen=True)
class Slot:
    """One answer cell: a question, in one column (2019) or performance type (+AI eval D4)."""

    key: str
    part: str
    domain: str
    question: str
    column: str | None = None
    perf_type: str | None = None


@dataclass(frozen=True)
class DomainResult:
    part: str
    domain: str
    key: str  # "<part>:<domain>", the key of the document's domain judgement
    name: str
    suggested: str | None
    final: str | None
    final_is_override: bool
    rationale: str
    rationale_missing: bool
    flagged: list[str]
    unanswered: list[str]
    applicability: str | None  # None also for domains without applicability (D4)
    has_applicability: bool
    needs_decision: bool
    answered: int
    applicable: int

    @property
    def complete(self) -> bool:
        """Nothing left to ask about this domain: answers, decision, rationale, applicability."""
        return (
            self.final is not None
            and not self.unanswered
            and not self.needs_decision
            and not self.rationale_missing
            and (not self.has_applicability or self.applicability is not None)
        )


@dataclass(frozen=True)
class OverallResult:
    id: str
    label: str
    axis: str
    part: str
    value: str | None
    provisional: bool  # computed while parts of the assessment are still open


@dataclass
class Judgement:
    domains: list[DomainResult] = field(default_factory=list)
    overall: list[OverallResult] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems

    @property
    def open_items(self) -> int:
        """Every open item counted once: each unanswered question (not the one line listing
        them), each applicability rating and each pending decision or missing rationale."""
        listed = 1 if self.unanswered else 0
        return len(self.unanswered) + len(self.problems) - listed

    def domain(self, key: str) -> DomainResult:
        for d in self.domains:
            if d.key == key:
                return d
        raise KeyError(key)

    def overall_value(self, overall_id: str) -> str | None:
        for o in self.overall:
            if o.id == overall_id:
                return o.value
        raise KeyError(overall_id)


def worst_of(values: list[str | None]) -> str | None:
    """Worst judgement (low < unclear < high); "high" wins even when others are missing."""
    known = [v for v in values if v is not None]
    if "high" in known:
        return "high"
    if len(known) < len(values) or not known:
        return None
    return max(known, key=ORDER.__getitem__)


def _question_slots(
    instrument: Instrument,
    part: Part,
    domain: Domain,
    q: Question,
    columns: list[str] | None,
    perf_types: list[str] | None,
) -> list[Slot]:
    if instrument.columns:
        use = [c.id for c in instrument.columns] if columns is None else columns
        return [
            Slot(f"{q.id}@{c}", part.id, domain.id, q.id, column=c) for c in use if c in q.columns
        ]
    if q.perf_types:
        use = list(q.perf_types) if perf_types is None else perf_types
        return [
            Slot(f"{q.id}@{p}", part.id, domain.id, q.id, perf_type=p)
            for p in use
            if p in q.perf_types
        ]
    return [Slot(q.id, part.id, domain.id, q.id)]


_SLOT_KEYS: dict[tuple[str, str], frozenset[str]] = {}


def _all_slot_keys(instrument: Instrument) -> frozenset[str]:
    cache_key = (instrument.id, instrument.version)
    if cache_key in _SLOT_KEYS:
        return _SLOT_KEYS[cache_key]
    keys: set[str] = set()
    for part in instrument.parts:
        for domain in part.domains:
            for q in domain.questions:
                keys.update(s.key for s in _question_slots(instrument, part, domain, q, None, None))
    _SLOT_KEYS[cache_key] = frozenset(keys)
    return _SLOT_KEYS[cache_key]


def all_slot_keys(instrument: Instrument) -> frozenset[str]:
    """Every answer key that can exist for the instrument, whatever the study type."""
    return _all_slot_keys(instrument)


def applicable_slots(
    instrument: Instrument, study_type: str | None, performance_types: list[str]
) -> list[Slot]:
    """The answer cells the reviewer must fill for this study type (in instrument order)."""
    if study_type is None:
        return []
    st = instrument.study_type(study_type)
    slots: list[Slot] = []
    for part in instrument.parts:
        if part.id not in st.parts:
            continue
        for domain in part.domains:
            for q in domain.questions:
                slots.extend(
                    _question_slots(
                        instrument, part, domain, q, list(st.columns), list(performance_types)
                    )
                )
    return slots


def suggest(values: list[str | None]) -> str | None:
    """Suggested domain judgement from the applicable answers (see the module docstring)."""
    if any(v in CONCERNING for v in values):
        return "high"
    if not values or any(v is None for v in values):
        return None
    if any(v == "NI" for v in values):
        return "unclear"
    return "low"


def judge(doc: Assessment) -> Judgement:
    instrument = doc.instrument
    result = Judgement()
    if doc.study_type is None:
        result.problems.append("Choose the study type (Step 2) before answering the questions.")
        return result
    st = instrument.study_type(doc.study_type)
    if instrument.performance_types and "evaluation" in st.parts and not doc.performance_types:
        result.problems.append(
            "Choose which performance types the study reports (apparent, internal, external) "
            "so that the evaluation's domain 4 questions can be answered."
        )
    slots = applicable_slots(instrument, doc.study_type, doc.performance_types)
    answers = doc.answers
    by_domain: dict[tuple[str, str], list[Slot]] = {}
    for s in slots:
        by_domain.setdefault((s.part, s.domain), []).append(s)

    for part in instrument.parts:
        if part.id not in st.parts:
            continue
        for domain in part.domains:
            key = f"{part.id}:{domain.id}"
            dslots = by_domain.get((part.id, domain.id), [])
            values = [answers[s.key].value if s.key in answers else None for s in dslots]
            unanswered = [s.key for s, v in zip(dslots, values, strict=True) if v is None]
            flagged = [s.key for s, v in zip(dslots, values, strict=True) if v in CONCERNING]
            suggested = suggest(values)
            dj = doc.domain_judgement(key)
            label = (
                f"{part.label} {domain.id} {domain.name}"
                if len(st.parts) > 1
                else f"{domain.id} {domain.name}"
            )
            if dj.final is not None:
                final: str | None = dj.final
                override = suggested is not None and dj.final != suggested
            elif suggested in ("low", "unclear") and not unanswered:
                final, override = suggested, False
            else:
                final, override = None, False
            rationale_missing = override and not dj.rationale.strip()
            needs_decision = dj.final is None and suggested == "high"
            has_app = domain.applicability is not None
            result.domains.append(
                DomainResult(
                    part=part.id,
                    domain=domain.id,
                    key=key,
                    name=domain.name,
                    suggested=suggested,
                    final=final,
                    final_is_override=override,
                    rationale=dj.rationale,
                    rationale_missing=rationale_missing,
                    flagged=flagged,
                    unanswered=unanswered,
                    applicability=dj.applicability if has_app else None,
                    has_applicability=has_app,
                    needs_decision=needs_decision,
                    answered=len(dslots) - len(unanswered),
                    applicable=len(dslots),
                )
            )
            result.unanswered.extend(unanswered)
            if needs_decision:
                qs = ", ".join(sorted({k.split("@")[0] for k in flagged}))
                result.problems.append(
                    f"{label}: answers N/PN on {qs} suggest high risk; the reviewer must confirm "
                    "or change the judgement (with a rationale if changed)."
                )
            if rationale_missing:
                result.problems.append(
                    f"{label}: the final judgement '{final}' departs from the suggested "
                    f"'{suggested}'; give a rationale."
                )
            if has_app and dj.applicability is None:
                result.problems.append(f"{label}: rate the concern about applicability.")

    if result.unanswered:
        result.problems.insert(
            0,
            f"{len(result.unanswered)} applicable questions unanswered: "
            + ", ".join(result.unanswered),
        )

    open_work = bool(result.problems)
    for rule in instrument.overall:
        if rule.part not in st.parts:
            continue
        domains = [
            d
            for d in result.domains
            if d.part == rule.part and (not rule.domains or d.domain in rule.domains)
        ]
        if rule.axis == "applicability":
            values = [d.applicability for d in domains if d.has_applicability]
        else:
            values = [
                d.final if d.final is not None else ("high" if d.suggested == "high" else None)
                for d in domains
            ]
        result.overall.append(
            OverallResult(
                id=rule.id,
                label=rule.label,
                axis=rule.axis,
                part=rule.part,
                value=worst_of(values),
                provisional=open_work,
            )
        )
    overall_values = {o.id: o.value for o in result.overall}
    for prompt in instrument.prompts:
        if prompt.applies(doc.study_type, doc.performance_types, overall_values):
            result.prompts.append(prompt.text)
    return result
