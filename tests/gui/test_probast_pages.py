"""PROBAST domain pages: generated from the instrument, live judgements, justification rule,
undo/redo, keyboard reachability."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from assessment.document import Assessment
from gui.pages.probast import DomainPage, parse_sources
from tests.gui.helpers import answer_all, click_answer, open_window


@pytest.fixture
def window(qtbot):
    doc = Assessment.new("probast-2019")
    doc.set_study_type("development_validation")
    return open_window(qtbot, doc)


def domain_page(window, part: str, domain: str) -> DomainPage:
    page = window.go_to(f"domain:{part}:{domain}")
    assert isinstance(page, DomainPage)
    page.refresh_now()
    return page


def test_questions_and_slots_come_from_the_instrument(window):
    doc = window.ctx.doc
    for part in doc.instrument.parts:
        for domain in part.domains:
            page = domain_page(window, part.id, domain.id)
            assert list(page.cards) == [q.id for q in domain.questions]
            for question in domain.questions:
                card = page.cards[question.id]
                assert list(card.editors) == [f"{question.id}@{c}" for c in question.columns]
                for editor in card.editors.values():
                    assert tuple(editor.buttons) == question.answers


def test_validation_only_hides_development_only_questions(window):
    window.ctx.doc.set_study_type("validation")
    page = domain_page(window, "main", "D4")
    assert {"4.5", "4.8", "4.9"}.isdisjoint(page.cards)
    assert all(list(c.editors) == [f"{q}@validation"] for q, c in page.cards.items())


def test_na_offered_only_where_the_instrument_allows_it(qtbot):
    doc = Assessment.new("probast-ai-2025")
    doc.set_study_type("development_evaluation")
    doc.set_performance_types(["apparent", "external"])
    window = open_window(qtbot, doc)
    seen_na = seen_without = 0
    for part in doc.instrument.parts:
        for domain in part.domains:
            page = domain_page(window, part.id, domain.id)
            for question in domain.questions:
                if question.id not in page.cards:
                    continue
                for editor in page.cards[question.id].editors.values():
                    assert ("NA" in editor.buttons) == ("NA" in question.answers)
                    seen_na += "NA" in editor.buttons
                    seen_without += "NA" not in editor.buttons
    assert seen_na and seen_without


def test_ai_evaluation_d4_is_answered_per_performance_type(qtbot):
    doc = Assessment.new("probast-ai-2025")
    doc.set_study_type("evaluation")
    doc.set_performance_types(["internal", "external"])
    window = open_window(qtbot, doc)
    page = domain_page(window, "evaluation", "D4")
    multi = [q for q in doc.instrument.part("evaluation").domain("D4").questions if q.perf_types]
    assert multi
    for question in multi:
        expected = [f"{question.id}@{p}" for p in ("internal", "external")
                    if p in question.perf_types]
        if expected:
            assert list(page.cards[question.id].editors) == expected
    # changing the performance types rebuilds the page
    doc.set_performance_types(["apparent"])
    page.refresh_now()
    for question in multi:
        keys = list(page.cards[question.id].editors) if question.id in page.cards else []
        assert all(k.endswith("@apparent") for k in keys)


def test_answers_update_the_suggested_judgement_live(qtbot, window):
    page = domain_page(window, "main", "D1")
    assert page.suggested_chip.text() == "Not yet"
    answer_all(qtbot, page, "Y")
    page.refresh_now()
    assert page.suggested_chip.property("level") == "low"
    key = next(iter(page.cards["1.2"].editors))
    click_answer(qtbot, page, key, "N")
    page.refresh_now()
    assert page.suggested_chip.property("level") == "high"
    assert "1.2" in page.judgement_warning.text() and page.needs_attention()
    assert not page.is_complete()
    # the summary page sees the same judgement
    summary = window.go_to("summary")
    summary.refresh_now()
    assert summary.table.item(0, 2).text() == "High"


def test_clicking_the_checked_answer_keeps_it_and_the_clear_button_clears(qtbot, window):
    page = domain_page(window, "main", "D2")
    key = next(iter(page.cards["2.1"].editors))
    bar = page.cards["2.1"].editors[key].bar
    assert not bar.clear_button.isEnabled()
    click_answer(qtbot, page, key, "PY")
    assert window.ctx.doc.answer(key).value == "PY"
    click_answer(qtbot, page, key, "PY")  # a second click (a double click) never clears
    assert window.ctx.doc.answer(key).value == "PY"
    assert bar.buttons["PY"].isChecked()
    qtbot.mouseClick(bar.clear_button, Qt.MouseButton.LeftButton)
    assert window.ctx.doc.answer(key).value is None
    assert not any(b.isChecked() for b in bar.buttons.values())
    click_answer(qtbot, page, key, "NI")
    click_answer(qtbot, page, key, "PN")
    assert window.ctx.doc.answer(key).value == "PN"
    assert [b for b, w in page.cards["2.1"].editors[key].buttons.items() if w.isChecked()] == ["PN"]


def test_final_judgement_departing_from_suggestion_needs_a_rationale(qtbot, window):
    page = domain_page(window, "main", "D3")
    answer_all(qtbot, page, "Y")
    qtbot.mouseClick(page.app_buttons["low"], Qt.MouseButton.LeftButton)
    page.refresh_now()
    assert page.is_complete()  # all Y/PY: the suggestion (low) is the final judgement
    qtbot.mouseClick(page.final_buttons["high"], Qt.MouseButton.LeftButton)
    page.refresh_now()
    assert window.ctx.doc.domain_judgement("main:D3").final == "high"
    assert "rationale" in page.judgement_warning.text()
    assert page.judgement_warning.isVisible()
    assert not page.is_complete() and page.needs_attention()
    page.domain_rationale.setFocus()
    qtbot.keyClicks(page.domain_rationale, "Outcome adjudicators knew the predictors.")
    page.domain_rationale.commit()
    page.refresh_now()
    assert window.ctx.doc.domain_judgement("main:D3").rationale.startswith("Outcome")
    assert not page.judgement_warning.isVisible()
    assert page.is_complete() and page.level() == "high"


def test_rationale_and_sources_are_stored_per_slot(qtbot, window):
    page = domain_page(window, "main", "D1")
    key = "1.1@validation"
    editor = page.cards["1.1"].editors[key]
    qtbot.keyClicks(editor.rationale, "Prospective cohort")
    # a multi-line rationale commits after a pause in typing (or on focus-out)
    qtbot.waitUntil(lambda: window.ctx.doc.answer(key).rationale == "Prospective cohort",
                    timeout=5000)
    qtbot.keyClicks(editor.sources, "Smith 2021, p. 4; Supplement, table S2")
    editor.sources.commit()  # what focus-out does
    answer = window.ctx.doc.answer(key)
    assert answer.rationale == "Prospective cohort"
    assert [(s.document, s.page) for s in answer.sources] == [("Smith 2021", "p. 4"),
                                                              ("Supplement", "table S2")]
    assert parse_sources("Report only") [0].page == ""


def test_undo_and_redo_reach_the_page(qtbot, window):
    page = domain_page(window, "main", "D1")
    key = "1.1@development"
    click_answer(qtbot, page, key, "Y")
    click_answer(qtbot, page, key, "N")
    window.act_undo.trigger()
    page.refresh_now()
    assert page.cards["1.1"].editors[key].buttons["Y"].isChecked()
    window.act_undo.trigger()
    page.refresh_now()
    assert not any(b.isChecked() for b in page.cards["1.1"].editors[key].buttons.values())
    window.act_redo.trigger()
    window.act_redo.trigger()
    page.refresh_now()
    assert page.cards["1.1"].editors[key].buttons["N"].isChecked()
    assert window.ctx.doc.answer(key).value == "N"


def test_edit_undo_while_typing_takes_back_the_typing_not_an_older_answer(qtbot, window):
    page = domain_page(window, "main", "D1")
    key = "1.1@development"
    editor = page.cards["1.1"].editors[key]
    click_answer(qtbot, page, key, "N")
    editor.rationale.setFocus()
    qtbot.keyClicks(editor.rationale, "typed, not yet committed")
    window.act_undo.trigger()  # Edit > Undo while the typing pause is still running
    page.refresh_now()
    assert window.ctx.doc.answer(key).value == "N"  # the older answer is kept
    assert window.ctx.doc.answer(key).rationale == ""
    qtbot.wait(1500)  # longer than the typing pause: nothing is committed behind the undo
    assert window.ctx.doc.answer(key).rationale == ""
    assert editor.rationale.toPlainText() == ""
    # Edit > Redo in the field (its own history first, then the document's): the focus is put
    # back, as the reviewer's still is (offscreen, the idle wait may lose the window's focus).
    window.activateWindow()
    editor.rationale.setFocus()
    qtbot.waitUntil(lambda: editor.rationale.hasFocus())
    window.act_redo.trigger()
    page.refresh_now()
    assert window.ctx.doc.answer(key).rationale == "typed, not yet committed"
    assert editor.rationale.toPlainText() == "typed, not yet committed"


def test_guidance_is_collapsible(qtbot, window):
    page = domain_page(window, "main", "D2")
    card = page.cards["2.1"]
    assert not card.guidance.isVisibleTo(page)
    qtbot.keyClick(card.guidance_toggle, Qt.Key.Key_Space)
    assert card.guidance.isVisibleTo(page) and card.guidance.text()


def focus_chain(root: QWidget) -> set[QWidget]:
    seen: list[QWidget] = []
    widget = root.nextInFocusChain()
    while widget is not root and widget not in seen:
        seen.append(widget)
        widget = widget.nextInFocusChain()
    return {w for w in seen if w.focusPolicy() & Qt.FocusPolicy.TabFocus and w.isVisibleTo(root)}


def test_every_control_is_keyboard_reachable_and_settable(qtbot, window):
    page = domain_page(window, "main", "D1")
    chain = focus_chain(window)
    controls: list[QWidget] = [page.domain_rationale, page.final_follow, page.app_rationale]
    for card in page.cards.values():
        controls.append(card.guidance_toggle)
        for editor in card.editors.values():
            controls += [editor.bar, editor.rationale, editor.sources]
    controls += [*page.final_buttons.values(), *page.app_buttons.values()]
    missing = [w.accessibleName() or w.objectName() for w in controls if w not in chain]
    assert not missing
    # set an answer and the final judgement with the keyboard only
    bar = page.cards["1.1"].editors["1.1@development"].bar
    qtbot.keyClick(bar, Qt.Key.Key_Y, Qt.KeyboardModifier.ShiftModifier)
    assert window.ctx.doc.answer("1.1@development").value == "PY"
    qtbot.keyClick(page.final_buttons["unclear"], Qt.Key.Key_Space)
    assert window.ctx.doc.domain_judgement("main:D1").final == "unclear"


def test_step_icons_follow_completion(qtbot, window):
    page = domain_page(window, "main", "D2")
    answer_all(qtbot, page, "PY")
    qtbot.mouseClick(page.app_buttons["unclear"], Qt.MouseButton.LeftButton)
    window.refresh_steps()
    items = [window.step_list.item(r) for r in range(window.step_list.count())]
    item = next(i for i in items if i.data(Qt.ItemDataRole.UserRole + 1) == "domain:main:D2")
    assert item.toolTip() == "Complete — judgement: low"


def test_arrow_keys_move_the_final_judgement(qtbot, window):
    page = domain_page(window, "main", "D1")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    low = page.final_buttons["low"]
    low.setFocus()
    qtbot.waitUntil(low.hasFocus, timeout=3000)
    qtbot.keyClick(low, Qt.Key.Key_Space)
    assert window.ctx.doc.domain_judgement("main:D1").final == "low"
    qtbot.keyClick(low, Qt.Key.Key_Right)
    assert window.ctx.doc.domain_judgement("main:D1").final == "unclear"
    assert page.final_buttons["unclear"].hasFocus()


def test_narrow_window_puts_texts_under_the_answer_buttons(qtbot, window):
    page = domain_page(window, "main", "D1")
    editor = page.cards["1.1"].editors["1.1@development"]

    def rationale_column() -> int:
        grid = editor._grid
        return grid.getItemPosition(grid.indexOf(editor.rationale))[1]

    window.resize(1400, 800)
    qtbot.waitUntil(lambda: rationale_column() == 2, timeout=3000)
    window.resize(900, 700)
    qtbot.waitUntil(lambda: rationale_column() == 1, timeout=3000)
