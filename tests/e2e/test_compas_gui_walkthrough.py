"""The COMPAS walk-through in the real main window (issue 11, "Done means"): a datasheet in OMB
categories, COMPAS's own labels in the validation file; run, see the labels unmapped (no false
absent / over-represented flags), choose the 2020 Census table and the suggested map on the
Reference population & group labels page, re-run: the census shares are shown and nothing is
flagged against the training cohort (it describes the same people)."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pandas as pd
import pytest
from PySide6.QtCore import Qt

import tests.gui.conftest as gui_fixtures
from assessment.document import Assessment
from assessment.populations import load_population
from tests.gui.helpers import open_window

dialogs = gui_fixtures.dialogs
no_dangling_workers = gui_fixtures.no_dangling_workers
fail_on_qt_warnings = gui_fixtures.fail_on_qt_warnings

REPO = Path(__file__).resolve().parents[2]
AEQUITAS = REPO.parent / "shared" / "data" / "compas" / "compas_for_aequitas.csv"  # as conftest
OMB = {"Caucasian": "White", "African-American": "Black or African American", "Asian": "Asian",
       "Native American": "American Indian or Alaska Native", "Other": "Other"}
LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 60_000


@pytest.fixture(autouse=True)
def collect_garbage_on_ui_thread():
    yield
    gc.collect()


def _run(qtbot, data) -> None:
    if data.bootstrap_spin.value() != 0:  # point estimates are enough here
        with qtbot.waitSignal(data.check_finished, timeout=WAIT_MS):
            data.bootstrap_spin.setValue(0)
    with qtbot.waitSignal(data.evaluation_finished, timeout=WAIT_MS):
        qtbot.mouseClick(data.run_button, LEFT)


def test_compas_walkthrough_in_the_window(qtbot, dialogs, tmp_path: Path) -> None:
    if not AEQUITAS.is_file():
        pytest.fail(f"the shared COMPAS file is missing at {AEQUITAS}; CI keeps it beside the repo")
    csv = tmp_path / "compas.csv"
    shutil.copy(AEQUITAS, csv)
    frame = pd.read_csv(csv)
    omb = frame["race"].map(OMB).value_counts()
    doc = Assessment.new()
    doc.set_field("datasheet", "training_demographics", {
        "race": {c: int(omb.get(c, 0)) for c in set(OMB.values())},
        "sex": {k: int(v) for k, v in frame["sex"].value_counts().items()}})
    window = open_window(qtbot, doc)
    data = window.go_to("data")
    dialogs.reply("ask_open_path", csv)
    with qtbot.waitSignal(data.table_loaded, timeout=WAIT_MS):
        qtbot.mouseClick(data.open_button, LEFT)
    mapping = data.current_mapping()
    # a 0/1 score column is suggested as the predicted class (main: mapping.suggest)
    assert mapping.label == "label_value" and mapping.prediction == "score"
    assert {"race", "sex"} <= set(mapping.attributes)
    _run(qtbot, data)

    record = window.ctx.doc.evaluation
    assert record is not None and record.result is not None
    rows = record.result_json()["representativeness"]
    race = {r["group"]: r for r in rows if r["attribute"] == "race"}
    assert race["Caucasian"]["flag"] is None and race["White"]["flag"] is None
    assert not any(r["flag"] for r in rows)  # before: unmapped, never a false flag

    page = window.go_to("population")
    page.refresh_now()
    assert page.map_table.combos["race", "Caucasian"].currentText().startswith("(unmapped")
    page.bundled.setCurrentIndex(page.bundled.findData("us-census-2020"))
    qtbot.mouseClick(page.use_bundled, LEFT)
    qtbot.mouseClick(page.suggest, LEFT)
    renamed = {k: v for k, v in OMB.items() if k != v}  # same names need no entry
    assert window.ctx.doc.group_maps == {"race": renamed}
    data = window.go_to("data")
    _run(qtbot, data)

    record = window.ctx.doc.evaluation
    assert record is not None and record.spec is not None
    assert record.spec.group_map == {"race": renamed}
    result = record.result_json()
    assert result["spec"]["group_map"] == {"race": renamed}
    race = {r["group"]: r for r in result["representativeness"] if r["attribute"] == "race"}
    census = load_population("us-census-2020").shares()["race"]
    white = race["White"]
    assert white["validation_n"] == int((frame["race"] == "Caucasian").sum())
    assert white["reference_share"] == pytest.approx(census["White"])
    # the training cohort is the same people; Hispanic (unmapped) stays in the denominator
    assert white["validation_share"] == pytest.approx(white["validation_n"] / len(frame))
    assert white["training_share"] == pytest.approx(
        white["validation_n"] / int(frame["race"].map(OMB).notna().sum()))
    assert all("training cohort" not in (r["reason"] or "") for r in result["representativeness"])
    assert race["Black or African American"]["flag"] == "over_represented"  # vs the census
    page = window.go_to("population")
    page.refresh_now()
    assert page.map_table.combos["race", "Caucasian"].currentText() == "White"
    # Hispanic (an ethnicity: the reviewer's call) and COMPAS's three age bands, which match none
    # of the datasheet's, stay unmapped
    assert "4 unmapped" in page.map_note.text()
    assert page.map_table.combos["race", "Hispanic"].currentText().startswith("(unmapped")
