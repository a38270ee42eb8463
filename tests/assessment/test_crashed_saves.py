"""Issue 8 §5: saves killed with SIGKILL mid-write leave the file whole (old or new, never half),
and the full-size temporary files they leave are cleaned up — only the writer's own, only once
their writer is dead and the grace period has passed, never anyone else's files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assessment import fileio, leftovers, storage
from assessment.document import Assessment

REPO = Path(__file__).resolve().parents[2]
KILLS = 15

# A child that saves an ~8 MB assessment over and over, alternating two versions (serialised once,
# so nearly all its time is spent writing and fsyncing), printing a line after each completed
# save so the parent can kill it at varied points of the next one.
SAVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from assessment import storage
    from assessment.document import Assessment
    target = Path(sys.argv[1])
    payloads = []
    for version in ("A", "B"):
        doc = Assessment.new("probast-2019")
        doc.set_notes(version * 8_000_000)
        payloads.append(storage.dumps(doc))
    i = 0
    while True:
        storage.atomic_write_bytes(target, payloads[i % 2])  # the writer storage.save uses
        print(i, flush=True)
        i += 1
    """
)


def _temps(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if fileio.is_temp_file(p))


@pytest.mark.slow
def test_kill_9_mid_save_keeps_the_file_whole_and_cleanup_removes_the_leftovers(tmp_path):
    target = tmp_path / "review.probity"
    storage.save(Assessment.new("probast-2019"), target)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    dead: list[int] = []
    for kill in range(KILLS):
        with subprocess.Popen(
            [sys.executable, "-c", SAVER, str(target)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        ) as proc:
            assert proc.stdout is not None
            proc.stdout.readline()  # one save completed: the next one is under way
            time.sleep(0.003 * (kill % 7))  # kill at varied points of the next write
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        dead.append(proc.pid)
        notes = json.loads(target.read_text(encoding="utf-8"))["notes"]  # always whole JSON
        assert notes in ("A" * 8_000_000, "B" * 8_000_000)
    left = _temps(tmp_path)
    assert left, "no save was interrupted mid-write: the test did not exercise a crash"
    for temp in left:
        parsed = fileio.parse_temp_name(temp.name)
        assert parsed is not None and parsed.target == target.name and parsed.pid in dead

    # Files that are not stale leftovers of dead writers, all kept:
    tag = fileio.host_tag()
    live = tmp_path / f".{target.name}.{os.getpid()}.{tag}.inflight.probity-tmp"  # in progress
    live.write_bytes(b"a save of this process, in progress")
    remote = tmp_path / f".{target.name}.{dead[0]}.0badc0de.abcdefgh.probity-tmp"  # other host
    remote.write_bytes(b"another computer's save on a shared folder")
    foreign = [
        tmp_path / "review.probity.tmp",
        tmp_path / ".review.probity.lock",
        tmp_path / ".review.probity.x.tmp",
        tmp_path / "notes.probity-tmp",
        tmp_path / ".notes.txt.abcdefgh.tmp",
    ]  # another program's mkstemp idiom
    for f in foreign:
        f.write_bytes(b"someone else's")
    link = tmp_path / f".{target.name}.{dead[0]}.{tag}.zzzzzzzz.probity-tmp"
    link.symlink_to(target)
    old = time.time() - 3600
    for f in [live, remote, *foreign]:
        os.utime(f, (old, old))

    # within the grace period nothing goes (a dead writer's file just written is left a while)
    assert leftovers.clean_stale_temp_files(tmp_path).removed == []
    sizes = sum(p.stat().st_size for p in left)
    done = leftovers.clean_stale_temp_files(tmp_path, grace=0)
    assert sorted(done.removed) == left and done.freed == sizes
    assert live.exists() and remote.exists() and link.is_symlink()
    assert all(f.exists() for f in foreign)
    assert json.loads(target.read_text(encoding="utf-8"))["notes"] in (
        "A" * 8_000_000,
        "B" * 8_000_000,
    )


def test_temp_names_record_the_writer(tmp_path: Path) -> None:
    name = fileio.temp_prefix("review.probity") + "abcdefgh" + fileio.TEMP_SUFFIX
    parsed = fileio.parse_temp_name(name)
    assert parsed == fileio.TempName("review.probity", os.getpid(), fileio.host_tag())
    old_style = fileio.parse_temp_name(".review.probity.abcdefgh.probity-tmp")
    assert old_style == fileio.TempName("review.probity", None, None)
    assert fileio.parse_temp_name(".review.probity.lock") is None
    long = "x" * 300 + ".probity"
    assert (
        fileio.parse_temp_name(fileio.temp_prefix(long) + "abcdefgh" + fileio.TEMP_SUFFIX).target
        == long[: fileio.TEMP_NAME_CHARS]
    )


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _age(path: Path, seconds: float) -> None:
    when = time.time() - seconds
    os.utime(path, (when, when))


def test_saving_and_start_up_clean_only_dead_writers_files(tmp_path: Path) -> None:
    tag, dead = fileio.host_tag(), _dead_pid()
    stale = tmp_path / f".review.probity.{dead}.{tag}.aaaaaaaa.probity-tmp"
    stale.write_bytes(b"x" * 1000)
    _age(stale, leftovers.GRACE_S + 60)
    fresh = tmp_path / f".review.probity.{dead}.{tag}.bbbbbbbb.probity-tmp"
    fresh.write_bytes(b"y")  # its writer died a moment ago: kept for the grace period
    legacy_doc = tmp_path / ".review.probity.k3j4h5a1.tmp"  # an older version's writer
    legacy_doc.write_bytes(b"z")
    _age(legacy_doc, leftovers.FOREIGN_GRACE_S + 60)
    legacy_other = tmp_path / ".notes.txt.k3j4h5a1.tmp"  # the same idiom, someone else's file
    legacy_other.write_bytes(b"w")
    _age(legacy_other, leftovers.FOREIGN_GRACE_S + 60)

    storage.save(Assessment.new(), tmp_path / "other.probity")  # before a save: its folder
    assert not stale.exists() and not legacy_doc.exists()
    assert fresh.exists() and legacy_other.exists()

    own = tmp_path / "config"
    own.mkdir()
    legacy_setting = own / ".settings.json.k3j4h5a1.tmp"  # Probity's own folder: any name
    legacy_setting.write_bytes(b"s")
    _age(legacy_setting, leftovers.FOREIGN_GRACE_S + 60)
    done = leftovers.clean_folders([own, own, tmp_path / "missing"], own=True)
    assert done.removed == [legacy_setting]


def test_a_recovery_write_cleans_its_folder(tmp_path: Path) -> None:
    from assessment import locks

    folder = tmp_path / "recovery"
    folder.mkdir()
    stale = folder / f".x.recovery.json.{_dead_pid()}.{fileio.host_tag()}.cccccccc.probity-tmp"
    stale.write_bytes(b"x")
    _age(stale, leftovers.GRACE_S + 60)
    writer = locks.Instance()
    try:
        storage.write_recovery(Assessment.new(), folder, None, owner=writer.owner)
    finally:
        writer.close()
    assert not stale.exists()
