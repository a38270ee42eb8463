"""A reviewer's whole session in the real main window, offscreen (issue 5, "Done means").

One flow, in the order a reviewer works: start as ``python main.py`` does (the demo opens),
change PROBAST answers and watch the judgements follow, load validation data and adjust the
suggested mapping, cancel one evaluation and finish another, read the subgroup table against the
engine, sign and export the report and verify it independently, then crash and recover.

The GUI test fixtures (scripted dialog stand-ins, no dangling workers, Qt warnings fail) are
reused from tests/gui/conftest.py by binding them in this module: they apply here only, not to
the other end-to-end tests.
"""

from __future__ import annotations

import gc
import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from PySide6.QtCore import Qt

import tests.gui.conftest as gui_fixtures
from assessment import storage
from assessment.document import Assessment
from assessment.evaluation.engine import evaluate
from assessment.evaluation.io import prepare_input, read_table, suggest_mapping
from assessment.evaluation.spec import EvaluationSpec
from gui import app as gui_app
from gui.data.table_model import RAW_ROLE
from gui.export import page as export_page
from gui.export.page import NewIdentity
from gui.main_window import MainWindow, demo_path
from reports.attachment import read_attachment
from reports.identity import load_certificates
from reports.verify import verify_file
from tests.gui.helpers import click_answer

# The GUI suite's fixtures, bound here so that they apply to this module (autouse ones too).
dialogs = gui_fixtures.dialogs
no_dangling_workers = gui_fixtures.no_dangling_workers
fail_on_qt_warnings = gui_fixtures.fail_on_qt_warnings

REPO_ROOT = Path(__file__).resolve().parents[2]
PREDICTIONS = REPO_ROOT / "resources" / "demo" / "validation_predictions.parquet"
ROWS = 4000
PASSPHRASE = "a long enough passphrase for the e2e test"
LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 60_000


@pytest.fixture(autouse=True)
def collect_garbage_on_ui_thread():
    """Collect this test's widget garbage on the UI thread (see tests/gui/test_data_page.py):
    left to chance, the cyclic GC can run in a later worker thread and delete QObjects there."""
    yield
    gc.collect()


def start_like_main(qtbot) -> MainWindow:
    """What ``python main.py`` does without arguments (gui.app.run), minus the event loop."""
    gui_app.make_application(["probity"])
    window = MainWindow()
    qtbot.addWidget(window, before_close_func=lambda w: w.close_without_prompt())
    gui_app.install_excepthook(window)
    gui_app.open_initial_document(window, [])
    window.show()
    qtbot.waitExposed(window)
    window.start_warm_up()
    return window


def table_rows(page, key: str = "groups") -> list[dict]:
    """The rows of a results table as the reviewer sees them (through the sort proxy)."""
    proxy = page.proxies[key]
    names = page.models[key].column_names()
    return [
        {names[c]: proxy.data(proxy.index(r, c), RAW_ROLE) for c in range(len(names))}
        for r in range(proxy.rowCount())
    ]


def choose(qtbot, page, combo, value: str) -> None:
    """Pick ``value`` in a results-page combo as a user would (activated), wait for the redraw."""
    index = combo.findData(value)
    assert index >= 0, f"{value!r} not offered"
    combo.setCurrentIndex(index)
    with qtbot.waitSignal(page.refreshed, timeout=WAIT_MS):
        combo.activated.emit(index)


def intersection_item(page, combo: tuple[str, ...]):
    items = [page.intersection_list.item(i) for i in range(page.intersection_list.count())]
    return next(i for i in items if tuple(i.data(Qt.ItemDataRole.UserRole)) == combo)


def recovery_answer(path: Path, key: str) -> str | None:
    payload = json.loads(path.read_text(encoding="utf-8"))
    return (payload["document"]["answers"].get(key) or {}).get("value")


