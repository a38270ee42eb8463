"""Remembered window geometry, splitter positions and the last folder of a file dialog.

Stored in the JSON preferences (:class:`gui.paths.Settings`, under the test-isolated config
folder) as base64 of Qt's own ``saveGeometry``/``saveState`` byte arrays, so nothing here writes
QSettings' platform stores. The folder rules are pure functions (:func:`start_folder`,
:func:`dialog_start`, :func:`suggested_pdf_path`) so they are tested without a dialog.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QObject, QTimer
from PySide6.QtWidgets import QMainWindow, QSplitter, QWidget

MAX_STATE_CHARS = 64 * 1024  # a geometry is ~70 bytes, a splitter state ~40: refuse nonsense


# --- the folder a file dialog starts in (pure) --------------------------------------------------


def start_folder(
    document_path: Path | None, last_folder: str | None, home: Path | None = None
) -> Path:
    """The current assessment's folder if it has one on disk, else the last folder a file
    dialog used (if it still exists), else the home folder."""
    if document_path is not None and document_path.parent.is_dir():
        return document_path.parent
    if last_folder:
        last = Path(last_folder)
        if last.is_absolute() and last.is_dir():
            return last
    return home if home is not None else Path.home()


def dialog_start(
    given: str, document_path: Path | None, last_folder: str | None, home: Path | None = None
) -> str:
    """What a file dialog opens with: a full path the caller gave is kept; a bare file name
    (a suggestion) is placed in :func:`start_folder`; nothing means the start folder itself."""
    folder = start_folder(document_path, last_folder, home)
    if not given:
        return str(folder)
    path = Path(given)
    if path.is_absolute():
        return given
    return str(folder / path.name)


def suggested_pdf_path(document_path: Path | None, title: str, folder: Path) -> Path:
    """Export PDF's suggestion: beside the assessment with its name, else ``folder/title.pdf``."""
    if document_path is not None:
        return document_path.with_suffix(".pdf")
    stem = re.sub(r"[^\w.-]+", "-", title).strip("-._")[:80] or "assessment"
    return folder / f"{stem}.pdf"


def remember_folder(settings: Any, chosen: Path | None) -> None:
    """Keep the folder of a file the user chose (nothing when the dialog was cancelled)."""
    if chosen is None:
        return
    folder = chosen if chosen.is_dir() else chosen.parent
    if folder.is_absolute() and str(folder) != settings.get("last_folder"):
        settings.set("last_folder", str(folder))


# --- geometry and splitters ----------------------------------------------------------------------


def _encode(data: QByteArray) -> str:
    return base64.b64encode(bytes(data.data())).decode("ascii")


def _decode(text: object) -> QByteArray | None:
    if not isinstance(text, str) or not text or len(text) > MAX_STATE_CHARS:
        return None
    try:
        return QByteArray(base64.b64decode(text.encode("ascii"), validate=True))
    except (binascii.Error, ValueError):
        return None


def splitter_key(splitter: QSplitter) -> str:
    """A stable name for a splitter: the nearest enclosing class of Probity's own ``gui``
    package (``ResultsPage``), then the splitter's object name or its index among that class's
    splitters."""
    owner: QObject | None = splitter.parent()
    while owner is not None and not type(owner).__module__.startswith("gui."):
        owner = owner.parent()
    owner_name = type(owner).__name__ if owner is not None else "window"
    if splitter.objectName():
        return f"{owner_name}/{splitter.objectName()}"
    siblings = owner.findChildren(QSplitter) if owner is not None else [splitter]
    index = next((i for i, s in enumerate(siblings) if s is splitter), 0)
    return f"{owner_name}/splitter{index}"


def save_window_state(window: QMainWindow, settings: Any) -> None:
    settings.set("window_geometry", _encode(window.saveGeometry()))
    settings.set("window_state", _encode(window.saveState()))
    states = dict(settings.get("splitters"))
    for splitter in window.findChildren(QSplitter):
        states[splitter_key(splitter)] = _encode(splitter.saveState())
    settings.set("splitters", states)


def restore_window_state(window: QMainWindow, settings: Any) -> bool:
    """Restore the geometry (True if a stored one was accepted) and the existing splitters."""
    restored = False
    geometry = _decode(settings.get("window_geometry"))
    if geometry is not None:
        restored = bool(window.restoreGeometry(geometry))
    state = _decode(settings.get("window_state"))
    if state is not None:
        window.restoreState(state)
    restore_splitters(window, settings)
    return restored


def restore_splitters(root: QWidget, settings: Any, done: set[int] | None = None) -> None:
    """Restore each splitter under ``root`` once (``done`` remembers which were)."""
    states = settings.get("splitters")
    for splitter in root.findChildren(QSplitter):
        if done is not None and id(splitter) in done:
            continue
        data = _decode(states.get(splitter_key(splitter)))
        if data is not None:
            splitter.restoreState(data)
        if done is not None:
            done.add(id(splitter))


class WindowStateKeeper(QObject):
    """Restores a main window's state now and its pages' splitters as they are first shown;
    saves everything when the window closes. Installed by :func:`keep_window_state`."""

    def __init__(self, window: QMainWindow, settings: Any) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings
        self._done: set[int] = set()
        restore_window_state(window, settings)
        restore_splitters(window, settings, self._done)
        stack = getattr(window, "stack", None)
        changed = getattr(stack, "currentChanged", None)
        if changed is not None:  # pages are built lazily: restore theirs when first shown
            changed.connect(self._page_shown)
        window.installEventFilter(self)

    def _page_shown(self, _index: int) -> None:
        # After the page is laid out: a splitter restored before its first resize would have
        # the resize spread over its panes by their stretch factors.
        QTimer.singleShot(0, self, self.restore_pages)

    def restore_pages(self) -> None:
        restore_splitters(self.window, self.settings, self._done)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.window and event.type() == QEvent.Type.Close:
            save_window_state(self.window, self.settings)
        return False


def keep_window_state(window: QMainWindow, settings: Any) -> WindowStateKeeper:
    return WindowStateKeeper(window, settings)
