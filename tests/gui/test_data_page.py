"""Validation data page: open / drop a file, preview, mapping checks, run and cancel in a worker."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QTextDocument

import gui.errors
from assessment.document import Assessment
from assessment.errors import EvaluationError
from assessment.evaluation.spec import MetricTolerance
from gui.context import AppContext
from gui.data.page import ValidationDataPage, file_sha256, stored_file_candidates
from gui.data.session import EvaluationSession
from gui.main_window import MainWindow


@pytest.fixture(autouse=True)
def collect_garbage_on_ui_thread():
    """Collect this test's widget garbage on the UI thread. Left to chance, Python's cyclic GC
    can run inside a later test's worker thread and delete QObjects there (a segfault)."""
    yield
    gc.collect()


def make_frame(n: int = 1500, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    race = rng.choice(["White", "Black", "Asian"], n, p=[0.6, 0.3, 0.1])
    sex = rng.choice(["F", "M"], n)
    logit = rng.normal(-1.0, 1.0, n) + (race == "Black") * 0.3
    p = 1 / (1 + np.exp(-logit))
    y = rng.random(n) < p
    score = np.clip(p + rng.normal(0, 0.1, n), 0, 1).round(4)
    return pd.DataFrame({
        "readmitted": np.where(y, "<30", np.where(rng.random(n) < 0.5, "NO", ">30")),
        "risk_score": score,
        "race": race,
        "sex": sex,
        "age": rng.integers(18, 95, n),
    })


@pytest.fixture
def errors_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(gui.errors, "show_message", lambda parent, title, text, icon=None:
                        shown.append(text))
    return shown


@pytest.fixture
def page(qtbot, ctx: AppContext) -> ValidationDataPage:
    widget = ValidationDataPage(ctx)
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "validation.csv"
    make_frame().to_csv(path, index=False)
    return path


def load(qtbot, page: ValidationDataPage, path: Path) -> None:
    with qtbot.waitSignal(page.table_loaded, timeout=20000):
        page.load_file(str(path))


def choose_positive(page: ValidationDataPage, value: str) -> None:
    page.positive_combo.setCurrentIndex(page.positive_combo.findData(value))
    page._form_changed()


def test_open_dialog_loads_preview_and_suggests_mapping(qtbot, page, csv_file, monkeypatch):
    monkeypatch.setattr(gui.errors, "ask_open_path", lambda *a, **k: csv_file)
    with qtbot.waitSignal(page.table_loaded, timeout=20000):
        page.open_button.click()
    assert page.preview_model.rowCount() == 1500
    assert page.preview_model.columnCount() == 5
    assert "1,500 rows" in page.file_label.text()
    mapping = page.current_mapping()
    assert mapping.label == "readmitted"
    assert mapping.score == "risk_score"
    assert {"race", "sex", "age"} <= set(mapping.attributes)
    assert "age" in mapping.bins  # continuous age gets bands
    assert page.title == "Validation data" and not page.is_complete()


def test_inline_validation_messages(qtbot, page, csv_file):
    load(qtbot, page, csv_file)
    issues = page.check_now()
    # Three outcome values and no positive value chosen: an error shown next to the outcome.
    assert any(i.severity == "error" and i.column == "readmitted" for i in issues)
    assert page.outcome_msg.isVisibleTo(page)
    assert "positive" in page.outcome_msg.text()
    assert not page.run_button.isEnabled()
    choose_positive(page, "<30")
    page.check_now()
    assert not page.outcome_msg.isVisibleTo(page)
    assert page.run_button.isEnabled()
    # Malformed bin edges are caught before the engine runs.
    page.bins_edit.setText("age: 50, 30")
    page.check_now()
    assert page.general_msg.isVisibleTo(page) and "increasing" in page.general_msg.text()
    assert not page.run_button.isEnabled()


def test_background_check_runs_in_worker(qtbot, page, csv_file):
    load(qtbot, page, csv_file)
    with qtbot.waitSignal(page.check_finished, timeout=20000):
        page._start_check()
    assert page.has_errors()


def test_drop_data_file(qtbot, page, tmp_path):
    path = tmp_path / "dropped.tsv"
    make_frame(200).to_csv(path, sep="\t", index=False)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(page.table_loaded, timeout=20000):
        page.dropEvent(event)
    assert page.preview_model.rowCount() == 200


def test_context_data_file_request_loads(qtbot, ctx, page, csv_file):
    with qtbot.waitSignal(page.table_loaded, timeout=20000):
        ctx.data_file_requested.emit(str(csv_file))
    assert page.table is not None


def test_xlsx_sheet_choice(qtbot, page, tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"a": [1]}).to_excel(writer, sheet_name="Notes", index=False)
        make_frame(120).to_excel(writer, sheet_name="Data", index=False)
    with qtbot.waitSignal(page.table_loaded, timeout=20000):
        page.load_file(str(path), sheet="Data")
    assert page.sheet_combo.count() == 2 and page.sheet_combo.isVisibleTo(page)
    assert page.preview_model.rowCount() == 120
    assert page.table.sheet == "Data"


