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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assessment.catalogue import ASSESSMENT_SUFFIX
from assessment.document import Assessment, now_iso
from assessment.errors import DocumentError
from assessment.fileio import atomic_write, read_regular_bytes
from assessment.jsoncheck import duplicate_key_path, pairs_refusing_duplicates
from assessment.leftovers import clean_stale_temp_files
from assessment.locks import DiskState, Liveness, Owner, owner_state

SUFFIX = ASSESSMENT_SUFFIX
RECOVERY_SUFFIX = ".recovery.json"


def dumps(doc: Assessment) -> bytes:
    return (json.dumps(doc.to_json(), ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def atomic_write_bytes(
    path: str | os.PathLike[str], payload: bytes, *, private: bool = False
) -> None:
    """:func:`assessment.fileio.atomic_write` with DocumentError (kept for existing callers)."""
    atomic_write(path, payload, private=private, error=DocumentError)


def save(doc: Assessment, path: str | os.PathLike[str]) -> bytes:
    """Write ``doc`` to ``path`` atomically; returns the bytes written (for their SHA-256)."""
    payload = dumps(doc)
    # Temporary files that crashed saves left in this folder go first (only dead writers').
    clean_stale_temp_files(Path(path).parent if str(Path(path).parent) else Path("."))
    atomic_write(path, payload, error=DocumentError)
    doc.dirty = False
    return payload


#: Largest .probity (or recovery) file read: far above any real assessment (the demo with its
#: evaluation snapshot is ~1 MB), small enough that parsing it cannot exhaust memory.
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
#: Longest integer literal accepted in a document (a count or a seed has at most ~20 digits).
MAX_INT_DIGITS = 40


class _BadNumber(ValueError):
    pass


def _parse_constant(name: str) -> Any:
    raise _BadNumber(f"the non-number {name}")


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _BadNumber(f"an integer with {digits:,} digits")
    return int(text)


def read_document_bytes(path: str | os.PathLike[str], *, what: str = "assessment") -> bytes:
    """The bytes of a .probity file: a regular file of at most :data:`MAX_DOCUMENT_BYTES`."""
    return read_regular_bytes(
        path,
        what=f"Probity {what} file",
        max_bytes=MAX_DOCUMENT_BYTES,
        limit_hint="no assessment is that large, so it is probably not one",
        error=DocumentError,
    )


def parse_document_json(raw: bytes, *, source: str, what: str = "assessment") -> Any:
    """Decode and parse a document's bytes; every way it can fail is one DocumentError."""
    if not raw.strip():
        raise DocumentError(f"{source} is empty; it is not an {what} file.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{source} is not a Probity {what} (not UTF-8 text; byte {exc.start} is invalid)."
        ) from exc
    try:
        data = json.loads(
            text,
            parse_constant=_parse_constant,
            parse_int=_parse_int,
            object_pairs_hook=pairs_refusing_duplicates,
        )
    except json.JSONDecodeError as exc:
        hint = " — the file looks truncated" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise DocumentError(
            f"{source} is damaged: invalid JSON at line {exc.lineno}, column {exc.colno} "
            f"({exc.msg}){hint}. Nothing was changed; restore it from a backup or a recovery file."
        ) from exc
    except _BadNumber as exc:
        raise DocumentError(
            f"{source} is damaged: it contains {exc}, which no Probity {what} holds. Nothing "
            "was changed; restore it from a backup or a recovery file."
        ) from exc
    except RecursionError as exc:
        raise DocumentError(
            f"{source} is damaged: its JSON is nested too deeply to be a Probity {what}. "
            "Nothing was changed; restore it from a backup or a recovery file."
        ) from exc
    except ValueError as exc:  # e.g. Python's own limit on very long integers
        raise DocumentError(
            f"{source} is damaged: {str(exc).splitlines()[0]}. Nothing was changed."
        ) from exc
    twice = duplicate_key_path(data)
    if twice is not None:
        raise DocumentError(
            f"{source} is damaged: {twice} appears twice with possibly different values, which "
            f"no Probity {what} holds. Nothing was changed; restore it from a backup or a "
            "recovery file."
        )
    return data


def read_json_file(path: str | os.PathLike[str], *, what: str = "assessment") -> Any:
    return parse_document_json(read_document_bytes(path, what=what), source=str(path), what=what)


def load(path: str | os.PathLike[str]) -> Assessment:
    data = read_json_file(path)
    return Assessment.from_json(data, source=str(path))


def loads(payload: bytes, *, source: str = "the embedded assessment") -> Assessment:
    return Assessment.from_json(parse_document_json(payload, source=source), source=source)


# ---------------------------------------------------------------------- recovery
# One snapshot per running instance and document: ``INSTANCE.DOCUMENT-ID.recovery.json``, naming
# its writer (pid, host, process start time: assessment.locks.Owner) so that a snapshot is offered
# back only when its writer is no longer running, and never deleted while it is. Files of older
# versions (``DOCUMENT-ID.recovery.json``, no owner) are offered as abandoned.
@dataclass(frozen=True)
class Recovery:
    """An unsaved-edits snapshot found at start-up."""

    path: Path  # the recovery file
    original: str | None  # the .probity file it belongs to, None for a never-saved document
    saved: str  # when the snapshot was written
    title: str
    owner: Owner | None = None  # the instance that wrote it (None: an older version's file)
    base: DiskState | None = None  # the original file as the writer last read or saved it


def recovery_file_for(doc: Assessment, folder: Path, owner: Owner) -> Path:
    return folder / f"{owner.instance}.{doc.id}{RECOVERY_SUFFIX}"


def write_recovery(
    doc: Assessment,
    folder: Path,
    original: str | os.PathLike[str] | None,
    *,
    owner: Owner,
    base: DiskState | None = None,
) -> Path:
    target = recovery_file_for(doc, folder, owner)
    clean_stale_temp_files(folder, own_folder=True)
    payload = {
        "format": "probity-recovery",
        "original": str(original) if original else None,
        "saved": now_iso(),
        "owner": owner.to_json(),
        "base": base.to_json() if base is not None else None,
        "document": doc.to_json(),
    }
    atomic_write(
        target,
        json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        private=True,
        error=DocumentError,
    )
    return target


def _read_recovery(path: Path) -> Recovery | None:
    try:
        data = _recovery_data(read_json_file(path, what="recovery"), path)
        title = Assessment.from_json(data["document"], source=str(path)).title
    except DocumentError:
        return None  # an unreadable snapshot is not offered (and never deleted silently)
    original = data.get("original")
    return Recovery(
        path=path,
        original=original if isinstance(original, str) else None,
        saved=str(data.get("saved", "")),
        title=title,
        owner=Owner.from_json(data.get("owner")),
        base=DiskState.from_json(data.get("base")),
    )


def recovery_abandoned(recovery: Recovery) -> bool:
    """Whether the instance that wrote ``recovery`` has certainly stopped (or is too old to say)."""
    return recovery.owner is None or owner_state(recovery.owner) is Liveness.DEAD


def list_recoveries(folder: Path, *, include_running: bool = False) -> list[Recovery]:
    """Snapshots whose writer is no longer running (all of them with ``include_running``)."""
    found: list[Recovery] = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob(f"*{RECOVERY_SUFFIX}")):
        recovery = _read_recovery(path)
        if recovery is not None and (include_running or recovery_abandoned(recovery)):
            found.append(recovery)
    return found


def load_recovery(recovery: Recovery) -> Assessment:
    data = _recovery_data(read_json_file(recovery.path, what="recovery"), recovery.path)
    doc = Assessment.from_json(data["document"], source=str(recovery.path))
    doc.dirty = True  # recovered edits are not saved yet
    return doc


def _recovery_data(data: Any, path: Path) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("document"), dict):
        raise DocumentError(f"{path} is not a Probity recovery file (no document in it).")
    if not isinstance(data.get("original"), str | type(None)):
        raise DocumentError(f"{path} is not a Probity recovery file ($.original is not text).")
    return data


def discard_recovery(path: Path) -> None:
    """Remove this instance's own snapshot."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def discard_abandoned_recovery(recovery: Recovery) -> bool:
    """Remove another instance's snapshot, re-checking first that its writer is not running
    (it may have been started again since the snapshot was listed). True if removed."""
    current = _read_recovery(recovery.path)
    if current is None or not recovery_abandoned(current):
        return False
    discard_recovery(recovery.path)
    return True
