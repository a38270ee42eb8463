"""Temporary files that crashed saves left behind, found and removed — never anyone else's.

A save killed between creating its temporary file and renaming it over the target (a crash,
``kill -9``, a power cut) leaves a full-size ``.NAME.….probity-tmp`` beside the target, for ever:
150 killed saves of a 100 MB assessment left 1.5 GB. The atomic writer
(:func:`assessment.fileio.atomic_write`) names each temporary file after its target, the writing
process and its host (:func:`assessment.fileio.temp_name`), so this module can tell, without
guessing, which leftovers are stale:

* the name must be the writer's own pattern (``.<target>.<pid>.<host tag>.<random>.probity-tmp``)
  and, when cleaning for one target, start with that target's name;
* it must be a regular file (a symlink or a folder with such a name is left alone);
* its writer must be gone: written on this host (host tag) by a process that no longer runs
  (:func:`assessment.locks.pid_running`) — a live pid, even one the system reused, keeps it;
* and it must be older than a grace period (nothing writes to it any more).

Temporary files of older versions (``.<target>.<random>.tmp``, no pid) are removed only beside a
``.probity`` target or in Probity's own config folders, and only after a day. Files from another
host (a shared folder) are left to that host, unless a day old.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assessment.catalogue import ASSESSMENT_SUFFIX
from assessment.fileio import TEMP_NAME_CHARS, TEMP_SUFFIX, host_tag, parse_temp_name
from assessment.locks import pid_running

GRACE_S = 10 * 60.0  # a temp file written to less than this long ago may still be in use
FOREIGN_GRACE_S = 24 * 3600.0  # no pid to check (older versions, another host): one day
# The writer of earlier versions: tempfile.mkstemp(prefix=".NAME.", suffix=".tmp").
_LEGACY = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp$")


@dataclass
class Cleanup:
    """What a clean-up removed (and how much space that freed)."""

    removed: list[Path] = field(default_factory=list)
    freed: int = 0

    def add(self, other: Cleanup) -> None:
        self.removed += other.removed
        self.freed += other.freed


def _stale(
    entry: os.DirEntry[str], target: str | None, *, own_folder: bool, now: float, grace: float
) -> bool:
    name = entry.name
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    age = now - st.st_mtime
    if name.endswith(TEMP_SUFFIX):
        parsed = parse_temp_name(name)
        if parsed is None:
            return False
        if target is not None and parsed.target != target[:TEMP_NAME_CHARS]:
            return False
        if parsed.pid is None or parsed.host != host_tag():
            return age > max(grace, FOREIGN_GRACE_S)
        if parsed.pid == os.getpid() or pid_running(parsed.pid):
            return False
        return age > grace
    legacy = _LEGACY.match(name)
    if legacy is None:
        return False
    legacy_target = legacy.group("target")
    if target is not None and legacy_target != target:
        return False
    if not (own_folder or legacy_target.endswith(ASSESSMENT_SUFFIX)):
        return False
    return age > max(grace, FOREIGN_GRACE_S)


def clean_stale_temp_files(
    folder: Path, *, target: str | None = None, own_folder: bool = False, grace: float = GRACE_S
) -> Cleanup:
    """Remove the stale temporary files in ``folder`` (of ``target`` only, if given).

    ``own_folder``: a folder only Probity writes to (config, recovery), where older versions'
    temporary files of any name are Probity's. Never raises: a folder that cannot be listed or
    a file that cannot be removed is left as it is.
    """
    done = Cleanup()
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return done
    for entry in entries:
        if not entry.name.startswith("."):
            continue
        if not _stale(entry, target, own_folder=own_folder, now=now, grace=grace):
            continue
        with contextlib.suppress(OSError):
            size = entry.stat(follow_symlinks=False).st_size
            os.unlink(entry.path)
            done.removed.append(Path(entry.path))
            done.freed += size
    return done


def clean_folders(folders: Iterable[Path], *, own: bool = False) -> Cleanup:
    """:func:`clean_stale_temp_files` of several folders (each once), e.g. at start-up."""
    done = Cleanup()
    seen: set[Path] = set()
    for folder in folders:
        try:
            key = folder.resolve()
        except OSError:
            continue
        if key not in seen:
            seen.add(key)
            done.add(clean_stale_temp_files(folder, own_folder=own))
    return done