def test_a_workbook_with_several_sheets_says_which_one_is_shown(qtbot, page, tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"a": [1]}).to_excel(writer, sheet_name="Notes", index=False)
        make_frame(120).to_excel(writer, sheet_name="Data", index=False)
    with qtbot.waitSignal(page.table_loaded, timeout=20000):
        page.load_file(str(path))
    assert page.table.sheet == "Notes"
    assert "“Notes”" in page.status.text() and "2 sheets" in page.status.text()
    page.sheet_combo.setCurrentIndex(1)
    with qtbot.waitSignal(page.table_loaded, timeout=20000):
        page.sheet_combo.activated.emit(1)
    assert page.table.sheet == "Data" and page.current_mapping().label == "readmitted"


def test_bad_file_is_one_clear_message(qtbot, page, tmp_path, errors_shown):
    path = tmp_path / "empty.csv"
    path.write_text("label,score\n", encoding="utf-8")
    page.load_file(str(path))
    qtbot.waitUntil(lambda: bool(errors_shown), timeout=20000)
    assert "no data rows" in errors_shown[0]
    assert "Traceback" not in errors_shown[0]
    assert page.table is None


def test_run_evaluation_stores_result(qtbot, ctx, page, csv_file):
    load(qtbot, page, csv_file)
    choose_positive(page, "<30")
    page.set_attributes(["race", "sex"])
    page.set_intersections([("race", "sex")])
    page.bootstrap_spin.setValue(200)
    page.seed_spin.setValue(7)
    page.threshold_spin.setValue(0.4)
    page.check_now()
    assert not page.has_errors()
    with qtbot.waitSignal(page.evaluation_finished, timeout=60000):
        page.run_evaluation()
        assert page.cancel_button.isEnabled() and not page.run_button.isEnabled()
    evaluation = ctx.doc.evaluation
    result, config = evaluation.result_json(), evaluation.config_json()
    assert config["mapping"]["positive"] == "<30"
    assert config["spec"]["bootstrap"] == 200 and config["spec"]["seed"] == 7
    assert config["spec"]["intersections"] == [["race", "sex"]]
    assert result["spec"]["threshold"] == pytest.approx(0.4)
    attrs = {g["attribute"] for g in result["groups"]}
    assert attrs == {"race", "sex", "race×sex"}
    assert result["provenance"]["rows_used"] == 1500
    assert page.is_complete()
    assert page.progress.value() == 1000
    assert EvaluationSession.of(ctx).inputs is not None
    assert ctx.doc.can_undo


def test_cancel_keeps_previous_result(qtbot, ctx, page, tmp_path):
    path = tmp_path / "big.parquet"
    make_frame(60000, seed=11).to_parquet(path)
    load(qtbot, page, path)
    choose_positive(page, "<30")
    page.set_attributes(["race", "sex"])
    page.set_intersections([("race", "sex")])
    page.bootstrap_spin.setValue(20000)
    before = ctx.doc.evaluation
    with qtbot.waitSignal(page.evaluation_cancelled, timeout=60000):
        page.run_evaluation()
        qtbot.waitUntil(lambda: page.progress.value() > 0, timeout=30000)
        page.cancel_button.click()
    assert ctx.doc.evaluation == before
    assert not page.running and page.run_button.isEnabled()
    assert "cancelled" in page.status.text().lower()


