"""Two windows, one file: who has a document open, and whether it changed since it was read.

Pure Python (no Qt), used by the desktop app and testable without a display.

* :class:`Instance` is one running Probity window. Its :class:`Owner` record names it: a random
  instance id, the process id, the host, the process's start time (Linux: field 22 of
  ``/proc/PID/stat``, clock ticks since boot) and the boot id, so a process id that the system
  has since given to another program is not taken for the owner. Several windows of one process
  are told apart by their instance ids, which this module registers while they run.
* :func:`owner_state` says whether an owner still runs (``alive``), certainly does not
  (``dead``: process gone, pid recycled, machine rebooted, window closed), or cannot be known from
  here (``unknown``: another host, e.g. a shared network folder).
* :func:`lock_document` creates ``.NAME.lock`` beside the document (``O_CREAT | O_EXCL``), taking
  over a lock whose owner is dead; a live (or unknown) holder is returned as :class:`Held` so the
  app can offer read-only / open anyway / cancel. :meth:`DocumentLock.release` removes the file
  only while it is still this instance's.
* :class:`DiskState` (size, mtime, SHA-256) is recorded when a document is read or written;
  :func:`disk_change` tells, before a save, whether someone else has written the file since.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import socket
import stat
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

LOCK_FORMAT = "probity-lock"
LOCK_SUFFIX = ".lock"
# A lock file that cannot be read yet may be half-written by its creator: it is only judged
# abandoned when it is older than this.
UNREADABLE_LOCK_GRACE_S = 10.0
_CHUNK = 1 << 20
MAX_LOCK_BYTES = 64 * 1024


# ---------------------------------------------------------------------- the running process
def hostname() -> str:
    return socket.gethostname() or "localhost"


def boot_id() -> str | None:
    """The kernel's id of the current boot (Linux), None where there is none."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (field 3 = index 0), None if absent."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    _, _, rest = raw.rpartition(")")  # the command name may contain spaces and parentheses
    fields = rest.split()
    return fields if len(fields) > 19 else None


def process_start(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (Linux), or None if unknown."""
    fields = _proc_stat(pid)
    if fields is None:
        return None
    try:
        return int(fields[19])  # field 22 of the whole line: starttime
    except ValueError:
        return None


def pid_running(pid: int) -> bool:
    """Whether a process ``pid`` exists and is not a zombie (it may belong to another user)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    fields = _proc_stat(pid)
    return not (fields is not None and fields[0] == "Z")


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Owner:
    """Who holds a lock or wrote a recovery snapshot: one instance of Probity."""

    instance: str
    pid: int
    host: str
    started: int | None  # process start time, clock ticks since boot (None: not known here)
    boot: str | None
    user: str
    since: str  # when the instance started (ISO 8601, UTC)
    reviewer: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "instance": self.instance,
            "pid": self.pid,
            "host": self.host,
            "started": self.started,
            "boot": self.boot,
            "user": self.user,
            "since": self.since,
            "reviewer": self.reviewer,
        }

    @classmethod
    def from_json(cls, raw: Any) -> Owner | None:
        """The owner a file names, or None when the record is missing or malformed."""
        if not isinstance(raw, dict):
            return None
        try:
            pid, started = raw["pid"], raw.get("started")
            if not isinstance(pid, int) or isinstance(pid, bool):
                return None
            if started is not None and (not isinstance(started, int) or isinstance(started, bool)):
                return None
            fields = [raw["instance"], raw["host"], raw.get("user", ""), raw.get("since", "")]
            if not all(isinstance(f, str) for f in fields):
                return None
            boot, reviewer = raw.get("boot"), raw.get("reviewer", "")
            if not isinstance(boot, str | None) or not isinstance(reviewer, str):
                return None
        except KeyError:
            return None
        return cls(
            instance=raw["instance"],
            pid=pid,
            host=raw["host"],
            started=started,
            boot=boot,
            user=raw.get("user", ""),
            since=raw.get("since", ""),
            reviewer=reviewer,
        )

    def describe(self) -> str:
        """E.g. "another Probity window (Ana Silva, user ana, process 4242 on host lab-3, since
        2026-03-01 09:00 UTC)"."""
        when = self.since.replace("T", " ").replace("+00:00", " UTC")
        details = ", ".join(
            part
            for part in (
                self.reviewer,
                f"user {self.user}" if self.user else "",
                f"process {self.pid} on host {self.host}" if self.pid else "",
                f"since {when}" if when else "",
            )
            if part
        )
        return f"another Probity window ({details})" if details else "another Probity window"


# Instance ids of the windows running in this process (several windows share one pid).
_LIVE: set[str] = set()
_LIVE_LOCK = threading.Lock()


