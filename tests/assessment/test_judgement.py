"""Every judgement rule of PROBAST 2019 and PROBAST+AI 2025, as parametrised tables."""

from __future__ import annotations

import pytest

from assessment.document import Assessment
from assessment.errors import DocumentError
from assessment.judgement import applicable_slots, judge, suggest, worst_of


# ---------------------------------------------------------------- the domain suggestion rule
@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["Y", "Y"], "low"),
        (["Y", "PY"], "low"),
        (["PY", "PY", "PY"], "low"),
        (["Y", "NA"], "low"),
        (["Y", "NI"], "unclear"),
        (["NI", "NI"], "unclear"),
        (["PY", "NI", "NA"], "unclear"),
        (["Y", "N"], "high"),
        (["Y", "PN"], "high"),
        (["NI", "PN"], "high"),
        (["N", None], "high"),  # an N/PN suggests high before everything is answered
        (["Y", None], None),
        (["NI", None], None),
        ([None, None], None),
        ([], None),
    ],
)
def test_suggestion_rule(answers, expected) -> None:
    assert suggest(answers) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["low", "low", "low"], "low"),
        (["low", "unclear", "low"], "unclear"),
        (["unclear", "unclear"], "unclear"),
        (["low", "high", "unclear"], "high"),
        (["high", None], "high"),  # one high decides, even while incomplete
        (["low", None], None),
        (["unclear", None], None),
        ([], None),
    ],
)
def test_worst_of(values, expected) -> None:
    assert worst_of(values) == expected


# ---------------------------------------------------------------- PROBAST 2019 on documents
def _doc(study_type: str = "validation", instrument: str = "probast-2019") -> Assessment:
    doc = Assessment.new(instrument)
    doc.set_study_type(study_type)
    return doc


def _answer_all(doc: Assessment, value: str = "Y") -> None:
    for slot in applicable_slots(doc.instrument, doc.study_type, doc.performance_types):
        doc.set_answer(slot.key, value)


def _rate_applicability(doc: Assessment, level: str = "low") -> None:
    for d in judge(doc).domains:
        if d.has_applicability:
            doc.set_domain(d.key, applicability=level)


@pytest.mark.parametrize(
    ("study_type", "n_slots", "dev_only_present"),
    [("development", 20, True), ("validation", 17, False), ("development_validation", 37, True)],
)
def test_probast2019_applicable_questions(study_type, n_slots, dev_only_present) -> None:
    doc = _doc(study_type)
    keys = [s.key for s in applicable_slots(doc.instrument, study_type, [])]
    assert len(keys) == n_slots
    assert ("4.5@development" in keys) is dev_only_present
    assert not any(
        k.startswith(("4.5@validation", "4.8@validation", "4.9@validation")) for k in keys
    )


def test_all_yes_gives_low_and_complete() -> None:
    doc = _doc("validation")
    _answer_all(doc, "Y")
    _rate_applicability(doc, "low")
    j = judge(doc)
    assert j.complete, j.problems
    assert [d.suggested for d in j.domains] == ["low"] * 4
    assert [d.final for d in j.domains] == ["low"] * 4
    assert j.overall_value("rob") == "low"
    assert j.overall_value("applicability") == "low"
    assert j.prompts == []


def test_unanswered_questions_are_listed() -> None:
    doc = _doc("validation")
    doc.set_answer("1.1@validation", "Y")
    j = judge(doc)
    assert not j.complete
    assert len(j.unanswered) == 16
    assert "1.2@validation" in j.unanswered and "1.1@validation" not in j.unanswered
    assert j.domain("main:D1").suggested is None
    assert j.overall_value("rob") is None


def test_no_information_suggests_unclear_and_overall_unclear() -> None:
    doc = _doc("validation")
    _answer_all(doc, "Y")
    doc.set_answer("2.2@validation", "NI")
    _rate_applicability(doc)
    j = judge(doc)
    assert j.domain("main:D2").suggested == "unclear"
    assert j.domain("main:D2").final == "unclear"
    assert j.overall_value("rob") == "unclear"
    assert j.complete


def test_no_answer_requires_the_reviewers_decision() -> None:
    doc = _doc("validation")
    _answer_all(doc, "Y")
    doc.set_answer("4.4@validation", "PN")
    _rate_applicability(doc)
    j = judge(doc)
    d4 = j.domain("main:D4")
    assert d4.suggested == "high" and d4.final is None and d4.needs_decision
    assert d4.flagged == ["4.4@validation"]
    assert not j.complete
    assert j.overall_value("rob") == "high"  # provisional, from the suggestion
    # confirming the suggestion needs no rationale
    doc.set_domain("main:D4", final="high")
    j = judge(doc)
    assert j.complete and j.overall_value("rob") == "high"


