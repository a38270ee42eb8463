"""Mirror metrics have one verdict (issue 9, attack finding 1).

TPR/FNR and FPR/TNR measure the same gap. The pair is judged once, on the member that carries it
in the multiplicity family (TPR, FPR), with that member's tolerance; the other member shows the
same flags with the reason "judged on FPR, its mirror". A tolerance given for the other member is
translated (a difference) or refused (a ratio band).
"""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from assessment.errors import EvaluationError
from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.mirrors import MIRRORS
from assessment.evaluation.spec import (
    DEFAULT_TOLERANCES,
    EvaluationSpec,
    MetricTolerance,
    ReferenceSpec,
)

REF_A = ReferenceSpec("value", {"g": "a"})


def _two_groups(fp: tuple[int, int], tp: tuple[int, int] = (400, 400)) -> EvaluationInput:
    """Groups a and b, each 1000 non-events and 500 events; ``fp`` false and ``tp`` true
    positives per group."""
    parts = []
    for code in (0, 1):
        y = np.r_[np.zeros(1000, bool), np.ones(500, bool)]
        pred = np.r_[np.arange(1000) < fp[code], np.arange(500) < tp[code]]
        parts.append((np.full(1500, code, np.int32), y, pred))
    g, y, pred = (np.concatenate(a) for a in zip(*parts, strict=True))
    return EvaluationInput(
        y, None, pred, "class", (Attribute("g", g, ("a", "b")),),
        Provenance("f", "0" * 64, 3000, 3000),
    )  # fmt: skip


def _pair(spec: EvaluationSpec, inp: EvaluationInput, primary: str = "fpr"):  # type: ignore[no-untyped-def]
    res = evaluate(inp, spec)
    mirror = next(m for m, p in MIRRORS.items() if p == primary)
    return res.disparity("g", "b", primary), res.disparity("g", "b", mirror)


def test_the_attack_case_an_fpr_tolerance_silences_the_tnr_flag() -> None:
    """FPR 0.05 vs 0.20 (ratio 4, TNR gap −0.15). With fpr=ratio:0.2,5 the report used to say
    "FPR within tolerance" and "TNR flagged" (TNR's own |difference| > 0.05) for one gap."""
    inp = _two_groups(fp=(50, 200))
    spec = EvaluationSpec(
        bootstrap=0, reference=REF_A, tolerances={"fpr": MetricTolerance("ratio", 0.2, 5.0)}
    )
    fpr, tnr = _pair(spec, inp)
    assert fpr.ratio.value == pytest.approx(4.0) and tnr.difference.value == pytest.approx(-0.15)
    assert not fpr.flagged and not fpr.flagged_adjusted
    assert not tnr.flagged and not tnr.flagged_adjusted
    assert tnr.reason == "judged on FPR, its mirror"
    assert tnr.tolerance == "judged on FPR, its mirror: ratio outside [0.2, 5]"
    # the default band flags both, with one reason
    fpr, tnr = _pair(EvaluationSpec(bootstrap=0, reference=REF_A), inp)
    assert fpr.flagged and tnr.flagged and fpr.flagged_adjusted and tnr.flagged_adjusted
    assert tnr.reason == f"judged on FPR, its mirror: {fpr.reason}"
    assert tnr.p_adjusted == fpr.p_adjusted


def test_a_tnr_only_gap_is_judged_once() -> None:
    """FPR 0.50 vs 0.60: ratio 1.2 (inside the four-fifths band) but a TNR difference of 0.10
    (beyond TNR's old ±0.05). One verdict: judged on FPR, neither flagged; with a TNR difference
    limit (translated onto FPR) both are flagged, on the same interval."""
    inp = _two_groups(fp=(500, 600))
    fpr, tnr = _pair(EvaluationSpec(bootstrap=0, reference=REF_A), inp)
    assert fpr.ratio.value == pytest.approx(1.2)
    assert tnr.difference.value == pytest.approx(-0.1)
    assert tnr.difference.ci_high is not None and tnr.difference.ci_high < 0  # a real gap
    assert (fpr.flagged, tnr.flagged) == (False, False)
    spec = EvaluationSpec(
        bootstrap=0, reference=REF_A, tolerances={"tnr": MetricTolerance("diff", limit=0.05)}
    )
    assert spec.tolerance_for("fpr") == MetricTolerance("diff", limit=0.05)
    fpr, tnr = _pair(spec, inp)
    assert (fpr.flagged, tnr.flagged) == (True, True)
    assert (fpr.flagged_adjusted, tnr.flagged_adjusted) == (True, True)
    assert fpr.tolerance == "|difference| > 0.05"
    # the difference interval is the same gap, sign reversed (statsmodels' Newcombe)
    lo, hi = confint_proportions_2indep(600, 1000, 500, 1000, method="newcomb")
    assert (fpr.difference.ci_low, fpr.difference.ci_high) == pytest.approx((lo, hi), rel=1e-9)
    assert (tnr.difference.ci_low, tnr.difference.ci_high) == pytest.approx((-hi, -lo), rel=1e-9)


