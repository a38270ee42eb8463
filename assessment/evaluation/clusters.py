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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assessment.evaluation.metrics import Counts, proportion_parts


@dataclass(frozen=True)
class Units:
    """The (group, cluster) units of one grouping, in the order of (group, patient code):
    ``of_row[i]`` is row i's unit, ``group[u]`` the group of unit u; ``per_group`` the number
    of units (patients) in each group."""

    of_row: np.ndarray  # int32 (int64 above 2³¹ − 1 units)
    group: np.ndarray  # int32, non-decreasing
    per_group: np.ndarray
    cluster: np.ndarray  # the patient of each unit

    @property
    def size(self) -> int:
        return int(self.group.size)


# Units per chunk when per-unit quantities are summed per group (a few 2 MB float arrays at a
# time instead of several arrays as long as the units: no page faults of fresh 80 MB
# temporaries; 2¹⁸ measured faster than 2¹⁶ and 2²⁰ at 10M units).
UNIT_CHUNK = 1 << 18


def index_type(n: int) -> type[np.signedinteger[Any]]:
    """The narrowest of int32/int64 that holds 0..n."""
    return np.int32 if n <= np.iinfo(np.int32).max else np.int64


def patient_order(cluster: np.ndarray) -> np.ndarray | None:
    """Rows sorted by patient code, stably (None when they already are): computed once per
    evaluation and reused by every grouping's units."""
    if cluster.size < 2 or bool(np.all(cluster[1:] >= cluster[:-1])):
        return None
    return np.argsort(cluster, kind="stable").astype(index_type(cluster.size))


