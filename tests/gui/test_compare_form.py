"""The Comparison page's form (pytest-qt, offscreen): a model from its own file joined on the
Key column, bad rows refused in the app's words (never CLI syntax), a running comparison
cancelled (in one window, not the other) and suggestions that skip the outcome, group and
patient columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assessment.compare.model_form import FormModel
from gui.compare.page import ComparisonPage
from tests.gui.helpers import open_window


@pytest.fixture()
def errors_seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from gui import errors

    seen: list[str] = []
    monkeypatch.setattr(errors, "report", lambda _p, exc, _log=None: seen.append(str(exc)))
    return seen


def _page(qtbot) -> ComparisonPage:
    window = open_window(qtbot)
    page = window.go_to("compare")
    assert isinstance(page, ComparisonPage)
    return page


def _files(tmp_path: Path, n: int = 400) -> tuple[Path, Path]:
    """The validation file (outcome, sex, patient id, one model) and a vendor's own file
    (id and risk, rows in another order)."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=n)
    frame = pd.DataFrame({
        "id": [f"e{i:05d}" for i in range(n)],
        "patient": [f"p{i // 2}" for i in range(n)],
        "y": (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x - 1)))).astype(int),
        "sex": rng.choice(["F", "M"], n),
        "pa": np.round(1 / (1 + np.exp(-(x + rng.normal(size=n) - 1))), 3),
    })
    data, vendor = tmp_path / "val.csv", tmp_path / "vendor.csv"
    frame.to_csv(data, index=False)
    own = pd.DataFrame({"id": frame["id"],
                        "risk": np.round(10 * x + rng.normal(size=n) + 20, 1)})
    own.iloc[::-1].to_csv(vendor, index=False)
    return data, vendor


def _fill(page: ComparisonPage, data: Path, rows: list[FormModel], key: str = "") -> None:
    page.data_edit.setText(str(data))
    page.label_edit.setText("y")
    page.groups_edit.setText("sex")
    page.models.set_rows(rows, key)


def test_a_model_from_its_own_file_runs_with_the_key_column(qtbot, tmp_path,
                                                            errors_seen) -> None:
    data, vendor = _files(tmp_path)
    page = _page(qtbot)
    rows = [FormModel("A", "pa"), FormModel("B", f"{vendor}:risk", "score", "20")]
    _fill(page, data, rows)
    page.run_button.click()  # no key: said in the form's words, nothing lost
    assert len(errors_seen) == 1 and "enter the Key column" in errors_seen[0]
    assert "--" not in errors_seen[0]
    assert page.models.rows() == rows and page.run_button.isEnabled()
    page.models.key_edit.setText("id")
    page.run_button.click()
    qtbot.waitUntil(page.is_complete, timeout=30000)
    assert len(errors_seen) == 1, errors_seen
    joined = [j for j in page.doc["join"] if j["role"] == "model"]
    assert joined and joined[0]["matched"] == 400
    assert [m["name"] for m in page.doc["models"]] == ["A", "B"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [([FormModel("Logistic (demo)", "pa", threshold="abc"), FormModel("B", "pa")],
      "Model 'Logistic (demo)': the Threshold 'abc' is not a number"),
     ([FormModel("A=B", "pa"), FormModel("C", "pa")], "The model name 'A=B' contains '='"),
     ([FormModel("A\nB", "pa"), FormModel("C", "pa")], "contains a line break"),
     ([FormModel("Vendor", "pa"), FormModel("VENDOR", "pa")], "differ only in capitals"),
     ([FormModel("A", "pa"), FormModel("", "")], "at least two models: fill in a second row")],
)
def test_bad_rows_are_refused_in_the_apps_words(qtbot, tmp_path, errors_seen, rows,
                                                message) -> None:
    data, _vendor = _files(tmp_path)
    page = _page(qtbot)
    _fill(page, data, rows)
    page.run_button.click()
    assert len(errors_seen) == 1 and message in errors_seen[0], errors_seen
    assert "--" not in errors_seen[0] and "\n" not in errors_seen[0]
    assert page.models.rows() == rows and not page.is_complete()


