"""Hard labels and raw scores (issue 9, item 8).

A two-valued "score" is a predicted class: refused as a score (CLI and GUI alike, one sentence
naming --prediction), suggested as the predicted class, and evaluated without Brier, O/E or
calibration. A raw score has no default threshold: the model card's operating point or one read
off the score distribution is suggested; an almost-all-one-way decision rule is warned about.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import recall_score

import main
from assessment.errors import DataError
from assessment.evaluation import columns
from assessment.evaluation.engine import evaluate
from assessment.evaluation.mapping import (
    THRESHOLD_NEEDED,
    ColumnMapping,
    LoadedTable,
    check_mapping,
    prepare_input,
    stated_operating_point,
    suggest_mapping,
    suggest_threshold,
)
from assessment.evaluation.spec import EvaluationSpec

REFUSAL_01 = (
    "The score column 'score' holds only two values (0 and 1), so it is a predicted class, not a "
    "score, and Brier score, O/E ratio and calibration would be meaningless; map it as the "
    "predicted class instead (--prediction COLUMN)."
)
PROBABILITY_METRICS = ("brier", "oe_ratio", "calibration_intercept", "calibration_slope")


def hard_label_frame(n: int = 600, seed: int = 3) -> pd.DataFrame:
    """Outcome y, a 0/1 model output named 'score' (written 0.0/1.0 as in Aequitas), race."""
    rng = np.random.default_rng(seed)
    race = rng.choice(["A", "B", "C"], n, p=[0.5, 0.35, 0.15])
    y = rng.random(n) < np.where(race == "B", 0.5, 0.35)
    pred = np.where(rng.random(n) < 0.75, y, ~y)
    return pd.DataFrame({"y": y.astype(int), "score": pred.astype(float), "race": race})


def decile_frame(n: int = 2000, seed: int = 5) -> pd.DataFrame:
    """COMPAS-like: deciles 1–10 skewed to low values, outcome more likely at high deciles."""
    rng = np.random.default_rng(seed)
    decile = np.minimum(10, 1 + rng.geometric(0.22, n) - 1 + rng.integers(0, 2, n))
    decile = np.clip(decile, 1, 10)
    y = rng.random(n) < 0.15 + 0.06 * decile
    sex = rng.choice(["Female", "Male"], n, p=[0.2, 0.8])
    return pd.DataFrame({"two_year_recid": y.astype(int), "decile_score": decile, "sex": sex})


# ---- a two-valued score is a predicted class ------------------------------------------------


@pytest.mark.parametrize("kind", ["probability", "score"])
def test_zero_one_score_is_refused_with_one_sentence(kind: str) -> None:
    frame = hard_label_frame()
    mapping = ColumnMapping(
        label="y", score="score", score_kind=kind, threshold=0.5, attributes=["race"]
    )  # type: ignore[arg-type]
    with pytest.raises(DataError) as err:
        prepare_input(frame, mapping)
    assert err.value.message == REFUSAL_01
    errors = [i for i in check_mapping(frame, mapping) if i.severity == "error"]
    assert [(e.column, e.message) for e in errors] == [("score", REFUSAL_01)]


def test_any_two_valued_score_is_refused_but_three_values_are_a_score() -> None:
    frame = pd.DataFrame({"y": [0, 1] * 20, "risk": [2.5, 7.0] * 20, "g": ["a", "b"] * 20})
    mapping = ColumnMapping(label="y", score="risk", score_kind="score", threshold=5,
                            attributes=["g"])  # fmt: skip
    with pytest.raises(DataError, match=r"only two values \(2.5 and 7\).*--prediction"):
        prepare_input(frame, mapping)
    frame.loc[0, "risk"] = 4.0  # a third value: a (coarse) score after all
    assert prepare_input(frame, mapping).score_kind == "score"


def test_a_stray_token_does_not_hide_a_two_valued_column() -> None:
    frame = hard_label_frame(200)
    frame["score"] = frame["score"].astype(object)
    frame.loc[7, "score"] = "pending"  # excluded as unparseable, still only 0 and 1
    mapping = ColumnMapping(label="y", score="score", attributes=["race"])
    with pytest.raises(DataError, match="only two values"):
        prepare_input(frame, mapping)


def test_suggestion_maps_a_zero_one_score_as_the_predicted_class() -> None:
    mapping = suggest_mapping(hard_label_frame())
    assert (mapping.score, mapping.prediction, mapping.kind) == (None, "score", "class")
    assert [i for i in check_mapping(hard_label_frame(), mapping) if i.severity == "error"] == []


def test_class_result_has_no_probability_metrics_and_says_why() -> None:
    frame = hard_label_frame()
    mapping = ColumnMapping(label="y", prediction="score", attributes=["race"])
    inputs = prepare_input(frame, mapping)
    result = evaluate(inputs, EvaluationSpec(bootstrap=0))
    for group in [result.overall, *result.groups]:
        for mid in PROBABILITY_METRICS:
            m = group.metrics[mid]
            assert m.value is None and m.ci_low is None, (group.group, mid)
            assert m.reason == "predicted classes only: this metric needs predicted probabilities"
        assert group.metrics["auroc"].value is None
        assert "AUROC needs a score" in (group.metrics["auroc"].reason or "")
    assert any("Only predicted classes were given" in note for note in result.notes)
    # The class metrics are the hard labels' own: TPR per group equals sklearn's recall.
    for level in ("A", "B", "C"):
        rows = frame[frame["race"] == level]
        expected = recall_score(rows["y"], rows["score"].astype(int))
        got = result.group("race", level).metrics["tpr"].value
        assert got == pytest.approx(expected, abs=1e-12)


# ---- raw scores: no default threshold, a suggestion that says where it comes from -----------


def test_raw_score_has_no_default_threshold() -> None:
    frame = decile_frame()
    mapping = suggest_mapping(frame)
    assert (mapping.score, mapping.score_kind, mapping.threshold) == ("decile_score", "score", None)
    assert mapping.effective_threshold is None
    with pytest.raises(DataError) as err:
        prepare_input(frame, mapping)
    assert err.value.message == THRESHOLD_NEEDED


def test_threshold_from_the_distribution_matches_the_prevalence() -> None:
    frame = decile_frame()
    mapping = suggest_mapping(frame)
    s = suggest_threshold(frame, mapping)
    assert s is not None and s.source == "score distribution"
    # Reference: try every observed value, keep the one whose share >= t is closest to the
    # prevalence (first on ties, i.e. the lowest).
    prevalence = frame["two_year_recid"].mean()
    values = np.sort(frame["decile_score"].unique())
    shares = [(frame["decile_score"] >= t).mean() for t in values]
    best = values[int(np.argmin([abs(sh - prevalence) for sh in shares]))]
    assert s.value == best
    assert s.share_positive == pytest.approx((frame["decile_score"] >= best).mean())
    assert f"Suggested {int(best)} from the score distribution" in s.reason
    assert "not the model's stated operating point" in s.reason


def test_threshold_from_the_model_card_wins_when_it_fits_the_scores() -> None:
    frame = decile_frame()
    mapping = suggest_mapping(frame)
    card = "Defendants with a decile score of 5 or above are treated as medium/high risk."
    s = suggest_threshold(frame, mapping, card)
    assert s is not None and (s.value, s.source) == (5.0, "model card")
    assert "operating point the model card states" in s.reason
    outside = suggest_threshold(frame, mapping, "Predicted probability >= 0.15 triggers review.")
    assert outside is not None and outside.source == "score distribution"
    assert outside.reason.startswith("The model card's operating point 0.15 lies outside")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Predicted probability >= 0.15: about 1.3 times the base rate", 0.15),
        ("positive when score ≥ 7", 7.0),
        ("Threshold: 0,3 (chosen on the development set)", 0.3),
        ("cut-off of 4 for referral", 4.0),
        ("decile 5 or higher", 5.0),
        ("Two operating points: >= 0.1 for screening, >= 0.3 for referral", None),
        ("Chosen by the clinical team.", None),
        ("", None),
        (None, None),
    ],
)
def test_stated_operating_point(text: str | None, expected: float | None) -> None:
    assert stated_operating_point(text) == expected


def test_extreme_decision_rule_is_a_warning_in_the_checks() -> None:
    frame = decile_frame()
    mapping = suggest_mapping(frame)
    mapping.threshold = 1.0  # every decile is >= 1
    warnings = [i for i in check_mapping(frame, mapping) if i.severity == "warning"]
    assert [w.column for w in warnings] == ["decile_score"]
    assert warnings[0].message.startswith(
        "The decision rule decile_score ≥ 1 predicts 100.0% of the rows positive, almost "
        "everyone positive"
    )
    mapping.threshold = 11.0
    (low,) = [i for i in check_mapping(frame, mapping) if i.severity == "warning"]
    assert "predicts 0.0% of the rows positive, almost everyone negative" in low.message
    mapping.threshold = 5.0
    assert not [i for i in check_mapping(frame, mapping) if i.severity == "warning"]


# ---- each column analysed once per table --------------------------------------------------


def test_check_mapping_analyses_each_column_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    real_code, real_numbers = columns._code_column, columns._numeric_column

    def code(series: pd.Series, missing: object) -> object:
        calls.append(("codes", str(series.name)))
        return real_code(series, missing)  # type: ignore[arg-type]

    def numbers(series: pd.Series, decimal: str, missing: object) -> object:
        calls.append(("numbers", str(series.name)))
        return real_numbers(series, decimal, missing)  # type: ignore[arg-type]

    monkeypatch.setattr(columns, "_code_column", code)
    monkeypatch.setattr(columns, "_numeric_column", numbers)
    table = LoadedTable.from_frame(decile_frame(), "deciles.csv")
    mapping = ColumnMapping(label="two_year_recid", score="decile_score", score_kind="score",
                            threshold=5, attributes=["sex"])  # fmt: skip
    first = check_mapping(table, mapping)
    for t in (4.0, 6.0, 5.0):  # the form's threshold edits: nothing new to analyse
        mapping.threshold = t
        check_mapping(table, mapping)
    suggest_threshold(table, mapping)
    assert check_mapping(table, mapping) == first
    assert sorted(calls) == [
        ("codes", "sex"),
        ("codes", "two_year_recid"),
        ("numbers", "decile_score"),
    ]
    mapping.missing = ["?"]  # other missing tokens: a different analysis, computed once more
    check_mapping(table, mapping)
    assert len(calls) == 6
    # prepare_input (Run) uses the remembered analyses, then gives their memory back to the
    # engine: the next check analyses each column once again.
    prepare_input(table, mapping)
    assert len(calls) == 6 and columns._CACHES.get(table) is None
    check_mapping(table, mapping)
    check_mapping(table, mapping)
    assert len(calls) == 9
    # A second table (File › New, another file) never sees the first table's analyses.
    other = LoadedTable.from_frame(decile_frame(seed=9), "other.csv")
    check_mapping(other, mapping)
    assert len(calls) == 12


def test_analysis_cache_stays_within_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = decile_frame(5000)
    table = LoadedTable.from_frame(frame, "deciles.csv")
    per_column = 5000 * 8  # int64 codes
    monkeypatch.setattr(columns, "ANALYSIS_BUDGET_BYTES", int(per_column * 2.5))
    for col in ("two_year_recid", "decile_score", "sex"):
        columns.coded(table, col, ["?"])
    cache = columns._cache_of(table)
    assert cache._bytes <= columns.ANALYSIS_BUDGET_BYTES
    assert [k[1] for k in cache._items] == ["decile_score", "sex"]  # oldest dropped first


# ---- the command line -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_faulthandler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)


def test_cli_refuses_a_zero_one_score(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "aequitas_like.csv"
    hard_label_frame().to_csv(path, index=False)
    code = main.main(["evaluate", str(path), "--label", "y", "--score", "score", "--group", "race"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [f"probity: error: {REFUSAL_01}"]


def test_cli_says_up_front_when_everyone_is_predicted_positive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deciles.csv"
    decile_frame().to_csv(path, index=False)
    argv = ["evaluate", str(path), "--label", "two_year_recid", "--score", "decile_score",
            "--score-kind", "score", "--group", "sex", "--bootstrap", "0"]  # fmt: skip
    code = main.main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and THRESHOLD_NEEDED in err
    code = main.main([*argv, "--threshold", "1"])
    out, _err = capsys.readouterr()
    lines = out.splitlines()
    assert code == 0 and lines[2].startswith("Decision: threshold 1 ")
    assert lines[3].startswith("WARNING: the decision rule score >= 1 predicts 100.0% of the rows")
    code = main.main([*argv, "--threshold", "5"])
    out, _err = capsys.readouterr()
    assert code == 0 and "WARNING" not in out
