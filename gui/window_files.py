"""The main window's file commands: New, Open (and recent, drop), the demo, Save, Save As,
reload after a change on disk, the unsaved-changes question and crash recovery.

A mixin of :class:`gui.main_window.MainWindow`. Reading, writing and locking are
:mod:`assessment.storage`'s and :mod:`assessment.locks`'; the document and its file live in the
document session (``ctx.session``), which resets every page when the document is replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from assessment import evidence, leftovers, locks, storage
from assessment.catalogue import (
    ASSESSMENT_SUFFIX,
    DATA_SUFFIXES,
    RECEIVED_REPORT_SUFFIX,
    data_file_filter,
)
from assessment.document import Assessment, Reviewer
from assessment.errors import DocumentError, ProbityError
from gui import errors, file_guard
from gui.autosave import pending_recoveries

PROBITY_FILTER = "Probity assessments (*.probity);;All files (*)"


class WindowParts:
    """What the window defines (declared once for the type checker)."""

    autosave: Any
    commit_pending: Any
    ctx: Any
    go_to: Any
    recent_menu: Any


class FileCommands(WindowParts):
    """New, Open, demo, Save, Save As, reload, the unsaved-changes question, recovery, drop."""

    def set_document(
        self, doc: Assessment, path: Path | None, opened: locks.OpenFile | None = None
    ) -> None:
        """Show ``doc`` (already loaded or created by the caller). ``opened``: its file's lock
        and disk state; without it a file is tracked from its current disk state, unlocked."""
        if path is not None and opened is None:
            opened = locks.OpenFile(path, disk=locks.disk_state(path))
        self._set_open_file(opened)
        self.ctx.set_document(doc, path)

    def _set_open_file(self, opened: locks.OpenFile | None) -> None:
        previous, self.ctx.open_file = self.ctx.open_file, opened
        if previous is not None:
            previous.release(keep=opened)

    def clean_leftovers(self) -> None:
        """At start: remove temporary files that crashed saves left (only those whose writer
        is dead) in Probity's own folders and beside the recently used files."""
        paths = self.ctx.paths
        own = [paths.config_dir, paths.recovery_dir, paths.identities_dir, paths.crash_log.parent]
        done = leftovers.clean_folders(own, own=True)
        recent = [Path(name).parent for name in self.ctx.settings.recent_files()]
        done.add(leftovers.clean_folders(recent))
        if done.removed:
            self.ctx.show_status(
                f"Removed {len(done.removed)} temporary files left by "
                f"interrupted saves ({done.freed / 1e6:,.1f} MB)",
                8000,
            )

    def load_file(self, path: Path) -> bool:
        """Open ``path`` (.probity), a received signed report (.pdf: verified, then read-only),
        or hand a data file to the validation data page."""
        if path.suffix.lower() in DATA_SUFFIXES:
            return self.open_data_file(path)
        if path.suffix.lower() == RECEIVED_REPORT_SUFFIX:
            from gui.received.open import open_received_report

            open_received_report(self, path)
            return True
        try:  # read first: a damaged file must not cost the open document its recovery copy
            doc, disk = locks.load_tracked(path, storage.load)
        except ProbityError as exc:
            self.ctx.show_error(exc)
            return False
        leftovers.clean_stale_temp_files(path.resolve().parent)
        opened = file_guard.claim(self.ctx, path.resolve())  # someone else has it open?
        if opened is None:
            return False
        opened.disk = disk
        if not self.confirm_discard("opening another assessment"):
            opened.release(keep=self.ctx.open_file)
            return False
        self.autosave.discard()
        # A crash left edits of this file: offer them first, before its next autosave would
        # overwrite them.
        if self.offer_recovery(only=path, opened=opened):
            return True
        self.set_document(doc, path.resolve(), opened)
        self.ctx.settings.add_recent(path)
        note = " read-only (Save As keeps your edits)" if opened.read_only else ""
        self.ctx.show_status(f"Opened {path.name}{note}")
        return True

    def open_data_file(self, path: Path) -> bool:
        self.go_to("data")  # builds the page, which listens to data_file_requested
        self.ctx.data_file_requested.emit(str(path))
        return True

    def open_demo(self) -> bool:
        path = demo_path()
        if path is None:
            self.ctx.show_error(
                DocumentError("The demo assessment (resources/demo/demo.probity) is not installed.")
            )
            return False
        if not self.confirm_discard("opening the demo"):
            return False
        try:
            doc = storage.load(path)
        except ProbityError as exc:
            self.ctx.show_error(exc)
            return False
        self.autosave.discard()
        self.set_document(doc, None)  # never save over the packaged demo
        self.ctx.show_status("Demo assessment opened; Save As keeps your own copy", 6000)
        return True

    def reviewer_from_settings(self) -> Reviewer:
        s = self.ctx.settings
        return Reviewer(
            name=s.get("reviewer_name"),
            role=s.get("reviewer_role"),
            organisation=s.get("reviewer_organisation"),
            email=s.get("reviewer_email"),
        )

    def new_document(self) -> bool:
        from assessment.instruments import available_instruments

        if not self.confirm_discard("starting a new assessment"):
            return False
        choices = available_instruments()
        labels = [f"{name} ({iid})" for iid, name in choices]
        default = next(
            (
                i
                for i, (iid, _) in enumerate(choices)
                if iid == self.ctx.settings.get("default_instrument")
            ),
            0,
        )
        picked = self.ctx.ask_item("New assessment", "Instrument:", labels, default)
        if picked is None:
            return False
        instrument_id = choices[labels.index(picked)][0]
        try:
            doc = Assessment.new(instrument_id, reviewer=self.reviewer_from_settings())
        except ProbityError as exc:
            self.ctx.show_error(exc)
            return False
        self.autosave.discard()
        self.set_document(doc, None)
        self.go_to("review")
        return True

    def open_dialog(self) -> bool:
        directory = str(self.ctx.path.parent) if self.ctx.path else ""
        filters = (
            f"Probity assessments (*{ASSESSMENT_SUFFIX});;{data_file_filter()};;"
            f"Signed reports (*{RECEIVED_REPORT_SUFFIX})"
        )
        path = self.ctx.ask_open_path("Open", filters, directory)
        return self.load_file(path) if path is not None else False

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.ctx.settings.recent_files()
        if not recent:
            empty = self.recent_menu.addAction("No recent files")
            empty.setEnabled(False)
            return
        for index, name in enumerate(recent, start=1):
            action = self.recent_menu.addAction(f"&{index % 10} {Path(name).name}")
            action.setToolTip(name)
            action.triggered.connect(lambda _=False, p=name: self.load_file(Path(p)))
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear list", self.ctx.settings.clear_recent)

    def save(self) -> bool:
        if self.ctx.path is None:
            return self.save_as()
        return self._save_to(self.ctx.path)

    def save_as(self) -> bool:
        suggested = str(
            (self.ctx.path.parent if self.ctx.path else Path.home())
            / f"{_safe_name(self.ctx.doc.title)}.probity"
        )
        path = self.ctx.ask_save_path("Save assessment as", PROBITY_FILTER, suggested)
        if path is None:
            return False
        if path.suffix.lower() != ASSESSMENT_SUFFIX:
            path = path.with_name(path.name + ASSESSMENT_SUFFIX)
        return self._save_to(path)

    def _save_to(self, path: Path) -> bool:
        """Save, unless another window's save would be lost: the file must be as this window
        last read or wrote it (else Reload / Save as / Overwrite), and a file held by someone
        else is not saved over without asking."""
        self.commit_pending()
        current = self.ctx.open_file
        same = current is not None and _same_file(str(current.path), path)
        if current is not None and same:
            if current.read_only:
                self.ctx.inform(
                    "Opened read-only",
                    f"{path.name} was opened read-only because "
                    "another window has it open. Save your edits as another file.",
                )
                return self.save_as()
            change = current.change()
            if change is not None:
                choice = file_guard.ask_conflict(self.ctx, change)
                if choice is file_guard.Conflict.RELOAD:
                    return self._reload(current)
                if choice is file_guard.Conflict.SAVE_AS:
                    return self.save_as()
                if choice is file_guard.Conflict.CANCEL:
                    return False
            target = current
        else:
            claimed = file_guard.claim(self.ctx, path.resolve(), saving=True)
            if claimed is None:
                return False
            target = claimed
        try:
            payload = storage.save(self.ctx.doc, path)
            target.disk = locks.written_state(path, payload)
        except ProbityError as exc:
            if target is not current:
                target.release()
            self.ctx.show_error(exc)
            return False
        except OSError as exc:  # the file vanished between the write and the stat
            target.disk = None
            self.ctx.show_error(exc)
        if target is not current:
            self._set_open_file(target)
        if not same:  # Save As: the evidence PDFs follow the file (assessment.evidence)
            for problem in evidence.carry_over(self.ctx.doc, self.ctx.path, path.resolve()):
                self.ctx.show_status(problem, 10000)
        self.ctx.mark_saved(path.resolve())
        self.autosave.discard()
        self.ctx.settings.add_recent(path)
        self.ctx.show_status(f"Saved {path.name}")
        return True

    def _reload(self, opened: locks.OpenFile) -> bool:
        """Replace this window's edits by the file as it is on disk now (keeps the lock)."""
        try:
            doc, disk = locks.load_tracked(opened.path, storage.load)
        except ProbityError as exc:
            self.ctx.show_error(exc)
            return False
        self.autosave.discard()
        opened.disk = disk
        self.set_document(doc, opened.path, opened)
        self.ctx.show_status(f"Reloaded {opened.path.name} as it is on disk", 6000)
        return False  # this window's edits were not saved

    def confirm_discard(self, doing: str) -> bool:
        """Before losing unsaved edits: Save / Discard / Cancel. True means go ahead."""
        if not self.ctx.has_document:
            return True
        self.commit_pending()
        if not self.ctx.modified:
            return True
        choice = errors.ask_save_discard_cancel(
            self.ctx.window,
            "Unsaved changes",
            f"“{self.ctx.doc.title}” has unsaved changes. Save them before {doing}?",
        )
        if choice is errors.Choice.SAVE:
            return self.save()
        if choice is errors.Choice.DISCARD:
            self.autosave.discard()
            return True
        return False

    def offer_recovery(
        self, only: Path | None = None, opened: locks.OpenFile | None = None
    ) -> bool:
        """Offer the edits a crashed session left behind. True if one was opened.

        Only snapshots whose window no longer runs are offered (another running window's
        snapshot is its own), and declining removes one only if its writer is still gone.
        ``only``: offer just the edits of that .probity file (it was named on the command line;
        opening it without asking would let its next autosave overwrite the crashed edits);
        ``opened``: that file, already locked by the caller.
        """
        for recovery in pending_recoveries(self.ctx):
            if only is not None and not _same_file(recovery.original, only):
                continue
            where = recovery.original or "a document that was never saved"
            text = (
                f"Probity did not close properly. Unsaved edits of “{recovery.title}” "
                f"({where}) were kept at {_local_time(recovery.saved)}.\n\nRecover them? "
                "Choosing No deletes the recovered edits."
            )
            if self.ctx.ask_yes_no("Recover unsaved edits", text, default_yes=True):
                if self._recover(recovery, opened):
                    return True
                continue
            storage.discard_abandoned_recovery(recovery)
        return False

    def _recover(self, recovery: storage.Recovery, opened: locks.OpenFile | None) -> bool:
        try:
            doc = storage.load_recovery(recovery)
        except ProbityError as exc:
            self.ctx.show_error(exc)
            return False
        original = Path(recovery.original).resolve() if recovery.original else None
        if original is not None and opened is None:
            opened = file_guard.claim(self.ctx, original)
            if opened is None:
                return False  # kept for later: the reviewer cancelled
        if opened is not None:
            # Saving must notice what others wrote since the crashed window read the file.
            opened.disk = recovery.base or locks.disk_state(opened.path)
        self.set_document(doc, original, opened)
        # This window's own snapshot (started by set_document: the document is modified)
        # replaces the crashed one: once it is written, theirs goes.
        self.autosave.flush()
        if self.autosave.recovery_file is not None and self.autosave.recovery_file.is_file():
            storage.discard_abandoned_recovery(recovery)
        self.ctx.show_status("Recovered unsaved edits; save to keep them", 8000)
        return True

    @staticmethod
    def _dropped_path(event: QDragEnterEvent | QDropEvent) -> Path | None:
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        urls = [u for u in mime.urls() if u.isLocalFile()]
        if len(urls) != 1:
            return None
        path = Path(urls[0].toLocalFile())
        if path.suffix.lower() in (*DATA_SUFFIXES, ASSESSMENT_SUFFIX, RECEIVED_REPORT_SUFFIX):
            return path
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if self._dropped_path(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        path = self._dropped_path(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        # Leave the drag-and-drop handler before any modal dialog opens.
        QTimer.singleShot(0, lambda: self.load_file(path))


def _same_file(original: str | None, path: Path) -> bool:
    """Whether a recovery's original file is ``path`` (compared as resolved absolute paths)."""
    if not original:
        return False
    try:
        return Path(original).resolve() == path.resolve()
    except OSError:
        return False


def _local_time(iso: str) -> str:
    """An ISO-8601 timestamp as the reviewer reads it: local time, minutes precision."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%d %b %Y, %H:%M")
    except ValueError:
        return iso or "an unknown time"


def demo_path() -> Path | None:
    """The bundled demo assessment (resources/demo/demo.probity), if it is installed."""
    from importlib.resources import files

    candidate = files("resources") / "demo" / "demo.probity"
    return Path(str(candidate)) if candidate.is_file() else None


def _safe_name(title: str) -> str:
    keep = "".join(c if c.isalnum() or c in " -_." else "_" for c in title).strip()
    return keep or "assessment"