def test_cancel_stops_a_running_comparison_in_one_window_only(qtbot, tmp_path,
                                                              errors_seen) -> None:
    data, _vendor = _files(tmp_path, 3000)
    first, second = _page(qtbot), _page(qtbot)
    assert not first.cancel_button.isEnabled()  # nothing runs yet
    for page in (first, second):
        _fill(page, data, [FormModel("A", "pa"), FormModel("B", "pa", threshold="0.3")])
    first.run_button.click()
    second.run_button.click()
    assert first.cancel_button.isEnabled() and not first.run_button.isEnabled()
    first.cancel_button.click()
    qtbot.waitUntil(lambda: "cancelled" in first.status.text(), timeout=30000)
    assert first.run_button.isEnabled() and not first.cancel_button.isEnabled()
    qtbot.waitUntil(second.is_complete, timeout=60000)  # the other window's run goes on
    assert not first.is_complete() and not errors_seen
    assert not second.cancel_button.isEnabled()
    first.run_button.click()  # and the cancelled page runs again
    qtbot.waitUntil(first.is_complete, timeout=60000)
    assert not errors_seen


def test_the_worker_stops_when_cancelled(tmp_path) -> None:
    from assessment.compare.cli import analyse
    from assessment.errors import Cancelled
    from gui.compare.page import comparison_args

    data, _vendor = _files(tmp_path)
    args = comparison_args(str(data), "y", [FormModel("A", "pa"), FormModel("B", "pa")], "sex")
    with pytest.raises(Cancelled):
        analyse(args, outputs=[], cancelled=lambda: True)


def test_suggestions_never_take_the_outcome_group_or_patient_column(qtbot, tmp_path,
                                                                    errors_seen) -> None:
    data, _vendor = _files(tmp_path)
    page = _page(qtbot)
    _fill(page, data, [FormModel("A", "y"), FormModel("B", "sex"), FormModel("C", "patient"),
                       FormModel("D", "pa", "score")])
    page.cluster_edit.setText("patient")
    page.models.suggest_button.click()
    qtbot.waitUntil(lambda: bool(page.models.suggestions.text()), timeout=20000)
    kinds = [r.kind for r in page.models.rows()]
    assert kinds == ["probability", "probability", "probability", "probability"], kinds
    text = page.models.suggestions.text()
    assert "y: the outcome column, not a model's prediction" in text
    assert "sex: a group column" in text and "patient: the patient column" in text
    assert not errors_seen


def test_worker_refusals_name_the_forms_fields(qtbot, tmp_path, errors_seen) -> None:
    data, _vendor = _files(tmp_path)
    frame = pd.read_csv(data)
    frame["flag"] = np.where(frame["pa"] > 0.4, "high", "low")
    frame["y"] = np.where(frame["y"] == 1, "readmitted", "home")
    frame.to_csv(data, index=False)
    page = _page(qtbot)
    _fill(page, data, [FormModel("A", "pa"), FormModel("B", "flag", "class")])
    page.run_button.click()  # the outcome's values are no 0/1: the Event value field
    qtbot.waitUntil(lambda: len(errors_seen) == 1, timeout=30000)
    assert "(enter it in the Event value field)" in errors_seen[0], errors_seen
    page.positive_edit.setText("readmitted")
    page.run_button.click()  # the class model's values: the Flagged value column
    qtbot.waitUntil(lambda: len(errors_seen) == 2, timeout=30000)
    assert "(enter it in the Flagged value column)" in errors_seen[1], errors_seen
    assert all("--" not in e for e in errors_seen)
    page.models.set_rows([FormModel("A", "pa"), FormModel("B", "flag", "class", "", "high")])
    page.run_button.click()
    qtbot.waitUntil(page.is_complete, timeout=30000)
    assert len(errors_seen) == 2
    assert page.doc["models"][1]["kind"] == "class"


