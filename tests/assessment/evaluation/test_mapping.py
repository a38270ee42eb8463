"""Column mapping: validation messages, exclusions, binning, JSON round trip, suggestions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assessment.errors import DataError
from assessment.evaluation.inputs import MISSING_GROUP
from assessment.evaluation.io import (
    ColumnMapping,
    LoadedTable,
    band_labels,
    check_mapping,
    distinct_values,
    parse_bins,
    prepare_input,
    read_table,
    suggest_mapping,
)
from assessment.evaluation.mapping import THRESHOLD_NEEDED


def table(**columns: list) -> LoadedTable:
    return LoadedTable.from_frame(pd.DataFrame(columns), "test.csv")


def basic(**overrides: object) -> LoadedTable:
    cols = {
        "y": [1, 0, 1, 0, 1, 0],
        "p": [0.9, 0.1, 0.6, 0.4, 0.8, 0.3],
        "sex": ["F", "M", "F", "M", "F", "M"],
    }
    cols.update(overrides)  # type: ignore[arg-type]
    return table(**cols)


def message(data: LoadedTable, mapping: ColumnMapping) -> str:
    with pytest.raises(DataError) as err:
        prepare_input(data, mapping)
    text = err.value.message
    assert "\n" not in text and "Traceback" not in text
    return text


# ---- outcome --------------------------------------------------------------------------------


def test_three_valued_outcome_needs_positive_value() -> None:
    data = basic(y=["NO", ">30", "<30", "NO", "<30", ">30"])
    text = message(data, ColumnMapping(label="y", score="p", attributes=["sex"]))
    assert "'y'" in text and "3 values" in text
    assert "'NO'" in text and "'>30'" in text and "'<30'" in text and "positive" in text
    inputs = prepare_input(
        data, ColumnMapping(label="y", positive="<30", score="p", attributes=["sex"])
    )
    assert inputs.y_true.tolist() == [False, False, True, False, True, False]


def test_several_positive_values() -> None:
    data = basic(
        y=["NO", ">30", "<30", "NO", "<30", ">30"],
        risk=["Low", "High", "Medium", "Low", "High", "Low"],
    )
    mapping = ColumnMapping(
        label="y",
        positive=["<30", ">30"],
        prediction="risk",
        prediction_positive=["Medium", "High"],
        attributes=["sex"],
    )
    inputs = prepare_input(data, mapping)
    assert inputs.y_true.tolist() == [False, True, True, False, True, True]
    assert inputs.y_pred.tolist() == [False, True, True, False, True, False]
    assert ColumnMapping.from_json(json.loads(json.dumps(mapping.to_json()))) == mapping
    mapping.prediction_positive = ["Medium", "Hgh"]
    assert "'Hgh' does not occur" in message(data, mapping)


def test_distinct_values_as_compared() -> None:
    data = basic(y=[1.0, 0.0, 1.0, 0.0, 1.0, None], race=[" b", "b", "a", "?", "c", "c"])
    assert distinct_values(data, "y") == [("1", 3), ("0", 2)]
    assert distinct_values(data, "race") == [("b", 2), ("c", 2), ("a", 1)]
    assert distinct_values(data, "race", missing=[]) == [("b", 2), ("c", 2), ("a", 1), ("?", 1)]
    with pytest.raises(DataError, match="did you mean 'race'"):
        distinct_values(data, "rac")


def test_continuous_outcome_is_called_out() -> None:
    data = table(y=list(np.linspace(0, 1, 40)), p=[0.5] * 40, sex=["F", "M"] * 20)
    text = message(data, ColumnMapping(label="y", score="p", attributes=["sex"]))
    assert "40 different values" in text and "does not look like a yes/no outcome" in text


def test_two_non_boolean_values_need_positive_value() -> None:
    data = basic(y=["dead", "alive"] * 3)
    assert "positive" in message(data, ColumnMapping(label="y", score="p", attributes=["sex"]))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 0, 1, 0, 1, 0], [True, False] * 3),
        (["yes", "no"] * 3, [True, False] * 3),
        (["True", "False"] * 3, [True, False] * 3),
        ([1.0, 0.0] * 3, [True, False] * 3),
        (["1", "0"] * 3, [True, False] * 3),
        ([True, False] * 3, [True, False] * 3),
    ],
)
def test_boolean_like_outcomes_need_no_positive_value(values: list, expected: list) -> None:
    inputs = prepare_input(basic(y=values), ColumnMapping(label="y", score="p", attributes=["sex"]))
    assert inputs.y_true.tolist() == expected


def test_positive_value_that_does_not_occur() -> None:
    data = basic(y=["a", "b"] * 3)
    text = message(data, ColumnMapping(label="y", positive="c", score="p", attributes=["sex"]))
    assert "'c' does not occur" in text and "'a'" in text and "'b'" in text


def test_numeric_positive_matches_numeric_column() -> None:
    data = basic(y=[2, 1, 2, 1, 2, 1])
    inputs = prepare_input(
        data, ColumnMapping(label="y", positive="2.0", score="p", attributes=["sex"])
    )
    assert inputs.y_true.tolist() == [True, False] * 3


def test_single_class_outcome() -> None:
    text = message(basic(y=[1] * 6), ColumnMapping(label="y", score="p", attributes=["sex"]))
    assert "single value" in text and "'y'" in text
    text = message(
        basic(y=["x"] * 6), ColumnMapping(label="y", positive="x", score="p", attributes=["sex"])
    )
    assert "single value" in text and "'x'" in text


def test_single_class_after_exclusions() -> None:
    data = basic(y=[1, 0, 1, 0, 1, 0], p=[0.9, None, 0.6, None, 0.8, None])
    text = message(data, ColumnMapping(label="y", score="p", attributes=["sex"]))
    assert "positive in all 3 usable rows" in text


# ---- score ----------------------------------------------------------------------------------


def test_probabilities_outside_unit_interval() -> None:
    data = basic(p=[0.9, 0.1, 1.7, 0.4, 80.0, 0.3])
    text = message(data, ColumnMapping(label="y", score="p", attributes=["sex"]))
    assert "'p'" in text and "2 values are outside" in text and "row 4" in text and "1.7" in text
    ok = prepare_input(
        data,
        ColumnMapping(label="y", score="p", score_kind="score", threshold=0.5, attributes=["sex"]),
    )
    assert ok.score_kind == "score" and ok.score.max() == 80.0


def test_non_numeric_scores_name_first_bad_row() -> None:
    data = basic(p=["0.9", "0.1", "high", "low", "0.5", "0.3"])
    text = message(data, ColumnMapping(label="y", score="p", attributes=["sex"]))
    assert "not numeric" in text and "row 4" in text and "'high'" in text and "2 values" in text


def test_a_few_unparseable_scores_are_excluded_and_counted() -> None:
    n = 100
    p = [f"{v:.3f}" for v in np.linspace(0, 1, n)]
    p[7] = "pending"
    p[8] = "?"
    p[9] = ""
    data = table(y=[i % 2 for i in range(n)], p=p, sex=["F", "M"] * (n // 2))
    inputs = prepare_input(data, ColumnMapping(label="y", score="p", attributes=["sex"]))
    assert inputs.provenance.excluded == {"missing score": 2, "unparseable score": 1}
    assert inputs.n == 97


def test_infinite_score_is_unparseable() -> None:
    p = list(np.linspace(0.01, 0.99, 40))
    p[3] = np.inf
    data = table(y=[i % 2 for i in range(40)], p=p, sex=["F", "M"] * 20)
    mapping = ColumnMapping(
        label="y", score="p", score_kind="score", threshold=0.5, attributes=["sex"]
    )
    assert prepare_input(data, mapping).provenance.excluded == {"unparseable score": 1}


def test_raw_score_needs_threshold_and_probability_threshold_range() -> None:
    data = basic()
    text = message(
        data, ColumnMapping(label="y", score="p", score_kind="score", attributes=["sex"])
    )
    assert "threshold" in text
    text = message(data, ColumnMapping(label="y", score="p", threshold=3, attributes=["sex"]))
    assert "outside 0–1" in text


def test_score_and_prediction_roles() -> None:
    data = basic(pred=[1, 0, 0, 0, 1, 1])
    assert "not both" in message(
        data, ColumnMapping(label="y", score="p", prediction="pred", attributes=["sex"])
    )
    assert "score column or its predicted-class" in message(
        data, ColumnMapping(label="y", attributes=["sex"])
    )


def test_prediction_column() -> None:
    data = basic(pred=["hi", "lo", "lo", "lo", "hi", "hi"])
    mapping = ColumnMapping(label="y", prediction="pred", attributes=["sex"])
    assert "positive" in message(data, mapping)
    mapping.prediction_positive = "hi"
    inputs = prepare_input(data, mapping)
    assert inputs.score is None and inputs.score_kind == "class"
    assert inputs.y_pred.tolist() == [True, False, False, False, True, True]


def test_prediction_uses_outcome_positive_value_and_may_be_one_class() -> None:
    data = basic(y=["<30", "NO", "<30", ">30", "<30", "NO"], pred=["NO"] * 6)
    mapping = ColumnMapping(label="y", positive="<30", prediction="pred", attributes=["sex"])
    inputs = prepare_input(data, mapping)
    assert not inputs.y_pred.any()
    data = basic(pred=[1, 1, 0, 0, 1, 0])
    inputs = prepare_input(data, ColumnMapping(label="y", prediction="pred", attributes=["sex"]))
    assert inputs.y_pred.tolist() == [True, True, False, False, True, False]


# ---- columns --------------------------------------------------------------------------------


def test_unknown_column_lists_close_matches() -> None:
    data = basic(ethnicity=["a", "b"] * 3)
    text = message(data, ColumnMapping(label="y", score="p", attributes=["ethnicty"]))
    assert "'ethnicty'" in text and "not in test.csv" in text and "'ethnicity'" in text
    text = message(data, ColumnMapping(label="Y", score="p", attributes=["sex"]))
    assert "did you mean 'y'" in text


def test_missing_attribute_becomes_missing_group_not_excluded() -> None:
    data = basic(race=["A", "?", "B", "", None, "NA"])
    inputs = prepare_input(data, ColumnMapping(label="y", score="p", attributes=["race"]))
    assert inputs.provenance.excluded == {}
    race = inputs.attribute("race")
    assert race.levels == ("A", "B", MISSING_GROUP)
    assert race.codes.tolist() == [0, 2, 1, 2, 2, 2]
    assert race.codes.dtype == np.int32


def test_custom_missing_tokens() -> None:
    data = basic(race=["A", "Unknown", "B", "A", "?", "B"])
    mapping = ColumnMapping(label="y", score="p", attributes=["race"], missing=["Unknown"])
    race = prepare_input(data, mapping).attribute("race")
    assert race.levels == ("?", "A", "B", MISSING_GROUP)


def test_exclusions_counted_once_by_first_reason() -> None:
    data = table(
        y=[1, None, 0, "?", 1, 0, 1, 0, 1, 0],
        p=[0.9, None, None, 0.5, "x", 0.2, 0.7, 0.1, 0.8, 0.3],
        sex=["F", "M"] * 5,
    )
    mapping = ColumnMapping(label="y", score="p", attributes=["sex"])
    # 1 unparseable score of 8 present is above the 5% tolerance -> an error...
    assert "not numeric" in message(data, mapping)
    # ...but declared as a missing token it is excluded as a missing score.
    mapping.missing = [*mapping.missing, "x"]
    inputs = prepare_input(data, mapping)
    assert inputs.provenance.excluded == {"missing outcome": 2, "missing score": 2}
    assert inputs.provenance.rows_read == 10 and inputs.provenance.rows_used == 6
    assert inputs.n == 6
    assert inputs.y_true.tolist() == [True, False, True, False, True, False]
    assert inputs.provenance.to_json()["rows_excluded"] == 4


def test_levels_dropped_when_all_their_rows_are_excluded() -> None:
    data = basic(p=[0.9, 0.1, 0.6, 0.4, 0.8, None], site=["a", "b", "a", "b", "a", "z"])
    inputs = prepare_input(data, ColumnMapping(label="y", score="p", attributes=["site"]))
    assert inputs.attribute("site").levels == ("a", "b")


def test_numeric_levels_sort_numerically() -> None:
    data = basic(grade=[10, 9, 2, 10, 9, 2])
    assert prepare_input(data, ColumnMapping(label="y", score="p", attributes=["grade"])).attribute(
        "grade"
    ).levels == ("2", "9", "10")


def test_binning_continuous_attribute() -> None:
    data = basic(age=[35, 40, 49.5, 50, 71, "?"])
    mapping = ColumnMapping(label="y", score="p", attributes=["age"], bins={"age": [40, 50, 60]})
    age = prepare_input(data, mapping).attribute("age")
    assert age.levels == ("< 40", "[40, 50)", "[50, 60)", "≥ 60", MISSING_GROUP)
    assert age.codes.tolist() == [0, 1, 1, 2, 3, 4]


def test_binning_non_numeric_value_is_an_error() -> None:
    data = basic(age=[35, 40, "forty", 50, 71, 20])
    mapping = ColumnMapping(label="y", score="p", attributes=["age"], bins={"age": [40, 50]})
    text = message(data, mapping)
    assert "'age'" in text and "row 4" in text and "'forty'" in text


def test_bin_edges_parsing_and_labels() -> None:
    assert parse_bins("40, 50,60") == [40.0, 50.0, 60.0]
    assert band_labels([0.5, 1]) == ["< 0.5", "[0.5, 1)", "≥ 1"]
    with pytest.raises(DataError, match="strictly increasing"):
        parse_bins("50,40")
    with pytest.raises(DataError, match="numbers"):
        parse_bins("a,b")
    data = basic(age=[1, 2, 3, 4, 5, 6])
    with pytest.raises(DataError, match="at least one bin edge"):
        prepare_input(
            data, ColumnMapping(label="y", score="p", attributes=["age"], bins={"age": []})
        )


def test_provenance_is_filled() -> None:
    data = basic()
    mapping = ColumnMapping(label="y", score="p", attributes=["sex"], threshold=0.4)
    prov = prepare_input(data, mapping).provenance
    assert prov.file_name == "test.csv" and len(prov.sha256) == 64
    assert prov.rows_read == 6 and prov.rows_used == 6 and prov.excluded == {}
    assert prov.mapping == mapping.to_json()


# ---- mapping JSON, check, suggest -----------------------------------------------------------


def test_mapping_json_round_trip() -> None:
    mapping = ColumnMapping(
        label="readmitted",
        positive="<30",
        score="risk",
        score_kind="score",
        threshold=2.5,
        attributes=["race", "age"],
        bins={"age": [40.0, 60.0]},
        missing=["?", "Unknown"],
    )
    again = ColumnMapping.from_json(json.loads(json.dumps(mapping.to_json())))
    assert again == mapping
    assert ColumnMapping.from_json({"label": "y", "prediction": "p"}).missing == [
        "?",
        "",
        "NA",
        "N/A",
        "NaN",
        "null",
    ]
    with pytest.raises(DataError, match="score_kind"):
        ColumnMapping.from_json({"label": "y", "score_kind": "logit"})
    with pytest.raises(DataError, match="schema"):
        ColumnMapping.from_json({"schema": "other/1"})


def test_check_mapping_collects_all_problems() -> None:
    data = basic(y=["a", "b", "c", "a", "b", "c"], p=[0.1, 2.0, 0.3, 0.2, 0.5, 0.9])
    issues = check_mapping(data, ColumnMapping(label="y", score="p", attributes=["sx"]))
    by_col = {i.column: i for i in issues}
    assert set(by_col) == {"y", "p", "sx"}
    assert all(i.severity == "error" for i in issues)
    assert "3 values" in by_col["y"].message
    assert "outside" in by_col["p"].message
    assert "'sex'" in by_col["sx"].message


def test_check_mapping_warnings_and_clean() -> None:
    data = basic(y=[1, 0, None, 0, 1, 0])
    issues = check_mapping(data, ColumnMapping(label="y", score="p", attributes=["sex"]))
    assert [(i.column, i.severity) for i in issues] == [("y", "warning")]
    assert "1 of 6 rows" in issues[0].message
    assert check_mapping(basic(), ColumnMapping(label="y", score="p", attributes=["sex"])) == []
    issues = check_mapping(basic(), ColumnMapping(label="y", score="p"))
    assert [i.column for i in issues] == [None]


def test_check_mapping_score_warnings() -> None:
    n = 60
    p = [f"{v:.2f}" for v in np.linspace(0.05, 0.95, n)]
    p[2], p[4], p[9] = "?", "", "n.d."
    data = table(y=[i % 2 for i in range(n)], p=p, sex=["F", "M"] * (n // 2))
    issues = check_mapping(data, ColumnMapping(label="y", score="p", attributes=["sex"]))
    assert [(i.column, i.severity) for i in issues] == [("p", "warning"), ("p", "warning")]
    assert issues[0].message == "2 rows have no score and will be excluded."
    assert issues[1].message == "1 row has a score that is not a number and will be excluded."


def test_suggest_mapping_by_name_and_content() -> None:
    rng = np.random.default_rng(1)
    n = 200
    frame = pd.DataFrame(
        {
            "patient_id": np.arange(n),
            "outcome": rng.choice(["yes", "no"], n),
            "risk_score": rng.random(n),
            "Age": rng.integers(18, 90, n),
            "sex": rng.choice(["F", "M"], n),
            "ethnicity": rng.choice(["A", "B", "C"], n),
            "creatinine": rng.random(n) * 3,
        }
    )
    mapping = suggest_mapping(frame)
    assert mapping.label == "outcome" and mapping.positive == "yes"
    assert mapping.score == "risk_score" and mapping.score_kind == "probability"
    assert mapping.attributes == ["Age", "sex", "ethnicity"]
    assert mapping.bins["Age"][0] >= 20 and mapping.bins["Age"] == sorted(mapping.bins["Age"])
    assert check_mapping(frame, mapping) == []


def test_suggest_mapping_on_real_files(shared_data: Path) -> None:
    root = shared_data
    aeq = suggest_mapping(read_table(root / "compas" / "compas_for_aequitas.csv"))
    # Aequitas' "score" is 0/1 (predicted high risk): a predicted class, not a score.
    assert (aeq.label, aeq.positive, aeq.score, aeq.prediction) == (
        "label_value",
        "1",
        None,
        "score",
    )
    assert aeq.attributes == ["race", "sex", "age_cat"]
    diab = read_table(root / "diabetes130" / "diabetic_data.csv")
    mapping = suggest_mapping(diab)
    assert mapping.label == "readmitted" and mapping.positive is None
    assert {"race", "gender", "age"} <= set(mapping.attributes)
    issues = check_mapping(diab, mapping)
    assert any(i.column == "readmitted" and "'<30'" in i.message for i in issues)


@pytest.mark.slow
def test_prepare_one_million_rows_is_vectorised() -> None:
    rng = np.random.default_rng(0)
    n = 1_000_000
    p = rng.random(n).round(4).astype(str).astype(object)
    p[::997] = "?"
    frame = pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "p": p,
            "sex": rng.choice(["F", "M"], n),
            "race": rng.choice(["A", "B", "C", "D", "?"], n),
            "age": rng.integers(18, 95, n),
        }
    )
    data = LoadedTable.from_frame(frame, "big.csv")
    mapping = ColumnMapping(
        label="y", score="p", attributes=["sex", "race", "age"], bins={"age": [30, 50, 70]}
    )
    inputs = prepare_input(data, mapping)
    assert inputs.provenance.excluded == {"missing score": len(range(0, n, 997))}
    assert inputs.n == n - len(range(0, n, 997))
    assert inputs.attribute("age").levels[:4] == ("< 30", "[30, 50)", "[50, 70)", "≥ 70")


def test_raw_scores_say_which_decision_rule_applies() -> None:
    frame = pd.DataFrame({"y": [0, 1, 0, 1] * 10, "risk": [3.0, 7.5, 1.0, 9.0] * 10,
                          "sex": ["F", "M"] * 20})
    mapping = suggest_mapping(frame)
    assert mapping.score == "risk" and mapping.score_kind == "score"
    assert mapping.threshold is None  # no default: the model's operating point is the user's
    errors = [i for i in check_mapping(frame, mapping) if i.severity == "error"]
    assert [e.message for e in errors] == [THRESHOLD_NEEDED]
    mapping.threshold = 5.0
    infos = [i for i in check_mapping(frame, mapping) if i.severity == "info"]
    assert len(infos) == 1 and "risk ≥" in infos[0].message
    assert not [i for i in check_mapping(frame, mapping) if i.severity == "error"]
