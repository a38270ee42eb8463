"""``probity compare``: several vendors' models on the same validation patients.

``python main.py compare DATA --label COL --model NAME=COL … --group COL … [--key COL]
[--incumbent NAME] [--json OUT]``. A model is a column of DATA (``"Vendor A"=score_a``) or a
column of its own file joined on ``--key`` (``"Vendor B"=b.csv:risk``); ``--kind NAME=score``
with ``--threshold NAME=T`` for a raw score, ``--kind NAME=class`` for a predicted class.

Cheap to import (``main.py`` builds every subcommand's parser): the heavy modules are imported
inside :func:`run`. Bad input raises a :class:`~assessment.errors.ProbityError`, printed by
``main.py`` as one line with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assessment.catalogue import data_suffixes_text

if TYPE_CHECKING:
    from collections.abc import Callable

    from assessment.compare.sources import ModelSource


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``compare`` sub-command without PDF options (``reports.compare_cli`` adds
    ``--pdf``/``--sign`` and is what ``main.py`` registers)."""
    p = add_parser(subparsers)
    p.set_defaults(func=run)


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """The ``compare`` parser with every analysis option."""
    p = subparsers.add_parser(
        "compare",
        help="compare several vendors' models on the same patients (paired, per subgroup)",
        description=(
            "Compare several models on the same validation patients: every metric per group "
            "for each model, paired differences (DeLong for AUROC, Tango + McNemar for TPR/FPR, "
            "paired bootstrap for Brier, calibration, PPV and net benefit), decision curves "
            "per group and the figures at each model's operating point."
        ),
    )
    p.add_argument("data", metavar="DATA", help=f"validation data: {data_suffixes_text()}")
    p.add_argument("--label", required=True, metavar="COL", help="true outcome column")
    p.add_argument("--positive", action="append", metavar="VALUE",
                   help="outcome value that counts as the event (as for evaluate)")
    p.add_argument("--model", action="append", required=True, metavar="NAME=COL",
                   help='a model: NAME=COL (a column of DATA) or NAME=FILE:COL (its own file, '
                   'joined on --key), e.g. "Vendor A"=score_a; give two or more')
    p.add_argument("--kind", action="append", default=[], metavar="NAME=KIND",
                   help="probability (default), score (raw score; needs --threshold) or class "
                   "(predicted class)")
    p.add_argument("--threshold", action="append", default=[], metavar="NAME=T",
                   help="the vendor's stated operating point: flagged when score >= T "
                   "(default 0.5 for probabilities)")
    p.add_argument("--prediction-positive", action="append", default=[], metavar="NAME=VALUE",
                   help="for a class model: the predicted value meaning flagged (repeatable)")
    p.add_argument("--group", action="append", required=True, metavar="COL",
                   help="sensitive attribute column (repeat for several)")
    p.add_argument("--intersect", action="append", default=[], metavar="COL,COL[,COL]",
                   help="also compare within the intersection of 2 or 3 attributes")
    p.add_argument("--bin", action="append", default=[], metavar="COL=EDGES",
                   help="bin a continuous attribute, e.g. age=40,50,60")
    p.add_argument("--missing", metavar="TOKENS", help="cell values meaning missing")
    p.add_argument("--cluster", metavar="COL",
                   help="patient identifier: each model's own metrics and every paired "
                   "difference get cluster-robust intervals (the patient is the unit)")
    p.add_argument("--key", metavar="COL",
                   help="patient key shared by DATA and every per-vendor file (one row per "
                   "patient in each file)")
    p.add_argument("--incumbent", metavar="NAME",
                   help="compare every model against this one only (default: every pair)")
    p.add_argument("--plan", metavar="PLAN.json", help="locked evaluation plan: gates per model")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="B",
                   help="bootstrap replicates (1000; 0 = no bootstrap intervals)")
    p.add_argument("--seed", type=int, default=20240601, metavar="S", help="random seed")
    p.add_argument("--multiplicity", choices=("holm", "bh"), default="holm",
                   help="p-value adjustment across the pairs of each metric and group")
    p.add_argument("--nb-range", default="0.01,0.99,0.01", metavar="START,STOP,STEP",
                   help="threshold probabilities of the decision curves (0.01,0.99,0.01)")
    p.add_argument("--nb-threshold", type=float, metavar="T",
                   help="threshold probability of the paired net-benefit difference (default: "
                   "the first probability model's operating point)")
    p.add_argument("--capacity", metavar="K/N",
                   help="the team can follow up K of every N patients: each model's top-K/N "
                   "threshold and what every group gets at it")
    p.add_argument("--sheet", metavar="NAME", help="worksheet of an XLSX file")
    p.add_argument("--json", metavar="OUT.json", help="write the probity-comparison/1 result")
    p.add_argument("--assessment", action="append", default=[], metavar="NAME=FILE.probity",
                   help="the vendor's PROBAST / PROBAST+AI assessment: linked in the dossier by "
                   "path and SHA-256 with its judgements (repeatable, one per model)")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    from assessment.evaluation.cli import _limit_args

    _limit_args(p)
    return p