class Instance:
    """One running Probity window: registered as alive from creation until :meth:`close`."""

    def __init__(self, reviewer: str = "") -> None:
        pid = os.getpid()
        self.owner = Owner(
            instance=uuid.uuid4().hex,
            pid=pid,
            host=hostname(),
            started=process_start(pid),
            boot=boot_id(),
            user=_login(),
            since=_now_iso(),
            reviewer=reviewer,
        )
        with _LIVE_LOCK:
            _LIVE.add(self.owner.instance)

    @property
    def id(self) -> str:
        return self.owner.instance

    @property
    def running(self) -> bool:
        with _LIVE_LOCK:
            return self.owner.instance in _LIVE

    def close(self) -> None:
        with _LIVE_LOCK:
            _LIVE.discard(self.owner.instance)


class Liveness(Enum):
    ALIVE = "alive"
    DEAD = "dead"
    UNKNOWN = "unknown"  # on another host: cannot be checked from here


def owner_state(owner: Owner) -> Liveness:
    """Whether the instance ``owner`` names is still running."""
    if owner.host != hostname():
        return Liveness.UNKNOWN
    current_boot = boot_id()
    if owner.boot and current_boot and owner.boot != current_boot:
        return Liveness.DEAD  # written before the machine last started
    if owner.pid == os.getpid():
        mine = process_start(owner.pid)
        if owner.started is not None and mine is not None and owner.started != mine:
            return Liveness.DEAD  # an earlier process that had our pid
        with _LIVE_LOCK:
            return Liveness.ALIVE if owner.instance in _LIVE else Liveness.DEAD
    if not pid_running(owner.pid):
        return Liveness.DEAD
    started = process_start(owner.pid)
    if owner.started is not None and started is not None and started != owner.started:
        return Liveness.DEAD  # the pid now belongs to a process started later
    return Liveness.ALIVE


# ---------------------------------------------------------------------- lock files
def lock_file_for(document: Path) -> Path:
    return document.with_name(f".{document.name}{LOCK_SUFFIX}")


@dataclass(frozen=True)
class Held:
    """The document is locked by someone else who is (or may be) still working on it."""

    document: Path
    holder: Owner
    state: Liveness

    def describe(self) -> str:
        if self.state is Liveness.ALIVE:
            return self.holder.describe()
        return (
            f"{self.holder.describe()}, on another computer or program: Probity cannot "
            "tell whether it is still open there"
        )


@dataclass(frozen=True)
class NoLock:
    """No lock could be created (e.g. a read-only folder); saving still checks the disk."""

    document: Path
    reason: str


@dataclass
class DocumentLock:
    """This instance's lock on ``document``."""

    document: Path
    file: Path
    owner: Owner

    def still_ours(self) -> bool:
        holder = _read_owner(self.file)
        return isinstance(holder, Owner) and holder.instance == self.owner.instance

    def release(self) -> None:
        """Remove the lock file, but only while it still names this instance."""
        if self.still_ours():
            with contextlib.suppress(OSError):
                self.file.unlink()


