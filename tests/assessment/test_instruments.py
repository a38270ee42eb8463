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

from assessment import instruments
from assessment.errors import InstrumentError
from assessment.instruments import (
    BASE_ANSWERS,
    FORM_FILES,
    INSTRUMENT_FILES,
    available_instruments,
    installed_files,
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


@pytest.mark.parametrize("instrument_id", list(INSTRUMENT_FILES))
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


def test_available_instruments():
    listed = dict(available_instruments())
    assert set(listed) == set(INSTRUMENT_FILES)
    assert listed["probast-2019"] == "PROBAST (2019)"


# --------------------------------------------------------------------------- PROBAST+AI 2025


@pytest.fixture(scope="module")
def pai():
    return load_instrument("probast-ai-2025")


def test_probast_ai_parts_and_counts(pai):
    dev, ev = pai.parts
    assert (dev.id, dev.axis, dev.judgement_label) == (
        "development", "quality", "Concern regarding quality")
    assert (ev.id, ev.axis, ev.judgement_label) == ("evaluation", "rob", "Risk of bias")
    assert [len(d.questions) for d in dev.domains] == [3, 4, 4, 5]
    assert [len(d.questions) for d in ev.domains] == [3, 4, 4, 7]
    assert sum(len(d.questions) for d in dev.domains) == 16
    assert sum(len(d.questions) for d in ev.domains) == 18
    assert [d.name for d in dev.domains] == [
        "Participants and data sources", "Predictors", "Outcome", "Analysis"]
    assert [q.id for q in dev.domains[3].questions] == [f"D-4.{i}" for i in range(1, 6)]
    assert [q.id for q in ev.domains[3].questions] == [f"E-4.{i}" for i in range(1, 8)]
    assert dev.domains[0].rationale_label == "Rationale of quality rating"
    assert ev.domains[0].rationale_label == "Rationale of risk of bias rating"
    assert all(q.columns == () for _, _, q in pai.iter_questions())
    assert pai.columns == ()


def test_probast_ai_domains_1_to_3_worded_alike_in_both_parts(pai):
    for dev_domain, ev_domain in zip(pai.part("development").domains[:3],
                                     pai.part("evaluation").domains[:3], strict=True):
        assert [q.text for q in dev_domain.questions] == [q.text for q in ev_domain.questions]
        assert [q.id[2:] for q in dev_domain.questions] == [q.id[2:] for q in ev_domain.questions]


def test_probast_ai_na_exactly_on_conditional_items(pai):
    na = {q.id for _, _, q in pai.iter_questions() if "NA" in q.answers}
    assert na == {"D-4.4", "E-4.4", "E-4.5", "E-4.6"}
    for _, _, q in pai.iter_questions():
        assert q.conditional == (q.id in na)
        assert q.answers[:5] == BASE_ANSWERS
    assert pai.answers["NA"] == "Not applicable"


def test_probast_ai_performance_types(pai):
    assert pai.performance_type_ids == ("apparent", "internal", "external")
    per_type = {q.id: q.perf_types for _, _, q in pai.iter_questions()}
    all_types = ("apparent", "internal", "external")
    assert per_type["E-4.1"] is None
    for qid in ("E-4.2", "E-4.3", "E-4.4", "E-4.7"):
        assert per_type[qid] == all_types
    for qid in ("E-4.5", "E-4.6"):
        assert per_type[qid] == ("internal",)
    others = {qid for qid, types in per_type.items() if types is not None}
    assert others == {"E-4.2", "E-4.3", "E-4.4", "E-4.5", "E-4.6", "E-4.7"}


def test_probast_ai_study_types_select_parts(pai):
    assert {s.id: s.parts for s in pai.study_types} == {
        "development": ("development",),
        "evaluation": ("evaluation",),
        "development_evaluation": ("development", "evaluation"),
    }
    assert all(s.columns == () for s in pai.study_types)
    assert pai.study_types_for("D-4.5") == ("development", "development_evaluation")
    assert pai.study_types_for("E-4.1") == ("evaluation", "development_evaluation")
    assert [r.id for r in pai.review_question] == [
        "population", "index_model", "comparator", "outcome", "timing", "setting"]


def test_probast_ai_prompts_and_applicability(pai):
    for part in pai.parts:
        assert [d.applicability is not None for d in part.domains] == [True, True, True, False]
    assert pai.domain("development", "D1").judgement_prompt == (
        "Concern regarding quality of selection of participants and data sources")
    assert pai.domain("evaluation", "D4").judgement_prompt == (
        "Risk of bias introduced by the analysis")
    assert pai.domain("evaluation", "D2").applicability.prompt == (
        pai.domain("development", "D2").applicability.prompt)
    assert "the assessor's intended use" in pai.domain("evaluation", "D1").applicability.prompt


def test_probast_ai_four_overall_tables(pai):
    table = {o.id: (o.part, o.axis, o.domains) for o in pai.overall}
    assert table == {
        "dev_quality": ("development", "quality", ("D1", "D2", "D3", "D4")),
        "eval_rob": ("evaluation", "rob", ("D1", "D2", "D3", "D4")),
        "dev_applicability": ("development", "applicability", ("D1", "D2", "D3")),
        "eval_applicability": ("evaluation", "applicability", ("D1", "D2", "D3")),
    }
    assert pai.overall_rule("eval_rob").summary_label == (
        "Summary of risk of bias of the model evaluation")
    for rule in pai.overall:
        assert set(rule.rules) == {"low", "high", "unclear"}


def test_probast_ai_copy_rule_prompt(pai):
    (prompt,) = pai.prompts
    assert prompt.id == "copy_apparent" and "copied" in prompt.text
    assert prompt.applies("development_evaluation", ["apparent"])
    assert not prompt.applies("development_evaluation", ["apparent", "external"])
    assert not prompt.applies("evaluation", ["apparent"])


def test_probast_ai_wording_variants(pai):
    assert pai.question("E-1.3").variants[0].text.startswith("Did the inclusions and exclusions")
    assert "preprocessing" in pai.question("D-2.2").variants[0].text
    assert pai.question("E-4.4").text.endswith("without imbalance correction?")


# --------------------------------------------------------------------------- forms


def test_model_card_sections_and_required_fields():
    card = load_form("model-card")
    assert [s.id for s in card.sections][:9] == [
        "model_details", "intended_use", "factors", "metrics", "evaluation_data",
        "training_data", "quantitative_analyses", "ethical_considerations", "caveats"]
    assert {"fda_healthcare", "hti1_source_attributes"} <= {s.id for s in card.sections}
    for field_id in ("model_name", "model_version", "developer", "intended_use", "outcome"):
        assert card.field(field_id).required, field_id
    ids = [f.id for _, f in card.iter_fields()]
    assert len(ids) == len(set(ids))
    for section, form_field in card.iter_fields():
        assert form_field.source.strip() and form_field.guidance.strip(), form_field.id
        assert form_field.section_id == section.id
    for section in card.sections[:9]:
        assert section.source.startswith("Mitchell et al. 2019")
    fda = card.section("fda_healthcare")
    assert all(f.source.startswith("FDA draft guidance 2025") for f in fda.fields)
    assert "fda_accuracy" in {f.id for f in fda.fields}


def test_model_card_hti1_checklist_has_31_attributes():
    hti = load_form("model-card").section("hti1_source_attributes")
    assert len(hti.fields) == 31
    assert hti.fields[0].id == "predictive_details_developer"
    assert hti.fields[-1].id == "predictive_updates_correction"
    for form_field in hti.fields:
        assert form_field.type == "choice" and "Not provided" in form_field.options
        assert form_field.source.startswith("HTI-1 45 CFR 170.315(b)(11)(iv)(B)(")
    assert "HTI-5" in hti.description


def test_datasheet_sections_and_structured_training_fields():
    sheet = load_form("datasheet")
    assert [s.id for s in sheet.sections] == [
        "motivation", "composition", "under_represented", "collection", "preprocessing", "uses",
        "distribution", "maintenance"]
    demographics = sheet.field("training_demographics")
    assert demographics.type == "demographics" and demographics.required
    assert [a.id for a in demographics.attributes] == ["sex", "age_band", "race", "ethnicity"]
    for attribute in demographics.attributes:
        assert len(attribute.groups) >= 3 and "Unknown" in attribute.groups
    assert demographics.attribute("sex").groups[:2] == ("Female", "Male")
    assert sheet.field("training_total_n").type == "number"
    assert sheet.field("training_outcome_prevalence").unit == "proportion"
    with pytest.raises(InstrumentError, match="known attributes: sex, age_band"):
        demographics.attribute("religion")
    with pytest.raises(InstrumentError, match="has no field 'n_total'"):
        sheet.field("n_total")


@pytest.fixture
def card() -> dict[str, Any]:
    return raw("model-card.json")


@pytest.fixture
def sheet() -> dict[str, Any]:
    return raw("datasheet.json")


def test_rule_form_kind(card):
    card["kind"] = "rob"
    with pytest.raises(InstrumentError, match=r"at \$\.kind: expected 'form'"):
        validate_form_data(card, "broken.json")


def test_rule_form_schema(card):
    card["schema"] = "mct/0.0.2"
    expect_error(card, "$.schema", "probity-instrument/1")


def test_rule_form_field_type(card):
    card["sections"][0]["fields"][2]["type"] = "datetime"
    expect_error(card, "$.sections[0].fields[2].type", "expected one of text, multiline")


def test_rule_form_unique_field_ids_across_sections(card):
    card["sections"][3]["fields"][0]["id"] = "developer"
    expect_error(card, "$.sections[3].fields[0].id", "duplicate field id 'developer'")


def test_rule_form_unique_section_ids(card):
    card["sections"][2]["id"] = "model_details"
    expect_error(card, "$.sections[2].id", "duplicate section id")


def test_rule_form_choice_needs_options(card):
    del card["sections"][-1]["fields"][4]["options"]
    expect_error(card, "$.sections[10].fields[4].options", "needs a list of options")


def test_rule_form_options_only_on_choice(card):
    card["sections"][0]["fields"][0]["options"] = ["a", "b"]
    expect_error(card, "$.sections[0].fields[0].options", "only choice fields")


def test_rule_form_required_field_present(card):
    section = card["sections"][1]
    section["fields"] = [f for f in section["fields"] if f["id"] != "outcome"]
    expect_error(card, "$.sections", "must define a field 'outcome'")


def test_rule_form_field_source_required(card):
    del card["sections"][0]["fields"][1]["source"]
    expect_error(card, "$.sections[0].fields[1].source", "required key is missing")


def _demographics_path(sheet: dict[str, Any]) -> tuple[dict[str, Any], str]:
    for i, section in enumerate(sheet["sections"]):
        for j, form_field in enumerate(section["fields"]):
            if form_field["id"] == "training_demographics":
                return form_field, f"$.sections[{i}].fields[{j}]"
    raise AssertionError("training_demographics not shipped")


def test_rule_demographics_attributes_present(sheet):
    form_field, path = _demographics_path(sheet)
    form_field["attributes"] = [a for a in form_field["attributes"] if a["id"] != "ethnicity"]
    expect_error(sheet, f"{path}.attributes", "must have the attribute 'ethnicity'")


def test_rule_demographics_type_required(sheet):
    form_field, path = _demographics_path(sheet)
    form_field["type"] = "multiline"
    del form_field["attributes"]
    expect_error(sheet, f"{path}.type", "must be of type 'demographics'")


def test_rule_demographics_needs_attributes(sheet):
    form_field, path = _demographics_path(sheet)
    del form_field["attributes"]
    expect_error(sheet, f"{path}.attributes", "needs a list of attributes")


def test_rule_demographics_groups_unique_and_nonempty(sheet):
    form_field, path = _demographics_path(sheet)
    form_field["attributes"][0]["groups"].append("Female")
    expect_error(sheet, f"{path}.attributes[0].groups[4]", "duplicate group 'Female'")
    form_field["attributes"][0]["groups"] = []
    expect_error(sheet, f"{path}.attributes[0].groups", "must not be empty")


def test_rule_attributes_only_on_demographics(card):
    card["sections"][0]["fields"][0]["attributes"] = [
        {"id": "sex", "label": "Sex", "groups": ["Female"]}]
    expect_error(card, "$.sections[0].fields[0].attributes", "only demographics fields")


def test_rule_required_flag_is_boolean(sheet):
    sheet["sections"][0]["fields"][0]["required"] = "yes"
    expect_error(sheet, "$.sections[0].fields[0].required", "true or false")


# --------------------------------------------------------------------------- validation rules


@pytest.fixture
def p19() -> dict[str, Any]:
    return raw("probast-2019.json")


@pytest.fixture
def pai_raw() -> dict[str, Any]:
    return raw("probast-ai-2025.json")


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
    expect_error(p19, "$.prompts[0].when", "low, unclear, high")


def test_rule_part_axis(p19):
    p19["parts"][0]["axis"] = "applicability"
    expect_error(p19, "$.parts[0].axis", "rob, quality")


def test_rule_domain_number(p19):
    p19["parts"][0]["domains"][1]["number"] = 1
    expect_error(p19, "$.parts[0].domains[1].number", "duplicate domain number")


def test_rule_perf_types_must_not_be_empty(pai_raw):
    pai_raw["parts"][1]["domains"][3]["questions"][4]["perf_types"] = []
    expect_error(pai_raw, "$.parts[1].domains[3].questions[4].perf_types", "must not be empty")


def test_rule_perf_types_subset_of_instrument(pai_raw):
    pai_raw["parts"][1]["domains"][3]["questions"][4]["perf_types"] = ["internal", "temporal"]
    expect_error(pai_raw, "$.parts[1].domains[3].questions[4].perf_types[1]",
                 "unknown performance type 'temporal'")


def test_rule_columns_must_be_empty_without_instrument_columns(pai_raw):
    pai_raw["parts"][0]["domains"][0]["questions"][0]["columns"] = ["development"]
    expect_error(pai_raw, "$.parts[0].domains[0].questions[0].columns[0]",
                 "unknown column 'development' (known: none)")


def test_rule_na_on_non_conditional_ai_item(pai_raw):
    pai_raw["parts"][1]["domains"][3]["questions"][0]["answers"].append("NA")
    expect_error(pai_raw, "$.parts[1].domains[3].questions[0].answers[5]",
                 "only allowed on a question declared")


def test_rule_prompt_performance_types_subset(pai_raw):
    pai_raw["prompts"][0]["performance_types"] = ["apparent", "prospective"]
    expect_error(pai_raw, "$.prompts[0].performance_types[1]", "unknown performance type")


def test_rule_prompt_overall_and_when_together(pai_raw):
    pai_raw["prompts"][0]["when"] = "low"
    expect_error(pai_raw, "$.prompts[0].when", "must be given together")


def test_rule_study_type_needs_a_part(pai_raw):
    pai_raw["study_types"][0]["parts"] = []
    expect_error(pai_raw, "$.study_types[0].parts", "must not be empty")


def test_rule_unique_part_ids(pai_raw):
    pai_raw["parts"][1]["id"] = "development"
    expect_error(pai_raw, "$.parts[1].id", "duplicate part id")


def test_rule_unique_performance_type_ids(pai_raw):
    pai_raw["performance_types"][2]["id"] = "internal"
    expect_error(pai_raw, "$.performance_types[2].id", "duplicate performance type id")


def test_rule_unique_overall_ids(pai_raw):
    pai_raw["overall"][3]["id"] = "dev_quality"
    expect_error(pai_raw, "$.overall[3].id", "duplicate overall table id")


def test_rule_overall_axis_known(pai_raw):
    pai_raw["overall"][0]["axis"] = "fairness"
    expect_error(pai_raw, "$.overall[0].axis", "expected one of rob, quality, applicability")


def test_rule_instrument_answer_codes_known(p19):
    p19["answers"]["U"] = "Unclear"
    expect_error(p19, "$.answers.U", "unknown key")


def test_rule_unique_review_question_ids(p19):
    p19["review_question"][3]["id"] = "participants"
    expect_error(p19, "$.review_question[3].id", "duplicate review question id")


def test_rule_study_type_needs_a_column(p19):
    p19["study_types"][0]["columns"] = []
    expect_error(p19, "$.study_types[0].columns", "at least one answer column")


def test_rule_applicability_prompt_required(p19):
    del p19["parts"][0]["domains"][0]["applicability"]["prompt"]
    expect_error(p19, "$.parts[0].domains[0].applicability.prompt", "required key is missing")


def test_rule_variant_text_required(p19):
    p19["parts"][0]["domains"][0]["questions"][0]["variants"][0]["text"] = ""
    expect_error(p19, q_path(0, 0) + ".variants[0].text", "non-empty text")


def test_rule_levels_complete(p19):
    del p19["levels"]["high"]
    expect_error(p19, "$.levels.high", "required key is missing")

def test_missing_and_mismatched_files_are_reported(monkeypatch, tmp_path):
    folder = tmp_path / "instruments"
    folder.mkdir()
    monkeypatch.setattr(instruments, "_folder", lambda: folder)
    monkeypatch.setattr(instruments, "INSTRUMENT_FILES",
                        {"ghost": "ghost.json", "twin": "twin.json", "torn": "torn.json"})
    with pytest.raises(InstrumentError, match=r"ghost\.json is missing from the installation"):
        load_instrument("ghost")
    (folder / "twin.json").write_text(json.dumps(raw("probast-2019.json")), encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"declares 'probast-2019' but is installed as"):
        load_instrument("twin")
    (folder / "torn.json").write_text('{"schema": "probity-instrument/1", ', encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"torn\.json is not valid JSON \(line 1"):
        load_instrument("torn")


def test_invalid_data_never_mutated(p19):
    before = copy.deepcopy(p19)
    validate_instrument_data(p19, "ok.json")
    assert p19 == before


# --------------------------------------------------------------------------- installation


def test_installed_resources_exist_and_load():
    folder = resources.files("resources") / "instruments"
    for filename in installed_files():
        assert (folder / filename).is_file(), filename
    for instrument_id in INSTRUMENT_FILES:
        assert load_instrument(instrument_id).id == instrument_id
    for form_id in FORM_FILES:
        assert load_form(form_id).id == form_id
    shipped = {ref.name for ref in folder.iterdir() if ref.name.endswith(".json")}
    assert shipped == set(installed_files())


def test_licence_notes_referenced_by_instruments_are_installed():
    """Each file names resources/LICENSES/INSTRUMENTS.md; it must ship and cite every DOI."""
    loaded = [load_instrument(i) for i in INSTRUMENT_FILES] + [load_form(f) for f in FORM_FILES]
    package = resources.files("resources")
    for item in loaded:
        referenced = re.findall(r"resources/(LICENSES/[\w-]+\.md)", item.licence)
        assert referenced, item.id
        for relative in referenced:
            note = package.joinpath(*relative.split("/"))
            assert note.is_file(), relative
            text = note.read_text(encoding="utf-8")
            for citation in item.citation:
                doi = re.search(r"doi:(\S+?)[\s(]|doi:(\S+)$", citation)
                if doi:
                    assert (doi.group(1) or doi.group(2)).rstrip(".") in text, citation

def test_instruments_module_is_pure_python():
    """No Qt, no reportlab, no heavy data stack, no network modules when loading instruments."""
    code = ("import sys, assessment.instruments as m; m.load_instrument('probast-ai-2025'); "
            "m.load_form('datasheet'); "
            "bad = [n for n in sys.modules if n.split('.')[0] in "
            "('PySide6', 'reportlab', 'pandas', 'numpy', 'socket', 'ssl', 'http')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_ids_are_plain_tokens():
    for instrument_id in INSTRUMENT_FILES:
        for _, _, q in load_instrument(instrument_id).iter_questions():
            assert re.fullmatch(r"([DE]-)?\d\.\d", q.id), q.id
