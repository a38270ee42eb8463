"""Bundled reference populations: the 2020 Census figures as published, their derivations, the
source record, and reading a reviewer's CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assessment.errors import DataError, DocumentError
from assessment.populations import (
    bundled_shares,
    check_source,
    describe_source,
    load_population,
    normalised,
)

TOTAL = 331_449_281
# A second transcription of the published national figures (P.L. 94-171 tables P1, P2; DP1).
P1 = {"White": 204_277_273, "Black or African American": 41_104_200,
      "American Indian or Alaska Native": 3_727_135, "Asian": 19_886_049,
      "Native Hawaiian or Other Pacific Islander": 689_966,
      "Other": 27_915_715 + 33_848_943}  # Some Other Race alone + Two or More Races
P2 = {"Hispanic or Latino": 62_080_044, "Not Hispanic or Latino": 269_369_237}
DP1_MALE = 162_685_811
DP1_AGE = [18_400_235, 20_130_423, 21_627_830, 22_036_076, 22_166_199, 22_301_254, 22_533_412,
           21_874_944, 20_309_193, 20_145_294, 20_723_512, 22_120_489, 21_287_919, 18_288_727,
           14_823_238, 9_955_322, 6_388_779, 6_336_435]
DP1_18_PLUS = 258_343_281


def test_census_2020_counts_are_the_published_ones_and_add_up() -> None:
    pop = load_population("us-census-2020")
    assert pop.total == TOTAL and pop.year == 2020
    assert pop.counts["race"] == P1
    assert pop.counts["ethnicity"] == P2
    assert sum(P1.values()) == sum(P2.values()) == sum(DP1_AGE) == TOTAL
    assert pop.counts["sex"] == {"Male": DP1_MALE, "Female": TOTAL - DP1_MALE}
    under18 = TOTAL - DP1_18_PLUS
    # ages 18-19 are the 15-19 group less ages 15-17 (= under-20 minus under-18)
    expected_age = {
        "<18": under18, "18-29": sum(DP1_AGE[:4]) - under18 + DP1_AGE[4] + DP1_AGE[5],
        "30-39": DP1_AGE[6] + DP1_AGE[7], "40-49": DP1_AGE[8] + DP1_AGE[9],
        "50-59": DP1_AGE[10] + DP1_AGE[11], "60-69": DP1_AGE[12] + DP1_AGE[13],
        "70-79": DP1_AGE[14] + DP1_AGE[15], "80+": DP1_AGE[16] + DP1_AGE[17]}
    assert pop.counts["age_band"] == expected_age
    assert sum(expected_age.values()) == TOTAL
    shares = pop.shares()
    assert shares["race"]["White"] == pytest.approx(0.6163, abs=5e-5)  # 61.6 % as published
    assert shares["race"]["Black or African American"] == pytest.approx(0.1240, abs=5e-5)
    assert shares["ethnicity"]["Hispanic or Latino"] == pytest.approx(0.1873, abs=5e-5)
    for dist in shares.values():
        assert sum(dist.values()) == pytest.approx(1.0)


def test_census_categories_are_the_datasheets() -> None:
    from assessment.instruments import load_form

    form = load_form("datasheet")
    field = next(f for _, f in form.iter_fields() if f.id == "training_demographics")
    groups = {a.id: set(a.groups) for a in field.attributes}
    for attr, dist in load_population("us-census-2020").counts.items():
        assert set(dist) <= groups[attr], attr


def test_the_file_records_table_ids_counts_and_urls() -> None:
    pop = load_population("us-census-2020")
    tables = " ".join(s.table for s in pop.sources)
    assert "P1" in tables and "P2" in tables and "DP1" in tables
    assert all(s.url.startswith("https://www.census.gov/") or s.url.startswith(
        "https://data.census.gov/") for s in pop.sources)
    record = pop.source_record()
    assert record["year"] == 2020 and "Redistricting" in record["citation"]
    assert check_source(record, "$") == record
    assert "2020" in describe_source(record)


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(DataError, match="us-census-2020"):
        load_population("us-census-1890")


def test_bundled_names_and_normalised_counts(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert bundled_shares("us-census-2020")["sex"]["Male"] == pytest.approx(DP1_MALE / TOTAL)
    assert bundled_shares("pop.csv") is None
    (tmp_path / "us-census-2020").write_text("a file of that name wins", encoding="utf-8")
    assert bundled_shares("us-census-2020") is None
    assert normalised({"sex": {"Female": 30, "Male": 10}}, "p.csv") == {
        "sex": {"Female": 0.75, "Male": 0.25}}
    with pytest.raises(DataError, match="positive sum"):
        normalised({"sex": {"Female": 0}}, "p.csv")


@pytest.mark.parametrize("bad", [[], {"year": "2020"}, {"edited": 1}, {"bogus": ""},
                                 {"title": 3}])
def test_source_records_are_checked(bad: object) -> None:
    with pytest.raises(DocumentError):
        check_source(bad, "$.reference_population_source")


def test_data_file_is_valid_json_with_every_group_categorised() -> None:
    raw = json.loads((Path(__file__).resolve().parents[2] / "resources" / "populations"
                      / "us-census-2020.json").read_text(encoding="utf-8"))
    for attr in ("race", "ethnicity", "sex"):
        assert all(r["category"] for r in raw["published"][attr])


@pytest.mark.parametrize("damage", ["drop_total", "bad_count", "ages_off", "no_sources"])
def test_a_damaged_bundled_file_is_one_sentence(damage: str) -> None:
    from assessment.populations import _parse

    raw = json.loads((Path(__file__).resolve().parents[2] / "resources" / "populations"
                      / "us-census-2020.json").read_text(encoding="utf-8"))
    if damage == "drop_total":
        del raw["total"]
    elif damage == "bad_count":
        raw["published"]["race"][0]["count"] = "lots"
    elif damage == "ages_off":
        raw["published"]["age_five_year"][0]["count"] += 1
    else:
        del raw["sources"]
    with pytest.raises(DataError) as exc:
        _parse(raw, "us-census-2020")
    assert "damaged" in exc.value.message and "reinstall" in exc.value.message
