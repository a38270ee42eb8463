"""Validation data page: hard labels, raw scores and their threshold, markup in column names.

A 0/1 "score" is suggested as the predicted class; a raw score (COMPAS deciles) has no default
threshold: Run waits for one, a suggestion says where it comes from (model card or the score
distribution); an almost-everyone-positive rule is a visible warning in the form; File › New
then another file starts without the previous threshold; a column or cell that looks like HTML
is shown literally.
"""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel

from assessment.document import Assessment
from assessment.evaluation import columns
from gui.context import AppContext
from gui.data.page import ValidationDataPage
from gui.data.threshold import NOT_SET_TEXT
from tests.gui.helpers import open_window

COMPAS = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "compas"
    / "compas-scores-two-years.csv"
)


@pytest.fixture(autouse=True)
def collect_garbage_on_ui_thread():
    yield
    gc.collect()


@pytest.fixture
def page(qtbot, ctx: AppContext) -> ValidationDataPage:
    widget = ValidationDataPage(ctx)
    qtbot.addWidget(widget)
    return widget


def load(qtbot, page: ValidationDataPage, path: Path) -> None:
    with qtbot.waitSignal(page.table_loaded, timeout=30000):
        page.load_file(str(path))
    page.check_now()


@pytest.fixture(scope="module")
def compas_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real COMPAS two-year file, its duplicated header columns dropped (decile_score and
    priors_count appear twice), so 'decile_score' names one column."""
    if not COMPAS.is_file():
        pytest.fail(f"the shared COMPAS file is missing at {COMPAS}; CI keeps it beside the repo")
    frame = pd.read_csv(COMPAS)
    frame = frame[[c for c in frame.columns if not c.endswith(".1")]]
    frame = frame[["two_year_recid", "decile_score", "race", "sex"]]
    path = tmp_path_factory.mktemp("compas") / "compas_deciles.csv"
    frame.to_csv(path, index=False)
    return path


def hard_label_csv(path: Path, n: int = 500, seed: int = 4) -> Path:
    rng = np.random.default_rng(seed)
    race = rng.choice(["A", "B"], n)
    y = rng.random(n) < 0.4
    pred = np.where(rng.random(n) < 0.8, y, ~y)
    pd.DataFrame({"label_value": y.astype(int), "score": pred.astype(float), "race": race}).to_csv(
        path, index=False
    )
    return path


def choose_kind(page: ValidationDataPage, kind: str) -> None:
    """What a click in the "Model output" box does."""
    page.output_kind.setCurrentIndex(page.output_kind.findData(kind))
    page.output_kind.activated.emit(page.output_kind.currentIndex())


def shown(label: QLabel) -> str:
    return label.text() if not label.isHidden() else ""


def test_a_zero_one_score_is_suggested_as_the_predicted_class(qtbot, page, tmp_path):
    load(qtbot, page, hard_label_csv(tmp_path / "aequitas_like.csv"))
    assert page.output_kind.currentData() == "class"
    assert page.score_combo.currentData() == "score"
    assert not page.has_errors() and page.run_button.isEnabled()
    # Mapped as a probability anyway: one sentence, no CLI option, and Run stays off.
    choose_kind(page, "probability")
    page.check_now()
    assert shown(page.score_msg) == (
        "✖ The score column 'score' holds only two values (0 and 1), so it is a predicted "
        "class, not a score, and Brier score, O/E ratio and calibration would be meaningless; "
        "map it as the predicted class instead."
    )
    assert not page.run_button.isEnabled()


def test_compas_deciles_need_a_threshold_and_get_a_suggestion(qtbot, page, compas_csv):
    load(qtbot, page, compas_csv)
    assert page.output_kind.currentData() == "score"
    assert page.score_combo.currentData() == "decile_score"
    assert page.threshold_spin.text() == NOT_SET_TEXT and page.threshold_value() is None
    assert not page.run_button.isEnabled()
    assert "have no default decision threshold" in shown(page.score_msg)
    assert "--threshold" not in shown(page.score_msg)
    # The suggestion is visible, says it is read off the data, and is not applied by itself.
    # Reference: the decile whose "score >= t" share is closest to the two-year recidivism rate
    # (it comes out at 5, COMPAS' own "medium or high risk" cut).
    frame = pd.read_csv(compas_csv)
    deciles = np.sort(frame["decile_score"].unique())
    gaps = [abs((frame["decile_score"] >= t).mean() - frame["two_year_recid"].mean())
            for t in deciles]  # fmt: skip
    expected = float(deciles[int(np.argmin(gaps))])
    assert expected == 5.0
    assert not page.threshold_hint_row.isHidden()
    assert page.threshold_hint.text().startswith("Suggested 5 from the score distribution")
    assert "not the model's stated operating point" in page.threshold_hint.text()
    assert page.threshold_value() is None
    page.use_suggestion_button.click()
    assert page.threshold_value() == expected
    page.check_now()
    assert page.run_button.isEnabled() and not page.has_errors()
    assert page.current_mapping().threshold == 5.0 and page.current_spec().threshold == 5.0


def test_the_model_cards_operating_point_is_the_suggestion(qtbot, ctx, page, compas_csv):
    ctx.doc.set_field(
        "model_card", "decision_thresholds", "Medium or high risk: a decile score of 5 or higher."
    )
    load(qtbot, page, compas_csv)
    assert page.threshold_hint.text().startswith(
        "Suggested 5: the operating point the model card states"
    )
    assert page.use_suggestion_button.text() == "Use 5"
    assert page.threshold_value() is None  # a suggestion, not a decision


def test_almost_everyone_positive_is_a_visible_warning(qtbot, page, compas_csv):
    load(qtbot, page, compas_csv)
    page.threshold_spin.setValue(1.0)
    page.check_now()
    text = shown(page.score_msg)
    assert "⚠ The decision rule decile_score ≥ 1 predicts 100.0% of the rows positive" in text
    assert page.run_button.isEnabled()  # a warning, not an error: the reviewer may insist
    page.threshold_spin.setValue(5.0)
    page.check_now()
    assert "predicts" not in shown(page.score_msg)


def test_switching_to_score_or_another_column_clears_the_threshold(qtbot, page, compas_csv):
    load(qtbot, page, compas_csv)
    page.threshold_spin.setValue(7.0)
    choose_kind(page, "probability")
    assert page.threshold_value() == 0.5  # never a raw score's 7 clamped to 1
    choose_kind(page, "score")
    assert page.threshold_value() is None and not page.run_button.isEnabled()
    page.threshold_spin.setValue(7.0)
    page.score_combo.setCurrentIndex(page.score_combo.findData("decile_score"))
    page.score_combo.activated.emit(page.score_combo.currentIndex())
    assert page.threshold_value() is None


def test_run_without_a_threshold_is_one_sentence(qtbot, page, compas_csv, dialogs):
    load(qtbot, page, compas_csv)
    page.run_evaluation()
    assert dialogs.messages[-1].startswith(
        "Raw scores (not probabilities) have no default decision threshold"
    )
    assert "--threshold" not in dialogs.messages[-1]


def new_document(window, dialogs) -> None:
    """File › New (probast-2019), discarding the open assessment's changes."""
    from assessment.instruments import available_instruments
    from gui.errors import Choice

    name = dict(available_instruments())["probast-2019"]
    dialogs.reply("ask_item", f"{name} (probast-2019)")
    dialogs.reply("ask_save_discard_cancel", Choice.DISCARD)
    assert window.new_document()


