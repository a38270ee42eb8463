"""The datasheet's UBR characteristics and ML-friendly checklist editors (pytest-qt)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from assessment.document import Assessment
from gui.pages.ubr_editors import ChecklistEditor, UbrEditor
from tests.gui.helpers import open_window


def _choose(combo, data) -> None:
    index = combo.findData(data)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_ubr_counts_and_not_collected_are_stored_and_undone(qtbot):
    window = open_window(qtbot)
    page = window.go_to("datasheet")
    editor = page.editors["ubr_characteristics"]
    assert isinstance(editor, UbrEditor)
    _choose(editor.status["income"], False)
    assert window.ctx.doc.datasheet["ubr_characteristics"] == {
        "income": {"collected": False, "known_n": None, "ubr_n": None}}
    known = editor.known["age"]
    known.setFocus()
    qtbot.keyClicks(known, "1200")
    qtbot.keyClick(known, Qt.Key.Key_Return)
    ubr = editor.ubr["age"]
    qtbot.keyClicks(ubr, "300")
    qtbot.keyClick(ubr, Qt.Key.Key_Return)
    stored = window.ctx.doc.datasheet["ubr_characteristics"]
    assert stored["age"] == {"collected": True, "known_n": 1200, "ubr_n": 300}
    page.refresh_now()
    assert editor.status["age"].currentData() is True
    assert not editor.known["income"].isEnabled()
    # letters are not accepted by the count boxes
    qtbot.keyClicks(editor.known["education"], "abc")
    assert editor.known["education"].text() == ""
    window.ctx.doc.undo()
    page.refresh_now()
    assert window.ctx.doc.datasheet["ubr_characteristics"]["age"]["ubr_n"] is None


def test_more_under_represented_than_recorded_is_refused(qtbot, dialogs):
    window = open_window(qtbot)
    editor = window.go_to("datasheet").editors["ubr_characteristics"]
    editor.known["disability"].setText("10")
    editor.ubr["disability"].setText("20")
    editor._commit("disability")
    assert "more than the 10" in dialogs.messages[-1]
    assert "disability" not in (window.ctx.doc.datasheet.get("ubr_characteristics") or {})


def test_more_recorded_than_the_training_cohort_is_refused(qtbot, dialogs):
    """A count above training_total_n ("3 of 1,000,000,000" in a cohort of 2,000) is refused
    in one sentence naming the JSON path, and nothing is stored."""
    window = open_window(qtbot)
    window.ctx.doc.set_field("datasheet", "training_total_n", 2000)
    editor = window.go_to("datasheet").editors["ubr_characteristics"]
    editor.known["disability"].setText("1000000000")
    editor.ubr["disability"].setText("3")
    editor._commit("disability")
    assert "disability.known_n: 1,000,000,000 participants is more than the training " \
           "cohort's 2,000" in dialogs.messages[-1]
    assert "disability" not in (window.ctx.doc.datasheet.get("ubr_characteristics") or {})


def test_checklist_answers_and_a_second_document(qtbot):
    window = open_window(qtbot)
    page = window.go_to("datasheet")
    editor = page.editors["ml_friendly_checklist"]
    assert isinstance(editor, ChecklistEditor)
    _choose(editor.combos["provenance"], "partly")
    _choose(editor.combos["longitudinal"], "no")
    assert window.ctx.doc.datasheet["ml_friendly_checklist"] == {
        "provenance": "partly", "longitudinal": "no"}
    _choose(editor.combos["longitudinal"], None)
    assert window.ctx.doc.datasheet["ml_friendly_checklist"] == {"provenance": "partly"}
    # a second document shows its own answers, not the first one's
    other = Assessment.new()
    other.set_field("datasheet", "ml_friendly_checklist", {"access": "yes"})
    other.set_field("datasheet", "ubr_characteristics", {"geography": {"collected": False}})
    window.ctx.set_document(other)
    page = window.go_to("datasheet")
    page.refresh_now()
    editor = page.editors["ml_friendly_checklist"]
    assert editor.combos["access"].currentData() == "yes"
    assert editor.combos["provenance"].currentData() is None
    assert page.editors["ubr_characteristics"].status["geography"].currentData() is False


def test_not_collected_is_a_finding_on_the_summary_page(qtbot):
    window = open_window(qtbot)
    editor = window.go_to("datasheet").editors["ubr_characteristics"]
    _choose(editor.status["disability"], False)
    summary = window.go_to("summary")
    summary.refresh_now()
    assert "not collected: Disability" in summary.prompts.text()
    _choose(window.go_to("datasheet").editors["ubr_characteristics"].status["disability"], True)
    summary = window.go_to("summary")
    summary.refresh_now()
    assert "not collected" not in summary.prompts.text()
