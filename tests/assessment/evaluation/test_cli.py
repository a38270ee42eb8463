"""``probity evaluate``: argument handling, output files, exit codes, one-line errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import main

REPO = Path(__file__).resolve().parents[3]
METRIC_IDS = {
    "auroc", "tpr", "fpr", "tnr", "fnr", "ppv", "npv", "selection_rate", "prevalence",
    "accuracy", "balanced_accuracy", "f1", "brier", "oe_ratio", "calibration_intercept",
    "calibration_slope",
}  # fmt: skip


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 synthetic patients: outcome yes/no, a probability, sex, race with '?' cells, age."""
    rng = np.random.default_rng(7)
    n = 400
    sex = rng.choice(["F", "M"], n)
    race = rng.choice(["Black", "White", "Asian", "?"], n, p=[0.3, 0.55, 0.1, 0.05])
    y = rng.random(n) < np.where(race == "Black", 0.45, 0.35)
    p = np.clip(0.35 + 0.3 * (y - 0.4) + rng.normal(0, 0.18, n), 0.001, 0.999).round(4)
    frame = pd.DataFrame(
        {
            "outcome": np.where(y, "yes", "no"),
            "prob": p.astype(object),
            "sex": sex,
            "race": race,
            "age": rng.integers(18, 95, n),
        }
    )
    frame.loc[3, "outcome"] = "?"
    frame.loc[5, "prob"] = ""
    path = tmp_path_factory.mktemp("cli") / "validation.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(autouse=True)
def no_faulthandler(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() enables faulthandler on sys.stderr, which pytest's capture has no fd for."""
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str) -> str:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("probity: error: ")
    assert "Traceback" not in err
    return lines[0]


