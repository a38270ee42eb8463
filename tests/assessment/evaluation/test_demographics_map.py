"""Matching the data's attribute names to the datasheet's demographic attributes."""

from __future__ import annotations

from assessment.evaluation.representativeness import suggest_demographics_map

DEMOGRAPHICS = {"sex": {"Female": 10}, "age_band": {"[40-50)": 3}, "race": {"Asian": 1},
                "ethnicity": {"Hispanic": 2}}


def test_same_names_need_no_entry_and_synonyms_are_matched() -> None:
    assert suggest_demographics_map(["race", "gender", "age"], DEMOGRAPHICS) == {
        "gender": "sex", "age": "age_band"}
    assert suggest_demographics_map(["Race", "Sex", "Age Band"], DEMOGRAPHICS) == {
        "Age Band": "age_band"}


def test_ambiguous_or_taken_targets_are_left_to_the_user() -> None:
    # "sex" already matches by name, so "gender" must not also claim it
    assert suggest_demographics_map(["sex", "gender"], DEMOGRAPHICS) == {}
    assert suggest_demographics_map(["insurance"], DEMOGRAPHICS) == {}
    assert suggest_demographics_map(["gender"], {}) == {}


def test_matching_works_in_both_directions() -> None:
    assert suggest_demographics_map(["sex", "age_cat"], {"gender": {}, "age group": {}}) == {
        "sex": "gender", "age_cat": "age group"}