def _assignments(items: list[str], option: str, names: set[str]) -> dict[str, list[str]]:
    from assessment.errors import DataError

    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.rpartition("=")
        name = name.strip()
        if not sep or not name or not value.strip():
            raise DataError(f'{option} takes NAME=VALUE (e.g. "Vendor A"=…), not {item!r}.')
        if name not in names:
            raise DataError(
                f"{option} {item}: no model is named {name!r} (models: "
                + ", ".join(sorted(names))
                + ")."
            )
        out.setdefault(name, []).append(value.strip())
    return out


def models_from_args(args: argparse.Namespace) -> list[ModelSource]:
    from assessment.compare.sources import ModelSource, parse_model
    from assessment.errors import DataError

    parsed = [parse_model(t) for t in args.model]
    names = {name for name, _c, _f in parsed}
    kinds = _assignments(args.kind, "--kind", names)
    thresholds = _assignments(args.threshold, "--threshold", names)
    positives = _assignments(args.prediction_positive, "--prediction-positive", names)
    out = []
    for name, column, file in parsed:
        kind = kinds.get(name, ["probability"])[-1]
        thr: float | None = None
        if name in thresholds:
            text = thresholds[name][-1]
            try:
                thr = float(text)
            except ValueError:
                raise DataError(f"--threshold {name}={text}: {text!r} is not a number.") from None
        out.append(
            ModelSource(
                name=name, column=column, file=file, kind=kind,  # type: ignore[arg-type]
                threshold=thr, positive=tuple(positives.get(name, ())),
            )
        )
    return out


def _triple(text: str) -> tuple[float, float, float]:
    from assessment.errors import DataError

    try:
        a, b, c = (float(x) for x in text.split(","))
    except ValueError:
        raise DataError(
            f"--nb-range takes START,STOP,STEP (e.g. 0.01,0.5,0.01), not {text!r}."
        ) from None
    return a, b, c


def _capacity(text: str | None) -> tuple[int, int] | None:
    from assessment.errors import DataError

    if text is None:
        return None
    k, _sep, n = text.partition("/")
    try:
        return int(k), int(n or 100)
    except ValueError:
        raise DataError(
            f"--capacity takes K/N (follow up K of every N patients, e.g. 10/100), not {text!r}."
        ) from None


def run(args: argparse.Namespace) -> int:
    """Read, join, evaluate every model, compare, write. Returns the exit code."""
    doc = analyse(args, outputs=[])
    if not args.quiet:
        print_summary(doc, sys.stdout)
    else:
        print_warnings(doc, sys.stderr)
    return 0


