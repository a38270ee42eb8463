"""``probity evaluate``: subgroup evaluation of a model's validation data from the command line.

For scripted pre-submission self-assessment: read a CSV/TSV/XLSX/Parquet file, map its
columns, run the metrics engine and print a readable summary; ``--json`` writes the full
"probity-evaluation/1" result, ``--csv`` a flat table with one row per group × metric.

Cheap to import (``main.py --version`` and the GUI load it): pandas, NumPy and the engine are
imported inside :func:`run`. Bad input raises a :class:`~assessment.errors.ProbityError`, which
``main.py`` prints as one line and turns into exit code 2.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assessment.catalogue import SUMMARY_METRICS, data_suffixes_text, metric_short

if TYPE_CHECKING:
    from assessment.document import Assessment
    from assessment.evaluation.inputs import EvaluationInput
    from assessment.evaluation.mapping import ColumnMapping, LoadedTable
    from assessment.evaluation.spec import EvaluationSpec, MetricTolerance, ReferenceKind

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


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``evaluate`` sub-command (issue 3's interface plus import options)."""
    p = subparsers.add_parser(
        "evaluate",
        help="subgroup performance, calibration and disparities of a model on validation data",
        description=(
            "Evaluate a model's validation data per subgroup: metrics with 95% confidence "
            "intervals, disparities against a reference group, flags for small groups. A case "
            "is predicted positive when its score >= the threshold."
        ),
    )
    p.add_argument("data", metavar="DATA", help=f"validation data: {data_suffixes_text()}")
    p.add_argument("--label", required=True, metavar="COL", help="true outcome column")
    p.add_argument(
        "--positive",
        action="append",
        metavar="VALUE",
        help="outcome value that counts as the event (needed unless the outcome is 0/1, "
        "true/false or yes/no), e.g. '<30'; repeat to count several values as the event",
    )
    model = p.add_mutually_exclusive_group(required=True)
    model.add_argument("--score", metavar="COL", help="the model's score or probability column")
    model.add_argument("--prediction", metavar="COL", help="the model's predicted-class column")
    p.add_argument(
        "--prediction-positive",
        action="append",
        metavar="VALUE",
        help="predicted-class value meaning positive (default: as for the outcome); repeat "
        "for several, e.g. --prediction-positive Medium --prediction-positive High",
    )
    p.add_argument(
        "--score-kind",
        choices=("probability", "score"),
        default="probability",
        help="'probability' (0-1, the default) or 'score' (any real number; needs --threshold)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        metavar="T",
        help="decision threshold: positive when score >= T (default 0.5 for probabilities)",
    )
    p.add_argument(
        "--group",
        action="append",
        required=True,
        metavar="COL",
        help="sensitive attribute column (repeat for several)",
    )
    p.add_argument(
        "--intersect",
        action="append",
        default=[],
        metavar="COL,COL[,COL]",
        help="also evaluate the intersection of 2 or 3 attributes (repeatable)",
    )
    p.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="COL=VALUE",
        help="reference group of an attribute (repeatable); others use --reference-kind",
    )
    p.add_argument(
        "--reference-kind",
        choices=("largest", "best", "overall"),
        default="largest",
        help="reference for attributes without --reference: the largest group (default), "
        "the best-performing group, or the overall population",
    )
    p.add_argument(
        "--bootstrap", type=int, default=1000, metavar="B", help="bootstrap replicates (1000)"
    )
    p.add_argument("--seed", type=int, default=20240601, metavar="S", help="random seed")
    p.add_argument(
        "--min-n", type=int, default=30, metavar="N", help="flag groups with fewer rows (30)"
    )
    p.add_argument(
        "--min-events",
        type=int,
        default=10,
        metavar="N",
        help="flag groups with fewer events or non-events (10)",
    )
    p.add_argument(
        "--tolerance",
        action="append",
        default=[],
        metavar="METRIC=RULE",
        help="how large a gap on METRIC must be to be flagged: ratio:LOW,HIGH (e.g. "
        "fpr=ratio:0.8,1.25) or diff:LIMIT (e.g. auroc=diff:0.05); repeatable; defaults: ratio "
        "0.8-1.25 for TPR, FPR, FNR, PPV and selection rate, absolute differences for the rest "
        "(README 'Evaluation engine: methods')",
    )
    p.add_argument(
        "--multiplicity",
        choices=("holm", "bh"),
        default="holm",
        help="adjustment of the flags within each metric family: holm (family-wise error, the "
        "default) or bh (Benjamini-Hochberg false discovery rate)",
    )
    p.add_argument(
        "--bin",
        action="append",
        default=[],
        metavar="COL=EDGES",
        help="bin a continuous attribute at ascending edges, e.g. age=40,50,60 (repeatable)",
    )
    p.add_argument(
        "--missing",
        metavar="TOKENS",
        help="comma-separated cell values meaning missing (replaces the default "
        "'?,,NA,N/A,NaN,null'; an empty item means an empty cell)",
    )
    p.add_argument(
        "--population",
        metavar="FILE.csv|NAME",
        help="reference population for the representativeness check: CSV with columns "
        "attribute,group,proportion (proportions or percentages per attribute), or a bundled "
        "table by name: us-census-2020",
    )
    p.add_argument(
        "--group-map",
        metavar="FILE.csv",
        help="group-label map for the representativeness check: CSV with columns "
        "attribute,data_value,category (several values may map to one datasheet category)",
    )
    p.add_argument(
        "--training",
        metavar="FILE.csv",
        help="training cohort demographics: CSV with columns attribute,group,count",
    )
    p.add_argument(
        "--cluster",
        metavar="COL",
        help="patient identifier: rows with the same value are one patient's encounters; "
        "intervals become cluster-robust and the bootstrap resamples patients within groups",
    )
    p.add_argument("--sheet", metavar="NAME", help="worksheet of an XLSX file (default: first)")
    p.add_argument("--encoding", metavar="ENC", help="text encoding (default: detected)")
    p.add_argument("--delimiter", metavar="CHAR", help="CSV delimiter (default: detected)")
    _limit_args(p)
    p.add_argument("--json", metavar="OUT.json", help="write the full result as JSON")
    p.add_argument("--csv", metavar="OUT.csv", help="write a flat group x metric table as CSV")
    p.add_argument(
        "--into",
        metavar="FILE.probity",
        help="store the evaluation in this assessment exactly as the GUI's Run does (the run's "
        "file, mapping and spec with the result, one audit entry, atomic save); its datasheet's "
        "training demographics and its reference population are compared with unless "
        "--training/--population are given",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=run)


