"""Run Python's cyclic garbage collector on the UI thread only.

Python starts a collection in whichever thread happens to allocate past the threshold. When
that is a QThreadPool worker (reading data, evaluating, signing a report) and the garbage holds
Qt wrappers — a closed page whose callbacks reference it, a plot, a model — their QObjects are
destroyed in the worker thread, and Qt crashes the process some time later on the UI thread.
Seen here as segfaults in the GUI tests while a report was built in a worker; the tests now
collect after each test, and the application should install this once at start-up (pyqtgraph
ships the same remedy as ``pyqtgraph.util.garbage_collector.GarbageCollector``).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

_NAME = "probity-ui-thread-gc"


class UiThreadGc(QObject):
    """Disables automatic collection and collects from a UI-thread timer instead."""

    def __init__(self, parent: QObject, interval_ms: int = 500) -> None:
        super().__init__(parent)
        self.setObjectName(_NAME)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> None:
        """Collect the generations whose counts passed Python's own thresholds."""
        counts = gc.get_count()
        if counts[0] > self.thresholds[0]:
            generation = 0
            if counts[1] > self.thresholds[1]:
                generation = 1
                if counts[2] > self.thresholds[2]:
                    generation = 2
            gc.collect(generation)

    def uninstall(self) -> None:
        self.timer.stop()
        gc.enable()


def install_ui_thread_gc(interval_ms: int = 500) -> UiThreadGc:
    """Install once per application (idempotent); returns the collector."""
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("create the QApplication before installing the UI-thread collector")
    found = app.findChild(UiThreadGc, _NAME)
    if isinstance(found, UiThreadGc):
        return found
    return UiThreadGc(app, interval_ms)
