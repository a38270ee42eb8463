"""``compare``: several models on the same patients → the ``probity-comparison/1`` result.

Every model is evaluated by the one engine (:func:`assessment.evaluation.engine.evaluate`),
each at its own operating point; the paired statistics, decision curves, operating-point
figures and capacity mode are computed here for the whole population, every attribute and
every chosen intersection (the engine's own groupings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np

from assessment.compare import COMPARISON_FORMAT
from assessment.compare import paired as pr
from assessment.compare import paired_clustered as pc
from assessment.compare import usefulness as us
from assessment.compare.evaluations import evaluate_models, model_spec
from assessment.compare.figures import (
    attribute_of,
    capacity_json,
    capacity_thresholds,
    curve_entries,
    group_of,
    point_entries,
    table_operating_points,
)
from assessment.compare.gates import GateChecker
from assessment.compare.paired_bootstrap import (
    BOOTSTRAP_METRICS,
    NEEDS_PROBABILITY,
    ModelRows,
    PairedBootstrap,
)
from assessment.compare.ranking import IDENTICAL, ranked_summary
from assessment.compare.sources import JoinRow, ModelSource
from assessment.errors import Cancelled, EvaluationError
from assessment.evaluation import intervals as iv
from assessment.evaluation.context import EvaluationContext
from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import EvaluationInput
from assessment.evaluation.limits import DEFAULT_LIMITS
from assessment.evaluation.mapping_steps import check_intersection_cells
from assessment.evaluation.metrics import (
    OVERALL_ATTRIBUTE,
    AurocResult,
    Grouping,
    SortedScores,
)
from assessment.evaluation.multiplicity import METHODS as MULTIPLICITY_METHODS
from assessment.evaluation.multiplicity import adjust
from assessment.evaluation.result import clean
from assessment.evaluation.spec import EvaluationSpec

Progress = Callable[[float], None]

# groups of one attribute (or intersection) a comparison handles: every group costs each model
# an evaluation, every pair a paired test and a bootstrap, and 7,000 one-patient groups (a
# patient id chosen as an attribute) took minutes and gigabytes
MAX_GROUPS = 200
# Bytes of per-row DeLong placements (8 per row, grouping and scored model) the engine may hand
# to the paired test instead of the paired test sorting and ranking every model again: 200 MB
# for 1,000,000 rows, 5 groupings and 5 models; above it they are recomputed per grouping.
PLACEMENT_BUDGET = 512 * 2**20


def check_group_counts(groupings: list[Grouping]) -> None:
    """Refuse an attribute with more groups than :data:`MAX_GROUPS`, naming it."""
    for gp in groupings:
        if gp.name != OVERALL_ATTRIBUTE and gp.size > MAX_GROUPS:
            raise EvaluationError(
                f"The attribute {gp.name!r} has {gp.size:,} groups; a comparison handles at "
                f"most {MAX_GROUPS} per attribute: choose a sensitive attribute (not an "
                "identifier) or bin a continuous one with --bin COL=EDGES."
            )


@dataclass(frozen=True)
class CompareOptions:
    """Settings only a comparison has (the engine's live in the EvaluationSpec)."""

    incumbent: str | None = None  # None: every pair; else every model against this one
    nb_thresholds: tuple[float, float, float] = us.DEFAULT_THRESHOLDS
    # threshold probability of the paired net-benefit difference (None: 0.5 or the first
    # probability model's operating point)
    nb_threshold: float | None = None
    capacity: tuple[int, int] | None = None  # (K patients followed up, per N patients)

    def validate(self, models: list[ModelSource]) -> None:
        names = [m.name for m in models]
        if self.incumbent is not None and self.incumbent not in names:
            raise EvaluationError(
                f"--incumbent {self.incumbent!r} is not one of the models ("
                + ", ".join(names)
                + ")."
            )
        start, stop, step = self.nb_thresholds
        if not (0 < start <= stop < 1 and step > 0):
            raise EvaluationError(
                "The decision-curve thresholds must satisfy 0 < start ≤ stop < 1 and step > 0 "
                f"(got {start:g}, {stop:g}, {step:g})."
            )
        count = us.threshold_count(start, stop, step)
        if count > us.MAX_THRESHOLDS:
            raise EvaluationError(
                f"--nb-range {start:g},{stop:g},{step:g} gives more than "
                f"{us.MAX_THRESHOLDS:,} decision-curve thresholds (the most allowed): use a "
                "larger step (e.g. 0.01)."
            )
        if self.nb_threshold is not None and not 0 < self.nb_threshold < 1:
            raise EvaluationError(
                f"The net-benefit threshold probability must lie strictly between 0 and 1, not "
                f"{self.nb_threshold:g}."
            )
        if self.capacity is not None:
            k, n = self.capacity
            if not (0 < k <= n):
                raise EvaluationError(
                    f"--capacity K/N needs 0 < K ≤ N (follow up K of every N patients), not "
                    f"{k}/{n}."
                )


@dataclass(frozen=True)
class ComparisonResult:
    """The whole comparison; ``to_json`` is the ``probity-comparison/1`` document."""

    created: str
    data: dict[str, Any]
    models: list[dict[str, Any]]
    incumbent: str | None
    paired: list[dict[str, Any]]
    net_benefit: list[dict[str, Any]]
    operating_points: list[dict[str, Any]]
    capacity: dict[str, Any] | None
    join: list[dict[str, Any]]
    gates: list[dict[str, Any]]
    methods: dict[str, str]
    summary: list[str]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": COMPARISON_FORMAT,
            "created": self.created,
            "data": self.data,
            "models": self.models,
            "incumbent": self.incumbent,
            "paired": self.paired,
            "net_benefit": self.net_benefit,
            "operating_points": self.operating_points,
            "capacity": self.capacity,
            "join": self.join,
            "gates": self.gates,
            "methods": self.methods,
            "summary": self.summary,
            "notes": self.notes,
        }


