"""Never lose work: a debounced recovery snapshot after every change, offered back after a crash.

Every document change restarts a single-shot timer; when the reviewer pauses, a copy of the
document's data is taken on the UI thread and written (atomically, by :mod:`assessment.storage`)
to a recovery file in the config folder by a short-lived Python thread, so serialising and
fsyncing a large document (the demo's evaluation snapshot is ~1 MB) never stalls the window.
Saving, discarding or closing cleanly removes the file, so a recovery file whose writer is no
longer running means that session ended without saving — a crash, a kill or a power cut.

Each window writes its own file (its instance id in the name, its pid, host and process start
time inside: :mod:`assessment.locks`), so two windows on one document never overwrite each
other's snapshot, and a snapshot is offered back only once its window has stopped.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Slot

from assessment import locks, storage
from assessment.document import Assessment
from assessment.errors import ProbityError
from gui.context import AppContext

POLL_MS = 30


class Autosave(QObject):
    """Writes a snapshot of ``ctx.doc`` to its recovery file shortly after each change."""

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
        self._thread: threading.Thread | None = None
        self._outcome: Path | BaseException | None = None
        # The writer thread never touches Qt (see gui.context on cross-thread signals): a
        # UI-thread timer notices when it has finished.
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._collect_if_done)
        ctx.changed.connect(self._on_changed)
        ctx.modified_changed.connect(self._on_modified_changed)
        ctx.document_replaced.connect(self._on_replaced)

    @property
    def pending(self) -> bool:
        return self._timer.isActive() or self._thread is not None

    @property
    def recovery_file(self) -> Path | None:
        return self._written

    @Slot(str)
    def _on_changed(self, _path: str) -> None:
        self._timer.start()

    @Slot(bool)
    def _on_modified_changed(self, modified: bool) -> None:
        if not modified:  # saved: the snapshot is obsolete
            self.discard()

    @Slot()
    def _on_replaced(self) -> None:
        self._timer.stop()
        self.flush()
        self._written = None
        if self.ctx.modified:  # a recovered document: keep a snapshot of it straight away
            self.write_now()

    @Slot()
    def write_now(self) -> None:
        """Start writing the snapshot now; :meth:`flush` waits for it (excepthook, tests)."""
        self._timer.stop()
        if not self.ctx.has_document or not self.ctx.modified:
            return
        self.flush()  # one writer at a time; the previous one is nearly always done
        snapshot = self.ctx.doc.snapshot()  # a deep copy: edits may go on meanwhile
        folder, original = self.ctx.paths.recovery_dir, self.ctx.path
        opened = self.ctx.open_file
        base = opened.disk if opened is not None else None
        self._thread = threading.Thread(target=self._write,
                                        args=(snapshot, folder, original, base,
                                              self.ctx.instance.owner),
                                        name="probity-autosave")
        self._thread.start()
        self._poll.start()

    def _write(self, snapshot: Assessment, folder: Path, original: Path | None,
               base: locks.DiskState | None, owner: locks.Owner) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._outcome = storage.write_recovery(snapshot, folder, original,
                                                   owner=owner, base=base)
        except (ProbityError, OSError) as exc:
            self._outcome = exc

    @Slot()
    def _collect_if_done(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._collect()

    def _collect(self) -> None:
        """Join the finished writer and take its outcome (UI thread)."""
        self._poll.stop()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        outcome, self._outcome = self._outcome, None
        if isinstance(outcome, Path):
            self._written = outcome
            self.ctx.show_status("Unsaved edits kept in a recovery file", 2000)
        elif outcome is not None and not self._failed_once:
            # Tell the reviewer once per session; autosave keeps trying on later changes.
            self._failed_once = True
            self.ctx.show_error(outcome)

    def flush(self) -> None:
        """Wait until a running write has finished and its outcome is recorded."""
        if self._thread is not None:
            self._collect()

    def discard(self) -> None:
        """Remove this document's snapshot (after a save, or when edits are discarded)."""
        self._timer.stop()
        self.flush()  # a write still running would otherwise recreate the file
        if self.ctx.has_document:
            with contextlib.suppress(OSError):
                storage.discard_recovery(storage.recovery_file_for(
                    self.ctx.doc, self.ctx.paths.recovery_dir, self.ctx.instance.owner))
        self._written = None


def pending_recoveries(ctx: AppContext) -> list[storage.Recovery]:
    """Snapshots left by sessions that did not end cleanly and no longer run (newest first);
    those of running windows, here or in another process, are not offered."""
    found = storage.list_recoveries(ctx.paths.recovery_dir)
    return sorted(found, key=lambda r: r.saved, reverse=True)