def test_restores_settings_from_document(qtbot, ctx, csv_file):
    doc = Assessment.new()
    doc.set_evaluation({"sha256": "x", "spec": {"bootstrap": 321, "seed": 99, "min_n": 40,
                                                "reference": {"kind": "overall"}}}, None)
    ctx.set_document(doc)
    page = ValidationDataPage(ctx)
    qtbot.addWidget(page)
    assert page.bootstrap_spin.value() == 321
    assert page.seed_spin.value() == 99
    assert page.min_n_spin.value() == 40
    assert page.reference_combo.currentData() == "overall"


def test_reopening_the_same_file_restores_the_stored_mapping(qtbot, ctx, csv_file):
    first = ValidationDataPage(ctx)
    qtbot.addWidget(first)
    load(qtbot, first, csv_file)
    choose_positive(first, "<30")
    first.set_attributes(["race", "sex"])
    first.set_intersections([("race", "sex")])
    first.bootstrap_spin.setValue(200)
    with qtbot.waitSignal(first.evaluation_finished, timeout=60000):
        first.run_evaluation()
    stored = Assessment.from_json(ctx.doc.to_json())
    ctx.set_document(stored)
    second = ValidationDataPage(ctx)
    qtbot.addWidget(second)
    assert second.is_complete()
    assert second.bootstrap_spin.value() == 200
    load(qtbot, second, csv_file)
    mapping = second.current_mapping()
    assert mapping.positive == "<30"
    assert mapping.attributes == ["race", "sex"]
    assert second.current_spec().intersections == (("race", "sex"),)


def test_reopen_button_loads_the_stored_file(qtbot, ctx, csv_file):
    doc = Assessment.new()
    doc.set_evaluation({"file": str(csv_file), "file_name": csv_file.name,
                        "sha256": file_sha256(csv_file)}, None)
    ctx.set_document(doc)
    page = ValidationDataPage(ctx)
    qtbot.addWidget(page)
    assert page.reopen_button.isVisibleTo(page)
    assert csv_file.name in page.reopen_button.text()
    with qtbot.waitSignal(page.table_loaded, timeout=20000):
        page.reopen_button.click()
    assert page.table is not None and not page.reopen_button.isVisibleTo(page)


def test_a_stored_file_whose_hash_differs_is_loaded_only_after_asking(qtbot, ctx, csv_file,
                                                                     dialogs):
    doc = Assessment.new()
    doc.set_evaluation({"file": str(csv_file), "file_name": csv_file.name,
                        "sha256": "0" * 64}, None)
    ctx.set_document(doc)
    page = ValidationDataPage(ctx)
    qtbot.addWidget(page)
    page.show()  # shown: the automatic load refuses the differing file and says why
    qtbot.waitUntil(lambda: "different file" in page.status.text(), timeout=20000)
    assert page.table is None and page.reopen_button.isVisibleTo(page)
    dialogs.reply("ask_yes_no", False)
    page.reopen_button.click()
    qtbot.waitUntil(lambda: page.status.text().startswith("Nothing was loaded"), timeout=20000)
    assert page.table is None
    dialogs.reply("ask_yes_no", True)
    with qtbot.waitSignal(page.table_loaded, timeout=20000):
        page.reopen_button.click()
    assert page.path == csv_file.resolve()


def test_stored_file_is_found_beside_the_probity_file_when_its_path_is_stale(tmp_path, csv_file):
    moved = tmp_path / "moved"
    moved.mkdir()
    beside = moved / csv_file.name
    beside.write_bytes(csv_file.read_bytes())
    config = {"file": "/no/such/folder/" + csv_file.name, "file_name": csv_file.name}
    found = stored_file_candidates(config, moved / "review.probity", None)
    assert found == [beside.resolve()]
    relative = {"file": csv_file.name, "file_name": csv_file.name}
    assert stored_file_candidates(relative, None, moved) == [beside.resolve()]
    hostile = {"file": "", "file_name": "../" + csv_file.name}  # names only, never paths
    assert stored_file_candidates(hostile, moved / "review.probity", moved) == []