def _pairs(models: list[ModelSource], incumbent: str | None) -> list[tuple[int, int]]:
    k = len(models)
    if incumbent is None:
        return [(a, b) for a in range(k) for b in range(a + 1, k)]
    j = [m.name for m in models].index(incumbent)
    return [(a, j) for a in range(k) if a != j]


def _nb_threshold(models: list[ModelSource], options: CompareOptions) -> float:
    if options.nb_threshold is not None:
        return options.nb_threshold
    for m in models:
        if m.kind == "probability":
            return 0.5 if m.threshold is None else float(m.threshold)
    return 0.5


def _flags(m: ModelSource, inp: EvaluationInput, spec: EvaluationSpec) -> np.ndarray:
    """Who the model flags at its operating point: the threshold its own evaluation uses."""
    if inp.score_kind == "class":
        assert inp.y_pred is not None
        return np.asarray(inp.y_pred, dtype=bool)
    assert inp.score is not None
    flagged: np.ndarray = inp.score >= model_spec(spec, m, spec.ci_level).threshold
    return flagged


def compare(
    models: list[ModelSource],
    inputs: list[EvaluationInput],
    spec: EvaluationSpec,
    options: CompareOptions,
    *,
    join: tuple[JoinRow, ...] = (),
    data: dict[str, Any] | None = None,
    gate_checker: GateChecker | None = None,
    progress: Progress = lambda _f: None,
    cancelled: Callable[[], bool] = lambda: False,
    max_group_cells: int = DEFAULT_LIMITS.max_group_cells,
    workers: int | None = None,
) -> ComparisonResult:
    """Evaluate every model and compare them pairwise on the same rows.

    ``inputs[i]`` is model i's engine input; all must share the rows (same outcome, same
    attributes), which :func:`assessment.compare.sources.model_inputs` guarantees. The
    outcome and groupings are built once (:class:`EvaluationContext`) and the models evaluated
    on ``workers`` threads (None: one per available core, see
    :func:`assessment.compare.evaluations.worker_count`); the result does not depend on it.
    """
    options.validate(models)
    if len(models) != len(inputs) or len(models) < 2:
        raise EvaluationError("A comparison needs at least two models, each with its input.")
    k = len(models)
    # the evaluation's intersection-cell limit (--max-group-cells), before any work
    check_intersection_cells(inputs[0].attributes, spec.intersections, max_group_cells)
    context = EvaluationContext.build(inputs[0], spec.intersections)
    groupings = list(context.groupings)
    check_group_counts(groupings)
    scored = [i for i, inp in enumerate(inputs) if inp.score is not None]
    # the paired DeLong test reuses the engine's placements when they fit the budget
    keep = 8 * context.y.size * len(groupings) * len(scored) <= PLACEMENT_BUDGET
    context = replace(context, keep_placements=keep)
    y = context.y
    flags = [_flags(m, inp, spec) for m, inp in zip(models, inputs, strict=True)]
    pt = _nb_threshold(models, options)
    rows = [
        ModelRows(
            flag=fl,
            nb_flag=(inp.score >= pt) if inp.score_kind == "probability" and inp.score is not None
            else fl,
            prob=inp.score if inp.score_kind == "probability" else None,
        )
        for fl, inp in zip(flags, inputs, strict=True)
    ]

    pairs = _pairs(models, options.incumbent)
    level = spec.ci_level
    cap_thresholds = capacity_thresholds(models, inputs, options.capacity)
    class_counts = []
    for gp in groupings:
        n_pos = np.bincount(gp.codes, weights=y, minlength=gp.size)
        class_counts.append((n_pos, np.bincount(gp.codes, minlength=gp.size) - n_pos))

    def without_evaluations(stopped: Callable[[], bool]) -> list[dict[str, list[Any]]]:
        """Per grouping, every entry that needs no model's evaluation (paired proportions and
        bootstrap, decision curves, operating points, capacity): it runs beside them."""
        bootstrap = PairedBootstrap(groupings, y, rows, pt, stopped, cluster=inputs[0].cluster)
        thresholds = us.threshold_grid(*options.nb_thresholds)
        capped = list(cap_thresholds)
        cap_pattern = pr.pattern_codes(
            y, [np.asarray(inputs[i].score) >= cap_thresholds[i] for i in capped]
        )
        pattern = pr.pattern_codes(y, flags)
        bins = {
            i: us.threshold_bins(thresholds, np.asarray(inp.score))
            for i, inp in enumerate(inputs)
            if inp.score_kind == "probability" and inp.score is not None
        }
        out = []
        for gi, gp in enumerate(groupings):
            if stopped():
                raise Cancelled()
            n_pos, n_neg = class_counts[gi]
            table = pr.pattern_table(gp.codes, gp.size, pattern, k)
            rng = np.random.default_rng([spec.seed, 7919, gi])
            boot = bootstrap.grouping(gp, spec.bootstrap, rng)
            ops = table_operating_points(table, k)
            cap_table = pr.pattern_table(gp.codes, gp.size, cap_pattern, len(capped))
            cap_ops = table_operating_points(cap_table, len(capped))
            out.append({
                "proportions": _proportion_entries(gp, models, table, pairs, level),
                "bootstrap": _bootstrap_entries(gp, models, boot, pairs, level, n_pos, n_neg, pt),
                "curves": curve_entries(gp, models, inputs, flags, y, thresholds, bins),
                "points": point_entries(gp, models, ops, "operating point", None),
                "capacity": [
                    e for j, i in enumerate(capped)
                    for e in point_entries(
                        gp, [models[i]], [cap_ops[j]], "capacity", cap_thresholds[i])
                ],
            })
        return out

    if cancelled():
        raise Cancelled()
    results, parts, side = evaluate_models(
        models, inputs, spec, context, cancelled=cancelled,
        progress=lambda f: progress(0.8 * f), workers=workers, also=without_evaluations,
    )
    entries = cast(list[dict[str, list[Any]]], side)
    shared = replace(context, keep_placements=False)  # gates: results only

    def evaluate_at(i: int, level: float) -> dict[str, Any]:
        run = model_spec(spec, models[i], level)
        return evaluate(inputs[i], run, cancelled=cancelled, context=shared).to_json()

    gates = gate_checker(models, results, evaluate_at) if gate_checker else []
    sorted_scores = {} if keep else {
        i: SortedScores.build(np.asarray(inputs[i].score, dtype=np.float64), y) for i in scored
    }
    paired: list[dict[str, Any]] = []
    curves: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    capacity_rows: list[dict[str, Any]] = []
    cluster = inputs[0].cluster
    for gi, gp in enumerate(groupings):
        if cancelled():
            raise Cancelled()
        n_pos, n_neg = class_counts[gi]
        auroc_in = [parts[i].auroc[gi] if keep else sorted_scores[i] for i in scored]
        start = len(paired)
        paired += _auroc_entries(gp, models, scored, auroc_in, y, n_pos, n_neg, pairs, level)
        paired += entries[gi]["proportions"] + entries[gi]["bootstrap"]
        if cluster is not None:  # several encounters per patient: cluster-robust
            per_model = {i: r for i, r in zip(scored, auroc_in, strict=True) if r is not None}
            names = [m.name for m in models]
            pc.apply(paired[start:], gp, cluster, y, flags, per_model, names, level)
        paired += pr.not_applicable_entries(gp, {m.name: m.kind for m in models},
                                            [(models[a].name, models[b].name) for a, b in pairs],
                                            n_pos, n_neg)
        curves += entries[gi]["curves"]
        points += entries[gi]["points"]
        capacity_rows += entries[gi]["capacity"]
        progress(0.8 + 0.2 * (gi + 1) / len(groupings))
    same = _identical(models, inputs, rows, pairs)
    _mark_identical(paired, same)
    _adjust(paired, spec)
    methods = _methods(spec, pt, options, len(pairs))
    if cluster is not None:
        methods.update(pc.methods(spec.bootstrap, spec.seed))
    notes = _notes(models, inputs) + [
        f"{a} and {b} give identical predictions on every patient: they are the same model "
        "on these data: every difference between them is exactly 0 (no interval or p-value), "
        "and they are not ranked against each other."
        for a, b in sorted(same)
    ]
    return ComparisonResult(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        data=data or {},
        models=[
            {**m.to_json(), "result": r} for m, r in zip(models, results, strict=True)
        ],
        incumbent=options.incumbent,
        paired=paired,
        net_benefit=curves,
        operating_points=points,
        capacity=capacity_json(options.capacity, models, cap_thresholds, capacity_rows),
        join=[j.to_json() for j in join],
        gates=gates,
        methods=methods,
        summary=[*ranked_summary(models, paired, level),
                 *(g["sentence"] for g in gates if "sentence" in g)],
        notes=notes,
    )


