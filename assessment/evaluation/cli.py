"""``probity evaluate``'s arguments: the parser and what they become (mapping, spec, limits).

The command itself (:mod:`assessment.evaluate_command`) reads the data, runs the engine and
writes what :mod:`assessment.evaluation.cli_output` formats; ``--into`` stores the run in an
assessment there, outside this package (which never reads or saves documents).

Cheap to import (``main.py --version`` and the GUI load it): pandas, NumPy and the engine are
imported inside the functions. Bad input raises a :class:`~assessment.errors.ProbityError`,
which ``main.py`` prints as one line and turns into exit code 2.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assessment.catalogue import data_suffixes_text

if TYPE_CHECKING:
    from assessment.document import Assessment
    from assessment.evaluation.inputs import EvaluationInput
    from assessment.evaluation.mapping import ColumnMapping
    from assessment.evaluation.spec import EvaluationSpec, MetricTolerance, ReferenceKind


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """The ``evaluate`` sub-command's arguments (issue 3's interface plus import options).

    Registered, with its handler, by :mod:`assessment.evaluate_command` (which stores a run
    ``--into`` an assessment: the evaluation package itself never reads or saves documents).
    """
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
        "--bootstrap", type=int, default=1000, metavar="B",
        help="bootstrap replicates (1000; 0 = none; at least 200 for 95%% intervals)",
    )
    p.add_argument(
        "--seed", type=_seed, default=20240601, metavar="S",
        help="random seed, a whole number from 0 to 2**63-1 (20240601)",
    )
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
        "0.8-1.25 for TPR, FPR, PPV and selection rate, absolute differences for the rest; "
        "TNR and FNR are judged on FPR and TPR, their mirrors (tnr=diff:LIMIT is fpr=diff:LIMIT) "
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
    from assessment.plan.apply import add_plan_options

    add_plan_options(p)
    return p


_LIMIT_HELP = {
    "max_file_mb": ("MB", "size of the data file"),
    "max_cells": ("N", "rows x columns"),
    "max_columns": ("N", "columns"),
    "max_cell_kb": ("KB", "text of one cell"),
    "max_unpacked_mb": ("MB", "decompressed XLSX parts / uncompressed Parquet data"),
    "max_ratio": ("R", "compression ratio of one XLSX part (zip bombs reach ~1000)"),
    "max_groups": ("N", "groups of one sensitive attribute"),
    "max_group_cells": ("N", "combinations of all sensitive attributes (intersection cells)"),
}


def _seed(text: str) -> int:
    from assessment.evaluation.spec import seed_problem

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    problem = seed_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


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
    for k in ("max_cells", "max_columns", "max_groups", "max_group_cells"):
        if k in values:
            values[k] = int(values[k])
    return ReadLimits(**values)


# ---- arguments -> mapping and spec ------------------------------------------------------------


def delimiter_from(text: str | None) -> str | None:
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

    inputs = [args.data, args.population, args.training, getattr(args, "group_map", None),
              getattr(args, "plan", None), getattr(args, "locked_plan", None),
              *(getattr(args, "trust", None) or [])]  # fmt: skip
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
    from assessment.evaluation.mapping_steps import check_intersection_cells
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
        if values.get(col, value) != value:
            raise DataError(
                f"--reference names two groups of {col!r} ({values[col]!r} and {value!r}); "
                "give one reference group per attribute."
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
    intersections = tuple(_intersections(args.intersect))
    check_intersection_cells(
        inputs.attributes, intersections, int(limits_from_args(args).max_group_cells)
    )
    spec = EvaluationSpec(
        threshold=0.5 if threshold is None else threshold,
        intersections=intersections,
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
    if getattr(args, "group_map", None):
        from assessment.evaluation.group_map import check_map_categories
        from assessment.evaluation.representativeness import map_categories

        check_map_categories(spec.group_map, map_categories(spec, list(mapping.attributes)),
                             "--group-map")
    return spec


def tolerances_from_args(items: list[str]) -> dict[str, MetricTolerance]:
    """{metric: tolerance} from ``--tolerance METRIC=RULE`` options (checked by the spec).

    A rule for a mirror member (TNR, FNR) is stored on its primary (FPR, TPR) when it says the
    same there (a difference limit) and refused otherwise, naming the member that carries the
    pair's tolerance (:func:`assessment.evaluation.spec.mirror_tolerance`).
    """
    from assessment.errors import DataError, EvaluationError
    from assessment.evaluation.mirrors import primary_of
    from assessment.evaluation.spec import TOLERANCE_METRICS, MetricTolerance, mirror_tolerance

    out: dict[str, MetricTolerance] = {}
    given: dict[str, str] = {}
    for item in items:
        metric, rule = _split_assignment(item, "--tolerance", "fpr=ratio:0.8,1.25")
        metric = metric.lower()
        if metric not in TOLERANCE_METRICS:
            raise DataError(
                f"--tolerance {item}: {metric!r} is not a flagged metric; use one of "
                + ", ".join(TOLERANCE_METRICS)
                + "."
            )
        try:
            tol = MetricTolerance.parse(rule)
            tol.check(metric)
            tol = mirror_tolerance(metric, tol)
        except EvaluationError as exc:
            raise DataError(f"--tolerance {item}: {exc.message}") from None
        key = primary_of(metric)
        if out.get(key, tol) != tol:
            if given[key] == metric:
                raise DataError(
                    f"--tolerance names two different rules for {metric!r}; give one rule per "
                    "metric."
                )
            raise DataError(
                f"--tolerance gives {given[key]} and {metric} different rules, but the pair has "
                f"one tolerance, judged on {key}; give only {key}'s."
            )
        out[key] = tol
        given[key] = metric
    return out


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
