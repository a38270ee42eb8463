"""Profile-likelihood interval of the calibration slope for groups with few events.

The slope b of logit P(y) = a + b·logit(p) is the coefficient of a logistic GLM; its
profile-likelihood interval (Venzon & Moolgavkar 1988; what R's ``confint.glm`` computes) is the
set of b whose profile deviance 2·(ℓ(â, b̂) − max_a ℓ(a, b)) is at most χ²₁(level) = z². With
fewer than :data:`SWITCH_EVENTS` events or non-events in a group the percentile bootstrap of the
slope under-covers (92.1 % with ~10 events, 4,000 simulated groups of 200 rows); the profile
interval is used there, the bootstrap from :data:`SWITCH_EVENTS` on (where both agree).

Cost: for each limit, at most :data:`MAX_EXPANSIONS` bracket expansions plus
:data:`MAX_ROOT_STEPS` Illinois false-position steps, each one 1-D Newton fit of a (at most
:data:`MAX_NEWTON` passes over the rows of the groups concerned), all groups and both limits
vectorised together, each pass over the rows of the unfinished problems only.
The time is bounded: a group qualifies only up to :data:`MAX_GROUP_ROWS` rows, a grouping's
qualifying groups (fewest rows first) only up to :data:`MAX_ROWS` rows together, and the search
stops after :data:`MAX_WORK` row evaluations (a deterministic count, not a clock, so the result
does not depend on the machine); groups left out by any of these (or with a clipped exact 0/1
score, or clustered rows) keep the bootstrap interval from ``spec.min_events`` events and
non-events on (the result's notes name them) and get no slope interval below that.
"""

from __future__ import annotations

import numpy as np

SWITCH_EVENTS = 50
MAX_EXPANSIONS = 12  # bracket: b̂ ± 2·se·2^k, k ≤ 12 (up to 8,192 Wald standard errors)
MAX_ROOT_STEPS = 40
MAX_NEWTON = 60
ROOT_TOL = 1e-9
MAX_GROUP_ROWS = 100_000
# 2 M rows: the tester's 2-million-row file of 1,200 rare-outcome cells needs ~1.5·10⁸ row
# evaluations (7-11 s on one core); the worst case, 4·10⁸, ~20-30 s. Memory: ~320 bytes per
# profiled row (rows duplicated for both limits, a few temporaries), ~650 MB at 2 M rows.
MAX_ROWS = 2_000_000
MAX_WORK = 400_000_000  # row evaluations (both limits' rows counted)
METHOD = (
    f"; in a group with fewer than {SWITCH_EVENTS} events or non-events and no score exactly 0 "
    f"or 1 and at most {MAX_GROUP_ROWS:,} rows the CI is instead the profile-likelihood interval "
    "of the slope (Venzon & Moolgavkar 1988, as R's confint.glm; the percentile bootstrap "
    f"under-covered there), for at most {MAX_ROWS:,} rows per grouping (fewest rows first); "
    "such a group left without it (bounds, a clipped 0/1 score, clustered rows) keeps the "
    "bootstrap if it has at least the minimum events and non-events (the notes name it), else "
    "has no interval; each group's method says which it got"
)
PROFILE = (
    "CI: profile-likelihood interval of the slope (Venzon & Moolgavkar 1988, as R's "
    f"confint.glm), the group having fewer than {SWITCH_EVENTS} events or non-events"
)


def bounded() -> str:
    """Why a group was left out by the profile's bounds (read at call time)."""
    return (
        f"beyond the profile-likelihood interval's bounds (at most {MAX_GROUP_ROWS:,} rows per "
        f"group, {MAX_ROWS:,} per grouping, {MAX_WORK:,} row evaluations)"
    )


CLIPPED = (
    "a predicted probability of exactly 0 or 1 (clipped to logit ±23) dominates the likelihood, "
    "so no profile-likelihood interval"
)
CLUSTERED = "clustered rows (the profile-likelihood interval assumes independent rows)"


def withheld(min_events: int, why: str) -> str:
    """Why a group under the switch point with fewer than ``min_events`` events or non-events
    and no profile-likelihood interval gets no slope interval at all."""
    return (
        f"fewer than {min_events} events or non-events and no profile-likelihood interval "
        f"({why}); the one-step bootstrap interval covered only 61% at 1–2 events, so none is "
        "given"
    )


