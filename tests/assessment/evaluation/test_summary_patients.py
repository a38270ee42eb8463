"""Summary measures on clustered data leave out a group whose metric rests on fewer patients
than a cluster-robust interval needs (its own interval is none), even where its rows suffice."""

from __future__ import annotations

import numpy as np

from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.spec import EvaluationSpec


def _input() -> EvaluationInput:
    rng = np.random.default_rng(7)
    # groups A, B, C: 150 patients with 2 rows each; in C only 8 patients have events (16 event
    # rows: enough rows for the engine's minimum of 10 events, too few patients for TPR)
    groups, patients, ys = [], [], []
    for g in range(3):
        pid = np.repeat(np.arange(150) + 1000 * g, 2)
        if g == 2:
            y = np.repeat(np.arange(150) < 8, 2)
        else:
            y = np.repeat(rng.random(150) < 0.3, 2)
        groups.append(np.full(300, g, np.int32))
        patients.append(pid)
        ys.append(y)
    y = np.concatenate(ys)
    p = np.clip(0.3 + 0.4 * (y - 0.3) + rng.normal(0, 0.15, y.size), 0.01, 0.99)
    _, cluster = np.unique(np.concatenate(patients), return_inverse=True)
    return EvaluationInput(
        y, p, None, "probability", (Attribute("site", np.concatenate(groups), ("A", "B", "C")),),
        Provenance("t", "0" * 64, y.size, y.size), cluster=cluster.astype(np.int32),
    )  # fmt: skip


def test_a_group_with_too_few_patients_behind_tpr_does_not_set_a_tpr_measure() -> None:
    res = evaluate(_input(), EvaluationSpec(threshold=0.4, bootstrap=200, seed=1))
    c = res.groups_of("site")[2]
    assert "insufficient_data" not in c.flags  # its rows suffice
    assert c.metrics["tpr"].ci_low is None  # its TPR rests on 8 patients: no interval
    measures = {m.measure: m for m in res.summary}
    for name in ("equal_opportunity_difference", "equalized_odds_difference", "auroc_gap"):
        m = measures[name]
        assert m.excluded_groups is not None and "C" in m.excluded_groups, name
        assert "only 8 patients behind this statistic" in m.excluded_groups["C"]
        assert "C" not in m.set_by
    # the selection rate rests on all 150 of C's patients: C enters demographic parity
    dp = measures["demographic_parity_difference"]
    assert not dp.excluded_groups or "C" not in dp.excluded_groups
