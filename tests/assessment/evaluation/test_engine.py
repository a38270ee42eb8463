"""The evaluation engine's API: shape of the result, JSON round trip, progress, cancellation,
undefined metrics, flags, references, disparities and representativeness."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assessment.errors import Cancelled, EvaluationError
from assessment.evaluation.engine import evaluate, point_estimates, point_metrics_at_threshold
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.result import EvaluationResult
from assessment.evaluation.spec import (
    METRIC_IDS,
    EvaluationSpec,
    MetricTolerance,
    ReferenceSpec,
    Tolerance,
)


def make_inputs(
    n: int = 600,
    seed: int = 0,
    kind: str = "probability",
    levels: tuple[int, ...] = (2, 3),
    decimals: int | None = 2,
) -> EvaluationInput:
    """Random validation data with tied scores; group sizes and prevalences vary by level."""
    rng = np.random.default_rng(seed)
    attrs = []
    lin = rng.normal(-0.5, 1.0, n)
    for k, m in enumerate(levels):
        probs = np.arange(1, m + 1, dtype=float)
        codes = rng.choice(m, size=n, p=probs / probs.sum()).astype(np.int32)
        lin += 0.3 * codes
        attrs.append(Attribute(f"a{k}", codes, tuple(f"L{k}{j}" for j in range(m))))
    p = 1 / (1 + np.exp(-lin))
    y = rng.random(n) < p
    score = 1 / (1 + np.exp(-(lin + rng.normal(0, 0.8, n))))
    if decimals is not None:
        score = np.round(score, decimals)
    prov = Provenance("synthetic.csv", "0" * 64, n, n)
    if kind == "class":
        return EvaluationInput(y, None, score >= 0.5, "class", tuple(attrs), prov)
    if kind == "score":
        score = np.log(score + 0.01) * 3
    return EvaluationInput(y, score, None, kind, tuple(attrs), prov)  # type: ignore[arg-type]


def with_attribute(inp: EvaluationInput, attr: Attribute) -> EvaluationInput:
    return EvaluationInput(
        inp.y_true, inp.score, inp.y_pred, inp.score_kind, (*inp.attributes, attr), inp.provenance
    )


@pytest.fixture(scope="module")
def result() -> EvaluationResult:
    inp = make_inputs(800, seed=3)
    spec = EvaluationSpec(intersections=(("a0", "a1"),), bootstrap=200, seed=11)
    return evaluate(inp, spec)


def test_result_has_the_documented_shape(result: EvaluationResult) -> None:
    js = result.to_json()
    for key in ("schema", "created", "engine_version", "provenance", "spec", "methods",
                "overall", "groups", "references", "disparities", "summary", "threshold_grid",
                "representativeness", "notes"):
        assert key in js
    assert js["schema"] == "probity-evaluation/1"
    attrs = {g["attribute"] for g in js["groups"]}
    assert attrs == {"a0", "a1", "a0×a1"}
    g = js["groups"][0]
    assert set(g["metrics"]) == set(METRIC_IDS)
    for m in g["metrics"].values():
        assert set(m) == {"value", "ci_low", "ci_high", "method", "reason"}
    assert set(js["methods"]) >= set(METRIC_IDS)
    assert js["overall"]["attribute"] == "(all)" and js["overall"]["group"] == "All"
    assert js["provenance"]["sha256"] == "0" * 64
    d = js["disparities"][0]
    assert {"attribute", "group", "reference", "metric", "difference", "ratio", "flagged"} <= set(d)
    assert "×" in next(g["group"] for g in js["groups"] if g["attribute"] == "a0×a1")


def test_json_round_trip_is_exact(result: EvaluationResult) -> None:
    text = json.dumps(result.to_json(), allow_nan=False)
    back = EvaluationResult.from_json(json.loads(text))
    assert back.to_json() == result.to_json()
    assert back == result


def test_wrong_schema_is_a_typed_error(result: EvaluationResult) -> None:
    js = result.to_json()
    js["schema"] = "something-else/9"
    with pytest.raises(EvaluationError):
        EvaluationResult.from_json(js)


def test_every_interval_contains_its_estimate(result: EvaluationResult) -> None:
    for g in (result.overall, *result.groups):
        for mid, m in g.metrics.items():
            if m.value is not None and m.ci_low is not None:
                assert m.ci_low <= m.value + 1e-9 and m.value <= m.ci_high + 1e-9, (g.group, mid)


def test_progress_is_monotone_and_reaches_one() -> None:
    seen: list[float] = []
    evaluate(make_inputs(300), EvaluationSpec(bootstrap=200), progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert all(b >= a for a, b in zip(seen, seen[1:], strict=False))


@pytest.mark.parametrize("after", [1, 3, 6])
def test_cancel_raises_cancelled(after: int) -> None:
    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > after

    with pytest.raises(Cancelled):
        evaluate(make_inputs(300), EvaluationSpec(bootstrap=200, intersections=(("a0", "a1"),)),
                 cancelled=cancelled)


def test_one_class_group_gives_null_with_reason_never_zero() -> None:
    inp = make_inputs(400, seed=5)
    codes = np.zeros(inp.n, dtype=np.int32)
    neg_rows = np.flatnonzero(~inp.y_true)[:25]
    codes[neg_rows] = 1
    inp = with_attribute(inp, Attribute("site", codes, ("big", "negonly")))
    res = evaluate(inp, EvaluationSpec(bootstrap=200))
    g = res.group("site", "negonly")
    assert g.n_pos == 0 and g.n == 25
    for mid in ("auroc", "tpr", "fnr", "balanced_accuracy", "calibration_slope",
                "calibration_intercept"):
        assert g.metrics[mid].value is None, mid
        assert g.metrics[mid].reason, mid
    assert g.metrics["fpr"].value is not None
    assert "insufficient_data" in g.flags
    assert any("n = 25 < 30" in r for r in g.flag_reasons)
    d = res.disparity("site", "negonly", "auroc")
    assert d.difference.value is None and d.difference.reason and not d.flagged


def test_empty_level_is_listed_not_hidden() -> None:
    inp = make_inputs(200)
    codes = np.zeros(inp.n, dtype=np.int32)
    inp = with_attribute(inp, Attribute("x", codes, ("seen", "never")))
    res = evaluate(inp, EvaluationSpec(bootstrap=200))
    g = res.group("x", "never")
    assert g.n == 0 and "insufficient_data" in g.flags
    assert all(m.value is None and m.reason for m in g.metrics.values())


def test_class_only_input_reports_what_it_can() -> None:
    res = evaluate(make_inputs(300, kind="class"), EvaluationSpec(bootstrap=200))
    m = res.overall.metrics
    assert m["auroc"].value is None and "score" in (m["auroc"].reason or "")
    assert m["brier"].value is None and m["tpr"].value is not None
    assert m["f1"].ci_low is not None
    assert res.threshold_grid == {"thresholds": [], "groups": []}


def test_plain_score_has_no_probability_metrics() -> None:
    res = evaluate(make_inputs(300, kind="score"), EvaluationSpec(threshold=-3, bootstrap=200))
    m = res.overall.metrics
    assert m["auroc"].value is not None
    assert m["calibration_slope"].value is None and "probabilit" in (
        m["calibration_slope"].reason or "")


def test_reference_value_largest_best_overall() -> None:
    inp = make_inputs(900, seed=8)
    by_value = evaluate(inp, EvaluationSpec(
        bootstrap=200, reference=ReferenceSpec("value", {"a1": "L10"})))
    assert by_value.references["a1"] == "L10"
    largest = evaluate(inp, EvaluationSpec(bootstrap=200))
    sizes = {g.group: g.n for g in largest.groups_of("a1")}
    assert largest.references["a1"] == max(sizes, key=sizes.__getitem__)
    best = evaluate(inp, EvaluationSpec(bootstrap=200, reference=ReferenceSpec("best",
                                                                             metric="auroc")))
    aurocs = {g.group: g.metrics["auroc"].value for g in best.groups_of("a1")}
    assert best.references["a1"] == max(aurocs, key=lambda k: aurocs[k] or -1)
    overall = evaluate(inp, EvaluationSpec(bootstrap=200, reference=ReferenceSpec("overall")))
    assert overall.references["a1"] == "All"
    d = overall.disparity("a1", "L10", "tpr")
    g = overall.group("a1", "L10").metrics["tpr"].value
    assert d.difference.value == pytest.approx(g - overall.overall.metrics["tpr"].value)
    assert d.difference.ci_low <= d.difference.value <= d.difference.ci_high
    assert d.ratio.ci_low <= d.ratio.value <= d.ratio.ci_high


def test_disparity_flag_needs_both_ci_and_tolerance() -> None:
    rng = np.random.default_rng(2)
    n = 4000
    grp = rng.integers(0, 2, n).astype(np.int32)
    y = rng.random(n) < 0.4
    # group 1's positives are scored much lower: TPR gap
    score = np.where(y, rng.uniform(0.4, 1.0, n), rng.uniform(0.0, 0.6, n))
    score = np.where((grp == 1) & y, score - 0.35, score).clip(0, 1)
    inp = EvaluationInput(y, score, None, "probability", (Attribute("g", grp, ("a", "b")),),
                          Provenance("f", "0" * 64, n, n))
    res = evaluate(inp, EvaluationSpec(bootstrap=200, reference=ReferenceSpec("value",
                                                                             {"g": "a"})))
    d = res.disparity("g", "b", "tpr")
    assert d.flagged and d.ratio.value < 0.8 and d.ratio.ci_high < 1
    assert d.tolerance == "|difference| > 0.05"  # TPR's default: a difference (README)
    loose = evaluate(inp, EvaluationSpec(
        bootstrap=200, reference=ReferenceSpec("value", {"g": "a"}),
        tolerances={"tpr": MetricTolerance("diff", limit=0.9)}))
    assert not loose.disparity("g", "b", "tpr").flagged
    # the legacy single ratio band still governs the ratio metrics (FPR here)
    legacy = evaluate(inp, EvaluationSpec(
        bootstrap=200, reference=ReferenceSpec("value", {"g": "a"}),
        tolerance=Tolerance(ratio_low=0.1, ratio_high=10)))
    assert legacy.disparity("g", "b", "fpr").tolerance == "ratio outside [0.1, 10]"
    assert any(n.startswith("multiplicity") for n in res.notes)


def test_representativeness_compares_shares() -> None:
    inp = make_inputs(1000, seed=4, levels=(2,))
    spec = EvaluationSpec(
        bootstrap=0,
        training_demographics={"sex": {"l00": 800, "L01": 200, "Other": 10}},
        reference_population={"sex": {"L00": 0.5, "L01": 0.5}},
        demographics_map={"a0": "sex"},
    )
    res = evaluate(inp, spec)
    rows = {r.group: r for r in res.representativeness}
    n0 = res.group("a0", "L00").n
    assert rows["L00"].validation_share == pytest.approx(n0 / 1000)
    assert rows["L00"].training_share == pytest.approx(800 / 1010)
    assert rows["L00"].reference_share == pytest.approx(0.5)
    assert rows["Other"].flag == "absent_in_validation"
    # L00 is a third of the data (weights 1:2) but half of the population
    assert rows["L00"].flag == "under_represented"
    assert rows["L01"].flag == "over_represented"


def test_bootstrap_is_reproducible_with_seed() -> None:
    inp = make_inputs(300)
    a = evaluate(inp, EvaluationSpec(bootstrap=200, seed=5)).overall.metrics["oe_ratio"]
    b = evaluate(inp, EvaluationSpec(bootstrap=200, seed=5)).overall.metrics["oe_ratio"]
    c = evaluate(inp, EvaluationSpec(bootstrap=200, seed=6)).overall.metrics["oe_ratio"]
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)


def test_unknown_intersection_attribute_is_a_typed_error() -> None:
    with pytest.raises(EvaluationError, match="race"):
        evaluate(make_inputs(100), EvaluationSpec(intersections=(("a0", "race"),)))


def test_bad_spec_values_are_typed_errors() -> None:
    with pytest.raises(EvaluationError):
        EvaluationSpec(ci_level=1.5)
    with pytest.raises(EvaluationError):
        EvaluationSpec(reference=ReferenceSpec("nearest"))
    with pytest.raises(EvaluationError):
        EvaluationSpec(reference_population={"sex": {"F": 0.3, "M": 0.3}})
    with pytest.raises(EvaluationError):
        EvaluationSpec.from_json({"bootstrap": "many"})


def test_spec_json_round_trip() -> None:
    spec = EvaluationSpec(intersections=(("a0", "a1"),), reference=ReferenceSpec(
        "value", {"a0": "L00"}), training_demographics={"sex": {"F": 3.0}})
    assert EvaluationSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec


def test_spec_from_empty_json_is_the_default_spec() -> None:
    """A stored config written before a setting existed reads back with that setting's default."""
    assert EvaluationSpec.from_json({}) == EvaluationSpec()
    assert EvaluationSpec.from_json({}).to_json() == EvaluationSpec().to_json()


