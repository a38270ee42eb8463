"""Exclusions and differential missingness per intersection cell (attack report on issue 9,
item 4): a cell that loses a quarter of its rows while the margins look even is counted and
flagged, its counts equal a pandas groupby written here, its interval statsmodels' Newcombe."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from assessment.evaluation.engine import evaluate
from assessment.evaluation.groupings import build_groupings
from assessment.evaluation.mapping import ColumnMapping, prepare_input
from assessment.evaluation.missingness import with_intersections
from assessment.evaluation.result import EvaluationResult
from assessment.evaluation.spec import EvaluationSpec

MAPPING = ColumnMapping(label="y", score="p", attributes=["g", "h", "k"])


def cell_frame(seed: int = 9, n: int = 4000) -> pd.DataFrame:
    """The tester's construction (T/miss2.csv): A×X loses 25 % of its outcomes, B×Y 26.5 % of
    its scores, the other cells nothing, so g and h each lose about 13 % in every group. Also:
    a few missing h values, rows missing both outcome and score (counted once, as missing
    outcome), and a cell C×X that loses every row."""
    rng = np.random.default_rng(seed)
    g = rng.choice(["A", "B"], n)
    h = rng.choice(["X", "Y", None], n, p=[0.49, 0.49, 0.02]).astype(object)
    k = rng.choice(["k1", "k2", "k3"], n)
    y = rng.random(n) < 0.3
    p = np.clip(0.25 + 0.35 * y + rng.normal(0, 0.15, n), 0.001, 0.999)
    outcome = np.where(y, "1", "0").astype(object)
    score = p.round(6).astype(object)
    ax = (g == "A") & (h == "X")
    by = (g == "B") & (h == "Y")
    outcome[ax & (rng.random(n) < 0.25)] = None
    score[by & (rng.random(n) < 0.265)] = None
    both = rng.random(n) < 0.003
    outcome[both] = None
    score[both] = None
    frame = pd.DataFrame({"y": outcome, "p": score, "g": g, "h": h, "k": k})
    lost = pd.DataFrame({"y": [None] * 20, "p": [0.5] * 20, "g": ["C"] * 20, "h": ["X"] * 20,
                         "k": ["k1"] * 20})
    return pd.concat([frame, lost], ignore_index=True)


def expected_counts(frame: pd.DataFrame, cols: list[str]) -> tuple[dict, dict]:
    """Rows read and excluded by reason per cell, by pandas groupby (first reason only)."""
    reason = np.where(frame["y"].isna(), "missing outcome",
                      np.where(frame["p"].isna(), "missing score", ""))
    cell = frame[cols].fillna("(missing)").astype(str).agg("×".join, axis=1)
    read = cell.groupby(cell).size()
    lost = pd.DataFrame({"cell": cell, "reason": reason})
    lost = lost[lost["reason"] != ""].groupby(["cell", "reason"]).size()
    excluded: dict[str, dict[str, int]] = {}
    for (c, r), v in lost.items():
        excluded.setdefault(str(c), {})[str(r)] = int(v)
    return {str(c): int(v) for c, v in read.items()}, excluded


SPEC = EvaluationSpec(bootstrap=0, intersections=(("g", "h"), ("g", "h", "k")))


@pytest.fixture(scope="module")
def result() -> EvaluationResult:
    return evaluate(prepare_input(cell_frame(), MAPPING), SPEC)


def test_cell_counts_equal_a_pandas_groupby(result: EvaluationResult) -> None:
    frame = cell_frame()
    prov = result.provenance
    for name, cols in (("g×h", ["g", "h"]), ("g×h×k", ["g", "h", "k"])):
        read, excluded = expected_counts(frame, cols)
        assert prov["rows_by_group"][name] == read
        assert prov["excluded_by_group"][name] == excluded
    assert prov["excluded_by_group"]["g×h"]["C×X"] == {"missing outcome": 20}
    assert sum(prov["rows_by_group"]["g×h×k"].values()) == prov["rows_read"]


def test_a_cell_losing_a_quarter_is_flagged_while_the_margins_look_even(
    result: EvaluationResult,
) -> None:
    rows = {(m.attribute, m.group): m for m in result.missingness}
    for attr, group in (("g", "A"), ("g", "B"), ("h", "X"), ("h", "Y")):
        assert not rows[(attr, group)].flagged_adjusted  # the premise: margins look even
    ax, by = rows[("g×h", "A×X")], rows[("g×h", "B×Y")]
    assert ax.flagged_adjusted and 0.22 < (ax.rate or 0) < 0.3
    assert by.flagged_adjusted and by.by_reason.get("missing score", 0) > 200
    lost = rows[("g×h", "C×X")]
    assert lost.rate == 1.0 and lost.rows_read == lost.excluded == 20
    assert any(n.startswith("differential missingness") and "g×h = A×X" in n
               for n in result.notes)


def test_cell_intervals_are_newcombe_and_the_family_holds_every_cell(
    result: EvaluationResult,
) -> None:
    prov = result.provenance
    ps = []
    for m in result.missingness:
        read = prov["rows_by_group"][m.attribute]
        lost = {g: sum(r.values()) for g, r in prov["excluded_by_group"][m.attribute].items()}
        n1, k1 = read[m.group], lost.get(m.group, 0)
        n2, k2 = sum(read.values()) - n1, sum(lost.values()) - k1
        lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
        assert (m.rows_read, m.excluded) == (n1, k1)
        assert m.difference.value == pytest.approx(k1 / n1 - k2 / n2, abs=1e-14)
        assert m.difference.ci_low == pytest.approx(lo, abs=1e-12)
        assert m.difference.ci_high == pytest.approx(hi, abs=1e-12)
        ps.append(m.p_value)
    attrs = {m.attribute for m in result.missingness}
    assert attrs == {"g", "h", "k", "g×h", "g×h×k"}
    holm = multipletests(ps, method="holm")[1]
    assert [m.p_adjusted for m in result.missingness] == pytest.approx(list(holm), rel=1e-12)
    again = EvaluationResult.from_json(result.to_json())  # the result checks accept it
    assert again.missingness == result.missingness


def test_no_exclusions_still_counts_rows_per_cell_and_adds_no_rows() -> None:
    frame = cell_frame().dropna(subset=["y", "p"])
    res = evaluate(prepare_input(frame, MAPPING), SPEC)
    assert res.missingness == ()
    read, _ = expected_counts(frame, ["g", "h"])
    assert res.provenance["rows_by_group"]["g×h"] == read
    assert res.provenance["excluded_by_group"]["g×h"] == {}


def test_many_possible_cells_are_counted_by_sorting_the_excluded_rows() -> None:
    """150³ possible cells (far more than the rows): the sparse path gives the same counts as
    the groupby."""
    rng = np.random.default_rng(4)
    n = 1500

    def levels() -> np.ndarray:
        return np.r_[np.arange(150), rng.integers(0, 150, n - 150)].astype(str)

    frame = pd.DataFrame({
        "y": np.where(rng.random(n) < 0.1, None, rng.choice(["0", "1"], n)).astype(object),
        "p": rng.random(n).round(4).astype(object),
        "g": levels(), "h": levels(), "k": levels(),
    })
    frame.loc[rng.random(n) < 0.05, "p"] = None
    inputs = prepare_input(frame, MAPPING)
    prov = with_intersections(inputs, build_groupings(inputs, (("g", "h", "k"),)))
    read, excluded = expected_counts(frame, ["g", "h", "k"])
    assert prov.rows_by_group["g×h×k"] == read
    assert prov.excluded_by_group["g×h×k"] == excluded


def test_cli_prints_and_writes_the_cells(tmp_path, capsys, monkeypatch) -> None:
    import main

    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)
    path, out_json = tmp_path / "m.csv", tmp_path / "m.json"
    cell_frame().to_csv(path, index=False)
    code = main.main(["evaluate", str(path), "--label", "y", "--score", "p", "--group", "g",
                      "--group", "h", "--intersect", "g,h", "--bootstrap", "0",
                      "--json", str(out_json)])
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out_json.read_text())
    assert data["schema"] == "probity-evaluation/1"
    cell = next(m for m in data["missingness"] if m["attribute"] == "g×h" and m["group"] == "A×X")
    assert cell["flagged_adjusted"]
    assert data["provenance"]["excluded_by_group"]["g×h"]["A×X"] == cell["by_reason"]
    line = next(x for x in out.splitlines() if x.strip().startswith("g×h: A×X:"))
    assert f"{cell['excluded']:,} of {cell['rows_read']:,}" in line
    assert "FLAGGED (adjusted)" in line


def test_pdf_lists_the_cells(result: EvaluationResult) -> None:
    from reports.report import build_report
    from tests.reports.report_helpers import all_text, make_full_doc, squash

    text = all_text(build_report(make_full_doc(with_result=result.to_json())).data)
    ax = next(m for m in result.missingness if m.group == "A×X")
    assert squash(f"A×X{ax.rows_read}{ax.excluded}(missingoutcome:{ax.excluded})") in text
    assert squash(f"g×h = A×X: {ax.excluded} of {ax.rows_read} rows excluded") in text


def test_cli_text_stays_short_with_many_cells() -> None:
    """1,210 cells with exclusions: 25 flagged and 25 unflagged lines, the rest counted."""
    from dataclasses import replace

    from assessment.evaluation.cli_output import _print_missingness

    rows = cell_result_rows()
    many = tuple(replace(rows[i % len(rows)], group=f"cell{i}") for i in range(1210))
    hits = sum(m.flagged or m.flagged_adjusted for m in many)
    shown = sum(bool(m.excluded or m.flagged) for m in many)
    out: list[str] = []
    _print_missingness(many, out.append)
    lines = "".join(out).strip("\n").splitlines()
    assert len(lines) == 1 + 25 + 25 + 1
    assert lines[-1] == (f"  … and {hits - 25:,} more flagged, {shown - hits - 25:,} more "
                         "unflagged groups with excluded rows (see --json)")


def cell_result_rows() -> tuple:
    rows = evaluate(prepare_input(cell_frame(), MAPPING), SPEC).missingness
    return tuple(m for m in rows if m.excluded)
