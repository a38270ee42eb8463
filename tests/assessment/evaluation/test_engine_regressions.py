"""Regressions found by colleagues in the evaluation engine, each pinned by a test that failed
before its fix:

1. a reference named for only some attributes of an intersection must give a cell consistent
   with the named values (largest matching cell), not the largest cell overall;
2. ratio intervals of tiny groups must reflect their uncertainty (Katz with the 0.5 continuity
   correction; no zero-width bootstrap intervals), and every reported interval contains its
   estimate (property test);
3. tiny, separated groups must not overflow ``exp`` in the recalibration fits.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import main
from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.mapping import ColumnMapping, prepare_input
from assessment.evaluation.metrics import expit
from assessment.evaluation.result import Estimate, EvaluationResult, MetricValue
from assessment.evaluation.spec import EvaluationSpec, ReferenceSpec

AEQUITAS = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "compas"
    / "compas_for_aequitas.csv"
)


def _inputs(y: np.ndarray, score: np.ndarray, *attrs: Attribute) -> EvaluationInput:
    n = y.size
    provenance = Provenance("t.csv", "0" * 64, n, n)
    return EvaluationInput(y, score, None, "probability", attrs, provenance)


# ------------------------------------------------------------ 1. reference of an intersection


def _race_sex(n_cells: dict[tuple[str, str], int], seed: int = 0) -> EvaluationInput:
    rng = np.random.default_rng(seed)
    races, sexes = ("A", "B", "C"), ("F", "M")
    race, sex = [], []
    for (r, s), k in n_cells.items():
        race += [races.index(r)] * k
        sex += [sexes.index(s)] * k
    n = len(race)
    y = rng.random(n) < 0.4
    score = np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1)
    return _inputs(
        y,
        score,
        Attribute("race", np.array(race, np.int32), races),
        Attribute("sex", np.array(sex, np.int32), sexes),
    )


CELLS = {("A", "F"): 120, ("A", "M"): 80, ("B", "F"): 150, ("B", "M"): 400, ("C", "F"): 60,
         ("C", "M"): 70}


def test_partly_named_intersection_reference_is_the_largest_matching_cell() -> None:
    inp = _race_sex(CELLS)
    res = evaluate(inp, EvaluationSpec(
        intersections=(("race", "sex"),), bootstrap=0,
        reference=ReferenceSpec("value", {"race": "A"})))
    # B×M is the largest cell overall; within race = A the largest is A×F (not A×M, not B×M).
    assert res.references["race×sex"] == "A×F"
    assert res.references["race"] == "A"
    assert res.references["sex"] == "M"  # no named value: largest level
    assert {d.reference for d in res.disparities if d.attribute == "race×sex"} == {"A×F"}
    note = next(n for n in res.notes if n.startswith("race×sex:"))
    assert "A×F" in note and "race = A" in note and "sex" in note
    assert "largest cell" in res.methods["reference_group"]
    # Naming the other component instead picks the largest cell with that sex.
    other = evaluate(inp, EvaluationSpec(
        intersections=(("race", "sex"),), bootstrap=0,
        reference=ReferenceSpec("value", {"sex": "F"})))
    assert other.references["race×sex"] == "B×F"


def test_fully_named_and_unmatched_intersection_references() -> None:
    inp = _race_sex(CELLS)
    full = evaluate(inp, EvaluationSpec(
        intersections=(("race", "sex"),), bootstrap=0,
        reference=ReferenceSpec("value", {"race": "C", "sex": "F"})))
    assert full.references["race×sex"] == "C×F"
    # No C×F rows at all: nothing matches both names, so the largest cell (with a note).
    cells = {k: v for k, v in CELLS.items() if k != ("C", "F")}
    missing = evaluate(_race_sex(cells), EvaluationSpec(
        intersections=(("race", "sex"),), bootstrap=0,
        reference=ReferenceSpec("value", {"race": "C", "sex": "F"})))
    assert missing.references["race×sex"] == "B×M"
    assert any("race×sex: no group with rows has race = C, sex = F" in n for n in missing.notes)


def test_three_way_intersection_with_two_named_values() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    a = rng.choice(2, n, p=[0.3, 0.7]).astype(np.int32)
    b = rng.choice(3, n, p=[0.5, 0.3, 0.2]).astype(np.int32)
    c = rng.choice(2, n, p=[0.35, 0.65]).astype(np.int32)
    y = rng.random(n) < 0.3
    inp = _inputs(y, rng.random(n), Attribute("a", a, ("a0", "a1")),
                  Attribute("b", b, ("b0", "b1", "b2")), Attribute("c", c, ("c0", "c1")))
    res = evaluate(inp, EvaluationSpec(
        intersections=(("a", "b", "c"),), bootstrap=0,
        reference=ReferenceSpec("value", {"a": "a0", "c": "c0"})))
    sizes = {(i, j): int(np.sum((a == 0) & (b == j) & (c == 0))) for i in (0,) for j in range(3)}
    best = max(sizes, key=lambda k: (sizes[k], -k[1]))
    assert res.references["a×b×c"] == f"a0×b{best[1]}×c0"


def test_compas_reference_race_caucasian_for_race_by_sex(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    result = _compas_cli(tmp_path, monkeypatch)
    assert result["references"]["race×sex"] == "Caucasian×Male"
    assert {d["reference"] for d in result["disparities"]
            if d["attribute"] == "race×sex"} == {"Caucasian×Male"}


# ------------------------------------------------------------ 2. tiny-group intervals and flags


def _compas_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The colleague's command line, through main.main (B = 200 keeps it quick)."""
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)
    out = tmp_path / "compas.json"
    code = main.main(
        [
            # Aequitas' "score" is 0/1 (predicted high risk): a predicted class, not a score.
            "evaluate", str(AEQUITAS), "--label", "label_value", "--prediction", "score",
            "--group", "race", "--group", "sex", "--intersect", "race,sex",
            "--reference", "race=Caucasian", "--bootstrap", "200", "--json", str(out), "--quiet",
        ]
    )  # fmt: skip
    assert code == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_compas_asian_female_is_not_a_disparity(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    result = _compas_cli(tmp_path, monkeypatch)
    dis = {d["metric"]: d for d in result["disparities"]
           if d["attribute"] == "race×sex" and d["group"] == "Asian×Female"}
    tnr = dis["tnr"]
    # n = 2 (1 positive, 1 negative): the difference interval includes 0, and so must the ratio's
    assert tnr["difference"]["ci_low"] < 0 < tnr["difference"]["ci_high"]
    assert tnr["ratio"]["ci_low"] < 1 < tnr["ratio"]["ci_high"]
    assert not tnr["flagged"]
    # F1 is 0 or undefined in every resample: no zero-width "interval", null with a reason
    f1 = dis["f1"]
    assert f1["ratio"]["value"] == 0.0
    assert f1["ratio"]["ci_low"] is None and f1["ratio"]["ci_high"] is None
    assert "bootstrap" in f1["ratio"]["reason"]
    assert f1["difference"]["ci_low"] is None and not f1["flagged"]
    group = next(g for g in result["groups"] if g["group"] == "Asian×Female")
    assert group["metrics"]["f1"]["ci_low"] is None
    assert "bootstrap" in group["metrics"]["f1"]["reason"]
    for d in result["disparities"]:
        if d["flagged"] and d["group"] in {"Asian×Female", "Asian×Male", "Native American×Male"}:
            assert d["reason"].startswith("insufficient data ("), d


def test_katz_ratio_of_a_one_row_group_is_wide() -> None:
    """TNR 1/1 vs 300/500: the uncorrected log method gives se ≈ 0.05 (a zero-width interval
    around 1.67); with the 0.5 continuity correction the interval spans 1."""
    rng = np.random.default_rng(1)
    n = 1001
    grp = np.r_[np.zeros(1000, np.int32), np.ones(1, np.int32)]
    y = np.r_[rng.random(1000) < 0.5, [False]]
    score = np.r_[rng.random(1000), [0.1]]
    inp = _inputs(y, score, Attribute("g", grp, ("big", "tiny")))
    res = evaluate(inp, EvaluationSpec(bootstrap=200, reference=ReferenceSpec("value",
                                                                             {"g": "big"})))
    assert res.group("g", "tiny").n == 1
    tnr = res.disparity("g", "tiny", "tnr")
    assert tnr.ratio.ci_low is not None and tnr.ratio.ci_high is not None
    assert tnr.ratio.ci_low < 1 < tnr.ratio.ci_high
    assert tnr.ratio.ci_high / tnr.ratio.ci_low > 3
    assert not tnr.flagged
    assert n == inp.n


def test_flag_on_an_insufficient_group_carries_the_reason() -> None:
    """A small group (n = 24 < 30) whose TPR gap is large and supported by its interval keeps
    the flag, and the reason says the data are insufficient."""
    rng = np.random.default_rng(3)
    n_big, n_small = 2000, 24
    y = np.r_[rng.random(n_big) < 0.5, np.r_[np.ones(12, bool), np.zeros(12, bool)]]
    score = np.r_[np.where(y[:n_big], 0.9, 0.1), np.full(n_small, 0.1)]
    grp = np.r_[np.zeros(n_big, np.int32), np.ones(n_small, np.int32)]
    res = evaluate(_inputs(y, score, Attribute("g", grp, ("big", "small"))),
                   EvaluationSpec(bootstrap=200, reference=ReferenceSpec("value", {"g": "big"})))
    assert "insufficient_data" in res.group("g", "small").flags
    tpr = res.disparity("g", "small", "tpr")
    assert tpr.flagged
    assert tpr.reason is not None and tpr.reason.startswith("insufficient data (n = 24 < 30")
    assert "flag" in res.methods["disparity_flag"]
    # an ordinary group's flag has no such caveat
    big = evaluate(_inputs(np.r_[y, y[:n_big]], np.r_[score, np.where(y[:n_big], 0.3, 0.1)],
                           Attribute("g", np.r_[grp, np.full(n_big, 2, np.int32)],
                                     ("big", "small", "other"))),
                   EvaluationSpec(bootstrap=0, reference=ReferenceSpec("value", {"g": "big"})))
    other = big.disparity("g", "other", "tpr")
    assert other.flagged and not other.reason.startswith("insufficient data")


def test_perfectly_separated_group_has_no_zero_width_auroc_interval() -> None:
    rng = np.random.default_rng(8)
    n = 400
    grp = np.r_[np.zeros(n, np.int32), np.ones(8, np.int32)]
    y = np.r_[rng.random(n) < 0.4, np.r_[np.ones(4, bool), np.zeros(4, bool)]]
    score = np.r_[rng.random(n), [0.9, 0.8, 0.85, 0.95, 0.1, 0.2, 0.15, 0.05]]
    res = evaluate(_inputs(y, score, Attribute("g", grp, ("a", "b"))),
                   EvaluationSpec(bootstrap=200, reference=ReferenceSpec("value", {"g": "a"})))
    auc = res.group("g", "b").metrics["auroc"]
    # 4 vs 4 perfectly separated: the score interval (Hanley–McNeil variance) is wide, never
    # the zero width DeLong's variance of 0 would give
    assert auc.value == 1.0 and auc.ci_high == 1.0 and auc.ci_low < 0.75
    assert "Newcombe" in auc.method
    d = res.disparity("g", "b", "auroc")
    assert d.difference.ci_low is None and "DeLong variance of 0" in d.difference.reason


# ------------------------------------------------------------ property: intervals are honest


def _check_interval(what: str, value: float | None, lo: float | None, hi: float | None,
                    exact: bool) -> None:
    if value is None or lo is None or hi is None:
        assert lo is None and hi is None or value is None, what
        return
    tol = 1e-9 * max(1.0, abs(value))
    assert lo <= hi, what
    assert lo - tol <= value <= hi + tol, (what, lo, value, hi)
    if hi - lo <= tol:
        assert exact, f"zero-width interval for a value that is not exactly determined: {what}"


DENOMINATOR = {"tpr": "pos", "fnr": "pos", "fpr": "neg", "tnr": "neg", "ppv": "pred",
               "npv": "not_pred", "selection_rate": "all", "prevalence": "all", "accuracy": "all"}


def _exactly_determined(inp: EvaluationInput, threshold: float) -> Any:
    """(attribute, group, metric) -> is the comparison with the overall population exact?

    It is when the group holds every row of the metric's denominator (e.g. all negatives for
    FPR): the overall value is then the group's own, so difference 0 and ratio 1 are certain.
    Otherwise (and for every comparison with another group) nothing is known exactly.
    """
    pred = inp.score >= threshold
    rows = {"pos": inp.y_true, "neg": ~inp.y_true, "pred": pred, "not_pred": ~pred,
            "all": np.ones(inp.n, bool)}
    masks: dict[tuple[str, str], np.ndarray] = {}
    attrs = {a.name: a for a in inp.attributes}
    for a in inp.attributes:
        for j, level in enumerate(a.levels):
            masks[(a.name, level)] = a.codes == j
    g, sex = attrs["g"], attrs["sex"]
    for i, gl in enumerate(g.levels):
        for j, sl in enumerate(sex.levels):
            masks[("g×sex", f"{gl}×{sl}")] = (g.codes == i) & (sex.codes == j)

    def exact(attribute: str, group: str, metric: str) -> bool:
        inside = masks[(attribute, group)]
        den = rows[DENOMINATOR.get(metric, "all")]
        return not np.any(den & ~inside)

    return exact


def _check_result(res: EvaluationResult, exact: Any = None) -> None:
    for g in (res.overall, *res.groups):
        for mid, m in g.metrics.items():
            assert isinstance(m, MetricValue)
            _check_interval(f"{g.attribute}={g.group} {mid}", m.value, m.ci_low, m.ci_high, False)
    for d in res.disparities:
        known = d.reference == "All" and exact is not None and exact(d.attribute, d.group,
                                                                     d.metric)
        for kind, e in (("difference", d.difference), ("ratio", d.ratio)):
            assert isinstance(e, Estimate)
            _check_interval(f"{d.attribute}={d.group} {d.metric} {kind}", e.value, e.ci_low,
                            e.ci_high, known)
            if e.value is not None and e.ci_low is None:
                assert e.reason, (d.attribute, d.group, d.metric, kind)
    for s in res.summary:
        _check_interval(f"{s.attribute} {s.measure}", s.value, s.ci_low, s.ci_high, False)
        if s.value is not None and s.ci_low is None:
            assert s.reason, (s.attribute, s.measure)


@st.composite
def small_datasets(draw: st.DrawFn) -> tuple[EvaluationInput, EvaluationSpec]:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(4, 120))
    k = draw(st.integers(1, 5))
    weights = rng.dirichlet(np.full(k, draw(st.sampled_from([0.3, 1.0, 5.0]))))
    codes = rng.choice(k, n, p=weights).astype(np.int32)
    sex = rng.integers(0, 2, n).astype(np.int32)
    prev = rng.uniform(0, 1, k)
    y = rng.random(n) < prev[codes]
    if y.all() or not y.any():
        y[0] = not y[0]
    style = draw(st.sampled_from(["noisy", "separated", "tied", "extreme"]))
    if style == "separated":
        score = np.where(y, rng.uniform(0.6, 1.0, n), rng.uniform(0.0, 0.4, n))
    elif style == "tied":
        score = np.round(rng.random(n), 1)
    elif style == "extreme":
        score = np.where(rng.random(n) < 0.5, 0.0, 1.0)
    else:
        score = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1)
    inp = _inputs(y, score, Attribute("g", codes, tuple(f"G{i}" for i in range(k))),
                  Attribute("sex", sex, ("F", "M")))
    kind = draw(st.sampled_from(["value", "largest", "overall", "best"]))
    ref = ReferenceSpec(kind, {"g": "G0"} if kind == "value" else {}, "auroc")
    spec = EvaluationSpec(threshold=draw(st.sampled_from([0.3, 0.5])), bootstrap=200,
                          seed=seed % 1000, intersections=(("g", "sex"),), reference=ref)
    return inp, spec


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_datasets())
def test_every_interval_contains_its_estimate_and_is_never_falsely_exact(data) -> None:  # noqa: ANN001
    inp, spec = data
    _check_result(evaluate(inp, spec), _exactly_determined(inp, spec.threshold))


