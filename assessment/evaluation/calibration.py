"""Logistic recalibration (calibration-in-the-large and calibration slope) per group: a damped
Newton–Raphson fit (step halving on the log-likelihood, a trust region on the step) run for all
groups together, after exact checks for one class, constant scores and separation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assessment.evaluation.groupings import Grouping, _one_class_reason, wide

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


# Rows per chunk of a Newton pass: the per-row temporaries of :func:`_model_rows` stay a few MB
# each (reused from the heap, not fresh pages) whatever the number of rows.
ROW_CHUNK = 1 << 16


def chunked_sums(
    n: int, leaf: Callable[[slice], np.ndarray], limit: int | None = None
) -> np.ndarray:
    """``leaf(rows)`` for consecutive chunks of ``range(n)`` of at most ``limit`` rows, in
    order; returns the sum of the leaves' results, added exactly as NumPy's pairwise summation
    adds (it halves a block at a multiple of 8 until it is small), so that per-chunk column
    sums combined here equal ``column.sum()`` over all rows bit for bit."""
    # A module-level recursion, not a nested function calling itself: that one would refer to
    # itself through its closure, a reference cycle keeping ``leaf`` and what it holds (a
    # Newton pass's row indices, up to 80 MB at 10M rows) alive until the cyclic garbage
    # collector happened to run.
    return _tree_sum(leaf, 0, n, ROW_CHUNK if limit is None else limit)


def _tree_sum(leaf: Callable[[slice], np.ndarray], start: int, m: int, limit: int) -> np.ndarray:
    if m <= limit:
        return leaf(slice(start, start + m))
    half = m // 2
    half -= half % 8
    total: np.ndarray = _tree_sum(leaf, start, half, limit) + _tree_sum(
        leaf, start + half, m - half, limit
    )
    return total


def pass_totals(
    theta: np.ndarray,
    codes: np.ndarray,
    size: int,
    x: np.ndarray,
    y: np.ndarray,
    slope: bool,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Totals (columns × groups) of :func:`_model_rows` at per-group coefficients ``theta``
    (groups × k) over all rows, or over the row indices ``rows``.

    The per-row columns exist one chunk at a time (:func:`chunked_sums`); the sums are the
    ones whole-column arithmetic gives, in the same order, bit for bit: one group's by NumPy's
    pairwise order, several groups' by ``np.add.at`` in row order (which is the order
    ``np.bincount`` adds in), so the results do not depend on the chunk size.
    """
    n = x.size if rows is None else rows.size
    k = 6 if slope else 3
    tot = np.zeros((k, size))

    def leaf(part: slice) -> np.ndarray:
        if rows is None:
            cc, xx, yy = codes[part], x[part], y[part]
        else:
            idx = rows[part]
            cc, xx, yy = codes[idx], x[idx], y[idx]
        if size == 1:
            cols = _model_rows(theta[0], xx, yy, slope)
            return np.array([col.sum() for col in cols])
        cc = cc.astype(np.intp)  # np.add.at is ~30% faster with native indices
        # np.take along axis 0: the same rows as theta[cc], ~10× faster than fancy indexing
        cols = _model_rows(np.take(theta, cc, axis=0), xx, yy, slope)
        for j, col in enumerate(cols):
            np.add.at(tot[j], cc, col)
        return np.zeros(k)

    if size == 1:
        return chunked_sums(n, leaf)[:, None] if n else tot
    chunked_sums(n, leaf)
    return tot


