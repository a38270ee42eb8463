"""Paired patient bootstrap for the differences that have no simple paired formula.

Brier score, calibration-in-the-large (|mean predicted − observed rate|), PPV at each model's
operating point and net benefit at a stated threshold probability. Each replicate resamples
patients (rows) within each group, the same patients for every model, so the correlation
between the models is kept. Replicates are drawn as totals of a few per-row quantities by the
engine's resampling scheme (exact multinomial counts of outcome × every model's flag; normal
limit of the other totals within those cells for large groups; see
:mod:`assessment.compare.paired_resample`, which finds the cell moments of all groupings in one
pass), and every statistic is a ratio of those totals.

With clustered rows (several encounters per patient) the resampled unit is the patient within
each group, by the engine's own scheme (:func:`assessment.evaluation.intervals.resampled_totals`
with the cluster codes: exact multinomial patient counts up to
:data:`~assessment.evaluation.intervals.EXACT_RESAMPLE_MAX` patients, else the joint normal
limit of the patients' total vectors); the cell-moment shortcut, which resamples rows, is not
used then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assessment.compare.paired_resample import cell_moments, finest_codes, grouping_totals
from assessment.evaluation import intervals as iv
from assessment.evaluation.intervals import FEATURE_BLOCK
from assessment.evaluation.metrics import Grouping
from assessment.evaluation.multiplicity import bootstrap_p

# Per-row features: 0 = one, 1 = outcome, then per model (stride 6):
F_FLAG, F_TP, F_SQ, F_P, F_NBFLAG, F_NBTP = range(6)
STRIDE = 6
# outcome × flags of up to this many models form the exact cells (uint8 cell codes)
MAX_CELL_MODELS = 7

ROUNDING = 1e-9  # replicate differences this small are rounding, not a difference
BOOTSTRAP_METRICS: tuple[str, ...] = ("brier", "calibration_in_the_large", "ppv", "net_benefit")
# metrics where a lower value is better (the ranked summary needs the direction)
LOWER_IS_BETTER: tuple[str, ...] = ("brier", "calibration_in_the_large")
NEEDS_PROBABILITY: tuple[str, ...] = ("brier", "calibration_in_the_large")


@dataclass(frozen=True)
class ModelRows:
    """What the bootstrap needs of one model, per row."""

    flag: np.ndarray  # bool: flagged at the model's operating point
    nb_flag: np.ndarray  # bool: flagged at the net-benefit threshold probability
    prob: np.ndarray | None  # probability (None for a raw score or predicted class)


def _statistics(tot: np.ndarray, k: int, w: float) -> dict[str, np.ndarray]:
    """Per metric: (..., models) from totals (..., features).

    Counts (patients, events, flagged, true positives) are whole numbers: the normal-limit
    draws add rounding noise (~1e-15) along directions a cell holds constant, which would turn
    a model that flags nobody (0/0, undefined PPV) into huge ratios, so they are rounded. Every
    statistic is kept within its range (Brier, calibration error and PPV in [0, 1], net benefit
    in [−w, 1]), so no replicate and no interval leaves it.
    """
    n = np.rint(tot[..., 0:1])
    y = np.rint(tot[..., 1:2])
    blocks = tot[..., 2:].reshape(*tot.shape[:-1], k, STRIDE)
    flag = np.rint(blocks[..., F_FLAG])
    tp = np.rint(blocks[..., F_TP])
    nb_flag = np.rint(blocks[..., F_NBFLAG])
    nb_tp = np.rint(blocks[..., F_NBTP])
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "brier": np.clip(blocks[..., F_SQ] / n, 0.0, 1.0),
            "calibration_in_the_large": np.clip(np.abs(blocks[..., F_P] - y) / n, 0.0, 1.0),
            "ppv": np.clip(np.where(flag > 0, tp / flag, np.nan), 0.0, 1.0),
            "net_benefit": np.clip((nb_tp - (nb_flag - nb_tp) * w) / n, -w, 1.0),
        }


@dataclass(frozen=True)
class BootstrapDifferences:
    """estimates[metric]: groups × models; reps[metric]: B × groups × models."""

    estimates: dict[str, np.ndarray]
    reps: dict[str, np.ndarray] | None

    def difference(
        self, metric: str, a: int, b: int, level: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
        """metric_a − metric_b per group: (value, low, high, p, reasons)."""
        est = self.estimates[metric][:, a] - self.estimates[metric][:, b]
        if self.reps is None:
            nan = np.full(est.shape, np.nan)
            return est, nan, nan, nan, ["no bootstrap (B = 0)"] * est.size
        reps = self.reps[metric][:, :, a] - self.reps[metric][:, :, b]
        # identical models differ only by rounding in the normal-limit draws: that is 0
        reps = np.where(np.abs(reps) <= ROUNDING, 0.0, reps)
        ci = iv.bootstrap_interval(reps, est, level)
        # the smallest p a percentile bootstrap of B replicates can support is 1/(B + 1)
        p = np.maximum(bootstrap_p(reps), 1.0 / (reps.shape[0] + 1))
        lo, hi = ci.lo.copy(), ci.hi.copy()
        reasons = list(ci.reasons)
        undefined = ~np.isfinite(est)
        for g in np.flatnonzero(undefined):  # no interval around an undefined estimate
            lo[g] = hi[g] = p[g] = np.nan
            reasons[g] = _undefined_reason(metric, self.estimates[metric][g, [a, b]])
        return est, lo, hi, p, reasons


def _undefined_reason(metric: str, pair: np.ndarray) -> str:
    if metric == "ppv":
        return "undefined: a model flags no patient in the group (PPV is 0/0)"
    if not np.isfinite(pair).all():
        return "undefined: a model has no value in the group"
    return "undefined in this group"


class PairedBootstrap:
    """The per-row quantities of every model, summarised once for all groupings."""

    def __init__(
        self,
        groupings: list[Grouping],
        y: np.ndarray,
        models: list[ModelRows],
        nb_threshold: float,
        cancelled: Callable[[], bool],
        cluster: np.ndarray | None = None,
    ) -> None:
        self.k = len(models)
        self.n_features = 2 + STRIDE * self.k
        self.w = nb_threshold / (1 - nb_threshold)
        self.models = models
        self.cancelled = cancelled
        self._y = y.astype(np.float64)
        cell = y.astype(np.int64)
        for i, m in enumerate(models[:MAX_CELL_MODELS]):
            cell = cell + (m.flag.astype(np.int64) << (i + 1))
        n_cells = 2 << min(self.k, MAX_CELL_MODELS)
        self.cluster = cluster
        self._cell = cell
        if cluster is not None:  # patients are resampled per grouping (see the module text)
            return
        self.fine = finest_codes(groupings, y.size)
        self.moments = cell_moments(
            self.fine, cell, n_cells, self.features, self.n_features, cancelled
        )

    def features(self, rows: np.ndarray) -> np.ndarray:
        f = np.zeros((rows.size, self.n_features))
        f[:, 0] = 1.0
        yy = self._y[rows]
        f[:, 1] = yy
        for i, m in enumerate(self.models):
            base = 2 + STRIDE * i
            fl = m.flag[rows]
            f[:, base + F_FLAG] = fl
            f[:, base + F_TP] = fl * yy
            nb = m.nb_flag[rows]
            f[:, base + F_NBFLAG] = nb
            f[:, base + F_NBTP] = nb * yy
            if m.prob is not None:
                p = m.prob[rows]
                f[:, base + F_SQ] = (p - yy) ** 2
                f[:, base + F_P] = p
        return f

    def _blank(self, stats: dict[str, np.ndarray]) -> None:
        for i, m in enumerate(self.models):
            if m.prob is None:
                for metric in NEEDS_PROBABILITY:
                    stats[metric][..., i] = np.nan

    def grouping(self, gp: Grouping, b: int, rng: np.random.Generator) -> BootstrapDifferences:
        """Estimates and paired bootstrap replicates of every model's statistics per group."""
        if self.cluster is not None:
            return self._clustered(gp, b, rng)
        mo = self.moments
        n_fine = int(self.fine.max()) + 1
        rep = np.zeros(n_fine, dtype=np.intp)
        rep[self.fine] = np.arange(self.fine.size)
        seg_group = gp.codes[rep][mo.keys // mo.n_cells]
        totals = np.stack(
            [np.bincount(seg_group, weights=mo.total[:, j], minlength=gp.size)
             for j in range(self.n_features)],
            axis=1,
        )
        estimates = _statistics(totals, self.k, self.w)
        self._blank(estimates)
        if b <= 0:
            return BootstrapDifferences(estimates=estimates, reps=None)
        rep_tot = grouping_totals(gp, self.fine, mo, self.features, b, rng, self.cancelled)
        reps = _statistics(rep_tot, self.k, self.w)
        self._blank(reps)
        return BootstrapDifferences(estimates=estimates, reps=reps)

    def _clustered(self, gp: Grouping, b: int, rng: np.random.Generator) -> BootstrapDifferences:
        """Clustered rows: totals over the rows, replicates resampling each group's patients."""
        assert self.cluster is not None
        totals = np.zeros((gp.size, self.n_features))
        for lo in range(0, gp.codes.size, FEATURE_BLOCK):
            rows = np.arange(lo, min(lo + FEATURE_BLOCK, gp.codes.size))
            f = self.features(rows)
            for j in range(self.n_features):
                totals[:, j] += np.bincount(gp.codes[rows], weights=f[:, j], minlength=gp.size)
        estimates = _statistics(totals, self.k, self.w)
        self._blank(estimates)
        if b <= 0:
            return BootstrapDifferences(estimates=estimates, reps=None)
        rep_tot = iv.resampled_totals(
            gp.codes, gp.size, self.features, self.n_features, b, rng, self.cancelled,
            cell_of_row=self._cell, cluster_of_row=self.cluster,
        )
        reps = _statistics(rep_tot, self.k, self.w)
        self._blank(reps)
        return BootstrapDifferences(estimates=estimates, reps=reps)


def paired_bootstrap(
    codes: np.ndarray,
    size: int,
    y: np.ndarray,
    models: list[ModelRows],
    nb_threshold: float,
    b: int,
    rng: np.random.Generator,
    cancelled: Callable[[], bool],
    cluster: np.ndarray | None = None,
) -> BootstrapDifferences:
    """One grouping given by ``codes`` (tests and single use): see :class:`PairedBootstrap`."""
    gp = Grouping("g", np.asarray(codes, dtype=np.intp), tuple(map(str, range(size))), ("g",))
    boot = PairedBootstrap([gp], y, models, nb_threshold, cancelled, cluster=cluster)
    return boot.grouping(gp, b, rng)
