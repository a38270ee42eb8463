"""``probity evaluate``: subgroup evaluation of a model's validation data from the command line.

For scripted pre-submission self-assessment: read a CSV/TSV/XLSX/Parquet file, map its
columns, run the metrics engine and print a readable summary; ``--json`` writes the full
"probity-evaluation/1" result, ``--csv`` a flat table with one row per group × metric, and
``--into FILE.probity`` stores the run in an assessment exactly as the GUI's Run does.

It lives beside :mod:`assessment.storage`, not inside the evaluation package, because
``--into`` reads and saves a document (the evaluation package never does; an import-linter
contract keeps it so). The arguments are :mod:`assessment.evaluation.cli`'s, the output
:mod:`assessment.evaluation.cli_output`'s. Cheap to import: the engine, pandas and the storage
are imported inside :func:`run`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assessment.evaluation import cli as args_cli
from assessment.evaluation import cli_output

if TYPE_CHECKING:
    from assessment.document import Assessment
    from assessment.evaluation.result import EvaluationResult


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``evaluate`` sub-command."""
    args_cli.add_parser(subparsers).set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read, map, evaluate, report. Returns the exit code (errors raise ProbityError)."""
    from assessment.errors import EvaluationError
    from assessment.evaluation.memory import reuse_freed_pages

    with _into_locked(getattr(args, "into", None)), reuse_freed_pages():
        try:
            return _run(args)
        except MemoryError:
            # the engine refuses a bootstrap it estimates will not fit (limits.bootstrap_bytes);
            # anything else that runs out of memory is one sentence too, never a traceback
            raise EvaluationError(
                "The evaluation ran out of memory: use fewer bootstrap replicates (--bootstrap), "
                "fewer intersections or groups (--group-map, --bin), or a machine with more memory."
            ) from None


#: The --into file as this run holds it (its lock and the disk state it was read at).
_INTO: dict[Path, Any] = {}


@contextlib.contextmanager
def _into_locked(path_text: str | None) -> Iterator[None]:
    """Hold the --into document's lock (as the app does) for the whole run: a document open in
    a live window is refused with one sentence naming who has it open; a stale lock is taken
    over; a folder where no lock can be made is not an error (the save still checks the disk)."""
    if not path_text or not Path(path_text).is_file():
        yield
        return
    from assessment.errors import DocumentError
    from assessment.locks import DocumentLock, Held, Instance, OpenFile, lock_document

    path = Path(path_text).resolve()
    instance = Instance()
    taken = lock_document(path, instance.owner)
    if isinstance(taken, Held):
        instance.close()
        raise DocumentError(
            f"--into {path_text}: {taken.describe()} has it open; close it there (or save "
            "and close it) and run this again, so neither overwrites the other's work."
        )
    _INTO[path] = OpenFile(path, taken if isinstance(taken, DocumentLock) else None)
    try:
        yield
    finally:
        held = _INTO.pop(path, None)
        if held is not None:
            held.release()
        instance.close()


def _run(args: argparse.Namespace) -> int:
    from assessment.evaluation.engine import evaluate
    from assessment.evaluation.io import prepare_input, read_table
    from assessment.evaluation.result import EvaluationResult
    from assessment.plan.apply import PlanRun

    args_cli.check_outputs(args)
    plan = PlanRun.from_args(args)  # fills options from --plan; None without it
    for warning in plan.warnings if plan is not None else []:
        print(f"probity: WARNING: {warning}", file=sys.stderr)
    into = _open_into(args.into) if getattr(args, "into", None) else None
    mapping = args_cli.mapping_from_args(args)
    table = read_table(
        args.data,
        sheet=args.sheet,
        encoding=args.encoding,
        delimiter=args_cli.delimiter_from(args.delimiter),
        limits=args_cli.limits_from_args(args),
    )
    if not args.quiet:
        for note in table.notes:  # e.g. identical duplicate columns merged
            print(f"Note: {cli_output.safe(note)}", file=sys.stderr)
    inputs = prepare_input(table, mapping)
    del table  # its columns (~160 MB at 10M rows) are copied into ``inputs``; freed before the peak
    spec = args_cli.spec_from_args(args, mapping, inputs, document=into)
    if args.quiet:  # --quiet silences the summary, never a warning (as compare)
        for note in inputs.provenance.notes:
            if note.startswith("WARNING: "):
                print(cli_output.safe(note), file=sys.stderr)
    result = evaluate(inputs, spec, progress=lambda _f: None, cancelled=lambda: False)
    if plan is not None:  # gates at the level(s) the plan's multiplicity rule sets
        judged = plan.judge(
            result.to_json(),
            lambda lv: evaluate(inputs, replace(spec, ci_level=lv)).to_json(),
            into,
        )
        result = EvaluationResult.from_json(judged)
    if into is not None:
        _store_into(into, Path(args.into), result, Path(args.data))
    if args.json:
        cli_output.write_json(result.to_json(), Path(args.json))
    if args.csv:
        cli_output.write_flat_csv(result, Path(args.csv))
    if not args.quiet:
        cli_output.print_summary(result, sys.stdout)
        if into is not None:
            print(
                f"Stored the evaluation in {args.into} (audit entry by "
                f"{into.reviewer.name or 'the unnamed reviewer'})."
            )
        if plan is not None:
            plan.print(sys.stdout)
    return 0 if plan is None else plan.exit_code


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
    held = _INTO.get(path.resolve())
    if held is None:
        return load(path)
    from assessment.locks import load_tracked

    doc, held.disk = load_tracked(path, load)
    return doc  # type: ignore[no-any-return]


def _store_into(doc: Assessment, path: Path, result: EvaluationResult, source: Path) -> None:
    """Store the run as the GUI does (one audited change: the typed record) and save atomically."""
    from assessment.evaluation.record import EvaluationRecord
    from assessment.storage import save

    doc.set_evaluation_record(EvaluationRecord.of_run(result, path=source.resolve()))
    held = _INTO.get(path.resolve())
    change = held.change() if held is not None else None
    if change is not None:
        from assessment.errors import DocumentError

        raise DocumentError(
            f"--into {path}: {change.describe()} The evaluation was not stored; run this "
            "again to store it in the file as it is now."
        )
    save(doc, path)