UNBOUNDED = (
    "the profile likelihood of the slope does not fall far enough within 8,192 standard "
    "errors (too few events for a bounded interval)"
)


def _ll_terms(eta: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bernoulli log-likelihood, residual and weight per row (no overflow)."""
    e = np.exp(-np.abs(eta))
    inv = 1.0 / (1.0 + e)
    pi = np.where(eta >= 0, inv, e * inv)
    ll = y * eta - np.maximum(eta, 0.0) - np.log1p(e)
    return ll, y - pi, pi * (1.0 - pi)


def eligible(n_rows: np.ndarray, few: np.ndarray) -> np.ndarray:
    """Groups (``few``: under the switch point, and otherwise suitable) that get the profile
    interval: at most MAX_GROUP_ROWS rows each, fewest rows first while the grouping's total
    stays within MAX_ROWS (ties by group order)."""
    cand = np.flatnonzero(few & (n_rows <= MAX_GROUP_ROWS))
    cand = cand[np.argsort(n_rows[cand], kind="stable")]
    keep = cand[np.cumsum(n_rows[cand]) <= MAX_ROWS]
    out = np.zeros(few.size, bool)
    out[keep] = True
    return out


def _profile(
    beta: np.ndarray,
    alpha: np.ndarray,
    c: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    work: list[int] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """max over a of ℓ(a, beta) per problem by safeguarded 1-D Newton from ``alpha``; (ℓ, a,
    converged). ℓ is concave in a, so its score u falls as a rises: every a with u > 0 is a lower
    bound of the maximiser, every a with u < 0 an upper one; a Newton step leaving that bracket
    is replaced by its midpoint (undamped Newton can cycle forever between two points here).
    Each pass reads only the rows of the problems not yet converged. ``work`` (one counter)
    accumulates the row evaluations."""
    k = beta.size
    a = alpha.copy()
    done = np.zeros(k, bool)
    low, high = np.full(k, -np.inf), np.full(k, np.inf)
    rc, rx, ry = c, x, y
    evaluated = x.size  # the final log-likelihood pass
    for _ in range(MAX_NEWTON):
        evaluated += rc.size
        _, r, w = _ll_terms(a[rc] + beta[rc] * rx, ry)
        u = np.bincount(rc, weights=r, minlength=k)
        h = np.bincount(rc, weights=w, minlength=k)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.clip(np.where(h > 0, u / h, 0.0), -8.0, 8.0)
        low = np.where(~done & (u > 0), np.maximum(low, a), low)
        high = np.where(~done & (u < 0), np.minimum(high, a), high)
        leaves = ((a + step <= low) | (a + step >= high)) & np.isfinite(low) & np.isfinite(high)
        with np.errstate(invalid="ignore"):  # −inf + inf where no bracket yet: not used
            step = np.where(leaves, 0.5 * (low + high) - a, step)
        a += np.where(done, 0.0, step)
        done |= np.abs(step) < 1e-9 * (1.0 + np.abs(a))
        if done.all():
            break
        keep = ~done[rc]
        if not keep.all():
            rc, rx, ry = rc[keep], rx[keep], ry[keep]
    if work is not None:
        work[0] += evaluated
    ll, _, _ = _ll_terms(a[c] + beta[c] * x, y)
    return np.bincount(c, weights=ll, minlength=k), a, done


def profile_slope_interval(
    codes: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    a_hat: np.ndarray,
    b_hat: np.ndarray,
    chosen: np.ndarray,
    level: float,
    max_work: int | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str | None], np.ndarray]:
    """Profile-likelihood limits of the slope for the groups where ``chosen`` (NaN elsewhere);
    a reason per group where the limits are not finite; and the groups settled (False where the
    search stopped at ``max_work`` (default MAX_WORK) row evaluations first: those keep the
    bootstrap)."""
    if max_work is None:
        max_work = MAX_WORK
    from assessment.evaluation.intervals import z_value

    size = b_hat.size
    lo, hi = np.full(size, np.nan), np.full(size, np.nan)
    reasons: list[str | None] = [None] * size
    settled = np.zeros(size, bool)
    groups = np.flatnonzero(chosen)
    if groups.size == 0:
        return lo, hi, reasons, settled
    m = groups.size
    compact = np.full(size, -1)
    compact[groups] = np.arange(m)
    rows = np.flatnonzero(compact[codes] >= 0)
    gc = compact[codes[rows]]
    xs, ys = x[rows], y[rows].astype(float)
    # 2m problems: lower limits (0..m−1) and upper limits (m..2m−1) on duplicated rows
    c = np.concatenate((gc, gc + m))
    xx, yy = np.concatenate((xs, xs)), np.concatenate((ys, ys))
    a0 = np.tile(a_hat[groups], 2)
    b0 = np.tile(b_hat[groups], 2)
    ll_hat, _, _ = _profile(b0, a0, c, xx, yy)
    _, _, w = _ll_terms(a0[c] + b0[c] * xx, yy)
    h00 = np.bincount(c, weights=w, minlength=2 * m)
    h01 = np.bincount(c, weights=w * xx, minlength=2 * m)
    h11 = np.bincount(c, weights=w * xx * xx, minlength=2 * m)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(h00 / (h00 * h11 - h01 * h01))
    se = np.where(np.isfinite(se) & (se > 0), se, 1.0)
    sign = np.r_[-np.ones(m), np.ones(m)]
    z2 = z_value(level) ** 2
    work = [0]

    def f(beta: np.ndarray, alpha: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """2·(ℓ̂ − profile ℓ(beta)) − z² and the refitted a, for the ``active`` problems only
        (their rows alone are read; the others' entries are meaningless)."""
        on = active[c]
        ll, a, _ = _profile(beta, alpha, c[on], xx[on], yy[on], work)
        return 2.0 * (ll_hat - ll) - z2, np.where(active, a, alpha)

    inner, f_in = b0.copy(), np.full(2 * m, -z2)
    width = 2.0 * se
    outer = b0 + sign * width
    f_out, alpha = f(outer, a0, np.ones(2 * m, bool))
    for _ in range(MAX_EXPANSIONS):
        need = f_out <= 0
        if not need.any():
            break
        if work[0] > max_work:
            return lo, hi, reasons, settled  # none settled: all keep the bootstrap
        inner = np.where(need, outer, inner)
        f_in = np.where(need, f_out, f_in)
        width = np.where(need, 2.0 * width, width)
        outer = np.where(need, b0 + sign * width, outer)
        f_new, alpha = f(outer, alpha, need)
        f_out = np.where(need, f_new, f_out)
    bracketed = f_out > 0
    # Illinois false position between inner (f < 0) and outer (f > 0), each problem until its
    # own limit is found (only the unfinished problems' rows are read)
    last = np.zeros(2 * m)
    root = inner.copy()
    close = ~bracketed
    for _ in range(MAX_ROOT_STEPS):
        on = ~close
        if not on.any() or work[0] > max_work:
            break
        root = np.where(on, inner - f_in * (outer - inner) / (f_out - f_in), root)
        f_r, alpha = f(root, alpha, on)
        neg = on & (f_r <= 0)
        pos = on & ~neg
        inner = np.where(neg, root, inner)
        f_in = np.where(neg, f_r, f_in)
        outer = np.where(pos, root, outer)
        f_out = np.where(pos, f_r, f_out)
        # Illinois: halve the f of the endpoint kept twice in a row
        f_out = np.where(neg & (last < 0), f_out / 2, f_out)
        f_in = np.where(pos & (last > 0), f_in / 2, f_in)
        last = np.where(neg, -1.0, np.where(pos, 1.0, last))
        found = (np.abs(outer - inner) < ROOT_TOL * (1 + np.abs(root))) | (np.abs(f_r) < 1e-9)
        close |= on & found
    else:
        close[:] = True  # MAX_ROOT_STEPS Illinois steps: the limits as found
    root = np.where(bracketed, root, np.nan)
    both = (close | ~bracketed)[:m] & (close | ~bracketed)[m:]
    settled[groups] = both
    lo[groups], hi[groups] = root[:m], root[m:]
    for j, g in enumerate(groups):
        if not both[j]:
            lo[g] = hi[g] = np.nan
            continue
        if not (bracketed[j] and bracketed[m + j]):
            lo[g] = hi[g] = np.nan  # half an interval is no interval
            reasons[int(g)] = UNBOUNDED
    return lo, hi, reasons, settled
