"""Instruments as data: the shipped JSON matches the published instruments, and every
validation rule of assessment.instruments rejects a broken file with its JSON path."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from importlib import resources
from typing import Any

import pytest

from assessment.errors import InstrumentError
from assessment.instruments import (
    BASE_ANSWERS,
    INSTRUMENT_FILES,
    load_form,
    load_instrument,
    validate_form_data,
    validate_instrument_data,
)


def raw(filename: str) -> dict[str, Any]:
    """A fresh, mutable copy of a shipped file's JSON."""
    ref = resources.files("resources") / "instruments" / filename
    return json.loads(ref.read_text(encoding="utf-8"))


def expect_error(data: dict[str, Any], path: str, fragment: str = "") -> InstrumentError:
    """Validate a broken dict; the error must name the source file and the JSON path."""
    validate = validate_form_data if data.get("kind") == "form" else validate_instrument_data
    with pytest.raises(InstrumentError) as info:
        validate(data, "broken.json")
    message = info.value.message
    assert "broken.json" in message
    assert f"at {path}:" in message, message
    assert fragment in message, message
    assert "\n" not in message
    return info.value


# --------------------------------------------------------------------------- PROBAST 2019


@pytest.fixture(scope="module")
def probast():
    return load_instrument("probast-2019")


def test_probast_2019_counts(probast):
    (part,) = probast.parts
    assert part.id == "main" and part.axis == "rob"
    assert [d.id for d in part.domains] == ["D1", "D2", "D3", "D4"]
    assert [d.name for d in part.domains] == ["Participants", "Predictors", "Outcome", "Analysis"]
    assert [len(d.questions) for d in part.domains] == [2, 3, 6, 9]
    ids = [q.id for _, _, q in probast.iter_questions()]
    assert ids == ["1.1", "1.2", "2.1", "2.2", "2.3", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6",
                   "4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "4.9"]


def test_probast_2019_answers_have_no_na(probast):
    assert tuple(probast.answers) == BASE_ANSWERS
    for _, _, q in probast.iter_questions():
        assert q.answers == ("Y", "PY", "PN", "N", "NI"), q.id
        assert not q.allows_na and q.perf_types is None


def test_probast_2019_development_only_questions(probast):
    dev_only = {q.id for _, _, q in probast.iter_questions() if q.columns == ("development",)}
    assert dev_only == {"4.5", "4.8", "4.9"}
    for _, _, q in probast.iter_questions():
        if q.id not in dev_only:
            assert q.columns == ("development", "validation")
    assert probast.study_types_for("4.8") == ("development", "development_validation")
    assert probast.study_types_for("4.7") == ("development", "development_validation",
                                              "validation")
    assert probast.applicable_columns("4.9", "validation") == ()
    assert probast.applicable_columns("1.1", "development_validation") == (
        "development", "validation")


def test_probast_2019_study_types_and_review_question(probast):
    assert [(s.id, s.columns) for s in probast.study_types] == [
        ("development", ("development",)),
        ("development_validation", ("development", "validation")),
        ("validation", ("validation",)),
    ]
    assert all(s.parts == ("main",) for s in probast.study_types)
    assert [r.id for r in probast.review_question] == [
        "intended_use", "participants", "predictors", "outcome"]
    assert probast.column_ids == ("development", "validation")
    assert probast.performance_types == ()


def test_probast_2019_form_wording(probast):
    assert probast.question("3.2").text == (
        "Was a pre-specified or standard outcome definition used?")
    assert probast.question("4.9").text.endswith("correspond to the results from multivariable "
                                                 "analysis?")
    variants = {q.id for _, _, q in probast.iter_questions() if q.variants}
    assert {"1.1", "3.2", "4.6", "4.8", "4.9"} <= variants
    assert "prespecified" in probast.question("3.2").variants[0].text


def test_probast_2019_applicability_d1_to_d3(probast):
    part = probast.part("main")
    assert [d.applicability is not None for d in part.domains] == [True, True, True, False]
    d1 = probast.domain("main", "D1")
    assert d1.judgement_prompt == "Risk of bias introduced by selection of participants"
    assert d1.applicability.prompt == ("Concern that the included participants and setting do "
                                       "not match the review question")
    assert d1.applicability.describe == "Describe included participants, setting and dates:"
    assert probast.domain("main", "D2").applicability.describe is None
    assert probast.domain("main", "D3").judgement_prompt == (
        "Risk of bias introduced by the outcome or its determination")
    assert all(d.describe for d in part.domains)
    assert d1.key == "main:D1"


def test_probast_2019_overall_rules_and_downgrade_prompt(probast):
    rob = probast.overall_rule("rob")
    appl = probast.overall_rule("applicability")
    assert (rob.axis, rob.domains) == ("rob", ("D1", "D2", "D3", "D4"))
    assert (appl.axis, appl.domains) == ("applicability", ("D1", "D2", "D3"))
    assert "consider downgrading to high risk of bias" in rob.rules["low"]
    assert rob.rules["high"] == "If at least one domain is judged to be at high risk of bias."
    assert rob.rules["unclear"].startswith("If an unclear risk of bias was noted")
    assert appl.rules["low"] == "If low concerns regarding applicability for all domains."
    (prompt,) = probast.prompts
    assert (prompt.id, prompt.study_types, prompt.overall, prompt.when) == (
        "consider_downgrade", ("development",), "rob", "low")
    assert "consider downgrading" in prompt.text
    assert prompt.applies("development", overall_values={"rob": "low"})
    assert not prompt.applies("development", overall_values={"rob": "high"})
    assert not prompt.applies("development_validation", overall_values={"rob": "low"})


@pytest.mark.parametrize("instrument_id", ["probast-2019"])
def test_every_question_records_source_confidence_guidance(instrument_id):
    instrument = load_instrument(instrument_id)
    for _, domain, q in instrument.iter_questions():
        assert q.wording_source.strip(), q.id
        assert q.confidence in {"V", "S", "R", "D"}, q.id
        assert q.guidance.startswith("Probity guidance (not "), q.id
        assert len(q.guidance) > 120, q.id
        assert domain.judgement_prompt and domain.rationale_label
    for item in instrument.review_question:
        assert item.guidance.startswith("Probity guidance (not ")
    assert instrument.citation and instrument.licence


def test_load_is_cached_and_lookup_errors_list_known_ids(probast):
    assert load_instrument("probast-2019") is probast
    with pytest.raises(InstrumentError, match=r"known questions: 1\.1, 1\.2"):
        probast.question("5.1")
    with pytest.raises(InstrumentError, match="known study types: development, "):
        probast.study_type("updating")
    with pytest.raises(InstrumentError, match="known domains: D1, D2, D3, D4"):
        probast.domain("main", "D5")


def test_unknown_instrument_and_form_ids_list_known_ids():
    with pytest.raises(InstrumentError) as info:
        load_instrument("quadas-2")
    assert "quadas-2" in info.value.message
    for known in INSTRUMENT_FILES:
        assert known in info.value.message
    with pytest.raises(InstrumentError, match="known forms: model-card, datasheet"):
        load_form("healthsheet")


# --------------------------------------------------------------------------- validation rules


@pytest.fixture
def p19() -> dict[str, Any]:
    return raw("probast-2019.json")


def q_path(domain: int, question: int) -> str:
    return f"$.parts[0].domains[{domain}].questions[{question}]"


def test_shipped_dict_validates(p19):
    instrument = validate_instrument_data(p19, "ok.json")
    assert instrument.source == "ok.json"


def test_rule_schema_id(p19):
    p19["schema"] = "probity-instrument/2"
    expect_error(p19, "$.schema", "probity-instrument/1")


def test_rule_kind(p19):
    p19["kind"] = "form"
    with pytest.raises(InstrumentError, match=r"broken\.json is invalid at \$\.kind: .*'rob'"):
        validate_instrument_data(p19, "broken.json")


def test_rule_top_level_not_an_object():
    with pytest.raises(InstrumentError, match=r"at \$: expected an object, found a list"):
        validate_instrument_data([], "broken.json")  # type: ignore[arg-type]


def test_rule_required_key_missing(p19):
    del p19["levels"]
    expect_error(p19, "$.levels", "required key is missing")


def test_rule_required_question_key_missing(p19):
    del p19["parts"][0]["domains"][1]["questions"][2]["wording_source"]
    expect_error(p19, q_path(1, 2) + ".wording_source", "required key is missing")


def test_rule_unknown_key_rejected(p19):
    p19["parts"][0]["domains"][0]["questions"][0]["applies_to"] = ["development"]
    expect_error(p19, q_path(0, 0) + ".applies_to", "unknown key")


def test_rule_empty_text(p19):
    p19["parts"][0]["domains"][2]["questions"][0]["text"] = "  "
    expect_error(p19, q_path(2, 0) + ".text", "non-empty text")


def test_rule_wrong_type(p19):
    p19["parts"][0]["domains"][0]["questions"][0]["answers"] = "Y"
    expect_error(p19, q_path(0, 0) + ".answers", "expected a list")


def test_rule_unique_question_ids(p19):
    p19["parts"][0]["domains"][3]["questions"][1]["id"] = "4.1"
    expect_error(p19, q_path(3, 1) + ".id", "duplicate question id '4.1'")


def test_rule_unique_question_ids_across_domains(p19):
    p19["parts"][0]["domains"][1]["questions"][0]["id"] = "1.1"
    error = expect_error(p19, q_path(1, 0) + ".id", "duplicate question id")
    assert q_path(0, 0) in error.message


def test_rule_unique_domain_ids(p19):
    p19["parts"][0]["domains"][2]["id"] = "D2"
    expect_error(p19, "$.parts[0].domains[2].id", "duplicate domain id")


def test_rule_unique_study_type_ids(p19):
    p19["study_types"][2]["id"] = "development"
    expect_error(p19, "$.study_types[2].id", "duplicate study type id")


def test_rule_unknown_answer_code(p19):
    p19["parts"][0]["domains"][0]["questions"][1]["answers"].append("U")
    expect_error(p19, q_path(0, 1) + ".answers[5]", "unknown answer code 'U'")


def test_rule_duplicate_answer_code(p19):
    p19["parts"][0]["domains"][0]["questions"][1]["answers"].append("PY")
    expect_error(p19, q_path(0, 1) + ".answers[5]", "duplicate answer code")


def test_rule_base_answers_required(p19):
    p19["parts"][0]["domains"][0]["questions"][1]["answers"].remove("NI")
    expect_error(p19, q_path(0, 1) + ".answers", "missing NI")


def test_rule_na_not_offered_by_instrument(p19):
    question = p19["parts"][0]["domains"][3]["questions"][4]
    question["answers"].append("NA")
    question["conditional"] = True
    expect_error(p19, q_path(3, 4) + ".answers[5]", "not offered by this instrument")


def test_rule_na_only_on_conditional_questions(p19):
    p19["answers"]["NA"] = "Not applicable"
    p19["parts"][0]["domains"][3]["questions"][4]["answers"].append("NA")
    expect_error(p19, q_path(3, 4) + ".answers[5]", "only allowed on a question declared")


def test_rule_conditional_question_must_offer_na(p19):
    p19["answers"]["NA"] = "Not applicable"
    p19["parts"][0]["domains"][3]["questions"][4]["conditional"] = True
    expect_error(p19, q_path(3, 4) + ".answers", "must offer 'NA'")


def test_rule_instrument_answers_must_include_base(p19):
    del p19["answers"]["PN"]
    expect_error(p19, "$.answers.PN", "required key is missing")


def test_rule_question_columns_subset(p19):
    p19["parts"][0]["domains"][3]["questions"][7]["columns"] = ["development", "updating"]
    expect_error(p19, q_path(3, 7) + ".columns[1]", "unknown column 'updating'")


def test_rule_question_needs_a_column_when_instrument_has_columns(p19):
    p19["parts"][0]["domains"][3]["questions"][7]["columns"] = []
    expect_error(p19, q_path(3, 7) + ".columns", "at least one answer column")


def test_rule_perf_types_subset(p19):
    p19["parts"][0]["domains"][3]["questions"][6]["perf_types"] = ["apparent"]
    expect_error(p19, q_path(3, 6) + ".perf_types[0]", "unknown performance type 'apparent'")


def test_rule_confidence_tag(p19):
    p19["parts"][0]["domains"][2]["questions"][3]["confidence"] = "high"
    expect_error(p19, q_path(2, 3) + ".confidence", "V, S, R, D")


def test_rule_study_type_parts_exist(p19):
    p19["study_types"][0]["parts"] = ["development"]
    expect_error(p19, "$.study_types[0].parts[0]", "unknown part 'development'")


def test_rule_study_type_columns_exist(p19):
    p19["study_types"][1]["columns"] = ["development", "external"]
    expect_error(p19, "$.study_types[1].columns[1]", "unknown column 'external'")


def test_rule_overall_part_exists(p19):
    p19["overall"][0]["part"] = "evaluation"
    expect_error(p19, "$.overall[0].part", "unknown part 'evaluation'")


def test_rule_overall_domains_exist(p19):
    p19["overall"][0]["domains"].append("D5")
    expect_error(p19, "$.overall[0].domains[4]", "unknown domain 'D5'")


def test_rule_overall_applicability_needs_domain_applicability(p19):
    p19["overall"][1]["domains"].append("D4")
    expect_error(p19, "$.overall[1].domains[3]", "no applicability judgement")


def test_rule_overall_axis_matches_part(p19):
    p19["overall"][0]["axis"] = "quality"
    expect_error(p19, "$.overall[0].axis", "judged on axis 'rob'")


def test_rule_overall_rules_cover_all_levels(p19):
    del p19["overall"][0]["rules"]["unclear"]
    expect_error(p19, "$.overall[0].rules.unclear", "required key is missing")


def test_rule_prompt_references(p19):
    p19["prompts"][0]["overall"] = "quality"
    expect_error(p19, "$.prompts[0].overall", "unknown overall table 'quality'")
    p19 = raw("probast-2019.json")
    p19["prompts"][0]["study_types"] = ["derivation"]
    expect_error(p19, "$.prompts[0].study_types[0]", "unknown study type 'derivation'")
    p19 = raw("probast-2019.json")
    p19["prompts"][0]["when"] = "moderate"
    expect_error(p19, "$.prompts[0].when", "low, high, unclear")


def test_rule_part_axis(p19):
    p19["parts"][0]["axis"] = "applicability"
    expect_error(p19, "$.parts[0].axis", "rob, quality")


def test_rule_domain_number(p19):
    p19["parts"][0]["domains"][1]["number"] = 1
    expect_error(p19, "$.parts[0].domains[1].number", "duplicate domain number")


def test_invalid_data_never_mutated(p19):
    before = copy.deepcopy(p19)
    validate_instrument_data(p19, "ok.json")
    assert p19 == before


# --------------------------------------------------------------------------- installation


def test_instruments_module_is_pure_python():
    code = ("import sys, assessment.instruments as m; m.load_instrument('probast-2019'); "
            "bad = [n for n in sys.modules if n.split('.')[0] in "
            "('PySide6', 'reportlab', 'pandas', 'socket_not_used')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_ids_are_plain_tokens():
    for instrument_id in ["probast-2019"]:
        for _, _, q in load_instrument(instrument_id).iter_questions():
            assert re.fullmatch(r"([DE]-)?\d\.\d", q.id), q.id
