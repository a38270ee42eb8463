"""The main window: the step list on the left, the step's page in the centre, file state below.

Pages are built lazily from :mod:`gui.steps` (the current one before the window shows, the rest
in idle time), so start-up imports only Qt and the assessment core. The window owns the file
commands (New, Open, Save, recovery, close prompt) and routes every failure to the error funnel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from assessment import leftovers, locks, storage
from assessment.catalogue import ASSESSMENT_SUFFIX, DATA_SUFFIXES, data_file_filter
from assessment.document import Assessment, Reviewer
from assessment.errors import DocumentError, ProbityError
from gui import errors, file_guard
from gui.autosave import Autosave, pending_recoveries
from gui.context import AppContext
from gui.steps import VERIFY_DIALOG, Step, StepPage, load_symbol, page_factory, steps_for
from gui.widgets import status_icon

PROBITY_FILTER = "Probity assessments (*.probity);;All files (*)"
STEP_ROLE = Qt.ItemDataRole.UserRole + 1


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


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext | None = None) -> None:
        super().__init__()
        self.ctx = ctx or AppContext()
        self.ctx.window = self
        self.ctx.setParent(self)
        self.ctx.save_document = self.save
        self.autosave = Autosave(self.ctx)
        self._steps: list[Step] = []
        self._pages: dict[str, QWidget] = {}
        self._step_signature: tuple[str, ...] = ()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh_steps)
        self._warmup_timer = QTimer(self)
        self._warmup_timer.setSingleShot(True)
        self._warmup_timer.setInterval(150)
        self._warmup_timer.timeout.connect(self._warm_up_one)
        self._closing_confirmed = False

        self.setWindowTitle("Probity")
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self._build_central()
        self._build_actions()
        self._build_menus()
        self._build_status_bar()

        self.ctx.document_replacing.connect(self._retire_pages)  # before the pages reset
        self.ctx.document_shown.connect(self._on_document_shown)  # after the pages reset
        self.ctx.changed.connect(self._on_changed)
        self.ctx.modified_changed.connect(self._update_file_state)
        self.ctx.file_changed.connect(self._update_file_state)
        self.ctx.status_message.connect(self._show_status)
        self.ctx.job_started.connect(self._on_job_started)
        self.ctx.job_finished.connect(self._on_job_finished)
        self.ctx.navigate_requested.connect(self.go_to)

    # ------------------------------------------------------------------ construction
    def _build_central(self) -> None:
        self.step_list = QListWidget()
        self.step_list.setObjectName("stepList")
        self.step_list.setAccessibleName("Assessment steps")
        self.step_list.setMinimumWidth(240)
        self.step_list.setMaximumWidth(340)
        self.step_list.setSpacing(1)
        self.step_list.currentItemChanged.connect(self._on_step_selected)
        self.stack = QStackedWidget()
        splitter = QSplitter()
        splitter.addWidget(self.step_list)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([260, 1020])
        self.setCentralWidget(splitter)

    def _action(self, text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        keys = QKeySequence.StandardKey
        self.act_new = self._action("&New assessment…", self.new_document, keys.New,
                                    "Start a new assessment")
        self.act_open = self._action("&Open…", self.open_dialog, keys.Open,
                                     "Open a .probity assessment or a validation data file")
        self.act_demo = self._action("Open the &demo assessment", self.open_demo)
        self.act_save = self._action("&Save", self.save, keys.Save, "Save the assessment")
        self.act_save_as = self._action("Save &As…", self.save_as, keys.SaveAs)
        self.act_export = self._action("&Export signed PDF…", self.export_pdf, "Ctrl+E",
                                       "Sign the report and export it as PDF")
        self.act_verify = self._action("&Verify a report…", self.verify_report, "Ctrl+Shift+V",
                                       "Check the signature of a Probity PDF report")
        self.act_quit = self._action("&Quit", self.close, keys.Quit)
        self.act_undo = self._action("&Undo", self.undo, keys.Undo)
        self.act_redo = self._action("&Redo", self.redo, keys.Redo)
        self.act_prefs = self._action("&Preferences…", self.preferences, keys.Preferences)
        if self.act_prefs.shortcut().isEmpty():
            self.act_prefs.setShortcut(QKeySequence("Ctrl+,"))
        self.act_next = self._action("&Next step", lambda: self.go_relative(1), "Ctrl+PgDown")
        self.act_prev = self._action("&Previous step", lambda: self.go_relative(-1), "Ctrl+PgUp")
        self.act_steps = self._action("Go to the &step list", self.step_list.setFocus, "Ctrl+L")
        self.act_help = self._action("Probity &Help", self.show_help, keys.HelpContents)
        self.act_about = self._action("&About Probity", self.show_about)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.act_new, self.act_open])
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addMenu(self.recent_menu)
        file_menu.addAction(self.act_demo)
        file_menu.addSeparator()
        file_menu.addActions([self.act_save, self.act_save_as])
        file_menu.addSeparator()
        file_menu.addActions([self.act_export, self.act_verify])
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.act_undo, self.act_redo])
        edit_menu.addSeparator()
        edit_menu.addAction(self.act_prefs)
        go_menu = bar.addMenu("&Go")
        go_menu.addActions([self.act_prev, self.act_next, self.act_steps])
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.act_help, self.act_about])

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.file_label = QLabel()
        self.file_label.setObjectName("fileLabel")
        self.saved_label = QLabel()
        self.saved_label.setObjectName("savedLabel")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.setVisible(False)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.file_label)
        bar.addPermanentWidget(self.saved_label)

    # ------------------------------------------------------------------ steps and pages
    @property
    def steps(self) -> list[Step]:
        return list(self._steps)

    def page(self, key: str) -> QWidget:
        """The page of step ``key``, built on first use."""
        if key not in self._pages:
            step = next(s for s in self._steps if s.key == key)
            widget = page_factory(step)(self.ctx, *step.args)
            self._pages[key] = widget
            self.stack.addWidget(widget)
            self._refresh_timer.start()  # its step icon can now show its real state
        return self._pages[key]

    def built_pages(self) -> dict[str, QWidget]:
        return dict(self._pages)

    def current_key(self) -> str | None:
        item = self.step_list.currentItem()
        return item.data(STEP_ROLE) if item is not None else None

    def go_to(self, key: str) -> QWidget:
        for row in range(self.step_list.count()):
            item = self.step_list.item(row)
            if item.data(STEP_ROLE) == key:
                self.step_list.setCurrentRow(row)
                break
        return self.page(key)

    def go_relative(self, delta: int) -> None:
        keys = [s.key for s in self._steps]
        current = self.current_key()
        index = keys.index(current) if current in keys else 0
        self.go_to(keys[max(0, min(len(keys) - 1, index + delta))])

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_step_selected(self, item: QListWidgetItem | None, _prev: Any = None) -> None:
        if item is None or item.data(STEP_ROLE) is None:
            return
        try:
            page = self.page(item.data(STEP_ROLE))
        except ProbityError as exc:
            self.ctx.show_error(exc)
            return
        self.stack.setCurrentWidget(page)

    def _rebuild_step_list(self) -> None:
        """Rebuild the list when the set of steps changed (new document, study type)."""
        steps = steps_for(self.ctx.doc)
        signature = tuple(s.key for s in steps)
        if signature == self._step_signature:
            return
        current = self.current_key()
        self._steps = steps
        self._step_signature = signature
        self._drop_pages(signature)
        self.step_list.blockSignals(True)
        self.step_list.clear()
        group = None
        for step in steps:
            if step.group != group:
                group = step.group
                header = QListWidgetItem(group.upper())
                header.setFlags(Qt.ItemFlag.NoItemFlags)
                font = header.font()
                font.setBold(True)
                font.setPointSizeF(font.pointSizeF() * 0.85)
                header.setFont(font)
                header.setForeground(Qt.GlobalColor.darkGray)
                self.step_list.addItem(header)
            item = QListWidgetItem(step.title)
            item.setData(STEP_ROLE, step.key)
            self.step_list.addItem(item)
        self.step_list.blockSignals(False)
        self.go_to(current if current in signature else steps[0].key)

    def _drop_pages(self, keep: tuple[str, ...]) -> None:
        for key in [k for k in self._pages if k not in keep]:
            widget = self._pages.pop(key)
            if hasattr(widget, "detach"):
                widget.detach()
            self.stack.removeWidget(widget)
            widget.deleteLater()

    @Slot()
    def _retire_pages(self) -> None:
        """A new document: its steps may differ (instrument), so pages without one go first."""
        self._drop_pages(tuple(s.key for s in steps_for(self.ctx.doc)))

    @Slot()
    def refresh_steps(self) -> None:
        """Update each step's completion icon (and the step set if the study type changed)."""
        if not self.ctx.has_document:
            return
        self._rebuild_step_list()
        for row in range(self.step_list.count()):
            item = self.step_list.item(row)
            key = item.data(STEP_ROLE)
            if key is None:
                continue
            page = self._pages.get(key)
            if page is None:
                item.setIcon(status_icon("todo"))
                item.setToolTip("Not opened yet")
                continue
            complete = isinstance(page, StepPage) and page.is_complete()
            level = page.level() if hasattr(page, "level") else None
            attention = page.needs_attention() if hasattr(page, "needs_attention") else False
            state = "done" if complete else ("attention" if attention else "todo")
            item.setIcon(status_icon(state, level))
            tip = {"done": "Complete", "attention": "Needs your decision",
                   "todo": "Not complete yet"}[state]
            item.setToolTip(f"{tip} — judgement: {level}" if level else tip)
        self.act_undo.setEnabled(self.ctx.doc.can_undo)
        self.act_redo.setEnabled(self.ctx.doc.can_redo)

    def _warm_up_one(self) -> None:
        """Build one not-yet-built page per idle tick so the step icons become accurate."""
        for step in self._steps:
            if step.key not in self._pages:
                try:
                    self.page(step.key)
                except ProbityError as exc:
                    self.ctx.show_error(exc)
                    return
                self._refresh_timer.start()
                self._warmup_timer.start()
                return

    def start_warm_up(self, delay_ms: int = 150) -> None:
        self._warmup_timer.start(delay_ms)

    @Slot()
    def _on_document_shown(self) -> None:
        self._step_signature = ()
        self._rebuild_step_list()
        self._update_file_state()
        self.refresh_steps()

    @Slot(str)
    def _on_changed(self, _path: str) -> None:
        self.act_undo.setEnabled(self.ctx.doc.can_undo)
        self.act_redo.setEnabled(self.ctx.doc.can_redo)
        self._refresh_timer.start()

    # ------------------------------------------------------------------ status bar
    @Slot()
    def _update_file_state(self, *_: Any) -> None:
        if not self.ctx.has_document:
            return
        path = self.ctx.path
        name = path.name if path is not None else "not saved yet"
        self.file_label.setText(f"File: {name}")
        self.file_label.setToolTip(str(path) if path else "This assessment has no file yet")
        modified = self.ctx.modified
        self.saved_label.setText("Unsaved changes" if modified else
                                 "All changes saved" if path is not None else "No changes yet")
        self.saved_label.setStyleSheet("QLabel { color: #8c1d18; font-weight: 600; }"
                                       if modified else "QLabel { color: #135e2b; }")
        # Title first: marking a native window modified needs the "[*]" placeholder in place
        # (recovering at start-up marks it before the document's title was ever shown).
        self.setWindowTitle(f"{self.ctx.doc.title} [*] — Probity")
        self.setWindowModified(modified)
        self.act_undo.setEnabled(self.ctx.doc.can_undo)
        self.act_redo.setEnabled(self.ctx.doc.can_redo)

    @Slot(str, int)
    def _show_status(self, text: str, timeout_ms: int) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    @Slot()
    def _on_job_started(self) -> None:
        self.progress.setVisible(True)

    @Slot()
    def _on_job_finished(self) -> None:
        self.progress.setVisible(False)

    # ------------------------------------------------------------------ documents
    def set_document(self, doc: Assessment, path: Path | None,
                     opened: locks.OpenFile | None = None) -> None:
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
            self.ctx.show_status(f"Removed {len(done.removed)} temporary files left by "
                                 f"interrupted saves ({done.freed / 1e6:,.1f} MB)", 8000)

    def load_file(self, path: Path) -> bool:
        """Open ``path`` (.probity) or hand a data file to the validation data page."""
        if path.suffix.lower() in DATA_SUFFIXES:
            return self.open_data_file(path)
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
            self.ctx.show_error(DocumentError(
                "The demo assessment (resources/demo/demo.probity) is not installed."))
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
        return Reviewer(name=s.get("reviewer_name"), role=s.get("reviewer_role"),
                        organisation=s.get("reviewer_organisation"),
                        email=s.get("reviewer_email"))

    def new_document(self) -> bool:
        from assessment.instruments import available_instruments

        if not self.confirm_discard("starting a new assessment"):
            return False
        choices = available_instruments()
        labels = [f"{name} ({iid})" for iid, name in choices]
        default = next((i for i, (iid, _) in enumerate(choices)
                        if iid == self.ctx.settings.get("default_instrument")), 0)
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
        filters = f"Probity assessments (*{ASSESSMENT_SUFFIX});;{data_file_filter()}"
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
        suggested = str((self.ctx.path.parent if self.ctx.path else Path.home())
                        / f"{_safe_name(self.ctx.doc.title)}.probity")
        path = self.ctx.ask_save_path("Save assessment as", PROBITY_FILTER, suggested)
        if path is None:
            return False
        if path.suffix.lower() != ".probity":
            path = path.with_name(path.name + ".probity")
        return self._save_to(path)

    def commit_pending(self) -> None:
        """Commit text the reviewer is still typing, so it counts as an edit."""
        for page in self._pages.values():
            commit = getattr(page, "commit_pending", None)
            if commit is not None:
                commit()

    def _save_to(self, path: Path) -> bool:
        """Save, unless another window's save would be lost: the file must be as this window
        last read or wrote it (else Reload / Save as / Overwrite), and a file held by someone
        else is not saved over without asking."""
        self.commit_pending()
        current = self.ctx.open_file
        same = current is not None and _same_file(str(current.path), path)
        if current is not None and same:
            if current.read_only:
                self.ctx.inform("Opened read-only", f"{path.name} was opened read-only because "
                                "another window has it open. Save your edits as another file.")
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
            self, "Unsaved changes",
            f"“{self.ctx.doc.title}” has unsaved changes. Save them before {doing}?")
        if choice is errors.Choice.SAVE:
            return self.save()
        if choice is errors.Choice.DISCARD:
            self.autosave.discard()
            return True
        return False

    def offer_recovery(self, only: Path | None = None,
                       opened: locks.OpenFile | None = None) -> bool:
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
            text = (f"Probity did not close properly. Unsaved edits of “{recovery.title}” "
                    f"({where}) were kept at {_local_time(recovery.saved)}.\n\nRecover them? "
                    "Choosing No deletes the recovered edits.")
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

    # ------------------------------------------------------------------ edit, dialogs
    def undo(self) -> None:
        # Text still being typed is the newest edit: commit it so Undo takes it back, instead
        # of reverting an older change while the typing lands afterwards.
        self.commit_pending()
        if not self.ctx.doc.undo():
            self.ctx.show_status("Nothing to undo", 2000)

    def redo(self) -> None:
        self.commit_pending()
        if not self.ctx.doc.redo():
            self.ctx.show_status("Nothing to redo", 2000)

    def export_pdf(self) -> None:
        from gui.export.page import SignExportPage

        page = self.go_to("export")
        if isinstance(page, SignExportPage):
            page.start_export()

    def verify_report(self) -> None:
        dialog = load_symbol(VERIFY_DIALOG)(self.ctx, self)
        errors.run_modal(dialog)

    def preferences(self) -> None:
        from gui.dialogs import PreferencesDialog

        errors.run_modal(PreferencesDialog(self.ctx, self))

    def show_about(self) -> None:
        from gui.dialogs import AboutDialog

        errors.run_modal(AboutDialog(self.ctx, self))

    def show_help(self) -> None:
        from gui.dialogs import HelpDialog

        errors.run_modal(HelpDialog(self))

    # ------------------------------------------------------------------ drag and drop
    @staticmethod
    def _dropped_path(event: QDragEnterEvent | QDropEvent) -> Path | None:
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        urls = [u for u in mime.urls() if u.isLocalFile()]
        if len(urls) != 1:
            return None
        path = Path(urls[0].toLocalFile())
        if path.suffix.lower() in (*DATA_SUFFIXES, ASSESSMENT_SUFFIX):
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

    # ------------------------------------------------------------------ closing
    def close_without_prompt(self) -> None:
        """Close without the unsaved-changes question (recovery file kept if modified)."""
        self._closing_confirmed = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        keep_recovery = self._closing_confirmed and self.ctx.has_document and self.ctx.modified
        if not self._closing_confirmed:
            if not self.confirm_discard("closing"):  # saved, or the reviewer chose to discard
                event.ignore()
                return
        self._closing_confirmed = True
        self._warmup_timer.stop()
        self.ctx.shutdown()
        if keep_recovery:  # closed without the question (session end): edits stay recoverable
            self.autosave.write_now()
            self.autosave.flush()
        else:
            self.autosave.discard()
        # This window stops: its lock goes, and its snapshot (if kept) becomes recoverable.
        self._set_open_file(None)
        self.ctx.instance.close()
        event.accept()


class FirstPaintProbe(QObject):
    """Benchmark hook: reports the first paint of a window, then quits the application."""

    def __init__(self, callback: Any) -> None:
        super().__init__()
        self._callback = callback
        self._done = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if not self._done and event.type() == QEvent.Type.Paint:
            self._done = True
            QTimer.singleShot(0, self._callback)
        return False


def _safe_name(title: str) -> str:
    keep = "".join(c if c.isalnum() or c in " -_." else "_" for c in title).strip()
    return keep or "assessment"
