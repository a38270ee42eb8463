"""Application start-up: QApplication, light theme, excepthook, first document, event loop.

Start-up imports Qt and the assessment core only; pandas, scikit-learn, pyqtgraph and reportlab
are imported by the pages that need them, after the first window is on screen.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from gui import errors

if TYPE_CHECKING:
    from gui.main_window import MainWindow

ENV_STARTUP_PROBE = "PROBITY_STARTUP_PROBE"


def light_palette() -> QPalette:
    """A light Fusion palette, set explicitly so that a dark desktop theme cannot hide text."""
    p = QPalette()
    roles = QPalette.ColorRole
    colours = {
        roles.Window: "#f4f5f7", roles.WindowText: "#1d1d1f", roles.Base: "#ffffff",
        roles.AlternateBase: "#f0f2f5", roles.ToolTipBase: "#ffffe6", roles.ToolTipText: "#1d1d1f",
        roles.PlaceholderText: "#6e6e73", roles.Text: "#1d1d1f", roles.Button: "#eceef1",
        roles.ButtonText: "#1d1d1f", roles.BrightText: "#ffffff", roles.Light: "#ffffff",
        roles.Midlight: "#e3e5e8", roles.Mid: "#b8bcc2", roles.Dark: "#8a8f96",
        roles.Shadow: "#5c6067", roles.Highlight: "#2458a6", roles.HighlightedText: "#ffffff",
        roles.Link: "#1a4f9c", roles.LinkVisited: "#5b3a8c",
    }
    for role, colour in colours.items():
        p.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        p.setColor(disabled, role, QColor("#8e9299"))
    p.setColor(disabled, roles.Base, QColor("#f4f5f7"))
    return p


def make_application(argv: Sequence[str]) -> QApplication:
    from gui.data.ui_gc import install_ui_thread_gc

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(list(argv))
    install_ui_thread_gc()  # Qt objects must never be destroyed by a collection in a worker
    app.setApplicationName("Probity")
    app.setOrganizationName("Probity")
    app.setApplicationDisplayName("Probity")
    app.setStyle("Fusion")
    hints = app.styleHints()
    if hasattr(hints, "setColorScheme"):
        hints.setColorScheme(Qt.ColorScheme.Light)
    app.setPalette(light_palette())
    return app


def install_excepthook(window: object) -> None:
    """Unexpected exceptions: keep the work (recovery snapshot), show one sentence, keep running."""
    busy = False

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        nonlocal busy
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        ctx = getattr(window, "ctx", None)
        log_file = ctx.paths.crash_log if ctx is not None else None
        if busy:  # an error while showing an error: log it, do not loop
            errors.log_exception(log_file, exc_type, exc, tb)
            return
        busy = True
        try:
            autosave = getattr(window, "autosave", None)
            if autosave is not None:
                try:
                    autosave.write_now()
                    autosave.flush()
                except Exception:  # noqa: BLE001 - never fail inside the excepthook
                    pass
            exc.__traceback__ = tb
            errors.report(ctx.window if ctx is not None else None, exc, log_file)
        finally:
            busy = False

    sys.excepthook = hook


def open_initial_document(window: MainWindow, files: Sequence[str]) -> None:
    """The first .probity file given, else recovered edits, else the demo (only when no data
    file was given either), else a new assessment; then any data files go to the data page."""
    from assessment.catalogue import ASSESSMENT_SUFFIX
    from assessment.document import Assessment
    from gui.main_window import demo_path

    window.clean_leftovers()
    paths = [Path(name) for name in files]
    assessments = [p for p in paths if p.suffix.lower() == ASSESSMENT_SUFFIX]
    data_files = [p for p in paths if p.suffix.lower() != ASSESSMENT_SUFFIX]
    opened = bool(assessments) and window.offer_recovery(only=assessments[0])
    if not opened and assessments:
        opened = window.load_file(assessments[0])
    if not opened:
        opened = window.offer_recovery()
    if not opened and not data_files and window.ctx.settings.get("open_demo_at_start"):
        opened = demo_path() is not None and window.open_demo()
    if not opened:
        instrument = window.ctx.settings.get("default_instrument")
        window.set_document(Assessment.new(instrument, reviewer=window.reviewer_from_settings()),
                            None)
    for path in data_files:
        window.open_data_file(path)


def run(argv: Sequence[str]) -> int:
    """Open the main window; ``argv[1:]`` may name a .probity file or a validation data file."""
    app = make_application(argv)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl+C in a terminal ends the app
    from gui.main_window import FirstPaintProbe, MainWindow

    window = MainWindow()
    install_excepthook(window)
    # Qt removes its own options (-style, -platform ...) from app.arguments().
    open_initial_document(window, [a for a in app.arguments()[1:] if not a.startswith("-")])
    probe = None
    if os.environ.get(ENV_STARTUP_PROBE):
        def report_and_exit() -> None:
            print(f"probity-first-paint {time.time():.6f} {window.ctx.doc.title}", flush=True)
            window.close_without_prompt()  # benchmark: nothing to save, leave at once
            app.exit(0)

        probe = FirstPaintProbe(report_and_exit)
        window.installEventFilter(probe)
    window.show()
    if probe is None:
        window.start_warm_up()
    return int(app.exec())


def selftest() -> int:
    """Build the main window offscreen with the demo, build every page, close; 0 on success."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = make_application([sys.argv[0] if sys.argv else "probity"])
    from assessment import storage
    from assessment.document import Assessment
    from assessment.errors import ProbityError
    from gui.main_window import MainWindow, demo_path
    from gui.steps import StepPage

    try:
        window = MainWindow()
        demo = demo_path()
        doc = storage.load(demo) if demo is not None else Assessment.new()
        window.set_document(doc, None)
        window.show()
        for step in window.steps:
            page = window.go_to(step.key)
            if isinstance(page, StepPage):
                page.is_complete()
            app.processEvents()
        window.refresh_steps()
        window.close_without_prompt()
    except ProbityError as exc:
        print(f"probity: selftest failed: {exc.message}", file=sys.stderr)
        return 1
    print(f"probity: selftest passed ({len(window.steps)} steps built)")
    return 0
