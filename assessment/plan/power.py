"""``plan check``: what the plan can detect at the expected group sizes, before any outcome is seen.

For each check (gate × group) at the level its multiplicity rule gives (Holm's first step equals
Bonferroni's, so Holm plans are shown at the Bonferroni level: a lower bound on their power):

- the probability of **pass** if the true value is the gate's ``assume`` (for a comparison with
  the reference: the gap, with ``assume_reference`` the reference group's value);
- the true values that give **80 % power** and the margin from the bound they need;
- checks that cannot reach 80 % for any true value (or whose group is below ``min_n``) are named.

Variances (written from the papers):

- single proportions (TPR, FPR, TNR, FNR, accuracy, selection rate, prevalence): the Wilson score
  interval the engine uses, power summed exactly over the binomial distribution of the count
  (Wilson 1927); the denominator is the expected events (TPR/FNR), non-events (FPR/TNR) or rows;
- differences of proportions: Newcombe's (1998) hybrid score interval, power summed exactly over
  both groups' binomial counts; ratios on the log scale,
  Var(ln r) = (1 − p₁)/(d₁p₁) + (1 − p₀)/(d₀p₀) (Katz et al. 1978), the large-sample width of the
  Koopman (1984) score interval the engine reports (an approximation with few events);
- AUROC: Hanley & McNeil (1982), Radiology 143:29–36, variance expression
  Var(A) = [A(1 − A) + (n₁ − 1)(Q₁ − A²) + (n₀ − 1)(Q₂ − A²)] / (n₁n₀), with Q₁ = Q₂ from the
  equal-variance binormal model (their exponential Q₁ = A/(2 − A), Q₂ = 2A²/(1 + A) is
  :func:`hanley_mcneil_var`), on the logit scale the engine's interval uses (SE/(A(1 − A)));
- O/E: Riley et al. (2021), Stat Med 40:4230–4251, SE(ln O/E) ≈ √((1 − φ)/(nφ)), φ the
  outcome proportion (with ``--data``, √(Σp(1 − p))/Σp over the group's predicted probabilities,
  the delta-method SE Riley's formula simplifies when all p are equal);
- calibration slope: Riley et al. (2021), the inverse Fisher information of the recalibration
  model logit(p) = α + β·LP at α = 0, β = 1: Var(β) = I_αα / (n(I_αα·I_ββ − I_αβ²)) with
  I_αα = E[p(1 − p)], I_αβ = E[LP·p(1 − p)], I_ββ = E[LP²·p(1 − p)], the expectations taken over
  the group's linear predictors (so it needs ``--data`` with the score column).

Pure: NumPy and SciPy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, logit, owens_t
from scipy.stats import binom, norm

from assessment.catalogue import metric_short
from assessment.plan.model import Criterion, Gate, Plan
from assessment.plan.verdicts import OVERALL_ID, check_count_level, reference_note

POWER_TARGET = 0.8
#: Denominator of each supported proportion: events, non-events or all rows.
DENOMINATOR: dict[str, str] = {
    "tpr": "events",
    "fnr": "events",
    "fpr": "non_events",
    "tnr": "non_events",
    "accuracy": "n",
    "selection_rate": "n",
    "prevalence": "n",
}
SUPPORTED = (*DENOMINATOR, "auroc", "oe_ratio", "calibration_slope")
EXACT_LIMIT = 5_000_000  # largest denominator summed exactly (a vector of that many terms)


@dataclass(frozen=True)
class GroupSize:
    """Expected rows and events of one group; ``lp``: its linear predictors (logit of the
    scores), when the data's scores are known."""

    n: int
    events: float
    lp: np.ndarray | None = None

    @property
    def non_events(self) -> float:
        return self.n - self.events


Sizes = dict[tuple[str, str], GroupSize]


@dataclass(frozen=True)
class PowerRow:
    gate: str
    metric: str
    attribute: str
    group: str
    reference: str | None
    bound: str
    n: int | None
    events: float | None
    level: float
    assumed: float | None
    power: float | None  # P(pass) at the assumed value
    best_power: float | None  # the largest P(pass) over true values
    needed: str  # e.g. "true value ≥ 0.782 (margin 0.032)"
    cannot_pass: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# ---- variances ------------------------------------------------------------------------------


def hanley_mcneil_var(a: float, n1: float, n0: float) -> float:
    """Hanley & McNeil (1982) variance of the AUROC A with n₁ events and n₀ non-events."""
    q1 = a / (2 - a)
    q2 = 2 * a * a / (1 + a)
    return (a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0)


