"""What ``probity evaluate`` writes: the summary it prints, the flat CSV and the JSON file.

Everything here reads the typed :class:`~assessment.evaluation.result.EvaluationResult` through
its queries (``groups_of``, ``disparity``, ``flagged``, ``insufficient``, …), the same the GUI
and the report use; only ``--json`` writes the result's JSON (``to_json``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assessment.catalogue import SUMMARY_METRICS, metric_short
from assessment.evaluation.mirrors import MIRRORS

if TYPE_CHECKING:
    from assessment.evaluation.result import (
        Disparity,
        Estimate,
        EvaluationResult,
        MetricValue,
        MissingnessRow,
        SummaryMeasure,
    )

MAX_FLAGS_PRINTED = 25
CSV_COLUMNS: tuple[str, ...] = (
    "attribute",
    "group",
    "n",
    "n_pos",
    "n_neg",
    "flags",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "method",
    "reason",
    "reference",
    "difference",
    "difference_ci_low",
    "difference_ci_high",
    "ratio",
    "ratio_ci_low",
    "ratio_ci_high",
    "disparity_flagged",
    "disparity_flagged_adjusted",
    "p_value",
    "p_adjusted",
)


def write_json(data: dict[str, Any], path: Path) -> None:
    """The result JSON (strict: NaN would be invalid JSON, the engine never emits it)."""
    from assessment.errors import DataError
    from assessment.fileio import atomic_write_text

    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_text(path, text, error=DataError)


def flat_rows(result: EvaluationResult) -> list[dict[str, Any]]:
    """One row per group × metric, with the disparity against the reference on the same row."""
    disparities = {(d.attribute, d.group, d.metric): d for d in result.disparities}
    rows: list[dict[str, Any]] = []
    for g in [result.overall, *result.groups]:
        for metric, m in g.metrics.items():
            d = disparities.get((g.attribute, g.group, metric))
            rows.append(
                {
                    "attribute": g.attribute,
                    "group": g.group,
                    "n": g.n,
                    "n_pos": g.n_pos,
                    "n_neg": g.n_neg,
                    "flags": ";".join(g.flags),
                    "metric": metric,
                    "value": m.value,
                    "ci_low": m.ci_low,
                    "ci_high": m.ci_high,
                    "method": m.method,
                    "reason": m.reason,
                    "reference": d.reference if d else None,
                    "difference": d.difference.value if d else None,
                    "difference_ci_low": d.difference.ci_low if d else None,
                    "difference_ci_high": d.difference.ci_high if d else None,
                    "ratio": d.ratio.value if d else None,
                    "ratio_ci_low": d.ratio.ci_low if d else None,
                    "ratio_ci_high": d.ratio.ci_high if d else None,
                    "disparity_flagged": d.flagged if d else None,
                    "disparity_flagged_adjusted": d.flagged_adjusted if d else None,
                    "p_value": d.p_value if d else None,
                    "p_adjusted": d.p_adjusted if d else None,
                }
            )
    return rows


def write_flat_csv(result: EvaluationResult, path: Path) -> None:
    """CSV via the shared exporter (formula-injection-safe cells, atomic write)."""
    import pandas as pd

    from assessment.evaluation.export import write_csv

    frame = pd.DataFrame(flat_rows(result), columns=list(CSV_COLUMNS))
    write_csv(frame, path)


def _num(v: float | None, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _with_ci(m: MetricValue | Estimate | SummaryMeasure | None) -> str:
    if m is None or m.value is None:
        return "—"
    text = _num(m.value)
    if m.ci_low is not None and m.ci_high is not None:
        text += f" ({_num(m.ci_low, 2)}–{_num(m.ci_high, 2)})"
    return text


def _p(v: float | None) -> str:
    """Two significant figures, never rounded across 0.05 or 0.01 (0.0497 is not shown "0.05")."""
    if v is None:
        return "—"
    if v < 1e-4:
        return "< 0.0001"
    text = f"{v:.2g}"
    for cut in (0.05, 0.01):
        if (v < cut) != (float(text) < cut):
            return f"{v:.3g}"
    return text


def ranked_flags(result: EvaluationResult) -> list[Disparity]:
    """Flagged (adjusted) disparities: groups with sufficient data first, then by |log ratio|."""
    small = {(g.attribute, g.group) for g in result.insufficient()}

    def key(d: Disparity) -> tuple[bool, float]:
        r = d.ratio.value
        size = abs(math.log(r)) if r is not None and r > 0 else 0.0
        return ((d.attribute, d.group) in small, -size)

    return sorted((d for d in result.disparities if d.flagged_adjusted), key=key)


def safe(text: object) -> str:
    """``text`` with every character a terminal could act on written as its Python escape
    (``\\x1b``, ``\\n``, ``\\u202e``): control, format (bidi) and separator characters
    are not printable (``str.isprintable``). A data file's values cannot clear the screen,
    hide text, start a forged line or reverse what follows."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def safe_writer(out: TextIO) -> Any:
    """``out.write`` that escapes everything :func:`safe` does except the line breaks the
    summary's own format puts in (values are passed through :func:`safe` first, so a line
    break inside a value is already escaped)."""

    def write(text: str) -> None:
        out.write("\n".join(safe(part) for part in text.split("\n")))

    return write


