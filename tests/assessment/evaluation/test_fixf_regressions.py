"""Regressions of issue 9's attack report (items 3, 5, 6, 10), each failing before its fix."""

from __future__ import annotations

import numpy as np

from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.spec import EvaluationSpec


def _inputs(y: np.ndarray, score: np.ndarray, *attrs: Attribute) -> EvaluationInput:
    n = y.size
    return EvaluationInput(y, score, None, "probability", attrs, Provenance("t.csv", "0" * 64, n, n))


# ------------------------------------------------------------ 6. threshold grid in decimals


def test_grid_rows_are_the_decimal_thresholds() -> None:
    """A grid row printed 0.35 is --threshold 0.35: a score of exactly 0.35 counts as positive
    (np.linspace gave 0.35000000000000003, which put it below the threshold)."""
    rng = np.random.default_rng(3)
    n = 400
    score = np.round(rng.random(n), 2)
    y = rng.random(n) < score
    g = Attribute("g", (np.arange(n) % 2).astype(np.int32), ("A", "B"))
    spec = EvaluationSpec(bootstrap=0)
    res = evaluate(_inputs(y, score, g), spec).to_json()
    grid = res["threshold_grid"]
    thresholds = grid["thresholds"]
    assert thresholds == [float(f"{k / 100:.2f}") for k in range(101)]
    overall = next(e for e in grid["groups"] if e["attribute"] == grid["groups"][0]["attribute"])
    for t in (0.35, 0.57, 0.7):
        k = thresholds.index(t)
        truth = float(np.sum((score >= t) & y) / np.sum(y))
        assert overall["tpr"][k] == truth
