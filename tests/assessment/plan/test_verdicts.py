"""Gate verdicts at their boundaries, min_n, and the multiplicity rules against statsmodels."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy.stats import norm
from statsmodels.stats.multitest import multipletests

from assessment.plan.model import SCHEMA, Plan, PlanError
from assessment.plan.verdicts import (
    EXIT_CODES,
    check_count_level,
    classify,
    decide,
    judge,
    overall_verdict,
    targets,
)


@pytest.mark.parametrize(
    ("low", "high", "a", "b", "verdict"),
    [
        # at_least 0.7: region [0.7, inf)
        (0.7, 0.8, 0.7, math.inf, "pass"),  # touching the bound from inside passes
        (0.69999, 0.8, 0.7, math.inf, "insufficient"),
        (0.6, 0.7, 0.7, math.inf, "insufficient"),  # upper limit on the bound: not a fail
        (0.6, 0.69999, 0.7, math.inf, "fail"),
        (0.7, 0.7, 0.7, math.inf, "pass"),
        # at_most 0.2
        (0.1, 0.2, -math.inf, 0.2, "pass"),
        (0.2, 0.3, -math.inf, 0.2, "insufficient"),
        (0.20001, 0.3, -math.inf, 0.2, "fail"),
        # between [0.8, 1.25]
        (0.8, 1.25, 0.8, 1.25, "pass"),
        (0.79, 1.1, 0.8, 1.25, "insufficient"),
        (0.9, 1.26, 0.8, 1.25, "insufficient"),
        (0.5, 1.5, 0.8, 1.25, "insufficient"),  # straddles both bounds
        (1.26, 1.5, 0.8, 1.25, "fail"),
        (0.5, 0.79, 0.8, 1.25, "fail"),
    ],
)
def test_classify_boundaries(low: float, high: float, a: float, b: float, verdict: str) -> None:
    assert classify(low, high, a, b) == verdict


def test_overall_verdict_order() -> None:
    assert overall_verdict(["pass", "insufficient", "fail"]) == "fail"
    assert overall_verdict(["pass", "insufficient"]) == "insufficient"
    assert overall_verdict(["pass", "pass"]) == "pass"
    assert overall_verdict([]) == "insufficient"
    assert EXIT_CODES == {"pass": 0, "fail": 1, "insufficient": 3}


def plan_of(gates: list[dict[str, Any]], **top: Any) -> Plan:
    return Plan.from_json(
        {
            "schema": SCHEMA,
            "title": "t",
            "outcome": "y",
            "score": "p",
            "attributes": ["race"],
            "min_group_size": 30,
            **top,
            "gates": gates,
        }
    )


def metric(value: float | None, lo: float | None, hi: float | None) -> dict[str, Any]:
    return {"value": value, "ci_low": lo, "ci_high": hi, "method": "m", "reason": None}


def result(
    groups: dict[str, tuple[int, dict[str, Any]]],
    disparities: dict[str, dict[str, Any]] | None = None,
    level: float = 0.95,
    reference: str = "White",
) -> dict[str, Any]:
    """A minimal result JSON: race groups {name: (n, {metric: entry})}."""
    return {
        "spec": {"ci_level": level},
        "overall": {"attribute": "(all)", "group": "All", "n": 1000, "metrics": {}},
        "groups": [
            {"attribute": "race", "group": g, "n": n, "metrics": m} for g, (n, m) in groups.items()
        ],
        "references": {"race": reference},
        "disparities": [
            {"attribute": "race", "group": g, "metric": "tpr", "reference": reference, **d}
            for g, d in (disparities or {}).items()
        ],
    }


def test_min_n_makes_a_clear_pass_insufficient_and_never_drops_a_group() -> None:
    plan = plan_of(
        [{"id": "G", "metric": "tpr", "attribute": "race", "criterion": {"at_least": 0.5}}]
    )
    data = result(
        {
            "White": (500, {"tpr": metric(0.9, 0.85, 0.95)}),
            "Asian": (29, {"tpr": metric(0.9, 0.85, 0.95)}),  # one below min_n = 30
            "Black": (30, {"tpr": metric(0.9, 0.85, 0.95)}),  # exactly min_n
        }
    )
    checks = {c.group: c for c in (judge(plan, t, data, 0.95) for t in targets(plan, data))}
    assert set(checks) == {"White", "Asian", "Black"}
    assert checks["Asian"].verdict == "insufficient"
    assert "n = 29" in checks["Asian"].reason and "30" in checks["Asian"].reason
    assert checks["Asian"].value == 0.9  # the value is still shown
    assert checks["Black"].verdict == "pass"
    gate_min = plan_of(
        [{"id": "G", "metric": "tpr", "attribute": "race", "criterion": {"at_least": 0.5},
          "min_n": 31}]
    )  # fmt: skip
    assert judge(gate_min, targets(gate_min, data)[2], data, 0.95).verdict == "insufficient"


def test_versus_reference_reads_the_gap_and_skips_the_reference_itself() -> None:
    plan = plan_of(
        [{"id": "G", "metric": "tpr", "attribute": "race", "versus": "reference",
          "criterion": {"difference_between": [-0.05, 0.05]}}]
    )  # fmt: skip
    gap = {"difference": metric(0.01, -0.02, 0.04), "ratio": metric(1.0, 0.9, 1.1)}
    far = {"difference": metric(-0.2, -0.3, -0.1), "ratio": metric(0.7, 0.6, 0.8)}
    data = result(
        {
            "White": (500, {}),
            "Black": (300, {}),
            "Asian": (300, {}),
            "Other": (20, {}),
        },
        {"Black": gap, "Asian": far, "Other": gap},
    )
    checks = [judge(plan, t, data, 0.95) for t in targets(plan, data)]
    by = {c.group: c for c in checks}
    assert "White" not in by
    assert by["Black"].verdict == "pass" and by["Black"].value == 0.01
    assert by["Asian"].verdict == "fail"
    assert by["Other"].verdict == "insufficient" and "Other has n = 20" in by["Other"].reason
    small_ref = result({"White": (10, {}), "Black": (300, {})}, {"Black": gap})
    (c,) = [judge(plan, t, small_ref, 0.95) for t in targets(plan, small_ref)]
    assert c.verdict == "insufficient" and "White has n = 10" in c.reason


def test_missing_groups_and_missing_intervals_are_insufficient_with_a_reason() -> None:
    plan = plan_of(
        [{"id": "G", "metric": "auroc", "attribute": "race", "groups": ["Black", "Martian"],
          "criterion": {"at_least": 0.7}}]
    )  # fmt: skip
    data = result({"Black": (300, {"auroc": {**metric(None, None, None), "reason": "no events"}})})
    a, b = (judge(plan, t, data, 0.95) for t in targets(plan, data))
    assert a.verdict == "insufficient" and "no events" in a.reason
    assert b.verdict == "insufficient" and "no group race = Martian" in b.reason


def test_levels_per_rule() -> None:
    g = [{"id": "G", "metric": "tpr", "groups": "overall", "criterion": {"at_least": 0.5}}]
    assert check_count_level(plan_of(g), 10) == pytest.approx(1 - 0.05 / 10)
    assert check_count_level(plan_of(g, multiplicity="none"), 10) == pytest.approx(0.95)
    holm = plan_of(g, multiplicity="holm", alpha=0.1)
    assert check_count_level(holm, 10, 0) == pytest.approx(1 - 0.1 / 10)  # = Bonferroni
    assert check_count_level(holm, 10, 3) == pytest.approx(1 - 0.2 / 17)
    with pytest.raises(PlanError):
        check_count_level(holm, 0)


def normal_runner(est: dict[str, float], se: dict[str, float], calls: list[float]) -> Any:
    """run(level): Wald intervals est ± z·se of the race groups' TPR at that level."""

    def run(level: float) -> dict[str, Any]:
        calls.append(level)
        z = norm.ppf(0.5 + level / 2)
        return result(
            {g: (1000, {"tpr": metric(e, e - z * se[g], e + z * se[g])}) for g, e in est.items()},
            level=level,
        )

    return run


