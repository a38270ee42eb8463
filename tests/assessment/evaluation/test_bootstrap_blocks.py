"""Bootstrap replicates in blocks of bounded memory, and the limit on B (issue 9, finding 3)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from scipy.special import expit

from assessment.errors import EvaluationError
from assessment.evaluation import bootstrap as boot
from assessment.evaluation.boot_blocks import BLOCK_BUDGET, block_size
from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.intervals import EXACT_RESAMPLE_MAX
from assessment.evaluation.limits import MAX_BOOTSTRAP
from assessment.evaluation.spec import EvaluationSpec


def _data(n_per: int = 400, k: int = 3, seed: int = 5) -> EvaluationInput:
    rng = np.random.default_rng(seed)
    n = n_per * k
    g = np.repeat(np.arange(k), n_per).astype(np.int32)
    y = rng.random(n) < 0.3
    score = expit(rng.normal(0, 1, n) + 1.4 * y - 1.0)
    labels = tuple(f"g{i}" for i in range(k))
    return EvaluationInput(
        y, score, None, "probability", (Attribute("g", g, labels),),
        Provenance("f", "0" * 64, n, n),
    )  # fmt: skip


def test_block_size_keeps_a_block_within_the_budget() -> None:
    for groups, features in ((1, 4), (12, 20), (2000, 20)):
        k = block_size(groups, features)
        assert k >= 1
        assert k * (24 * EXACT_RESAMPLE_MAX + 8 * groups * features) <= BLOCK_BUDGET
    assert block_size(12, 20) >= 1000  # the default B is one block: results unchanged


def test_blocked_replicates_are_a_valid_bootstrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 37 replicates give intervals that agree with one block within Monte-Carlo error
    (B = 2000: the 2.5% percentile moves by about 1/10 of the interval width at most), and every
    replicate array keeps B rows."""
    inp = _data()
    spec = EvaluationSpec(bootstrap=2000, seed=3, grid_points=2)
    whole = evaluate(inp, spec)
    monkeypatch.setattr(boot, "block_size", lambda *a: 37)
    blocked = evaluate(inp, spec)
    for g in ("g0", "g1", "g2"):
        # F1's interval is analytic (Wilson of the Jaccard index): blocks cannot change it
        f1_a, f1_b = whole.group("g", g).metrics["f1"], blocked.group("g", g).metrics["f1"]
        assert (f1_a.ci_low, f1_a.ci_high) == (f1_b.ci_low, f1_b.ci_high)
        for m in ("oe_ratio", "calibration_slope", "calibration_intercept"):
            a, b = whole.group("g", g).metrics[m], blocked.group("g", g).metrics[m]
            assert a.value == b.value
            width = a.ci_high - a.ci_low
            assert abs(a.ci_low - b.ci_low) < 0.1 * width
            assert abs(a.ci_high - b.ci_high) < 0.1 * width
            assert (a.ci_low, a.ci_high) != (b.ci_low, b.ci_high)  # really another draw


