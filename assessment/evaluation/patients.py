"""The rules for a doubtful patient column (``--cluster``), shared by ``evaluate`` and ``compare``.

A row without a patient id is counted as a patient of its own (the engine's rule, so no row is
dropped silently); the warnings say so and name the other signs that the column does not
identify patients: it is the outcome or a group column, or it has fewer than
:data:`MIN_PATIENT_IDS` distinct ids. ``compare`` (:func:`assessment.compare.sources.patient_facts`)
and ``evaluate`` (:func:`assessment.evaluation.mapping.prepare_input`, into the provenance's
warnings, the result's notes, the app and the PDF) use the same sentences.
"""

from __future__ import annotations

from collections.abc import Collection

#: a patient column with fewer distinct values than this is no patient identifier
MIN_PATIENT_IDS = 20


def patient_column_warnings(
    column: str,
    *,
    rows: int,
    patients: int,
    missing: int | None,
    distinct: int,
    outcome: str,
    attributes: Collection[str],
    rows_word: str = "compared rows",
) -> list[str]:
    """The warnings on patient column ``column`` of ``rows`` used rows: ``missing`` of them
    without an id (each a patient of its own, of the ``patients``), ``distinct`` ids among the
    others; ``outcome`` and ``attributes`` are the outcome's and group columns' names."""
    warnings = []
    if missing:
        warnings.append(
            f"{missing:,} of the {rows:,} {rows_word} have no patient id in {column!r}: "
            f"each is counted as a patient of its own (of the {patients:,}); fill in "
            "their ids if they belong to patients with other rows."
        )
    if column == outcome or column in attributes:
        role = "the outcome" if column == outcome else "a group column"
        warnings.append(
            f"The patient column {column!r} is also {role}: it does not identify patients, "
            "so the cluster-robust intervals are wrong; choose the column that identifies "
            "each patient."
        )
    elif distinct < MIN_PATIENT_IDS:
        warnings.append(
            f"The patient column {column!r} has only {distinct:,} distinct "
            f"value{'s' if distinct != 1 else ''}: it does not look like a patient identifier, "
            "and the cluster-robust intervals treat the data as that many patients; choose the "
            "column that identifies each patient."
        )
    return warnings
