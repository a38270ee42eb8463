"""F1's interval: the Wilson score interval of the Jaccard index J = TP/(TP + FP + FN), mapped
to F1 = 2J/(1 + J), checked against statsmodels' Wilson interval."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.spec import EvaluationSpec


def test_f1_interval_is_wilson_of_the_jaccard_index() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    codes = rng.choice(4, size=n, p=[0.05, 0.15, 0.3, 0.5]).astype(np.int32)
    y = rng.random(n) < 0.05 + 0.1 * codes
    p = np.clip(0.05 + 0.1 * codes + 0.3 * y + rng.normal(0, 0.15, n), 0.001, 0.999)
    inp = EvaluationInput(
        y, p, None, "probability", (Attribute("g", codes, ("a", "b", "c", "d")),),
        Provenance("t", "0" * 64, n, n),
    )  # fmt: skip
    res = evaluate(inp, EvaluationSpec(threshold=0.2, bootstrap=200, seed=1))
    for g, group in enumerate(res.groups_of("g")):
        sel = codes == g
        pred = p[sel] >= 0.2
        tp = int(np.sum(pred & y[sel]))
        m = tp + int(np.sum(pred & ~y[sel])) + int(np.sum(~pred & y[sel]))
        lo, hi = proportion_confint(tp, m, alpha=0.05, method="wilson")
        f1 = group.metrics["f1"]
        assert f1.value == pytest.approx(2 * tp / (tp + m), rel=1e-12)
        assert f1.ci_low == pytest.approx(2 * lo / (1 + lo), abs=1e-12)
        assert f1.ci_high == pytest.approx(2 * hi / (1 + hi), abs=1e-12)
    method = res.method("f1")
    assert method is not None and "Jaccard" in method and "Wilson" in method
