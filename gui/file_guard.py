"""The questions asked when another window or program has the same .probity file.

The rules (who holds a lock, whether that process still runs, whether the file changed on disk)
live in the Qt-free :mod:`assessment.locks`; this module only words the questions and asks them
through the context's ``ask_choice`` (so tests script the answers, STYLE.md §9).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from assessment import locks
from gui.context import AppContext

READ_ONLY = "Open read-only"
OPEN_ANYWAY = "Open anyway"
SAVE_ANYWAY = "Save anyway"
CANCEL = "Cancel"
RELOAD = "Reload"
SAVE_AS = "Save as…"
OVERWRITE = "Overwrite"


class Conflict(Enum):
    """What to do when the file changed on disk since this window read or saved it."""

    RELOAD = "reload"
    SAVE_AS = "save as"
    OVERWRITE = "overwrite"
    CANCEL = "cancel"


def claim(ctx: AppContext, path: Path, *, saving: bool = False) -> locks.OpenFile | None:
    """Lock ``path`` for this window. When someone else holds it, ask: open read-only / open
    anyway / cancel (``saving``: save anyway / cancel). None means the reviewer cancelled."""
    result = locks.lock_document(path, ctx.instance.owner)
    if isinstance(result, locks.DocumentLock):
        return locks.OpenFile(path, lock=result)
    if isinstance(result, locks.NoLock):
        ctx.show_status(
            f"Opened without a lock file ({result.reason}); saving still checks "
            "for changes made by others",
            8000,
        )
        return locks.OpenFile(path)
    holder = result.describe()
    if saving:
        text = (
            f"{path.name} is open in {holder}.\n\nSaving over it now replaces the file "
            "under that window; its next save will ask before overwriting yours."
        )
        choice = ctx.ask_choice("File in use", text, [SAVE_ANYWAY, CANCEL], default=1)
        return locks.OpenFile(path) if choice == SAVE_ANYWAY else None
    text = (
        f"{path.name} is open in {holder}.\n\nOpen it read-only (Save As keeps your "
        "edits in another file), open it anyway (saving then checks for their changes "
        "first and asks before overwriting them), or cancel?"
    )
    choice = ctx.ask_choice("File in use", text, [READ_ONLY, OPEN_ANYWAY, CANCEL], default=0)
    if choice == READ_ONLY:
        return locks.OpenFile(path, read_only=True)
    if choice == OPEN_ANYWAY:
        return locks.OpenFile(path)
    return None


def ask_conflict(ctx: AppContext, change: locks.DiskChange) -> Conflict:
    """The file changed (or vanished) since it was read or saved: Reload / Save as / Overwrite."""
    if change.deleted:
        text = (
            f"{change.describe()}\n\nSave as another file, write it again where it was "
            "(Overwrite), or cancel?"
        )
        choice = ctx.ask_choice(
            "File changed on disk", text, [SAVE_AS, OVERWRITE, CANCEL], default=0
        )
    else:
        text = (
            f"{change.describe()}\n\nReload it (your unsaved edits in this window are "
            "discarded), save your version as another file, overwrite their changes with "
            "your version, or cancel?"
        )
        choice = ctx.ask_choice(
            "File changed on disk", text, [RELOAD, SAVE_AS, OVERWRITE, CANCEL], default=1
        )
    return {RELOAD: Conflict.RELOAD, SAVE_AS: Conflict.SAVE_AS, OVERWRITE: Conflict.OVERWRITE}.get(
        choice or CANCEL, Conflict.CANCEL
    )