def _newton_direction(
    tot: np.ndarray, slope: bool, radius: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Newton step H⁻¹·U per group from totals (ll, U…, H…), no longer than the group's
    ``radius`` in any coordinate; ``ok`` is False where H is singular, ``capped`` where the
    step was cut to the radius.

    The cap is a trust region on the logit scale: where nearly every fitted p sits at 0 or 1
    (over-confident scores, exact 0/1 predictions) the Hessian is tiny, the raw step
    astronomically long and step halving alone could not bring it back within the
    log-likelihood's reach. The radius starts at :data:`MAX_NEWTON_STEP` and doubles after each
    accepted full step that was cut (:func:`damped_newton`), so a fit far away (a slope of
    500 for nearly constant scores) is reached in a few iterations. Near the maximum the cap is
    inactive, so convergence stays quadratic.
    """
    if not slope:
        _, u, h = tot
        ok = (h > 0) & np.isfinite(u)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            inside = np.abs(u) < radius * h
            raw = np.where(inside, u / h, np.sign(u) * radius)
        return np.where(ok, raw, 0.0)[:, None], ok, ok & ~inside
    _, u0, u1, h00, h01, h11 = tot
    det = h00 * h11 - h01 * h01
    ok = det > 1e-12 * np.maximum(h00 * h11, 1e-300)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        r0 = (h11 * u0 - h01 * u1) / det
        r1 = (h00 * u1 - h01 * u0) / det
    ok = ok & np.isfinite(r0) & np.isfinite(r1)
    step = np.stack((np.where(ok, r0, 0.0), np.where(ok, r1, 0.0)), axis=1)
    longest = np.max(np.abs(step), axis=1)
    cut = longest > radius
    shrink = np.where(cut, radius / np.maximum(longest, 1e-300), 1.0)
    return step * shrink[:, None], ok, ok & cut


#: Largest trust radius (logit units) the doubling may reach.
MAX_RADIUS = MAX_NEWTON_STEP * 2.0**20


@dataclass(frozen=True)
class FitResult:
    """One model's coefficients per group (NaN where not converged), and the point where the
    per-row quantities were last evaluated (where the accepted totals belong)."""

    theta: np.ndarray  # groups × k
    converged: np.ndarray
    iterations: int
    eval_theta: np.ndarray | None = None


def damped_newton(
    codes: np.ndarray,
    size: int,
    x: np.ndarray,
    y: np.ndarray,
    active: np.ndarray,
    start: np.ndarray,
    slope: bool,
    first: np.ndarray | None = None,
) -> FitResult:
    """Maximum-likelihood logistic recalibration fits of all ``active`` groups at once.

    Damped Newton–Raphson: the full Newton step is tried and halved while it lowers the group's
    log-likelihood (step halving, as in IRLS implementations, e.g. R's glm.fit); a group stops
    when its Newton step is below :data:`NEWTON_TOL`·(1 + |θ|), at which point the quadratic
    convergence of Newton leaves an error of order NEWTON_TOL². The log-likelihood of a
    logistic model is concave, so every accepted step increases it and the iteration converges
    to the maximum whenever it exists; callers rule out the cases where it does not (one class,
    separation, constant scores) before fitting. Each iteration is one pass over the rows of the
    groups still iterating (in chunks, :func:`pass_totals`). ``first``: the totals at
    ``start`` when already known.
    """
    k = 2 if slope else 1
    theta = np.broadcast_to(np.asarray(start, dtype=np.float64), (size, k)).copy()

    def evaluate_at(th: np.ndarray, need: np.ndarray) -> np.ndarray:
        if size == 1 or need.all():
            return pass_totals(th, codes, size, x, y, slope)
        return pass_totals(th, codes, size, x, y, slope, np.flatnonzero(need[codes]))

    tot = evaluate_at(theta, active) if first is None else first.copy()
    eval_theta = theta.copy()
    radius = np.full(size, MAX_NEWTON_STEP)
    direction, invertible, capped = _newton_direction(tot, slope, radius)
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
        new = evaluate_at(np.where(live[:, None], trial, theta), live)
        with np.errstate(invalid="ignore"):
            better = live & (new[0] >= tot[0] - 1e-12 * np.abs(tot[0]))
        theta[better] = trial[better]
        tot[:, better] = new[:, better]
        if size == 1 and better[0]:
            eval_theta = theta.copy()
        # a full step cut to the radius and accepted: the maximum may be far, widen the region
        grow = better & capped & (scale == 1.0)
        radius[grow] = np.minimum(radius[grow] * 2.0, MAX_RADIUS)
        scale[better] = 1.0
        step, inv, cut = _newton_direction(tot, slope, radius)
        direction[better] = step[better]
        capped[better] = cut[better]
        live &= ~(better & ~inv)
        worse = live & ~better
        scale[worse] *= 0.5
        live &= scale > 2.0**-MAX_HALVINGS
    theta[~ok] = np.nan
    return FitResult(theta, ok, iterations, eval_theta if size == 1 else None)


@dataclass(frozen=True)
class NewtonRows:
    """The overall fits' last evaluation points, from which every subgroup fit starts.

    At that point a subgroup's per-row quantities are the overall fit's, so the first Newton
    iteration of a grouping needs only their per-group totals: ``seeds`` (grouping name →
    offset-model and slope-model totals) holds them for the groupings named when the overall
    fit ran, all computed in one chunked pass (no per-row array is kept); another grouping's
    are computed on first use.
    """

    alpha: float
    a: float
    b: float
    seeds: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def totals(self, grouping: Grouping, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
        if grouping.name not in self.seeds:
            self.seeds.update(self.compute([grouping], x, y))
        return self.seeds[grouping.name]

    def compute(
        self, groupings: Sequence[Grouping], x: np.ndarray, y: np.ndarray
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Seed totals of ``groupings``: one chunked pass over the rows for both models."""
        off_theta = np.array([self.alpha])
        sl_theta = np.array([self.a, self.b])
        many = [gp for gp in groupings if gp.size > 1]
        tots = {gp.name: (np.zeros((3, gp.size)), np.zeros((6, gp.size))) for gp in many}

        def leaf(part: slice) -> np.ndarray:
            off_rows = _model_rows(off_theta, x[part], y[part], False)
            sl_rows = _model_rows(sl_theta, x[part], y[part], True)
            for gp in many:
                cc = gp.codes[part].astype(np.intp)  # np.add.at is faster with native indices
                for tot, cols in zip(tots[gp.name], (off_rows, sl_rows), strict=True):
                    for j, col in enumerate(cols):
                        np.add.at(tot[j], cc, col)
            return np.array([col.sum() for col in (*off_rows, *sl_rows)])

        one = chunked_sums(x.size, leaf) if x.size else np.zeros(9)
        out = {gp.name: (one[:3, None].copy(), one[3:, None].copy()) for gp in groupings}
        out.update(tots)
        return out


@dataclass(frozen=True)
class Recalibration:
    """Logistic recalibration per group.

    - ``intercept``: calibration-in-the-large, α in logit P(y) = α + logit(p) (offset model).
    - ``slope_a``, ``slope``: a and b in logit P(y) = a + b·logit(p).
    The two fits are independent: ``intercept_reasons[g]`` / ``slope_reasons[g]`` is None when
    that fit converged, else why its value is undefined. ``rows`` (overall fit only) seeds the
    subgroup fits (:class:`NewtonRows`).
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
    key = wide(codes) * 2 + y.astype(np.intp)
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


def _offset_residuals(alpha: float, x: np.ndarray, y: np.ndarray) -> float:
    """Σ (y − expit(α + x)) with each residual at full relative precision: y·(1 − π) − (1 − y)·π
    with both π and 1 − π from exp(−|η|) (1.0 − π keeps only a few digits when π is within 1e-10
    of 0 or 1, as it is for exact 0/1 scores)."""
    eta = x + alpha
    e = np.exp(-np.abs(eta))
    small = e / (1.0 + e)  # the probability on the far side of ½
    big = 1.0 / (1.0 + e)
    pi = np.where(eta >= 0, big, small)
    q = np.where(eta >= 0, small, big)
    return float(np.sum(y * q) - np.sum((1.0 - y) * pi))


OFFSET_BISECTIONS = 200


def offset_root(x: np.ndarray, y: np.ndarray) -> float:
    """The calibration intercept of one group by bisection on its score equation.

    The offset model's score Σ(y − expit(α + x)) is strictly decreasing in α, positive for
    α → −∞ and negative for α → +∞ when both outcomes occur, so a bracket found by doubling
    always holds the unique root and bisection converges to it (to the last bit) — the safeguard
    for groups where Newton stalls at rounding noise (scores of exactly 0 or 1 equal to the
    outcome, where every weight π(1 − π) is about 1e-10). NaN without both outcomes.
    """
    if not (0 < y.sum() < y.size):
        return float("nan")
    lo, hi = -1.0, 1.0
    while _offset_residuals(lo, x, y) < 0 and lo > -1e6:
        lo *= 2
    while _offset_residuals(hi, x, y) > 0 and hi < 1e6:
        hi *= 2
    for _ in range(OFFSET_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if _offset_residuals(mid, x, y) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _rescue_offset(
    off: FitResult, active: np.ndarray, codes: np.ndarray, size: int, x: np.ndarray, y: np.ndarray
) -> None:
    """Solve the offset model by bisection (:func:`offset_root`) for the active groups whose
    Newton iteration did not converge: the intercept exists whenever both outcomes occur."""
    for g in np.flatnonzero(active & ~off.converged):
        rows = slice(None) if size == 1 else np.flatnonzero(codes == g)
        root = offset_root(x[rows], y[rows])
        if np.isfinite(root):
            off.theta[g, 0] = root
            off.converged[g] = True


def recalibrate(
    grouping: Grouping,
    x: np.ndarray,
    y: np.ndarray,
    n_pos: np.ndarray,
    n_neg: np.ndarray,
    start: Recalibration | None = None,
    seed_for: Sequence[Grouping] = (),
) -> Recalibration:
    """Both recalibration fits for all groups; undefined groups get NaN and a reason.

    The intercept (offset model) exists whenever both outcomes occur and is fitted on its own;
    the slope additionally needs non-constant, non-separating scores (checked exactly first).
    ``start`` (the overall population's fit) seeds the subgroup fits: they begin at its last
    Newton evaluation point, where their first iteration's totals are known in advance:
    ``seed_for`` (overall fit only) names the groupings whose totals are computed then, in one
    pass (:class:`NewtonRows`).
    """
    size = grouping.size
    codes = grouping.codes
    # bool or float 0/1: arithmetic with a bool array gives the same float64 values
    yf = y if y.dtype in (np.float64, np.bool_) else y.astype(np.float64)
    active = (n_pos > 0) & (n_neg > 0)
    slope_why = slope_identifiable(codes, size, x, yf, active)
    slope_active = active & np.array([w is None for w in slope_why], dtype=bool)
    s_alpha, s_a, s_b = 0.0, 0.0, 1.0
    first_off = first_slope = None
    if start is not None and start.rows is not None:
        seed = start.rows
        s_alpha, s_a, s_b = seed.alpha, seed.a, seed.b
        first_off, first_slope = seed.totals(grouping, x, yf)
    elif size == 1 and x.size > WARM_START_ROWS * 2:
        s_alpha, s_a, s_b = _warm_start(x, yf)
    off = damped_newton(codes, size, x, yf, active, np.array([s_alpha]), False, first_off)
    sl = damped_newton(codes, size, x, yf, slope_active, np.array([s_a, s_b]), True, first_slope)
    _rescue_offset(off, active, codes, size, x, yf)
    rows = None
    if size == 1 and off.eval_theta is not None and sl.eval_theta is not None:
        rows = NewtonRows(
            alpha=float(off.eval_theta[0, 0]),
            a=float(sl.eval_theta[0, 0]),
            b=float(sl.eval_theta[0, 1]),
        )
        if seed_for:
            rows.seeds.update(rows.compute(seed_for, x, yf))
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
