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
from assessment.errors import EvaluationError
from assessment.evaluation.inputs import INTERSECTION_SEP, EvaluationInput

OVERALL_ATTRIBUTE = "(all)"
OVERALL_GROUP = "All"

# Probabilities of exactly 0 or 1 have an infinite logit; they are clipped to this distance
# from the bounds before logistic recalibration (the method string says so).
LOGIT_EPS = 1e-10
# Damped Newton: stop when a step is below NEWTON_TOL·(1 + |θ|); give up after NEWTON_MAX_ITER
# iterations or MAX_HALVINGS halvings of one step (neither happens when the MLE exists).
NEWTON_TOL = 1e-7
NEWTON_MAX_ITER = 100
MAX_HALVINGS = 40
MAX_NEWTON_STEP = 8.0  # logit units per Newton iteration (trust region)
WARM_START_ROWS = 50_000


@dataclass(frozen=True)
class Grouping:
    """One way of splitting the rows: ``codes[i]`` is row i's group (0..size-1)."""

    name: str
    codes: np.ndarray
    labels: tuple[str, ...]
    components: tuple[str, ...]
    empty_cells: int = 0
    # cells[g][j]: group g's level of components[j] (labels joined by "×" are for display only;
    # a level name may itself contain "×").
    cells: tuple[tuple[str, ...], ...] = ()

    @property
    def size(self) -> int:
        return len(self.labels)

    @property
    def is_overall(self) -> bool:
        return self.name == OVERALL_ATTRIBUTE


def _small_codes(codes: np.ndarray, size: int) -> np.ndarray:
    """Codes in the narrowest unsigned dtype, so NumPy's stable sort is a radix sort."""
    if size <= 256:
        return codes.astype(np.uint8, copy=False)
    if size <= 65536:
        return codes.astype(np.uint16, copy=False)
    return codes.astype(np.intp, copy=False)


def build_groupings(
    inputs: EvaluationInput, intersections: tuple[tuple[str, ...], ...]
) -> list[Grouping]:
    """Overall, each attribute (all levels, even empty ones), then each intersection.

    Intersection cells are the observed combinations only (computed in O(n) with a bincount
    over the mixed-radix code, not ``np.unique``); the number of empty cells is kept for the
    notes.
    """
    n = inputs.n
    out = [
        Grouping(
            OVERALL_ATTRIBUTE,
            np.zeros(n, dtype=np.intp),
            (OVERALL_GROUP,),
            (),
        )
    ]
    for attr in inputs.attributes:
        codes = np.asarray(attr.codes)
        if codes.shape != (n,):
            raise EvaluationError(
                f"Attribute {attr.name!r} has {codes.shape[0]} values for {n} rows."
            )
        if n and (codes.min() < 0 or codes.max() >= len(attr.levels)):
            raise EvaluationError(f"Attribute {attr.name!r} has codes outside its levels.")
        out.append(
            Grouping(
                attr.name,
                codes.astype(np.intp),
                tuple(attr.levels),
                (attr.name,),
                cells=tuple((str(level),) for level in attr.levels),
            )
        )
    for combo in intersections:
        attrs = []
        for name in combo:
            try:
                attrs.append(inputs.attribute(name))
            except KeyError as exc:
                raise EvaluationError(
                    f"The intersection {INTERSECTION_SEP.join(combo)} names {name!r}, which is not "
                    f"a mapped attribute; map it as a group column first."
                ) from exc
        mixed = np.zeros(n, dtype=np.intp)
        total = 1
        for a in attrs:
            mixed = mixed * len(a.levels) + np.asarray(a.codes, dtype=np.intp)
            total *= len(a.levels)
        present = np.bincount(mixed, minlength=total) > 0
        remap = np.cumsum(present) - 1
        cells = np.flatnonzero(present)
        labels = []
        cell_levels = []
        for cell in cells:
            parts = []
            rest = int(cell)
            for a in reversed(attrs):
                rest, k = divmod(rest, len(a.levels))
                parts.append(str(a.levels[k]))
            cell_levels.append(tuple(reversed(parts)))
            labels.append(INTERSECTION_SEP.join(cell_levels[-1]))
        out.append(
            Grouping(
                INTERSECTION_SEP.join(combo),
                remap[mixed],
                tuple(labels),
                tuple(combo),
                empty_cells=int(total - cells.size),
                cells=tuple(cell_levels),
            )
        )
    return out