def test_fnr_is_judged_on_tpr() -> None:
    """TPR 0.90 vs 0.80, FNR 0.10 vs 0.20: twice the missed events. One verdict, TPR's, on its
    default difference limit of 0.05 (a ratio band on TPR, 0.89, would have hidden it); with a
    looser TPR limit neither member is flagged."""
    inp = _two_groups(fp=(100, 100), tp=(450, 400))
    tpr, fnr = _pair(EvaluationSpec(bootstrap=0, reference=REF_A), inp, "tpr")
    assert fnr.ratio.value == pytest.approx(2.0) and tpr.ratio.value == pytest.approx(8 / 9)
    assert tpr.tolerance == "|difference| > 0.05"
    assert (tpr.flagged, fnr.flagged) == (True, True)
    assert fnr.reason == f"judged on TPR, its mirror: {tpr.reason}"
    loose = EvaluationSpec(
        bootstrap=0, reference=REF_A, tolerances={"tpr": MetricTolerance("diff", limit=0.15)}
    )
    tpr, fnr = _pair(loose, inp, "tpr")
    assert (tpr.flagged, fnr.flagged) == (False, False)
    assert fnr.reason == "judged on TPR, its mirror"


def test_every_mirror_shows_its_primary_flags_on_random_data() -> None:
    rng = np.random.default_rng(11)
    n = 4000
    g = rng.integers(0, 4, n).astype(np.int32)
    y = rng.random(n) < 0.3
    pred = rng.random(n) < np.where(y, 0.6 + 0.08 * g, 0.2 + 0.06 * g)
    inp = EvaluationInput(
        y, None, pred, "class", (Attribute("g", g, tuple("abcd")),), Provenance("f", "0" * 64, n, n)
    )
    res = evaluate(inp, EvaluationSpec(bootstrap=0, reference=REF_A))
    seen = 0
    for d in res.disparities:
        if d.metric in MIRRORS:
            p = res.disparity(d.attribute, d.group, MIRRORS[d.metric])
            assert (d.flagged, d.flagged_adjusted) == (p.flagged, p.flagged_adjusted)
            assert d.p_adjusted == p.p_adjusted
            assert (d.reason or "").startswith(f"judged on {p.metric.upper()}, its mirror")
            seen += p.flagged
    assert seen >= 2  # the check saw flagged pairs, not only quiet ones


def test_spec_translates_or_refuses_a_mirror_tolerance() -> None:
    assert "tnr" not in DEFAULT_TOLERANCES and "fnr" not in DEFAULT_TOLERANCES
    spec = EvaluationSpec(tolerances={"fnr": MetricTolerance("diff", limit=0.07)})
    assert (
        spec.tolerance_for("tpr")
        == spec.tolerance_for("fnr")
        == MetricTolerance("diff", limit=0.07)
    )
    assert spec.tolerance_for("tnr") == DEFAULT_TOLERANCES["fpr"]
    with pytest.raises(EvaluationError) as exc:
        EvaluationSpec(tolerances={"tnr": MetricTolerance("ratio", 0.8, 1.25)})
    msg = exc.value.message
    assert "judged on FPR" in msg and "tolerance is set on fpr" in msg and msg.count(". ") == 0
    with pytest.raises(EvaluationError, match="one tolerance, set on tpr"):
        EvaluationSpec(
            tolerances={
                "tpr": MetricTolerance("ratio", 0.8, 1.25),
                "fnr": MetricTolerance("diff", limit=0.1),
            }
        )
    same = MetricTolerance("diff", limit=0.1)
    assert EvaluationSpec(tolerances={"tpr": same, "fnr": same}).tolerance_for("fnr") == same