# ------------------------------------------------------------ 3. no overflow in exp


def _report_helper_scenario(rows: int = 1500, seed: int = 1) -> EvaluationResult:
    """tests/reports/report_helpers.engine_result(seed=1): a 1 % group ("Ωμέγα-group") whose
    intersection cells are tiny and separated, so their recalibration coefficients diverge."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], rows, p=[0.55, 0.45])
    age = rng.choice(["18-44", "45-64", "65+", "Ωμέγα-group"], rows, p=[0.3, 0.4, 0.29, 0.01])
    y = rng.random(rows) < np.where(sex == "Male", 0.3, 0.2)
    score = np.clip(0.25 * y + rng.normal(0.3, 0.15, rows) + (age == "65+") * 0.05, 0, 1)
    frame = pd.DataFrame({"y": y.astype(int), "p": score.round(4), "sex": sex, "age": age})
    mapping = ColumnMapping(label="y", score="p", threshold=0.4, attributes=["sex", "age"])
    spec = EvaluationSpec(threshold=0.4, intersections=(("sex", "age"),), bootstrap=200, seed=3)
    return evaluate(prepare_input(frame, mapping), spec)


def test_tiny_separated_groups_raise_no_floating_point_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            # the engine's own errstate blocks relax invalid/divide where NaN is the intent;
            # overflow in exp is never relaxed now
            res = _report_helper_scenario()
    separated = [g for g in res.groups if g.metrics["calibration_slope"].reason
                 and "separ" in g.metrics["calibration_slope"].reason]
    assert separated, "the scenario must contain a separated group to be a regression test"
    _check_result(res)


def test_expit_is_finite_and_exact_where_representable() -> None:
    x = np.array([-1e6, -2.4e4, -745.5, -710.0, -709.0, -700.0, -30.0, -1.0, 0.0, 1.0, 30.0,
                  710.0, 2.4e4, 1e6])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = expit(x)
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
    assert np.all(np.diff(p) >= 0)
    mid = np.abs(x) <= 700
    assert p[mid] == pytest.approx(1 / (1 + np.exp(-x[mid])), rel=1e-15)
    assert np.all(p[x < -709] <= 1.3e-308)
    assert p[x >= 30][-1] == 1.0


# ------------------------------------------------- Brier intervals and bootstrap of tiny groups


def _tiny_group_case() -> EvaluationInput:
    """Group a: 400 rows, calibrated; group b: 2 rows with large squared errors."""
    rng = np.random.default_rng(3)
    p_a = rng.uniform(0.05, 0.6, 400)
    y_a = rng.random(400) < p_a
    y = np.r_[y_a, [True, False]]
    score = np.r_[p_a, [0.02, 0.97]]
    codes = np.r_[np.zeros(400, np.int32), np.ones(2, np.int32)]
    return _inputs(y, score, Attribute("g", codes, ("a", "b")))


def test_brier_interval_stays_within_0_and_1() -> None:
    """The log-scale t interval of 2 rows reached 894; a Brier score cannot exceed 1."""
    res = evaluate(_tiny_group_case(), EvaluationSpec(bootstrap=200, seed=1))
    for grp in res.groups_of("g"):
        m = grp.metric("brier")
        assert m.value is not None and 0 <= m.value <= 1
        assert m.ci_low is None or 0 <= m.ci_low <= m.value <= (m.ci_high or 0) <= 1
    assert "capped at 1" in res.group("g", "b").metric("brier").method


def test_bootstrap_disparity_of_a_two_row_group_has_no_interval_and_no_flag() -> None:
    ref_a = ReferenceSpec("value", {"g": "a"})
    res = evaluate(_tiny_group_case(), EvaluationSpec(bootstrap=200, seed=1, reference=ref_a))
    for mid in ("brier", "oe_ratio", "f1"):
        d = res.disparity("g", "b", mid)
        assert d.difference.value is not None
        assert d.difference.ci_low is None and d.ratio.ci_low is None
        assert "too few for a bootstrap" in (d.difference.reason or ""), d.difference.reason
        assert not d.flagged and not d.flagged_adjusted
        assert d.p_value is None
    # the large group against a 2-row reference: the same
    ref_b = ReferenceSpec("value", {"g": "b"})
    rev = evaluate(_tiny_group_case(), EvaluationSpec(bootstrap=200, seed=1, reference=ref_b))
    d = rev.disparity("g", "a", "brier")
    assert d.difference.ci_low is None and "reference group" in (d.difference.reason or "")
    assert not d.flagged


def test_own_bootstrap_interval_of_a_two_row_group_is_left_out_with_the_reason() -> None:
    res = evaluate(_tiny_group_case(), EvaluationSpec(bootstrap=200, seed=1))
    m = res.group("g", "b").metric("oe_ratio")
    assert m.value is not None and m.ci_low is None
    assert "too few for a bootstrap" in (m.reason or "")
    assert res.group("g", "a").metric("oe_ratio").ci_low is not None


def test_an_auroc_difference_from_the_population_with_no_variance_has_no_interval() -> None:
    """Hypothesis found it: 4 of 5 rows in sex=F, whose DeLong placements equal the whole
    population's, so the difference's variance is 0 and the interval was [0, 0] for an AUROC
    difference that is not exactly determined. No interval, with the reason."""
    y = np.array([False, True, False, True, True])
    score = np.array([0.59949386, 0.57115945, 0.21691362, 0.51356518, 0.58621404])
    inp = _inputs(y, score, Attribute("g", np.array([1, 1, 2, 3, 0], np.int32),
                                      tuple(f"G{i}" for i in range(5))),
                  Attribute("sex", np.array([0, 0, 0, 0, 1], np.int32), ("F", "M")))
    spec = EvaluationSpec(threshold=0.3, bootstrap=200, seed=30, intersections=(("g", "sex"),),
                          reference=ReferenceSpec("overall", {}, "auroc"))
    res = evaluate(inp, spec)
    _check_result(res, _exactly_determined(inp, spec.threshold))
    d = next(d for d in res.disparities if d.group == "F" and d.metric == "auroc")
    assert d.difference.value == 0.0
    assert d.difference.ci_low is None and d.difference.ci_high is None
    assert "variance of the difference is 0" in (d.difference.reason or "")
