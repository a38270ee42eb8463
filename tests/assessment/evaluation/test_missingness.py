"""Reference default, exclusions per group and reason, differential missingness (issue 9 §6),
and the p-values / multiplicity adjustments behind the flags, against statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from assessment.evaluation.engine import evaluate
from assessment.evaluation.mapping import ColumnMapping, prepare_input
from assessment.evaluation.multiplicity import adjust, bootstrap_p, katz_p, newcombe_p
from assessment.evaluation.result import EvaluationResult
from assessment.evaluation.spec import EvaluationSpec, ReferenceSpec


def _frame(seed: int = 3, n: int = 4000) -> pd.DataFrame:
    """'(missing)' is the largest race group; group A loses 30 % of its outcomes."""
    rng = np.random.default_rng(seed)
    race = rng.choice(["A", "B", None], n, p=[0.2, 0.25, 0.55])
    sex = rng.choice(["F", "M"], n)
    y = rng.random(n) < 0.3
    p = np.clip(0.25 + 0.35 * y + rng.normal(0, 0.15, n), 0.001, 0.999)
    outcome = np.where(y, "1", "0").astype(object)
    outcome[rng.random(n) < np.where(race == "A", 0.3, 0.05)] = None
    score = p.astype(object)
    score[rng.random(n) < 0.02] = None
    return pd.DataFrame({"y": outcome, "p": score, "race": race, "sex": sex})


MAPPING = ColumnMapping(label="y", score="p", attributes=["race", "sex"])


def test_exclusions_are_counted_per_group_and_reason() -> None:
    frame = _frame()
    prov = prepare_input(frame, MAPPING).provenance
    race = frame["race"].fillna("(missing)")
    no_y = frame["y"].isna()
    no_p = frame["p"].isna() & ~no_y  # each row under its first reason
    for g in ("A", "B", "(missing)"):
        assert prov.rows_by_group["race"][g] == int((race == g).sum())
        got = prov.excluded_by_group["race"][g]
        assert got["missing outcome"] == int((no_y & (race == g)).sum())
        assert got["missing score"] == int((no_p & (race == g)).sum())
    total = sum(sum(r.values()) for r in prov.excluded_by_group["sex"].values())
    assert total == sum(prov.excluded.values()) == int((no_y | frame["p"].isna()).sum())


def test_a_group_that_loses_every_row_is_still_counted() -> None:
    frame = _frame(n=600)
    frame.loc[frame["race"] == "B", "y"] = None
    inputs = prepare_input(frame, MAPPING)
    assert "B" not in inputs.attribute("race").levels
    b = inputs.provenance.excluded_by_group["race"]["B"]["missing outcome"]
    assert b == inputs.provenance.rows_by_group["race"]["B"] > 0
    result = evaluate(inputs, EvaluationSpec(bootstrap=0))
    row = next(m for m in result.missingness if m.group == "B")
    assert row.rate == 1.0 and row.flagged_adjusted


def test_reference_is_never_the_missing_group_by_default() -> None:
    inputs = prepare_input(_frame(), MAPPING)
    levels = inputs.attribute("race").levels
    counts = np.bincount(inputs.attribute("race").codes, minlength=len(levels))
    assert levels[int(np.argmax(counts))] == "(missing)"  # the premise
    result = evaluate(inputs, EvaluationSpec(bootstrap=0, intersections=(("race", "sex"),)))
    assert result.references["race"] == "B"
    assert "(missing)" not in result.references["race×sex"]
    assert any("missing-value group (missing)" in n and "B" in n for n in result.notes)
    assert "known value" in result.methods["reference_group"]
    best = evaluate(inputs, EvaluationSpec(bootstrap=0, reference=ReferenceSpec(kind="best")))
    assert best.references["race"] != "(missing)"


def test_differential_missingness_matches_statsmodels_newcombe() -> None:
    inputs = prepare_input(_frame(), MAPPING)
    result = evaluate(inputs, EvaluationSpec(bootstrap=0))
    prov = inputs.provenance
    rows = {(m.attribute, m.group): m for m in result.missingness}
    assert set(rows) == {("race", g) for g in ("A", "B", "(missing)")} | {
        ("sex", "F"),
        ("sex", "M"),
    }
    for (attr, group), m in rows.items():
        n1 = prov.rows_by_group[attr][group]
        k1 = sum(prov.excluded_by_group[attr].get(group, {}).values())
        n2 = sum(prov.rows_by_group[attr].values()) - n1
        k2 = sum(sum(r.values()) for r in prov.excluded_by_group[attr].values()) - k1
        lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
        assert m.difference.value == pytest.approx(k1 / n1 - k2 / n2, abs=1e-14)
        assert m.difference.ci_low == pytest.approx(lo, abs=1e-12)
        assert m.difference.ci_high == pytest.approx(hi, abs=1e-12)
        assert m.excluded == k1 and m.rows_read == n1
    assert rows[("race", "A")].flagged_adjusted and rows[("race", "A")].rate > 0.25
    assert not rows[("sex", "F")].flagged_adjusted
    ps = [rows[k].p_value for k in rows]
    expected = multipletests(ps, method="holm")[1]
    assert [rows[k].p_adjusted for k in rows] == pytest.approx(list(expected), rel=1e-12)
    assert any(n.startswith("differential missingness") and "Holm" in n for n in result.notes)
    again = EvaluationResult.from_json(result.to_json())
    assert again.missingness == result.missingness


def test_nothing_excluded_means_no_missingness_rows() -> None:
    frame = _frame().dropna(subset=["y", "p"])
    result = evaluate(prepare_input(frame, MAPPING), EvaluationSpec(bootstrap=0))
    assert result.missingness == ()
    assert result.to_json()["missingness"] == []


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_adjustments_match_statsmodels(method: str) -> None:
    rng = np.random.default_rng(11)
    for m in (1, 2, 7, 60):
        p = rng.random(m) ** 3
        p[rng.random(m) < 0.2] = p[0]  # ties
        sm = multipletests(p, method={"holm": "holm", "bh": "fdr_bh"}[method])[1]
        assert adjust(p, method) == pytest.approx(sm, rel=1e-13, abs=1e-15)
    with_nan = np.array([0.01, np.nan, 0.04, 0.03])
    got = adjust(with_nan, method)
    assert np.isnan(got[1])
    sm = multipletests(with_nan[[0, 2, 3]], method={"holm": "holm", "bh": "fdr_bh"}[method])[1]
    assert got[[0, 2, 3]] == pytest.approx(sm, rel=1e-13)


def test_newcombe_p_inverts_the_interval() -> None:
    """At level 1 − p the statsmodels Newcombe interval just reaches 0."""
    cases = [(30, 100, 15, 120), (3, 40, 0, 35), (50, 60, 41, 70), (7, 300, 30, 310)]
    for k1, n1, k2, n2 in cases:
        p = float(newcombe_p(np.array([k1]), np.array([n1]), np.array([k2]), np.array([n2]))[0])
        lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", alpha=p)
        edge = lo if k1 / n1 > k2 / n2 else hi
        assert abs(edge) < 1e-9, (k1, n1, k2, n2, p, lo, hi)
    assert newcombe_p(np.array([5]), np.array([50]), np.array([10]), np.array([100]))[0] == 1.0


def test_katz_p_inverts_the_log_interval() -> None:
    for k1, n1, k2, n2 in [(30, 100, 15, 120), (50, 60, 41, 70), (7, 300, 30, 310)]:
        p = float(katz_p(np.array([k1]), np.array([n1]), np.array([k2]), np.array([n2]))[0])
        lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="log", compare="ratio", alpha=p)
        edge = lo if k1 / n1 > k2 / n2 else hi
        assert edge == pytest.approx(1.0, abs=1e-9)


def test_bootstrap_p_is_the_percentile_inversion() -> None:
    rng = np.random.default_rng(5)
    reps = rng.normal([0.1, 0.5, -0.02], 0.1, size=(4000, 3))
    p = bootstrap_p(reps)
    for j in range(3):
        share = min((reps[:, j] <= 0).mean(), (reps[:, j] >= 0).mean())
        assert p[j] == pytest.approx(min(1.0, 2 * share))
    reps[:1000, 0] = np.nan  # 75 % defined < 90 %: no p-value, as no interval
    assert np.isnan(bootstrap_p(reps)[0])


def test_cli_prints_and_writes_the_exclusions_per_group(
    tmp_path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import main

    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)
    path = tmp_path / "v.csv"
    _frame(n=1500).to_csv(path, index=False)
    out_json = tmp_path / "r.json"
    code = main.main(
        [
            "evaluate",
            str(path),
            "--label",
            "y",
            "--score",
            "p",
            "--group",
            "race",
            "--bootstrap",
            "0",
            "--json",
            str(out_json),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out_json.read_text())
    assert data["schema"] == "probity-evaluation/1"
    a = next(m for m in data["missingness"] if m["group"] == "A")
    assert a["flagged_adjusted"] and a["by_reason"]["missing outcome"] > 0
    assert data["provenance"]["excluded_by_group"]["race"]["A"] == a["by_reason"]
    line = next(x for x in out.splitlines() if x.strip().startswith("race: A:"))
    assert f"{a['excluded']:,} of {a['rows_read']:,}" in line and "FLAGGED (adjusted)" in line
    assert "reference: B" in out
