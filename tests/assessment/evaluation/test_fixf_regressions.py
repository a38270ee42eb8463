"""Regressions of issue 9's attack report (items 3, 5, 6, 10), each failing before its fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import main
from assessment.evaluation import engine, limits
from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.spec import EvaluationSpec


@pytest.fixture(autouse=True)
def no_faulthandler(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() enables faulthandler on sys.stderr, which pytest's capture has no fd for."""
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)


def _inputs(y: np.ndarray, score: np.ndarray, *attrs: Attribute) -> EvaluationInput:
    n = y.size
    provenance = Provenance("t.csv", "0" * 64, n, n)
    return EvaluationInput(y, score, None, "probability", attrs, provenance)


# ------------------------------------------------------------ 6. threshold grid in decimals


def test_grid_rows_are_the_decimal_thresholds() -> None:
    """A grid row printed 0.35 is --threshold 0.35: a score of exactly 0.35 counts as positive
    (np.linspace gave 0.35000000000000003, which put it below the threshold)."""
    rng = np.random.default_rng(3)
    n = 400
    score = np.round(rng.random(n), 2)
    y = rng.random(n) < score
    g = Attribute("g", (np.arange(n) % 2).astype(np.int32), ("A", "B"))
    spec = EvaluationSpec(bootstrap=0)
    res = evaluate(_inputs(y, score, g), spec).to_json()
    grid = res["threshold_grid"]
    thresholds = grid["thresholds"]
    assert thresholds == [float(f"{k / 100:.2f}") for k in range(101)]
    overall = next(e for e in grid["groups"] if e["attribute"] == grid["groups"][0]["attribute"])
    for t in (0.35, 0.57, 0.7):
        k = thresholds.index(t)
        truth = float(np.sum((score >= t) & y) / np.sum(y))
        assert overall["tpr"][k] == truth


# ------------------------------------------------------------ 3. bootstrap memory checked first


def _cells_csv(path: Path, n: int = 3000) -> Path:
    """The tester's big300k.csv shape, scaled down: a rare outcome over 11 × 10 × 11 cells."""
    rng = np.random.default_rng(5)
    p = rng.beta(1, 60, n)
    pd.DataFrame({
        "y": (rng.random(n) < p).astype(int), "p": p.round(6),
        "a": [f"a{k}" for k in rng.integers(0, 11, n)],
        "b": [f"b{k}" for k in rng.integers(0, 10, n)],
        "c": [f"c{k}" for k in rng.integers(0, 11, n)],
    }).to_csv(path, index=False)
    return path


def test_estimate_matches_the_measured_peak() -> None:
    """1,232 groups (1,210 cells): measured peaks 0.51 GB (B = 1,000), 1.21 GB (B = 3,000) and
    the tester's 3.7 GB (B = 10,000); the estimate is within 25% of each."""
    for b, peak in ((1000, 0.51), (3000, 1.21), (10_000, 3.7)):
        est = limits.bootstrap_bytes(b, 1232, 1210, True) / 1024**3
        assert abs(est - peak) / peak < 0.25