def test_full_run_writes_json_and_csv(
    data_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    code, out, err = run(
        [
            "evaluate", str(data_csv), "--label", "outcome", "--score", "prob",
            "--group", "sex", "--group", "race", "--group", "age", "--bin", "age=40,65",
            "--intersect", "sex,race", "--reference", "race=White", "--bootstrap", "200",
            "--seed", "3", "--min-n", "20", "--json", str(out_json), "--csv", str(out_csv),
        ],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert err == ""
    assert "validation.csv" in out and "400 read, 398 used, 2 excluded" in out
    assert "race — reference: White" in out and "(missing)" in out and "[40, 65)" in out

    result = json.loads(out_json.read_text(encoding="utf-8"))
    prov = result["provenance"]
    assert prov["file_name"] == "validation.csv" and len(prov["sha256"]) == 64
    assert prov["rows_read"] == 400 and prov["rows_used"] == 398
    assert prov["excluded"] == {"missing outcome": 1, "missing score": 1}
    assert prov["mapping"]["bins"] == {"age": [40.0, 65.0]}
    assert result["spec"]["bootstrap"] == 200 and result["spec"]["seed"] == 3
    attributes = {g["attribute"] for g in result["groups"]}
    assert attributes == {"sex", "race", "age", "sex×race"}
    for g in result["groups"]:
        assert {"attribute", "group", "n", "n_pos", "n_neg", "flags", "metrics"} <= set(g)
        assert set(g["metrics"]) == METRIC_IDS
        for m in g["metrics"].values():
            assert {"value", "ci_low", "ci_high", "method", "reason"} <= set(m)
    assert {g["group"] for g in result["groups"] if g["attribute"] == "race"} == {
        "Asian", "Black", "White", "(missing)"
    }  # fmt: skip
    assert any(g["group"] == "F×White" for g in result["groups"])
    disp = result["disparities"]
    assert disp and all(
        {"attribute", "group", "reference", "metric", "difference", "ratio", "flagged"} <= set(d)
        for d in disp
    )
    assert {d["reference"] for d in disp if d["attribute"] == "race"} == {"White"}
    assert {"value", "ci_low", "ci_high"} <= set(disp[0]["difference"]) & set(disp[0]["ratio"])

    with out_csv.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["attribute"] == "(all)" and rows[0]["group"] == "All"
    assert len(rows) == (1 + len(result["groups"])) * len(METRIC_IDS)
    black_fpr = next(r for r in rows if r["group"] == "Black" and r["metric"] == "fpr")
    assert black_fpr["reference"] == "White"
    assert float(black_fpr["value"]) == pytest.approx(
        next(g for g in result["groups"] if g["group"] == "Black")["metrics"]["fpr"]["value"]
    )


def test_prediction_column_and_quiet(
    tmp_path: Path, data_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.read_csv(data_csv, keep_default_na=False)
    frame["flag"] = np.where(pd.to_numeric(frame["prob"], errors="coerce") >= 0.4, "high", "low")
    path = tmp_path / "pred.tsv"
    frame.to_csv(path, sep="\t", index=False)
    out_json = tmp_path / "p.json"
    code, out, err = run(
        [
            "evaluate", str(path), "--label", "outcome", "--positive", "yes",
            "--prediction", "flag", "--prediction-positive", "high", "--group", "sex",
            "--bootstrap", "0", "--json", str(out_json), "--quiet",
        ],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert out == ""
    result = json.loads(out_json.read_text(encoding="utf-8"))
    assert result["provenance"]["excluded"] == {"missing outcome": 1}
    assert result["overall"]["metrics"]["auroc"]["value"] is None


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--label", "race", "--score", "prob"], "3 values ('White', 'Black', 'Asian')"),
        (["--label", "outcome", "--score", "prb"], "did you mean 'prob'"),
        (["--label", "outcome", "--score", "age"], "400 values are outside"),
        (["--label", "outcome", "--score", "sex"], "not numeric"),
        (["--label", "outcome", "--score", "prob", "--reference", "race=Martian"], "'Martian'"),
        (["--label", "outcome", "--score", "prob", "--reference", "race"], "COL=VALUE"),
        (["--label", "outcome", "--score", "prob", "--bin", "race=a,b"], "Bin edges"),
        (["--label", "outcome", "--score", "prob", "--bin", "age=40"], "not a --group"),
        (["--label", "outcome", "--score", "prob", "--intersect", "race"], "2 or 3"),
        (["--label", "outcome", "--score", "prob", "--score-kind", "score"], "threshold"),
        (["--label", "outcome", "--score", "prob", "--bootstrap", "-5"], "Bootstrap"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    data_csv: Path, extra: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate", str(data_csv), "--group", "race", *extra]
    code, out, err = run(argv, capsys)
    line = one_line_error(code, err)
    assert expected in line
    assert out == ""


def test_bad_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    header = tmp_path / "header.csv"
    header.write_text("y,p,sex\n", encoding="utf-8")
    binary = tmp_path / "blob.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    book = tmp_path / "book.xlsx"
    pd.DataFrame({"y": [1, 0], "p": [0.2, 0.3], "sex": ["F", "M"]}).to_excel(book, index=False)
    cases = [
        ([str(tmp_path / "missing.csv")], "File not found"),
        ([str(empty)], "is empty"),
        ([str(header)], "no data rows"),
        ([str(binary)], "binary file"),
        ([str(book), "--sheet", "Nope"], "no sheet named 'Nope'"),
    ]
    for args, expected in cases:
        argv = ["evaluate", *args, "--label", "y", "--score", "p", "--group", "sex"]
        code, _, err = run(argv, capsys)
        assert expected in one_line_error(code, err)


def test_unwritable_output_is_a_one_line_error(
    data_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no" / "such" / "folder" / "r.json"
    argv = [
        "evaluate", str(data_csv), "--label", "outcome", "--score", "prob", "--group", "sex",
        "--bootstrap", "0", "--json", str(target),
    ]  # fmt: skip
    code, _, err = run(argv, capsys)
    assert "does not exist" in one_line_error(code, err)


def test_argparse_errors_exit_2(data_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main.main(["evaluate", str(data_csv), "--score", "prob", "--group", "sex"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main.main(
            ["evaluate", str(data_csv), "--label", "outcome", "--score", "prob",
             "--prediction", "x", "--group", "sex"]
        )  # fmt: skip
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_subprocess_exit_code_and_message(data_csv: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "main.py", "evaluate", str(data_csv), "--label", "race",
         "--score", "prob", "--group", "sex"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("probity: error: The outcome column 'race' has 3 values")


def test_cli_module_is_cheap_to_import() -> None:
    code = (
        "import sys, assessment.evaluation.cli; "
        "heavy = [m for m in ('pandas', 'numpy', 'scipy', 'sklearn', 'pyarrow') "
        "if m in sys.modules]; print(heavy)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]"


def test_population_and_training_for_representativeness(
    data_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    population = tmp_path / "population.csv"
    population.write_text(
        "attribute,group,proportion\nrace,Black,30%\nrace,White,50%\nrace,Asian,20%\n",
        encoding="utf-8",
    )
    training = tmp_path / "training.csv"
    training.write_text("attribute,group,count\nsex,F,900\nsex,M,100\n", encoding="utf-8")
    out_json = tmp_path / "rep.json"
    code, out, err = run(
        [
            "evaluate", str(data_csv), "--label", "outcome", "--score", "prob",
            "--group", "race", "--group", "sex", "--bootstrap", "0",
            "--population", str(population), "--training", str(training),
            "--json", str(out_json),
        ],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out_json.read_text(encoding="utf-8"))
    assert result["spec"]["reference_population"]["race"] == {
        "Black": 30.0, "White": 50.0, "Asian": 20.0
    }  # fmt: skip
    assert result["spec"]["training_demographics"]["sex"] == {"F": 900.0, "M": 100.0}
    rows = {(r["attribute"], r["group"]): r for r in result["representativeness"]}
    assert rows["sex", "M"]["flag"] == "over_represented"
    assert rows["sex", "F"]["flag"] == "under_represented"
    assert rows["race", "White"]["reference_share"] == pytest.approx(0.5)
    assert "Representativeness:" in out and "sex: M: over represented" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("attribute,group\nrace,Black\n", "needs a header row"),
        ("attribute,group,proportion\nrace,Black,many\n", "row 2"),
        ("attribute,group,proportion\nrace,Black,0.5\nrace,Black,0.5\n", "appears twice"),
        ("attribute,group,proportion\nrace,Black,0.5\nrace,White,0.2\n", "add up to 0.7"),
    ],
)
def test_bad_population_file(
    data_csv: Path, tmp_path: Path, text: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    population = tmp_path / "population.csv"
    population.write_text(text, encoding="utf-8")
    argv = [
        "evaluate", str(data_csv), "--label", "outcome", "--score", "prob", "--group", "race",
        "--bootstrap", "0", "--population", str(population),
    ]  # fmt: skip
    code, _, err = run(argv, capsys)
    assert expected in one_line_error(code, err)
