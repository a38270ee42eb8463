"""``probity evaluate --group-map FILE.csv --population us-census-2020``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import main
from assessment.populations import load_population


@pytest.fixture(autouse=True)
def no_faulthandler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)


@pytest.fixture
def data_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(11)
    n = 500
    race = rng.choice(["Caucasian", "African-American", "Asian"], n, p=[0.6, 0.3, 0.1])
    y = (rng.random(n) < 0.3).astype(int)
    p = np.clip(0.3 * y + rng.normal(0.35, 0.15, n), 0.001, 0.999).round(4)
    path = tmp_path / "validation.csv"
    pd.DataFrame({"y": y, "p": p, "race": race}).to_csv(path, index=False)
    return path


def test_group_map_and_bundled_population(data_csv: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    gm = tmp_path / "map.csv"
    gm.write_text("attribute,data_value,category\nrace,Caucasian,White\n"
                  "race,African-American,Black or African American\n", encoding="utf-8")
    out = tmp_path / "r.json"
    code = main.main(["evaluate", str(data_csv), "--label", "y", "--score", "p", "--group",
                      "race", "--bootstrap", "0", "--population", "us-census-2020",
                      "--group-map", str(gm), "--json", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["spec"]["group_map"] == {"race": {"Caucasian": "White",
                                                    "African-American":
                                                        "Black or African American"}}
    rows = {r["group"]: r for r in result["representativeness"]}
    census = load_population("us-census-2020").shares()["race"]
    frame = pd.read_csv(data_csv)
    assert rows["White"]["validation_n"] == int((frame["race"] == "Caucasian").sum())
    assert rows["White"]["reference_share"] == pytest.approx(census["White"])
    assert rows["Asian"]["reference_share"] == pytest.approx(census["Asian"])
    assert "Caucasian" not in rows


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--population", "us-census-1890"], "us-census-1890"),
        (["--group-map", "missing.csv"], "missing.csv"),
    ],
)
def test_bad_options_give_one_line(data_csv: Path, tmp_path: Path, args: list[str],
                                   message: str, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = main.main(["evaluate", str(data_csv), "--label", "y", "--score", "p", "--group",
                      "race", "--bootstrap", "0", *args])
    err = capsys.readouterr().err
    assert code != 0 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_group_map_row_with_an_unknown_category_is_refused(
        data_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A row mapping to a category the datasheet/population lacks names the row, the value and
    the known categories (it was silently unmapped, the note blaming the data value)."""
    gm = tmp_path / "map.csv"
    gm.write_text("attribute,data_value,category\nrace,Caucasian,Martian\n"
                  "race,African-American,Black or African American\n", encoding="utf-8")
    code = main.main(["evaluate", str(data_csv), "--label", "y", "--score", "p", "--group",
                      "race", "--bootstrap", "0", "--population", "us-census-2020",
                      "--group-map", str(gm), "--json", str(tmp_path / "r.json"), "--quiet"])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert ("--group-map: the map row race,Caucasian,Martian names 'Martian', which is not a "
            "datasheet category of race (its categories: ") in err
    assert "White" in err and "choose one of them or remove the row" in err
    assert not (tmp_path / "r.json").exists()


def test_stored_map_row_with_an_unknown_category_is_named_in_the_notes() -> None:
    """A document's map (no CSV) is not refused, but the note names the map row, not the data."""
    from assessment.evaluation.mapping import ColumnMapping, prepare_input
    from assessment.evaluation.representativeness import representativeness
    from assessment.evaluation.spec import EvaluationSpec

    frame = pd.DataFrame({"y": [0, 1] * 20, "p": [i / 40 for i in range(40)],
                          "race": ["Caucasian", "Asian"] * 20})
    mapping = ColumnMapping(label="y", score="p", threshold=0.5, attributes=["race"])
    spec = EvaluationSpec(bootstrap=0, training_demographics={"race": {"White": 5, "Asian": 5}},
                          group_map={"race": {"Caucasian": "Martian"}})
    _, notes = representativeness(prepare_input(frame, mapping), spec)
    assert any("the map row race,Caucasian,Martian names 'Martian', which is not a datasheet "
               "category of race (its categories: White, Asian)" in n for n in notes), notes
    assert not any("Caucasian match no datasheet category" in n for n in notes), notes