def print_warnings(doc: dict[str, Any], out: TextIO) -> None:
    """The dossier's warnings (a doubtful patient column), one "WARNING:" line each: printed
    on stderr under --quiet, which silences the summary but never a warning."""
    for warning in doc.get("warnings", []):
        out.write(f"WARNING: {warning}\n")


def analyse(
    args: argparse.Namespace, outputs: list[str], extra_inputs: tuple[Any, ...] = (),
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[float], None] = lambda _f: None,
) -> dict[str, Any]:
    """The ``probity-comparison/1`` document the options describe (written with ``--json``);
    ``outputs``: further output paths that must not name an input (nor each other);
    ``extra_inputs``: further files read (signing key, passphrase file); ``cancelled()``
    True stops the work (:class:`~assessment.errors.Cancelled`; the app's Cancel button);
    ``progress(f)`` hears the analysis's progress (0–1)."""
    from assessment.compare.analysis import CompareOptions, compare
    from assessment.compare.dossier import vendor_assessment
    from assessment.compare.gates import check_plan, plan_gates
    from assessment.compare.model_form import check_model_columns, column_roles
    from assessment.compare.sources import (
        align,
        check_models,
        keys_as_written,
        model_inputs,
        patient_facts,
    )
    from assessment.errors import DataError
    from assessment.evaluation.cli import _intersections, limits_from_args, mapping_from_args
    from assessment.evaluation.io import read_table
    from assessment.evaluation.spec import EvaluationSpec
    from assessment.fileio import check_output

    models = models_from_args(args)
    check_models(models)
    check_model_columns([(m.name, m.column, m.file) for m in models],  # not the outcome…
                        column_roles(args.label, ",".join(args.group), args.cluster or "",
                                     args.key or ""))
    assessments = _assignments(args.assessment, "--assessment", {m.name for m in models})
    inputs_paths = [args.data, *(m.file for m in models if m.file),
                    *(v for vs in assessments.values() for v in vs), args.plan,
                    *(str(x) for x in extra_inputs if x is not None)]
    written = [o for o in [args.json, *outputs] if o]
    for i, out in enumerate(written):
        check_output(out, [*inputs_paths, *written[:i]], error=DataError)
    options = CompareOptions(
        incumbent=args.incumbent,
        nb_thresholds=_triple(args.nb_range),
        nb_threshold=args.nb_threshold,
        capacity=_capacity(args.capacity),
    )
    options.validate(models)
    if args.plan:
        check_plan(Path(args.plan))
    ns = argparse.Namespace(
        **{**vars(args), "score": "-", "score_kind": "probability", "prediction": None,
           "prediction_positive": None, "threshold": None}
    )
    base = mapping_from_args(ns)
    limits = limits_from_args(args)
    data = keys_as_written(read_table(args.data, sheet=args.sheet, limits=limits), args.data,
                           args.key)
    tables = {m.file: keys_as_written(read_table(m.file, limits=limits), m.file, args.key)
              for m in models if m.file is not None}
    aligned = align(data, models, tables, base, key=args.key)
    inputs = model_inputs(aligned, models, base)
    patients, warnings = patient_facts(aligned, base, inputs)
    if cancelled():  # reading and joining done: the app's Cancel stops before the analysis
        from assessment.errors import Cancelled

        raise Cancelled()
    spec = EvaluationSpec(
        intersections=tuple(_intersections(args.intersect)),
        bootstrap=args.bootstrap,
        seed=args.seed,
        multiplicity=args.multiplicity,
    )
    checker = plan_gates(Path(args.plan)) if args.plan else None
    vendors = [vendor_assessment(name, Path(paths[-1])) for name, paths in assessments.items()]
    info = {
        "file_name": data.file_name,
        "sha256": data.sha256,
        "rows_read": aligned.rows_read,
        "rows_compared": inputs[0].n,
        # with a patient column: patients (not rows), the column, rows with no patient id
        "patients": patients["patients"] if patients else inputs[0].n,
        "patient_column": patients["column"] if patients else None,
        "most_rows_per_patient": patients["most_rows"] if patients else 1,
        "missing_patient_ids": patients["missing_ids"] if patients else None,
        "excluded": {**aligned.excluded, **inputs[0].provenance.excluded},
        "model_files": {t.file_name: t.sha256 for t in tables.values()},
    }
    result = compare(models, inputs, spec, options, join=aligned.join, data=info,
                     gate_checker=checker, max_group_cells=int(limits.max_group_cells),
                     cancelled=cancelled, progress=progress)
    doc = result.to_json()
    doc["vendor_assessments"] = vendors
    doc["notes"] = [*aligned.warnings, *doc["notes"]]
    doc["warnings"] = warnings  # a doubtful patient column: said first, in capitals on the CLI
    if args.json:
        write_json(doc, Path(args.json))
    return doc


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinity (which strict JSON cannot hold) replaced by None."""
    import math

    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def dossier_bytes(doc: dict[str, Any]) -> bytes:
    """Strict, compact JSON (no indentation: the C encoder writes 20 MB in a fraction of the
    time the indenting Python encoder needs)."""
    import json

    try:
        text = json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:  # a non-finite number from a module that did not clean it
        text = json.dumps(finite(doc), ensure_ascii=False, allow_nan=False,
                          separators=(",", ":"))
    return (text + "\n").encode("utf-8")


def write_json(doc: dict[str, Any], path: Path) -> None:
    """The dossier as strict JSON, written atomically."""
    from assessment.errors import DataError
    from assessment.fileio import atomic_write

    atomic_write(path, dossier_bytes(doc), error=DataError)


def patients_text(data: dict[str, Any], clustered: bool = False) -> str:
    """"20,795 patients (29,463 rows; patient column 'patient_nbr')", or "400 patients" when
    every row is a patient (no patient column); ``clustered``: a dossier written before the
    patients were counted (clustered, no patient count) says "29,463 rows"."""
    rows = int(data.get("rows_compared", 0))
    column = data.get("patient_column")
    if not column:
        if clustered:
            return f"{rows:,} rows (several per patient; the patients are not counted)"
        return f"{rows:,} patients"
    patients = int(data.get("patients", rows))
    return (f"{patients:,} patient{'s' if patients != 1 else ''} ({rows:,} "
            f"row{'s' if rows != 1 else ''}; patient column {column!r})")


def print_summary(doc: dict[str, Any], out: TextIO) -> None:
    """A readable digest: rows compared, join diagnostics, headline per model, ranked summary."""
    w = out.write
    d = doc["data"]
    w(f"Compared {len(doc['models'])} models on {patients_text(d)} of {d['file_name']} "
      f"({d['rows_read']:,} rows read).\n")
    print_warnings(doc, out)
    for reason, count in d["excluded"].items():
        w(f"  left out: {count:,} rows ({reason})\n")
    for j in doc["join"]:
        if j["role"] == "model":
            w(f"  {j['file']}: {j['rows']:,} rows, {j['matched']:,} matched, "
              f"{j['unmatched']:,} unmatched\n")
    w("\nWhole population at each model's operating point:\n")
    for m in doc["models"]:
        o = m["result"]["overall"]["metrics"]
        auc = o.get("auroc", {}).get("value")
        op = next(p for p in doc["operating_points"]
                  if p["model"] == m["name"] and p["attribute"] is None)
        nne = op["number_needed_to_evaluate"]
        w(f"  {m['name']}: AUROC {'n/a' if auc is None else f'{auc:.3f}'}; flags "
          f"{op['flagged_per_100']:.1f} per 100, catches {op['events_caught_per_100']:.1f} "
          f"events per 100, evaluate {'n/a' if nne is None else f'{nne:.1f}'} per event\n")
    w("\nRanked summary:\n")
    for s in doc["summary"]:
        w(f"  {s}\n")
    for n in doc["notes"]:
        w(f"Note: {n}\n")
