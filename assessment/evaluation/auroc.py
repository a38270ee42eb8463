"""AUROC per group (Mann–Whitney rank sum with midranks) and DeLong's (1988) variance for all
groups of a grouping at once, from a single global sort of the scores followed by a (radix,
stable) sort of the group codes, which puts every group's scores in ascending order side by side,
so tie blocks and rank sums are found for all groups at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assessment.evaluation.groupings import Grouping, _one_class_reason, _small_codes


@dataclass(frozen=True)
class SortedScores:
    """The single global sort of a score column, shared by every grouping."""

    order: np.ndarray
    score: np.ndarray
    y: np.ndarray
    has_ties: bool

    @classmethod
    def build(cls, score: np.ndarray, y: np.ndarray) -> SortedScores:
        if score.size and float(score.min()) >= 0.0:
            # Non-negative doubles (every probability) sort as their bit patterns do: a stable
            # sort of those (+0.0 first turns −0.0 into 0.0, one key for equal scores) is 20%
            # faster than argsort of the doubles at 10M rows. Only the order of tied scores
            # can differ, and every result is computed per tie block.
            order = np.argsort((score + 0.0).view(np.uint64), kind="stable")
        else:
            order = np.argsort(score)
        if order.size <= np.iinfo(np.int32).max:
            order = order.astype(np.int32)  # kept for the whole evaluation: 4 bytes per row
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
        bins = _small_codes(np.arange(thresholds.size + 1), thresholds.size + 1)
        sorted_bins = np.repeat(bins, reps)  # 1–2 bytes per row
        out = np.empty(n, dtype=sorted_bins.dtype)
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
        del s
        new_block[1:] |= cc_small[1:] != cc_small[:-1]
        bid = np.cumsum(new_block) - 1
        nb = int(bid[-1]) + 1
        bpos: np.ndarray = np.bincount(bid, weights=yy, minlength=nb)
        bneg: np.ndarray
        bneg = np.bincount(bid, minlength=nb) - bpos
        bgrp = cc_small[new_block]  # narrow codes: only indexed and bincounted
    else:
        bid = None
        bpos = yy.astype(np.float64)
        bneg = 1.0 - bpos
        bgrp = cc_small
    # Row-level arrays needed only to place values back on the rows: freed before the peak.
    rows_kept = (perm, bid, yy) if placements else None
    del perm, bid, yy
    with np.errstate(invalid="ignore", divide="ignore"):
        v10, v01 = _placements(bpos, bneg, bgrp, n_pos, n_neg, size)
        # Products formed in place (the same values as new arrays, ~80 MB fewer at 10M rows).
        pv = bpos * v10
        del bpos
        auc = np.bincount(bgrp, weights=pv, minlength=size) / n_pos
        auc[(n_pos <= 0) | (n_neg <= 0)] = np.nan
        # DeLong's S10, S01 as (Σ v² − k·mean²)/(k − 1); placements lie in [0, 1].
        pv *= v10
        sum10 = np.bincount(bgrp, weights=pv, minlength=size)
        del pv
        nv = bneg * v01
        del bneg
        mean01 = np.bincount(bgrp, weights=nv, minlength=size) / n_neg
        nv *= v01
        sum01 = np.bincount(bgrp, weights=nv, minlength=size)
        del nv, bgrp
        s10 = np.maximum(sum10 - n_pos * auc * auc, 0.0) / (n_pos - 1)
        s01 = np.maximum(sum01 - n_neg * mean01 * mean01, 0.0) / (n_neg - 1)
        s10[n_pos < 2] = np.nan
        s01[n_neg < 2] = np.nan
        var = s10 / n_pos + s01 / n_neg
    place = None
    if rows_kept is not None:
        place = _row_placements(ss, rows_kept, v10, v01)
    return AurocResult(auc=auc, var=var, s10=s10, s01=s01, placements=place)


def _row_placements(
    ss: SortedScores,
    rows_kept: tuple[np.ndarray | None, np.ndarray | None, np.ndarray],
    v10: np.ndarray,
    v01: np.ndarray,
) -> np.ndarray:
    """Per row (original order) its placement: V10 for a positive, V01 for a negative."""
    perm, bid, yy = rows_kept
    if bid is None:
        val = np.where(yy, v10, v01)
    else:
        val = v10[bid]
        alt = v01[bid]
        np.copyto(val, alt, where=~yy)  # np.where(yy, v10[bid], v01[bid]) with one temporary
        del alt
    del bid
    at = ss.order if perm is None else ss.order[perm]
    place = np.empty(val.size)
    place[at] = val
    return place


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
    # One scratch array for the per-block temporaries; every result is formed in place, the
    # same operations on the same values as the whole-array expressions (bit for bit).
    tmp = base_neg[bgrp]
    cneg -= tmp
    np.take(base_pos, bgrp, out=tmp)
    cpos -= tmp
    np.multiply(bneg, 0.5, out=tmp)
    cneg += tmp
    np.take(n_neg.astype(np.float64), bgrp, out=tmp)  # counts: exact as floats
    cneg /= tmp
    v10 = cneg
    np.multiply(bpos, 0.5, out=tmp)
    cpos += tmp
    np.take(n_pos.astype(np.float64), bgrp, out=tmp)
    np.subtract(tmp, cpos, out=cpos)
    cpos /= tmp
    v01 = cpos
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