@pytest.mark.slow
def test_a_reviewer_session_from_demo_to_signed_report_and_crash_recovery(
    qtbot, tmp_path, dialogs, monkeypatch
):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # install_excepthook replaces it
    demo = storage.load(demo_path())

    # ---------------------------------------------------------------- start: the demo opens
    window = start_like_main(qtbot)
    ctx = window.ctx
    assert ctx.doc.title == demo.title and ctx.path is None  # never saved over the package
    assert not ctx.modified and dialogs.calls == []  # nothing to recover, nothing asked
    assert {o.id: o.value for o in ctx.judgement().overall}["rob"] == "high"
    summary = window.go_to("summary")
    summary.refresh_now()
    assert summary.overall_chips["rob"].text().lower() == "high"

    # ------------------------------------------------------------ PROBAST: answers -> judgements
    d3 = window.go_to("domain:main:D3")
    assert window.current_key() == "domain:main:D3"
    assert d3.suggested_chip.property("level") == "high"  # 3.1 answered PN on both slots
    assert d3.final_buttons["high"].isChecked()
    for key in ("3.1@development", "3.1@validation"):
        click_answer(qtbot, d3, key, "Y")
    # The suggestion follows the answers by itself (no explicit refresh).
    qtbot.waitUntil(lambda: d3.suggested_chip.property("level") == "low", timeout=5000)
    assert ctx.doc.answer("3.1@validation").value == "Y"
    assert ctx.judgement().domain("main:D3").final_is_override  # "high" now departs from it
    # The reviewer accepts the new suggestion: the overall judgement is low everywhere.
    assert "Low" in d3.final_follow.text()
    qtbot.mouseClick(d3.final_follow, LEFT)
    assert ctx.doc.domain_judgement("main:D3").final is None
    window.go_to("summary")
    qtbot.waitUntil(lambda: summary.overall_chips["rob"].text().lower() == "low", timeout=5000)
    assert {o.id: o.value for o in ctx.judgement().overall}["rob"] == "low"
    row = [d.key for d in ctx.judgement().domains].index("main:D3")
    assert summary.table.item(row, 2).text() == "Low"
    assert ctx.modified and window.saved_label.text() == "Unsaved changes"

    # ---------------------------------------------------------------- validation data and mapping
    data = window.page("data")
    with qtbot.waitSignal(data.table_loaded, timeout=WAIT_MS):
        window.go_to("data")  # the demo's own (hash-verified) data opens first
    assert data.table.file_name == PREDICTIONS.name
    demo_evaluation = ctx.doc.evaluation
    assert demo_evaluation.file_name == PREDICTIONS.name

    csv = tmp_path / "my_validation.csv"
    # the reviewer's own file holds the one model under review (the demo file also carries a
    # second model's column for the procurement comparison)
    frame = pd.read_parquet(PREDICTIONS).drop(columns=["gbm_probability"])
    frame = frame.sample(n=ROWS, random_state=20261123)
    frame.reset_index(drop=True).to_csv(csv, index=False)
    dialogs.reply("ask_open_path", csv)
    with qtbot.waitSignal(data.table_loaded, timeout=WAIT_MS):
        qtbot.mouseClick(data.open_button, LEFT)
    assert data.path == csv.resolve() and data.preview_model.rowCount() == ROWS
    assert f"{ROWS:,} rows" in data.file_label.text()
    suggested = data.current_mapping()  # auto-detected from names and contents
    assert suggested.label == "readmitted_30d" and suggested.positive == "1"
    assert suggested.score == "predicted_probability" and suggested.kind == "probability"
    assert suggested.attributes == ["race", "gender", "age_band"]  # encounter_id is an id
    # The intersections offered follow the attributes; the demo's race × gender stays chosen.
    assert data.current_spec().intersections == (("race", "gender"),)

    # Adjust through the widgets: the demo's threshold, another intersection, B and seed.
    with qtbot.waitSignal(data.check_finished, timeout=WAIT_MS):
        data.threshold_spin.setValue(0.15)
    assert not data.has_errors() and data.run_button.isEnabled()
    intersection_item(data, ("gender", "age_band")).setCheckState(Qt.CheckState.Checked)
    data.seed_spin.setValue(7)
    data.bootstrap_spin.setValue(100_000)  # long enough to be cancelled mid-way
    chosen = data.current_spec()
    assert chosen.intersections == (("race", "gender"), ("gender", "age_band"))

    # ---------------------------------------------------------------- run, cancel, run again
    with qtbot.waitSignal(data.evaluation_cancelled, timeout=WAIT_MS):
        qtbot.mouseClick(data.run_button, LEFT)
        assert data.running and data.cancel_button.isEnabled()
        assert not data.run_button.isEnabled()
        qtbot.waitUntil(lambda: data.progress.value() > 0, timeout=WAIT_MS)
        qtbot.mouseClick(data.cancel_button, LEFT)
    assert not data.running and data.run_button.isEnabled()
    assert "cancelled" in data.status.text().lower()
    assert ctx.doc.evaluation == demo_evaluation  # nothing of the cancelled run was stored

    data.bootstrap_spin.setValue(200)
    with qtbot.waitSignal(data.evaluation_finished, timeout=WAIT_MS):
        qtbot.mouseClick(data.run_button, LEFT)
    stored = ctx.doc.evaluation
    assert stored.file_name == csv.name
    assert stored.sha256 == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert stored.spec.bootstrap == 200
    assert stored.result.rows_used == ROWS
    assert data.is_complete() and data.progress.value() == 1000

    # ---------------------------------------------------------------- results against the engine
    table = read_table(csv)
    mapping = replace(suggest_mapping(table), threshold=0.15)
    assert stored.mapping == mapping.to_json()
    spec = EvaluationSpec(
        threshold=0.15,
        intersections=(("race", "gender"), ("gender", "age_band")),
        bootstrap=200,
        seed=7,
        training_demographics={a: {g: float(c) for g, c in groups.items()}
                               for a, groups in ctx.doc.training_demographics.items()},
        reference_population=ctx.doc.reference_population,
        demographics_map={"gender": "sex"},  # the datasheet says "sex", the data "gender"
    )
    assert stored.spec == spec
    assert {r.attribute for r in stored.result.representativeness} >= {"gender", "race"}
    expected = evaluate(prepare_input(table, mapping), spec).to_json()
    assert stored.result_json()["groups"] == expected["groups"]

    results = window.go_to("results")
    qtbot.waitUntil(lambda: results.result is not None
                    and results.result.provenance == stored.result.provenance,
                    timeout=WAIT_MS)
    choose(qtbot, results, results.metric_combo, "auroc")
    choose(qtbot, results, results.attribute_combo, "race×gender")
    shown = table_rows(results)
    engine = {g["group"]: g for g in expected["groups"] if g["attribute"] == "race×gender"}
    assert {r["Group"] for r in shown if r["Attribute"] == "race×gender"} == set(engine)
    for r in shown:
        if r["Attribute"] != "race×gender":
            continue
        group = engine[r["Group"]]
        auroc = group["metrics"]["auroc"]
        assert r["n"] == group["n"] and r["Events"] == group["n_pos"]
        assert r["Value"] == pytest.approx(auroc["value"])
        assert r["CI low"] == pytest.approx(auroc["ci_low"])
        assert r["CI high"] == pytest.approx(auroc["ci_high"])
    largest = max(engine.values(), key=lambda g: g["n"])
    assert largest["n"] > 1000 and largest["metrics"]["auroc"]["value"] is not None

    # ---------------------------------------------------------------- sign and export
    monkeypatch.setattr(  # the create-identity dialog stand-in: the reviewer types the fields
        export_page, "ask_new_identity",
        lambda parent, defaults: NewIdentity(defaults["name"], defaults["role"],
                                             defaults["organisation"], defaults["email"],
                                             PASSPHRASE),
    )
    export = window.go_to("export")
    assert not export.export_button.isEnabled()  # no identity yet
    with qtbot.waitSignal(export.identity_created, timeout=WAIT_MS) as created:
        qtbot.mouseClick(export.create_button, LEFT)
    identity = created.args[0]
    assert export.selected_identity() == identity and export.export_button.isEnabled()
    assert demo.reviewer.name in export.identity_info.text()

    pdf = tmp_path / "signed-report.pdf"
    saved = tmp_path / "my-assessment.probity"
    # The report embeds the saved file: the unsaved demo is saved first (Save As: where?).
    dialogs.reply("ask_yes_no", True)
    dialogs.reply("ask_save_path", saved, pdf)
    dialogs.reply("ask_passphrase", PASSPHRASE)
    # File > Export signed PDF (Ctrl+E). Not the page's own button: its clicked(bool) reaches
    # export_signed_pdf(out=False) and fails with a TypeError (gui/export/page.py, reported).
    with qtbot.waitSignal(export.exported, timeout=WAIT_MS) as done:
        window.act_export.trigger()
    outcome = done.args[0]
    assert outcome.path == pdf and pdf.read_bytes().startswith(b"%PDF-")
    assert outcome.verification.ok and export.is_complete()
    assert export.verification.banner.text().startswith("✔")
    assert [r["Signer"] for r in export.verification.rows] == [demo.reviewer.name]
    assert export.verification.rows[0]["Intact"] == "yes"
    assert "verified" in export.status.text()
    # Independently: reports.verify against only this identity's certificate, not the store.
    check = verify_file(pdf, extra_trust=tuple(load_certificates(identity.with_suffix(".pem"))),
                        use_store=False)
    assert check.ok and [s.signer for s in check.signatures] == [demo.reviewer.name]
    assert all(s.intact and s.valid and s.trusted and s.coverage_ok for s in check.signatures)
    embedded_bytes = read_attachment(pdf.read_bytes()).data
    assert embedded_bytes == saved.read_bytes() and ctx.path == saved.resolve()
    embedded = Assessment.from_json(json.loads(embedded_bytes))
    assert embedded.answer("3.1@validation").value == "Y"  # the report states today's edits
    assert embedded.evaluation.config_json()["file_name"] == csv.name

    # ---------------------------------------------------------------- crash, then recovery
    assert not ctx.modified
    ctx.doc.set_notes("typed after signing")  # an edit the crash must not lose
    qtbot.waitUntil(lambda: window.autosave.recovery_file is not None and not
                    window.autosave.pending, timeout=WAIT_MS)
    recovery = window.autosave.recovery_file
    assert recovery_answer(recovery, "3.1@validation") == "Y"  # written by the autosave
    assert ctx.modified  # not saved since the export
    # The process dies: no close prompt, no further autosave.
    ctx.doc.remove_listener(ctx.session._relay)
    window.close_without_prompt()
    assert recovery.is_file()

    fresh = MainWindow()
    qtbot.addWidget(fresh, before_close_func=lambda w: w.close_without_prompt())
    dialogs.reply("ask_yes_no", True)  # "Recover unsaved edits?" — yes
    gui_app.open_initial_document(fresh, [])
    fresh.show()
    qtbot.waitExposed(fresh)
    assert dialogs.asked("ask_yes_no") == 2  # save before signing; recover
    recovered = fresh.ctx.doc
    assert recovered.title == demo.title and fresh.ctx.path == saved.resolve()
    assert recovered.notes == "typed after signing"
    assert recovered.answer("3.1@validation").value == "Y"
    assert recovered.answer("3.1@development").value == "Y"
    assert recovered.domain_judgement("main:D3").final is None
    assert recovered.evaluation.config_json()["file_name"] == csv.name
    assert fresh.ctx.modified and fresh.saved_label.text() == "Unsaved changes"
    page = fresh.go_to("domain:main:D3")
    page.refresh_now()
    assert page.cards["3.1"].editors["3.1@validation"].buttons["Y"].isChecked()
    assert page.suggested_chip.property("level") == "low"
    assert {o.id: o.value for o in fresh.ctx.judgement().overall}["rob"] == "low"
    assert dialogs.messages == []  # no error was shown anywhere in the session