_LIMIT_HELP = {
    "max_file_mb": ("MB", "size of the data file"),
    "max_cells": ("N", "rows x columns"),
    "max_columns": ("N", "columns"),
    "max_cell_kb": ("KB", "text of one cell"),
    "max_unpacked_mb": ("MB", "decompressed XLSX parts / uncompressed Parquet data"),
    "max_ratio": ("R", "compression ratio of one XLSX part (zip bombs reach ~1000)"),
}


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _limit_args(p: argparse.ArgumentParser) -> None:
    """One option per read limit (assessment.evaluation.limits), each naming its default."""
    from assessment.evaluation.limits import DEFAULT_LIMITS, LIMIT_OPTIONS

    g = p.add_argument_group(
        "limits on the data file",
        "checked before the file is parsed, so a hostile file is refused in seconds; raise "
        "one when a genuine file is refused",
    )
    for key, option in LIMIT_OPTIONS.items():
        metavar, what = _LIMIT_HELP[key]
        default = getattr(DEFAULT_LIMITS, key)
        shown = f"{default:,}" if isinstance(default, int) else f"{default:g}"
        g.add_argument(option, dest=key, type=_positive, default=default, metavar=metavar,
                       help=f"at most this {what} (default {shown})")


def limits_from_args(args: argparse.Namespace) -> Any:
    from assessment.evaluation.limits import LIMIT_OPTIONS, ReadLimits

    values = {k: getattr(args, k) for k in LIMIT_OPTIONS if hasattr(args, k)}
    for k in ("max_cells", "max_columns"):
        if k in values:
            values[k] = int(values[k])
    return ReadLimits(**values)