def test_point_metrics_at_threshold_matches_full_evaluation() -> None:
    inp = make_inputs(500, seed=9)
    spec = EvaluationSpec(intersections=(("a0", "a1"),), bootstrap=0)
    fast = point_metrics_at_threshold(inp, spec, 0.4)
    full = evaluate(inp, spec.with_threshold(0.4))
    assert fast["overall"]["metrics"]["tpr"] == full.overall.metrics["tpr"].value
    for entry in fast["groups"]:
        g = full.group(entry["attribute"], entry["group"])
        for mid, v in entry["metrics"].items():
            assert v == g.metrics[mid].value, (entry["group"], mid)
            if v is None:
                assert entry["reasons"][mid]


def test_point_estimates_equal_the_full_evaluation() -> None:
    inp = make_inputs(600, seed=10)
    spec = EvaluationSpec(intersections=(("a0", "a1"),), bootstrap=0)
    table = point_estimates(inp, spec)
    full = evaluate(inp, spec)
    assert table["metrics"] == list(METRIC_IDS)
    for entry in [table["overall"], *table["groups"]]:
        g = full.group(entry["attribute"], entry["group"])
        assert entry["n"] == g.n
        assert entry["metrics"] == {mid: m.value for mid, m in g.metrics.items()}


def test_bootstrap_disparities_against_overall_have_intervals() -> None:
    inp = make_inputs(900, seed=12)
    res = evaluate(inp, EvaluationSpec(bootstrap=200, reference=ReferenceSpec("overall")))
    for mid in ("brier", "oe_ratio", "f1", "calibration_slope", "calibration_intercept", "auroc"):
        d = res.disparity("a1", "L12", mid)
        assert d.difference.ci_low is not None, mid
        assert d.difference.ci_low <= d.difference.value <= d.difference.ci_high, mid
    assert res.disparity("a1", "L12", "calibration_slope").ratio.value is None


