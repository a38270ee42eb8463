"""The reference population & group-label map page (pytest-qt, offscreen)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QTableWidgetItem

from assessment.document import Assessment
from assessment.evaluation.engine import evaluate
from assessment.evaluation.mapping import ColumnMapping, prepare_input
from assessment.evaluation.spec import EvaluationSpec
from assessment.populations import load_population
from gui.population.page import PopulationPage
from gui.population.tables import UNMAPPED
from tests.gui.helpers import open_window


def _evaluated_doc() -> Assessment:
    """COMPAS-style labels evaluated against a datasheet in OMB categories."""
    import pandas as pd

    rng = np.random.default_rng(5)
    n = 300
    race = rng.choice(["Caucasian", "African-American", "Hispanic", "Asian"], n)
    y = (rng.random(n) < 0.3).astype(int)
    frame = pd.DataFrame({"y": y, "p": rng.random(n).round(3), "race": race})
    doc = Assessment.new()
    training = {"race": {"White": 500, "Black or African American": 400, "Asian": 100}}
    doc.set_field("datasheet", "training_demographics", training)
    mapping = ColumnMapping(label="y", score="p", threshold=0.5, attributes=["race"])
    spec = EvaluationSpec(bootstrap=0, training_demographics=training)
    result = evaluate(prepare_input(frame, mapping), spec)
    doc.set_evaluation({"mapping": mapping.to_json(), "spec": spec.to_json()}, result.to_json())
    return doc


def test_bundled_census_table_with_its_citation(qtbot):
    window = open_window(qtbot)
    page = window.go_to("population")
    assert isinstance(page, PopulationPage)
    assert "No reference population" in page.source_note.text()
    page.bundled.setCurrentIndex(page.bundled.findData("us-census-2020"))
    page.use_bundled.click()
    page.refresh_now()
    doc = window.ctx.doc
    census = load_population("us-census-2020")
    assert doc.reference_population == census.shares()
    assert doc.reference_population_source["year"] == 2020
    assert "Table P1" in page.source_note.text() and "(2020)" in page.source_note.text()
    assert page.table.rowCount() == sum(len(g) for g in census.counts.values())
    texts = {(page.table.item(r, 0).text(), page.table.item(r, 1).text()):
             page.table.item(r, 2).text() for r in range(page.table.rowCount())}
    assert texts["race", "White"] == f"{100 * census.shares()['race']['White']:.2f}"
    assert "100.0 %" in page.totals_note.text()


def test_editing_a_share_marks_the_source_edited_and_bad_input_is_refused(qtbot, dialogs):
    window = open_window(qtbot)
    page = window.go_to("population")
    page.use_bundled.click()
    page.refresh_now()
    row = next(r for r in range(page.table.rowCount())
               if page.table.item(r, 1).text() == "Male")
    page.table.item(row, 2).setText("60")
    doc = window.ctx.doc
    assert doc.reference_population["sex"]["Male"] == pytest.approx(0.6)
    assert doc.reference_population_source["edited"] is True
    page.refresh_now()
    assert "must add up to 100 %" in page.totals_note.text()
    assert "Edited by the reviewer" in page.source_note.text()
    before = doc.reference_population
    page.table.item(row, 2).setText("lots")
    assert "not a share" in dialogs.messages[-1]
    assert doc.reference_population == before
    page.table.item(row, 2).setText("150")
    assert "between 0 and 100" in dialogs.messages[-1]


def test_add_and_remove_rows_and_clear(qtbot):
    window = open_window(qtbot)
    page = window.go_to("population")
    page.table.add_row()
    row = page.table.rowCount() - 1
    for col, text in enumerate(("sex", "Female", "60")):
        page.table.setItem(row, col, QTableWidgetItem(text))
    assert window.ctx.doc.reference_population == {"sex": {"Female": pytest.approx(0.6)}}
    page.table.selectRow(row)
    page.remove_row.click()
    assert window.ctx.doc.reference_population == {}
    page.use_bundled.click()
    page.clear.click()
    assert window.ctx.doc.reference_population == {}
    assert window.ctx.doc.reference_population_source == {}


def test_import_csv_and_a_broken_one(qtbot, dialogs, tmp_path: Path):
    window = open_window(qtbot)
    page = window.go_to("population")
    good = tmp_path / "pop.csv"
    good.write_text("attribute,group,count\nsex,Female,3\nsex,Male,1\n", encoding="utf-8")
    dialogs.reply("ask_open_path", good)
    page.import_csv.click()
    assert window.ctx.doc.reference_population == {"sex": {"Female": 0.75, "Male": 0.25}}
    assert window.ctx.doc.reference_population_source["title"] == "CSV file pop.csv"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    dialogs.reply("ask_open_path", bad)
    page.import_csv.click()
    assert "bad.csv" in dialogs.messages[-1]
    assert window.ctx.doc.reference_population == {"sex": {"Female": 0.75, "Male": 0.25}}
    dialogs.reply("ask_open_path", None)  # cancelled: nothing happens
    page.import_csv.click()


def test_group_map_suggestions_choices_and_a_second_document(qtbot):
    window = open_window(qtbot, _evaluated_doc())
    page = window.go_to("population")
    page.refresh_now()
    combos = page.map_table.combos
    assert set(combos) == {("race", v) for v in
                           ("Caucasian", "African-American", "Hispanic", "Asian")}
    assert combos["race", "Caucasian"].currentText() == UNMAPPED
    assert combos["race", "Asian"].currentText() == "Asian"  # same name: no entry needed
    assert "3 unmapped" in page.map_note.text()
    assert not page.is_complete()  # no reference population, suggestions waiting
    page.use_bundled.click()
    assert not page.is_complete()
    page.suggest.click()
    assert page.is_complete()  # Hispanic has no suggestion: the reviewer's call
    page.refresh_now()
    assert window.ctx.doc.group_maps == {"race": {
        "Caucasian": "White", "African-American": "Black or African American"}}
    combos = page.map_table.combos
    assert combos["race", "Caucasian"].currentText() == "White"
    assert combos["race", "Hispanic"].currentText() == UNMAPPED  # no OMB race: the reviewer's call
    # choose by hand, then back to unmapped
    hisp = combos["race", "Hispanic"]
    hisp.setCurrentIndex(hisp.findData("Other"))
    hisp.activated.emit(hisp.currentIndex())
    assert window.ctx.doc.group_maps["race"]["Hispanic"] == "Other"
    page.refresh_now()
    hisp = page.map_table.combos["race", "Hispanic"]
    hisp.setCurrentIndex(0)
    hisp.activated.emit(0)
    assert "Hispanic" not in window.ctx.doc.group_maps["race"]
    window.ctx.doc.undo()
    assert window.ctx.doc.group_maps["race"]["Hispanic"] == "Other"
    # a second document has no evaluation: the table empties and says how to fill it
    window.ctx.set_document(Assessment.new())
    page = window.go_to("population")
    page.refresh_now()
    assert page.map_table.rowCount() == 0
    assert "run the evaluation once" in page.map_note.text()
    assert not page.suggest.isEnabled()


def test_data_page_spec_uses_the_documents_map(qtbot, tmp_path: Path):
    import pandas as pd

    doc = _evaluated_doc()
    doc.set_group_maps({"race": {"Caucasian": "White"}})
    window = open_window(qtbot, doc)
    data_page = window.go_to("data")
    path = tmp_path / "v.csv"
    pd.DataFrame({"y": [0, 1] * 20, "p": [0.2, 0.8] * 20,
                  "race": ["Caucasian", "Asian"] * 20}).to_csv(path, index=False)
    with qtbot.waitSignal(data_page.table_loaded, timeout=20000):
        data_page.load_file(str(path))
    assert data_page.current_spec().group_map == {"race": {"Caucasian": "White"}}


def test_map_row_with_an_unknown_category_is_shown(qtbot):
    """A stored map row naming a category the datasheet lacks is shown in the map table and the
    note, with the known categories (not silently treated as an unmapped data value)."""
    doc = _evaluated_doc()
    doc.set_group_maps({"race": {"Caucasian": "Martian"}})
    window = open_window(qtbot, doc)
    page = window.go_to("population")
    page.refresh_now()
    combo = page.map_table.combos["race", "Caucasian"]
    assert combo.currentText() == "⚠ Martian: not a datasheet category"
    assert "not a datasheet category of race (its categories: White" in combo.toolTip()
    assert "map row race,Caucasian,Martian names 'Martian'" in page.map_note.text()