def _identical(
    models: list[ModelSource], inputs: list[EvaluationInput], rows: list[ModelRows],
    pairs: list[tuple[int, int]],
) -> set[tuple[str, str]]:
    """The compared pairs whose predictions agree on every row (same kind, same scores, same
    flags at the operating point and at the net-benefit threshold)."""
    out = set()
    for a, b in pairs:
        ia, ib = inputs[a], inputs[b]
        if ia.score_kind != ib.score_kind:
            continue
        if ia.score is None or ib.score is None:
            same_score = ia.score is None and ib.score is None
        else:
            same_score = bool(np.array_equal(ia.score, ib.score))
        if (same_score and np.array_equal(rows[a].flag, rows[b].flag)
                and np.array_equal(rows[a].nb_flag, rows[b].nb_flag)):
            out.add((models[a].name, models[b].name))
    return out


def _mark_identical(paired: list[dict[str, Any]], same: set[tuple[str, str]]) -> None:
    """Identical predictions: the difference is exactly 0, with no interval and no p-value."""
    for e in paired:
        if (e["model_a"], e["model_b"]) in same:
            d = e["difference"]
            defined = e["estimate_a"] is not None and e["estimate_b"] is not None
            d.update(value=0.0 if defined else None, ci_low=None, ci_high=None,
                     p_value=None, reason=IDENTICAL)


