"""What Edit › Undo and Edit › Redo would change, in the reviewer's words, and where it lives.

The document's undo stack holds raw paths (``("answers", "2.3@validation", "value")``); the menu
says "Undo answer 2.3 (Validation)" and, after undoing, the window shows the step holding the
change. Both come from here, pure and Qt-free, so the words are tested without a window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assessment.catalogue import REVIEWER_LABELS

if TYPE_CHECKING:
    from assessment.document import Assessment
    from assessment.instrument_model import Instrument

Path = tuple[str, ...]

#: The step (key of :func:`gui.steps.steps_for`) that shows each top-level part of the document.
STEP_OF_SECTION: dict[str, str] = {
    "review_question": "review",
    "study_type": "review",
    "performance_types": "review",
    "reviewer": "review",
    "model_card": "model_card",
    "datasheet": "datasheet",
    "training_demographics": "datasheet",
    "evidence": "evidence",
    "reference_population": "population",
    "reference_population_source": "population",
    "group_maps": "population",
    "evaluation": "results",
    "notes": "summary",
}

_SECTION_WORDS: dict[str, str] = {
    "study_type": "study type",
    "performance_types": "performance types",
    "evidence": "evidence list",
    "reference_population": "reference population",
    "reference_population_source": "reference population source",
    "group_maps": "group labels",
    "evaluation": "evaluation",
    "notes": "reviewer's notes",
}

_ANSWER_PARTS: dict[str, str] = {"value": "answer", "rationale": "rationale of", "sources":
                                 "sources of"}
_DOMAIN_PARTS: dict[str, str] = {
    "final": "judgement",
    "rationale": "rationale",
    "applicability": "applicability",
    "applicability_rationale": "applicability rationale",
}
_FORMS: dict[str, tuple[str, str]] = {"model_card": ("model-card", "model card"),
                                      "datasheet": ("datasheet", "training data")}


def _column_label(instrument: Instrument, column: str) -> str:
    for option in (*instrument.columns, *instrument.performance_types):
        if option.id == column:
            return option.label
    return column


def _domain_label(instrument: Instrument, key: str) -> str:
    part_id, _, domain_id = key.partition(":")
    try:
        domain = instrument.domain(part_id, domain_id)
    except Exception:  # an unknown domain (never written by set_domain): its raw key
        return key
    return f"{domain.id} {domain.name}"


def _form_label(section: str, field_id: str) -> str:
    from assessment.instruments import load_form

    form_id, words = _FORMS[section]
    try:
        labels = {f.id: f.label for _s, f in load_form(form_id).iter_fields()}
    except Exception:  # the bundled form unreadable: still name the field
        labels = {}
    return f"{words}: {labels.get(field_id, field_id)}"


def change_label(instrument: Instrument, path: Path) -> str:
    """The changed field in the reviewer's words, e.g. "answer 2.3 (Validation)"."""
    if not path:
        return "change"
    head = path[0]
    if head == "answers" and len(path) >= 3:
        qid, _, column = path[1].partition("@")
        what = _ANSWER_PARTS.get(path[2], path[2])
        shown = f"{qid} ({_column_label(instrument, column)})" if column else qid
        return f"{what} {shown}"
    if head == "domains" and len(path) >= 3:
        return f"{_DOMAIN_PARTS.get(path[2], path[2])} of {_domain_label(instrument, path[1])}"
    if head in _FORMS and len(path) >= 2:
        return _form_label(head, path[1])
    if head == "reviewer" and len(path) >= 2:
        return f"reviewer's {REVIEWER_LABELS.get(path[1], path[1]).lower()}"
    if head == "review_question" and len(path) >= 2:
        labels = {f.id: f.label for f in instrument.review_question}
        return f"review question: {labels.get(path[1], path[1])}"
    return _SECTION_WORDS.get(head, ".".join(path))


def change_step(instrument: Instrument, path: Path) -> str | None:
    """The key of the step that shows the change at ``path``; None if no step shows it."""
    if not path:
        return None
    head = path[0]
    if head == "answers" and len(path) >= 2:
        try:
            question = instrument.question(path[1].partition("@")[0])
        except Exception:  # an answer key the instrument does not know
            return None
        return f"domain:{question.part_id}:{question.domain_id}"
    if head == "domains" and len(path) >= 2:
        return f"domain:{path[1]}"
    return STEP_OF_SECTION.get(head)


def undo_label(doc: Assessment) -> str | None:
    """What Undo would take back ("answer 2.3 (Validation)"); None when nothing is to undo."""
    path = doc.next_change_paths()[0]
    return None if path is None else change_label(doc.instrument, path)


def redo_label(doc: Assessment) -> str | None:
    """What Redo would put back; None when nothing is to redo."""
    path = doc.next_change_paths()[1]
    return None if path is None else change_label(doc.instrument, path)


def undo_step(doc: Assessment) -> str | None:
    """The step of the change Undo would take back."""
    path = doc.next_change_paths()[0]
    return None if path is None else change_step(doc.instrument, path)


def redo_step(doc: Assessment) -> str | None:
    """The step of the change Redo would put back."""
    path = doc.next_change_paths()[1]
    return None if path is None else change_step(doc.instrument, path)
