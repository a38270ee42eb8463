"""Never lose work: a debounced recovery snapshot after every change, offered back after a crash.

Every document change restarts a single-shot timer; when the reviewer pauses, the whole document
is written (atomically, by :mod:`assessment.storage`) to a recovery file in the config folder.
Saving, discarding or closing cleanly removes it, so a recovery file that exists at start-up
means the previous session ended without saving — a crash, a kill or a power cut.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Slot

from assessment import storage
from assessment.errors import ProbityError
from gui.context import AppContext


class Autosave(QObject):
    """Writes ``ctx.doc`` to its recovery file shortly after each change."""

    def __init__(self, ctx: AppContext, delay_ms: int | None = None) -> None:
        super().__init__(ctx)
        self.ctx = ctx
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms if delay_ms is not None
                                else int(ctx.settings.get("autosave_delay_ms")))
        self._timer.timeout.connect(self.write_now)
        self._written: Path | None = None  # recovery file of the current document, if any
        self._failed_once = False
        ctx.changed.connect(self._on_changed)
        ctx.modified_changed.connect(self._on_modified_changed)
        ctx.document_replaced.connect(self._on_replaced)

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    @property
    def recovery_file(self) -> Path | None:
        return self._written

    @Slot(str)
    def _on_changed(self, _path: str) -> None:
        self._timer.start()

    @Slot(bool)
    def _on_modified_changed(self, modified: bool) -> None:
        if not modified:  # saved: the snapshot is obsolete
            self._timer.stop()
            self.discard()

    @Slot()
    def _on_replaced(self) -> None:
        self._timer.stop()
        self._written = None
        if self.ctx.modified:  # a recovered document: keep a snapshot of it straight away
            self.write_now()

    @Slot()
    def write_now(self) -> None:
        """Write the snapshot now (also used by the excepthook before showing an error)."""
        self._timer.stop()
        if not self.ctx.has_document or not self.ctx.modified:
            return
        try:
            self.ctx.paths.recovery_dir.mkdir(parents=True, exist_ok=True)
            self._written = storage.write_recovery(
                self.ctx.doc, self.ctx.paths.recovery_dir, self.ctx.path
            )
        except (ProbityError, OSError) as exc:
            # Tell the reviewer once per session; autosave keeps trying on later changes.
            if not self._failed_once:
                self._failed_once = True
                self.ctx.show_error(exc)
            return
        self.ctx.show_status("Unsaved edits kept in a recovery file", 2000)

    def discard(self) -> None:
        """Remove this document's snapshot (after a save, or when edits are discarded)."""
        self._timer.stop()
        if self.ctx.has_document:
            with contextlib.suppress(OSError):
                storage.discard_recovery(
                    storage.recovery_file_for(self.ctx.doc, self.ctx.paths.recovery_dir)
                )
        self._written = None


def pending_recoveries(ctx: AppContext) -> list[storage.Recovery]:
    """Snapshots left by a session that did not end cleanly (newest first)."""
    found = storage.list_recoveries(ctx.paths.recovery_dir)
    return sorted(found, key=lambda r: r.saved, reverse=True)