def binormal_q(a: Any) -> Any:
    """Q₁ = Q₂ of the variance expression under the equal-variance binormal model: the chance
    that one event outranks two non-events, Φ₂(h, h; ρ = ½) with h = Φ⁻¹(A), computed as
    Φ(h) − 2·T(h, √((1 − ρ)/(1 + ρ))) with Owen's T (Owen 1956). Vectorised."""
    h = norm.ppf(a)
    return norm.cdf(h) - 2 * owens_t(h, math.sqrt(1 / 3))


def auroc_var(a: Any, n1: float, n0: float) -> Any:
    """Variance of the rank AUROC: Hanley & McNeil's (1982) expression
    [A(1 − A) + (n₁ − 1)(Q₁ − A²) + (n₀ − 1)(Q₂ − A²)]/(n₁n₀) with Q₁, Q₂ from the binormal
    model (:func:`binormal_q`) rather than their exponential approximation, which overstates
    the variance of binormal-like scores by ~8 % at A = 0.8 (tests/…/test_power_simulation)."""
    q = binormal_q(a)
    return (a * (1 - a) + (n1 - 1) * (q - a * a) + (n0 - 1) * (q - a * a)) / (n1 * n0)


def oe_log_se(n: float, events: float, lp: np.ndarray | None = None) -> float:
    """Riley et al. (2021): SE(ln O/E) ≈ √((1 − φ)/(nφ)). With the group's predicted
    probabilities known (``lp``), the delta-method SE √(Σp(1 − p))/Σp of the same estimator,
    which Riley's formula bounds from above (it equals it when every p is φ)."""
    if lp is not None and len(lp):
        p = expit(lp)
        return math.sqrt(float((p * (1 - p)).sum())) / float(p.sum())
    phi = events / n
    return math.sqrt((1 - phi) / (n * phi))


def slope_se(lp: np.ndarray) -> float:
    """Riley et al. (2021): SE of the calibration slope from the linear predictors' spread."""
    p = expit(lp)
    w = p * (1 - p)
    i_aa, i_ab, i_bb = float(w.mean()), float((lp * w).mean()), float((lp * lp * w).mean())
    det = i_aa * i_bb - i_ab * i_ab
    if det <= 0:
        return math.inf
    return math.sqrt(i_aa / (len(lp) * det))