def _entry(
    metric: str, gp: Grouping, g: int, a: str, b: str, counts: tuple[float, float, float],
    est: tuple[float, float], diff: tuple[float, float, float, float], method: str,
    reason: str | None,
) -> dict[str, Any]:
    value, lo, hi, p = diff
    return {
        "metric": metric,
        "attribute": attribute_of(gp),
        "group": group_of(gp, g),
        "model_a": a,
        "model_b": b,
        "n": int(counts[0]),
        "n_pos": int(counts[1]),
        "n_neg": int(counts[2]),
        "estimate_a": clean(est[0]),
        "estimate_b": clean(est[1]),
        "difference": {
            "value": clean(value),
            "ci_low": clean(lo),
            "ci_high": clean(hi),
            "method": method,
            "p_value": clean(p),
            "p_adjusted": None,
            "reason": reason if clean(value) is None or clean(lo) is None else None,
        },
    }


def _auroc_entries(
    gp: Grouping, models: list[ModelSource], scored: list[int],
    auroc_in: list[SortedScores | AurocResult | None], y: np.ndarray, n_pos: np.ndarray,
    n_neg: np.ndarray, pairs: list[tuple[int, int]], level: float,
) -> list[dict[str, Any]]:
    """``auroc_in``: per scored model, the engine's AUROC of this grouping with its placements
    (the same numbers, not recomputed) or the sorted scores to compute them from."""
    use = [(a, b) for a, b in pairs if a in scored and b in scored]
    if not use:
        return []
    given = [r for r in auroc_in if r is not None]
    assert len(given) == len(scored)
    assert all(isinstance(r, SortedScores) or r.placements is not None for r in given)
    pa = pr.paired_auroc(gp, given, y, n_pos, n_neg)
    where = {m: j for j, m in enumerate(scored)}
    out = []
    for a, b in use:
        d, _var, lo, hi, p = pa.difference(where[a], where[b], level)
        for g in range(gp.size):
            reason = (
                "needs at least 2 events and 2 non-events in the group"
                if n_pos[g] < 2 or n_neg[g] < 2
                else ("the two models rank every pair alike (zero variance)"
                      if not np.isfinite(p[g]) else None)
            )
            out.append(_entry(
                "auroc", gp, g, models[a].name, models[b].name,
                (n_pos[g] + n_neg[g], n_pos[g], n_neg[g]),
                (pa.auc[where[a], g], pa.auc[where[b], g]),
                (d[g], lo[g], hi[g], p[g]), pr.DELONG_PAIRED, reason,
            ))
    return out