@dataclass(frozen=True)
class Counts:
    """Confusion counts per group (float64 arrays, one entry per group)."""

    n_pos: np.ndarray
    n_neg: np.ndarray
    tp: np.ndarray
    fp: np.ndarray

    @property
    def n(self) -> np.ndarray:
        total: np.ndarray = self.n_pos + self.n_neg
        return total

    @property
    def fn(self) -> np.ndarray:
        missed: np.ndarray = self.n_pos - self.tp
        return missed

    @property
    def tn(self) -> np.ndarray:
        rejected: np.ndarray = self.n_neg - self.fp
        return rejected


def stratum_keys(grouping: Grouping, y: np.ndarray) -> np.ndarray:
    """``code * 2 + outcome``: the group × outcome stratum of each row."""
    keys: np.ndarray = grouping.codes * 2 + y
    return keys


def confusion_counts(grouping: Grouping, keys: np.ndarray, pred: np.ndarray) -> Counts:
    size = grouping.size
    both = np.bincount(keys, minlength=2 * size).reshape(size, 2).astype(np.float64)
    pp = np.bincount(keys[pred], minlength=2 * size).reshape(size, 2).astype(np.float64)
    return Counts(n_pos=both[:, 1], n_neg=both[:, 0], tp=pp[:, 1], fp=pp[:, 0])


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, np.nan)
    ok = den > 0
    np.divide(num, den, out=out, where=ok)
    return out


def proportion_parts(c: Counts) -> dict[str, tuple[np.ndarray, np.ndarray, str]]:
    """Numerator, denominator and the reason used when the denominator is 0."""
    n = c.n
    return {
        "tpr": (c.tp, c.n_pos, "no positive outcomes in the group (n_pos = 0)"),
        "fpr": (c.fp, c.n_neg, "no negative outcomes in the group (n_neg = 0)"),
        "tnr": (c.tn, c.n_neg, "no negative outcomes in the group (n_neg = 0)"),
        "fnr": (c.fn, c.n_pos, "no positive outcomes in the group (n_pos = 0)"),
        "ppv": (c.tp, c.tp + c.fp, "no predicted positives in the group"),
        "npv": (c.tn, c.tn + c.fn, "no predicted negatives in the group"),
        "selection_rate": (c.tp + c.fp, n, "the group has no rows"),
        "prevalence": (c.n_pos, n, "the group has no rows"),
        "accuracy": (c.tp + c.tn, n, "the group has no rows"),
    }


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


def _one_class_reason(n_pos: float, n_neg: float) -> str | None:
    if n_pos <= 0 and n_neg <= 0:
        return "the group has no rows"
    if n_pos <= 0:
        return "no positive outcomes in the group (one class only)"
    if n_neg <= 0:
        return "no negative outcomes in the group (one class only)"
    return None


@dataclass(frozen=True)
class SortedScores:
    """The single global sort of a score column, shared by every grouping."""

    order: np.ndarray
    score: np.ndarray
    y: np.ndarray
    has_ties: bool

    @classmethod
    def build(cls, score: np.ndarray, y: np.ndarray) -> SortedScores:
        order = np.argsort(score)
        s = score[order]
        ties = bool(s.size > 1 and np.any(s[1:] == s[:-1]))
        return cls(order=order, score=s, y=y[order], has_ties=ties)

    def bin_index(self, thresholds: np.ndarray) -> np.ndarray:
        """Per row (original order), the number of ascending ``thresholds`` ≤ its score.

        Equal to ``np.searchsorted(thresholds, score, "right")`` but built from the sorted
        scores in O(n + k log n).
        """
        n = self.score.size
        pos = np.searchsorted(self.score, thresholds, side="left")
        reps = np.diff(np.concatenate(([0], pos, [n])))
        sorted_bins = np.repeat(np.arange(thresholds.size + 1, dtype=np.intp), reps)
        out = np.empty(n, dtype=np.intp)
        out[self.order] = sorted_bins
        return out