def _escape_json(value: Any) -> Any:
    if isinstance(value, str):
        return safe(value)
    if isinstance(value, dict):
        return {safe(k): _escape_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escape_json(v) for v in value]
    return value


def _escaped(result: EvaluationResult) -> EvaluationResult:
    """The result with every text escaped by :func:`safe` (keys too), for printing only."""
    from assessment.evaluation.result import EvaluationResult

    data = result.to_json()
    escaped = _escape_json(data)
    return result if escaped == data else EvaluationResult.from_json(escaped)


def print_summary(result: EvaluationResult, out: TextIO) -> None:
    """Readable tables: provenance, groups with n/events/key metrics + CIs, flagged gaps.

    Every value that comes from the data (file, attribute and group names, notes) is printed
    through :func:`safe`; the writer escapes control characters once more."""
    result = _escaped(result)
    prov = result.provenance
    spec = result.evaluation_spec()
    sheet = f", sheet {prov['sheet']!r}" if prov.get("sheet") else ""
    w = safe_writer(out)
    w(f"Probity evaluation of {prov['file_name']}{sheet} (SHA-256 {prov['sha256'][:16]}…)\n")
    excluded = ", ".join(f"{n:,} {reason}" for reason, n in prov.get("excluded", {}).items())
    w(
        f"Rows: {prov['rows_read']:,} read, {result.rows_used:,} used, "
        f"{result.rows_excluded:,} excluded" + (f" ({excluded})" if excluded else "") + "\n"
    )
    mapping = prov.get("mapping") or {}
    decision = (
        f"predicted class from column {mapping['prediction']!r}"
        if mapping.get("prediction") and not mapping.get("score")
        else f"threshold {spec.threshold:g} (positive when score >= threshold)"
    )
    w(
        f"Decision: {decision}; {round(spec.ci_level * 100):d}% CIs; bootstrap "
        f"B={spec.bootstrap}, seed {spec.seed}; small group: n < {spec.min_n} or "
        f"< {spec.min_events} events\n"
    )
    for note in result.notes:  # almost everyone predicted one way: say it up front
        if note.startswith("decision rule:"):
            w(f"WARNING: {note.removeprefix('decision rule: ')}\n")
        elif note.startswith("WARNING: "):  # a doubtful patient column
            w(f"{safe(note)}\n")
    groups = [result.overall, *result.groups]
    shown = [
        (k, h)
        for k, h in ((m, metric_short(m)) for m in SUMMARY_METRICS)
        if any(k in g.metrics and g.metrics[k].value is not None for g in groups)
    ]
    name_w = max(12, *(len(g.group) for g in groups))
    header = (
        f"  {'group':<{name_w}} {'n':>8} {'events':>7}  "
        + "".join(f"{h:<21}" for _, h in shown)
        + "flags"
    )
    refs = result.references
    sections = [("(all)", [result.overall])]
    sections += [(a, result.groups_of(a)) for a in result.attributes()]
    for attr, rows in sections:
        ref = f" — reference: {refs[attr]}" if attr in refs else ""
        w(f"\n{attr}{ref}\n{header}\n")
        for g in rows:
            cells = "".join(f"{_with_ci(g.metrics.get(k)):<21}" for k, _ in shown)
            w(f"  {g.group:<{name_w}} {g.n:>8,} {g.n_pos:>7,}  {cells}{','.join(g.flags)}\n")
    flagged = ranked_flags(result)
    # a mirror member (TNR, FNR) repeats its primary's verdict: one gap, counted once
    gaps = sum(d.metric not in MIRRORS for d in flagged)
    raw = sum(d.metric not in MIRRORS for d in result.flagged())
    how = (
        f"{spec.multiplicity}-adjusted within each metric family; {raw} on unadjusted "
        "intervals; a mirror pair such as FPR/TNR is one gap, counted once"
    )
    insufficient = {(g.attribute, g.group) for g in result.insufficient()}
    # a mirror line carries its primary's tag (the pair has one verdict, on the primary)
    thin_primary = {
        (d.attribute, d.group, d.reference, d.metric)
        for d in result.disparities
        if (d.reason or "").startswith("insufficient")
    }
    if flagged:
        rows_note = f", {len(flagged)} lines with the mirrors" if len(flagged) != gaps else ""
        w(
            f"\nFlagged disparities ({gaps}{rows_note}, {how}; groups with enough data first, "
            "largest gaps first):\n"
        )
        for d in flagged[:MAX_FLAGS_PRINTED]:
            thin = (d.attribute, d.group) in insufficient or (
                d.attribute, d.group, d.reference, MIRRORS.get(d.metric)
            ) in thin_primary
            small = (
                " [insufficient data]"
                if thin or (d.reason or "").startswith("insufficient")
                else ""
            )
            w(
                f"  {d.attribute}: {d.group} vs {d.reference}, {d.metric}: "
                f"ratio {_with_ci(d.ratio)}, difference {_with_ci(d.difference)}; tolerance "
                f"{d.tolerance or '—'}, adjusted p {_p(d.p_adjusted)}{small}\n"
            )
        if len(flagged) > MAX_FLAGS_PRINTED:
            w(f"  … and {len(flagged) - MAX_FLAGS_PRINTED} more (see --json or --csv)\n")
    elif not any(d.p_adjusted is not None for d in result.disparities):
        # no comparison had an interval and a p-value (e.g. too few patients for clustered
        # intervals): "no disparity flagged" would read as a clean bill
        w(
            f"\nNo disparity could be judged: none of the {len(result.disparities):,} "
            "group-versus-reference comparisons has an interval and a p-value (see the notes "
            "for why), so the absence of flags says nothing about the model's fairness.\n"
        )
    else:
        w(
            f"\nNo disparity flagged ({how}; a gap is flagged when its CI excludes parity, it is "
            "beyond the metric's tolerance and its adjusted p-value is below 1 − the CI level).\n"
        )
    _print_summary_measures(result.summary, w)
    _print_missingness(result.missingness, w)
    if result.representativeness:
        rep = [r for r in result.representativeness if r.flag]
        w(f"\nRepresentativeness: {len(rep)} group(s) flagged\n")
        for r in rep:
            w(f"  {r.attribute}: {r.group}: {(r.flag or '').replace('_', ' ')} ({r.reason})\n")
    for note in result.notes:
        if not note.startswith("WARNING: "):  # printed up front
            w(f"Note: {note}\n")