def test_a_stored_spec_with_an_old_mirror_ratio_band_is_still_read() -> None:
    """Before issue 9 the app accepted a ratio band on TNR; a stored file with one is read (the
    band has no equivalent on FPR, so a re-run judges the pair with FPR's tolerance)."""
    stored = {
        "tolerances": {
            "tnr": {"kind": "ratio", "low": 0.9, "high": 1.1},
            "fnr": {"kind": "diff", "limit": 0.2},
            "tpr": {"kind": "ratio", "low": 0.5, "high": 2},
            "auroc": {"kind": "diff", "limit": 0.02},
        }
    }
    spec = EvaluationSpec.from_json(stored)
    assert spec.tolerances == {
        "tpr": MetricTolerance("ratio", 0.5, 2.0),
        "auroc": MetricTolerance("diff", limit=0.02),
    }
    assert spec.tolerance_for("tnr") == DEFAULT_TOLERANCES["fpr"]



def test_the_cli_shows_the_one_verdict() -> None:
    """The CLI's text reads the flag and its tolerance from the result: the flagged TNR row
    says it was judged on FPR (the app's table: tests/gui/test_mirror_verdict_table.py)."""
    import io

    from assessment.evaluation.cli_output import print_summary

    res = evaluate(_two_groups(fp=(50, 200)), EvaluationSpec(bootstrap=0, reference=REF_A))
    out = io.StringIO()
    print_summary(res, out)
    line = next(x for x in out.getvalue().splitlines() if "b vs a, tnr" in x)
    assert "tolerance judged on FPR, its mirror: ratio outside [0.8, 1.25]" in line


def test_the_multiplicity_note_counts_a_mirror_pair_once() -> None:
    """FPR 0.05 vs 0.20 is one disparity, shown on FPR and on TNR: the note's flag counts (which
    the report quotes) count it once, not twice."""
    res = evaluate(_two_groups(fp=(50, 200)), EvaluationSpec(bootstrap=0, reference=REF_A))
    fpr, tnr = res.disparity("g", "b", "fpr"), res.disparity("g", "b", "tnr")
    assert fpr.flagged and tnr.flagged
    raw = sum(d.flagged for d in res.disparities if d.metric not in MIRRORS)
    adj = sum(d.flagged_adjusted for d in res.disparities if d.metric not in MIRRORS)
    assert raw < sum(d.flagged for d in res.disparities)
    note = next(n for n in res.notes if n.startswith("multiplicity:"))
    assert f" {raw} disparities are flagged on their unadjusted" in note
    assert f"interval, {adj} after adjustment (a mirror pair's one verdict counted once)" in note


def test_the_cli_tags_both_mirror_lines_and_counts_the_pair_once() -> None:
    """Group b has too few events (min_events 600): its flagged FPR line and the TNR line that
    repeats it both carry "[insufficient data]"; the header counts one gap, not two."""
    import io

    from assessment.evaluation.cli_output import print_summary

    spec = EvaluationSpec(bootstrap=0, reference=REF_A, min_events=600)
    res = evaluate(_two_groups(fp=(50, 200)), spec)
    assert ("g", "b") in {(g.attribute, g.group) for g in res.insufficient()}
    out = io.StringIO()
    print_summary(res, out)
    lines = out.getvalue().splitlines()
    for metric in ("fpr", "tnr"):
        line = next(x for x in lines if f"b vs a, {metric}:" in x)
        assert line.endswith("[insufficient data]"), line
    flagged = [d for d in res.disparities if d.flagged_adjusted]
    gaps = sum(d.metric not in MIRRORS for d in flagged)
    raw = sum(d.metric not in MIRRORS for d in res.flagged())
    assert gaps < len(flagged)
    header = next(x for x in lines if x.startswith("Flagged disparities"))
    assert header.startswith(
        f"Flagged disparities ({gaps}, {len(flagged)} lines with the mirrors, holm-adjusted "
        f"within each metric family; {raw} on unadjusted intervals; a mirror pair")
