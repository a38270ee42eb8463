"""Model card and datasheet pages generated from the form instruments; summary page."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from assessment.document import Assessment
from assessment.instruments import load_form
from gui.pages.forms import DatasheetPage, DemographicsTable, ModelCardPage
from gui.pages.ubr_editors import ChecklistEditor, UbrEditor
from gui.widgets import CommitLineEdit, CommitTextEdit
from tests.gui.helpers import answer_all, open_window


def test_every_form_field_has_an_editor_of_its_type(qtbot):
    window = open_window(qtbot)
    for key, page_class, form_id in (("model_card", ModelCardPage, "model-card"),
                                     ("datasheet", DatasheetPage, "datasheet")):
        page = window.go_to(key)
        assert isinstance(page, page_class)
        expected = {"text": CommitLineEdit, "date": CommitLineEdit, "number": CommitLineEdit,
                    "multiline": CommitTextEdit, "choice": QComboBox, "bool": QComboBox,
                    "demographics": DemographicsTable, "ubr": UbrEditor,
                    "checklist": ChecklistEditor}
        for _, field in load_form(form_id).iter_fields():
            editor = page.editors[field.id]
            if field.type in expected:
                assert isinstance(editor, expected[field.type]), field.id
            else:
                assert field.type == "multichoice" and len(editor.boxes) == len(field.options)


def test_model_card_edits_and_required_fields(qtbot):
    window = open_window(qtbot)
    page = window.go_to("model_card")
    assert not page.is_complete()
    assert "Model name" in " ".join(page.missing_required())
    name = page.editors["model_name"]
    qtbot.keyClicks(name, "ReadmitRisk")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert window.ctx.doc.model_card["model_name"] == "ReadmitRisk"
    assert window.windowTitle().startswith("ReadmitRisk")
    # the review page shows the same field
    review = window.go_to("review")
    review.refresh_now()
    assert review.model_edits["model_name"].text() == "ReadmitRisk"
    combo = page.editors["fda_regulatory_status"]
    window.go_to("model_card")
    combo.setCurrentIndex(2)
    combo.activated.emit(2)
    assert window.ctx.doc.model_card["fda_regulatory_status"] == combo.itemText(2)


def test_bad_date_is_refused_with_a_message(qtbot, dialogs):
    window = open_window(qtbot)
    page = window.go_to("model_card")
    page._commit_date(load_form("model-card").field("model_date"), "2024-13-45")
    assert "YYYY-MM-DD" in dialogs.messages[-1]
    assert "model_date" not in window.ctx.doc.model_card
    page._commit_date(load_form("model-card").field("model_date"), "2024-03-05")
    assert window.ctx.doc.model_card["model_date"] == "2024-03-05"


def test_numbers_are_stored_as_numbers(qtbot):
    window = open_window(qtbot)
    page = window.go_to("datasheet")
    edit = page.editors["training_total_n"]
    qtbot.keyClicks(edit, "71518")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.ctx.doc.datasheet["training_total_n"] == 71518


def test_demographics_table_is_editable_and_stored_as_counts(qtbot, dialogs):
    window = open_window(qtbot)
    page = window.go_to("datasheet")
    table: DemographicsTable = page.editors["training_demographics"]
    field = load_form("datasheet").field("training_demographics")
    assert table.rowCount() == sum(len(a.groups) for a in field.attributes)
    rows = table.rows()
    female, male = rows.index(("sex", "Female")), rows.index(("sex", "Male"))
    table.item(female, 2).setText("600")
    table.item(male, 2).setText("400")
    assert window.ctx.doc.datasheet["training_demographics"] == {"sex": {"Female": 600,
                                                                         "Male": 400}}
    page.refresh_now()
    assert table.item(female, 3).text() == "60.0 %"
    table.item(male, 2).setText("four hundred")
    assert "whole number" in dialogs.messages[-1]
    page.refresh_now()
    assert table.item(male, 2).text() == "400"
    table.item(male, 2).setText("")
    assert window.ctx.doc.datasheet["training_demographics"] == {"sex": {"Female": 600}}
    window.act_undo.trigger()
    assert window.ctx.doc.datasheet["training_demographics"]["sex"]["Male"] == 400


def test_summary_shows_traffic_lights_overall_and_notes(qtbot):
    doc = Assessment.new("probast-2019")
    doc.set_study_type("validation")
    window = open_window(qtbot, doc)
    for domain in ("D1", "D2", "D3", "D4"):
        page = window.go_to(f"domain:main:{domain}")
        answer_all(qtbot, page, "Y")
        if domain != "D4":
            qtbot.mouseClick(page.app_buttons["low"], Qt.MouseButton.LeftButton)
    summary = window.go_to("summary")
    summary.refresh_now()
    assert summary.table.rowCount() == 4
    assert [summary.table.item(r, 3).text() for r in range(4)] == ["Low"] * 4
    assert summary.overall_chips["rob"].text() == "Low"
    assert summary.overall_chips["applicability"].text() == "Low"
    assert summary.is_complete()
    # one N makes the overall high at once
    d2 = window.go_to("domain:main:D2")
    qtbot.mouseClick(d2.cards["2.1"].editors["2.1@validation"].buttons["N"],
                     Qt.MouseButton.LeftButton)
    window.go_to("summary")
    summary.refresh_now()
    assert summary.overall_chips["rob"].text() == "High"
    assert summary.table.item(1, 5).text() == "Needs your decision"
    assert not summary.is_complete() and summary.open_items
    summary.notes.setPlainText("Checked against the protocol.")
    summary.notes.commit()
    assert window.ctx.doc.notes == "Checked against the protocol."
    # activating a row opens that domain
    summary._open_row(2, 0)
    assert window.current_key() == "domain:main:D3"


def test_demographics_groups_can_be_added_with_the_data_names(qtbot, dialogs):
    window = open_window(qtbot)
    page = window.go_to("datasheet")
    table: DemographicsTable = page.editors["training_demographics"]
    dialogs.reply("ask_item", "Age band")
    dialogs.reply("ask_text", "[20-30)")
    table.add_group()
    row = table.rows().index(("age_band", "[20-30)"))
    assert table.currentRow() == row and table.currentColumn() == 2
    table.item(row, 2).setText("1190")
    assert window.ctx.doc.datasheet["training_demographics"] == {"age_band": {"[20-30)": 1190}}