def _read_lock_bytes(file: Path) -> bytes | None:
    """A lock file's bytes (None if absent, b"" if it is not a small regular file): never
    follows a symlink, never reads more than a lock file holds."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(file, flags)
    except FileNotFoundError:
        return None
    except OSError:
        return b""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return os.read(fd, MAX_LOCK_BYTES)
    except OSError:
        return b""
    finally:
        os.close(fd)


def _owner_of(raw: bytes) -> Owner | None:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != LOCK_FORMAT:
        return None
    return Owner.from_json(data.get("owner"))


def _read_owner(file: Path) -> Owner | None | bytes:
    """The owner a lock file names; None if there is no file; its bytes if they are unreadable."""
    raw = _read_lock_bytes(file)
    if raw is None:
        return None
    owner = _owner_of(raw)
    return owner if owner is not None else raw


def lock_holder(document: Path) -> Held | None:
    """Who else holds ``document`` (alive or unknown), or None if nobody does."""
    found = _read_owner(lock_file_for(document))
    if isinstance(found, Owner):
        state = owner_state(found)
        return None if state is Liveness.DEAD else Held(document, found, state)
    return None


def _abandoned(file: Path) -> bool:
    """An unreadable lock file: abandoned once it is older than the grace period."""
    try:
        age = time.time() - file.lstat().st_mtime
    except OSError:
        return True
    return age > UNREADABLE_LOCK_GRACE_S


def lock_document(document: Path, owner: Owner) -> DocumentLock | Held | NoLock:
    """Lock ``document`` for ``owner``; a lock left by a dead instance is taken over."""
    file = lock_file_for(document)
    payload = json.dumps(
        {
            "format": LOCK_FORMAT,
            "document": str(document),
            "opened": _now_iso(),
            "owner": owner.to_json(),
        },
        ensure_ascii=False,
    ).encode("utf-8")
    for _attempt in range(5):
        try:
            fd = os.open(
                file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644
            )
        except FileExistsError:
            pass
        except OSError as exc:
            return NoLock(document, f"{file} cannot be created: {exc.strerror or exc}")
        else:
            try:
                os.write(fd, payload)
            finally:
                os.close(fd)
            return DocumentLock(document, file, owner)
        raw = _read_lock_bytes(file)
        if raw is None:
            continue  # released meanwhile: try again
        holder = _owner_of(raw)
        if holder is not None and holder.instance == owner.instance:
            return DocumentLock(document, file, owner)  # ours already (opened again)
        if holder is not None:
            state = owner_state(holder)
            if state is not Liveness.DEAD:
                return Held(document, holder, state)
        elif not _abandoned(file):
            return Held(document, _unknown_owner(), Liveness.UNKNOWN)
        # Stale: remove it only if it is still the file judged stale (another instance may have
        # taken it over in the meantime), then try to create ours again.
        if _read_lock_bytes(file) == raw:
            with contextlib.suppress(FileNotFoundError):
                file.unlink()
    return NoLock(document, f"{file} keeps changing; another program is locking the file.")


def _unknown_owner() -> Owner:
    return Owner(
        instance="", pid=0, host="?", started=None, boot=None, user="another program", since=""
    )


# ---------------------------------------------------------------------- changed on disk
@dataclass(frozen=True)
class DiskState:
    """What a file held when this instance last read or wrote it."""

    size: int
    mtime_ns: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "mtime_ns": self.mtime_ns, "sha256": self.sha256}

    @classmethod
    def from_json(cls, raw: Any) -> DiskState | None:
        if not isinstance(raw, dict):
            return None
        size, mtime, sha = raw.get("size"), raw.get("mtime_ns"), raw.get("sha256")
        if not (isinstance(size, int) and isinstance(mtime, int) and isinstance(sha, str)):
            return None
        return cls(size, mtime, sha)


def _hash_file(path: Path) -> tuple[str, os.stat_result]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
        return digest.hexdigest(), os.fstat(handle.fileno())


def disk_state(path: Path) -> DiskState | None:
    """Size, mtime and SHA-256 of ``path`` now (None if it does not exist)."""
    try:
        sha, st = _hash_file(path)
    except FileNotFoundError:
        return None
    return DiskState(st.st_size, st.st_mtime_ns, sha)


def written_state(path: Path, payload: bytes) -> DiskState:
    """The state of ``path`` just after this instance wrote ``payload`` to it."""
    st = path.stat()
    return DiskState(len(payload), st.st_mtime_ns, hashlib.sha256(payload).hexdigest())


def load_tracked(path: Path, load: Any) -> tuple[Any, DiskState | None]:
    """``load(path)`` and the disk state of the bytes it read (retried if the file changed
    while it was being read)."""
    for _attempt in range(3):
        before = disk_state(path)
        doc = load(path)
        try:
            st = path.stat()
        except FileNotFoundError:
            return doc, None
        if before is not None and (st.st_size, st.st_mtime_ns) == (before.size, before.mtime_ns):
            return doc, before
    return doc, disk_state(path)


@dataclass(frozen=True)
class DiskChange:
    """The file was changed (or deleted) by someone else since this instance read or wrote it."""

    path: Path
    deleted: bool
    now: DiskState | None
    before: DiskState

    def describe(self) -> str:
        if self.deleted or self.now is None:
            return f"{self.path.name} was deleted or moved since you opened it."
        when = datetime.fromtimestamp(self.now.mtime_ns / 1e9).astimezone()
        return (
            f"{self.path.name} was changed on disk at {when:%d %b %Y, %H:%M:%S} by another "
            f"window or program since you opened or last saved it ({self.before.size:,} → "
            f"{self.now.size:,} bytes)."
        )


def disk_change(path: Path, known: DiskState | None) -> DiskChange | None:
    """Whether ``path`` differs from ``known``: by size at once, else by SHA-256 (a file that
    was only touched, same bytes, is not a change)."""
    if known is None:
        return None
    try:
        st = path.stat()
    except FileNotFoundError:
        return DiskChange(path, True, None, known)
    if st.st_size != known.size:
        return DiskChange(path, False, DiskState(st.st_size, st.st_mtime_ns, ""), known)
    now = disk_state(path)
    if now is None:
        return DiskChange(path, True, None, known)
    if now.sha256 != known.sha256:
        return DiskChange(path, False, now, known)
    return None


@dataclass
class OpenFile:
    """A document file as one window has it open: the lock it holds (None when it opened a file
    someone else holds, or could not lock), the disk state last read or written, read-only."""

    path: Path
    lock: DocumentLock | None = None
    disk: DiskState | None = None
    read_only: bool = False

    def change(self) -> DiskChange | None:
        """Someone else's write since this window read or saved the file, if any."""
        return disk_change(self.path, self.disk)

    def release(self, keep: OpenFile | None = None) -> None:
        """Give up the lock, unless ``keep`` (what replaces this) holds the same lock file."""
        if self.lock is None:
            return
        if keep is not None and keep.lock is not None and keep.lock.file == self.lock.file:
            return
        self.lock.release()
