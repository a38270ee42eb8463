"""``plan check``: the sizes reader against hostile files, sizes from data without outcomes, the
command's output and exit codes, and the power function at its boundaries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import main
from assessment.plan.model import SCHEMA, Plan, PlanError
from assessment.plan.power import GroupSize, plan_power
from assessment.plan.sizes import MAX_SIZES_BYTES, read_sizes, sizes_from_frame

PLAN = {
    "schema": SCHEMA,
    "title": "Power",
    "outcome": "y",
    "score": "p",
    "attributes": ["race"],
    "references": {"race": "White"},
    "min_group_size": 100,
    "gates": [
        {"id": "G1", "metric": "tpr", "attribute": "race", "criterion": {"at_least": 0.6},
         "assume": 0.75},
        {"id": "G2", "metric": "fpr", "attribute": "race", "versus": "reference",
         "criterion": {"ratio_between": [0.8, 1.25]}, "assume": 1.0, "assume_reference": 0.2},
        {"id": "G3", "metric": "ppv", "groups": "overall", "criterion": {"at_least": 0.3}},
    ],
}  # fmt: skip


@pytest.fixture(autouse=True)
def no_faulthandler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)


def test_hostile_sizes_files(tmp_path: Path) -> None:
    cases = {
        "header.csv": (b"a,b,c,d\nrace,White,10,2\n", "header"),
        "neg.csv": (b"attribute,group,n,events\nrace,White,-5,0\n", "0 <= events <= n"),
        "over.csv": (b"attribute,group,n,events\nrace,White,5,9\n", "0 <= events <= n"),
        "text.csv": (b"attribute,group,n,events\nrace,White,many,2\n", "whole number"),
        "dup.csv": (b"attribute,group,n,events\nrace,W,5,1\nrace,W,6,1\n", "twice"),
        "short.csv": (b"attribute,group,n,events\nrace,W,5\n", "fewer than 4"),
        "binary.csv": (bytes(range(256)) * 3, "UTF-8"),
        "empty.csv": (b"", "empty"),
        "huge.csv": (b"x" * (MAX_SIZES_BYTES + 1), "sizes file"),
    }
    for name, (raw, says) in cases.items():
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(PlanError) as exc:
            read_sizes(path)
        assert says in exc.value.message, (name, exc.value.message)
        assert "\n" not in exc.value.message


def test_sizes_file_and_overall_row(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("attribute,group,n,events\nrace,White,900,300\nrace,Black,300,90\n",
                    encoding="utf-8")  # fmt: skip
    sizes = read_sizes(path)
    assert sizes[("(all)", "All")].n == 1200 and sizes[("(all)", "All")].events == 390


def test_sizes_from_data_never_read_the_outcome() -> None:
    rng = np.random.default_rng(1)
    p = rng.beta(1, 3, 500)
    frame = pd.DataFrame({"p": p, "race": rng.choice(["White", "Black"], 500),
                          "y": ["not a number"] * 500})  # fmt: skip
    sizes = sizes_from_frame(Plan.from_json(PLAN), frame)
    white = frame.race == "White"
    assert sizes[("race", "White")].n == int(white.sum())
    assert sizes[("race", "White")].events == pytest.approx(p[white.to_numpy()].sum())
    assert sizes[("(all)", "All")].lp is not None
    with pytest.raises(PlanError, match="no column 'race'"):
        sizes_from_frame(Plan.from_json(PLAN), frame.drop(columns="race"))
    prediction_plan = Plan.from_json({**PLAN, "score": None, "prediction": "cls",
                                      "gates": PLAN["gates"][:2]})  # fmt: skip
    with pytest.raises(PlanError, match="--sizes"):
        sizes_from_frame(prediction_plan, frame)


def test_power_at_the_bound_is_the_one_sided_error_and_grows_with_the_margin() -> None:
    plan = Plan.from_json({**PLAN, "gates": PLAN["gates"][:1]})
    sizes = {("race", "White"): GroupSize(2000, 800), ("race", "Black"): GroupSize(2000, 800)}
    report = plan_power(plan, sizes)
    assert report.k == 2 and report.level == pytest.approx(1 - 0.05 / 2)
    from scipy.stats import norm

    from assessment.plan.power import model_for

    z = float(norm.ppf(0.5 + report.level / 2))
    model = model_for(plan.gates[0], z, sizes[("race", "White")], None, None)
    assert not isinstance(model, str)
    at_bound = model.power(0.6)
    assert at_bound == pytest.approx(0.05 / 4, abs=0.01)  # α/(2k)
    assert model.power(0.62) < model.power(0.65) < model.power(0.7)
    row = report.rows[0]
    assert row.needed.startswith("80% power when the true value is ≥ 0.6")
    assert not row.cannot_pass


def test_plan_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(PLAN), encoding="utf-8")
    sizes = tmp_path / "sizes.csv"
    sizes.write_text("attribute,group,n,events\nrace,White,3000,1000\nrace,Black,800,250\n"
                     "race,Asian,60,20\n", encoding="utf-8")  # fmt: skip
    out_json = tmp_path / "power.json"
    code = main.main(["plan", "check", str(plan), "--sizes", str(sizes), "--json", str(out_json)])
    out = capsys.readouterr().out
    assert code == 0
    assert "Cannot pass at these sizes:" in out and "G1 (Asian)" in out
    assert "power not computed: no analytic variance for ppv" in out
    rows = json.loads(out_json.read_text(encoding="utf-8"))["rows"]
    assert {r["gate"] for r in rows} == {"G1", "G2", "G3"}
    asian = next(r for r in rows if r["gate"] == "G1" and r["group"] == "Asian")
    assert asian["cannot_pass"] and "below min_n" in asian["reason"]
    code = main.main(["plan", "check", str(plan), "--sizes", str(tmp_path / "no.csv")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1


def test_plan_check_never_overwrites_its_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(PLAN), encoding="utf-8")
    sizes = tmp_path / "sizes.csv"
    sizes.write_text("attribute,group,n,events\nrace,White,3000,1000\n", encoding="utf-8")
    for target in (plan, sizes):
        before = target.read_bytes()
        code = main.main(["plan", "check", str(plan), "--sizes", str(sizes), "--json",
                          str(target)])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1
        assert target.read_bytes() == before


def test_a_closed_stdout_ends_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``probity plan check … | head -1``: no BrokenPipeError traceback, exit 141."""
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(PLAN), encoding="utf-8")
    sizes = tmp_path / "sizes.csv"
    sizes.write_text("attribute,group,n,events\nrace,White,3000,1000\n", encoding="utf-8")

    class Closed:
        def write(self, _text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("sys.stdout", Closed())
    code = main.main(["plan", "check", str(plan), "--sizes", str(sizes)])
    assert code == main.EXIT_PIPE_CLOSED
    assert "Traceback" not in capsys.readouterr().err


def test_reference_listed_versus_itself_is_skipped_alike_in_check_and_evaluate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One rule: the reference named in a ``versus: reference`` group list is skipped with a
    note, in ``plan check`` and ``evaluate`` alike, and both count the same checks; the 80%
    sentence speaks only of checks whose power was computed."""
    plan_d = {**PLAN, "gates": [
        {"id": "G1", "metric": "tpr", "attribute": "race", "groups": ["White", "Black"],
         "versus": "reference", "criterion": {"difference_between": [-0.5, 0.5]},
         "assume": 0.0, "assume_reference": 0.7},
        {"id": "G2", "metric": "ppv", "groups": "overall", "criterion": {"at_least": 0.05}},
    ], "min_group_size": 30}  # fmt: skip
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_d), encoding="utf-8")
    rng = np.random.default_rng(3)
    n = 2000
    y = rng.random(n) < 0.4
    p = np.clip(0.4 + 0.35 * (y - 0.4) + rng.normal(0, 0.15, n), 0.001, 0.999).round(4)
    data = tmp_path / "d.csv"
    pd.DataFrame({"y": y.astype(int), "p": p, "race": rng.choice(["White", "Black"], n)}).to_csv(
        data, index=False
    )
    sizes = tmp_path / "sizes.csv"
    sizes.write_text("attribute,group,n,events\nrace,White,1000,400\nrace,Black,1000,400\n",
                     encoding="utf-8")  # fmt: skip
    power_json = tmp_path / "power.json"
    assert main.main(["plan", "check", str(plan), "--sizes", str(sizes), "--json",
                      str(power_json)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "G1: race = White is the reference group" in out
    assert "Every check with power computed can reach 80% power" in out
    assert "Power not computed (no analytic variance): G2 (All)" in out
    checked = json.loads(power_json.read_text(encoding="utf-8"))["checks"]
    result = tmp_path / "r.json"
    main.main(["evaluate", str(data), "--plan", str(plan), "--bootstrap", "0", "--json",
               str(result)])  # fmt: skip
    out = capsys.readouterr().out
    judged = json.loads(result.read_text(encoding="utf-8"))
    assert judged["plan"]["checks"] == checked == 2
    assert [(g["gate"], g["group"]) for g in judged["gates"]] == [("G1", "Black"), ("G2", "All")]
    assert any("race = White is the reference group" in n for n in judged["plan"]["notes"])
    assert "White vs White" not in out
