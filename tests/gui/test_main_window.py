"""The application shell: files, recovery, close prompt, drag and drop, error funnel, selftest."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from assessment import storage
from assessment.document import Assessment
from gui import app as gui_app
from gui.errors import Choice
from gui.main_window import MainWindow, demo_path
from tests.gui.helpers import click_answer, open_window


def answered_doc() -> Assessment:
    doc = Assessment.new("probast-2019")
    doc.set_study_type("validation")
    doc.set_answer("1.1@validation", "Y")
    doc.dirty = False
    return doc


def test_steps_follow_instrument_and_study_type(qtbot):
    doc = Assessment.new("probast-ai-2025")
    window = open_window(qtbot, doc)
    keys = [s.key for s in window.steps]
    assert keys[:3] == ["review", "model_card", "datasheet"]
    assert keys[-7:] == ["plan", "data", "population", "results", "compare", "summary", "export"]
    all_domains = [k for k in keys if k.startswith("domain:")]
    assert {k.split(":")[1] for k in all_domains} == {"development", "evaluation"}
    doc.set_study_type("development")
    window.refresh_steps()
    domains = [s.key for s in window.steps if s.key.startswith("domain:")]
    assert domains == [f"domain:development:D{i}" for i in range(1, 5)]
    assert window.step_list.currentItem() is not None


def test_status_bar_shows_file_and_saved_state(qtbot, tmp_path, dialogs):
    window = open_window(qtbot, answered_doc())
    assert window.file_label.text() == "File: not saved yet"
    assert window.saved_label.text() == "No changes yet"
    page = window.go_to("domain:main:D1")
    click_answer(qtbot, page, "1.2@validation", "PY")
    assert window.saved_label.text() == "Unsaved changes" and window.isWindowModified()
    target = tmp_path / "review"
    dialogs.reply("ask_save_path", target)
    window.act_save.trigger()
    saved = tmp_path / "review.probity"
    assert saved.is_file()
    assert window.file_label.text() == "File: review.probity"
    assert window.saved_label.text() == "All changes saved"
    assert str(saved.resolve()) in window.ctx.settings.recent_files()


def test_save_and_open_round_trip(qtbot, tmp_path, dialogs):
    window = open_window(qtbot, answered_doc())
    page = window.go_to("domain:main:D2")
    click_answer(qtbot, page, "2.1@validation", "NI")
    path = tmp_path / "a.probity"
    dialogs.reply("ask_save_path", path)
    assert window.save()
    window.ctx.doc.set_notes("edited after saving")
    dialogs.reply("ask_save_discard_cancel", Choice.DISCARD)
    assert window.load_file(path)
    assert dialogs.asked("ask_save_discard_cancel") == 1
    doc = window.ctx.doc
    assert doc.answer("2.1@validation").value == "NI" and doc.answer("1.1@validation").value == "Y"
    assert doc.notes == "" and not window.ctx.modified
    d2 = window.go_to("domain:main:D2")
    d2.refresh_now()
    assert d2.cards["2.1"].editors["2.1@validation"].buttons["NI"].isChecked()


def test_open_recent_menu_lists_saved_files(qtbot, tmp_path, dialogs):
    window = open_window(qtbot, answered_doc())
    dialogs.reply("ask_save_path", tmp_path / "recent.probity")
    window.save()
    window._fill_recent_menu()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert any("recent.probity" in t for t in texts)


def test_damaged_file_gives_one_clear_message_and_keeps_the_work(qtbot, tmp_path, dialogs):
    window = open_window(qtbot, answered_doc())
    window.ctx.doc.set_notes("typed by the reviewer")
    broken = tmp_path / "broken.probity"
    broken.write_text('{"format": "probity-assessment", "schema_version": 1, "answ')
    assert not window.load_file(broken)
    assert len(dialogs.messages) == 1
    message = dialogs.messages[0]
    assert "broken.probity" in message and "Traceback" not in message
    assert window.ctx.doc.notes == "typed by the reviewer"


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda t: t.replace('"performance_types": []', '"performance_types": [7]', 1),
         "$.performance_types[0]: expected text, got 7"),
        (lambda t: t.replace('"notes": "', '"notes": "\\ud800', 1), "lone UTF-16 surrogate"),
        (lambda t: t.replace('"notes": "', '"notes": ' + "[" * 50_000 + '"', 1),
         "nested too deeply"),
        (lambda t: t.replace('"schema": "probity-evaluation/1"', '"schema": 5', 1),
         "$.evaluation.result.schema: this result has schema 5"),
    ],
)
def test_damage_classes_in_the_open_path_are_one_line(qtbot, tmp_path, dialogs, damage,
                                                      expected):
    window = open_window(qtbot, answered_doc())
    text = demo_path().read_text(encoding="utf-8")
    damaged = damage(text)
    assert damaged != text
    broken = tmp_path / "damaged.probity"
    broken.write_text(damaged, encoding="utf-8")
    assert not window.load_file(broken)
    assert len(dialogs.messages) == 1
    assert expected in dialogs.messages[0] and "\n" not in dialogs.messages[0].strip()


@pytest.mark.parametrize("via", ["open", "drop"])
def test_damaged_file_is_refused_before_the_unsaved_question(qtbot, tmp_path, dialogs, via):
    """A damaged file never costs the open document its recovery copy: no Save/Discard
    question for a file that cannot be opened anyway."""
    window = open_window(qtbot, answered_doc())
    window.ctx.doc.set_notes("typed by the reviewer")
    qtbot.waitUntil(lambda: window.autosave.recovery_file is not None, timeout=5000)
    recovery = window.autosave.recovery_file
    broken = tmp_path / "truncated.probity"
    broken.write_text(demo_path().read_text(encoding="utf-8")[:5000], encoding="utf-8")
    if via == "open":
        dialogs.reply("ask_open_path", broken)
        assert not window.open_dialog()
    else:
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(broken))])
        window.dropEvent(QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime,
                                    Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
        qtbot.waitUntil(lambda: len(dialogs.calls) > 0, timeout=5000)  # loads after the drop
    assert dialogs.asked("ask_save_discard_cancel") == 0
    assert len(dialogs.messages) == 1 and "truncated.probity" in dialogs.messages[0]
    assert "Traceback" not in dialogs.messages[0]
    assert recovery.is_file() and window.ctx.modified
    assert window.ctx.doc.notes == "typed by the reviewer"


def test_recovery_after_a_simulated_crash(qtbot, dialogs):
    window = open_window(qtbot, answered_doc())
    page = window.go_to("domain:main:D3")
    click_answer(qtbot, page, "3.1@validation", "PN")
    qtbot.waitUntil(lambda: window.autosave.recovery_file is not None, timeout=5000)
    recovery = window.autosave.recovery_file
    assert recovery.is_file()
    # the process dies: no close prompt, no clean-up
    window.ctx.doc.remove_listener(window.ctx.session._relay)
    window.close_without_prompt()
    assert recovery.is_file()

    fresh = MainWindow()
    qtbot.addWidget(fresh, before_close_func=lambda w: w.close_without_prompt())
    dialogs.reply("ask_yes_no", True)
    gui_app.open_initial_document(fresh, [])
    assert dialogs.asked("ask_yes_no") == 1
    assert fresh.ctx.doc.answer("3.1@validation").value == "PN"
    assert fresh.ctx.modified and fresh.saved_label.text() == "Unsaved changes"


def test_recovering_into_a_native_window_marks_it_modified_without_a_qt_warning(qtbot, dialogs):
    """At start-up the recovery question (a dialog parented to the window) gives the window a
    native handle before any document title is shown; marking it modified must not warn."""
    window = open_window(qtbot, answered_doc())
    window.ctx.doc.set_notes("unsaved")
    qtbot.waitUntil(lambda: window.autosave.recovery_file is not None, timeout=5000)
    window.ctx.doc.remove_listener(window.ctx.session._relay)
    window.close_without_prompt()

    fresh = MainWindow()
    qtbot.addWidget(fresh, before_close_func=lambda w: w.close_without_prompt())
    fresh.winId()  # the native window exists, as under a real display
    dialogs.reply("ask_yes_no", True)
    assert fresh.offer_recovery()
    assert fresh.isWindowModified() and "[*]" in fresh.windowTitle()
    assert fresh.ctx.doc.notes == "unsaved"  # the Qt-warning check (conftest) does the rest


def test_opening_a_file_with_crashed_edits_offers_them_first(qtbot, tmp_path, dialogs):
    """Started with a .probity file (double-click) whose edits a crash left behind: the
    recovery is offered, not silently overwritten by the next autosave of that file."""
    window = open_window(qtbot, answered_doc())
    saved = tmp_path / "review.probity"
    dialogs.reply("ask_save_path", saved)
    assert window.save_as()
    window.ctx.doc.set_notes("typed after saving, then the process died")
    qtbot.waitUntil(lambda: window.autosave.recovery_file is not None, timeout=5000)
    window.ctx.doc.remove_listener(window.ctx.session._relay)
    window.close_without_prompt()

    fresh = MainWindow()
    qtbot.addWidget(fresh, before_close_func=lambda w: w.close_without_prompt())
    dialogs.reply("ask_yes_no", True)
    gui_app.open_initial_document(fresh, [str(saved)])
    assert dialogs.asked("ask_yes_no") == 1
    assert fresh.ctx.doc.notes == "typed after saving, then the process died"
    assert fresh.ctx.path == saved.resolve() and fresh.ctx.modified


def test_file_open_of_a_file_with_crashed_edits_offers_them(qtbot, tmp_path, dialogs):
    window = open_window(qtbot, answered_doc())
    saved = tmp_path / "review.probity"
    dialogs.reply("ask_save_path", saved)
    assert window.save_as()
    window.ctx.doc.set_notes("typed after saving, then the process died")
    qtbot.waitUntil(lambda: window.autosave.recovery_file is not None, timeout=5000)
    window.ctx.doc.remove_listener(window.ctx.session._relay)
    window.close_without_prompt()

    running = open_window(qtbot, answered_doc())  # a later session, on another document
    dialogs.reply("ask_open_path", saved)
    dialogs.reply("ask_yes_no", True)
    assert running.open_dialog()
    assert dialogs.asked("ask_yes_no") == 1
    assert running.ctx.doc.notes == "typed after saving, then the process died"
    assert running.ctx.path == saved.resolve() and running.ctx.modified


def test_declining_recovery_deletes_it_and_opens_the_start_document(qtbot, dialogs):
    window = open_window(qtbot, answered_doc())
    window.ctx.doc.set_notes("unsaved")
    window.autosave.write_now()
    window.autosave.flush()
    recovery = window.autosave.recovery_file
    window.close_without_prompt()
    fresh = MainWindow()
    qtbot.addWidget(fresh, before_close_func=lambda w: w.close_without_prompt())
    dialogs.reply("ask_yes_no", False)
    gui_app.open_initial_document(fresh, [])
    assert not recovery.exists()
    assert fresh.ctx.has_document and fresh.ctx.doc.notes != "unsaved"
    assert fresh.ctx.doc.title == storage.load(demo_path()).title  # the start document
    assert not fresh.ctx.modified


def test_no_arguments_open_the_demo_and_answers_change_its_judgements(qtbot):
    window = MainWindow()
    qtbot.addWidget(window, before_close_func=lambda w: w.close_without_prompt())
    gui_app.open_initial_document(window, [])
    window.show()
    doc = window.ctx.doc
    assert window.ctx.path is None  # Save As, never over the packaged demo
    assert doc.title == storage.load(demo_path()).title
    summary = window.go_to("summary")
    summary.refresh_now()
    before = {o.id: o.value for o in window.ctx.judgement().overall}
    assert summary.overall_chips["rob"].text().lower() == before["rob"]
    # answer every question of the domain with the worst suggestion "Y": it becomes low
    worst = max(window.ctx.judgement().domains,
                key=lambda d: {"low": 0, "unclear": 1, "high": 2}.get(d.suggested or "", -1))
    page = window.go_to(f"domain:{worst.key}")
    for card in page.cards.values():
        for key, editor in card.editors.items():
            if not editor.buttons["Y"].isChecked():
                click_answer(qtbot, page, key, "Y")
    page.refresh_now()
    assert page.suggested_chip.property("level") == "low"
    assert window.ctx.judgement().domain(worst.key).suggested == "low"
    window.go_to("summary")
    summary.refresh_now()
    row = [d.key for d in window.ctx.judgement().domains].index(worst.key)
    assert summary.table.item(row, 2).text() == "Low"
    assert window.ctx.modified
    # undo everything back to the demo's judgement
    while window.ctx.doc.can_undo:
        window.act_undo.trigger()
    assert {o.id: o.value for o in window.ctx.judgement().overall} == before


def test_saving_removes_the_recovery_file(qtbot, tmp_path, dialogs):
    window = open_window(qtbot, answered_doc())
    window.ctx.doc.set_notes("x")
    window.autosave.write_now()
    window.autosave.flush()
    recovery = window.autosave.recovery_file
    assert recovery.is_file()
    dialogs.reply("ask_save_path", tmp_path / "s.probity")
    window.save()
    assert not recovery.exists()


def test_close_prompt_cancel_save_and_discard(qtbot, tmp_path, dialogs):
    window = open_window(qtbot, answered_doc())
    window.ctx.doc.set_notes("unsaved words")
    dialogs.reply("ask_save_discard_cancel", Choice.CANCEL)
    assert not window.close()
    assert window.isVisible()
    dialogs.reply("ask_save_discard_cancel", Choice.SAVE)
    dialogs.reply("ask_save_path", None)  # the reviewer cancels the save dialog: stay open
    assert not window.close()
    path = tmp_path / "closing.probity"
    dialogs.reply("ask_save_discard_cancel", Choice.SAVE)
    dialogs.reply("ask_save_path", path)
    assert window.close()
    assert storage.load(path).notes == "unsaved words"


def test_closing_with_discard_leaves_no_recovery_file(qtbot, dialogs):
    window = open_window(qtbot, answered_doc())
    window.ctx.doc.set_notes("throw away")
    window.autosave.write_now()
    window.autosave.flush()
    assert window.autosave.recovery_file.is_file()
    dialogs.reply("ask_save_discard_cancel", Choice.DISCARD)
    assert window.close()
    assert list(window.ctx.paths.recovery_dir.glob("*")) == []


def test_close_without_changes_does_not_ask(qtbot, dialogs):
    window = open_window(qtbot, answered_doc())
    assert window.close()
    assert dialogs.calls == []


def test_new_assessment_asks_for_the_instrument(qtbot, dialogs):
    window = open_window(qtbot, answered_doc())
    from assessment.instruments import available_instruments

    label = next(f"{name} ({iid})" for iid, name in available_instruments()
                 if iid == "probast-ai-2025")
    dialogs.reply("ask_item", label)
    assert window.new_document()
    assert window.ctx.doc.instrument_id == "probast-ai-2025"
    assert window.current_key() == "review"


def drop(window: MainWindow, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def test_dropping_a_probity_file_opens_it(qtbot, tmp_path):
    doc = answered_doc()
    doc.set_notes("dropped file")
    path = tmp_path / "dropped.probity"
    storage.save(doc, path)
    window = open_window(qtbot)
    drop(window, path)
    qtbot.waitUntil(lambda: window.ctx.doc.notes == "dropped file", timeout=3000)
    assert window.ctx.path == path.resolve()


def test_dropping_a_data_file_hands_it_to_the_data_page(qtbot, tmp_path):
    data = tmp_path / "validation.csv"
    data.write_text("y,score\n1,0.9\n0,0.2\n")
    window = open_window(qtbot, answered_doc())
    received: list[str] = []
    window.ctx.data_file_requested.connect(received.append)
    drop(window, data)
    qtbot.waitUntil(lambda: received == [str(data)], timeout=3000)
    assert window.current_key() == "data"


def test_excepthook_keeps_work_and_shows_one_sentence(qtbot, dialogs, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    window = open_window(qtbot, answered_doc())
    window.ctx.doc.set_notes("do not lose me")
    gui_app.install_excepthook(window)
    try:
        raise KeyError("boom")
    except KeyError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    assert len(dialogs.messages) == 1 and "Traceback" not in dialogs.messages[0]
    assert "work is kept" in dialogs.messages[0]
    recovery = window.autosave.recovery_file
    assert recovery is not None
    assert json.loads(recovery.read_text())["document"]["notes"] == "do not lose me"
    assert "KeyError" in window.ctx.paths.crash_log.read_text()


def test_palette_is_light(qtbot):
    app = gui_app.make_application(["probity"])
    window = app.palette().window().color()
    text = app.palette().windowText().color()
    assert window.lightness() > 200 and text.lightness() < 60
    assert app.style().name().lower() == "fusion"


def test_selftest_builds_every_page(qtbot, capsys):
    assert gui_app.selftest() == 0
    assert "selftest passed" in capsys.readouterr().out


@pytest.mark.parametrize("instrument", ["probast-2019", "probast-ai-2025"])
def test_about_dialog_cites_the_instruments(qtbot, instrument):
    from assessment.instruments import load_form, load_instrument
    from gui.dialogs import AboutDialog

    window = open_window(qtbot, Assessment.new(instrument))
    dialog = AboutDialog(window.ctx, window)
    qtbot.addWidget(dialog)
    text = dialog.text()
    for iid in ("probast-2019", "probast-ai-2025"):
        inst = load_instrument(iid)
        assert inst.citation[0] in text and inst.licence in text
    for fid in ("model-card", "datasheet"):
        assert load_form(fid).citation[0] in text
    assert "PySide6" in text and "LGPL" in text


def test_preferences_are_stored_and_used_for_new_assessments(qtbot, dialogs, config_dir):
    from gui.dialogs import PreferencesDialog
    from gui.paths import Settings

    window = open_window(qtbot, answered_doc())
    dialog = PreferencesDialog(window.ctx, window)
    qtbot.addWidget(dialog)
    dialog.name.setText("Dr Jane Roe")
    dialog.organisation.setText("Trust Hospital")
    dialog.instrument.setCurrentIndex(dialog.instrument.findData("probast-ai-2025"))
    dialog.accept()
    stored = Settings(config_dir / "settings.json")
    assert stored.get("reviewer_name") == "Dr Jane Roe"
    assert stored.get("default_instrument") == "probast-ai-2025"
    dialogs.reply("ask_item", dialogs_label("probast-ai-2025"))
    window.new_document()
    assert window.ctx.doc.reviewer.name == "Dr Jane Roe"
    assert window.ctx.doc.reviewer.organisation == "Trust Hospital"
    assert dialogs.calls[-1][1][3] == 1  # the preferred instrument is offered first


def dialogs_label(instrument_id: str) -> str:
    from assessment.instruments import available_instruments

    return next(f"{name} ({iid})" for iid, name in available_instruments() if iid == instrument_id)


def test_damaged_settings_file_falls_back_to_defaults(config_dir):
    from gui.paths import Settings

    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "settings.json").write_text("{not json")
    settings = Settings(config_dir / "settings.json")
    assert settings.get("recent_files") == [] and settings.get("open_demo_at_start") is True


def test_switching_instrument_replaces_the_domain_pages_cleanly(qtbot, dialogs):
    window = open_window(qtbot, answered_doc())
    for step in window.steps:
        window.go_to(step.key)
    dialogs.reply("ask_item", dialogs_label("probast-ai-2025"))
    assert window.new_document()
    assert dialogs.messages == []
    assert not any(k.startswith("domain:main:") for k in window.built_pages())
    page = window.go_to("domain:evaluation:D1")
    assert page.cards == {} and page.notice.isVisibleTo(page)  # no study type yet
    window.ctx.doc.set_study_type("evaluation")
    page.refresh_now()
    assert page.cards and all(q.startswith("E-") for q in page.cards)


def test_autosave_is_debounced_and_off_the_ui_thread(qtbot, monkeypatch):
    import threading

    window = open_window(qtbot, answered_doc())
    writes: list[str] = []
    real = storage.write_recovery

    def counting(doc, folder, original, **owner_and_base):  # noqa: ANN001, ANN202
        writes.append(threading.current_thread().name)
        return real(doc, folder, original, **owner_and_base)

    monkeypatch.setattr(storage, "write_recovery", counting)
    for text in ("a", "ab", "abc", "abcd", "abcde"):
        window.ctx.doc.set_notes(text)
    assert window.autosave.pending and writes == []
    qtbot.waitUntil(lambda: window.autosave.recovery_file is not None, timeout=5000)
    assert writes == ["probity-autosave"]
    payload = json.loads(window.autosave.recovery_file.read_text())
    assert payload["document"]["notes"] == "abcde"


def test_a_data_file_at_start_opens_a_new_assessment_on_the_data_page(qtbot, tmp_path):
    data = tmp_path / "predictions.csv"
    data.write_text("y,score\n1,0.9\n0,0.2\n")
    window = MainWindow()
    qtbot.addWidget(window, before_close_func=lambda w: w.close_without_prompt())
    received: list[str] = []
    window.ctx.data_file_requested.connect(received.append)
    gui_app.open_initial_document(window, [str(data)])
    assert window.ctx.doc.title == "Untitled assessment"
    assert received == [str(data)] and window.current_key() == "data"


def test_export_and_verify_menu_actions_reach_the_export_step(qtbot, monkeypatch):
    from gui.export import verify_dialog
    from gui.export.page import SignExportPage

    started: list[bool] = []
    shown: list[object] = []
    monkeypatch.setattr(SignExportPage, "start_export", lambda self: started.append(True))
    monkeypatch.setattr(verify_dialog.VerifyDialog, "exec", lambda self: shown.append(self) or 0)
    window = open_window(qtbot, answered_doc())
    window.act_export.trigger()
    assert started == [True] and window.current_key() == "export"
    window.act_verify.trigger()
    assert len(shown) == 1 and shown[0].parent() is window


def test_text_still_being_typed_counts_before_closing(qtbot, dialogs):
    window = open_window(qtbot, answered_doc())
    summary = window.go_to("summary")
    summary.notes.setFocus()
    summary.notes.insertPlainText("typed, not yet committed")
    assert not window.ctx.modified
    dialogs.reply("ask_save_discard_cancel", Choice.CANCEL)
    assert not window.close()
    assert window.ctx.doc.notes == "typed, not yet committed"