def test_peak_memory_of_a_large_b_stays_far_below_the_unblocked_arrays() -> None:
    """B = 40,000 on three groups of 400 rows: unblocked, the B × m index, count and weight
    arrays of one group alone took 3 × 40,000 × 400 × 8 bytes = 384 MB; blocked, the whole
    evaluation's peak stays under a third of that."""
    inp = _data()
    spec = EvaluationSpec(bootstrap=40_000, seed=1, grid_points=2)
    tracemalloc.start()
    try:
        evaluate(inp, spec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    unblocked = 3 * 40_000 * 400 * 8
    assert peak < unblocked / 3, peak / 1e6


@pytest.mark.parametrize("b", [MAX_BOOTSTRAP + 1, -1])
def test_b_over_the_limit_is_refused_with_one_sentence(b: int) -> None:
    with pytest.raises(EvaluationError) as exc:
        EvaluationSpec(bootstrap=b)
    msg = exc.value.message
    assert "100,000" in msg and str(b) in msg.replace(",", "") and msg.count(". ") == 0
    assert EvaluationSpec(bootstrap=MAX_BOOTSTRAP).bootstrap == MAX_BOOTSTRAP
    if b < 0:  # the sentence says what is wrong: negative, not "too many"
        assert "cannot be negative" in msg and "more adds no useful precision" not in msg
        assert "use 0 for no bootstrap intervals, or from 200 to 100,000" in msg


@pytest.mark.parametrize("b", [1, 2, 39, 199])
def test_too_few_replicates_for_a_percentile_interval_are_refused(b: int) -> None:
    with pytest.raises(EvaluationError) as exc:
        EvaluationSpec(bootstrap=b)
    msg = exc.value.message
    assert msg.startswith(f"{b} bootstrap replicates are too few for a 95% percentile interval")
    assert "from 200 to 100,000" in msg and msg.count(". ") == 0
    assert EvaluationSpec(bootstrap=0).bootstrap == 0  # no bootstrap stays allowed
    assert EvaluationSpec(bootstrap=200).bootstrap == 200


def test_the_minimum_keeps_five_replicates_beyond_each_limit() -> None:
    from assessment.evaluation.limits import min_bootstrap

    for level, low in ((0.95, 200), (0.99, 1000), (0.9, 100), (0.5, 20)):
        assert min_bootstrap(level) == low
        # the (α/2)·B-th replicate from each end: at least 5 beyond, 4.x one fewer
        assert (1 - level) / 2 * low >= 5 - 1e-9 and (1 - level) / 2 * (low - 1) < 5
    with pytest.raises(EvaluationError):
        EvaluationSpec(bootstrap=99, ci_level=0.9)
    assert EvaluationSpec(bootstrap=100, ci_level=0.9).bootstrap == 100
    # above 95% the minimum stays 200: a plan re-evaluates at its adjusted level (99.9% …)
    # with the analyst's B, and its verdicts say when B is too few for that level
    assert EvaluationSpec(bootstrap=1000, ci_level=0.999).bootstrap == 1000
    with pytest.raises(EvaluationError):
        EvaluationSpec(bootstrap=199, ci_level=0.999)


def test_a_stored_assessment_with_few_replicates_still_reads() -> None:
    stored = EvaluationSpec.from_json({"bootstrap": 50})
    assert stored.bootstrap == 50
    with pytest.raises(EvaluationError):
        EvaluationSpec(bootstrap=50)  # but a new run needs 200


def test_compare_refuses_two_replicates_in_one_sentence(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    import main

    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)
    path = tmp_path / "v.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"y": [0, 1] * 20, "a": rng.random(40), "b": rng.random(40),
                  "g": ["x", "z"] * 20}).to_csv(path, index=False)
    code = main.main(["compare", str(path), "--label", "y", "--model", "A=a", "--model", "B=b",
                      "--group", "g", "--bootstrap", "2"])  # fmt: skip
    captured = capsys.readouterr()
    err = captured.err
    assert code == 2 and "too few for a 95% percentile interval" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "95% CI" not in captured.out


def test_cli_refuses_b_over_the_limit(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    import main

    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)
    path = tmp_path / "v.csv"
    pd.DataFrame({"y": [0, 1] * 20, "p": np.linspace(0, 1, 40), "g": ["a", "b"] * 20}).to_csv(
        path, index=False
    )
    code = main.main(["evaluate", str(path), "--label", "y", "--score", "p", "--group", "g",
                      "--bootstrap", "1000000"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "100,000 or fewer" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_blocked_replicates_with_clustered_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cluster bootstrap's per-patient totals are asked for once per block: with B above the
    block size they must be there for every block (they were dropped after the first pass), and
    the intervals agree with one block within Monte-Carlo error."""
    base = _data(n_per=300)
    n = base.y_true.size
    patients = (np.arange(n) // 3).astype(np.int64)  # 3 encounters per patient, 100 per group
    inp = EvaluationInput(base.y_true, base.score, None, "probability", base.attributes,
                          base.provenance, cluster=patients)
    spec = EvaluationSpec(bootstrap=600, seed=3, grid_points=2)
    whole = evaluate(inp, spec)
    monkeypatch.setattr(boot, "block_size", lambda *a: 70)  # 9 blocks
    blocked = evaluate(inp, spec)
    for g in ("g0", "g1", "g2"):
        for m in ("f1", "oe_ratio", "calibration_slope"):
            a, b = whole.group("g", g).metrics[m], blocked.group("g", g).metrics[m]
            assert a.value == b.value and a.ci_low is not None and b.ci_low is not None
            width = a.ci_high - a.ci_low
            assert abs(a.ci_low - b.ci_low) < 0.2 * width
            assert abs(a.ci_high - b.ci_high) < 0.2 * width