def wilson_bounds(x: np.ndarray, n: int, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson (1927) score limits for x successes of n."""
    p = x / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return centre - half, centre + half


# ---- power ----------------------------------------------------------------------------------


def wald_pass(theta: float, se: float, a: float, b: float, z: float) -> float:
    """P(θ̂ − z·SE ≥ a and θ̂ + z·SE ≤ b) for θ̂ ~ N(θ, SE²)."""
    if not math.isfinite(se) or se <= 0:
        return 0.0
    up = 1.0 if b == math.inf else float(norm.cdf((b - theta) / se - z))
    down = 0.0 if a == -math.inf else float(norm.cdf((a - theta) / se + z))
    return max(0.0, up - down)


def wilson_pass(p: float, d: int, a: float, b: float, z: float) -> float:
    """Exact P(the Wilson interval of Binomial(d, p) lies in [a, b])."""
    if d < 1:
        return 0.0
    if d > EXACT_LIMIT:
        return wald_pass(p, math.sqrt(p * (1 - p) / d), a, b, z)
    x = np.arange(d + 1, dtype=np.float64)
    lo, hi = wilson_bounds(x, d, z)
    ok = (lo >= a) & (hi <= b)
    return float(binom.pmf(x[ok], d, p).sum())


def _central(d: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Counts within ±9 SD of d·p and their binomial probabilities (the rest is < 1e-18)."""
    sd = math.sqrt(d * p * (1 - p)) + 1
    x = np.arange(max(0, int(d * p - 9 * sd)), min(d, int(d * p + 9 * sd)) + 1)
    return x.astype(np.float64), binom.pmf(x, d, p)


def newcombe_pass(p1: float, p0: float, d1: int, d0: int, a: float, b: float, z: float) -> float:
    """P(Newcombe's hybrid score interval (1998, method 10) of p₁ − p₀ lies in [a, b]), summed
    over the binomial counts of both groups (their central ±9 SD; normal limit beyond 2,000 ×
    2,000 terms)."""
    if d1 < 1 or d0 < 1:
        return 0.0
    x1, w1 = _central(d1, p1)
    x0, w0 = _central(d0, p0)
    if x1.size * x0.size > 4_000_000:
        se = math.sqrt(p1 * (1 - p1) / d1 + p0 * (1 - p0) / d0)
        return wald_pass(p1 - p0, se, a, b, z)
    l1, u1 = wilson_bounds(x1, d1, z)
    l0, u0 = wilson_bounds(x0, d0, z)
    q1, q0 = x1 / d1, x0 / d0
    diff = q1[:, None] - q0[None, :]
    lo = diff - np.sqrt((q1 - l1)[:, None] ** 2 + (u0 - q0)[None, :] ** 2)
    hi = diff + np.sqrt((u1 - q1)[:, None] ** 2 + (q0 - l0)[None, :] ** 2)
    ok = (lo >= a) & (hi <= b)
    return float((w1[:, None] * w0[None, :])[ok].sum())


@dataclass(frozen=True)
class Model:
    """P(pass) as a function of the true value, with the metric's natural domain."""

    power: Callable[[float], float]
    low: float
    high: float


def auroc_model(n1: float, n0: float, a: float, b: float, z: float) -> Model:
    """P(pass) of the engine's logit DeLong interval, by inverting the test: the interval's
    lower limit logit(Â) − z·SE(Â)/(Â(1 − Â)) clears logit(a) exactly when Â is above some A*
    (found on a fine grid), so P(pass) = P(A*_low ≤ Â ≤ A*_high) with logit(Â) normal around
    logit(A). Accounts for the estimated SE moving with Â (a plug-in Wald power does not)."""
    grid = np.linspace(0.5, 1 - 1e-6, 20001)
    se_l = np.sqrt(auroc_var(grid, n1, n0)) / (grid * (1 - grid))
    lg = logit(grid)
    clears_low = lg - z * se_l >= (logit(a) if 0 < a < 1 else (-np.inf if a <= 0 else np.inf))
    clears_high = lg + z * se_l <= (logit(b) if 0 < b < 1 else (-np.inf if b <= 0 else np.inf))
    ok = clears_low & clears_high
    if not ok.any():
        return Model(lambda _t: 0.0, 0.5, 1 - 1e-6)
    lo_cut, hi_cut = float(lg[ok][0]), float(lg[ok][-1])
    hi_cut = math.inf if hi_cut >= lg[-1] else hi_cut

    def power(t: float) -> float:
        se = math.sqrt(float(auroc_var(t, n1, n0))) / (t * (1 - t))
        up = 1.0 if hi_cut == math.inf else float(norm.cdf((hi_cut - float(logit(t))) / se))
        return max(0.0, up - float(norm.cdf((lo_cut - float(logit(t))) / se)))

    return Model(power, 0.5, 1 - 1e-6)


def _bracket(crit: Criterion, lo: float, hi: float) -> tuple[float, float]:
    a, b = crit.acceptable()
    return max(a, lo), min(b, hi)


def model_for(
    gate: Gate, z: float, g: GroupSize, ref: GroupSize | None, ref_value: float | None
) -> Model | str:
    """The power function of one check, or why it cannot be computed."""
    crit, metric = gate.criterion, gate.metric
    a, b = crit.acceptable()
    eps = 1e-9
    if crit.on == "value":
        if metric in DENOMINATOR:
            d = int(round(getattr(g, DENOMINATOR[metric])))
            return Model(lambda t: wilson_pass(t, d, a, b, z), eps, 1 - eps)
        if metric == "auroc":
            return auroc_model(g.events, g.non_events, a, b, z)
        if metric == "oe_ratio":
            se = oe_log_se(g.n, g.events, g.lp)
            la, lb = (math.log(x) if x > 0 else -math.inf for x in (a, b))
            return Model(lambda t: wald_pass(math.log(t), se, la, lb, z), 0.05, 20.0)
        if metric == "calibration_slope":
            if g.lp is None:
                return "needs --data with the score column (the spread of the linear predictor)"
            se = slope_se(g.lp)
            return Model(lambda t: wald_pass(t, se, a, b, z), -5.0, 5.0)
        return f"no analytic variance for {metric} (supported: {', '.join(SUPPORTED)})"
    if ref is None:
        return "the reference group is not in the sizes"
    if ref_value is None:
        return "give the gate an assume_reference (the reference group's expected value)"
    p0 = ref_value
    if metric in DENOMINATOR:
        key = DENOMINATOR[metric]
        d1, d0 = getattr(g, key), getattr(ref, key)
        if crit.on == "difference":

            def diff(t: float) -> float:
                p1 = min(max(p0 + t, eps), 1 - eps)
                return newcombe_pass(p1, p0, int(round(d1)), int(round(d0)), a, b, z)

            return Model(diff, -p0 + eps, 1 - p0 - eps)
        la, lb = (math.log(x) if x > 0 else -math.inf for x in (a, b))

        def ratio(t: float) -> float:
            p1 = min(max(p0 * t, eps), 1 - eps)
            var = (1 - p1) / (d1 * p1) + (1 - p0) / (d0 * p0)
            return wald_pass(math.log(t), math.sqrt(var), la, lb, z)

        return Model(ratio, eps, (1 - eps) / p0)
    if metric == "auroc" and crit.on == "difference":
        v0 = auroc_var(p0, ref.events, ref.non_events)

        def dauc(t: float) -> float:
            a1 = min(max(p0 + t, 0.5), 1 - 1e-6)
            se = math.sqrt(auroc_var(a1, g.events, g.non_events) + v0)
            return wald_pass(t, se, a, b, z)

        return Model(dauc, 0.5 - p0, 1 - 1e-6 - p0)
    if metric == "oe_ratio" and crit.on == "ratio":
        se = math.hypot(oe_log_se(g.n, g.events, g.lp), oe_log_se(ref.n, ref.events, ref.lp))
        la, lb = (math.log(x) if x > 0 else -math.inf for x in (a, b))
        return Model(lambda t: wald_pass(math.log(t), se, la, lb, z), 0.05, 20.0)
    return f"no analytic variance for the {crit.on} of {metric} against the reference"


def _solve(f: Callable[[float], float], lo: float, hi: float, rising: bool) -> float:
    """The x in [lo, hi] where f crosses POWER_TARGET (f monotone on the bracket)."""
    for _ in range(60):
        mid = (lo + hi) / 2
        if (f(mid) >= POWER_TARGET) == rising:
            hi = mid
        else:
            lo = mid
    return hi if rising else lo


def needed_values(model: Model, crit: Criterion) -> tuple[float | None, float | None, float]:
    """(lowest, highest) true value with ≥ 80 % power (None = that side is unbounded) and the
    best power over the acceptable part of the domain (found on a grid, then refined by
    bisection between each bound and the best point)."""
    a, b = _bracket(crit, model.low, model.high)
    if not a < b:
        return None, None, 0.0
    geometric = a > 0 and b / a > 50
    grid = np.geomspace(a, b, 401) if geometric else np.linspace(a, b, 401)
    powers = np.array([model.power(float(t)) for t in grid])
    best = int(np.argmax(powers))
    if powers[best] < POWER_TARGET:
        return None, None, float(powers[best])
    c = float(grid[best])
    lo = _solve(model.power, a, c, rising=True) if crit.low is not None else None
    hi = _solve(model.power, c, b, rising=False) if crit.high is not None else None
    return lo, hi, float(powers[best])


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def describe_needed(lo: float | None, hi: float | None, crit: Criterion) -> str:
    parts = []
    if lo is not None and crit.low is not None:
        parts.append(f"≥ {_fmt(lo)} (margin {_fmt(lo - crit.low)})")
    if hi is not None and crit.high is not None:
        parts.append(f"≤ {_fmt(hi)} (margin {_fmt(crit.high - hi)})")
    return "80% power when the true value is " + " and ".join(parts)


@dataclass(frozen=True)
class PowerReport:
    rows: tuple[PowerRow, ...]
    k: int
    level: float
    multiplicity: str
    notes: tuple[str, ...] = ()

    @property
    def cannot_pass(self) -> list[PowerRow]:
        return [r for r in self.rows if r.cannot_pass]

    @property
    def not_computed(self) -> list[PowerRow]:
        """Checks whose power was not computed (and that are not already known to fail)."""
        return [r for r in self.rows if r.power is None and not r.cannot_pass]

    def summary(self) -> list[str]:
        """The closing sentences of ``plan check`` and the GUI's power note (one rule for both):
        notes, the checks that cannot pass, and the 80% claim only about checks with power."""
        out = [f"Note: {n}." for n in self.notes]
        cannot, unknown = self.cannot_pass, self.not_computed
        if cannot:
            out.append(f"Cannot pass at these sizes: {_names(cannot)}.")
        elif len(unknown) < len(self.rows):
            every = "Every check with power computed" if unknown else "Every check"
            out.append(f"{every} can reach 80% power at these sizes.")
        if unknown:
            out.append(f"Power not computed (no analytic variance): {_names(unknown)}.")
        return out


def _names(rows: list[PowerRow]) -> str:
    return ", ".join(f"{r.gate} ({r.group})" for r in rows)


def reference_of(plan: Plan, attribute: str, sizes: Sizes) -> str | None:
    named = plan.references.get(attribute)
    if named is not None:
        return named
    if "×" in attribute:  # an intersection: the cell of the components' references, if named
        parts = [plan.references.get(a) for a in attribute.split("×")]
        if all(parts):
            return "×".join(str(p) for p in parts)
    mine = [(s.n, g) for (a, g), s in sizes.items() if a == attribute]
    return max(mine)[1] if mine else None


def plan_power(plan: Plan, sizes: Sizes) -> PowerReport:
    """Power of every check at the expected sizes."""
    found: list[tuple[Gate, str, str, str | None]] = []
    notes: list[str] = []
    for gate in plan.gates:
        if gate.groups == "overall":
            found.append((gate, *OVERALL_ID, None))
            continue
        attr = gate.attribute or ""
        ref = reference_of(plan, attr, sizes) if gate.versus else None
        names = [g for (a, g) in sizes if a == attr] if gate.groups == "each" else list(gate.groups)
        if ref is not None and ref in names and gate.groups != "each":
            notes.append(reference_note(gate, attr, ref))  # the rule evaluate follows
        names = [n for n in names if n != ref]
        if not names and gate.groups == "each":
            names = ["(no groups)"]  # counted as one check, as evaluate counts it
        found += [(gate, attr, n, ref) for n in names]
    k = max(len(found), 1)
    level = check_count_level(plan, k) if plan.multiplicity != "none" else 1 - plan.alpha
    z = float(norm.ppf(0.5 + level / 2))
    rows = [_row(plan, gate, attr, grp, ref, sizes, level, z) for gate, attr, grp, ref in found]
    return PowerReport(tuple(rows), len(found), level, plan.multiplicity, tuple(notes))


def _row(
    plan: Plan,
    gate: Gate,
    attr: str,
    grp: str,
    ref: str | None,
    sizes: Sizes,
    level: float,
    z: float,
) -> PowerRow:
    g = sizes.get((attr, grp))
    r = sizes.get((attr, ref)) if ref is not None else None
    base: dict[str, Any] = {
        "gate": gate.id,
        "metric": gate.metric,
        "attribute": attr,
        "group": grp,
        "reference": ref,
        "bound": gate.criterion.describe(),
        "n": None if g is None else g.n,
        "events": None if g is None else g.events,
        "level": level,
        "assumed": gate.assume,
    }
    min_n = plan.gate_min_n(gate)
    if g is None:
        return PowerRow(**base, power=None, best_power=None, needed="", cannot_pass=True,
                        reason=f"no expected size for {attr} = {grp}")  # fmt: skip
    small = [who for who, s in ((grp, g), (ref, r)) if s is not None and s.n < min_n]
    if small:
        return PowerRow(**base, power=0.0, best_power=0.0, needed="", cannot_pass=True,
                        reason=f"{' and '.join(map(str, small))} below min_n = {min_n}: "
                        "always insufficient evidence")  # fmt: skip
    if g.events <= 0 or g.non_events <= 0:
        return PowerRow(**base, power=0.0, best_power=0.0, needed="", cannot_pass=True,
                        reason="no expected events or non-events")  # fmt: skip
    model = model_for(gate, z, g, r, gate.assume_reference)
    if isinstance(model, str):
        return PowerRow(**base, power=None, best_power=None, needed="", cannot_pass=False,
                        reason=f"power not computed: {model}")  # fmt: skip
    lo, hi, best = needed_values(model, gate.criterion)
    power = model.power(gate.assume) if gate.assume is not None else None
    name = metric_short(gate.metric)
    if lo is None and hi is None:
        return PowerRow(**base, power=power, best_power=best, needed="", cannot_pass=True,
                        reason=f"{name}: no true value gives 80% power at these sizes "
                        f"(best {best:.0%})")  # fmt: skip
    return PowerRow(**base, power=power, best_power=best,
                    needed=describe_needed(lo, hi, gate.criterion), cannot_pass=False,
                    reason="")  # fmt: skip
