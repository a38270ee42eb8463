"""Cluster-robust paired statistics (several encounters per patient, ``--cluster``).

With clustered validation data a patient's encounters are not independent, for either model: a
paired difference whose variance treats rows as independent patients is too narrow. Within each
group the unit is the patient (the engine's (group, patient) units,
:func:`assessment.evaluation.clusters.units`), and every paired interval becomes cluster-robust:

- AUROC difference: DeLong's structural components summed per patient (Obuchowski 1997), the
  engine's :func:`~assessment.evaluation.clusters.obuchowski_variance` applied to the
  difference of the two models' placement values: the per-patient term of AUROC_a − AUROC_b is
  ψ_a,k − ψ_b,k, and ψ is linear in the placements and the AUROC, so the variance of the
  difference is ``obuchowski_variance(V_a − V_b, …, θ_a − θ_b)``. Floored at the unclustered
  paired DeLong variance (never a narrower interval, as in the engine); normal interval and
  two-sided z test.
- TPR / FPR difference (paired proportions on the same events / non-events): the ratio-estimator
  variance of Σ_k (b_k − c_k) / Σ_k n_k over the patients (b_k, c_k the patient's discordant
  encounters, n_k its events or non-events; Obuchowski 1998, Durkalski et al. 2003), turned into
  a design effect against the unclustered variance ((b + c)/n − d²)/n, floored at 1; Tango's
  score interval on the effective counts b/deff, c/deff, n/deff (the engine's effective-count
  approach, Korn & Graubard 1998 style). p-value: the cluster-adjusted McNemar test of
  Durkalski et al. (2003), X² = (Σ_k (b_k − c_k))² / Σ_k (b_k − c_k)², 1 df (McNemar's test when
  every patient has one encounter).
- Brier, calibration-in-the-large, PPV and net benefit: the paired bootstrap resamples patients
  within each group by the engine's own scheme
  (:func:`assessment.evaluation.intervals.resampled_totals` with the cluster codes, see
  :class:`assessment.compare.paired_bootstrap.PairedBootstrap`).
- A paired statistic resting on fewer than :data:`assessment.evaluation.intervals.MIN_CLUSTERS`
  patients gets no paired interval and no p-value, with the engine's reason: the patients with
  an event for TPR, with a non-event for FPR, the fewer of the two for AUROC, those with a
  positive prediction (the fewer of the two models) for PPV, all the group's patients else.
- A group where no patient has two of a TPR (FPR) difference's events (non-events) uses the
  unclustered Tango interval and McNemar's exact test as they are (the patients are the rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import ndtr

from assessment.compare import paired as pr
from assessment.evaluation import clusters
from assessment.evaluation import intervals as iv
from assessment.evaluation.intervals import z_value
from assessment.evaluation.metrics import OVERALL_ATTRIBUTE, AurocResult, Grouping, SortedScores

OBUCHOWSKI_PAIRED = (
    "paired DeLong with clustered structural components (Obuchowski 1997): the variance of the "
    "AUROC difference from the per-patient sums of both models' placement values on the same "
    "patients, floored at the unclustered paired DeLong variance; normal interval and two-sided "
    "z test on the raw scale"
)
TANGO_CLUSTERED = (
    "Tango (1998) score interval on effective counts (discordant and total counts ÷ the design "
    "effect: the ratio-estimator cluster-robust variance of the paired difference over the "
    "patients (Obuchowski 1998; Durkalski et al. 2003) over its unclustered variance, floored at "
    "1); p-value from the cluster-adjusted McNemar test (Durkalski et al. 2003, 1 df)"
)
TANGO_SINGLE = (
    pr.TANGO + "; no patient in this group has two of these encounters, so the patients are "
    "the encounters and the unclustered method applies as it is (design effect 1)"
)
BOOTSTRAP_CLUSTERED = (
    "paired patient bootstrap: percentile bootstrap resampling patients (clusters) within each "
    "group, the same patients for every model"
)
CLUSTERING = (
    "rows are clustered by patient: every paired interval is cluster-robust (the patient, within "
    "each group, is the unit); a statistic resting on fewer than {k} patients (those with an "
    "event for TPR, with a non-event for FPR, both for AUROC, with a positive prediction for "
    "PPV, all the group's patients otherwise) gets no paired interval and no p-value; where no "
    "patient has two of a TPR (FPR) difference's events (non-events), the unclustered Tango "
    "interval and McNemar's exact test apply as they are"
)


def methods(b: int, seed: int) -> dict[str, str]:
    """The comparison's ``methods`` entries that change when rows are clustered."""
    return {
        "auroc": OBUCHOWSKI_PAIRED,
        "tpr": TANGO_CLUSTERED,
        "fpr": TANGO_CLUSTERED,
        "bootstrap": iv.bootstrap_method(b, seed, clustered=True)
        + "; the same resampled patients for every model (paired)",
        "clustering": CLUSTERING.format(k=iv.MIN_CLUSTERS),
    }


