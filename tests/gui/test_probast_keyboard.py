"""PROBAST at speed (issue 11): one tab stop per answer set, letter keys, arrows, Space never
clears, next unanswered across domains, copy Development answers to Validation, undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from assessment.document import Assessment, SourceRef
from gui.dialogs import HelpDialog
from gui.pages.answer_bar import AnswerBar
from gui.pages.probast import DomainPage
from tests.gui.helpers import click_answer, open_window

SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier

# The keyboard scheme, written out here independently of gui.pages.answer_bar.ANSWER_KEYS.
EXPECTED_KEYS = [
    (Qt.Key.Key_Y, False, "Y"),
    (Qt.Key.Key_Y, True, "PY"),
    (Qt.Key.Key_N, False, "N"),
    (Qt.Key.Key_N, True, "PN"),
    (Qt.Key.Key_I, False, "NI"),
]


@pytest.fixture
def window(qtbot):
    doc = Assessment.new("probast-2019")
    doc.set_study_type("development_validation")
    win = open_window(qtbot, doc)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=3000)
    return win


def domain_page(window, part: str, domain: str) -> DomainPage:
    page = window.go_to(f"domain:{part}:{domain}")
    assert isinstance(page, DomainPage)
    page.refresh_now()
    return page


def bar_of(page: DomainPage, key: str) -> AnswerBar:
    return page.cards[key.split("@", 1)[0]].editors[key].bar


def focus(qtbot, widget) -> None:
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=3000)


def press(qtbot, widget, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(widget, key, modifier)


def status_messages(window) -> list[str]:
    seen: list[str] = []
    window.ctx.status_message.connect(lambda text, _ms: seen.append(text))
    return seen


def test_each_slot_is_three_tab_stops_and_tab_walks_them_in_order(qtbot, window):
    page = domain_page(window, "main", "D1")
    editors = [e for card in page.cards.values() for e in card.editors.values()]
    assert len(editors) > 2
    for editor in editors:
        stops = [w for w in (editor.bar, *editor.buttons.values(), editor.bar.clear_button,
                             editor.rationale, editor.sources)
                 if w.focusPolicy() & Qt.FocusPolicy.TabFocus]
        assert stops == [editor.bar, editor.rationale, editor.sources]
    first, second = editors[0], editors[1]
    focus(qtbot, first.bar)
    for expected in (first.rationale, first.sources, second.bar):
        press(qtbot, QApplication.focusWidget(), Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is expected


@pytest.mark.parametrize(("key", "shift", "code"), EXPECTED_KEYS)
def test_each_answer_key(qtbot, window, key, shift, code):
    page = domain_page(window, "main", "D2")
    slot = "2.1@validation"
    bar = bar_of(page, slot)
    focus(qtbot, bar)
    press(qtbot, bar, key, SHIFT if shift else Qt.KeyboardModifier.NoModifier)
    assert window.ctx.doc.answer(slot).value == code
    assert [v for v, b in bar.buttons.items() if b.isChecked()] == [code]
    assert bar.hasFocus()  # the keyboard stays on the slot: Tab goes on to its rationale


def test_na_key_is_refused_with_a_sentence_where_na_is_not_offered(qtbot, window):
    page = domain_page(window, "main", "D1")
    slot = "1.1@development"
    bar = bar_of(page, slot)
    assert "NA" not in bar.buttons
    seen = status_messages(window)
    focus(qtbot, bar)
    press(qtbot, bar, Qt.Key.Key_Y)
    press(qtbot, bar, Qt.Key.Key_A)
    assert window.ctx.doc.answer(slot).value == "Y"
    assert len(seen) == 1 and seen[0].startswith("NA (Not applicable) is not an answer")
    assert seen[0].endswith(".") and "\n" not in seen[0]
    press(qtbot, bar, Qt.Key.Key_I, SHIFT)  # not a key of the scheme: said, nothing changes
    assert window.ctx.doc.answer(slot).value == "Y"
    assert "Shift+I is not an answer key" in seen[-1]


def test_na_key_answers_where_the_instrument_offers_it(qtbot):
    doc = Assessment.new("probast-ai-2025")
    doc.set_study_type("development")
    window = open_window(qtbot, doc)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    page = window.go_to("domain:development:D4")
    page.refresh_now()
    bars = {b.slot_key: b for b in page.bars()}
    with_na = [k for k, b in bars.items() if "NA" in b.buttons]
    without = [k for k, b in bars.items() if "NA" not in b.buttons]
    assert with_na and without
    focus(qtbot, bars[with_na[0]])
    press(qtbot, bars[with_na[0]], Qt.Key.Key_A)
    assert doc.answer(with_na[0]).value == "NA"
    focus(qtbot, bars[without[0]])
    press(qtbot, bars[without[0]], Qt.Key.Key_A)
    assert doc.answer(without[0]).value is None


def test_arrows_move_the_cursor_and_space_chooses_without_ever_clearing(qtbot, window):
    page = domain_page(window, "main", "D1")
    slot = "1.1@development"
    bar = bar_of(page, slot)
    focus(qtbot, bar)
    assert bar.position == 0
    for _ in range(2):
        press(qtbot, bar, Qt.Key.Key_Right)
    assert window.ctx.doc.answer(slot).value is None  # moving does not answer
    assert [b.property("keyed") for b in bar.buttons.values()] == [
        i == 2 for i in range(len(bar.buttons))
    ]
    press(qtbot, bar, Qt.Key.Key_Space)
    chosen = list(bar.buttons)[2]
    assert window.ctx.doc.answer(slot).value == chosen
    for key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Space):
        press(qtbot, bar, key)  # on the chosen answer: kept
        assert window.ctx.doc.answer(slot).value == chosen
    click_answer(qtbot, page, slot, chosen)
    assert window.ctx.doc.answer(slot).value == chosen
    for _ in range(10):
        press(qtbot, bar, Qt.Key.Key_Left)  # stops at the first answer
    assert bar.position == 0
    press(qtbot, bar, Qt.Key.Key_End)
    press(qtbot, bar, Qt.Key.Key_Enter)
    assert window.ctx.doc.answer(slot).value == list(bar.buttons)[-1]
    press(qtbot, bar, Qt.Key.Key_Delete)  # the one deliberate way to clear by keyboard
    assert window.ctx.doc.answer(slot).value is None


def test_up_and_down_move_between_the_slots_of_the_page(qtbot, window):
    page = domain_page(window, "main", "D1")
    bars = page.bars()
    focus(qtbot, bars[0])
    press(qtbot, bars[0], Qt.Key.Key_Down)
    assert bars[1].hasFocus()
    press(qtbot, bars[1], Qt.Key.Key_Down)
    assert bars[2].hasFocus()
    press(qtbot, bars[2], Qt.Key.Key_Up)
    assert bars[1].hasFocus()
    focus(qtbot, bars[0])
    press(qtbot, bars[0], Qt.Key.Key_Up)  # the first slot stays
    assert bars[0].hasFocus()
    assert all(window.ctx.doc.answer(b.slot_key).value is None for b in bars)


def test_next_unanswered_skips_answers_and_jumps_across_domains(qtbot, window):
    doc = window.ctx.doc
    d1 = domain_page(window, "main", "D1")
    bars = d1.bars()
    for bar in bars:  # D1 fully answered, except its second slot
        if bar is not bars[1]:
            doc.set_answer(bar.slot_key, "Y")
    d1.refresh_now()
    focus(qtbot, bars[0])
    press(qtbot, bars[0], Qt.Key.Key_J, CTRL)
    assert bars[1].hasFocus()
    doc.set_answer(bars[1].slot_key, "PY")
    press(qtbot, bars[1], Qt.Key.Key_J, CTRL)
    assert window.current_key() == "domain:main:D2"
    d2 = window.page("domain:main:D2")
    assert isinstance(d2, DomainPage)
    target = d2.bars()[0]
    qtbot.waitUntil(target.hasFocus, timeout=3000)
    assert target.slot_key == "2.1@development"


def test_next_unanswered_says_so_when_everything_is_answered(qtbot, window):
    from assessment.judgement import applicable_slots

    doc = window.ctx.doc
    for slot in applicable_slots(doc.instrument, doc.study_type, doc.performance_types):
        doc.set_answer(slot.key, "NI")
    page = domain_page(window, "main", "D3")
    seen = status_messages(window)
    page.act_next_unanswered.trigger()
    assert seen == ["Every applicable question is answered."]
    assert window.current_key() == "domain:main:D3"


def test_copy_development_to_validation_fills_empty_slots_and_asks_before_replacing(
    qtbot, window, dialogs
):
    doc = window.ctx.doc
    page = domain_page(window, "main", "D1")
    assert page.act_copy_dev.isEnabled()
    doc.set_answer("1.1@development", "Y")
    doc.set_answer_rationale("1.1@development", "Registry cohort")
    doc.set_answer_sources("1.1@development", [SourceRef("Smith 2020", "p. 3")])
    doc.set_answer("1.2@development", "PN")
    doc.set_answer("1.2@validation", "N")  # differs: asked about
    doc.set_answer_rationale("1.2@validation", "own words")
    dialogs.reply("ask_yes_no", False)
    focus(qtbot, bar_of(page, "1.1@development"))
    press(qtbot, bar_of(page, "1.1@development"), Qt.Key.Key_D, CTRL | SHIFT)
    assert dialogs.asked("ask_yes_no") == 1
    assert doc.answer("1.1@validation").value == "Y"
    assert doc.answer("1.1@validation").rationale == "Registry cohort"
    assert [(s.document, s.page) for s in doc.answer("1.1@validation").sources] == [
        ("Smith 2020", "p. 3")
    ]
    assert doc.answer("1.2@validation").value == "N"  # kept: the reviewer said no
    page.refresh_now()
    assert bar_of(page, "1.1@validation").buttons["Y"].isChecked()
    dialogs.reply("ask_yes_no", True)
    page.act_copy_dev.trigger()
    assert doc.answer("1.2@validation").value == "PN"
    assert doc.answer("1.2@validation").rationale == "own words"  # never overwritten
    page.act_copy_dev.trigger()  # nothing left to copy: no question
    assert dialogs.asked("ask_yes_no") == 2
    # questions without a Development answer stay empty
    assert doc.answer("1.3@validation").value is None


def test_copy_is_offered_only_where_there_are_both_columns(qtbot):
    doc = Assessment.new("probast-2019")
    doc.set_study_type("validation")
    window = open_window(qtbot, doc)
    page = window.go_to("domain:main:D1")
    assert not page.act_copy_dev.isEnabled()
    doc.set_answer("1.1@validation", "Y")
    page.act_copy_dev.trigger()  # disabled: does nothing
    assert doc.answer("1.1@validation").value == "Y"


def test_undo_after_key_answers(qtbot, window):
    page = domain_page(window, "main", "D1")
    slot = "1.1@development"
    bar = bar_of(page, slot)
    focus(qtbot, bar)
    press(qtbot, bar, Qt.Key.Key_Y)
    press(qtbot, bar, Qt.Key.Key_N, SHIFT)
    assert window.ctx.doc.answer(slot).value == "PN"
    window.act_undo.trigger()
    page.refresh_now()
    assert window.ctx.doc.answer(slot).value == "Y"
    assert bar.buttons["Y"].isChecked() and not bar.buttons["PN"].isChecked()
    window.act_undo.trigger()
    page.refresh_now()
    assert window.ctx.doc.answer(slot).value is None
    assert not any(b.isChecked() for b in bar.buttons.values())
    window.act_redo.trigger()
    assert window.ctx.doc.answer(slot).value == "Y"


def test_key_answers_on_a_second_document_reach_that_document(qtbot, window):
    first = window.ctx.doc
    second = Assessment.new("probast-2019")
    second.set_study_type("validation")
    window.set_document(second, None)
    page = domain_page(window, "main", "D1")
    bar = bar_of(page, "1.1@validation")
    focus(qtbot, bar)
    press(qtbot, bar, Qt.Key.Key_N)
    assert second.answer("1.1@validation").value == "N"
    assert first.answer("1.1@validation").value is None


def test_help_lists_the_answer_keys(qtbot, window):
    dialog = HelpDialog(window)
    qtbot.addWidget(dialog)
    text = dialog.text()
    for line in ("Shift+Y PY: Probably yes", "N N: No", "Shift+N PN: Probably no",
                 "I NI: No information", "A NA: Not applicable", "Ctrl+J", "Ctrl+Shift+D",
                 "Delete"):
        assert line in " ".join(text.split()), line