def test_too_large_a_bootstrap_is_refused_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_bootstrap(*_a: object, **_k: object) -> None:
        raise AssertionError("the bootstrap started")

    monkeypatch.setattr(engine, "_bootstrap", no_bootstrap)
    data = _cells_csv(tmp_path / "cells.csv")
    code = main.main(["evaluate", str(data), "--label", "y", "--score", "p", "--threshold",
                      "0.01", "--group", "a", "--intersect", "a,b,c", "--bootstrap", "30000"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1
    assert "30,000 bootstrap replicates over" in err and "GB" in err
    fits = int(err.split("use at most ")[1].split(" replicates")[0].replace(",", ""))
    groups = int(err.split("over ")[1].split(" groups")[0].replace(",", ""))
    largest = groups - 1 - 11 - 10 - 11  # overall and the levels of a, b and c
    assert limits.bootstrap_bytes(fits, groups, largest, True) <= limits.BOOTSTRAP_MEMORY_BUDGET
    assert limits.bootstrap_bytes(fits + 100, groups, largest, True) > (
        limits.BOOTSTRAP_MEMORY_BUDGET
    )


def test_running_out_of_memory_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def raise_memory(*_a: object, **_k: object) -> None:
        raise MemoryError("Unable to allocate 35.2 GiB for an array")

    monkeypatch.setattr(engine, "_bootstrap", raise_memory)
    data = _cells_csv(tmp_path / "cells.csv", 400)
    code = main.main(["evaluate", str(data), "--label", "y", "--score", "p", "--threshold",
                      "0.01", "--group", "a", "--bootstrap", "200"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1
    assert "ran out of memory" in err


# ------------------------------------------------------------ 5. evaluate --cluster warnings


def _cluster_csv(path: Path, *, missing_ids: int = 0) -> Path:
    rng = np.random.default_rng(11)
    pid = np.repeat(np.arange(300), 4)
    n = pid.size
    p = rng.uniform(0.05, 0.6, n)
    ids = [f"P{k}" for k in pid]
    for i in range(missing_ids):
        ids[i * 3] = ""
    pd.DataFrame({
        "y": (rng.random(n) < p).astype(int), "p": p.round(4),
        "g": np.where(rng.random(n) < 0.5, "A", "B"), "pid": ids,
    }).to_csv(path, index=False)
    return path


def _evaluate(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main.main(["evaluate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_rows_without_patient_id_are_counted_and_warned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _cluster_csv(tmp_path / "c.csv", missing_ids=50)
    js = tmp_path / "r.json"
    code, out, err = _evaluate([str(data), "--label", "y", "--score", "p", "--group", "g",
                                "--cluster", "pid", "--bootstrap", "0", "--quiet",
                                "--json", str(js)], capsys)
    assert code == 0 and out == ""
    warning = ("50 of the 1,200 used rows have no patient id in 'pid': each is counted as a "
               "patient of its own (of the 350)")
    assert err.startswith(f"WARNING: {warning}")
    import json

    result = json.loads(js.read_text())
    assert result["notes"][0].startswith(f"WARNING: {warning}")
    assert result["provenance"]["notes"][0].startswith(f"WARNING: {warning}")


@pytest.mark.parametrize(
    ("column", "says"),
    [("y", "is also the outcome"), ("g", "is also a group column")],
)
def test_patient_column_that_is_the_outcome_or_a_group_is_warned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str, says: str
) -> None:
    data = _cluster_csv(tmp_path / "c.csv")
    code, out, err = _evaluate([str(data), "--label", "y", "--score", "p", "--group", "g",
                                "--cluster", column, "--bootstrap", "0"], capsys)
    assert code == 0
    assert f"WARNING: The patient column {column!r} {says}" in out
    # nothing could be compared with 2 "patients": the headline says so
    assert "No disparity flagged" not in out
    assert "No disparity could be judged" in out


def test_patient_column_with_few_values_is_warned_under_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _cluster_csv(tmp_path / "c.csv")
    frame = pd.read_csv(data)
    frame["site"] = [f"S{k % 5}" for k in range(len(frame))]
    frame.to_csv(data, index=False)
    code, out, err = _evaluate([str(data), "--label", "y", "--score", "p", "--group", "g",
                                "--cluster", "site", "--bootstrap", "0", "--quiet"], capsys)
    assert code == 0 and out == ""
    assert err.startswith("WARNING: The patient column 'site' has only 5 distinct values")


def test_a_good_patient_column_gives_no_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _cluster_csv(tmp_path / "c.csv")
    code, out, err = _evaluate([str(data), "--label", "y", "--score", "p", "--group", "g",
                                "--cluster", "pid", "--bootstrap", "0"], capsys)
    assert code == 0 and "WARNING" not in out + err


# ------------------------------------------------------------ 10b, 10c: mapping


def test_one_huge_value_among_probabilities_is_named_as_outside_0_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """500 probabilities and one 1e308 read as 'essentially two values (0.00086 and 1e+308)'."""
    rng = np.random.default_rng(2)
    p = rng.random(500).round(5).astype(object)
    p[4] = "1e308"
    data = tmp_path / "huge.csv"
    pd.DataFrame({"y": rng.integers(0, 2, 500), "p": p, "g": ["A", "B"] * 250}).to_csv(
        data, index=False
    )
    code, _out, err = _evaluate([str(data), "--label", "y", "--score", "p", "--group", "g"],
                                capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "should hold probabilities between 0 and 1, but 1 value is outside" in err
    assert "1e+308" in err and "two values" not in err


def test_outcome_values_beside_the_positive_one_are_counted_in_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(4)
    n = 600
    p = rng.random(n).round(4)
    y = np.where(rng.random(n) < p, "yes", "no").astype(object)
    y[::30] = "maybe"
    data = tmp_path / "maybe.csv"
    pd.DataFrame({"y": y, "p": p, "g": ["A", "B"] * (n // 2)}).to_csv(data, index=False)
    js = tmp_path / "r.json"
    code, out, _err = _evaluate([str(data), "--label", "y", "--positive", "yes", "--score", "p",
                                 "--group", "g", "--bootstrap", "0", "--json", str(js)], capsys)
    assert code == 0
    n_no = int((y == "no").sum())
    note = (f"outcome: 'y' has 3 values; with 'yes' as the event, 2 are counted as non-events: "
            f"'maybe' (20 rows), 'no' ({n_no:,} rows)")
    import json

    assert any(x.startswith(note) for x in json.loads(js.read_text())["notes"])
    assert f"Note: {note}" in out
    # a two-valued outcome gets no such note
    pd.DataFrame({"y": np.where(y == "maybe", "no", y), "p": p, "g": ["A", "B"] * (n // 2)}
                 ).to_csv(data, index=False)
    code, out, _err = _evaluate([str(data), "--label", "y", "--positive", "yes", "--score", "p",
                                 "--group", "g", "--bootstrap", "0"], capsys)
    assert code == 0 and "counted as non-events" not in out


# ------------------------------------------------------------ 10a. reference with enough data


def test_default_reference_is_the_largest_group_with_sufficient_data() -> None:
    """The intersection's largest cell (2,000 rows, 4 events) was the reference while the other
    cells have 60-100 events; now the largest sufficient cell is, with a note."""
    rng = np.random.default_rng(8)
    cells = {("A", "X"): (2000, 4), ("A", "Y"): (500, 100), ("B", "X"): (400, 80),
             ("B", "Y"): (300, 60)}
    a, b, y = [], [], []
    for (ca, cb), (n, events) in cells.items():
        a += [ca] * n
        b += [cb] * n
        y += [True] * events + [False] * (n - events)
    yy = np.array(y)
    score = np.clip(0.2 * yy + rng.random(yy.size) * 0.5, 0, 1)
    attr_a = Attribute("a", np.array([("A", "B").index(v) for v in a], np.int32), ("A", "B"))
    attr_b = Attribute("b", np.array([("X", "Y").index(v) for v in b], np.int32), ("X", "Y"))
    res = evaluate(_inputs(yy, score, attr_a, attr_b),
                   EvaluationSpec(bootstrap=0, intersections=(("a", "b"),)))
    inter = next(k for k in res.references if k not in ("a", "b"))
    assert res.references["a"] == "A"  # the largest margin has enough data: unchanged
    assert "Y" in res.references[inter] and "A" in res.references[inter]
    assert any("has insufficient data for a reference" in note and inter in note
               for note in res.notes)


def test_the_apps_mapping_path_gives_the_same_outcome_note() -> None:
    """The app maps through prepare_input (gui/data/page.py): the note is in the provenance
    and so in the result's notes there too."""
    from assessment.evaluation.mapping import ColumnMapping, prepare_input

    frame = pd.DataFrame({"y": ["yes", "no", "maybe", "no"] * 50,
                          "p": np.linspace(0.05, 0.95, 200).round(3), "g": ["A", "B"] * 100})
    mapping = ColumnMapping(label="y", positive="yes", score="p", threshold=0.5,
                            attributes=["g"])
    inputs = prepare_input(frame, mapping)
    assert inputs.provenance.notes == (
        "outcome: 'y' has 3 values; with 'yes' as the event, 2 are counted as non-events: "
        "'maybe' (50 rows), 'no' (100 rows); if any of them is no outcome (e.g. unknown), add it "
        "to the missing values (--missing) so its rows are excluded instead.",
    )