def _proportion_entries(
    gp: Grouping, models: list[ModelSource], table: np.ndarray,
    pairs: list[tuple[int, int]], level: float,
) -> list[dict[str, Any]]:
    out = []
    k = len(models)
    for metric, outcome, what in (("tpr", True, "events"), ("fpr", False, "non-events")):
        for a, b in pairs:
            n, ka, bb, cc = pr.table_discordant(table, k, a, b, outcome)
            kb = ka - bb + cc
            d, lo, hi = pr.tango_interval(bb, cc, n, level)
            p = pr.mcnemar_exact(bb, cc)
            with np.errstate(invalid="ignore", divide="ignore"):
                ea, eb = ka / n, kb / n
            for g in range(gp.size):
                npos = n[g] if metric == "tpr" else 0
                nneg = n[g] if metric == "fpr" else 0
                out.append(_entry(
                    metric, gp, g, models[a].name, models[b].name, (n[g], npos, nneg),
                    (ea[g], eb[g]), (d[g], lo[g], hi[g], p[g] if n[g] > 0 else np.nan),
                    pr.TANGO, f"no {what} in the group",
                ))
    return out


def _bootstrap_entries(
    gp: Grouping, models: list[ModelSource], boot: Any, pairs: list[tuple[int, int]],
    level: float, n_pos: np.ndarray, n_neg: np.ndarray, pt: float,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for metric in BOOTSTRAP_METRICS:
        for a, b in pairs:
            if metric in NEEDS_PROBABILITY and (
                models[a].kind != "probability" or models[b].kind != "probability"
            ):
                continue
            d, lo, hi, p, reasons = boot.difference(metric, a, b, level)
            est = boot.estimates[metric]
            method = "paired patient bootstrap: " + iv.bootstrap_method(0, 0).split(" (")[0]
            for g in range(gp.size):
                e = _entry(
                    metric, gp, g, models[a].name, models[b].name,
                    (n_pos[g] + n_neg[g], n_pos[g], n_neg[g]), (est[g, a], est[g, b]),
                    (d[g], lo[g], hi[g], p[g]), method, reasons[g] or "undefined in this group",
                )
                if metric == "net_benefit":
                    e["threshold_probability"] = pt
                if boot.reps is not None:  # B replicates support no p below 1/(B + 1)
                    e["difference"]["p_floor"] = 1.0 / (boot.reps[metric].shape[0] + 1)
                out.append(e)
    return out


def _adjust(paired: list[dict[str, Any]], spec: EvaluationSpec) -> None:
    """Adjust p-values across the pairs of each (metric, attribute, group) family."""
    families: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for e in paired:
        families.setdefault((e["metric"], e["attribute"], e["group"]), []).append(e)
    for fam in families.values():
        p = np.array([np.nan if e["difference"]["p_value"] is None
                      else e["difference"]["p_value"] for e in fam])
        adj = adjust(p, spec.multiplicity)
        for e, v in zip(fam, adj, strict=True):
            e["difference"]["p_adjusted"] = clean(v)


def _methods(
    spec: EvaluationSpec, pt: float, options: CompareOptions, n_pairs: int
) -> dict[str, str]:
    pairing = (
        f"every model against the incumbent {options.incumbent!r}"
        if options.incumbent else "every pair of models"
    )
    return {
        "pairs": f"{pairing} ({n_pairs} comparisons); difference = model_a − model_b",
        "auroc": pr.DELONG_PAIRED,
        "tpr": pr.TANGO,
        "fpr": pr.TANGO,
        "bootstrap": iv.bootstrap_method(spec.bootstrap, spec.seed)
        + "; the same resampled patients for every model (paired)",
        "net_benefit": us.NET_BENEFIT + f"; the paired difference is taken at t = {pt:g}",
        "multiplicity": (
            f"intervals are unadjusted {100 * spec.ci_level:g}% intervals; p_adjusted: "
            f"{MULTIPLICITY_METHODS[spec.multiplicity]} across the {n_pairs} pairs of each "
            "metric and group"
        ),
        "operating_point": "flagged per 100, events caught per 100, number needed to evaluate "
        "= flagged / true positives = 1/PPV",
    }


def _notes(models: list[ModelSource], inputs: list[EvaluationInput]) -> list[str]:
    notes = []
    for m, inp in zip(models, inputs, strict=True):
        if inp.score_kind == "class":
            notes.append(
                f"{m.name} gives a predicted class: it has no AUROC difference, Brier score or "
                "calibration, and its decision curve is that of its one rule."
            )
        elif inp.score_kind == "score":
            notes.append(
                f"{m.name} gives a raw score (not a probability): no Brier score or calibration "
                "difference; its decision curve is that of its rule at its operating point."
            )
    cluster = inputs[0].cluster
    if cluster is not None:
        counts = np.bincount(cluster)
        most = int(counts.max(initial=0))
        if most > 1:
            several = int((counts > 1).sum())
            notes.append(
                f"Rows are clustered ({cluster.size:,} rows of {counts.size:,} patients; "
                f"{several:,} patient{'s have' if several != 1 else ' has'} several, up to "
                f"{most:,}): the per-model evaluations and the paired differences use "
                "cluster-robust intervals (the patient is the unit)."
            )
        else:
            notes.append(
                f"A patient column was given, but each of the {counts.size:,} patients has one "
                "row: no patient has several rows."
            )
    return notes
