"""Issue 8 §4 without Qt: who holds a document (lock files with stale-lock detection by pid, host,
process start time and boot), changed-on-disk detection, and per-instance recovery snapshots
that are offered only once their writer is gone and never deleted while it runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from assessment import locks, storage
from assessment.document import Assessment
from tests.processes import killed_child

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def instance():
    inst = locks.Instance(reviewer="Ana Silva")
    yield inst
    inst.close()


def saved_doc(path: Path, notes: str = "") -> Assessment:
    doc = Assessment.new("probast-2019")
    doc.set_notes(notes)
    storage.save(doc, path)
    return doc


def run_child(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )




# ---------------------------------------------------------------------- who is running
def test_this_process_windows_are_alive_until_closed(instance) -> None:
    assert locks.owner_state(instance.owner) is locks.Liveness.ALIVE
    other = locks.Instance()
    assert locks.owner_state(other.owner) is locks.Liveness.ALIVE
    other.close()
    assert locks.owner_state(other.owner) is locks.Liveness.DEAD  # same pid, closed window
    assert locks.owner_state(instance.owner) is locks.Liveness.ALIVE


def test_process_start_time_matches_the_kernel_and_tells_a_recycled_pid() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = locks.process_start(sleeper.pid)
        # Independent reading of field 22 of /proc/PID/stat (proc(5)).
        stat = Path(f"/proc/{sleeper.pid}/stat").read_text()
        assert started == int(stat[stat.rindex(")") + 2 :].split()[19])
        me = locks.Instance().owner
        owner = replace(me, instance="someone-else", pid=sleeper.pid, started=started)
        assert locks.owner_state(owner) is locks.Liveness.ALIVE
        # The same pid with another start time: the owner died and the pid was given to a
        # later process (here: the sleeper) -> not the owner.
        recycled = replace(owner, started=started - 1)
        assert locks.owner_state(recycled) is locks.Liveness.DEAD
    finally:
        sleeper.kill()
        sleeper.wait()
    assert locks.owner_state(owner) is locks.Liveness.DEAD  # gone (reaped)


def test_other_host_is_unknown_and_another_boot_is_dead(instance) -> None:
    assert locks.owner_state(replace(instance.owner, host="lab-3.example")) is (
        locks.Liveness.UNKNOWN
    )
    assert locks.boot_id() is not None
    assert locks.owner_state(replace(instance.owner, boot="0" * 36)) is locks.Liveness.DEAD


def test_a_zombie_is_not_running() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # exited but not yet reaped: a zombie
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        if fields[0] == "Z":
            break
        time.sleep(0.02)
    assert not locks.pid_running(proc.pid)
    proc.wait()
    assert not locks.pid_running(proc.pid)


# ---------------------------------------------------------------------- lock files
def test_second_instance_sees_the_first_as_holder_until_it_releases(tmp_path, instance):
    doc = tmp_path / "review.probity"
    saved_doc(doc)
    first = locks.lock_document(doc, instance.owner)
    assert isinstance(first, locks.DocumentLock)
    data = json.loads(locks.lock_file_for(doc).read_text())
    assert data["format"] == "probity-lock" and data["owner"]["pid"] == os.getpid()
    assert data["owner"]["started"] == locks.process_start(os.getpid())
    second = locks.Instance()
    try:
        held = locks.lock_document(doc, second.owner)
        assert isinstance(held, locks.Held) and held.holder.instance == instance.id
        assert "Ana Silva" in held.describe() and f"process {os.getpid()}" in held.describe()
        assert locks.lock_holder(doc) == held
        again = locks.lock_document(doc, instance.owner)  # the holder itself: still its own
        assert isinstance(again, locks.DocumentLock)
        first.release()
        assert not locks.lock_file_for(doc).exists()
        taken = locks.lock_document(doc, second.owner)
        assert isinstance(taken, locks.DocumentLock)
        first.release()  # no longer ours: must not remove the other window's lock
        assert taken.still_ours()
    finally:
        second.close()


def test_lock_of_a_killed_process_is_taken_over(tmp_path, instance) -> None:
    doc = tmp_path / "review.probity"
    saved_doc(doc)
    pid = killed_child(
        """
        import sys
        from pathlib import Path
        from assessment import locks
        assert isinstance(locks.lock_document(Path(sys.argv[1]), locks.Instance().owner),
                          locks.DocumentLock)
        """,
        str(doc),
    )
    left = json.loads(locks.lock_file_for(doc).read_text())
    assert left["owner"]["pid"] == pid
    assert locks.lock_holder(doc) is None  # dead: nobody holds it
    mine = locks.lock_document(doc, instance.owner)
    assert isinstance(mine, locks.DocumentLock) and mine.still_ours()


def test_lock_of_a_closed_window_in_this_process_is_taken_over(tmp_path, instance) -> None:
    doc = tmp_path / "review.probity"
    closed = locks.Instance()
    assert isinstance(locks.lock_document(doc, closed.owner), locks.DocumentLock)
    closed.close()  # the window went away without releasing (a crash in its page code)
    assert isinstance(locks.lock_document(doc, instance.owner), locks.DocumentLock)


def test_lock_from_another_host_is_respected(tmp_path, instance) -> None:
    doc = tmp_path / "shared.probity"
    remote = replace(instance.owner, instance="remote", host="lab-3.example", pid=1)
    assert isinstance(locks.lock_document(doc, remote), locks.DocumentLock)
    held = locks.lock_document(doc, instance.owner)
    assert isinstance(held, locks.Held) and held.state is locks.Liveness.UNKNOWN
    assert "lab-3.example" in held.describe() and "cannot tell" in held.describe()


def test_unreadable_lock_is_respected_briefly_then_taken_over(tmp_path, instance) -> None:
    doc = tmp_path / "review.probity"
    lock_file = locks.lock_file_for(doc)
    lock_file.write_bytes(b"")  # its creator has not written it yet (or died doing so)
    held = locks.lock_document(doc, instance.owner)
    assert isinstance(held, locks.Held) and held.state is locks.Liveness.UNKNOWN
    old = time.time() - locks.UNREADABLE_LOCK_GRACE_S - 5
    os.utime(lock_file, (old, old))
    assert isinstance(locks.lock_document(doc, instance.owner), locks.DocumentLock)


@pytest.mark.parametrize("target", ["/dev/zero", "victim.txt"])
def test_a_planted_symlink_lock_is_never_followed(tmp_path, instance, target) -> None:
    doc = tmp_path / "review.probity"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = locks.lock_file_for(doc)
    link.symlink_to(target if target.startswith("/") else victim)
    old = time.time() - locks.UNREADABLE_LOCK_GRACE_S - 5
    os.utime(link, (old, old), follow_symlinks=False)
    result = locks.lock_document(doc, instance.owner)
    assert isinstance(result, locks.DocumentLock)
    assert not link.is_symlink() and json.loads(link.read_text())["format"] == "probity-lock"
    assert victim.read_text() == "keep me"


def test_no_lock_where_none_can_be_made(tmp_path, instance) -> None:
    result = locks.lock_document(tmp_path / "missing-folder" / "a.probity", instance.owner)
    assert isinstance(result, locks.NoLock) and "cannot be created" in result.reason


# ---------------------------------------------------------------------- changed on disk
def test_disk_change_by_content_not_by_timestamp(tmp_path) -> None:
    path = tmp_path / "a.probity"
    saved_doc(path, "first")
    doc, state = locks.load_tracked(path, storage.load)
    assert doc.notes == "first" and state is not None
    assert state.sha256 == __import__("hashlib").sha256(path.read_bytes()).hexdigest()
    assert locks.disk_change(path, state) is None
    os.utime(path, ns=(state.mtime_ns + 5_000_000_000,) * 2)  # touched, same bytes
    assert locks.disk_change(path, state) is None
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b'"first"', b'"FIRST"'))  # same size, other bytes
    os.utime(path, ns=(state.mtime_ns, state.mtime_ns))  # even with the old mtime
    change = locks.disk_change(path, state)
    assert change is not None and not change.deleted
    saved_doc(path, "another window's longer edit")
    change = locks.disk_change(path, state)
    assert change is not None and "changed on disk" in change.describe()
    path.unlink()
    change = locks.disk_change(path, state)
    assert change is not None and change.deleted and "deleted" in change.describe()


def test_written_state_is_what_a_reader_would_see(tmp_path) -> None:
    path = tmp_path / "a.probity"
    doc = Assessment.new()
    payload = storage.save(doc, path)
    assert locks.written_state(path, payload) == locks.disk_state(path)


# ---------------------------------------------------------------------- recovery snapshots
def test_each_instance_has_its_own_recovery_file(tmp_path, instance) -> None:
    folder = tmp_path / "recovery"
    folder.mkdir()
    doc = Assessment.new()
    other = locks.Instance()
    try:
        mine = storage.write_recovery(doc, folder, None, owner=instance.owner)
        theirs = storage.write_recovery(doc, folder, None, owner=other.owner)
        assert mine != theirs and instance.id in mine.name and other.id in theirs.name
        assert storage.list_recoveries(folder) == []  # both windows still run
        assert len(storage.list_recoveries(folder, include_running=True)) == 2
        running = storage.list_recoveries(folder, include_running=True)[0]
        assert not storage.discard_abandoned_recovery(running)  # never a live one's
        assert running.path.exists()
    finally:
        other.close()
    offered = storage.list_recoveries(folder)
    assert [r.path for r in offered] == [theirs]
    assert offered[0].owner == other.owner
    assert storage.discard_abandoned_recovery(offered[0]) and not theirs.exists()
    assert mine.exists()


def test_recovery_of_a_killed_process_is_offered_with_its_base(tmp_path) -> None:
    folder = tmp_path / "recovery"
    folder.mkdir()
    original = tmp_path / "review.probity"
    saved_doc(original, "saved")
    pid = killed_child(
        """
        import sys
        from pathlib import Path
        from assessment import locks, storage
        original, folder = Path(sys.argv[1]), Path(sys.argv[2])
        doc, base = locks.load_tracked(original, storage.load)
        doc.set_notes("typed, then killed")
        storage.write_recovery(doc, folder, original, owner=locks.Instance().owner, base=base)
        """,
        str(original),
        str(folder),
    )
    [found] = storage.list_recoveries(folder)
    assert found.owner is not None and found.owner.pid == pid
    assert found.base == locks.disk_state(original)
    assert storage.load_recovery(found).notes == "typed, then killed"


def test_snapshot_of_an_older_version_is_offered(tmp_path) -> None:
    folder = tmp_path / "recovery"
    folder.mkdir()
    doc = Assessment.new()
    legacy = folder / f"{doc.id}.recovery.json"  # as earlier versions named and wrote it
    legacy.write_text(
        json.dumps(
            {
                "format": "probity-recovery",
                "original": None,
                "saved": "2026-01-01T00:00:00+00:00",
                "document": doc.to_json(),
            }
        )
    )
    [found] = storage.list_recoveries(folder)
    assert found.path == legacy and found.owner is None
    assert storage.discard_abandoned_recovery(found)