def test_departing_from_the_suggestion_needs_a_rationale() -> None:
    doc = _doc("validation")
    _answer_all(doc, "Y")
    doc.set_answer("4.4@validation", "PN")
    _rate_applicability(doc)
    doc.set_domain("main:D4", final="low")
    j = judge(doc)
    d4 = j.domain("main:D4")
    assert d4.final == "low" and d4.final_is_override and d4.rationale_missing
    assert not j.complete
    assert any("give a rationale" in p for p in j.problems)
    doc.set_domain("main:D4", rationale="Only 2% missing; complete-case analysis is unbiased here.")
    j = judge(doc)
    assert j.complete
    assert j.overall_value("rob") == "low"


def test_applicability_is_rated_not_computed_and_worst_of() -> None:
    doc = _doc("validation")
    _answer_all(doc, "Y")
    j = judge(doc)
    assert sum(d.has_applicability for d in j.domains) == 3  # D1-D3 only
    assert j.overall_value("applicability") is None
    assert not j.complete
    doc.set_domain("main:D1", applicability="low")
    doc.set_domain("main:D2", applicability="unclear")
    doc.set_domain("main:D3", applicability="low")
    assert judge(doc).overall_value("applicability") == "unclear"
    doc.set_domain("main:D3", applicability="high")
    assert judge(doc).overall_value("applicability") == "high"


def test_development_only_all_low_prompts_downgrade() -> None:
    doc = _doc("development")
    _answer_all(doc, "Y")
    _rate_applicability(doc)
    j = judge(doc)
    assert j.overall_value("rob") == "low"
    assert len(j.prompts) == 1 and "downgrad" in j.prompts[0].lower()


def test_dev_and_validation_columns_both_count() -> None:
    doc = _doc("development_validation")
    _answer_all(doc, "Y")
    doc.set_answer("3.5@validation", "N")
    assert judge(doc).domain("main:D3").suggested == "high"


def test_study_type_missing_is_a_problem() -> None:
    doc = Assessment.new("probast-2019")
    j = judge(doc)
    assert not j.complete and "study type" in j.problems[0]


def test_shaded_question_cannot_be_answered_for_its_column() -> None:
    doc = _doc("validation")
    with pytest.raises(DocumentError):
        doc.set_answer("4.5@validation", "Y")
    with pytest.raises(DocumentError):
        doc.set_answer("1.1@development", "NA")  # PROBAST 2019 has no NA
    with pytest.raises(DocumentError):
        doc.set_answer("9.9@development", "Y")


# ---------------------------------------------------------------- PROBAST+AI 2025
def test_probast_ai_parts_by_study_type() -> None:
    dev = _doc("development", "probast-ai-2025")
    assert len(applicable_slots(dev.instrument, "development", [])) == 16
    ev = _doc("evaluation", "probast-ai-2025")
    ev.set_performance_types(["external"])
    slots = applicable_slots(ev.instrument, "evaluation", ["external"])
    keys = [s.key for s in slots]
    # 11 questions in D1-D3, E-4.1 once, 4.2/4.3/4.4/4.7 per external; 4.5/4.6 internal only
    assert len(keys) == 11 + 1 + 4
    assert "E-4.2@external" in keys and "E-4.5@internal" not in keys
    both = applicable_slots(ev.instrument, "development_evaluation", ["apparent", "internal"])
    assert len(both) == 16 + 11 + 1 + 4 * 2 + 2


def test_probast_ai_needs_performance_types_for_evaluation() -> None:
    doc = _doc("evaluation", "probast-ai-2025")
    j = judge(doc)
    assert any("performance types" in p for p in j.problems)


def test_probast_ai_na_only_where_allowed_and_four_overall_tables() -> None:
    doc = _doc("development_evaluation", "probast-ai-2025")
    doc.set_performance_types(["internal"])
    with pytest.raises(DocumentError):
        doc.set_answer("D-1.1", "NA")
    _answer_all(doc, "Y")
    doc.set_answer("D-4.4", "NA")
    doc.set_answer("E-4.5@internal", "NA")
    _rate_applicability(doc)
    j = judge(doc)
    assert j.complete, j.problems
    assert {o.id for o in j.overall} == {
        "dev_quality",
        "eval_rob",
        "dev_applicability",
        "eval_applicability",
    }
    assert all(o.value == "low" for o in j.overall)
    doc.set_answer("E-4.7@internal", "N")
    j = judge(doc)
    assert j.overall_value("eval_rob") == "high"
    assert j.overall_value("dev_quality") == "low"