@pytest.mark.parametrize("seed", range(40))
def test_holm_and_bonferroni_match_statsmodels_on_the_one_sided_p_values(seed: int) -> None:
    """Each check = two one-sided claims; the plan's verdicts must be exactly the claims that
    statsmodels' Holm / Bonferroni rejects over the 2k one-sided p-values."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 9))
    names = [f"g{i}" for i in range(k)]
    bound = 0.6
    se = {g: float(rng.uniform(0.01, 0.05)) for g in names}
    est = {g: bound + float(rng.normal(0, 3.2)) * se[g] for g in names}
    gate = [{"id": "G", "metric": "tpr", "attribute": "race", "criterion": {"at_least": bound}}]
    for rule in ("holm", "bonferroni"):
        plan = plan_of(gate, multiplicity=rule, alpha=0.05)
        calls: list[float] = []
        run = normal_runner(est, se, calls)
        report = decide(plan, run, run(0.95))
        z = np.array([(est[g] - bound) / se[g] for g in names])
        p = np.concatenate([norm.sf(z), norm.cdf(z)])  # pass claims, then fail claims
        reject = multipletests(p, alpha=0.05, method=rule)[0]
        expected = [
            "pass" if reject[i] else "fail" if reject[k + i] else "insufficient" for i in range(k)
        ]
        assert [c.verdict for c in report.checks] == expected, (rule, seed)
        assert report.k == k
        if rule == "bonferroni":
            assert [c.level for c in report.checks] == [pytest.approx(1 - 0.05 / k)] * k


def test_one_sided_error_of_a_bonferroni_check_is_at_most_alpha_over_2k() -> None:
    """At a true value exactly on an at_least bound, a Wilson-interval check at 1 − α/k passes
    wrongly with probability ≈ α/(2k) (exact binomial sum, not a simulation)."""
    from scipy.stats import binom

    from assessment.evaluation.intervals import wilson

    k, alpha, n, p0 = 5, 0.05, 400, 0.7
    level = 1 - alpha / k
    x = np.arange(n + 1)
    lo, _hi = wilson(x.astype(float), np.full(n + 1, float(n)), level)
    wrong_pass = float(binom.pmf(x, n, p0)[lo >= p0].sum())
    assert wrong_pass <= alpha / (2 * k) * 1.5  # Wilson's one-sided error is near nominal
    assert wrong_pass >= alpha / (2 * k) * 0.3


@pytest.mark.parametrize(
    ("criterion", "inside", "outside", "straddle"),
    [
        ({"at_least": 0.7}, (0.72, 0.8), (0.5, 0.69), (0.65, 0.75)),
        ({"at_most": 0.2}, (0.1, 0.2), (0.25, 0.3), (0.15, 0.25)),
        ({"ratio_at_most": 1.25}, (0.9, 1.2), (1.3, 1.6), (1.1, 1.4)),
        ({"ratio_between": [0.8, 1.25]}, (0.85, 1.2), (1.3, 1.5), (0.7, 0.9)),
        ({"difference_at_most": 0.05}, (-0.2, 0.04), (0.06, 0.1), (0.0, 0.1)),
        ({"difference_between": [-0.05, 0.05]}, (-0.04, 0.05), (-0.2, -0.06), (0.03, 0.08)),
    ],
)
def test_each_criterion_kind_through_judge(
    criterion: dict[str, Any],
    inside: tuple[float, float],
    outside: tuple[float, float],
    straddle: tuple[float, float],
) -> None:
    kind = next(iter(criterion))
    versus = None if kind in ("at_least", "at_most") else "reference"
    plan = plan_of([{"id": "G", "metric": "tpr", "attribute": "race", "versus": versus,
                     "criterion": criterion}])  # fmt: skip
    on = "ratio" if kind.startswith("ratio") else "difference"
    for (lo, hi), expected in ((inside, "pass"), (outside, "fail"), (straddle, "insufficient")):
        entry = metric((lo + hi) / 2, lo, hi)
        decoy = metric(99.0, 98.0, 100.0)  # the other quantity must not be read
        if versus is None:
            data = result({"White": (500, {}), "Black": (500, {"tpr": entry})})
            (check,) = [judge(plan, t, data, 0.95) for t in targets(plan, data)
                        if t.group == "Black"]  # fmt: skip
        else:
            gap = {on: entry, ("difference" if on == "ratio" else "ratio"): decoy}
            data = result({"White": (500, {}), "Black": (500, {})}, {"Black": gap})
            (check,) = [judge(plan, t, data, 0.95) for t in targets(plan, data)]
        assert check.verdict == expected, (criterion, lo, hi)
        assert (check.ci_low, check.ci_high) == (lo, hi)
        assert check.on == ("value" if versus is None else on)