def test_bad_inputs_are_typed_errors() -> None:
    inp = make_inputs(50)
    prov = inp.provenance
    empty = EvaluationInput(inp.y_true[:0], inp.score[:0], None, "probability",
                            tuple(Attribute(a.name, a.codes[:0], a.levels)
                                  for a in inp.attributes), prov)
    with pytest.raises(EvaluationError, match="no rows"):
        evaluate(empty, EvaluationSpec())
    outside = EvaluationInput(inp.y_true, inp.score * 3, None, "probability", inp.attributes,
                              prov)
    with pytest.raises(EvaluationError, match="0–1"):
        evaluate(outside, EvaluationSpec())
    nan = inp.score.copy()
    nan[3] = np.nan
    with pytest.raises(EvaluationError, match="missing"):
        evaluate(EvaluationInput(inp.y_true, nan, None, "probability", inp.attributes, prov),
                 EvaluationSpec())
    with pytest.raises(EvaluationError, match="attribute"):
        evaluate(EvaluationInput(inp.y_true, inp.score, None, "probability", (), prov),
                 EvaluationSpec())


def test_notes_name_small_groups_and_empty_cells() -> None:
    inp = make_inputs(120, seed=2, levels=(2, 3))
    res = evaluate(inp, EvaluationSpec(bootstrap=200, intersections=(("a0", "a1"),)))
    assert any(n.startswith("insufficient data:") for n in res.notes)
