"""COMPAS walk-through: a datasheet in OMB categories, validation data in COMPAS's labels,
mapped, evaluated: no flag from label spelling, the 2020 Census reference shares shown.

The training datasheet here describes exactly the people in the validation file (its counts
are the file's, recoded to OMB categories by hand below), so every share ratio against the
training cohort is 1 and any training-cohort flag would be false. Flags against the census are
real differences; each is checked against shares computed here with pandas.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import main
from assessment.document import Assessment
from assessment.evaluation.group_map import suggest_group_map
from assessment.evaluation.result import EvaluationResult
from assessment.populations import load_population
from assessment.storage import load, save
from reports.model import demographics_tables

_REPO = Path(__file__).resolve().parents[3]
AEQUITAS = _REPO.parent / "shared" / "data" / "compas" / "compas_for_aequitas.csv"  # as conftest
# COMPAS label -> OMB race category, written out by hand (independent of the synonym table)
BY_HAND = {"Caucasian": "White", "African-American": "Black or African American",
           "Asian": "Asian", "Native American": "American Indian or Alaska Native",
           "Other": "Other"}  # "Hispanic" is an ethnicity: recorded under ethnicity


@pytest.fixture
def compas(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    if not AEQUITAS.is_file():
        pytest.fail(f"the shared COMPAS file is missing at {AEQUITAS}; CI keeps it beside the repo")
    path = tmp_path / "compas.csv"
    shutil.copy(AEQUITAS, path)
    return path, pd.read_csv(path)


def _datasheet(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    omb = frame["race"].map(BY_HAND).dropna().value_counts().to_dict()
    race = {c: int(omb.get(c, 0)) for c in ("American Indian or Alaska Native", "Asian",
                                            "Black or African American",
                                            "Native Hawaiian or Other Pacific Islander", "White",
                                            "Other")}
    hispanic = int((frame["race"] == "Hispanic").sum())
    return {
        "race": race,
        "ethnicity": {"Hispanic or Latino": hispanic,
                      "Not Hispanic or Latino": len(frame) - hispanic},
        "sex": {k: int(v) for k, v in frame["sex"].value_counts().items()},
    }


def _run(path: Path, doc_path: Path, monkeypatch: pytest.MonkeyPatch) -> EvaluationResult:
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)
    code = main.main(["evaluate", str(path), "--label", "label_value", "--prediction", "score",
                      "--group", "race", "--group", "sex", "--group", "age_cat",
                      "--bootstrap", "0", "--into", str(doc_path), "--quiet"])
    assert code == 0
    record = load(doc_path).evaluation
    assert record is not None and record.result is not None
    return record.result


def test_compas_walkthrough(compas: tuple[Path, pd.DataFrame], tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    path, frame = compas
    census = load_population("us-census-2020")
    doc = Assessment.new()
    doc.set_field("datasheet", "training_demographics", _datasheet(frame))
    doc.set_reference_population(census.shares())
    doc.set_reference_population_source(census.source_record())
    doc_path = tmp_path / "compas.probity"
    save(doc, doc_path)

    # 1. before mapping: COMPAS labels are unmapped, never "absent" or "over-represented"
    before = _run(path, doc_path, monkeypatch)
    race = {r.group: r for r in before.representativeness_of("race")}
    assert race["Caucasian"].flag is None and "not mapped" in (race["Caucasian"].reason or "")
    assert race["White"].flag is None and race["White"].validation_n == 0
    assert any("suggested: African-American → Black or African American" in n
               for n in before.notes)

    # 2. map with the suggestions (what the GUI offers), re-run
    categories = list(_datasheet(frame)["race"])
    suggested = suggest_group_map(sorted(frame["race"].unique()), categories)
    assert suggested == BY_HAND
    doc = load(doc_path)
    doc.set_group_maps({"race": suggested})
    save(doc, doc_path)
    result = _run(path, doc_path, monkeypatch)
    assert result.evaluation_spec().group_map == {"race": BY_HAND}

    rows = {(r.attribute, r.group): r for r in result.representativeness}
    mapped = frame["race"].map(BY_HAND).dropna()
    for category, n in mapped.value_counts().items():
        row = rows["race", category]
        assert row.validation_n == n
        # "Hispanic" (unmapped) keeps its known value in the denominator: a lower bound
        assert row.validation_share == pytest.approx(n / len(frame))
        assert row.training_share == pytest.approx(n / len(mapped))  # the same people
    for row in result.representativeness:
        # no flag against the training cohort: every training comparison has ratio 1
        assert "training cohort" not in (row.reason or ""), row
    hisp = rows["race", "Hispanic"]
    assert hisp.flag is None and hisp.validation_n == 637

    # census reference shares are shown, and each census flag is a real difference
    shares = census.shares()
    for (attr, group), row in rows.items():
        if attr == "race" and group in shares["race"]:
            assert row.reference_share == pytest.approx(shares["race"][group])
            valid = (frame["race"].map(BY_HAND) == group).sum() / len(frame)
            ratio = valid / shares["race"][group]
            # "Hispanic" stays unmapped, so shares are lower bounds: only over-representation
            # can be claimed (Hispanic people may be of any race in the census)
            expected = "over_represented" if ratio > 1.25 else None
            assert row.flag == expected, (group, ratio)
    assert rows["race", "Black or African American"].flag == "over_represented"
    assert rows["sex", "Male"].reference_share == pytest.approx(shares["sex"]["Male"])
    # age_cat's COMPAS bands cannot be mapped to the datasheet's: shown, not compared or flagged
    assert all(r.flag is None for r in result.representativeness_of("age_cat"))

    # the report's demographics table carries the census shares beside the counts
    tables = {t.attribute: t for t in demographics_tables(load(doc_path))}
    white = tables["race"].row("White")
    assert white.reference_share == pytest.approx(shares["race"]["White"])
    assert white.validation_n == int((frame["race"] == "Caucasian").sum())
