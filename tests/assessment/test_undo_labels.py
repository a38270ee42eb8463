"""Edit › Undo's words and the step of the change, from the document's undo stack."""

from __future__ import annotations

from assessment.document import Assessment
from assessment.undo_labels import (
    STEP_OF_SECTION,
    change_label,
    change_step,
    redo_label,
    redo_step,
    undo_label,
    undo_step,
)


def test_labels_and_steps_follow_the_stack() -> None:
    doc = Assessment.new("probast-2019")
    assert undo_label(doc) is None and redo_label(doc) is None and undo_step(doc) is None
    doc.set_study_type("validation")
    assert (undo_label(doc), undo_step(doc)) == ("study type", "review")
    doc.set_answer("2.3@validation", "PY")
    assert undo_label(doc) == "answer 2.3 (Validation)"
    assert undo_step(doc) == "domain:main:D2"
    doc.set_answer_rationale("2.3@validation", "because")
    assert undo_label(doc) == "rationale of 2.3 (Validation)"
    doc.set_field("model_card", "model_name", "ReadmitRisk")
    assert undo_label(doc) == "model card: Model name"
    assert undo_step(doc) == "model_card"
    assert doc.undo()
    assert redo_label(doc) == "model card: Model name" and redo_step(doc) == "model_card"
    assert undo_label(doc) == "rationale of 2.3 (Validation)"
    assert doc.redo() and redo_label(doc) is None
    doc.set_domain("main:D1", final="high")
    assert undo_label(doc) == "judgement of D1 Participants"
    assert undo_step(doc) == "domain:main:D1"
    doc.set_notes("n")
    assert (undo_label(doc), undo_step(doc)) == ("reviewer's notes", "summary")
    doc.set_field("reviewer", "email", "a@b.c")
    assert undo_label(doc) == "reviewer's e-mail"


def test_every_step_named_exists_and_unknown_paths_fall_back() -> None:
    from assessment.instruments import load_instrument

    inst = load_instrument("probast-ai-2025")
    q = inst.parts[0].domains[0].questions[0]
    assert change_step(inst, ("answers", f"{q.id}@apparent", "value")) == (
        f"domain:{q.part_id}:{q.domain_id}")
    assert change_label(inst, ("answers", f"{q.id}@apparent", "value")).startswith(
        f"answer {q.id} (")
    assert change_step(inst, ("answers", "99.9@x", "value")) is None
    assert change_step(inst, ("evaluation",)) == "results"
    assert change_label(inst, ("mystery", "x")) == "mystery.x"
    assert change_step(inst, ()) is None
    from gui.steps import steps_for  # the step keys named here are the workflow's

    keys = {s.key for s in steps_for(Assessment.new("probast-2019"))}
    assert set(STEP_OF_SECTION.values()) <= keys
