"""The domain pages' commands: next unanswered question (across domains) and copy the
Development answers to Validation (PROBAST 2019). Answers are written through the document's own
methods via ``page.apply`` (audited, undoable), exactly as a click writes them."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from assessment.document import Assessment
from assessment.judgement import applicable_slots
from gui.pages.answer_bar import AnswerBar

if TYPE_CHECKING:
    from gui.pages.probast import DomainPage


def copy_pairs(signature: tuple[str, ...]) -> list[tuple[str, str]]:
    """(development key, validation key) of the questions asked in both columns of a page."""
    keys = set(signature)
    return [(f"{q}@development", f"{q}@validation")
            for q in dict.fromkeys(k.split("@", 1)[0] for k in signature)
            if f"{q}@development" in keys and f"{q}@validation" in keys]


def _copy_answer(dev: str, val: str, doc: Assessment) -> None:
    """Development's answer into Validation; its rationale and sources where those are empty."""
    source, target = doc.answer(dev), doc.answer(val)
    doc.set_answer(val, source.value)
    if source.rationale and not target.rationale:
        doc.set_answer_rationale(val, source.rationale)
    if source.sources and not target.sources:
        doc.set_answer_sources(val, source.sources)


def next_unanswered(page: DomainPage) -> None:
    """Jump to the next unanswered slot after the focused one, across domains (wrapping)."""
    doc = page.ctx.doc
    slots = applicable_slots(doc.instrument, doc.study_type, doc.performance_types)
    focus = page.focusWidget()
    current = focus.slot_key if isinstance(focus, AnswerBar) else None
    keys = [s.key for s in slots]
    if current in keys:
        start = keys.index(current) + 1
    else:  # from the top of this page
        start = next((i for i, s in enumerate(slots)
                      if (s.part, s.domain) == (page.part_id, page.domain_id)), 0)
    order = slots[start:] + slots[:start]
    target = next((s for s in order if doc.answer(s.key).value is None), None)
    if target is None:
        page.ctx.show_status("Every applicable question is answered.", 6000)
        return
    if (target.part, target.domain) == (page.part_id, page.domain_id):
        page.focus_slot(target.key)
        return
    step = f"domain:{target.part}:{target.domain}"
    page.ctx.navigate_requested.emit(step)  # the main window shows (and builds) that page
    window = page.window()
    other = next((p for p in window.findChildren(type(page))
                  if p.key == f"{target.part}:{target.domain}"), None)
    if other is None:
        page.ctx.show_status(f"The next unanswered question is {target.question} "
                             f"({target.domain}).", 6000)
        return
    other.refresh_now()
    other.focus_slot(target.key)


def copy_dev_to_val(page: DomainPage) -> None:
    """Copy this domain's Development answers into its Validation slots: the empty ones;
    answers that differ are replaced only if the reviewer says so."""
    doc = page.ctx.doc
    todo: list[tuple[str, str]] = []
    differ: list[tuple[str, str]] = []
    for dev, val in page.copy_pairs:
        source, target = doc.answer(dev), doc.answer(val)
        if source.value is None or source.value == target.value:
            continue
        (todo if target.value is None else differ).append((dev, val))
    if differ:
        listed = ", ".join(f"{val.split('@')[0]} ({doc.answer(val).value} → "
                           f"{doc.answer(dev).value})" for dev, val in differ)
        if page.ctx.ask_yes_no(
                "Copy Development answers",
                f"{len(differ)} Validation answer(s) differ from Development: {listed}. "
                "Replace them with the Development answers too?"):
            todo += differ
            differ = []
    if not todo:
        page.ctx.show_status(
            "Nothing to copy: every Validation answer here is given or has no Development "
            "answer to copy." if not differ else "No Validation answer was replaced.", 6000)
        return
    for dev, val in todo:
        page.apply(partial(_copy_answer, dev, val))
    kept = f"; {len(differ)} differing answer(s) kept" if differ else ""
    page.ctx.show_status(
        f"Copied {len(todo)} Development answer(s) to Validation{kept}. Edit > Undo takes "
        "back one change at a time.", 8000)
