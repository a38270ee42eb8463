"""Comparison page (break D, items 1, 5, 6, 9): patients (not rows) with a patient column,
the clustering and warnings shown on the page, hand-edited dossiers refused in one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assessment.compare.model_form import FormModel
from gui.compare.page import ComparisonPage
from tests.gui.helpers import open_dossier, open_window


@pytest.fixture()
def errors_seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from gui import errors

    seen: list[str] = []
    monkeypatch.setattr(errors, "report", lambda _p, exc, _log=None: seen.append(str(exc)))
    return seen


def _data(tmp_path: Path, missing_ids: int = 0) -> Path:
    rng = np.random.default_rng(8)
    n = 400
    x = rng.normal(size=n)
    frame = pd.DataFrame({
        "patient": [f"p{i // 2}" for i in range(n)],
        "y": (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x - 1)))).astype(int),
        "sex": rng.choice(["F", "M"], n),
        "a": np.round(1 / (1 + np.exp(-(x + rng.normal(size=n) - 1))), 3),
        "b": np.round(1 / (1 + np.exp(-(0.5 * x + rng.normal(size=n) - 1))), 3),
    })
    frame.loc[: missing_ids - 1, "patient"] = None
    path = tmp_path / "v.csv"
    frame.to_csv(path, index=False)
    return path


def _run(qtbot, tmp_path: Path, cluster: str, missing_ids: int = 0) -> ComparisonPage:
    window = open_window(qtbot)
    page = window.go_to("compare")
    assert isinstance(page, ComparisonPage)
    page.data_edit.setText(str(_data(tmp_path, missing_ids)))
    page.label_edit.setText("y")
    page.groups_edit.setText("sex")
    page.cluster_edit.setText(cluster)
    page.models.set_rows([FormModel("A", "a"), FormModel("B", "b")])
    page.run_button.click()
    qtbot.waitUntil(page.is_complete, timeout=60000)
    return page


def test_the_page_counts_patients_and_states_the_clustering(qtbot, tmp_path,
                                                            errors_seen) -> None:
    page = _run(qtbot, tmp_path, "patient", missing_ids=10)
    assert not errors_seen
    # 195 patients with ids + 10 rows without one, each its own patient
    assert "on 205 patients (400 rows; patient column 'patient')" in page.source.text()
    notes = page.notes.text()
    assert "Clustering:" in notes and "Rows are clustered" in notes
    assert "Warning:" in notes and "10 of the 400 compared rows have no patient id" in notes
    assert "\x1f" not in page.source.text() + notes


def test_the_page_warns_about_a_group_column_as_patient_column(qtbot, tmp_path,
                                                               errors_seen) -> None:
    page = _run(qtbot, tmp_path, "sex")
    assert "Warning:" in page.notes.text() and "also a group column" in page.notes.text()


def test_a_hand_edited_dossier_is_refused_and_the_shown_one_kept(qtbot, tmp_path,
                                                                 errors_seen) -> None:
    page = _run(qtbot, tmp_path, "patient")
    doc = page.doc
    assert doc is not None
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc))
    open_dossier(qtbot, page, path)  # the dossier as written loads
    assert not errors_seen
    entry = next(e for e in doc["paired"] if e["metric"] == "auroc")
    entry["difference"].update(p_value=0.9, p_adjusted=0.9)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    shown = page.source.text()
    open_dossier(qtbot, page, bad)
    assert len(errors_seen) == 1 and "z test of its own interval" in errors_seen[0]
    assert "\n" not in errors_seen[0] and page.source.text() == shown
    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * 100_000)
    open_dossier(qtbot, page, deep)
    assert len(errors_seen) == 2 and "nested too deeply" in errors_seen[1]


def test_an_older_clustered_dossier_says_rows_not_patients(qtbot, tmp_path,
                                                           errors_seen) -> None:
    page = _run(qtbot, tmp_path, "patient")
    doc = page.doc
    assert doc is not None
    for key in ("patients", "patient_column", "most_rows_per_patient", "missing_patient_ids"):
        del doc["data"][key]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    open_dossier(qtbot, page, path)
    assert not errors_seen
    assert "on 400 rows (several per patient; the patients are not counted)" in \
        page.source.text()
