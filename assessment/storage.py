"""Reading and writing .probity files, safely.

Saving writes a temporary file in the target's folder, flushes and fsyncs it, then renames it over
the old file (and fsyncs the folder), so a crash at any moment leaves either the old or the new
file, never half of one. Loading diagnoses every way a file can be unusable with one message and
never writes anything. Recovery files hold unsaved edits, offered back after a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assessment.document import Assessment, now_iso
from assessment.errors import DocumentError

SUFFIX = ".probity"
RECOVERY_SUFFIX = ".recovery.json"


def dumps(doc: Assessment) -> bytes:
    return (json.dumps(doc.to_json(), ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(
    path: str | os.PathLike[str], payload: bytes, *, private: bool = False
) -> None:
    """Write ``payload`` to ``path`` atomically (temp file + fsync + rename + fsync of the folder).

    A new file gets the permissions an ordinary ``open()`` would give it (0666 less the umask),
    or 0600 when ``private``; an existing file keeps its permissions.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise DocumentError(f"cannot save {target}: the folder {folder} does not exist.")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            if target.exists():
                os.chmod(tmp_name, target.stat().st_mode & 0o777)
            elif not private:
                os.chmod(tmp_name, 0o666 & ~_umask())
        os.replace(tmp_name, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise DocumentError(
            f"cannot save {target}: {exc.strerror or exc}. The previous file, if any, is unchanged."
        ) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def save(doc: Assessment, path: str | os.PathLike[str]) -> None:
    atomic_write_bytes(path, dumps(doc))
    doc.dirty = False


def read_json_file(path: str | os.PathLike[str], *, what: str = "assessment") -> Any:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError as exc:
        raise DocumentError(f"{p} does not exist.") from exc
    except IsADirectoryError as exc:
        raise DocumentError(f"{p} is a folder, not an {what} file.") from exc
    except PermissionError as exc:
        raise DocumentError(f"{p} cannot be read: permission denied.") from exc
    except OSError as exc:
        raise DocumentError(f"{p} cannot be read: {exc.strerror or exc}.") from exc
    if not raw.strip():
        raise DocumentError(f"{p} is empty; it is not an {what} file.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{p} is not a Probity {what} (not UTF-8 text; byte {exc.start} is invalid)."
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " — the file looks truncated" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise DocumentError(
            f"{p} is damaged: invalid JSON at line {exc.lineno}, column {exc.colno} "
            f"({exc.msg}){hint}. Nothing was changed; restore it from a backup or a recovery file."
        ) from exc


def load(path: str | os.PathLike[str]) -> Assessment:
    data = read_json_file(path)
    return Assessment.from_json(data, source=str(path))


def loads(payload: bytes, *, source: str = "the embedded assessment") -> Assessment:
    try:
        data = json.loads(payload.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DocumentError(f"{source} is not valid JSON: {exc}") from exc
    return Assessment.from_json(data, source=source)


# ---------------------------------------------------------------------- recovery
@dataclass(frozen=True)
class Recovery:
    """An unsaved-edits snapshot found at start-up."""

    path: Path  # the recovery file
    original: str | None  # the .probity file it belongs to, None for a never-saved document
    saved: str  # when the snapshot was written
    title: str


def recovery_file_for(doc: Assessment, folder: Path) -> Path:
    return folder / f"{doc.id}{RECOVERY_SUFFIX}"


def write_recovery(doc: Assessment, folder: Path, original: str | os.PathLike[str] | None) -> Path:
    target = recovery_file_for(doc, folder)
    payload = {
        "format": "probity-recovery",
        "original": str(original) if original else None,
        "saved": now_iso(),
        "document": doc.to_json(),
    }
    atomic_write_bytes(
        target, json.dumps(payload, ensure_ascii=False).encode("utf-8"), private=True
    )
    return target


def list_recoveries(folder: Path) -> list[Recovery]:
    found: list[Recovery] = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob(f"*{RECOVERY_SUFFIX}")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            title = Assessment.from_json(data["document"], source=str(path)).title
        except (OSError, ValueError, KeyError, TypeError, DocumentError):
            continue  # an unreadable snapshot is not offered (and never deleted silently)
        found.append(
            Recovery(
                path=path,
                original=data.get("original"),
                saved=str(data.get("saved", "")),
                title=title,
            )
        )
    return found


def load_recovery(recovery: Recovery) -> Assessment:
    data = read_json_file(recovery.path, what="recovery")
    doc = Assessment.from_json(data["document"], source=str(recovery.path))
    doc.dirty = True  # recovered edits are not saved yet
    return doc


def discard_recovery(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
