"""Point metrics for every group of every grouping, vectorised over groups.

The design follows one rule: no Python loop over rows or over groups for anything that scales
with the data. Each grouping (an attribute, an intersection, or everyone) is a vector of integer
group codes; counts come from ``np.bincount`` on ``code * 2 + outcome``; AUROC comes from a single
global sort of the scores followed by a (radix, stable) sort of the group codes, which puts every
group's scores in ascending order side by side, so tie blocks and rank sums are found for all
groups at once. Logistic recalibration is a damped Newton–Raphson fit (step halving on the
log-likelihood) run for all groups together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# The metric families are views of the catalogue (re-exported for the engine's modules).
from assessment.catalogue import BOOTSTRAP_METRICS as BOOTSTRAP_METRICS
from assessment.catalogue import PROPORTION_METRICS as PROPORTION_METRICS
from assessment.catalogue import THRESHOLD_METRICS as THRESHOLD_METRICS

# The implementation lives in groupings.py, auroc.py and calibration.py; every name stays
# importable from here.
from assessment.evaluation.auroc import AurocResult as AurocResult
from assessment.evaluation.auroc import SortedScores as SortedScores
from assessment.evaluation.auroc import auroc_delong as auroc_delong
from assessment.evaluation.auroc import auroc_reasons as auroc_reasons
from assessment.evaluation.auroc import placement_covariance as placement_covariance
from assessment.evaluation.calibration import CONSTANT_SCORE as CONSTANT_SCORE
from assessment.evaluation.calibration import EXP_MAX as EXP_MAX
from assessment.evaluation.calibration import LOGIT_EPS as LOGIT_EPS
from assessment.evaluation.calibration import MAX_HALVINGS as MAX_HALVINGS
from assessment.evaluation.calibration import MAX_NEWTON_STEP as MAX_NEWTON_STEP
from assessment.evaluation.calibration import NEWTON_MAX_ITER as NEWTON_MAX_ITER
from assessment.evaluation.calibration import NEWTON_TOL as NEWTON_TOL
from assessment.evaluation.calibration import NOT_CONVERGED as NOT_CONVERGED
from assessment.evaluation.calibration import SEPARATED as SEPARATED
from assessment.evaluation.calibration import FitResult as FitResult
from assessment.evaluation.calibration import NewtonRows as NewtonRows
from assessment.evaluation.calibration import Recalibration as Recalibration
from assessment.evaluation.calibration import damped_newton as damped_newton
from assessment.evaluation.calibration import expit as expit
from assessment.evaluation.calibration import logit as logit
from assessment.evaluation.calibration import recalibrate as recalibrate
from assessment.evaluation.calibration import score_ranges as score_ranges
from assessment.evaluation.calibration import slope_identifiable as slope_identifiable
from assessment.evaluation.groupings import OVERALL_ATTRIBUTE as OVERALL_ATTRIBUTE
from assessment.evaluation.groupings import OVERALL_GROUP as OVERALL_GROUP
from assessment.evaluation.groupings import Counts as Counts
from assessment.evaluation.groupings import Grouping as Grouping
from assessment.evaluation.groupings import _ratio, wide
from assessment.evaluation.groupings import build_groupings as build_groupings
from assessment.evaluation.groupings import confusion_counts as confusion_counts
from assessment.evaluation.groupings import proportion_parts as proportion_parts
from assessment.evaluation.groupings import stratum_keys as stratum_keys


def threshold_metrics(c: Counts) -> dict[str, tuple[np.ndarray, list[str | None]]]:
    """All threshold-dependent point metrics with a reason wherever a value is undefined."""
    out: dict[str, tuple[np.ndarray, list[str | None]]] = {}
    for mid, (num, den, why) in proportion_parts(c).items():
        val = _ratio(num, den)
        out[mid] = (val, [why if d <= 0 else None for d in den])
    f1_den = 2 * c.tp + c.fp + c.fn
    out["f1"] = (
        _ratio(2 * c.tp, f1_den),
        [
            "no positive outcomes and no predicted positives (F1 is 0/0)" if d <= 0 else None
            for d in f1_den
        ],
    )
    tpr = _ratio(c.tp, c.n_pos)
    tnr = _ratio(c.tn, c.n_neg)
    bal = (tpr + tnr) / 2
    out["balanced_accuracy"] = (bal, auroc_reasons(c.n_pos, c.n_neg))
    return out


def grid_counts(
    grouping: Grouping, keys: np.ndarray, bin_index: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per group, positives and negatives with score ≥ each of k grid thresholds.

    ``bin_index[i]`` = number of thresholds ≤ score_i (``searchsorted(..., 'right')``), shared by
    all groupings; one bincount per grouping, then a reverse cumulative sum.
    """
    size = grouping.size
    cnt = np.bincount(keys * (k + 1) + bin_index, minlength=size * 2 * (k + 1))
    cnt = cnt.reshape(size, 2, k + 1)
    ge = np.cumsum(cnt[:, :, ::-1], axis=2)[:, :, ::-1][:, :, 1:]
    return ge[:, 1, :].astype(np.float64), ge[:, 0, :].astype(np.float64)