def test_suggestions_during_a_comparison_leave_it_running(qtbot, tmp_path,
                                                          errors_seen) -> None:
    data, _vendor = _files(tmp_path, 3000)
    page = _page(qtbot)
    _fill(page, data, [FormModel("A", "pa"), FormModel("B", "nope")])
    page.run_button.click()
    page.models.suggest_button.click()  # its own lane: the comparison is not cancelled
    qtbot.waitUntil(lambda: bool(page.models.suggestions.text()), timeout=30000)
    qtbot.waitUntil(lambda: len(errors_seen) == 1, timeout=60000)
    assert "no column 'nope'" in errors_seen[0]  # the comparison ran to its own refusal
    assert "'nope'" in page.models.suggestions.text()
    page.models.set_rows([FormModel("A", "pa"), FormModel("B", "pa", threshold="0.3")])
    page.run_button.click()
    from assessment.errors import DataError

    page._suggest_failed(DataError("The suggestion failed."))  # keeps Cancel for the run
    assert errors_seen[-1] == "The suggestion failed."
    assert page.cancel_button.isEnabled() and not page.run_button.isEnabled()
    assert page.status.text() == "Comparing…"
    qtbot.waitUntil(page.is_complete, timeout=60000)
    assert not page.cancel_button.isEnabled() and page.status.text() == ""


def test_values_starting_with_a_dash_stay_values(tmp_path, capsys) -> None:
    """A name, column, outcome, group or file starting with "-" was taken for an option
    ("The comparison settings are not valid: 2." and argparse's usage on stderr)."""
    from gui.compare.page import comparison_args

    args = comparison_args("-d.csv", "-y", [FormModel("-A", "-pa", threshold="0.2"),
                                            FormModel("B", "pb", "score", "-1.5")],
                           "-sex", "-pid", "-key", "-1")
    assert (args.data, args.label, args.group, args.cluster, args.key) == (
        "-d.csv", "-y", ["-sex"], "-pid", "-key")
    assert args.model == ["-A=-pa", "B=pb"] and args.positive == ["-1"]
    assert args.threshold == ["-A=0.2", "B=-1.5"]
    assert capsys.readouterr().err == ""


def test_the_apps_read_limits_apply_and_can_be_raised(qtbot, tmp_path, errors_seen,
                                                      dialogs) -> None:
    """The page read files with the CLI's default limits (ignoring the app's) and told the
    reviewer to "Raise limit and read again", which it did not offer."""
    data, _vendor = _files(tmp_path)
    page = _page(qtbot)
    page.ctx.settings.set("read_limits", {"max_cells": 1000})  # 400 rows × 5 columns
    _fill(page, data, [FormModel("A", "pa"), FormModel("B", "pa", threshold="0.3")])
    dialogs.reply("ask_yes_no", False)
    page.run_button.click()
    qtbot.waitUntil(lambda: page.status.text().startswith("Not compared"), timeout=30000)
    question = dialogs.calls[-1][1][1]
    assert "over the limit of 1,000 cells" in str(question) and "--max" not in str(question)
    assert "run the comparison again" in str(question)
    assert page.run_button.isEnabled() and not page.is_complete() and not errors_seen
    dialogs.reply("ask_yes_no", True)
    page.run_button.click()
    qtbot.waitUntil(page.is_complete, timeout=30000)
    assert page.ctx.settings.get("read_limits")["max_cells"] >= 2000 and not errors_seen


def test_a_running_comparison_shows_its_progress(qtbot, tmp_path, errors_seen) -> None:
    data, _vendor = _files(tmp_path, 2000)
    page = _page(qtbot)
    _fill(page, data, [FormModel("A", "pa"), FormModel("B", "pa", threshold="0.3")])
    shown: list[str] = []
    page.status.setText = lambda text: shown.append(text)  # type: ignore[method-assign]
    page.run_button.click()
    qtbot.waitUntil(page.is_complete, timeout=60000)
    assert any(t.startswith("Comparing… ") and t.endswith("%") for t in shown), shown
    assert shown[-1] == "" and not errors_seen
