"""Issue 8 §4 through the real main window: two windows on one .probity file (lock question,
changed-on-disk question before a save), per-window recovery snapshots, and a crashed process's
snapshot and lock at the next start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assessment import locks, storage
from assessment.document import Assessment
from gui import app as gui_app
from gui import file_guard
from gui.main_window import MainWindow
from tests.gui.helpers import open_window
from tests.processes import killed_child as crash_child

REPO = Path(__file__).resolve().parents[2]


def saved(path: Path, notes: str = "as saved") -> Path:
    doc = Assessment.new("probast-2019")
    doc.set_field("model_card", "model_name", "Shared study")
    doc.set_notes(notes)
    storage.save(doc, path)
    return path


def notes_on_disk(path: Path) -> str:
    return str(json.loads(path.read_text(encoding="utf-8"))["notes"])


def window_on(qtbot, dialogs, path: Path, *, lock_reply: str | None = None) -> MainWindow:
    window = open_window(qtbot, Assessment.new())
    if lock_reply is not None:
        dialogs.reply("ask_choice", lock_reply)
    assert window.load_file(path)
    return window




def test_a_second_window_is_told_who_has_the_file(qtbot, tmp_path, dialogs) -> None:
    path = saved(tmp_path / "shared.probity")
    first = window_on(qtbot, dialogs, path)
    assert json.loads(locks.lock_file_for(path).read_text())["owner"]["instance"] == (
        first.ctx.instance.id
    )
    second = open_window(qtbot, Assessment.new())
    before = second.ctx.doc
    dialogs.reply("ask_choice", file_guard.CANCEL)
    assert not second.load_file(path)
    assert second.ctx.doc is before  # nothing replaced
    _, args = dialogs.calls[-1]
    assert args[0] == "File in use"
    assert f"process {os.getpid()}" in str(args[1]) and "read-only" in str(args[1])
    assert args[2] == [file_guard.READ_ONLY, file_guard.OPEN_ANYWAY, file_guard.CANCEL]


def test_read_only_window_saves_only_as_another_file(qtbot, tmp_path, dialogs) -> None:
    path = saved(tmp_path / "shared.probity")
    window_on(qtbot, dialogs, path)
    reader = window_on(qtbot, dialogs, path, lock_reply=file_guard.READ_ONLY)
    assert reader.ctx.open_file is not None and reader.ctx.open_file.read_only
    reader.ctx.doc.set_notes("read-only window's edit")
    copy = tmp_path / "my copy.probity"
    dialogs.reply("ask_save_path", copy)
    assert reader.save()
    assert any("opened read-only" in m for m in dialogs.messages)
    assert notes_on_disk(path) == "as saved"
    assert notes_on_disk(copy) == "read-only window's edit"
    assert reader.ctx.path == copy.resolve() and not reader.ctx.open_file.read_only


@pytest.mark.parametrize(
    "reply", [file_guard.OVERWRITE, file_guard.RELOAD, file_guard.SAVE_AS, file_guard.CANCEL]
)
def test_second_save_after_the_first_asks_instead_of_overwriting(
    qtbot, tmp_path, dialogs, reply
) -> None:
    path = saved(tmp_path / "shared.probity")
    first = window_on(qtbot, dialogs, path)
    second = window_on(qtbot, dialogs, path, lock_reply=file_guard.OPEN_ANYWAY)
    first.ctx.doc.set_notes("first window's edit")
    second.ctx.doc.set_notes("second window's edit")
    assert first.save()  # nobody wrote the file since it was read: no question
    assert dialogs.asked("ask_choice") == 1
    assert notes_on_disk(path) == "first window's edit"

    other = tmp_path / "second.probity"
    dialogs.reply("ask_choice", reply)
    if reply == file_guard.SAVE_AS:
        dialogs.reply("ask_save_path", other)
    saved_it = second.save()
    _, args = dialogs.calls[-1 if reply != file_guard.SAVE_AS else -2]
    assert args[0] == "File changed on disk" and "shared.probity was changed on disk" in args[1]
    if reply == file_guard.OVERWRITE:
        assert saved_it and notes_on_disk(path) == "second window's edit"
    elif reply == file_guard.RELOAD:
        assert not saved_it and notes_on_disk(path) == "first window's edit"
        assert second.ctx.doc.notes == "first window's edit" and not second.ctx.modified
        second.ctx.doc.set_notes("after reloading")
        assert second.save()  # now based on the first window's save: no question
        assert notes_on_disk(path) == "after reloading"
    elif reply == file_guard.SAVE_AS:
        assert saved_it and notes_on_disk(path) == "first window's edit"
        assert notes_on_disk(other) == "second window's edit"
    else:
        assert not saved_it and second.ctx.modified
        assert notes_on_disk(path) == "first window's edit"


def test_first_window_is_asked_too_after_the_second_saved(qtbot, tmp_path, dialogs) -> None:
    path = saved(tmp_path / "shared.probity")
    first = window_on(qtbot, dialogs, path)
    second = window_on(qtbot, dialogs, path, lock_reply=file_guard.OPEN_ANYWAY)
    second.ctx.doc.set_notes("second saves first")
    assert second.save()
    first.ctx.doc.set_notes("first saves later")
    dialogs.reply("ask_choice", file_guard.CANCEL)
    assert not first.save()
    assert notes_on_disk(path) == "second saves first"


def test_save_as_onto_a_file_another_window_has_open_asks(qtbot, tmp_path, dialogs) -> None:
    path = saved(tmp_path / "shared.probity")
    window_on(qtbot, dialogs, path)
    other = open_window(qtbot, Assessment.new())
    other.ctx.doc.set_notes("would replace it")
    dialogs.reply("ask_save_path", path)
    dialogs.reply("ask_choice", file_guard.CANCEL)
    assert not other.save_as()
    assert notes_on_disk(path) == "as saved"
    assert dialogs.calls[-1][1][2] == [file_guard.SAVE_ANYWAY, file_guard.CANCEL]


def test_closing_releases_the_lock_for_the_next_window(qtbot, tmp_path, dialogs) -> None:
    path = saved(tmp_path / "shared.probity")
    first = window_on(qtbot, dialogs, path)
    first.close()
    assert not locks.lock_file_for(path).exists()
    window_on(qtbot, dialogs, path)  # no question
    assert dialogs.asked("ask_choice") == 0


def test_each_window_keeps_its_own_snapshot_and_running_ones_are_not_offered(
    qtbot, tmp_path, dialogs
) -> None:
    path = saved(tmp_path / "shared.probity")
    first = window_on(qtbot, dialogs, path)
    second = window_on(qtbot, dialogs, path, lock_reply=file_guard.OPEN_ANYWAY)
    first.ctx.doc.set_notes("first's unsaved edit")
    second.ctx.doc.set_notes("second's unsaved edit")
    for w in (first, second):
        w.autosave.write_now()
        w.autosave.flush()
    snapshots = sorted(first.ctx.paths.recovery_dir.glob("*.recovery.json"))
    assert len(snapshots) == 2
    assert {
        first.ctx.instance.id in s.name or second.ctx.instance.id in s.name for s in snapshots
    } == {True}

    third = MainWindow()
    qtbot.addWidget(third, before_close_func=lambda w: w.close_without_prompt())
    assert not third.offer_recovery()  # both windows still run: nothing offered, nothing lost
    assert dialogs.asked("ask_yes_no") == 0
    assert all(s.exists() for s in snapshots)

    first.ctx.doc.remove_listener(first.ctx.session._relay)  # the window dies
    first.close_without_prompt()
    dialogs.reply("ask_yes_no", False)  # decline the dead window's edits
    assert not third.offer_recovery()
    assert dialogs.asked("ask_yes_no") == 1
    assert "first's unsaved edit" not in json.dumps(
        [s.read_text() for s in snapshots if s.exists()]
    )
    mine = second.autosave.recovery_file
    assert mine is not None and mine.exists()  # the running window's snapshot is kept
    assert json.loads(mine.read_text())["document"]["notes"] == "second's unsaved edit"


def test_crashed_process_edits_are_recovered_at_start_and_its_lock_taken_over(
    qtbot, tmp_path, dialogs, config_dir
) -> None:
    path = saved(tmp_path / "review.probity")
    dead_pid = crash_child(
        """
        import sys
        from pathlib import Path
        from assessment import locks, storage
        path, folder = Path(sys.argv[1]), Path(sys.argv[2])
        me = locks.Instance()
        locks.lock_document(path, me.owner)
        doc, base = locks.load_tracked(path, storage.load)
        doc.set_notes("typed in the process that crashed")
        folder.mkdir(parents=True, exist_ok=True)
        storage.write_recovery(doc, folder, path, owner=me.owner, base=base)
        """,
        str(path),
        str(config_dir / "recovery"),
    )
    [left] = list((config_dir / "recovery").glob("*.recovery.json"))
    assert json.loads(left.read_text())["owner"]["pid"] == dead_pid
    assert json.loads(locks.lock_file_for(path).read_text())["owner"]["pid"] == dead_pid

    fresh = MainWindow()
    qtbot.addWidget(fresh, before_close_func=lambda w: w.close_without_prompt())
    dialogs.reply("ask_yes_no", True)
    gui_app.open_initial_document(fresh, [str(path)])
    assert dialogs.asked("ask_yes_no") == 1 and dialogs.asked("ask_choice") == 0
    assert fresh.ctx.doc.notes == "typed in the process that crashed" and fresh.ctx.modified
    assert fresh.ctx.path == path.resolve()
    lock = json.loads(locks.lock_file_for(path).read_text())["owner"]
    assert lock["instance"] == fresh.ctx.instance.id  # the stale lock was taken over
    assert not left.exists()  # replaced by this window's own snapshot
    assert fresh.autosave.recovery_file is not None and fresh.autosave.recovery_file.exists()
    assert fresh.save() and notes_on_disk(path) == "typed in the process that crashed"


def test_recovered_edits_do_not_silently_overwrite_a_later_save(
    qtbot, tmp_path, dialogs, config_dir
) -> None:
    path = saved(tmp_path / "review.probity")
    crash_child(
        """
        import sys
        from pathlib import Path
        from assessment import locks, storage
        path, folder = Path(sys.argv[1]), Path(sys.argv[2])
        doc, base = locks.load_tracked(path, storage.load)
        doc.set_notes("crashed edit")
        folder.mkdir(parents=True, exist_ok=True)
        storage.write_recovery(doc, folder, path, owner=locks.Instance().owner, base=base)
        """,
        str(path),
        str(config_dir / "recovery"),
    )
    saved(path, "saved by someone else after the crash")
    fresh = MainWindow()
    qtbot.addWidget(fresh, before_close_func=lambda w: w.close_without_prompt())
    dialogs.reply("ask_yes_no", True)
    assert fresh.offer_recovery()
    dialogs.reply("ask_choice", file_guard.CANCEL)
    assert not fresh.save()
    assert dialogs.calls[-1][1][0] == "File changed on disk"
    assert notes_on_disk(path) == "saved by someone else after the crash"


def test_start_up_removes_temporary_files_of_crashed_saves(qtbot, tmp_path, dialogs,
                                                          config_dir) -> None:
    import time

    from assessment import fileio, leftovers

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = saved(tmp_path / "review.probity")
    recovery = config_dir / "recovery"
    recovery.mkdir(parents=True, exist_ok=True)
    tag = fileio.host_tag()
    stale = [tmp_path / f".review.probity.{dead.pid}.{tag}.aaaaaaaa.probity-tmp",
             recovery / f".x.recovery.json.{dead.pid}.{tag}.bbbbbbbb.probity-tmp"]
    kept = tmp_path / f".review.probity.{os.getpid()}.{tag}.cccccccc.probity-tmp"  # running
    old = time.time() - leftovers.GRACE_S - 60
    for f in [*stale, kept]:
        f.write_bytes(b"x" * 4096)
        os.utime(f, (old, old))
    first = open_window(qtbot, Assessment.new())
    first.ctx.settings.add_recent(path)  # a recently used file's folder is cleaned at start
    fresh = MainWindow()
    qtbot.addWidget(fresh, before_close_func=lambda w: w.close_without_prompt())
    gui_app.open_initial_document(fresh, [])
    assert not any(f.exists() for f in stale) and kept.exists()
