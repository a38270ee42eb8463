"""The compare subcommand end to end: the probity-comparison/1 shape, the join diagnostics,
and one clear sentence (exit code 2, no traceback) for every hostile input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import main
from assessment.compare.sources import ModelSource, parse_model
from assessment.errors import DataError
from tests.assessment.compare.conftest import run_main


def _frame(n: int = 600, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x - 1)))).astype(int)
    return pd.DataFrame({
        "id": [f"p{i:05d}" for i in range(n)],
        "y": y,
        "race": rng.choice(["White", "Black", "Asian"], n, p=[0.6, 0.3, 0.1]),
        "sex": rng.choice(["F", "M"], n),
        "pa": np.round(1 / (1 + np.exp(-(x + rng.normal(size=n) - 1))), 3),
        "pb": np.round(1 / (1 + np.exp(-(0.5 * x + rng.normal(size=n) - 1))), 3),
        "raw": np.round(10 * x + rng.normal(size=n), 1),
        "cls": np.where(x > 0.5, "high", "low"),
    })


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    path = tmp_path / "val.csv"
    _frame().to_csv(path, index=False)
    return path


def test_json_has_the_specified_shape(data: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    vendor = tmp_path / "vendor_c.csv"
    f = _frame()
    f[["id"]].assign(risk=f["pb"]).iloc[::-1].iloc[:590].to_csv(vendor, index=False)
    out = tmp_path / "cmp.json"
    code, text, err = run_main([
        "compare", str(data), "--label", "y", "--model", "Vendor A=pa", "--model",
        "Vendor B=pb", "--model", f"Vendor C={vendor}:risk", "--model", "Raw=raw",
        "--kind", "Raw=score", "--threshold", "Raw=2", "--model", "Class=cls",
        "--kind", "Class=class", "--prediction-positive", "Class=high", "--key", "id",
        "--group", "race", "--group", "sex", "--intersect", "race,sex", "--bootstrap", "200",
        "--capacity", "10/100", "--json", str(out),
    ], capsys)
    assert code == 0, err
    doc = json.loads(out.read_text())
    assert doc["format"] == "probity-comparison/1"
    assert [m["name"] for m in doc["models"]] == ["Vendor A", "Vendor B", "Vendor C", "Raw",
                                                  "Class"]
    for m in doc["models"]:
        assert m["result"]["overall"]["n"] == 590  # evaluate's own JSON, same rows for all
        assert {g["attribute"] for g in m["result"]["groups"]} == {"race", "sex", "race×sex"}
    e = doc["paired"][0]
    assert set(e) >= {"metric", "attribute", "group", "model_a", "model_b", "difference"}
    assert set(e["difference"]) >= {"value", "ci_low", "ci_high", "method", "p_value"}
    metrics = {p["metric"] for p in doc["paired"]}
    assert metrics == {"auroc", "tpr", "fpr", "brier", "calibration_in_the_large", "ppv",
                       "net_benefit"}
    # no AUROC or Brier difference for the class model, no Brier for the raw score: each such
    # pair has an entry saying why (null value, interval and p), in every group
    def lacking(metric: str, name: str) -> list[dict[str, object]]:
        return [p for p in doc["paired"]
                if p["metric"] == metric and name in (p["model_a"], p["model_b"])]

    for metric, name, said in (("auroc", "Class", "Class gives a predicted class"),
                               ("brier", "Raw", "Raw gives a raw score, not a probability"),
                               ("calibration_in_the_large", "Class", "Class gives")):
        entries = lacking(metric, name)
        assert len(entries) == 4 * (1 + 3 + 2 + 6)  # 4 partners × (all + race + sex + race×sex)
        for p in entries:
            d = p["difference"]
            assert d["method"] == "not applicable" and said in d["reason"]
            assert d["value"] is None and d["ci_low"] is None and d["p_value"] is None
            assert d["p_adjusted"] is None and p["estimate_a"] is None
    assert "Not ranked on AUROC: Class (a predicted class has no AUROC)." in doc["summary"][0]
    overall_nb = [c for c in doc["net_benefit"] if c["attribute"] is None]
    assert {c["model"] for c in overall_nb} == {"Vendor A", "Vendor B", "Vendor C", "Raw",
                                                "Class", "treat all", "treat none"}
    assert all(c["group"] is None for c in overall_nb)
    assert len(overall_nb[0]["thresholds"]) == len(overall_nb[0]["values"]) == 99
    join = {j["file"]: j for j in doc["join"]}
    assert join["vendor_c.csv"] == {"file": "vendor_c.csv", "role": "model",
                                    "models": ["Vendor C"], "rows": 590, "matched": 590,
                                    "unmatched": 0, "duplicate_keys": 0, "missing_keys": 0}
    assert join["val.csv"]["matched"] == 590 and join["val.csv"]["unmatched"] == 10
    assert doc["data"]["excluded"] == {"no usable prediction from Vendor C": 10}
    assert doc["capacity"]["share"] == 0.1 and "Class" in doc["capacity"]["not_applicable"]
    assert doc["summary"] and "Ranked" in text
    # Vendor B and Vendor C are the same predictions: their paired difference is exactly 0
    bc = [p for p in doc["paired"] if {p["model_a"], p["model_b"]} == {"Vendor B", "Vendor C"}
          and p["attribute"] is None and p["metric"] == "auroc"]
    assert bc[0]["difference"]["value"] == 0


def test_incumbent_compares_every_model_with_it_only(
    data: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "o.json"
    code, _o, err = run_main(["compare", str(data), "--label", "y", "--model", "A=pa", "--model",
                          "B=pb", "--model", "C=raw", "--kind", "C=score", "--threshold", "C=0",
                          "--group", "race", "--incumbent", "A", "--bootstrap", "0",
                          "--json", str(out), "--quiet"], capsys)
    assert code == 0, err
    doc = json.loads(out.read_text())
    assert {(p["model_a"], p["model_b"]) for p in doc["paired"]} == {("B", "A"), ("C", "A")}
    adj = [p["difference"]["p_adjusted"] for p in doc["paired"]
           if p["metric"] == "auroc" and p["attribute"] is None]
    raw = [p["difference"]["p_value"] for p in doc["paired"]
           if p["metric"] == "auroc" and p["attribute"] is None]
    assert all(a >= r for a, r in zip(adj, raw, strict=True))  # Holm across the pairs
    # an order between two challengers was never tested: the summary says so
    for sentence in doc["summary"]:
        head = sentence.split(": ", 1)[1].split(". ")[0]  # the stated order
        if "B" in head and "C" in head and head.index("B") < head.index("C") < head.index("A"):
            assert "B vs C: not compared" in sentence, sentence
        if "C" in head and "B" in head and head.index("C") < head.index("B") < head.index("A"):
            assert "C vs B: not compared" in sentence, sentence


@pytest.mark.parametrize(
    ("edit", "args", "message"),
    [
        ("dup_vendor", ["--model", "B=VENDOR:risk", "--key", "id"], "occur more than once"),
        ("dup_data", ["--model", "B=pb", "--key", "id"], "occur more than once"),
        ("none", ["--model", "B=VENDOR:risk"], "--key"),
        ("none", ["--model", "B=VENDOR:risk", "--key", "nope"], "no key column 'nope'"),
        ("nomatch", ["--model", "B=VENDOR:risk", "--key", "id"], "No row of vendor.csv matches"),
        ("none", ["--model", "B=VENDOR:nocol", "--key", "id"], "has no column 'nocol'"),
        ("none", ["--model", "A=pb"], "Two models are named 'A'"),
        ("none", ["--model", "treat all=pb"], "reference strategy"),
        ("none", ["--model", "B=raw", "--kind", "B=score"], "operating point"),
        ("none", ["--model", "B=pb", "--threshold", "Z=0.3"], "no model is named 'Z'"),
        ("none", ["--model", "B=pb", "--incumbent", "Q"], "--incumbent 'Q'"),
        ("none", ["--model", "B=pb", "--capacity", "ten"], "--capacity takes K/N"),
        ("none", ["--model", "B=pb", "--nb-range", "0,1,0.1"], "0 < start"),
        ("empty_b", ["--model", "B=pb"], "usable prediction from every model"),
        ("none", ["--model", "B=pb", "--plan", "plan.json"], "--plan"),
        ("none", ["--model", "B=pb", "--assessment", "A=nope.probity"], "does not exist"),
        ("none", ["--model", "B=pb", "--assessment", "A=VENDOR"], "is not a Probity assessment"),
        ("none", ["--model", "B=pb", "--json", "VENDOR"], None),
    ],
)
def test_hostile_inputs_give_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: str, args: list[str],
    message: str,
) -> None:
    f = _frame(200)
    vendor = f[["id"]].assign(risk=f["pb"])
    if edit == "dup_vendor":
        vendor = pd.concat([vendor, vendor.iloc[:3]])
    if edit == "dup_data":
        f.loc[5, "id"] = f.loc[4, "id"]
    if edit == "nomatch":
        vendor["id"] = "x" + vendor["id"]
    if edit == "empty_b":
        f["pb"] = ""
    data = tmp_path / "val.csv"
    f.to_csv(data, index=False)
    vpath = tmp_path / "vendor.csv"
    vendor.to_csv(vpath, index=False)
    args = [a.replace("VENDOR", str(vpath)) for a in args]
    if message is None:  # an output naming an input file
        args = [str(data) if a == str(vpath) else a for a in args]
        message = "would destroy the input"
    code, _out, err = run_main(["compare", str(data), "--label", "y", "--model", "A=pa",
                            "--group", "race", "--bootstrap", "0", *args], capsys)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_one_model_is_refused(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _o, err = run_main(["compare", str(data), "--label", "y", "--model", "A=pa",
                          "--group", "race"], capsys)
    assert code == 2 and "at least two models" in err


def test_parse_model_forms() -> None:
    assert parse_model("Vendor A=score_a") == ("Vendor A", "score_a", None)
    assert parse_model("B=runs/b.csv:risk") == ("B", "risk", "runs/b.csv")
    assert parse_model("C=time:of:day") == ("C", "time:of:day", None)
    with pytest.raises(DataError, match="NAME=COLUMN"):
        parse_model("no equals")
    assert ModelSource("A", "c").to_json()["kind"] == "probability"


def test_cluster_gives_each_model_cluster_robust_intervals_and_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = _frame(400)
    f["patient"] = [f"q{i // 2}" for i in range(400)]
    data = tmp_path / "val.csv"
    f.to_csv(data, index=False)
    out = tmp_path / "o.json"
    assert main.main(["compare", str(data), "--label", "y", "--model", "A=pa", "--model",
                      "B=pb", "--group", "race", "--cluster", "patient", "--bootstrap", "200",
                      "--json", str(out), "--quiet"]) == 0
    doc = json.loads(out.read_text())
    assert any("clustered" in n for n in doc["notes"])
    assert all(m["result"]["provenance"]["mapping"]["cluster"] == "patient"
               for m in doc["models"])


def test_join_counts_unknown_and_missing_keys(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    f = _frame(300)
    data = tmp_path / "val.csv"
    f.iloc[:290].to_csv(data, index=False)  # 10 of the vendor's patients are not in DATA
    vendor = f[["id"]].assign(risk=f["pb"])
    vendor = pd.concat([vendor, pd.DataFrame({"id": ["", "NA"], "risk": [0.1, 0.2]})])
    vpath = tmp_path / "vendor.csv"
    vendor.to_csv(vpath, index=False)
    out = tmp_path / "o.json"
    assert main.main(["compare", str(data), "--label", "y", "--model", "A=pa", "--model",
                      f"B={vpath}:risk", "--key", "id", "--group", "race", "--bootstrap", "0",
                      "--json", str(out), "--quiet"]) == 0, capsys.readouterr().err
    join = {j["file"]: j for j in json.loads(out.read_text())["join"]}
    assert join["vendor.csv"]["rows"] == 302
    assert join["vendor.csv"]["matched"] == 290
    assert join["vendor.csv"]["unmatched"] == 12 and join["vendor.csv"]["missing_keys"] == 2
    assert join["val.csv"]["matched"] == 290 and join["val.csv"]["unmatched"] == 0


def test_vendor_file_with_decimal_commas(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    f = _frame(300)
    data = tmp_path / "val.csv"
    f.to_csv(data, index=False)
    vpath = tmp_path / "vendor.csv"
    lines = ["id;risk"] + [f"{i};{str(p).replace('.', ',')}" for i, p in zip(f["id"], f["pb"],
                                                                            strict=True)]
    vpath.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o.json"
    assert main.main(["compare", str(data), "--label", "y", "--model", "A=pa", "--model",
                      f"B={vpath}:risk", "--model", "C=pb", "--key", "id", "--group", "race",
                      "--bootstrap", "0", "--json", str(out), "--quiet"]) == 0, \
        capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert doc["data"]["rows_compared"] == 300
    bc = [p for p in doc["paired"] if {p["model_a"], p["model_b"]} == {"B", "C"}
          and p["metric"] == "auroc" and p["attribute"] is None]
    assert bc[0]["difference"]["value"] == 0  # "0,123" read as 0.123: the same predictions


def test_dossier_json_never_holds_nan() -> None:
    from assessment.compare.cli import dossier_bytes

    doc = {"a": float("nan"), "b": [1.0, float("inf"), {"c": -float("inf")}], "d": "x"}
    assert json.loads(dossier_bytes(doc)) == {"a": None, "b": [1.0, None, {"c": None}],
                                              "d": "x"}


def test_an_intersection_over_the_cell_limit_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "val.csv"
    _frame(400).to_csv(data, index=False)
    argv = ["compare", str(data), "--label", "y", "--model", "A=pa", "--model", "B=pb",
            "--group", "race", "--group", "sex", "--intersect", "race,sex", "--bootstrap", "0",
            "--quiet"]
    assert main.main([*argv, "--max-group-cells", "4"]) != 0
    err = capsys.readouterr().err.strip()
    assert "'race' x 'sex' has 6 groups, over the limit of 4" in err and "\n" not in err
    assert "--max-group-cells" in err and "Traceback" not in err
    assert main.main([*argv, "--json", str(tmp_path / "o.json")]) == 0
