"""Edit › Undo names the change, shows its page, and follows a text field's own history."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from assessment.document import Assessment
from tests.gui.helpers import click_answer, open_window


def _doc() -> Assessment:
    doc = Assessment.new("probast-2019")
    doc.set_study_type("validation")
    doc.dirty = False
    return doc


def test_menu_names_the_change_and_undo_goes_to_its_page(qtbot):
    window = open_window(qtbot, _doc())
    page = window.go_to("domain:main:D2")
    click_answer(qtbot, page, "2.3@validation", "PY")
    assert window.act_undo.text() == "&Undo answer 2.3 (Validation)"
    assert window.act_undo.isEnabled() and not window.act_redo.isEnabled()
    window.go_to("model_card")
    window.act_undo.trigger()
    assert window.current_key() == "domain:main:D2"
    assert window.ctx.doc.answer("2.3@validation").value is None
    assert window.act_redo.text() == "&Redo answer 2.3 (Validation)"
    assert window.act_undo.text() == "&Undo study type"
    window.go_to("summary")
    window.act_redo.trigger()
    assert window.current_key() == "domain:main:D2"
    assert window.ctx.doc.answer("2.3@validation").value == "PY"
    window.ctx.doc.set_field("model_card", "model_name", "ReadmitRisk")
    assert window.act_undo.text() == "&Undo model card: Model name"
    window.act_undo.trigger()
    assert window.current_key() == "model_card"


def test_a_second_document_keeps_no_undo_label(qtbot):
    window = open_window(qtbot, _doc())
    window.ctx.doc.set_answer("1.1@validation", "Y")
    assert "1.1" in window.act_undo.text()
    window.set_document(Assessment.new("probast-2019"), None)
    assert window.act_undo.text() == "&Undo" and not window.act_undo.isEnabled()
    assert window.act_redo.text() == "&Redo" and not window.act_redo.isEnabled()


def _focus(qtbot, window, widget) -> None:
    window.activateWindow()
    widget.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget)


def test_ctrl_z_in_a_text_field_undoes_typing_first_then_the_document(qtbot):
    window = open_window(qtbot, _doc())
    page = window.go_to("domain:main:D1")
    click_answer(qtbot, page, "1.1@validation", "Y")  # the document change to fall back on
    editor = page.cards["1.1"].editors["1.1@validation"].rationale
    _focus(qtbot, window, editor)
    qtbot.keyClicks(editor, "abc")
    assert editor.toPlainText() == "abc"
    assert window.act_undo.text() == "&Undo typing" and window.act_undo.isEnabled()
    qtbot.keyClick(editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.toPlainText() == ""  # the field's own history first
    assert window.ctx.doc.answer("1.1@validation").value == "Y"
    assert not editor.document().isUndoAvailable()
    assert window.act_undo.text() == "&Undo answer 1.1 (Validation)"
    qtbot.keyClick(editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.ctx.doc.answer("1.1@validation").value is None  # then the document's
    assert window.current_key() == "domain:main:D1"


def test_menu_undo_with_document_change_first_then_typing(qtbot):
    """The other order: the document is undone through the menu while a field has focus and
    typing history; the field's history is taken back first, then the document change."""
    window = open_window(qtbot, _doc())
    page = window.go_to("domain:main:D1")
    editor = page.cards["1.1"].editors["1.1@validation"].rationale
    _focus(qtbot, window, editor)
    qtbot.keyClicks(editor, "xy")
    window.act_undo.trigger()
    assert editor.toPlainText() == ""
    assert window.ctx.doc.answer("1.1@validation").rationale == ""
    window.ctx.doc.set_answer("1.2@validation", "N")
    window.act_undo.trigger()  # the field has nothing left: the document change goes
    assert window.ctx.doc.answer("1.2@validation").value is None
    window.act_redo.trigger()  # redo likewise: the field's own redo history first
    assert editor.toPlainText() == "xy"
    assert window.ctx.doc.answer("1.2@validation").value is None
    editor.clearFocus()
    editor.commit()
    window.act_undo.trigger()  # the committed typing, then the redo of the answer is gone
    assert window.ctx.doc.answer("1.1@validation").rationale == ""
    assert window.act_redo.text() == "&Redo rationale of 1.1 (Validation)"
    window.act_redo.trigger()
    assert window.ctx.doc.answer("1.1@validation").rationale == "xy"


def test_ctrl_z_in_a_line_edit_falls_back_to_the_document_after_its_own_history(qtbot):
    window = open_window(qtbot, _doc())
    window.ctx.doc.set_answer("3.1@validation", "PN")  # the document change to fall back on
    page = window.go_to("model_card")
    name = page.editors["model_name"]
    _focus(qtbot, window, name)
    qtbot.keyClicks(name, "Abc")
    for _ in range(10):  # the field's own history, however it groups the typing
        if not name.isUndoAvailable():
            break
        qtbot.keyClick(name, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert window.ctx.doc.answer("3.1@validation").value == "PN"
    assert name.text() == "" and window.current_key() == "model_card"
    assert window.act_undo.text() == "&Undo answer 3.1 (Validation)"
    qtbot.keyClick(name, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.ctx.doc.answer("3.1@validation").value is None
    assert window.current_key() == "domain:main:D3"  # the page of the change
    assert window.act_redo.text() == "&Redo answer 3.1 (Validation)"
