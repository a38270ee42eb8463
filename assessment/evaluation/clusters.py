"""Cluster-robust variances for clustered validation data (several rows per patient).

A patient's encounters are not independent: intervals that treat them as independent rows are
too narrow. Within each group the resampling unit and the variance unit is the patient (the
cluster): the *units* of a grouping are its (group, patient) pairs, so a patient whose rows fall
into several groups (e.g. two age bands over time) is a unit in each of them, and groups are
compared as independent samples (their shared patients' covariance is ignored; with positive
within-patient correlation that widens a difference's interval, i.e. errs on the safe side).

- Proportions: the ratio-estimator (linearisation) variance of Σ_k a_k / Σ_k d_k over the K
  clusters, K/(K − 1)·Σ_k (a_k − p·d_k)² / (Σ_k d_k)² (Cochran 1977, §6.9; Donner & Klar 2000),
  turned into a design effect against the binomial variance; Wilson, Newcombe and Katz then use
  the effective counts k/deff of n/deff (deff ≥ 1; Korn & Graubard 1998 style).
- Every clustered variance is floored at the unclustered one (an interval is never narrower
  than if the rows were independent), and a group with fewer than ``intervals.MIN_CLUSTERS``
  patients gets no cluster-robust interval at all (the variances are unreliable with few
  clusters: Donner & Klar 2000; Cameron & Miller 2015).
- AUROC: DeLong's structural components summed per cluster (Obuchowski 1997, S10, S01, S11):
  V = I10/(I10 − 1)·Σ_k A_k² + I01/(I01 − 1)·Σ_k B_k² + 2·I/(I − 1)·Σ_k A_k·B_k with
  A_k = (V10_k − m_k·θ)/M, B_k = (V01_k − n_k·θ)/N, I10 (I01) the patients with an event
  (a non-event), I all patients of the group.
- Means (Brier score): the same ratio-estimator variance of Σ s_k / Σ n_k.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assessment.evaluation.metrics import Counts, proportion_parts


@dataclass(frozen=True)
class Units:
    """The (group, cluster) units of one grouping: ``of_row[i]`` is row i's unit, ``group[u]``
    the group of unit u; ``per_group`` the number of units (patients) in each group."""

    of_row: np.ndarray
    group: np.ndarray
    per_group: np.ndarray
    cluster: np.ndarray  # the patient of each unit

    @property
    def size(self) -> int:
        return int(self.group.size)


# (group, patient) keys are found with a presence table instead of a sort when the table has at
# most this many slots per row (1 byte each, plus 4 for the running count).
DENSE_KEYS_PER_ROW = 2


def _unique_keys(key: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_inverse=True)`` for keys in 0..total−1: the same sorted keys and
    inverse, in O(n) from a presence table when ``total`` is small enough, else by sorting."""
    if total > DENSE_KEYS_PER_ROW * max(key.size, 1) or total >= np.iinfo(np.int32).max:
        uniq, inv = np.unique(key, return_inverse=True)
        return uniq, inv
    present = np.zeros(total, dtype=bool)
    present[key] = True
    remap = np.cumsum(present, dtype=np.int32)
    remap -= 1
    return np.flatnonzero(present), remap[key]


@dataclass(frozen=True)
class UnitSummary:
    """What is kept of a grouping's units once its intervals are computed."""

    size: int  # number of (group, patient) units
    per_group: np.ndarray  # units (patients) per group
    shared: int  # patients with rows in more than one group
    # per metric, the patients a statistic rests on per group (its denominator's patients)
    behind: dict[str, np.ndarray] = field(default_factory=dict)


def unit_summary(u: Units, behind: dict[str, np.ndarray] | None = None) -> UnitSummary:
    shared = int(np.count_nonzero(np.bincount(u.cluster) > 1))
    return UnitSummary(u.size, u.per_group, shared, behind or {})