@dataclass(frozen=True)
class AurocResult:
    """AUROC per group (Mann–Whitney with midranks for ties) and DeLong's variance.

    ``placements`` (per row, original order, only when requested) holds DeLong's structural
    components: V10 for a positive row (share of the group's negatives scored lower, ties 1/2),
    V01 for a negative row (share of the group's positives scored higher, ties 1/2).
    """

    auc: np.ndarray
    var: np.ndarray
    s10: np.ndarray
    s01: np.ndarray
    placements: np.ndarray | None


def auroc_delong(
    grouping: Grouping,
    ss: SortedScores,
    n_pos: np.ndarray,
    n_neg: np.ndarray,
    *,
    placements: bool = False,
) -> AurocResult:
    """Rank-sum AUROC and DeLong (1988) variance for all groups of one grouping at once.

    After the global score sort, a stable radix sort by group code lays each group's scores out
    in ascending order. A tie block is a run of equal scores inside one group; the count of
    negatives before the block (exclusive cumulative sum restarted per group) gives every
    positive's placement value, which equals (midrank among all − midrank among positives)/n0,
    so the mean placement is the Mann–Whitney AUROC with midranks. Without ties every row is
    its own block and the block bookkeeping is skipped.
    """
    size = grouping.size
    n = ss.score.shape[0]
    if n == 0:
        nan = np.full(size, np.nan)
        return AurocResult(nan, nan, nan, nan, None)
    if size == 1:
        perm = None
        yy = ss.y
        cc_small = np.zeros(n, dtype=np.uint8)
    else:
        codes_sorted = _small_codes(grouping.codes, size)[ss.order]
        perm = np.argsort(codes_sorted, kind="stable")
        yy = ss.y[perm]
        cc_small = codes_sorted[perm]
    if ss.has_ties:
        s = ss.score if perm is None else ss.score[perm]
        new_block = np.empty(n, dtype=bool)
        new_block[0] = True
        np.not_equal(s[1:], s[:-1], out=new_block[1:])
        new_block[1:] |= cc_small[1:] != cc_small[:-1]
        bid = np.cumsum(new_block) - 1
        nb = int(bid[-1]) + 1
        bpos: np.ndarray = np.bincount(bid, weights=yy, minlength=nb)
        bneg: np.ndarray
        bneg = np.bincount(bid, minlength=nb) - bpos
        bgrp = cc_small[new_block].astype(np.intp)
    else:
        bid = None
        bpos = yy.astype(np.float64)
        bneg = 1.0 - bpos
        bgrp = cc_small.astype(np.intp)
    with np.errstate(invalid="ignore", divide="ignore"):
        v10, v01 = _placements(bpos, bneg, bgrp, n_pos, n_neg, size)
        pv = bpos * v10
        auc = np.bincount(bgrp, weights=pv, minlength=size) / n_pos
        auc[(n_pos <= 0) | (n_neg <= 0)] = np.nan
        # DeLong's S10, S01 as (Σ v² − k·mean²)/(k − 1); placements lie in [0, 1].
        sum10 = np.bincount(bgrp, weights=pv * v10, minlength=size)
        nv = bneg * v01
        mean01 = np.bincount(bgrp, weights=nv, minlength=size) / n_neg
        sum01 = np.bincount(bgrp, weights=nv * v01, minlength=size)
        s10 = np.maximum(sum10 - n_pos * auc * auc, 0.0) / (n_pos - 1)
        s01 = np.maximum(sum01 - n_neg * mean01 * mean01, 0.0) / (n_neg - 1)
        s10[n_pos < 2] = np.nan
        s01[n_neg < 2] = np.nan
        var = s10 / n_pos + s01 / n_neg
    place = None
    if placements:
        row_v10 = v10 if bid is None else v10[bid]
        row_v01 = v01 if bid is None else v01[bid]
        row_val = np.where(yy, row_v10, row_v01)
        place = np.empty(n)
        place[ss.order if perm is None else ss.order[perm]] = row_val
    return AurocResult(auc=auc, var=var, s10=s10, s01=s01, placements=place)


