"""The evaluation record: how one run is stored in an assessment, the same from GUI and CLI.

A run's configuration (which file, its SHA-256, the column mapping and the spec) and its result
go into the document through :func:`store_evaluation`, one audited change; the demographics
the evaluation compares with come from the document through :func:`document_demographics`.
The GUI's Run button and ``python main.py evaluate … --into FILE.probity`` both call these, so a
headless pipeline builds exactly the assessment a reviewer would.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assessment.document import Assessment
    from assessment.evaluation.mapping import ColumnMapping, LoadedTable
    from assessment.evaluation.result import EvaluationResult
    from assessment.evaluation.spec import EvaluationSpec


def document_demographics(
    doc: Assessment,
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """(training demographics, reference population) as the evaluation spec takes them."""
    training = {
        str(a): {str(g): float(c) for g, c in groups.items()}
        for a, groups in (doc.training_demographics or {}).items()
    }
    population = {
        str(a): {str(g): float(p) for g, p in groups.items()}
        for a, groups in (doc.reference_population or {}).items()
    }
    return training, population


def evaluation_config(
    table: LoadedTable, mapping: ColumnMapping, spec: EvaluationSpec, path: str | Path | None
) -> dict[str, Any]:
    """The run configuration stored beside the result (what to re-run it with)."""
    return {
        "file": str(path) if path else None,
        "file_name": table.file_name,
        "sha256": table.sha256,
        "sheet": table.sheet,
        "mapping": mapping.to_json(),
        "spec": spec.to_json(),
    }


def store_evaluation(
    doc: Assessment, config: dict[str, Any], result: EvaluationResult | dict[str, Any]
) -> None:
    """Replace the document's evaluation with this run (one audited, undoable change)."""
    snapshot = result if isinstance(result, dict) else result.to_json()
    doc.set_evaluation(config, snapshot)


__all__ = ["document_demographics", "evaluation_config", "store_evaluation"]
