"""``evaluate --plan``: exit codes 0/1/3/2, options from the plan, deviations, JSON gates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import main
from assessment.evaluation.result import EvaluationResult
from assessment.plan.model import SCHEMA


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(11)
    n = 1500
    sex = rng.choice(["F", "M"], n)
    y = rng.random(n) < 0.4
    p = np.clip(0.4 + 0.35 * (y - 0.4) + rng.normal(0, 0.15, n), 0.001, 0.999).round(4)
    frame = pd.DataFrame({"y": y.astype(int), "p": p, "sex": sex})
    path = tmp_path_factory.mktemp("plan") / "validation.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(autouse=True)
def no_faulthandler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)


def write_plan(tmp_path: Path, gates: list[dict[str, Any]], **top: Any) -> Path:
    plan = {
        "schema": SCHEMA,
        "title": "Release check",
        "outcome": "y",
        "score": "p",
        "threshold": 0.5,
        "attributes": ["sex"],
        "references": {"sex": "M"},
        "gates": gates,
        **top,
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def tpr_gate(bound: float, **extra: Any) -> dict[str, Any]:
    return {"id": "G1", "metric": "tpr", "groups": "overall", "criterion": {"at_least": bound},
            **extra}  # fmt: skip


def observed_tpr(data_csv: Path) -> float:
    f = pd.read_csv(data_csv)
    return float(((f.p >= 0.5) & (f.y == 1)).sum() / (f.y == 1).sum())


def test_exit_codes_pass_fail_insufficient(
    data_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tpr = observed_tpr(data_csv)
    common = ["evaluate", str(data_csv), "--bootstrap", "0", "--plan"]
    for bound, code_expected, word in (
        (tpr - 0.2, 0, "PASS"),
        (min(tpr + 0.2, 0.999), 1, "FAIL"),
        (tpr, 3, "INSUFFICIENT EVIDENCE"),
    ):
        plan = write_plan(tmp_path, [tpr_gate(bound)])
        out_json = tmp_path / f"r{code_expected}.json"
        code, out, err = run([*common, str(plan), "--json", str(out_json)], capsys)
        assert code == code_expected, (out, err)
        assert f"Verdict: {word}" in out
        data = json.loads(out_json.read_text(encoding="utf-8"))
        assert data["verdict"] == {0: "pass", 1: "fail", 3: "insufficient"}[code]
        (gate,) = data["gates"]
        assert gate["gate"] == "G1" and gate["level"] == pytest.approx(0.95)  # k = 1
        assert gate["value"] == pytest.approx(tpr)
        assert data["plan"]["sha256"] and data["plan"]["deviations"] == []
        back = EvaluationResult.from_json(data)
        assert back.verdict == data["verdict"] and back.to_json()["gates"] == data["gates"]


def test_interval_level_is_the_bonferroni_level_and_wider_than_95(
    data_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gates = [
        tpr_gate(0.1),
        {"id": "G2", "metric": "fpr", "attribute": "sex", "versus": "reference",
         "criterion": {"ratio_between": [0.5, 2.0]}},
        {"id": "G3", "metric": "auroc", "attribute": "sex", "groups": ["F", "M"],
         "criterion": {"at_least": 0.6}},
    ]  # fmt: skip
    plan = write_plan(tmp_path, gates)
    out_json = tmp_path / "r.json"
    code, out, _ = run(
        ["evaluate", str(data_csv), "--bootstrap", "0", "--plan", str(plan), "--json",
         str(out_json), "--quiet"], capsys
    )  # fmt: skip
    assert out == ""
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert [g["group"] for g in data["gates"]] == ["All", "F", "F", "M"]  # M is the reference
    assert [g["level"] for g in data["gates"]] == [pytest.approx(1 - 0.05 / 4)] * 4
    # the displayed result keeps 95% intervals; the gate's interval is the wider one
    auroc_f = next(g for g in data["groups"] if g["group"] == "F")["metrics"]["auroc"]
    gate_f = next(g for g in data["gates"] if g["gate"] == "G3" and g["group"] == "F")
    assert gate_f["ci_low"] < auroc_f["ci_low"] and gate_f["ci_high"] > auroc_f["ci_high"]
    assert code == {"pass": 0, "fail": 1, "insufficient": 3}[data["verdict"]]


def test_command_line_overrides_are_deviations(
    data_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = write_plan(tmp_path, [tpr_gate(0.1)], min_group_size=50)
    out_json = tmp_path / "r.json"
    code, out, _ = run(
        ["evaluate", str(data_csv), "--bootstrap", "0", "--plan", str(plan), "--threshold",
         "0.4", "--group", "sex", "--json", str(out_json)], capsys
    )  # fmt: skip
    assert code == 0
    data = json.loads(out_json.read_text(encoding="utf-8"))
    devs = data["plan"]["deviations"]
    assert len(devs) == 1 and devs[0].startswith("--threshold: the plan says 0.5, the run used 0.4")
    assert data["spec"]["threshold"] == 0.4  # the command line wins
    assert data["spec"]["min_n"] == 50  # from the plan
    assert "Deviation: --threshold" in out


def test_bad_input_exits_2_with_one_line(
    data_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_plan(tmp_path, [{"id": "G1", "metric": "tpr", "groups": "overall",
                                 "criterion": {"at_least": "high"}}])  # fmt: skip
    code, out, err = run(["evaluate", str(data_csv), "--plan", str(bad)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert "$.gates[0].criterion.at_least" in err
    code, _, err = run(["evaluate", str(data_csv), "--plan", str(tmp_path / "none.json")], capsys)
    assert code == 2 and err.count("\n") == 1
    empty = write_plan(tmp_path, [])
    code, _, err = run(["evaluate", str(data_csv), "--plan", str(empty), "--bootstrap", "0"],
                       capsys)  # fmt: skip
    assert code == 2 and "no gates" in err
    # without --plan, a missing required option is still argparse's usage error
    with pytest.raises(SystemExit) as exc:
        main.main(["evaluate", str(data_csv), "--score", "p", "--group", "sex"])
    assert exc.value.code == 2
    assert "--label" in capsys.readouterr().err


def test_too_few_bootstrap_replicates_for_the_level_is_insufficient(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A percentile bootstrap limit at 99.9% from B = 200 depends on the seed: no verdict."""
    rng = np.random.default_rng(5)
    n = 300  # groups under 500 rows keep the percentile bootstrap
    y = rng.random(n) < 0.4
    p = np.clip(0.4 + 0.35 * (y - 0.4) + rng.normal(0, 0.15, n), 0.001, 0.999).round(4)
    data = tmp_path / "small.csv"
    pd.DataFrame({"y": y.astype(int), "p": p, "sex": rng.choice(["F", "M"], n)}).to_csv(
        data, index=False
    )
    # O/E's interval is the percentile bootstrap here (F1's is analytic since Wilson-Jaccard)
    gate = {"id": "G1", "metric": "oe_ratio", "groups": "overall", "criterion": {"at_least": 0.01}}
    plan = write_plan(tmp_path, [gate], alpha=0.001)
    out_json = tmp_path / "r.json"
    code, out, _ = run(["evaluate", str(data), "--plan", str(plan), "--bootstrap", "200",
                        "--json", str(out_json)], capsys)  # fmt: skip
    (check,) = json.loads(out_json.read_text(encoding="utf-8"))["gates"]
    assert check["verdict"] == "insufficient" and code == 3
    assert "--bootstrap 20000" in check["reason"] and "seed" in check["reason"]


def test_options_the_plan_does_not_fix_are_stated(
    data_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = write_plan(tmp_path, [tpr_gate(0.1)], threshold=None)
    out_json = tmp_path / "r.json"
    code, out, _ = run(
        ["evaluate", str(data_csv), "--bootstrap", "0", "--seed", "7", "--plan", str(plan),
         "--threshold", "0.4", "--positive", "1", "--json", str(out_json)], capsys
    )  # fmt: skip
    assert code == 0
    record = json.loads(out_json.read_text(encoding="utf-8"))["plan"]
    assert record["deviations"] == []
    for stated in ("--threshold 0.4", "--positive 1", "--seed 7", "--bootstrap 0"):
        assert any(n.startswith(stated) for n in record["not_fixed"]), record["not_fixed"]
    assert "Not fixed by the plan: " in out and "--seed 7" in out