def units(codes: np.ndarray, size: int, cluster: np.ndarray) -> Units:
    """Units of a grouping from its group codes and the rows' cluster codes (0..C−1)."""
    width = int(cluster.max()) + 1 if cluster.size else 1
    key = codes.astype(np.int64) * width + cluster.astype(np.int64)
    uniq, inv = _unique_keys(key, size * width)
    group = (uniq // width).astype(np.intp)
    narrow = np.int32 if uniq.size <= np.iinfo(np.int32).max else np.intp
    return Units(
        inv.astype(narrow),  # 4 bytes per row
        group,
        np.bincount(group, minlength=size),
        (uniq % width).astype(np.intp),
    )


def unit_counts(u: Units, y: np.ndarray, pred: np.ndarray) -> Counts:
    """Confusion counts per unit (the same :class:`Counts` as per group)."""
    key = u.of_row.astype(np.intp) * 2 + y
    m = u.size
    both = np.bincount(key, minlength=2 * m).reshape(m, 2).astype(np.float64)
    pp = np.bincount(key[pred], minlength=2 * m).reshape(m, 2).astype(np.float64)
    return Counts(n_pos=both[:, 1], n_neg=both[:, 0], tp=pp[:, 1], fp=pp[:, 0])


def ratio_variance(
    num_u: np.ndarray,
    den_u: np.ndarray,
    u: Units,
    ratio: np.ndarray,
    size: int,
    per_den: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
) -> np.ndarray:
    """Cluster-robust variance of Σ num / Σ den per group (NaN with fewer than 2 clusters
    contributing to the denominator). ``per_den`` caches, by the identity of ``den_u``, the
    per-group clusters and denominator totals that metrics sharing a denominator share."""
    g = u.group
    with np.errstate(invalid="ignore"):
        resid = num_u - np.nan_to_num(ratio)[g] * den_u
    ss = np.bincount(g, weights=resid * resid, minlength=size)
    cached = None if per_den is None else per_den.get(id(den_u))
    if cached is None:
        k = np.bincount(g, weights=(den_u > 0).astype(np.float64), minlength=size)
        den = np.bincount(g, weights=den_u, minlength=size)
        if per_den is not None:
            per_den[id(den_u)] = (k, den)
    else:
        k, den = cached
    with np.errstate(invalid="ignore", divide="ignore"):
        var = k / (k - 1) * ss / (den * den)
    return np.where(k >= 2, var, np.nan)


def design_effects(
    group_counts: Counts,
    unit_c: Counts,
    u: Units,
    size: int,
    floored: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """deff ≥ 1 per proportion metric and group: clustered over binomial variance. A design
    effect below 1 (the clustered variance smaller than the binomial one) is floored at 1, so an
    interval is never narrower than the unclustered one; ``floored`` receives where."""
    out: dict[str, np.ndarray] = {}
    unit_parts = proportion_parts(unit_c)  # alive while ``per_den`` keys on its arrays' ids
    per_den: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for mid, (num, den, _) in proportion_parts(group_counts).items():
        with np.errstate(invalid="ignore", divide="ignore"):
            p = num / den
            var_c = ratio_variance(unit_parts[mid][0], unit_parts[mid][1], u, p, size, per_den)
            var_b = p * (1 - p) / den
            deff = np.where((var_b > 0) & np.isfinite(var_c), var_c / var_b, 1.0)
        # no patient with two rows in the denominator: the rows are the patients, deff 1
        single = np.bincount(u.group, weights=unit_parts[mid][1] > 1, minlength=size) == 0
        out[mid] = np.where(single, 1.0, np.maximum(deff, 1.0))
        if floored is not None:
            floored[mid] = (deff < 1.0) & ~single
    return out


def obuchowski_variance(
    placements: np.ndarray,
    y: np.ndarray,
    u: Units,
    auc: np.ndarray,
    n_pos: np.ndarray,
    n_neg: np.ndarray,
    size: int,
) -> np.ndarray:
    """Obuchowski's (1997) clustered AUROC variance from DeLong's per-row placement values."""
    m = u.size
    g = u.group
    pos_rows = u.of_row[y]
    neg_rows = u.of_row[~y]
    s10 = np.bincount(pos_rows, weights=placements[y], minlength=m)
    s01 = np.bincount(neg_rows, weights=placements[~y], minlength=m)
    m_u = np.bincount(pos_rows, minlength=m)
    n_u = np.bincount(neg_rows, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        theta = np.nan_to_num(auc)[g]
        a = (s10 - m_u * theta) / n_pos[g]  # the patient's events' term
        b = (s01 - n_u * theta) / n_neg[g]  # its non-events' term
        k = u.per_group.astype(np.float64)
        # Obuchowski (1997): I10/(I10 − 1) on the events' sum of squares, I01/(I01 − 1) on the
        # non-events', I/(I − 1) on the cross term (I10, I01: patients with an event, with a
        # non-event; I: all patients of the group)
        k10 = np.bincount(g, weights=(m_u > 0).astype(np.float64), minlength=size)
        k01 = np.bincount(g, weights=(n_u > 0).astype(np.float64), minlength=size)
        var = (
            k10 / (k10 - 1) * np.bincount(g, weights=a * a, minlength=size)
            + k01 / (k01 - 1) * np.bincount(g, weights=b * b, minlength=size)
            + 2 * k / (k - 1) * np.bincount(g, weights=a * b, minlength=size)
        )
    return np.where((k10 >= 2) & (k01 >= 2) & np.isfinite(auc), var, np.nan)


def mean_variance(values: np.ndarray, u: Units, mean: np.ndarray, size: int) -> np.ndarray:
    """Cluster-robust variance of a per-group mean of ``values`` (one per row)."""
    s_u = np.bincount(u.of_row, weights=values, minlength=u.size)
    n_u = np.bincount(u.of_row, minlength=u.size).astype(np.float64)
    return ratio_variance(s_u, n_u, u, mean, size)