def sorted_rows(
    codes: np.ndarray, size: int, cluster: np.ndarray, by_patient: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The rows sorted by (group, patient, row), and in that order where each (group, patient)
    unit starts (``by_patient``: :func:`patient_order` of ``cluster``, found here when None):
    a stable radix sort of the patient-sorted rows by their small group codes instead of a
    sort of 64-bit keys. Numbering the starts gives the units in the order of (group, patient
    code), the order ``np.unique`` of the keys group·C + patient gives."""
    n = codes.size
    small = codes if size <= 256 else codes.astype(np.int32)
    if by_patient is None:
        by_patient = patient_order(cluster)  # None again when the rows are in patient order
    if by_patient is None:
        order = np.argsort(small, kind="stable").astype(index_type(n))
    else:
        order = by_patient[np.argsort(small[by_patient], kind="stable")]
    pat = cluster[order]
    new = np.empty(n, dtype=bool)
    new[:1] = True
    np.not_equal(pat[1:], pat[:-1], out=new[1:])
    del pat
    grp = small[order]
    new[1:] |= grp[1:] != grp[:-1]
    return order, new


def units(
    codes: np.ndarray, size: int, cluster: np.ndarray, by_patient: np.ndarray | None = None
) -> Units:
    """Units of a grouping from its group codes and the rows' cluster codes (0..C−1);
    ``by_patient``: :func:`patient_order` of ``cluster`` (found here when None)."""
    order, new = sorted_rows(codes, size, cluster, by_patient)
    unit = np.cumsum(new, dtype=index_type(codes.size))
    unit -= 1
    m = int(unit[-1]) + 1 if unit.size else 0
    of_row = np.empty(codes.size, dtype=index_type(m))
    of_row[order] = unit
    del unit
    first_rows = order[new]
    group = codes[first_rows].astype(np.int32)
    return Units(
        of_row,
        group,
        np.bincount(group, minlength=size),
        cluster[first_rows].astype(index_type(int(cluster.max(initial=0)))),
    )


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


def unit_counts(u: Units, y: np.ndarray, pred: np.ndarray) -> Counts:
    """Confusion counts per unit (the same :class:`Counts` as per group, as int32)."""
    m = u.size

    def count(rows: np.ndarray | None) -> np.ndarray:
        of = u.of_row if rows is None else u.of_row[rows]
        return np.bincount(of, minlength=m).astype(np.int32)

    n_pos = count(y)
    n_neg = count(None)
    n_neg -= n_pos
    tp = count(y & pred)
    fp = count(pred & ~y)
    return Counts(n_pos=n_pos, n_neg=n_neg, tp=tp, fp=fp)


def _chunks(m: int) -> range:
    return range(0, m, UNIT_CHUNK)


def _carry_sum(total: np.ndarray, g: np.ndarray, values: np.ndarray) -> None:
    """Add ``values`` (per unit, units sorted by group ``g``) to the per-group ``total`` in
    the order ``np.bincount(g, weights=values)`` over all units adds them in: the running
    total of the chunk's first group is the first term of its sum, so a group's sum is the
    same sequence of additions however the units are chunked."""
    first = int(g[0])
    idx = np.empty(g.size + 1, dtype=np.intp)
    idx[0] = first
    idx[1:] = g
    w = np.empty(g.size + 1)
    w[0] = total[first]
    w[1:] = values
    total[first:] = np.bincount(idx, weights=w, minlength=total.size)[first:]


def _variance(k: np.ndarray, ss: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        var = k / (k - 1) * ss / (den * den)
    return np.where(k >= 2, var, np.nan)


def ratio_variance(
    num_u: np.ndarray, den_u: np.ndarray, u: Units, ratio: np.ndarray, size: int
) -> np.ndarray:
    """Cluster-robust variance of Σ num / Σ den per group (NaN with fewer than 2 clusters
    contributing to the denominator)."""
    r = np.nan_to_num(ratio)
    ss, k, den = np.zeros(size), np.zeros(size), np.zeros(size)
    for a in _chunks(u.size):
        part = slice(a, a + UNIT_CHUNK)
        g = u.group[part]
        d = den_u[part]
        resid = num_u[part] - r[g] * d
        _carry_sum(ss, g, resid * resid)
        k += np.bincount(g, weights=d > 0, minlength=size)  # integers: exact in any order
        den += np.bincount(g, weights=d, minlength=size)
    return _variance(k, ss, den)


# Units whose counts (positives, negatives) are all below this are summed through a table of
# their few distinct (n_pos, n_neg, tp, fp) types (B⁴ ≤ 1M slots), else chunk by chunk.
MAX_TYPE_COUNT = 32

_Sums = tuple[
    dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]
]


def design_effects(
    group_counts: Counts,
    unit_c: Counts,
    u: Units,
    size: int,
    floored: dict[str, np.ndarray] | None = None,
    behind: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """deff ≥ 1 per proportion metric and group: clustered over binomial variance. A design
    effect below 1 (the clustered variance smaller than the binomial one) is floored at 1, so an
    interval is never narrower than the unclustered one; ``floored`` receives where, ``behind``
    per metric and group the patients (units) in the denominator (counted on the way)."""
    parts = proportion_parts(group_counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = {mid: np.nan_to_num(num / den) for mid, (num, den, _) in parts.items()}
    top = max(int(unit_c.n_pos.max(initial=0)), int(unit_c.n_neg.max(initial=0))) + 1
    by_type = top <= MAX_TYPE_COUNT and u.size > 0
    sums = _sums_by_type if by_type else _sums_by_chunk
    ss, k, den_sum, multi = sums(p, unit_c, u, size, top)
    if behind is not None:
        behind.update(k)
    out: dict[str, np.ndarray] = {}
    for mid, (num, den, _) in parts.items():
        with np.errstate(invalid="ignore", divide="ignore"):
            pm = num / den
            var_c = _variance(k[mid], ss[mid], den_sum[mid])
            var_b = pm * (1 - pm) / den
            deff = np.where((var_b > 0) & np.isfinite(var_c), var_c / var_b, 1.0)
        # no patient with two rows in the denominator: the rows are the patients, deff 1
        single = multi[mid] == 0
        out[mid] = np.where(single, 1.0, np.maximum(deff, 1.0))
        if floored is not None:
            floored[mid] = (deff < 1.0) & ~single
    return out


def _sums_by_chunk(
    p: dict[str, np.ndarray], unit_c: Counts, u: Units, size: int, _top: int
) -> _Sums:
    """Per metric and group: Σ (a − p·d)² over the units (added in unit order), the units with
    d > 0 and Σ d — one pass over the units in chunks, each chunk's numerators and
    denominators of the nine proportions formed from its four counts and dropped with it."""
    ss = {mid: np.zeros(size) for mid in p}
    k = {mid: np.zeros(size) for mid in p}
    den_sum = {mid: np.zeros(size) for mid in p}
    multi = {mid: np.zeros(size) for mid in p}
    for a in _chunks(u.size):
        part = slice(a, a + UNIT_CHUNK)
        g = u.group[part]
        chunk = Counts(*(c[part] for c in (unit_c.n_pos, unit_c.n_neg, unit_c.tp, unit_c.fp)))
        for mid, (num, den, _) in proportion_parts(chunk).items():
            resid = num - p[mid][g] * den
            _carry_sum(ss[mid], g, resid * resid)
            k[mid] += np.bincount(g, weights=den > 0, minlength=size)  # integers: exact
            den_sum[mid] += np.bincount(g, weights=den, minlength=size)
            multi[mid] += np.bincount(g, weights=den > 1, minlength=size)
    return ss, k, den_sum, multi


def _sums_by_type(p: dict[str, np.ndarray], unit_c: Counts, u: Units, size: int, top: int) -> _Sums:
    """:func:`_sums_by_chunk`'s sums when the units' counts are small: a unit's (n_pos, n_neg,
    tp, fp) is one of a few types, so (a − p·d)² of every group and type is a small table
    computed once (the same floating-point operations) and each group's sum of squares is
    Σ_type (units of the type) × (its term) — the integer sums likewise. Equal to the sum unit
    by unit up to rounding (closer to the exact sum: a few products instead of millions of
    additions), without a pass over the units per metric (2 s at 10M clustered rows)."""
    code = unit_c.n_pos * top + unit_c.n_neg
    code *= top
    code += unit_c.tp
    code *= top
    code += unit_c.fp
    present = np.zeros(top**4, dtype=bool)
    present[code] = True
    types = np.flatnonzero(present)
    rank = np.cumsum(present, dtype=np.int32)
    rank -= 1
    n_types = types.size
    key = u.group * n_types + rank[code]  # (group, type) of each unit
    del code, rank, present
    c = Counts(*(((types // top**e) % top).astype(np.float64) for e in (3, 2, 1, 0)))
    per = np.bincount(key, minlength=size * n_types).reshape(size, n_types)
    ss: dict[str, np.ndarray] = {}
    k: dict[str, np.ndarray] = {}
    den_sum: dict[str, np.ndarray] = {}
    multi: dict[str, np.ndarray] = {}
    for mid, (num, den, _) in proportion_parts(c).items():
        resid = num[None, :] - p[mid][:, None] * den[None, :]
        ss[mid] = (per * (resid * resid)).sum(axis=1)
        k[mid] = (per * (den > 0)).sum(axis=1).astype(np.float64)
        den_sum[mid] = (per * den.astype(np.int64)).sum(axis=1).astype(np.float64)
        multi[mid] = (per * (den > 1)).sum(axis=1).astype(np.float64)
    return ss, k, den_sum, multi


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
    key = u.of_row.astype(np.intp)  # unit × outcome: 2u + y (each unit's rows in row order)
    key *= 2
    key += y
    both = np.bincount(key, weights=placements, minlength=2 * m)
    s01, s10 = both[0::2], both[1::2]
    count = np.bincount(key, minlength=2 * m).astype(np.int32)
    del key
    n_u, m_u = count[0::2], count[1::2]
    theta_g = np.nan_to_num(auc)
    ss10, ss01, ss11 = np.zeros(size), np.zeros(size), np.zeros(size)
    with np.errstate(invalid="ignore", divide="ignore"):
        for a in _chunks(m):
            part = slice(a, a + UNIT_CHUNK)
            g = u.group[part]
            theta = theta_g[g]
            ev = (s10[part] - m_u[part] * theta) / n_pos[g]  # the patient's events' term
            ne = (s01[part] - n_u[part] * theta) / n_neg[g]  # its non-events' term
            _carry_sum(ss10, g, ev * ev)
            _carry_sum(ss01, g, ne * ne)
            _carry_sum(ss11, g, ev * ne)
        k = u.per_group.astype(np.float64)
        # Obuchowski (1997): I10/(I10 − 1) on the events' sum of squares, I01/(I01 − 1) on the
        # non-events', I/(I − 1) on the cross term (I10, I01: patients with an event, with a
        # non-event; I: all patients of the group)
        k10 = np.bincount(u.group, weights=(m_u > 0).astype(np.float64), minlength=size)
        k01 = np.bincount(u.group, weights=(n_u > 0).astype(np.float64), minlength=size)
        var = k10 / (k10 - 1) * ss10 + k01 / (k01 - 1) * ss01 + 2 * k / (k - 1) * ss11
    return np.where((k10 >= 2) & (k01 >= 2) & np.isfinite(auc), var, np.nan)


def mean_variance(values: np.ndarray, u: Units, mean: np.ndarray, size: int) -> np.ndarray:
    """Cluster-robust variance of a per-group mean of ``values`` (one per row)."""
    s_u = np.bincount(u.of_row, weights=values, minlength=u.size)
    n_u = np.bincount(u.of_row, minlength=u.size).astype(np.int32)
    return ratio_variance(s_u, n_u, u, mean, size)


# Rows per block when a group's per-patient bootstrap totals are accumulated (extended to the
# end of the block's last patient): 65,536 rows × 20 features × 8 bytes = 10 MB.
ROW_BLOCK = 1 << 16


def unit_totals_by_group(
    codes: np.ndarray,
    size: int,
    cluster: np.ndarray,
    by_patient: np.ndarray | None,
    features: Callable[[np.ndarray], np.ndarray],
    n_features: int,
    passes: int = 1,
) -> Callable[[int, np.ndarray], np.ndarray]:
    """``totals(s, rows)``: group s's per-patient column sums of ``features`` (patients × features,
    in the order of their codes), as ``intervals._blocked_unit_totals`` gives them, bit for bit.

    The rows are sorted once by (group, patient, row); each block of :data:`ROW_BLOCK` rows
    ends where a patient does, so each patient's features are summed within one block, left
    to right in row order from 0.0 (:func:`_sum_sorted`) — the additions of ``np.add.at`` over
    the group's rows — without a sort of each group's patient codes and without ``np.add.at``.
    Each nonempty group is asked for once per pass (``passes``: the blocks of replicates
    :mod:`assessment.evaluation.boot_blocks` draws; one unless B is large)."""
    order, new = sorted_rows(codes, size, cluster, by_patient)
    sizes = np.bincount(codes, minlength=size)
    ends = np.cumsum(sizes)
    # the row order (5 bytes per row) is dropped once the last group's totals are computed
    state = {"order": order, "new": new}
    left = [int(np.count_nonzero(sizes)) * passes]
    del order, new

    def totals(s: int, rows: np.ndarray) -> np.ndarray:
        order, new = state["order"], state["new"]
        left[0] -= 1
        if left[0] == 0:
            state.clear()
        a, b = int(ends[s]) - rows.size, int(ends[s])
        starts = new[a:b]
        uid = np.cumsum(starts, dtype=index_type(rows.size))
        uid -= 1
        m = int(uid[-1]) + 1
        first_rows = np.flatnonzero(starts)  # where each patient's rows begin
        out = np.empty((m, n_features))
        pos = 0
        while pos < rows.size:
            nxt = int(np.searchsorted(first_rows, pos + ROW_BLOCK))
            end = int(first_rows[nxt]) if nxt < m else rows.size
            first, k = int(uid[pos]), int(uid[end - 1] - uid[pos]) + 1
            lead = first_rows[first : first + k] - pos  # each patient's first row in the block
            _sum_sorted(features(order[a + pos : a + end]), lead, end - pos, out[first : first + k])
            pos = end
        return out

    return totals


# Longest patient (rows in a group) summed by adding the patients' j-th rows step by step; a
# block with a longer one is summed by np.bincount per feature.
MAX_STEPS = 32


def _sum_sorted(f: np.ndarray, lead: np.ndarray, n: int, out: np.ndarray) -> None:
    """``out[u] = 0.0 + f[lead[u]] + f[lead[u] + 1] + …`` (rows of ``f`` sorted by patient,
    patient u's rows from ``lead[u]``), added left to right like ``np.bincount`` adds: step j
    adds the j-th row of every patient that has one, all features at once."""
    lens = np.diff(lead, append=n)
    longest = int(lens.max())
    if longest > MAX_STEPS:
        local = np.repeat(np.arange(lead.size), lens)
        for j in range(f.shape[1]):
            out[:, j] = np.bincount(local, weights=f[:, j], minlength=lead.size)
        return
    # np.take along axis 0 gathers the same rows as f[lead], several times faster
    np.add(np.take(f, lead, axis=0), 0.0, out=out)  # 0.0 + x: as np.bincount starts (−0.0 → 0.0)
    for j in range(1, longest):
        more = np.flatnonzero(lens > j)
        part = np.take(out, more, axis=0)
        part += np.take(f, lead[more] + j, axis=0)
        out[more] = part