def test_new_document_and_another_file_do_not_keep_the_threshold(
    qtbot, dialogs, compas_csv, tmp_path
):
    window = open_window(qtbot, Assessment.new())
    data = window.page("data")
    load(qtbot, data, compas_csv)
    data.use_suggestion_button.click()
    data.threshold_spin.setValue(8.0)
    assert data.threshold_value() == 8.0
    new_document(window, dialogs)
    assert data.threshold_hint_row.isHidden() and data.state.threshold_suggestion is None
    # Another raw-score file: no threshold until one is chosen, its own suggestion.
    other = tmp_path / "other_deciles.csv"
    frame = pd.read_csv(compas_csv).iloc[::2]
    frame.to_csv(other, index=False)
    load(qtbot, data, other)
    assert data.threshold_value() is None and not data.run_button.isEnabled()
    assert "Use 8" not in data.use_suggestion_button.text()
    # A probability file after that starts at 0.5, not at anything left over.
    data.threshold_spin.setValue(8.0)
    new_document(window, dialogs)
    prob = tmp_path / "prob.csv"
    rng = np.random.default_rng(1)
    pd.DataFrame(
        {"outcome": rng.integers(0, 2, 300), "risk_score": rng.random(300).round(3),
         "sex": rng.choice(["F", "M"], 300)}
    ).to_csv(prob, index=False)  # fmt: skip
    load(qtbot, data, prob)
    assert data.output_kind.currentData() == "probability" and data.threshold_value() == 0.5


