"""The Comparison page (pytest-qt, offscreen): a dossier shown side by side with one colour
per model, a second dossier replacing the first, hostile files and bad settings refused with
one sentence, and a comparison run in the page's worker."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import main
from assessment.compare.model_form import FormModel
from gui.compare.page import ComparisonPage
from tests.gui.helpers import open_dossier, open_window


@pytest.fixture()
def errors_seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from gui import errors

    seen: list[str] = []
    monkeypatch.setattr(errors, "report", lambda _p, exc, _log=None: seen.append(str(exc)))
    return seen


def _data(tmp_path: Path, seed: int, models: int) -> Path:
    rng = np.random.default_rng(seed)
    n = 500
    x = rng.normal(size=n)
    frame = pd.DataFrame({
        "y": (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x - 1)))).astype(int),
        "sex": rng.choice(["F", "M"], n),
    })
    for i in range(models):
        frame[f"m{i}"] = np.round(1 / (1 + np.exp(-((1 - 0.2 * i) * x
                                                     + rng.normal(size=n) - 1))), 3)
    path = tmp_path / f"d{seed}.csv"
    frame.to_csv(path, index=False)
    return path


def _dossier(tmp_path: Path, seed: int, models: int, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)
    data = _data(tmp_path, seed, models)
    out = tmp_path / f"c{seed}.json"
    argv = ["compare", str(data), "--label", "y", "--group", "sex", "--bootstrap", "200",
            "--json", str(out), "--quiet"]
    for i in range(models):
        argv += ["--model", f"V{i}=m{i}"]
    assert main.main(argv) == 0
    return out


def _page(qtbot) -> ComparisonPage:
    window = open_window(qtbot)
    page = window.go_to("compare")
    assert isinstance(page, ComparisonPage)
    return page


def test_dossier_side_by_side_then_a_second_one(qtbot, tmp_path, monkeypatch,
                                                errors_seen) -> None:
    page = _page(qtbot)
    assert not page.is_complete()
    open_dossier(qtbot, page, _dossier(tmp_path, 1, 2, monkeypatch))
    assert page.is_complete() and not errors_seen
    assert page.side.rowCount() == 2
    assert page.side.item(0, 0).text() == "V0"
    assert page.group_box.count() == 3  # everyone, F, M
    assert page.paired.rowCount() == 7  # 7 metrics × 1 pair
    assert set(page.plots.shown["decision"]) == {"V0", "V1", "treat all", "treat none"}
    assert set(page.plots.shown["roc"]) == {"V0", "V1"}
    page.group_box.setCurrentIndex(2)
    doc = json.loads((tmp_path / "c1.json").read_text())
    m_row = [e for e in doc["paired"] if e["group"] == "M" and e["metric"] == "auroc"][0]
    auroc = [page.paired.item(r, 2).text() for r in range(page.paired.rowCount())
             if page.paired.item(r, 0).text() == "AUROC"]
    assert auroc == [f"{m_row['difference']['value']:.3f}"]
    # a second dossier (three models) replaces the first entirely
    open_dossier(qtbot, page, _dossier(tmp_path, 2, 3, monkeypatch))
    assert page.side.rowCount() == 3 and page.paired.rowCount() == 21
    assert page.group_box.currentIndex() == 0
    assert "V2" in page.source.text()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not json", "not JSON"), (b'{"format": "probity-evaluation/1"}', "probity-comparison/1"),
     (b'{"format": "probity-comparison/1", "models": []}', "damaged"),
     (b'{"format": "probity-comparison/1", "models": [{}], "paired": [], "net_benefit": [],'
      b' "operating_points": [], "summary": [], "data": {}}', "model 1")],
)
def test_hostile_dossiers_give_one_sentence(qtbot, tmp_path, errors_seen, content: bytes,
                                            message: str) -> None:
    page = _page(qtbot)
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    open_dossier(qtbot, page, path)
    assert len(errors_seen) == 1 and message in errors_seen[0]
    assert not page.is_complete()


def test_run_in_the_page_and_bad_settings(qtbot, tmp_path, errors_seen) -> None:
    page = _page(qtbot)
    page.run_button.click()
    assert "Give the data file" in errors_seen[-1]
    data = _data(tmp_path, 3, 2)
    page.data_edit.setText(str(data))
    page.label_edit.setText("y")
    page.models.set_rows([FormModel("A", "m0"), FormModel("B", "nope")])
    page.groups_edit.setText("sex")
    page.run_button.click()
    qtbot.waitUntil(lambda: len(errors_seen) == 2, timeout=20000)
    assert "no column 'nope'" in errors_seen[-1]
    page.models.set_rows([FormModel("A", "m0"), FormModel("B", "m1")])
    page.run_button.click()
    qtbot.waitUntil(page.is_complete, timeout=30000)
    assert page.side.rowCount() == 2 and len(errors_seen) == 2


def test_demo_button_fills_the_form_for_the_two_demo_models(qtbot, errors_seen) -> None:
    from gui.compare.page import demo_data

    page = _page(qtbot)
    assert page.demo_button.isEnabled() == (demo_data() is not None)
    if demo_data() is None:  # an install without the demo: the button stays off
        return
    page.demo_button.click()
    assert page.data_edit.text().endswith("validation_predictions.parquet")
    assert "gbm_probability" in [m.column for m in page.models.rows()]
    from gui.compare.page import comparison_args

    args = comparison_args(page.data_edit.text(), page.label_edit.text(),
                           page.models.rows(), page.groups_edit.text())
    assert args.threshold == ["Logistic (demo)=0.15", "Gradient boosting=0.15"]
    assert args.kind == ["Logistic (demo)=probability", "Gradient boosting=probability"]
    assert page.cluster_edit.text() == "patient_nbr"
    assert args.group == ["race", "gender", "age_band"]


def test_page_survives_a_second_assessment_document(qtbot, tmp_path, monkeypatch,
                                                    errors_seen) -> None:
    from assessment.document import Assessment

    window = open_window(qtbot)
    page = window.go_to("compare")
    open_dossier(qtbot, page, _dossier(tmp_path, 4, 2, monkeypatch))
    window.set_document(Assessment.new("probast-ai-2025"), None)
    again = window.go_to("compare")
    assert isinstance(again, ComparisonPage)
    open_dossier(qtbot, again, tmp_path / "c4.json")
    assert again.side.rowCount() == 2 and not errors_seen


def _kinds_data(tmp_path: Path) -> Path:
    """A probability, a 0/1 predicted class and a raw score (points, outside 0–1)."""
    rng = np.random.default_rng(21)
    n = 400
    x = rng.normal(size=n)
    frame = pd.DataFrame({
        "y": (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x - 1)))).astype(int),
        "sex": rng.choice(["F", "M"], n),
        "prob": np.round(1 / (1 + np.exp(-(x + rng.normal(size=n) - 1))), 3),
        "flag": (x > 0.6).astype(int),
        "points": np.round(10 * x + rng.normal(size=n) + 20, 1),
    })
    path = tmp_path / "kinds.csv"
    frame.to_csv(path, index=False)
    return path


def test_form_gives_each_model_its_kind_and_operating_point(qtbot, tmp_path,
                                                            errors_seen) -> None:
    from gui.compare.page import comparison_args

    page = _page(qtbot)
    table = page.models
    assert table.table.rowCount() == 2  # two empty rows to start with
    table.set_rows([FormModel("P", "prob", "probability", "0.2"),
                    FormModel("C", "flag", "class", "0.7", "1"),
                    FormModel("S", "points", "score", "21")])
    # a predicted class has no threshold: its cell is greyed and ignored; the flagged value
    # of a probability likewise
    from PySide6.QtCore import Qt

    from gui.compare.models_form import POSITIVE, THRESHOLD

    editable = Qt.ItemFlag.ItemIsEditable
    assert not table.table.item(1, THRESHOLD).flags() & editable
    assert table.table.item(1, POSITIVE).flags() & editable
    assert not table.table.item(0, POSITIVE).flags() & editable
    args = comparison_args(str(_kinds_data(tmp_path)), "y", table.rows(), "sex")
    assert args.kind == ["P=probability", "C=class", "S=score"]
    assert args.threshold == ["P=0.2", "S=21"]
    assert args.prediction_positive == ["C=1"]
    # changing the kind in the box re-enables the threshold
    table.kind_box(1).setCurrentIndex(table.kind_box(1).findData("score"))
    assert table.table.item(1, THRESHOLD).flags() & editable
    assert table.rows()[1].kind == "score"
    # the page runs it: three kinds, the class model's AUROC pair says why it is missing
    table.kind_box(1).setCurrentIndex(table.kind_box(1).findData("class"))
    page.data_edit.setText(str(tmp_path / "kinds.csv"))
    page.label_edit.setText("y")
    page.groups_edit.setText("sex")
    page.run_button.click()
    qtbot.waitUntil(page.is_complete, timeout=30000)
    assert not errors_seen
    assert [m["kind"] for m in page.doc["models"]] == ["probability", "class", "score"]
    assert [m["threshold"] for m in page.doc["models"]] == [0.2, None, 21.0]
    reasons = [page.paired.item(r, 6).text() for r in range(page.paired.rowCount())
               if page.paired.item(r, 0).text() == "AUROC"]
    assert any("C gives a predicted class" in t for t in reasons), reasons


@pytest.mark.parametrize(
    ("rows", "message"),
    [([FormModel("P", "prob"), FormModel("S", "points", "score")],
      "Model 'S' gives a raw score: enter its operating point in the Threshold column"),
     ([FormModel("P", "prob"), FormModel("", "points")], "needs both a name and a column"),
     ([FormModel("P", "prob"), FormModel("P", "points", "score", "3")],
      "Two models are named 'P'"),
     ([FormModel("P", "prob", threshold="high"), FormModel("C", "flag", "class")],
      "'high' is not a number"),
     ([FormModel("P", "prob")], "at least two models"),
     ([FormModel("", ""), FormModel("", "")], "Give the data file, the outcome column")],
)
def test_bad_model_rows_give_one_sentence_and_keep_the_form(qtbot, tmp_path, errors_seen,
                                                            rows, message) -> None:
    page = _page(qtbot)
    page.data_edit.setText(str(_kinds_data(tmp_path)))
    page.label_edit.setText("y")
    page.groups_edit.setText("sex")
    page.models.set_rows(rows)
    page.run_button.click()
    assert len(errors_seen) == 1 and message in errors_seen[0], errors_seen
    assert "\n" not in errors_seen[0]
    assert page.models.rows() == rows  # nothing typed is lost
    assert page.run_button.isEnabled() and not page.is_complete()


def test_suggestions_read_the_columns_like_the_data_page(qtbot, tmp_path, errors_seen) -> None:
    page = _page(qtbot)
    page.models.suggest_button.click()
    assert "Give the data file first" in errors_seen[-1]
    page.data_edit.setText(str(_kinds_data(tmp_path)))
    page.label_edit.setText("y")
    page.models.set_rows([FormModel("P", "prob", "score"), FormModel("C", "flag"),
                          FormModel("S", "points"), FormModel("X", "nope")])
    page.models.suggest_button.click()
    qtbot.waitUntil(lambda: bool(page.models.suggestions.text()), timeout=20000)
    rows = page.models.rows()
    assert [r.kind for r in rows] == ["probability", "class", "score", "probability"]
    assert rows[2].threshold and float(rows[2].threshold) > 0  # a suggested operating point
    text = page.models.suggestions.text()
    assert "flag: two numbers (0 and 1), so a predicted class" in text
    assert "points: numbers outside 0–1, so a raw score" in text and "prevalence" in text
    assert "nope:" in text and "'nope'" in text  # the missing column is named, not raised
    assert len(errors_seen) == 1


def test_two_windows_keep_their_own_model_rows(qtbot, tmp_path, errors_seen) -> None:
    first, second = _page(qtbot), _page(qtbot)
    assert first is not second
    first.models.set_rows([FormModel("A", "prob"), FormModel("B", "flag", "class")])
    second.models.set_rows([FormModel("X", "points", "score", "20"),
                            FormModel("Y", "prob", "probability", "0.3"),
                            FormModel("Z", "flag", "class")])
    assert [m.name for m in first.models.rows()] == ["A", "B"]
    assert [m.kind for m in second.models.rows()] == ["score", "probability", "class"]
    second.data_edit.setText(str(_kinds_data(tmp_path)))
    second.label_edit.setText("y")
    second.groups_edit.setText("sex")
    second.run_button.click()
    qtbot.waitUntil(second.is_complete, timeout=30000)
    assert not first.is_complete() and not errors_seen
    assert [m["name"] for m in second.doc["models"]] == ["X", "Y", "Z"]
    assert "clustering" not in second.doc["methods"]


def test_patient_column_makes_the_paired_intervals_cluster_robust(qtbot, tmp_path,
                                                                  errors_seen) -> None:
    data = _kinds_data(tmp_path)
    frame = pd.read_csv(data)
    frame["patient"] = [f"p{i // 3}" for i in range(len(frame))]
    frame.to_csv(data, index=False)
    page = _page(qtbot)
    page.data_edit.setText(str(data))
    page.label_edit.setText("y")
    page.groups_edit.setText("sex")
    page.cluster_edit.setText("patient")
    page.models.set_rows([FormModel("P", "prob"), FormModel("S", "points", "score", "21")])
    page.run_button.click()
    qtbot.waitUntil(page.is_complete, timeout=30000)
    assert not errors_seen and "clustering" in page.doc["methods"]
    auroc = [e for e in page.doc["paired"] if e["metric"] == "auroc"]
    assert auroc and all("Obuchowski 1997" in e["difference"]["method"] for e in auroc)
    page.cluster_edit.setText("nope")
    page.run_button.click()
    qtbot.waitUntil(lambda: bool(errors_seen), timeout=30000)
    assert "nope" in errors_seen[0] and "\n" not in errors_seen[0]


def test_a_dossier_opens_in_the_worker_and_a_running_comparison_goes_on(
    qtbot, tmp_path, monkeypatch, errors_seen
) -> None:
    """Opening a dossier reads and checks it off the UI thread; a comparison running meanwhile
    is neither cancelled nor shown as finished, and its result replaces the opened dossier."""
    import threading

    from assessment.compare import cli, dossier

    path = _dossier(tmp_path, 5, 3, monkeypatch)
    on_ui_thread: list[bool] = []
    real_load, real_analyse = dossier.load_dossier, cli.analyse

    def load(p: Path) -> dict:
        on_ui_thread.append(threading.current_thread() is threading.main_thread())
        return real_load(p)

    release = threading.Event()

    def analyse(*args, **kwargs):  # the comparison waits until the dossier is shown
        assert release.wait(20)
        return real_analyse(*args, **kwargs)

    monkeypatch.setattr(dossier, "load_dossier", load)
    monkeypatch.setattr(cli, "analyse", analyse)
    page = _page(qtbot)
    page.data_edit.setText(str(_data(tmp_path, 6, 2)))
    page.label_edit.setText("y")
    page.models.set_rows([FormModel("A", "m0"), FormModel("B", "m1")])
    page.groups_edit.setText("sex")
    page.run_button.click()
    assert page.tasks.running() and page.cancel_button.isEnabled()
    open_dossier(qtbot, page, path)
    assert on_ui_thread == [False]
    assert page.side.rowCount() == 3 and "V2" in page.source.text()  # the opened one
    assert page.tasks.running()  # the comparison goes on, its buttons unchanged
    assert page.cancel_button.isEnabled() and not page.run_button.isEnabled()
    assert page.status.text() == "Comparing…"
    release.set()
    qtbot.waitUntil(lambda: not page.tasks.running(), timeout=30000)
    assert page.side.rowCount() == 2 and page.side.item(0, 0).text() == "A"
    assert page.run_button.isEnabled() and not page.cancel_button.isEnabled()
    assert not errors_seen