def run(args: argparse.Namespace) -> int:
    """Read, map, evaluate, report. Returns the exit code (errors raise ProbityError)."""
    from assessment.evaluation.engine import evaluate
    from assessment.evaluation.io import prepare_input, read_table

    check_outputs(args)
    into = _open_into(args.into) if getattr(args, "into", None) else None
    mapping = mapping_from_args(args)
    table = read_table(
        args.data,
        sheet=args.sheet,
        encoding=args.encoding,
        delimiter=_delimiter(args.delimiter),
        limits=limits_from_args(args),
    )
    inputs = prepare_input(table, mapping)
    spec = spec_from_args(args, mapping, inputs, document=into)
    result = evaluate(inputs, spec, progress=lambda _f: None, cancelled=lambda: False)
    data = result.to_json()
    if into is not None:
        _store_into(into, Path(args.into), table, mapping, spec, data, Path(args.data))
    if args.json:
        write_json(data, Path(args.json))
    if args.csv:
        write_flat_csv(data, Path(args.csv))
    if not args.quiet:
        print_summary(data, sys.stdout)
        if into is not None:
            print(f"Stored the evaluation in {args.into} (audit entry by "
                  f"{into.reviewer.name or 'the unnamed reviewer'}).")
    return 0


# ---- arguments -> mapping and spec ------------------------------------------------------------


def _delimiter(text: str | None) -> str | None:
    if text is None:
        return None
    named = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    return named.get(text.lower(), text)