def auroc_difference(
    pa: pr.PairedAuroc, a: int, b: int, y: np.ndarray, u: clusters.Units, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """AUROC_a − AUROC_b per group with Obuchowski's clustered variance: (value, variance,
    low, high, p). ``pa`` must carry the placements (:func:`pr.paired_auroc`)."""
    d, var_b, _lo, _hi, _p = pa.difference(a, b, level)
    assert pa.placements
    var_c = clusters.obuchowski_variance(
        pa.placements[a] - pa.placements[b], y, u, pa.auc[a] - pa.auc[b], pa.n_pos, pa.n_neg,
        d.size,
    )
    # never narrower than the unclustered paired interval (the engine floors the same way)
    var = np.where(np.isfinite(var_c) & np.isfinite(var_b), np.maximum(var_c, var_b), var_c)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(var)
        z = z_value(level)
        p = np.where(se > 0, 2 * ndtr(-np.abs(d) / np.where(se > 0, se, 1.0)), np.nan)
    return d, var, d - z * se, d + z * se, p


def proportion_difference(
    u: clusters.Units, size: int, rows: np.ndarray, flag_a: np.ndarray, flag_b: np.ndarray,
    level: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Paired difference of the share flagged by a and by b over ``rows`` (the events for TPR,
    the non-events for FPR), per group: (value, low, high, p, design effect, single) where
    ``single`` marks the groups in which no patient has two such rows: there the unclustered
    method is used exactly (design effect 1, McNemar's exact test), as without ``--cluster``."""
    unit = u.of_row[rows].astype(np.intp)
    fa, fb = flag_a[rows], flag_b[rows]
    m = u.size
    den_u = np.bincount(unit, minlength=m).astype(np.float64)
    b_u = np.bincount(unit[fa & ~fb], minlength=m).astype(np.float64)
    c_u = np.bincount(unit[fb & ~fa], minlength=m).astype(np.float64)
    x_u = b_u - c_u
    g = u.group
    n = np.bincount(g, weights=den_u, minlength=size)
    bb = np.bincount(g, weights=b_u, minlength=size)
    cc = np.bincount(g, weights=c_u, minlength=size)
    # a group where no patient has two of these rows: the patients are the rows, and the
    # unclustered method applies exactly (design effect 1, McNemar's exact test)
    single = np.bincount(g, weights=(den_u > 1).astype(np.float64), minlength=size) == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        d = (bb - cc) / n
        var_c = clusters.ratio_variance(x_u, den_u, u, d, size)
        var_b = ((bb + cc) / n - d * d) / n
        deff = np.where((var_b > 0) & np.isfinite(var_c), var_c / var_b, 1.0)
    deff = np.where(single, 1.0, np.maximum(deff, 1.0))
    value, lo, hi = pr.tango_interval(bb / deff, cc / deff, n / deff, level)
    value = np.where(n > 0, d, np.nan)  # the estimate itself, not re-divided
    p = np.where(single, pr.mcnemar_exact(bb, cc), mcnemar_clustered(x_u, u, size))
    return value, lo, hi, np.where(n > 0, p, np.nan), deff, single


def mcnemar_clustered(x_u: np.ndarray, u: clusters.Units, size: int) -> np.ndarray:
    """Durkalski et al. (2003): X² = (Σ x_k)² / Σ x_k², x_k = b_k − c_k per patient; two-sided
    p from χ²₁ (1 where no patient has a discordant encounter)."""
    s = np.bincount(u.group, weights=x_u, minlength=size)
    ss = np.bincount(u.group, weights=x_u * x_u, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.abs(s) / np.sqrt(ss)
    return np.where(ss > 0, 2 * ndtr(-z), 1.0)


def patients_behind(
    metric: str, u: clusters.Units, y: np.ndarray, flag_a: np.ndarray, flag_b: np.ndarray,
    size: int,
) -> tuple[np.ndarray, list[str]]:
    """Per group, the number of patients a paired statistic rests on, and who they are: those
    with an event for TPR, with a non-event for FPR, the fewer of the two for AUROC, the fewer
    of those with a positive prediction from either model for PPV, every patient otherwise."""

    def having(rows: np.ndarray) -> np.ndarray:
        present = np.bincount(u.of_row[rows], minlength=u.size) > 0
        return np.bincount(u.group, weights=present.astype(np.float64), minlength=size)

    if metric in ("tpr", "fpr", "auroc"):
        pos, neg = having(y), having(~y)
        if metric == "tpr":
            return pos, ["with an event"] * size
        if metric == "fpr":
            return neg, ["with a non-event"] * size
        return np.minimum(pos, neg), [
            "with an event" if p <= q else "with a non-event"
            for p, q in zip(pos, neg, strict=True)
        ]
    if metric == "ppv":
        return np.minimum(having(flag_a), having(flag_b)), ["with a positive prediction"] * size
    return u.per_group.astype(np.float64), [""] * size


def _group_index(gp: Grouping) -> dict[str | None, int]:
    if gp.name == OVERALL_ATTRIBUTE:
        return {None: 0}
    return {label: g for g, label in enumerate(gp.labels)}


def _set(e: dict[str, Any], lo: float, hi: float, p: float, method: str) -> None:
    diff = e["difference"]
    ok = diff["value"] is not None and np.isfinite(lo) and np.isfinite(hi)
    diff.update(
        ci_low=float(lo) if ok else None,
        ci_high=float(hi) if ok else None,
        p_value=float(p) if ok and np.isfinite(p) else None,
        method=method,
    )
    if ok:
        diff["reason"] = None
    elif diff["reason"] is None:
        diff["reason"] = "no cluster-robust variance in this group"


def apply(
    entries: Sequence[dict[str, Any]],
    gp: Grouping,
    cluster: np.ndarray,
    y: np.ndarray,
    flags: Sequence[np.ndarray],
    sorted_scores: dict[int, SortedScores | AurocResult],
    names: Sequence[str],
    level: float,
) -> None:
    """Make one grouping's paired entries cluster-robust, in place.

    ``entries`` are the grouping's entries as the unclustered analysis wrote them (estimates
    and differences do not depend on the clustering); the AUROC and TPR/FPR intervals and
    p-values are replaced by the clustered ones above, the bootstrap entries (already resampled
    by patient) get their method, and every entry of a group with fewer than
    :data:`iv.MIN_CLUSTERS` patients loses its interval and p-value, with the reason.
    """
    size = gp.size
    u = clusters.units(gp.codes, size, cluster)
    where = _group_index(gp)
    index = {n: i for i, n in enumerate(names)}
    scored = sorted(sorted_scores)
    pa = None
    n_pos = np.bincount(gp.codes, weights=y, minlength=size)
    n_neg = np.bincount(gp.codes, minlength=size) - n_pos
    cache: dict[tuple[str, int, int], tuple[np.ndarray, ...]] = {}
    behind_of: dict[tuple[str, int, int], tuple[np.ndarray, list[str]]] = {}
    for e in entries:
        if e["difference"]["method"] == pr.NOT_APPLICABLE:
            continue
        g = where[e["group"]]
        a, b = index[e["model_a"]], index[e["model_b"]]
        key = (e["metric"], a, b)
        if e["metric"] == "auroc":
            if pa is None:
                pa = pr.paired_auroc(gp, [sorted_scores[i] for i in scored], y, n_pos, n_neg)
            if key not in cache:
                cache[key] = auroc_difference(pa, scored.index(a), scored.index(b), y, u, level)
            _d, _v, lo, hi, p = cache[key]
            _set(e, lo[g], hi[g], p[g], OBUCHOWSKI_PAIRED)
        elif e["metric"] in ("tpr", "fpr"):
            if key not in cache:
                rows = y if e["metric"] == "tpr" else ~y
                cache[key] = proportion_difference(u, size, rows, flags[a], flags[b], level)
            _d, lo, hi, p, _deff, single = cache[key]
            _set(e, lo[g], hi[g], p[g], TANGO_SINGLE if single[g] else TANGO_CLUSTERED)
        else:
            e["difference"]["method"] = BOOTSTRAP_CLUSTERED
        if key not in behind_of:
            behind_of[key] = patients_behind(e["metric"], u, y, flags[a], flags[b], size)
        k, behind = behind_of[key]
        if few := iv.too_few_clusters(float(k[g]), behind[g]):
            e["difference"].update(ci_low=None, ci_high=None, p_value=None, reason=few)
