"""The main window: the step list on the left, the step's page in the centre, file state below.

Pages are built lazily from :mod:`gui.steps` (the current one before the window shows, the rest
in idle time), so start-up imports only Qt and the assessment core. The window owns the file
commands (New, Open, Save, recovery, close prompt) and routes every failure to the error funnel.
"""

from __future__ import annotations

from typing import Any, cast

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
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

from assessment.errors import ProbityError
from gui import errors
from gui.autosave import Autosave
from gui.context import AppContext
from gui.steps import VERIFY_DIALOG, Step, StepPage, load_symbol, page_factory, steps_for
from gui.widgets import status_icon
from gui.window_files import (  # noqa: F401 - demo_path and the filter are imported from here
    PROBITY_FILTER,
    FileCommands,
    demo_path,
)
from gui.window_undo import UndoCommands

STEP_ROLE = Qt.ItemDataRole.UserRole + 1


class MainWindow(FileCommands, UndoCommands, QMainWindow):
    """Step list, the step's page, file state; the file commands are :mod:`gui.window_files`."""

    def __init__(self, ctx: AppContext | None = None) -> None:
        super().__init__()
        self.ctx = ctx or AppContext()
        self.ctx.window = self
        self.ctx.setParent(self)
        self.ctx.save_document = self.save
        self.autosave = Autosave(self.ctx)
        self._steps: list[Step] = []
        self._pages: dict[str, QWidget] = {}  # each also a StepPage (checked when built)
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
        self.install_undo_filter()  # Ctrl+Z in an exhausted text field: document undo

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
            widget: QWidget = page_factory(step)(self.ctx, *step.args)
            if not isinstance(widget, StepPage):  # every page implements the whole protocol
                raise TypeError(f"{type(widget).__name__} is not a StepPage")
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
            cast(StepPage, widget).detach()
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
            complete = cast(StepPage, page).is_complete()
            level = cast(StepPage, page).level()
            attention = cast(StepPage, page).needs_attention()
            state = "done" if complete else ("attention" if attention else "todo")
            item.setIcon(status_icon(state, level))
            tip = {"done": "Complete", "attention": "Needs your decision",
                   "todo": "Not complete yet"}[state]
            item.setToolTip(f"{tip} — judgement: {level}" if level else tip)
        self._update_undo_actions()

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
        self._update_undo_actions()
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
        self._update_undo_actions()

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


    def commit_pending(self) -> None:
        """Commit text the reviewer is still typing, so it counts as an edit."""
        for page in self._pages.values():
            cast(StepPage, page).commit_pending()


    # ------------------------------------------------------------------ edit, dialogs
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