def test_the_demo_opens_with_its_verified_validation_data(qtbot, dialogs):
    window = MainWindow()
    qtbot.addWidget(window, before_close_func=lambda w: w.close_without_prompt())
    assert window.open_demo()
    window.show()
    qtbot.waitExposed(window)
    page = window.page("data")
    config = window.ctx.doc.evaluation.config_json()
    with qtbot.waitSignal(page.table_loaded, timeout=30000):
        window.go_to("data")
    assert page.table.file_name == config["file_name"]
    assert page.table.sha256 == config["sha256"]
    assert page.current_mapping().to_json() == config["mapping"]
    assert not window.ctx.modified  # loading the data is not an edit
    assert dialogs.messages == []


def test_file_names_that_look_like_markup_are_shown_literally(qtbot, page, tmp_path):
    path = tmp_path / "<img src=x>&amp;<b>evil<b>.csv"
    make_frame(200).to_csv(path, index=False)
    load(qtbot, page, path)
    for label in (page.file_label, page.status):
        assert path.name in label.text()
        assert label.textFormat() == Qt.TextFormat.PlainText
    shown = QTextDocument()
    shown.setHtml(page.file_label.toolTip())  # how Qt renders a tooltip that looks like HTML
    assert str(path) in shown.toPlainText()



def test_rerun_keeps_the_demographics_mapping(qtbot, dialogs):
    """Re-running the demo from the GUI keeps gender → sex, so representativeness still has
    the gender rows the stored result has."""
    window = MainWindow()
    qtbot.addWidget(window, before_close_func=lambda w: w.close_without_prompt())
    assert window.open_demo()
    window.show()
    qtbot.waitExposed(window)
    page = window.page("data")
    with qtbot.waitSignal(page.table_loaded, timeout=30000):
        window.go_to("data")
    stored = window.ctx.doc.evaluation.config_json()["spec"]["demographics_map"]
    assert stored.get("gender") == "sex"
    assert page.current_spec().demographics_map == stored


def _tolerance_row(page: ValidationDataPage, metric: str) -> int:
    table = page.tolerance_table
    return next(r for r in range(table.rowCount()) if table.item(r, 0).text() == metric)


def test_flag_tolerances_and_multiplicity_go_into_the_spec_and_come_back(
    qtbot, ctx, page, csv_file, errors_shown
):
    load(qtbot, page, csv_file)
    choose_positive(page, "<30")
    page.set_attributes(["race"])
    table = page.tolerance_table
    assert table.item(_tolerance_row(page, "tnr"), 1).text() == "as fpr"  # judged on its mirror
    assert table.item(_tolerance_row(page, "fnr"), 1).text() == "as tpr"
    assert table.item(_tolerance_row(page, "fpr"), 1).text() == "ratio:0.8,1.25"
    # a difference on TNR is that difference on FPR (stored there); a ratio band is refused
    table.item(_tolerance_row(page, "tnr"), 1).setText("diff:0.03")
    assert page.current_spec().tolerances == {"fpr": MetricTolerance("diff", limit=0.03)}
    table.item(_tolerance_row(page, "tnr"), 1).setText("ratio:0.8,1.25")
    with pytest.raises(EvaluationError, match="tolerance is set on fpr"):
        page.current_spec()
    table.item(_tolerance_row(page, "tnr"), 1).setText("as fpr")
    table.item(_tolerance_row(page, "auroc"), 1).setText("diff:0.02")
    page.multiplicity_combo.setCurrentIndex(page.multiplicity_combo.findData("bh"))
    spec = page.current_spec()
    assert spec.tolerances == {"auroc": spec.tolerance_for("auroc")}
    assert spec.tolerance_for("auroc").limit == 0.02 and spec.multiplicity == "bh"
    page.bootstrap_spin.setValue(0)
    page.check_now()
    with qtbot.waitSignal(page.evaluation_finished, timeout=60000):
        page.run_evaluation()
    stored = ctx.doc.evaluation.config_json()["spec"]
    assert stored["tolerances"] == {"auroc": {"kind": "diff", "limit": 0.02}}
    assert ctx.doc.evaluation.result_json()["spec"]["multiplicity"] == "bh"
    again = ValidationDataPage(ctx)
    qtbot.addWidget(again)
    assert again.tolerance_table.item(_tolerance_row(again, "auroc"), 1).text() == "diff:0.02"
    assert again.multiplicity_combo.currentData() == "bh"
    table.item(_tolerance_row(page, "calibration_slope"), 1).setText("ratio:0.8,1.25")
    page.run_evaluation()  # refused before any work starts, with one message
    assert not page.running
    assert errors_shown and "calibration_slope" in errors_shown[-1]