def _split_assignment(text: str, option: str, example: str) -> tuple[str, str]:
    from assessment.errors import DataError

    col, sep, value = text.partition("=")
    if not sep or not col.strip():
        raise DataError(f"{option} takes COL=VALUE (e.g. {example}), not {text!r}.")
    return col.strip(), value.strip()


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse --json/--csv paths that name an input file (or each other) before any work."""
    from assessment.errors import DataError
    from assessment.fileio import check_output

    inputs = [args.data, args.population, args.training, getattr(args, "group_map", None)]
    into = getattr(args, "into", None)
    if args.json:
        check_output(args.json, [*inputs, args.csv, into], error=DataError)
    if args.csv:
        check_output(args.csv, [*inputs, into], error=DataError)
    if into:  # the assessment is read and rewritten: it must not be one of the data inputs
        check_output(into, inputs, error=DataError)


def mapping_from_args(args: argparse.Namespace) -> ColumnMapping:
    """The ColumnMapping the options describe (attributes: --group, then --intersect columns)."""
    from assessment.evaluation.mapping import DEFAULT_MISSING, ColumnMapping, parse_bins

    attributes = list(dict.fromkeys(args.group))
    for combo in _intersections(args.intersect):
        attributes += [c for c in combo if c not in attributes]
    bins: dict[str, list[float]] = {}
    for item in args.bin:
        col, edges = _split_assignment(item, "--bin", "age=40,50,60")
        bins[col] = parse_bins(edges)
    missing = list(DEFAULT_MISSING) if args.missing is None else args.missing.split(",")
    _check_bins_are_groups(bins, attributes)
    return ColumnMapping(
        label=args.label,
        positive=_one_or_many(args.positive),
        score=args.score,
        score_kind=args.score_kind,
        prediction=args.prediction,
        prediction_positive=_one_or_many(args.prediction_positive),
        threshold=args.threshold,
        attributes=attributes,
        bins=bins,
        missing=missing,
        cluster=args.cluster,
    )


def _one_or_many(values: list[str] | None) -> str | list[str] | None:
    if not values:
        return None
    return values[0] if len(values) == 1 else list(dict.fromkeys(values))


def _check_bins_are_groups(bins: dict[str, list[float]], attributes: list[str]) -> None:
    from assessment.errors import DataError

    for col in bins:
        if col not in attributes:
            raise DataError(f"--bin {col}=...: {col!r} is not a --group; add --group {col}.")


def _intersections(items: list[str]) -> list[tuple[str, ...]]:
    from assessment.errors import DataError

    combos: list[tuple[str, ...]] = []
    for item in items:
        combo = tuple(c.strip() for c in item.split(",") if c.strip())
        if not 2 <= len(combo) <= 3 or len(set(combo)) != len(combo):
            raise DataError(
                f"--intersect takes 2 or 3 different columns separated by commas "
                f"(e.g. race,sex), not {item!r}."
            )
        combos.append(combo)
    return combos


def spec_from_args(
    args: argparse.Namespace,
    mapping: ColumnMapping,
    inputs: EvaluationInput,
    *,
    document: Assessment | None = None,
) -> EvaluationSpec:
    """EvaluationSpec from the options; --reference values are checked against the groups.

    With ``document`` (``--into``), its training demographics and reference population are the
    defaults of --training and --population, as in the GUI."""
    from assessment.errors import DataError
    from assessment.evaluation.group_map import group_map_arg
    from assessment.evaluation.record import document_demographics
    from assessment.evaluation.representativeness import suggest_demographics_map
    from assessment.evaluation.spec import EvaluationSpec, ReferenceSpec
    from assessment.populations import bundled_shares

    values: dict[str, str] = {}
    for item in args.reference:
        col, value = _split_assignment(item, "--reference", "race=Caucasian")
        if col not in mapping.attributes:
            raise DataError(
                f"--reference {item}: {col!r} is not a --group (groups: "
                + ", ".join(mapping.attributes)
                + ")."
            )
        levels = inputs.attribute(col).levels
        if value not in levels:
            raise DataError(
                f"--reference {item}: {col!r} has no group {value!r}; its groups are "
                + ", ".join(repr(v) for v in levels)
                + "."
            )
        values[col] = value
    kind: ReferenceKind = "value" if values else args.reference_kind
    tolerances = tolerances_from_args(args.tolerance)
    threshold = mapping.effective_threshold
    doc_training, doc_population = document_demographics(document) if document else ({}, {})
    population = (
        bundled_shares(args.population) or read_distribution(Path(args.population), "--population")
        if args.population
        else doc_population
    )
    training = (
        read_distribution(Path(args.training), "--training") if args.training else doc_training
    )
    return EvaluationSpec(
        threshold=0.5 if threshold is None else threshold,
        intersections=tuple(_intersections(args.intersect)),
        reference=ReferenceSpec(kind=kind, values=values),
        bootstrap=args.bootstrap,
        seed=args.seed,
        min_n=args.min_n,
        min_events=args.min_events,
        tolerances=tolerances,
        multiplicity=args.multiplicity,
        reference_population=population,
        training_demographics=training,
        demographics_map=suggest_demographics_map(
            list(mapping.attributes), {**population, **training}
        ),
        group_map=group_map_arg(getattr(args, "group_map", None), document),
    )


def tolerances_from_args(items: list[str]) -> dict[str, MetricTolerance]:
    """{metric: tolerance} from ``--tolerance METRIC=RULE`` options (checked by the spec)."""
    from assessment.errors import DataError, EvaluationError
    from assessment.evaluation.spec import DEFAULT_TOLERANCES, MetricTolerance

    out: dict[str, MetricTolerance] = {}
    for item in items:
        metric, rule = _split_assignment(item, "--tolerance", "fpr=ratio:0.8,1.25")
        metric = metric.lower()
        if metric not in DEFAULT_TOLERANCES:
            raise DataError(
                f"--tolerance {item}: {metric!r} is not a flagged metric; use one of "
                + ", ".join(DEFAULT_TOLERANCES)
                + "."
            )
        try:
            tol = MetricTolerance.parse(rule)
            tol.check(metric)
        except EvaluationError as exc:
            raise DataError(f"--tolerance {item}: {exc.message}") from None
        out[metric] = tol
    return out


def _open_into(path_text: str) -> Assessment:
    """The --into assessment, read before the data so a wrong path fails fast."""
    from assessment.catalogue import ASSESSMENT_SUFFIX
    from assessment.errors import DocumentError
    from assessment.storage import load

    path = Path(path_text)
    if path.suffix.lower() != ASSESSMENT_SUFFIX:
        raise DocumentError(
            f"--into {path_text}: an assessment file ends in {ASSESSMENT_SUFFIX}; create one in "
            "the app (File › New) and save it, then pass it here."
        )
    if not path.is_file():
        raise DocumentError(
            f"--into {path_text}: no such assessment; create it in the app (File › New) or copy "
            "an existing .probity file, then run this again."
        )
    return load(path)


def _store_into(
    doc: Assessment,
    path: Path,
    table: LoadedTable,
    mapping: ColumnMapping,
    spec: EvaluationSpec,
    data: dict[str, Any],
    source: Path,
) -> None:
    """Store the run as the GUI does (one audited change) and save atomically."""
    from assessment.evaluation.record import evaluation_config, store_evaluation
    from assessment.storage import save

    store_evaluation(doc, evaluation_config(table, mapping, spec, source.resolve()), data)
    save(doc, path)


#: Largest --population/--training file read (one short row per group).
MAX_DISTRIBUTION_BYTES = 4 * 1024 * 1024


def read_distribution(path: Path, option: str) -> dict[str, dict[str, float]]:
    """{attribute: {group: number}} from a small CSV with columns attribute, group, number.

    The third column may be called proportion, share, percent or count; the spec checks that
    proportions add up to 1 (or 100) per attribute.
    """
    from assessment.errors import DataError
    from assessment.fileio import read_regular_bytes

    data = read_regular_bytes(
        path,
        what=f"{option} CSV file",
        max_bytes=MAX_DISTRIBUTION_BYTES,
        error=DataError,
        limit_hint="it should hold one short row per group",
    )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{option}: {path.name} is not UTF-8 text; save it as CSV UTF-8.") from exc
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DataError(f"{option}: {path.name} is not a readable CSV file ({exc}).") from exc
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2 or len(rows[0]) < 3:
        raise DataError(
            f"{option}: {path.name} needs a header row 'attribute,group,proportion' and one row "
            "per group."
        )
    out: dict[str, dict[str, float]] = {}
    for i, row in enumerate(rows[1:], start=2):
        if len(row) < 3:
            raise DataError(f"{option}: row {i} of {path.name} has fewer than 3 cells.")
        attr, group, raw = row[0].strip(), row[1].strip(), row[2].strip().rstrip("%")
        try:
            number = float(raw.replace(",", "."))
        except ValueError:
            raise DataError(
                f"{option}: row {i} of {path.name} has {row[2]!r} where a number belongs."
            ) from None
        if not attr or not group:
            raise DataError(f"{option}: row {i} of {path.name} lacks the attribute or group.")
        if group in out.setdefault(attr, {}):
            raise DataError(f"{option}: {attr} = {group} appears twice in {path.name}.")
        out[attr][group] = number
    return out


# ---- output -----------------------------------------------------------------------------------


def write_json(data: dict[str, Any], path: Path) -> None:
    """The result JSON (strict: NaN would be invalid JSON, the engine never emits it)."""
    from assessment.errors import DataError
    from assessment.fileio import atomic_write_text

    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_text(path, text, error=DataError)


def flat_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per group × metric, with the disparity against the reference on the same row."""
    disparities = {
        (d["attribute"], d["group"], d["metric"]): d for d in data.get("disparities", [])
    }
    rows: list[dict[str, Any]] = []
    for g in [data["overall"], *data["groups"]]:
        for metric, m in g["metrics"].items():
            d = disparities.get((g["attribute"], g["group"], metric))
            diff = d["difference"] if d else {}
            ratio = d["ratio"] if d else {}
            rows.append(
                {
                    "attribute": g["attribute"],
                    "group": g["group"],
                    "n": g["n"],
                    "n_pos": g["n_pos"],
                    "n_neg": g["n_neg"],
                    "flags": ";".join(g.get("flags", [])),
                    "metric": metric,
                    "value": m.get("value"),
                    "ci_low": m.get("ci_low"),
                    "ci_high": m.get("ci_high"),
                    "method": m.get("method"),
                    "reason": m.get("reason"),
                    "reference": d["reference"] if d else None,
                    "difference": diff.get("value"),
                    "difference_ci_low": diff.get("ci_low"),
                    "difference_ci_high": diff.get("ci_high"),
                    "ratio": ratio.get("value"),
                    "ratio_ci_low": ratio.get("ci_low"),
                    "ratio_ci_high": ratio.get("ci_high"),
                    "disparity_flagged": d["flagged"] if d else None,
                    "disparity_flagged_adjusted": d.get("flagged_adjusted") if d else None,
                    "p_value": d.get("p_value") if d else None,
                    "p_adjusted": d.get("p_adjusted") if d else None,
                }
            )
    return rows