def _placements(
    bpos: np.ndarray,
    bneg: np.ndarray,
    bgrp: np.ndarray,
    n_pos: np.ndarray,
    n_neg: np.ndarray,
    size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Placement values per block (blocks sorted by group, then score)."""
    cneg = np.cumsum(bneg)
    cneg -= bneg
    cpos = np.cumsum(bpos)
    cpos -= bpos
    first = np.flatnonzero(np.r_[True, bgrp[1:] != bgrp[:-1]])
    base_neg = np.zeros(size)
    base_pos = np.zeros(size)
    base_neg[bgrp[first]] = cneg[first]
    base_pos[bgrp[first]] = cpos[first]
    cneg -= base_neg[bgrp]
    cpos -= base_pos[bgrp]
    cneg += 0.5 * bneg
    v10 = cneg / n_neg[bgrp]
    n1 = n_pos[bgrp]
    cpos += 0.5 * bpos
    v01 = (n1 - cpos) / n1
    return v10, v01


def placement_covariance(
    codes: np.ndarray,
    parent_of: np.ndarray,
    y: np.ndarray,
    place_child: np.ndarray,
    place_parent: np.ndarray,
    child_n: tuple[np.ndarray, np.ndarray],
    parent_n: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Cov(AUROC of a group, AUROC of the larger group containing it), e.g. group vs overall.

    Both estimates are U-statistics on shared rows. Linearising each as a sum over its rows of
    DeLong placement values (positives: V10, negatives: V01) gives
    Cov = C10 / n1_parent + C01 / n0_parent, where C10 (C01) is the sample covariance, over the
    group's positives (negatives), of the group's and the parent's placement values.
    ``codes`` are the child group codes per row, ``parent_of[g]`` the parent of child group g,
    ``child_n``/``parent_n`` the (positives, negatives) counts per group.
    """
    size = parent_of.size
    out = np.zeros(size)
    for cls, n_cls, n_parent in ((True, child_n[0], parent_n[0]), (False, child_n[1], parent_n[1])):
        rows = y == cls
        c = codes[rows]
        a = place_child[rows]
        b = place_parent[rows]
        sab = np.bincount(c, weights=a * b, minlength=size)
        sa = np.bincount(c, weights=a, minlength=size)
        sb = np.bincount(c, weights=b, minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = (sab - sa * sb / n_cls) / (n_cls - 1)
        out += np.where(n_cls > 1, cov, np.nan) / n_parent[parent_of]
    return out


def auroc_reasons(n_pos: np.ndarray, n_neg: np.ndarray) -> list[str | None]:
    return [_one_class_reason(p, q) for p, q in zip(n_pos, n_neg, strict=True)]


def logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, LOGIT_EPS, 1 - LOGIT_EPS)
    out: np.ndarray = np.log(q) - np.log1p(-q)
    return out


# exp(EXP_MAX) is finite in float64 (exp overflows just above 709.78).
EXP_MAX = 709.0


def expit(x: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(−x)) that cannot overflow.

    The exponent is clipped at :data:`EXP_MAX`: for x < −709 the result is 1/(1 + e⁷⁰⁹) ≈
    1.2e−308 instead of a value even closer to 0, an absolute error below the smallest normal
    double, which no weight π(1 − π) or residual y − π can resolve. For x ≥ −709 the result is
    the plain formula's, bit for bit. (Four in-place passes: this runs on every row of each
    bootstrap feature block.)
    """
    out: np.ndarray = np.negative(x)
    np.minimum(out, EXP_MAX, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)
    return out


def _model_rows(
    theta_rows: np.ndarray, x: np.ndarray, y: np.ndarray, slope: bool
) -> tuple[np.ndarray, ...]:
    """Columns (ll, score…, information…) per row at the given per-row coefficients.

    Offset model (calibration-in-the-large, η = α + x): ll, r, w. Slope model (η = a + b·x):
    ll, r, r·x, w, w·x, w·x² — with r = y − π, w = π(1 − π) and the Bernoulli log-likelihood
    ll = y·η − log(1 + e^η), all from one exp and one log1p of e^−|η| (never overflows).
    """
    if slope:
        eta = theta_rows[..., 1] * x
        eta += theta_rows[..., 0]
    else:
        eta = x + theta_rows[..., 0]
    e = np.abs(eta)
    np.negative(e, out=e)
    np.exp(e, out=e)
    inv = e + 1.0
    np.reciprocal(inv, out=inv)
    pi = e * inv
    np.copyto(pi, inv, where=eta >= 0)
    ll = np.log1p(e)
    np.negative(ll, out=ll)
    ll -= np.maximum(eta, 0.0)
    ll += y * eta
    r = y - pi
    w = pi * (1.0 - pi)
    if not slope:
        return ll, r, w
    wx = w * x
    return ll, r, r * x, w, wx, wx * x


def _group_totals(codes: np.ndarray, size: int, rows: tuple[np.ndarray, ...]) -> np.ndarray:
    """Per-group sums of each row column (columns × groups)."""
    if size == 1:
        return np.array([[col.sum()] for col in rows])
    return np.stack([np.bincount(codes, weights=col, minlength=size) for col in rows])


def _newton_direction(tot: np.ndarray, slope: bool) -> tuple[np.ndarray, np.ndarray]:
    """Newton step H⁻¹·U per group from totals (ll, U…, H…), no longer than
    :data:`MAX_NEWTON_STEP` in any coordinate; ``ok`` is False where H is singular.

    The cap is a trust region on the logit scale: where nearly every fitted p sits at 0 or 1
    (over-confident scores, exact 0/1 predictions) the Hessian is tiny, the raw step
    astronomically long and step halving alone could not bring it back within the
    log-likelihood's reach. Near the maximum the cap is inactive, so convergence stays quadratic.
    """
    if not slope:
        _, u, h = tot
        ok = (h > 0) & np.isfinite(u)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            raw = np.where(np.abs(u) < MAX_NEWTON_STEP * h, u / h, np.sign(u) * MAX_NEWTON_STEP)
        return np.where(ok, raw, 0.0)[:, None], ok
    _, u0, u1, h00, h01, h11 = tot
    det = h00 * h11 - h01 * h01
    ok = det > 1e-12 * np.maximum(h00 * h11, 1e-300)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        r0 = (h11 * u0 - h01 * u1) / det
        r1 = (h00 * u1 - h01 * u0) / det
    ok = ok & np.isfinite(r0) & np.isfinite(r1)
    step = np.stack((np.where(ok, r0, 0.0), np.where(ok, r1, 0.0)), axis=1)
    longest = np.max(np.abs(step), axis=1)
    shrink = np.where(longest > MAX_NEWTON_STEP, MAX_NEWTON_STEP / np.maximum(longest, 1e-300), 1.0)
    return step * shrink[:, None], ok


@dataclass(frozen=True)
class FitResult:
    """One model's coefficients per group (NaN where not converged), the point where the
    per-row quantities were last evaluated and those rows (single-group fits only)."""

    theta: np.ndarray  # groups × k
    converged: np.ndarray
    iterations: int
    eval_theta: np.ndarray | None = None
    eval_rows: tuple[np.ndarray, ...] | None = None


def damped_newton(
    codes: np.ndarray,
    size: int,
    x: np.ndarray,
    y: np.ndarray,
    active: np.ndarray,
    start: np.ndarray,
    slope: bool,
    first: tuple[np.ndarray, ...] | None = None,
) -> FitResult:
    """Maximum-likelihood logistic recalibration fits of all ``active`` groups at once.

    Damped Newton–Raphson: the full Newton step is tried and halved while it lowers the group's
    log-likelihood (step halving, as in IRLS implementations, e.g. R's glm.fit); a group stops
    when its Newton step is below :data:`NEWTON_TOL`·(1 + |θ|), at which point the quadratic
    convergence of Newton leaves an error of order NEWTON_TOL². The log-likelihood of a
    logistic model is concave, so every accepted step increases it and the iteration converges
    to the maximum whenever it exists; callers rule out the cases where it does not (one class,
    separation, constant scores) before fitting. Each iteration is one pass over the rows of the
    groups still iterating. ``first``: the per-row columns at ``start`` when already known.
    """
    k = 2 if slope else 1
    theta = np.broadcast_to(np.asarray(start, dtype=np.float64), (size, k)).copy()
    single = size == 1

    def evaluate_at(
        th: np.ndarray, need: np.ndarray
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        if single:
            rows = _model_rows(th[0], x, y, slope)
            return _group_totals(codes, 1, rows), rows
        if need.all():
            return _group_totals(codes, size, _model_rows(th[codes], x, y, slope)), None
        idx = np.flatnonzero(need[codes])
        cc = codes[idx]
        rows = _model_rows(th[cc], x[idx], y[idx], slope)
        return _group_totals(cc, size, rows), None

    if first is not None:
        tot = _group_totals(codes, size, first)
        last_rows = first if single else None
    else:
        tot, last_rows = evaluate_at(theta, active)
    eval_theta = theta.copy()
    direction, invertible = _newton_direction(tot, slope)
    live = active & invertible
    ok = np.zeros(size, dtype=bool)
    scale = np.ones(size)
    iterations = 0
    for it in range(1, NEWTON_MAX_ITER + 1):
        if not live.any():
            break
        iterations = it
        tiny = live & (
            np.max(np.abs(direction), axis=1) <= NEWTON_TOL * (1 + np.max(np.abs(theta), axis=1))
        )
        theta[tiny] += direction[tiny]
        ok |= tiny
        live &= ~tiny
        if not live.any():
            break
        trial = theta + scale[:, None] * direction
        new, rows = evaluate_at(np.where(live[:, None], trial, theta), live)
        with np.errstate(invalid="ignore"):
            better = live & (new[0] >= tot[0] - 1e-12 * np.abs(tot[0]))
        theta[better] = trial[better]
        tot[:, better] = new[:, better]
        if single and better[0]:
            last_rows, eval_theta = rows, theta.copy()
        scale[better] = 1.0
        step, inv = _newton_direction(tot, slope)
        direction[better] = step[better]
        live &= ~(better & ~inv)
        worse = live & ~better
        scale[worse] *= 0.5
        live &= scale > 2.0**-MAX_HALVINGS
    theta[~ok] = np.nan
    if single:
        return FitResult(theta, ok, iterations, eval_theta, last_rows)
    return FitResult(theta, ok, iterations)


@dataclass(frozen=True)
class NewtonRows:
    """Per-row quantities of the overall fits at their last evaluation points.

    Every subgroup fit starts from that point, where its rows' quantities are these same
    arrays, so the first Newton iteration of every grouping needs only bincounts (no exp).
    """

    alpha: float
    a: float
    b: float
    offset_rows: tuple[np.ndarray, ...]  # ll, r, w of the offset model
    slope_rows: tuple[np.ndarray, ...]  # ll, r, r·x, w, w·x, w·x² of the slope model


@dataclass(frozen=True)
class Recalibration:
    """Logistic recalibration per group.

    - ``intercept``: calibration-in-the-large, α in logit P(y) = α + logit(p) (offset model).
    - ``slope_a``, ``slope``: a and b in logit P(y) = a + b·logit(p).
    The two fits are independent: ``intercept_reasons[g]`` / ``slope_reasons[g]`` is None when
    that fit converged, else why its value is undefined. ``rows`` (overall fit only) seeds the
    subgroup fits.
    """

    intercept: np.ndarray
    slope_a: np.ndarray
    slope: np.ndarray
    intercept_reasons: list[str | None]
    slope_reasons: list[str | None]
    rows: NewtonRows | None = None
    iterations: int = 0


CONSTANT_SCORE = (
    "the score is constant in this group: a calibration slope needs at least two distinct "
    "predicted probabilities"
)
SEPARATED = (
    "the score separates the outcome in this group (every event scored at or above every "
    "non-event, or the reverse): the maximum-likelihood slope is infinite"
)
NOT_CONVERGED = "the logistic recalibration did not converge within {n} Newton iterations"


def score_ranges(
    codes: np.ndarray, size: int, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per (group, outcome) minimum and maximum of ``x`` (size × 2 each; ±inf where empty)."""
    key = codes * 2 + y.astype(np.intp)
    lo = np.full(2 * size, np.inf)
    hi = np.full(2 * size, -np.inf)
    np.minimum.at(lo, key, x)
    np.maximum.at(hi, key, x)
    return lo.reshape(size, 2), hi.reshape(size, 2)


def slope_identifiable(
    codes: np.ndarray, size: int, x: np.ndarray, y: np.ndarray, active: np.ndarray
) -> list[str | None]:
    """Why the slope model's maximum-likelihood estimate does not exist, per active group.

    With one covariate and an intercept the MLE exists exactly when the events' and non-events'
    score ranges overlap in an open interval (Albert & Anderson 1984): separation (complete, or
    quasi-complete with ties at the boundary) means min x over events ≥ max x over non-events,
    or the reverse. A constant score is reported as such, not as separation.
    """
    lo, hi = score_ranges(codes, size, x, y)
    out: list[str | None] = []
    for g in range(size):
        if not active[g]:
            out.append(None)
        elif min(lo[g]) == max(hi[g]):
            out.append(CONSTANT_SCORE)
        elif lo[g, 1] >= hi[g, 0] or hi[g, 1] <= lo[g, 0]:
            out.append(SEPARATED)
        else:
            out.append(None)
    return out


def _warm_start(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Starting values for a single large fit from a systematic subsample of about
    :data:`WARM_START_ROWS` rows: Newton then needs fewer passes over all rows; the final
    estimates still solve the full-data equations."""
    step = x.size // WARM_START_ROWS
    xs, ys = x[::step], y[::step]
    zeros = np.zeros(xs.size, dtype=np.intp)
    active = np.array([0 < ys.sum() < ys.size])
    off = damped_newton(zeros, 1, xs, ys, active, np.zeros(1), slope=False)
    alpha = float(off.theta[0, 0]) if off.converged[0] else 0.0
    if slope_identifiable(zeros, 1, xs, ys, active)[0] is not None:
        return alpha, 0.0, 1.0
    sl = damped_newton(zeros, 1, xs, ys, active, np.array([0.0, 1.0]), slope=True)
    if not sl.converged[0]:
        return alpha, 0.0, 1.0
    return alpha, float(sl.theta[0, 0]), float(sl.theta[0, 1])


def recalibrate(
    grouping: Grouping,
    x: np.ndarray,
    y: np.ndarray,
    n_pos: np.ndarray,
    n_neg: np.ndarray,
    start: Recalibration | None = None,
) -> Recalibration:
    """Both recalibration fits for all groups; undefined groups get NaN and a reason.

    The intercept (offset model) exists whenever both outcomes occur and is fitted on its own;
    the slope additionally needs non-constant, non-separating scores (checked exactly first).
    ``start`` (the overall population's fit) seeds the subgroup fits: they begin at its last
    Newton evaluation point, whose per-row quantities are reused for their first iteration.
    """
    size = grouping.size
    codes = grouping.codes
    yf = y if y.dtype == np.float64 else y.astype(np.float64)
    active = (n_pos > 0) & (n_neg > 0)
    slope_why = slope_identifiable(codes, size, x, yf, active)
    slope_active = active & np.array([w is None for w in slope_why], dtype=bool)
    s_alpha, s_a, s_b = 0.0, 0.0, 1.0
    first_off = first_slope = None
    if start is not None and start.rows is not None:
        seed = start.rows
        s_alpha, s_a, s_b = seed.alpha, seed.a, seed.b
        first_off, first_slope = seed.offset_rows, seed.slope_rows
    elif size == 1 and x.size > WARM_START_ROWS * 2:
        s_alpha, s_a, s_b = _warm_start(x, yf)
    off = damped_newton(codes, size, x, yf, active, np.array([s_alpha]), False, first_off)
    sl = damped_newton(codes, size, x, yf, slope_active, np.array([s_a, s_b]), True, first_slope)
    rows = None
    if (
        size == 1
        and off.eval_rows is not None
        and sl.eval_rows is not None
        and off.eval_theta is not None
        and sl.eval_theta is not None
    ):
        rows = NewtonRows(
            alpha=float(off.eval_theta[0, 0]),
            a=float(sl.eval_theta[0, 0]),
            b=float(sl.eval_theta[0, 1]),
            offset_rows=off.eval_rows,
            slope_rows=sl.eval_rows,
        )
    not_conv = NOT_CONVERGED.format(n=NEWTON_MAX_ITER)
    i_reasons: list[str | None] = []
    s_reasons: list[str | None] = []
    for g in range(size):
        why = _one_class_reason(n_pos[g], n_neg[g])
        i_reasons.append(why or (None if off.converged[g] else not_conv))
        s_reasons.append(why or slope_why[g] or (None if sl.converged[g] else not_conv))
    return Recalibration(
        intercept=off.theta[:, 0],
        slope_a=sl.theta[:, 0],
        slope=sl.theta[:, 1],
        intercept_reasons=i_reasons,
        slope_reasons=s_reasons,
        rows=rows,
        iterations=max(off.iterations, sl.iterations),
    )


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
    key = grouping.codes * bins + b
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
    # Clustered data only: the (group, patient) units and each proportion's design effect.
    units: Any = None
    design_effect: dict[str, np.ndarray] | None = None
