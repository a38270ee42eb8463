"""Calibration fits on degenerate data found by hypothesis: one event among scores that are
almost all exactly 0 or 1 drives the offset model's Hessian to ~1e-322. The fit must end as
the maximum-likelihood value (a capped Newton step reaches it), never an overflow warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import expit

from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.spec import EvaluationSpec


def test_one_event_among_exact_zero_one_scores_gives_no_overflow() -> None:
    # The exact case hypothesis found: 149 rows, the one event scored 0.11, every other row
    # a non-event scored exactly 0 or 1 (76 of them at 1).
    ones = [
        int(i)
        for i in (
            "3 4 5 7 8 9 11 12 13 16 20 21 22 24 25 26 29 32 34 35 37 40 41 42 45 48 50 51 54 "
            "56 57 61 62 64 66 67 69 71 72 74 75 79 81 82 83 84 85 88 91 92 94 95 96 97 101 "
            "102 103 104 109 111 116 117 119 120 122 126 129 132 133 134 136 140 142 143 145 "
            "147 "
        ).split()
    ]
    n = 149
    y = np.zeros(n, dtype=bool)
    y[0] = True
    score = np.zeros(n)
    score[ones] = 1.0
    score[0] = 0.11
    attr = Attribute("g", np.zeros(n, dtype=np.int32), ("G0",))
    inputs = EvaluationInput(
        y, score, None, "probability", (attr,), Provenance("t.csv", "0" * 64, n, n)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = evaluate(inputs, EvaluationSpec(threshold=0.0, bootstrap=0))
    payload = res.to_json()
    # The offset model's MLE exists (one event, 148 non-events): its score equation
    # sum(y - expit(logit(p) + a)) = 0 is monotone in a, so a root finder gives it
    # independently (statsmodels' GLM wanders off to -4e15 and calls that converged).
    p = np.clip(score, 1e-10, 1 - 1e-10)
    lp = np.log(p / (1 - p))
    alpha = brentq(lambda a: float(np.sum(y - expit(lp + a))), -60.0, 10.0, xtol=1e-12)
    intercept = payload["overall"]["metrics"]["calibration_intercept"]["value"]
    assert intercept == pytest.approx(alpha, abs=1e-6)
    slope = payload["overall"]["metrics"]["calibration_slope"]
    assert slope["value"] is None or np.isfinite(slope["value"])
