"""The group-label map: suggestions, resolution, the CSV reader (hostile files) and its use by
the representativeness check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assessment.errors import DataError, DocumentError
from assessment.evaluation.engine import evaluate
from assessment.evaluation.group_map import (
    check_group_map,
    read_group_map_csv,
    resolve,
    suggest_group_map,
)
from assessment.evaluation.inputs import MISSING_GROUP, Attribute, EvaluationInput, Provenance
from assessment.evaluation.spec import EvaluationSpec

OMB = [
    "American Indian or Alaska Native", "Asian", "Black or African American",
    "Native Hawaiian or Other Pacific Islander", "White", "Other", "Unknown",
]  # fmt: skip
COMPAS = ["African-American", "Asian", "Caucasian", "Hispanic", "Native American", "Other"]


def test_compas_labels_are_suggested_as_omb_categories() -> None:
    assert suggest_group_map(COMPAS, OMB) == {
        "African-American": "Black or African American",
        "Asian": "Asian",
        "Caucasian": "White",
        "Native American": "American Indian or Alaska Native",
        "Other": "Other",
    }  # Hispanic is an ethnicity, not an OMB race: left for the reviewer


def test_suggestions_only_name_categories_that_exist() -> None:
    assert suggest_group_map(["F", "M", "female "], ["Female", "Male"]) == {
        "F": "Female", "M": "Male", "female ": "Female"}
    assert suggest_group_map(["Caucasian"], ["Black", "Asian"]) == {}
    assert suggest_group_map(["WHITE", "african_american"], ["White", "African American"]) == {
        "WHITE": "White", "african_american": "African American"}


def test_resolve_uses_the_map_then_same_names_never_silent_synonyms() -> None:
    got = resolve(["Caucasian", "white", "Asian", "Martian"], {"Caucasian": "WHITE "}, OMB)
    assert got == {"Caucasian": "White", "white": "White", "Asian": "Asian", "Martian": None}
    # a synonym without an entry stays unmapped; a category the figures lack is unmapped too
    assert resolve(["Caucasian"], {}, OMB) == {"Caucasian": None}
    assert resolve(["x"], {"x": "Klingon"}, OMB) == {"x": None}


def _inputs(levels: tuple[str, ...], counts: list[int]) -> EvaluationInput:
    codes = np.repeat(np.arange(len(levels)), counts)
    n = codes.size
    rng = np.random.default_rng(1)
    y = rng.random(n) < 0.3
    return EvaluationInput(y, rng.random(n), None, "probability",
                           (Attribute("race", codes, levels),), Provenance("t", "0" * 64, n, n))


def test_map_ends_false_flags_and_merges_values() -> None:
    inp = _inputs(("Caucasian", "African-American", "Hispanic", "Black", MISSING_GROUP),
                  [300, 400, 100, 100, 50])
    training = {"race": {"White": 300, "Black or African American": 500}}
    bare = evaluate(inp, EvaluationSpec(bootstrap=0, training_demographics=training))
    rows = {r.group: r for r in bare.representativeness}
    # without a map nothing is called absent or over-represented on label spelling alone
    assert {r.flag for r in bare.representativeness} == {None}
    assert rows["Caucasian"].reason and "not mapped" in rows["Caucasian"].reason
    assert rows["White"].validation_n == 0 and "unmapped" in (rows["White"].reason or "")
    assert any("suggested: Caucasian → White" in n for n in bare.notes)

    mapped = evaluate(inp, EvaluationSpec(
        bootstrap=0, training_demographics=training,
        group_map={"race": {"Caucasian": "White", "African-American": "Black or African American",
                            "Black": "Black or African American"}}))
    rows = {r.group: r for r in mapped.representativeness}
    # shares over known rows (missing not compared); Hispanic is unmapped but has a known value,
    # so it stays in the denominator and each share is a lower bound: 300/900, 500/900
    assert rows["White"].validation_n == 300
    assert rows["White"].validation_share == pytest.approx(300 / 900)
    assert rows["Black or African American"].validation_n == 500
    assert rows["Black or African American"].training_share == pytest.approx(500 / 800)
    assert rows["White"].flag is None and rows["Black or African American"].flag is None
    assert rows["Hispanic"].flag is None and rows["Hispanic"].validation_share == pytest.approx(
        100 / 950)
    assert rows[MISSING_GROUP].validation_n == 50


def test_spec_round_trips_the_map_and_omits_an_empty_one() -> None:
    spec = EvaluationSpec(group_map={"race": {"Caucasian": "White"}})
    assert EvaluationSpec.from_json(spec.to_json()).group_map == {"race": {"Caucasian": "White"}}
    assert "group_map" not in EvaluationSpec().to_json()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "header row 'attribute,data_value,category'"),
        (b"attribute,value\nrace,x\n", "header row"),
        (b"attribute,data_value,category\n", "no rows"),
        (b"attribute,data_value,category\nrace,,White\n", "row 2"),
        (b"attribute,data_value,category\nrace,C,White\nrace,C,Black\n", "mapped to both"),
        (b"\xff\xfe\x00r\x00a", "not UTF-8"),
        (b"attribute,data_value,category\nrace,a\x00b,White\n", "NUL"),
        (b'attribute,data_value,category\nrace,"open,White\n', "row 2"),
    ],
)
def test_hostile_group_map_files_get_one_sentence(tmp_path: Path, content: bytes,
                                                  message: str) -> None:
    path = tmp_path / "map.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as exc:
        read_group_map_csv(path)
    assert message in exc.value.message and "\n" not in exc.value.message


def test_group_map_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text("\ufeffAttribute,Data value,Category\nrace,Caucasian,White\n"
                    "race, Caucasian ,White\nsex,M,Male\n\n", encoding="utf-8")
    assert read_group_map_csv(path) == {"race": {"Caucasian": "White"}, "sex": {"M": "Male"}}


def test_huge_or_irregular_files_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(5 * 1024 * 1024)
    with pytest.raises(DataError):
        read_group_map_csv(big)
    with pytest.raises(DataError):
        read_group_map_csv(tmp_path)  # a folder
    with pytest.raises(DataError):
        read_group_map_csv(tmp_path / "absent.csv")


def test_document_maps_are_checked() -> None:
    assert check_group_map({"race": {"a": "White"}}, "$") == {"race": {"a": "White"}}
    for bad in ([], {"race": []}, {"race": {"a": ""}}, {"race": {"a": 1}}):
        with pytest.raises(DocumentError):
            check_group_map(bad, "$.group_maps")


def test_a_differently_spelt_same_name_is_shown_as_the_category() -> None:
    # "African-American" matches "African American" by normalised name; the row carries the
    # category's spelling so the report joins it with the training counts
    inp = _inputs(("African-American", "white"), [100, 300])
    res = evaluate(inp, EvaluationSpec(
        bootstrap=0, training_demographics={"race": {"African American": 1, "White": 3}}))
    rows = {r.group: r for r in res.representativeness}
    assert set(rows) == {"African American", "white"}
    assert rows["African American"].validation_n == 100
    assert rows["African American"].training_share == pytest.approx(0.25)
    assert all(r.flag is None for r in rows.values())


def _property_case(seed: int) -> None:
    rng = np.random.default_rng(seed)
    names = ["Caucasian", "White", "African-American", "Black", "Asian", "Martian", MISSING_GROUP]
    k = int(rng.integers(1, len(names) + 1))
    levels = tuple(rng.choice(names, k, replace=False))
    counts = [int(c) for c in rng.integers(0, 50, k)]
    cats = ["White", "Black or African American", "Asian"]
    training = {"race": {c: float(rng.integers(0, 100)) for c in cats}}
    entry = {v: str(rng.choice(cats)) for v in levels if rng.random() < 0.5 and v != MISSING_GROUP}
    res = evaluate(_inputs(levels, counts), EvaluationSpec(
        bootstrap=0, training_demographics=training, group_map={"race": entry}))
    rows = res.representativeness_of("race")
    # every row counted once: categories, unmapped values and the missing group add up to n
    assert sum(r.validation_n for r in rows) == sum(counts)
    compared = [r for r in rows if r.training_share is not None]
    shares = [r.validation_share for r in compared if r.validation_share is not None]
    unmapped = [r for r in rows if (r.reason or "").startswith("not mapped")]
    if shares and not any(r.validation_n for r in unmapped):
        assert sum(shares) == pytest.approx(1.0)
    elif shares:
        assert sum(shares) < 1.0  # lower bounds while values are unmapped
    if unmapped:  # only over-representation is claimed while values are unmapped
        assert {r.flag for r in rows} <= {None, "over_represented"}


def test_counts_add_up_and_shares_sum_to_one_for_random_maps() -> None:
    for seed in range(60):
        _property_case(seed)