def reliability(
    grouping: Grouping, p: np.ndarray, y: np.ndarray, bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Equal-width reliability bins on [0, 1]: count, Σp and Σy per (group, bin)."""
    size = grouping.size
    b = np.minimum((p * bins).astype(np.intp), bins - 1)
    key = wide(grouping.codes) * bins + b
    m = size * bins
    count = np.bincount(key, minlength=m).reshape(size, bins).astype(np.float64)
    sp = np.bincount(key, weights=p, minlength=m).reshape(size, bins)
    sy = np.bincount(key, weights=y, minlength=m).reshape(size, bins)
    return count, sp, sy


@dataclass
class GroupingStats:
    """Everything computed for one grouping, as arrays over its groups (engine-internal).

    ``values``/``lo``/``hi`` per metric id; ``reasons`` explain an undefined value,
    ``ci_reasons`` an undefined interval; ``reps`` hold bootstrap replicates (B × groups) and
    ``overall_reps`` the whole population's replicates from the same resample (B,), so that
    differences against the overall population keep their dependence.
    """

    grouping: Grouping
    counts: Counts
    values: dict[str, np.ndarray]
    lo: dict[str, np.ndarray]
    hi: dict[str, np.ndarray]
    reasons: dict[str, list[str | None]]
    ci_reasons: dict[str, list[str | None]]
    parts: dict[str, tuple[np.ndarray, np.ndarray, str]]
    auroc: AurocResult | None = None
    auroc_cov_overall: np.ndarray | None = None
    recal: Recalibration | None = None
    reps: dict[str, np.ndarray] | None = None
    overall_reps: dict[str, np.ndarray] | None = None
    roc: tuple[np.ndarray, np.ndarray] | None = None
    grid: tuple[np.ndarray, np.ndarray] | None = None
    reliability: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    # Clustered data only: the (group, patient) units (clusters.Units while the point estimates
    # are computed, then a clusters.UnitSummary) and each proportion's design effect.
    units: Any = None
    design_effect: dict[str, np.ndarray] | None = None
    # Probabilities only: per group the effective number of rows behind O/E's expected count,
    # (Σp)² / Σp² (assembly._oe_notes names groups where it is a tiny share of the rows).
    expected_rows: np.ndarray | None = None
    # Clustered data only: per metric, the groups whose clustered variance fell below the
    # unclustered one and was floored at it (design effect floored at 1).
    floored: dict[str, np.ndarray] | None = None
    # Groups under the calibration slope's profile-likelihood switch point that keep the
    # bootstrap interval because of the profile's time bounds (profile_slope.eligible).
    slope_bootstrap: np.ndarray | None = None
    # Groups whose slope interval is the profile-likelihood one (assessment.evaluation.pairs
    # compares them with a reference group by MOVER), and per group why a group under the switch
    # point has no profile interval (bounds, a clipped 0/1 score, clustered rows), else None.
    slope_profile: np.ndarray | None = None
    slope_fallback: list[str | None] | None = None