def write_flat_csv(data: dict[str, Any], path: Path) -> None:
    """CSV via the shared exporter (formula-injection-safe cells, atomic write)."""
    import pandas as pd

    from assessment.evaluation.export import write_csv

    frame = pd.DataFrame(flat_rows(data), columns=list(CSV_COLUMNS))
    write_csv(frame, path)


def _num(v: float | None, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _with_ci(m: dict[str, Any] | None) -> str:
    if not m or m.get("value") is None:
        return "—"
    text = _num(m["value"])
    if m.get("ci_low") is not None and m.get("ci_high") is not None:
        text += f" ({_num(m['ci_low'], 2)}–{_num(m['ci_high'], 2)})"
    return text


def _p(v: float | None) -> str:
    return "—" if v is None else (f"{v:.2g}" if v >= 1e-4 else "< 0.0001")


def _ranked_flags(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Flagged disparities, those of groups with sufficient data first, then by |log ratio|."""
    import math

    small = {
        (g["attribute"], g["group"])
        for g in data["groups"]
        if "insufficient_data" in g.get("flags", [])
    }

    def key(d: dict[str, Any]) -> tuple[bool, float]:
        r = d["ratio"].get("value")
        size = abs(math.log(r)) if r is not None and r > 0 else 0.0
        return ((d["attribute"], d["group"]) in small, -size)

    return sorted((d for d in data.get("disparities", []) if d.get("flagged_adjusted")), key=key)


def print_summary(data: dict[str, Any], out: TextIO) -> None:
    """Readable tables: provenance, groups with n/events/key metrics + CIs, flagged gaps."""
    prov = data["provenance"]
    spec = data["spec"]
    sheet = f", sheet {prov['sheet']!r}" if prov.get("sheet") else ""
    w = out.write
    w(f"Probity evaluation of {prov['file_name']}{sheet} (SHA-256 {prov['sha256'][:16]}…)\n")
    excluded = ", ".join(f"{n:,} {reason}" for reason, n in prov.get("excluded", {}).items())
    w(
        f"Rows: {prov['rows_read']:,} read, {prov['rows_used']:,} used, "
        f"{prov['rows_excluded']:,} excluded" + (f" ({excluded})" if excluded else "") + "\n"
    )
    mapping = prov.get("mapping", {})
    decision = (
        f"predicted class from column {mapping['prediction']!r}"
        if mapping.get("prediction") and not mapping.get("score")
        else f"threshold {spec['threshold']:g} (positive when score >= threshold)"
    )
    w(
        f"Decision: {decision}; {round(spec['ci_level'] * 100):d}% CIs; bootstrap "
        f"B={spec['bootstrap']}, seed {spec['seed']}; small group: n < {spec['min_n']} or "
        f"< {spec['min_events']} events\n"
    )
    groups = [data["overall"], *data["groups"]]
    shown = [
        (k, h)
        for k, h in ((m, metric_short(m)) for m in SUMMARY_METRICS)
        if any(g["metrics"].get(k, {}).get("value") is not None for g in groups)
    ]
    name_w = max(12, *(len(g["group"]) for g in groups))
    header = (
        f"  {'group':<{name_w}} {'n':>8} {'events':>7}  "
        + "".join(f"{h:<21}" for _, h in shown)
        + "flags"
    )
    by_attr: dict[str, list[dict[str, Any]]] = {}
    for g in data["groups"]:
        by_attr.setdefault(g["attribute"], []).append(g)
    refs = data.get("references", {})
    for attr, rows in [("(all)", [data["overall"]]), *by_attr.items()]:
        ref = f" — reference: {refs[attr]}" if attr in refs else ""
        w(f"\n{attr}{ref}\n{header}\n")
        for g in rows:
            cells = "".join(f"{_with_ci(g['metrics'].get(k)):<21}" for k, _ in shown)
            flags = ",".join(g.get("flags", []))
            w(f"  {g['group']:<{name_w}} {g['n']:>8,} {g['n_pos']:>7,}  {cells}{flags}\n")
    flagged = _ranked_flags(data)
    raw = sum(bool(d.get("flagged")) for d in data.get("disparities", []))
    how = (
        f"{spec.get('multiplicity', 'holm')}-adjusted within each metric family; {raw} on "
        "unadjusted intervals"
    )
    if flagged:
        w(
            f"\nFlagged disparities ({len(flagged)}, {how}; groups with enough data first, "
            "largest gaps first):\n"
        )
        for d in flagged[:MAX_FLAGS_PRINTED]:
            diff, ratio = d["difference"], d["ratio"]
            small = (
                " [insufficient data]" if (d.get("reason") or "").startswith("insufficient") else ""
            )
            w(
                f"  {d['attribute']}: {d['group']} vs {d['reference']}, {d['metric']}: "
                f"ratio {_with_ci(ratio)}, difference {_with_ci(diff)}; tolerance "
                f"{d.get('tolerance') or '—'}, adjusted p {_p(d.get('p_adjusted'))}{small}\n"
            )
        if len(flagged) > MAX_FLAGS_PRINTED:
            w(f"  … and {len(flagged) - MAX_FLAGS_PRINTED} more (see --json or --csv)\n")
    else:
        w(
            f"\nNo disparity flagged ({how}; a gap is flagged when its CI excludes parity, it is "
            "beyond the metric's tolerance and its adjusted p-value is below 1 − the CI level).\n"
        )
    _print_missingness(data, w)
    rep = [r for r in data.get("representativeness", []) if r.get("flag")]
    if data.get("representativeness"):
        w(f"\nRepresentativeness: {len(rep)} group(s) flagged\n")
        for r in rep:
            w(f"  {r['attribute']}: {r['group']}: {r['flag'].replace('_', ' ')} ({r['reason']})\n")
    for note in data.get("notes", []):
        w(f"Note: {note}\n")


def _print_missingness(data: dict[str, Any], w: Any) -> None:
    """Excluded rows per group and reason; groups losing more (or fewer) rows than the rest."""
    rows = data.get("missingness") or []
    if not rows:
        return
    w("\nExcluded rows by group (differential missingness: group vs the rest, Newcombe CI):\n")
    for m in rows:
        if not m["excluded"] and not m.get("flagged"):
            continue
        diff = m.get("difference") or {}
        reasons = ", ".join(f"{v:,} {k}" for k, v in (m.get("by_reason") or {}).items())
        mark = (
            "  FLAGGED (adjusted)"
            if m.get("flagged_adjusted")
            else ("  flagged (unadjusted only)" if m.get("flagged") else "")
        )
        w(
            f"  {m['attribute']}: {m['group']}: {m['excluded']:,} of {m['rows_read']:,} "
            f"({(m.get('rate') or 0):.1%}; {reasons or 'none'}); vs rest "
            f"{_with_ci(diff)}{mark}\n"
        )
