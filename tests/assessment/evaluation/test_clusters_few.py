"""Cluster-robust intervals with too few clusters (none, with the reason; no disparity interval
and no flag) and clustered variances below the unclustered ones (floored, with a note)."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd

from assessment.evaluation import intervals as iv
from assessment.evaluation.engine import evaluate
from assessment.evaluation.mapping import ColumnMapping, prepare_input
from assessment.evaluation.spec import EvaluationSpec, ReferenceSpec


def _frame(patients: dict[str, int], per: int = 6, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for site, k in patients.items():
        for pid in range(k):
            u = rng.normal(0, 1.5)
            for _ in range(per):
                eta = -0.5 + u + rng.normal(0, 1)
                y = int(rng.random() < 1 / (1 + np.exp(-eta)))
                # the minority site's score is much worse, so an unguarded comparison flags it
                score = (eta if site != "B" else -eta) + rng.normal(0, 0.3)
                rows.append((f"{site}{pid}", site, y, 1 / (1 + np.exp(-score))))
    return pd.DataFrame(rows, columns=["pid", "site", "y", "p"])


def _run(frame: pd.DataFrame, cluster: str | None = "pid", bootstrap: int = 0):  # type: ignore[no-untyped-def]
    mapping = ColumnMapping(label="y", score="p", attributes=["site"], cluster=cluster)
    return evaluate(prepare_input(frame, mapping), EvaluationSpec(bootstrap=bootstrap, seed=3))


def test_a_group_with_few_patients_gets_no_interval_no_disparity_interval_and_no_flag() -> None:
    res = _run(_frame({"A": 150, "B": 5}), bootstrap=200)
    sub = {g.group: g for g in res.groups}
    why = "only 5 patients (clusters) in this group; cluster-robust intervals need at least 20"
    for mid in ("tpr", "fpr", "auroc", "brier", "balanced_accuracy", "f1"):
        m = sub["B"].metrics[mid]
        assert m.value is not None and m.ci_low is None and m.ci_high is None, mid
        # the group's 5 patients, or fewer behind the statistic (those with an event for TPR)
        assert m.reason == why or re.fullmatch(
            r"only [1-5] patients? behind this statistic \(clusters\) in this group; "
            r"cluster-robust intervals need at least 20", str(m.reason)), (mid, m.reason)
        assert sub["A"].metrics[mid].ci_low is not None, mid
    b = [d for d in res.disparities if d.group == "B"]
    assert b and all(d.difference.ci_low is None and not d.flagged for d in b)
    assert all(d.p_value is None for d in b)
    assert any(d.difference.reason == why for d in b if d.metric == "brier")
    assert all(str(d.difference.reason).startswith("only ") for d in b if d.metric == "tpr")
    assert any("too few patients (clusters)" in n and "site=B (5)" in n for n in res.notes)
    # without clusters the same rows (30) are enough, and the gap is flagged
    plain = _run(_frame({"A": 150, "B": 5}), cluster=None)
    assert any(d.group == "B" and d.flagged for d in plain.disparities)


def test_the_reference_with_few_patients_blocks_the_comparison() -> None:
    frame = _frame({"A": 150, "B": 5})
    mapping = ColumnMapping(label="y", score="p", attributes=["site"], cluster="pid")
    spec = EvaluationSpec(bootstrap=0, reference=ReferenceSpec("value", {"site": "B"}))
    res = evaluate(prepare_input(frame, mapping), spec)
    a = [d for d in res.disparities if d.group == "A" and d.metric == "brier"]
    assert a and a[0].difference.ci_low is None and not a[0].flagged
    assert a[0].difference.reason is not None
    assert a[0].difference.reason.startswith("reference group: only 5 patients (clusters)")
    # TPR rests on the reference's patients with an event (4 of the 5)
    t = next(d for d in res.disparities if d.group == "A" and d.metric == "tpr")
    assert t.difference.ci_low is None and not t.flagged
    assert str(t.difference.reason).startswith("reference group: only 4 patients behind")


def test_cluster_equal_to_the_group_column_gives_no_clustered_intervals() -> None:
    """The tester's case: --cluster race --group race, one 'patient' per group."""
    frame = _frame({"A": 40, "B": 30, "C": 25})
    res = _run(frame, cluster="site")
    for g in res.groups:
        assert g.metrics["tpr"].ci_low is None and g.metrics["auroc"].ci_low is None
        assert g.metrics["tpr"].reason is not None and "only 1 patient (clusters)" in (
            g.metrics["tpr"].reason)
    assert res.overall.metrics["tpr"].ci_low is None  # 3 patients in all
    assert any(n.startswith("clustered:") and "so there are none" in n for n in res.notes)
    assert not any(d.flagged for d in res.disparities)


def test_a_clustered_variance_below_the_unclustered_one_is_floored_and_noted() -> None:
    # every patient has one positive and one negative, predicted perfectly alike: the cluster
    # totals vary less than independent rows would (negative within-patient correlation)
    rng = np.random.default_rng(5)
    rows = []
    for k in range(60):
        hit = k % 2 == 0
        for y in (1, 1, 0, 0):
            p = (0.8 if hit else 0.3) if y else (0.4 if hit else 0.1)
            rows.append((f"p{k}", "AB"[k % 2], y, p))
            hit = not hit
    frame = pd.DataFrame(rows, columns=["pid", "site", "y", "p"])
    plain, clu = _run(frame, cluster=None), _run(frame)
    for mid in ("tpr", "fpr", "auroc", "brier"):
        a, b = plain.overall.metrics[mid], clu.overall.metrics[mid]
        assert a.ci_low is not None and b.ci_low is not None, mid
        assert b.ci_high - b.ci_low >= a.ci_high - a.ci_low - 1e-9, mid
    note = [n for n in clu.notes if n.startswith("clustered variance below the unclustered")]
    assert note and "overall" in note[0] and "tpr" in note[0]
    del rng


def test_too_few_clusters_reason() -> None:
    assert iv.too_few_clusters(19.0) is not None and iv.too_few_clusters(20.0) is None
    assert iv.too_few_clusters(0.0) is None
    assert replace  # imported for symmetry with test_clusters


def test_the_rule_counts_the_patients_behind_each_statistic() -> None:
    """A group of 40 patients, only 12 of them with an event: TPR, FNR, AUROC and balanced
    accuracy rest on 12 patients (no interval), FPR and TNR on the 40 with a non-event."""
    frame = _frame({"A": 150, "C": 40})
    c = frame["site"] == "C"
    number = frame["pid"].str[1:].astype(int)
    frame.loc[c, "y"] = (number[c] < 12).astype(int)  # patients C0–C11: events only
    res = _run(frame)
    sub = {g.group: g for g in res.groups}["C"].metrics
    for mid in ("tpr", "fnr", "auroc", "balanced_accuracy"):
        assert sub[mid].value is not None and sub[mid].ci_low is None, mid
        assert sub[mid].reason == (
            "only 12 patients behind this statistic (clusters) in this group; cluster-robust "
            "intervals need at least 20"), (mid, sub[mid].reason)
    for mid in ("fpr", "tnr", "brier"):
        assert sub[mid].ci_low is not None, mid
    # the comparison with the reference follows the same count: no TPR interval, no flag
    for mid in ("tpr", "fnr", "auroc"):
        d = res.disparity("site", "C", mid)
        assert d.difference.ci_low is None and d.p_value is None and not d.flagged, mid
        assert str(d.difference.reason).startswith(
            "only 12 patients behind this statistic (clusters)"), (mid, d.difference.reason)
    assert res.disparity("site", "C", "fpr").difference.ci_low is not None