def _print_summary_measures(rows: tuple[SummaryMeasure, ...], w: Any) -> None:
    """Summary measures with the groups that set them, the groups left out, and the reason
    for a missing value or interval."""
    from assessment.catalogue import summary_measure_label

    if rows:
        w("\nSummary measures (groups with insufficient data left out where listed):\n")
    for s in rows:
        text = _with_ci(s)
        if s.value is None or s.ci_low is None or s.ci_high is None:
            text += f" ({'no CI: ' if s.value is not None else ''}{s.reason})"
        by = " vs ".join(s.set_by)
        left = ", ".join(s.excluded_groups or {})
        w(
            f"  {s.attribute}: {summary_measure_label(s.measure)}: {text}"
            + (f"; set by {by}" if by else "")
            + (f"; left out: {left}" if left else "")
            + "\n"
        )


def _print_missingness(rows: tuple[MissingnessRow, ...], w: Any) -> None:
    """Excluded rows per group and reason; groups losing more (or fewer) rows than the rest."""
    if not rows:
        return
    w("\nExcluded rows by group (differential missingness: group vs the rest, Newcombe CI):\n")
    # fixG: intersection cells make this list long (1,210 cells): at most MAX_FLAGS_PRINTED
    # flagged and as many unflagged lines, the rest counted (all in --json)
    printed = {True: 0, False: 0}
    hidden = {True: 0, False: 0}
    for m in rows:
        if not m.excluded and not m.flagged:
            continue
        hit = m.flagged or m.flagged_adjusted
        if printed[hit] >= MAX_FLAGS_PRINTED:
            hidden[hit] += 1
            continue
        printed[hit] += 1
        reasons = ", ".join(f"{v:,} {k}" for k, v in m.by_reason.items())
        mark = (
            "  FLAGGED (adjusted)"
            if m.flagged_adjusted
            else ("  flagged (unadjusted only)" if m.flagged else "")
        )
        w(
            f"  {m.attribute}: {m.group}: {m.excluded:,} of {m.rows_read:,} "
            f"({(m.rate or 0):.1%}; {reasons or 'none'}); vs rest "
            f"{_with_ci(m.difference)}{mark}\n"
        )
    if hidden[True] or hidden[False]:
        w(
            f"  … and {hidden[True]:,} more flagged, {hidden[False]:,} more unflagged groups with "
            "excluded rows (see --json)\n"
        )
