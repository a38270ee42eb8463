"""Datasheet completeness for the under-represented: UBR counts / 'not collected', checklist."""

from __future__ import annotations

import json

import pytest

from assessment.document import Assessment
from assessment.errors import DocumentError
from assessment.schema import validate_document
from assessment.ubr import catalogue, checklist_rows, findings, not_collected, ubr_rows

UBR_IDS = ["race_ethnicity", "age", "sex_at_birth", "gender_identity", "sexual_orientation",
           "income", "education", "geography", "disability", "access_to_care"]
CRITERIA = ["provenance", "variables_described", "access", "sample_size", "multimodal",
            "outcomes_measured", "longitudinal", "growth"]


def test_the_ten_all_of_us_categories_and_eight_criteria() -> None:
    cat = catalogue()
    assert [i.id for i in cat.ubr.items] == UBR_IDS
    assert [i.id for i in cat.checklist.items] == CRITERIA
    assert "Mapes" in cat.ubr.citation and "Working Group on Artificial Intelligence" in (
        cat.checklist.citation)


def _doc(ubr: object, checklist: object) -> dict[str, object]:
    doc = Assessment.new()
    data = json.loads(json.dumps(doc.to_json()))
    data["datasheet"] = {"ubr_characteristics": ubr, "ml_friendly_checklist": checklist}
    return data


def test_valid_answers_load_and_give_findings() -> None:
    ubr = {"income": {"collected": False}, "age": {"collected": True, "known_n": 200,
                                                   "ubr_n": 50},
           "disability": {"collected": None}}
    data = validate_document(_doc(ubr, {"access": "yes", "longitudinal": None}))
    ds = Assessment.from_json(data).datasheet
    assert not_collected(ds) == ["Income"]
    assert findings(ds) and "not collected: Income" in findings(ds)[0]
    rows = {r[0]: r for r in ubr_rows(ds)}
    assert rows["Age"][2:] == ("collected", "50 of 200 (25.0%)")
    assert rows["Income"][2] == "not collected"
    assert rows["Disability"][2] == "not answered"
    assert dict(checklist_rows(ds))["Access"] == "yes"
    assert findings({}) == []


@pytest.mark.parametrize(
    ("ubr", "checklist", "where"),
    [
        ({"income": {"collected": "no"}}, {}, "ubr_characteristics.income.collected"),
        ({"income": {"known_n": -1}}, {}, "income.known_n"),
        ({"income": {"known_n": 1.5}}, {}, "income.known_n"),
        ({"income": {"collected": True, "known_n": 5, "ubr_n": 6}}, {}, "income.ubr_n"),
        ({"astrology": {"collected": True}}, {}, "astrology"),
        ({"income": []}, {}, "income"),
        ({"income": {"colour": 1}}, {}, "colour"),
        ({}, {"access": "maybe"}, "ml_friendly_checklist.access"),
        ({}, {"vibes": "yes"}, "vibes"),
        ({}, [], "ml_friendly_checklist"),
    ],
)
def test_damaged_answers_are_refused_with_their_path(ubr: object, checklist: object,
                                                     where: str) -> None:
    with pytest.raises(DocumentError) as exc:
        validate_document(_doc(ubr, checklist))
    assert where in exc.value.message


@pytest.mark.parametrize(
    ("key", "value", "where"),
    [
        ("group_maps", {"race": {"Caucasian": 5}}, "$.group_maps"),
        ("group_maps", ["race"], "$.group_maps"),
        ("reference_population_source", {"year": "twenty"}, "$.reference_population_source"),
        ("reference_population_source", {"publisher": "x"}, "$.reference_population_source"),
    ],
)
def test_damaged_map_or_population_source_is_refused(key: str, value: object,
                                                     where: str) -> None:
    data = json.loads(json.dumps(Assessment.new().to_json()))
    data[key] = value
    with pytest.raises(DocumentError) as exc:
        validate_document(data)
    assert where in exc.value.message and "\n" not in exc.value.message


def test_files_written_before_these_fields_still_open() -> None:
    data = json.loads(json.dumps(Assessment.new().to_json()))
    assert "group_maps" not in data and "reference_population_source" not in data
    doc = Assessment.from_json(validate_document(data))
    assert doc.group_maps == {} and doc.reference_population_source == {}
    doc.set_group_maps({"race": {"Caucasian": "White"}})
    assert doc.group_maps == {"race": {"Caucasian": "White"}}
    assert validate_document(json.loads(json.dumps(doc.to_json())))["group_maps"]
    with pytest.raises(DocumentError, match="category name"):
        doc.set_group_maps({"race": {"Other": " "}})
    doc.undo()
    assert "group_maps" not in doc.to_json()  # undoing the first map removes the key again


@pytest.mark.parametrize(
    ("datasheet", "message"),
    [
        # a mis-named key was silently dropped and the report printed "not answered"
        ({"ubr": {"income": {"collected": False}}},
         "$.datasheet.ubr: unknown datasheet field; did you mean 'ubr_characteristics'?"),
        # counts with "not collected" (or not answered) were accepted and ignored
        ({"ubr_characteristics": {"income": {"collected": False, "known_n": 100, "ubr_n": 50}}},
         "$.datasheet.ubr_characteristics.income.known_n: counts are given but the "
         "characteristic is marked not collected (collected: false)"),
        ({"ubr_characteristics": {"income": {"ubr_n": 5}}},
         "$.datasheet.ubr_characteristics.income.ubr_n: counts are given but the "
         "characteristic is marked not answered"),
        # "3 of 1,000,000,000" in a cohort of 2,000
        ({"training_total_n": 2000,
          "ubr_characteristics": {"income": {"collected": True, "known_n": 1_000_000_000,
                                             "ubr_n": 3}}},
         "$.datasheet.ubr_characteristics.income.known_n: 1,000,000,000 participants is more "
         "than the training cohort's 2,000 ($.datasheet.training_total_n)"),
    ],
)
def test_bad_ubr_input_is_refused_on_load(datasheet: dict[str, object], message: str) -> None:
    data = json.loads(json.dumps(Assessment.new().to_json()))
    data["datasheet"] = datasheet
    with pytest.raises(DocumentError) as exc:
        validate_document(data)
    assert message in exc.value.message and "\n" not in exc.value.message


def test_bad_ubr_input_is_refused_on_edit() -> None:
    doc = Assessment.new()
    doc.set_field("datasheet", "training_total_n", 2000)
    with pytest.raises(DocumentError, match=r"income\.known_n: 1,000,000,000 participants is "
                                            r"more than the training cohort's 2,000"):
        doc.set_field("datasheet", "ubr_characteristics",
                      {"income": {"collected": True, "known_n": 1_000_000_000, "ubr_n": 3}})
    with pytest.raises(DocumentError, match="marked not collected"):
        doc.set_field("datasheet", "ubr_characteristics",
                      {"income": {"collected": False, "known_n": 10, "ubr_n": 3}})
    doc.set_field("datasheet", "ubr_characteristics",
                  {"income": {"collected": True, "known_n": 1500, "ubr_n": 3}})
    with pytest.raises(DocumentError, match="more than the training cohort's 1,000"):
        doc.set_field("datasheet", "training_total_n", 1000)
    assert doc.datasheet["training_total_n"] == 2000
    assert doc.datasheet["ubr_characteristics"]["income"]["known_n"] == 1500