def test_a_file_over_a_read_limit_can_be_read_after_raising_it(qtbot, ctx, page, tmp_path,
                                                                 dialogs):
    """The GUI's import goes through the guarded reader: over a limit, the reviewer is asked;
    "No" reads nothing, "Yes" stores the raised limit in the settings and reads the file."""
    path = tmp_path / "many.csv"
    make_frame(600).to_csv(path, index=False)
    ctx.settings.set("read_limits", {"max_cells": 1000})
    dialogs.reply("ask_yes_no", False)
    page.load_file(str(path))
    qtbot.waitUntil(lambda: page.status.text().startswith("The file was not read"),
                    timeout=20000)
    assert "over the limit of 1,000 cells" in page.status.text() and page.table is None
    dialogs.reply("ask_yes_no", True)
    with qtbot.waitSignal(page.table_loaded, timeout=20000):
        page.load_file(str(path))
    assert page.table.rows_read == 600
    assert ctx.settings.get("read_limits")["max_cells"] >= 3000


def test_a_fifo_or_device_path_is_refused_at_once(qtbot, page, tmp_path, errors_shown):
    import os

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    page.load_file(str(fifo))
    qtbot.waitUntil(lambda: bool(errors_shown), timeout=20000)
    assert "named pipe (FIFO)" in errors_shown[0]
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    page.load_file(str(zero))
    qtbot.waitUntil(lambda: len(errors_shown) > 1, timeout=20000)
    assert "is a device" in errors_shown[1]
    from assessment.errors import DataError

    with pytest.raises(DataError, match="named pipe"):  # the stored-file check: same reader
        file_sha256(fifo)


def test_an_attribute_over_the_group_limit_is_one_sentence_before_running(qtbot, ctx, page,
                                                                          csv_file):
    """--max-groups reaches the app: the limit is the settings' read limit, checked when the
    mapping is checked, so the reviewer sees the sentence and Run stays off."""
    ctx.settings.set("read_limits", {"max_groups": 2})
    load(qtbot, page, csv_file)
    choose_positive(page, "<30")
    issues = page.check_now()
    assert any(i.severity == "error" and "over the limit of 2" in i.message
               and "--max-groups" in i.message for i in issues)
    assert not page.run_button.isEnabled()


def test_an_intersection_over_the_cell_limit_is_refused_and_can_be_raised(qtbot, ctx, page,
                                                                         csv_file, dialogs):
    """--max-group-cells reaches the app: Run checks the intersection cells against the
    settings' read limit before any evaluation; "No" evaluates nothing, "Yes" raises the stored
    limit and evaluates."""
    ctx.settings.set("read_limits", {"max_group_cells": 4})
    load(qtbot, page, csv_file)
    choose_positive(page, "<30")
    page.set_attributes(["race", "sex"])
    page.set_intersections([("race", "sex")])
    page.bootstrap_spin.setValue(0)
    page.check_now()
    dialogs.reply("ask_yes_no", False)
    page.run_evaluation()
    qtbot.waitUntil(lambda: page.status.text().startswith("Not evaluated"), timeout=20000)
    text = page.status.text()
    assert "'race' x 'sex' has 6 groups, over the limit of 4" in text
    assert "raise the limit when asked" in text and "--max-group-cells" not in text
    assert ctx.doc.evaluation is None  # nothing evaluated, nothing stored
    dialogs.reply("ask_yes_no", True)
    with qtbot.waitSignal(page.evaluation_finished, timeout=60000):
        page.run_evaluation()
        qtbot.waitUntil(lambda: ctx.settings.get("read_limits")["max_group_cells"] >= 6,
                        timeout=20000)
    assert {g["attribute"] for g in ctx.doc.evaluation.result_json()["groups"]} >= {"race×sex"}