def test_checks_reuse_each_columns_analysis(qtbot, page, compas_csv, monkeypatch):
    calls: list[str] = []
    real = columns._code_column

    def counting(series, missing):
        calls.append(str(series.name))
        return real(series, missing)

    load(qtbot, page, compas_csv)
    monkeypatch.setattr(columns, "_code_column", counting)
    sorts: list[int] = []
    real_unique = np.unique
    monkeypatch.setattr(
        np, "unique", lambda a, *args, **kw: sorts.append(1) or real_unique(a, *args, **kw)
    )
    page.threshold_spin.setValue(4.0)
    for value in (3.0, 5.0, 6.0):  # the reviewer tries thresholds: nothing is factorised again
        page.threshold_spin.setValue(value)
        page.check_now()
    assert calls == [] and sorts == []  # nor is the suggestion's score column sorted again
    assert page.threshold_hint.text().startswith("Suggested 5")


def test_markup_in_column_names_and_cells_is_shown_literally(qtbot, page, tmp_path):
    rng = np.random.default_rng(2)
    n = 200
    frame = pd.DataFrame(
        {
            "outcome": rng.integers(0, 2, n),
            "risk_score": rng.random(n).round(3),
            "<b>x</b>": rng.choice(["<i>one</i>", "<b>two</b>"], n),
        }
    )
    path = tmp_path / "markup.csv"
    frame.to_csv(path, index=False)
    load(qtbot, page, path)
    page.set_attributes(["<b>x</b>"])
    page.reference_combo.setCurrentIndex(page.reference_combo.findData("value"))
    page._reference_kind_changed()
    page.bins_edit.setText("<b>x</b>: 1, 2")  # binning a text column: an error naming it
    page.check_now()
    seen = [
        label
        for label in page.findChildren(QLabel)
        if "<b>" in label.text() or "<i>" in label.text()
    ]
    assert len(seen) >= 2  # the reference row's label and the bins error
    for label in seen:
        assert label.textFormat() == Qt.TextFormat.PlainText, label.text()
    # A cell's tooltip shows the text, not bold type.
    model = page.preview_model
    col = model.column_names().index("<b>x</b>")
    tip = model.index(0, col).data(Qt.ItemDataRole.ToolTipRole)
    doc = QTextDocument()
    doc.setHtml(tip)
    assert doc.toPlainText() == model.index(0, col).data()


def test_a_stored_raw_score_threshold_is_restored_not_clamped_to_one(qtbot, page, tmp_path):
    """The bug of issue 9 item 8: the box kept a probability's 0–1 range while a raw score's
    threshold was set, so 5 became 1 and everyone was predicted positive."""
    from assessment.evaluation.mapping import ColumnMapping

    path = tmp_path / "deciles.csv"
    rng = np.random.default_rng(6)
    pd.DataFrame(
        {"y": rng.integers(0, 2, 300), "risk": rng.integers(1, 11, 300),
         "sex": rng.choice(["F", "M"], 300)}
    ).to_csv(path, index=False)  # fmt: skip
    load(qtbot, page, path)
    choose_kind(page, "probability")  # the box is in 0–1 mode
    page.set_mapping(
        ColumnMapping(label="y", score="risk", score_kind="score", threshold=5.0,
                      attributes=["sex"])  # fmt: skip
    )
    assert page.threshold_value() == 5.0 and page.threshold_spin.value() == 5.0
    page.check_now()
    assert page.run_button.isEnabled()
