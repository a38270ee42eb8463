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
from gui.compare.page import ComparisonPage
from tests.gui.helpers import open_window


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
    argv = ["compare", str(data), "--label", "y", "--group", "sex", "--bootstrap", "50",
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
    page.open_dossier(_dossier(tmp_path, 1, 2, monkeypatch))
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
    page.open_dossier(_dossier(tmp_path, 2, 3, monkeypatch))
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
    page.open_dossier(path)
    assert len(errors_seen) == 1 and message in errors_seen[0]
    assert not page.is_complete()


def test_run_in_the_page_and_bad_settings(qtbot, tmp_path, errors_seen) -> None:
    page = _page(qtbot)
    page.run_button.click()
    assert "Give the data file" in errors_seen[-1]
    data = _data(tmp_path, 3, 2)
    page.data_edit.setText(str(data))
    page.label_edit.setText("y")
    page.models_edit.setText("A=m0; B=nope")
    page.groups_edit.setText("sex")
    page.run_button.click()
    qtbot.waitUntil(lambda: len(errors_seen) == 2, timeout=20000)
    assert "no column 'nope'" in errors_seen[-1]
    page.models_edit.setText("A=m0; B=m1")
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
    assert "gbm_probability" in page.models_edit.text()
    from gui.compare.page import comparison_args

    args = comparison_args(page.data_edit.text(), page.label_edit.text(),
                           page.models_edit.text(), page.groups_edit.text(),
                           page.thresholds_edit.text())
    assert args.threshold == ["Logistic (demo)=0.15", "Gradient boosting=0.15"]
    assert args.group == ["race", "gender", "age_band"]


def test_page_survives_a_second_assessment_document(qtbot, tmp_path, monkeypatch,
                                                    errors_seen) -> None:
    from assessment.document import Assessment

    window = open_window(qtbot)
    page = window.go_to("compare")
    page.open_dossier(_dossier(tmp_path, 4, 2, monkeypatch))
    window.set_document(Assessment.new("probast-ai-2025"), None)
    again = window.go_to("compare")
    assert isinstance(again, ComparisonPage)
    again.open_dossier(tmp_path / "c4.json")
    assert again.side.rowCount() == 2 and not errors_seen
