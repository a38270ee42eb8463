"""Clinical usefulness by subgroup: decision curves, operating-point figures, capacity mode.

- Net benefit (Vickers & Elkin 2006) at threshold probability t:
  NB(t) = TP/n − FP/n · t/(1 − t), where a probability model flags the patients with
  p ≥ t; a raw score or a predicted class keeps its own fixed rule, so its NB(t) is the net
  benefit of that one decision rule weighed at t. The references are "treat all"
  (NB = prevalence − (1 − prevalence)·t/(1 − t)) and "treat none" (NB = 0).
- At each model's operating point: flagged per 100 patients, events caught per 100, number
  needed to evaluate (1/PPV: patients followed up per event found).
- Capacity: "the team can follow up K of every N patients" → per model the threshold that flags
  the top K/N of its scores, and what each group gets at it.

All vectorised over the groups of a grouping: one searchsorted per model, bincounts, no loop per
row or per threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NET_BENEFIT = (
    "net benefit (Vickers & Elkin 2006): TP/n − FP/n · t/(1 − t); a probability model flags "
    "p ≥ t, a raw score or predicted class keeps its own rule; references treat all and treat "
    "none (0)"
)
DEFAULT_THRESHOLDS = (0.01, 0.99, 0.01)


MAX_THRESHOLDS = 1000  # decision-curve thresholds (memory: groups × thresholds × models)


def threshold_count(start: float, stop: float, step: float) -> int:
    """How many thresholds :func:`threshold_grid` gives (computed, nothing allocated)."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        q = np.floor((stop - start) / step + 1e-9)
    return int(q) + 1 if np.isfinite(q) else 2**62


def threshold_grid(start: float, stop: float, step: float) -> np.ndarray:
    """Threshold probabilities start, start + step, …, ≤ stop (all in (0, 1))."""
    count = threshold_count(start, stop, step)
    return np.round(start + step * np.arange(count), 10)


def weight(thresholds: np.ndarray) -> np.ndarray:
    """The exchange rate t/(1 − t): harms of a false positive per true positive."""
    w: np.ndarray = thresholds / (1 - thresholds)
    return w


@dataclass(frozen=True)
class CurveCounts:
    """Per group × threshold: true and false positives of one model; n per group."""

    tp: np.ndarray  # groups × thresholds
    fp: np.ndarray
    n: np.ndarray  # groups
    n_pos: np.ndarray


def curve_counts(
    codes: np.ndarray,
    size: int,
    y: np.ndarray,
    thresholds: np.ndarray,
    score: np.ndarray | None,
    flagged: np.ndarray,
    bins: np.ndarray | None = None,
) -> CurveCounts:
    """TP and FP per group at each threshold probability (``score`` None: the fixed ``flagged``
    rule at every threshold). ``bins``: :func:`threshold_bins` of ``score``, when several
    groupings share one model (computed here otherwise)."""
    n_pos = np.bincount(codes, weights=y, minlength=size)
    n = np.bincount(codes, minlength=size).astype(np.float64)
    t = thresholds.size
    if score is None:
        tp1 = np.bincount(codes[flagged & y], minlength=size).astype(np.float64)
        fp1 = np.bincount(codes[flagged & ~y], minlength=size).astype(np.float64)
        return CurveCounts(
            tp=np.repeat(tp1[:, None], t, axis=1),
            fp=np.repeat(fp1[:, None], t, axis=1),
            n=n,
            n_pos=n_pos,
        )
    if bins is None:
        bins = threshold_bins(thresholds, score)
    key = (np.asarray(codes, dtype=np.intp) * (t + 1) + bins) * 2 + y  # uint8 would wrap
    cnt = np.bincount(key, minlength=size * (t + 1) * 2).reshape(size, t + 1, 2)
    # flagged at threshold j: rows with bins ≥ j + 1 → reverse cumulative sum from the top bin
    at_least = np.cumsum(cnt[:, ::-1, :], axis=1)[:, ::-1, :][:, 1:, :].astype(np.float64)
    return CurveCounts(tp=at_least[:, :, 1], fp=at_least[:, :, 0], n=n, n_pos=n_pos)


def threshold_bins(thresholds: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Per row, the number of thresholds ≤ its score: it is flagged at thresholds j < bins."""
    out: np.ndarray = np.searchsorted(thresholds, score, side="right")
    return out


def net_benefit(cc: CurveCounts, thresholds: np.ndarray) -> np.ndarray:
    """groups × thresholds net benefit (NaN for an empty group)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        nb: np.ndarray = (cc.tp - cc.fp * weight(thresholds)[None, :]) / cc.n[:, None]
    return nb


def treat_all(cc: CurveCounts, thresholds: np.ndarray) -> np.ndarray:
    """groups × thresholds net benefit of treating everyone."""
    with np.errstate(invalid="ignore", divide="ignore"):
        prev = cc.n_pos / cc.n
    out: np.ndarray = prev[:, None] - (1 - prev)[:, None] * weight(thresholds)[None, :]
    return out


@dataclass(frozen=True)
class OperatingPoint:
    """Per group at one decision rule: counts and the figures a committee reads."""

    n: np.ndarray
    n_pos: np.ndarray
    flagged: np.ndarray
    tp: np.ndarray

    def figures(self) -> dict[str, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "flagged_per_100": 100 * self.flagged / self.n,
                "events_caught_per_100": 100 * self.tp / self.n,
                "number_needed_to_evaluate": np.where(
                    self.tp > 0, self.flagged / self.tp, np.nan
                ),
                "sensitivity": self.tp / self.n_pos,
                "ppv": np.where(self.flagged > 0, self.tp / self.flagged, np.nan),
            }


def operating_point(
    codes: np.ndarray, size: int, y: np.ndarray, flagged: np.ndarray
) -> OperatingPoint:
    n = np.bincount(codes, minlength=size).astype(np.float64)
    n_pos = np.bincount(codes, weights=y, minlength=size)
    fl = np.bincount(codes[flagged], minlength=size).astype(np.float64)
    tp = np.bincount(codes[flagged & y], minlength=size).astype(np.float64)
    return OperatingPoint(n=n, n_pos=n_pos, flagged=fl, tp=tp)


def top_k_threshold(score: np.ndarray, share: float) -> float:
    """The threshold that flags the top ``share`` of ``score`` (score ≥ threshold).

    It is the score of the ⌈share·n⌉-th highest row; ties at it are all flagged, so the
    flagged share can exceed ``share`` (the result states the flagged count).
    """
    n = score.size
    k = int(np.ceil(share * n - 1e-9))
    if k <= 0:
        return float(np.inf)
    k = min(k, n)
    return float(np.partition(score, n - k)[n - k])
