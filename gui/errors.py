"""The one error funnel and the small modal-dialog functions of the GUI.

Every failure a user can cause arrives here as a :class:`~assessment.errors.ProbityError` and is
shown as its one-line ``message`` — never a traceback. Anything else is a bug: the user sees one
plain sentence saying their work is kept, and the traceback goes to the error log.

All modal dialogs go through the module-level ``ask_*``/``inform``/``show_message`` functions
below, so tests replace them with ``monkeypatch.setattr(gui.errors, "ask_yes_no", ...)`` instead
of patching Qt objects. Callers must therefore look them up at call time (``errors.ask_yes_no``),
never ``from gui.errors import ask_yes_no``.
"""

from __future__ import annotations

import datetime as _dt
import traceback
from enum import Enum
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from assessment.errors import Cancelled, ProbityError

ERROR_TITLE = "Probity"


class Choice(Enum):
    """Answer of the save / discard / cancel question asked before losing unsaved edits."""

    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


def user_message(exc: BaseException, log_file: Path | None = None) -> str:
    """The one sentence a user sees for ``exc`` (never a traceback)."""
    if isinstance(exc, ProbityError):
        return exc.message
    if isinstance(exc, MemoryError):
        return "Probity ran out of memory. Your work is kept; close other programs and retry."
    if isinstance(exc, OSError) and exc.filename:
        reason = exc.strerror or exc.__class__.__name__
        return f"Cannot access {exc.filename}: {reason}. Check the path and permissions."
    where = f" Details were written to {log_file}." if log_file is not None else ""
    return (
        f"An unexpected error occurred ({type(exc).__name__}: {exc}). "
        f"Your work is kept; please save it and report this problem.{where}"
    )


def log_exception(
    log_file: Path | None,
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
) -> None:
    """Append a traceback to the error log; failing to log must never raise."""
    if log_file is None:
        return
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        stamp = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        with log_file.open("a", encoding="utf-8") as handle:
            handle.write(f"--- {stamp}\n")
            handle.write("".join(traceback.format_exception(exc_type, exc, tb)))
    except OSError:
        pass


def report(parent: QWidget | None, exc: BaseException, log_file: Path | None = None) -> None:
    """Show ``exc`` to the user. User-requested cancellations are not errors and stay silent."""
    if isinstance(exc, Cancelled):
        return
    if not isinstance(exc, ProbityError | MemoryError):
        log_exception(log_file, type(exc), exc, exc.__traceback__)
    icon = QMessageBox.Icon.Warning if isinstance(exc, ProbityError) else QMessageBox.Icon.Critical
    show_message(parent, ERROR_TITLE, user_message(exc, log_file), icon)


# --- modal dialogs: replaced wholesale in tests -------------------------------------------------


def run_modal(dialog: QDialog) -> int:
    """Run a dialog modally and return its result code.

    The one place that enters a dialog's event loop (Qt's ``QDialog.exec``; no Python code is
    evaluated), so tests can stand in for it.
    """
    return int(dialog.exec())


def show_message(
    parent: QWidget | None,
    title: str,
    text: str,
    icon: QMessageBox.Icon = QMessageBox.Icon.Information,
) -> None:
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    run_modal(box)


def inform(parent: QWidget | None, title: str, text: str) -> None:
    show_message(parent, title, text, QMessageBox.Icon.Information)


def ask_yes_no(parent: QWidget | None, title: str, text: str, default_yes: bool = False) -> bool:
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    default = QMessageBox.StandardButton.Yes if default_yes else QMessageBox.StandardButton.No
    box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setDefaultButton(default)
    return run_modal(box) == QMessageBox.StandardButton.Yes


def ask_save_discard_cancel(parent: QWidget | None, title: str, text: str) -> Choice:
    buttons = (
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel
    )
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    result = run_modal(box)
    if result == QMessageBox.StandardButton.Save:
        return Choice.SAVE
    if result == QMessageBox.StandardButton.Discard:
        return Choice.DISCARD
    return Choice.CANCEL


def ask_choice(
    parent: QWidget | None, title: str, text: str, choices: list[str], default: int = 0
) -> str | None:
    """Ask which of ``choices`` (button labels, in order) to take; None if the dialog was
    closed without choosing. The last choice is the one Escape picks."""
    box = QMessageBox(
        QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent
    )
    box.setTextFormat(Qt.TextFormat.PlainText)
    buttons = []
    for i, label in enumerate(choices):
        role = (
            QMessageBox.ButtonRole.RejectRole
            if i == len(choices) - 1
            else QMessageBox.ButtonRole.AcceptRole
        )
        buttons.append(box.addButton(label, role))
    if buttons:
        box.setDefaultButton(buttons[min(max(default, 0), len(buttons) - 1)])
        box.setEscapeButton(buttons[-1])
    run_modal(box)
    clicked = box.clickedButton()
    for label, button in zip(choices, buttons, strict=True):
        if clicked is button:
            return label
    return None


def _folder_context(parent: QWidget | None) -> tuple[Path | None, object | None]:
    """The current assessment's path and the settings of the window ``parent`` belongs to."""
    window = parent.window() if parent is not None else None
    ctx = getattr(window, "ctx", None) or getattr(parent, "ctx", None)
    if ctx is None:
        return None, None
    path = getattr(ctx, "path", None)
    return (path if isinstance(path, Path) else None), getattr(ctx, "settings", None)


def _start(parent: QWidget | None, given: str) -> tuple[str, object | None]:
    """Where a file dialog starts: the assessment's folder, else the last folder used."""
    from gui.window_state import dialog_start

    path, settings = _folder_context(parent)
    last = settings.get("last_folder") if settings is not None else None  # type: ignore[attr-defined]
    return dialog_start(given, path, last if isinstance(last, str) else None), settings


def _remember(settings: object | None, chosen: Path | None) -> None:
    from gui.window_state import remember_folder

    if settings is not None:
        remember_folder(settings, chosen)


def ask_open_path(
    parent: QWidget | None, title: str, filters: str, directory: str = ""
) -> Path | None:
    start, settings = _start(parent, directory)
    name, _ = QFileDialog.getOpenFileName(parent, title, start, filters)
    chosen = Path(name) if name else None
    _remember(settings, chosen)
    return chosen


def ask_save_path(
    parent: QWidget | None, title: str, filters: str, suggested: str = ""
) -> Path | None:
    """A save dialog; a bare suggested name is placed beside the current assessment."""
    start, settings = _start(parent, suggested)
    name, _ = QFileDialog.getSaveFileName(parent, title, start, filters)
    chosen = Path(name) if name else None
    _remember(settings, chosen)
    return chosen


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    value, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal, text)
    return value if ok else None


def ask_passphrase(parent: QWidget | None, title: str, label: str) -> str | None:
    value, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Password, "")
    return value if ok else None


def ask_item(
    parent: QWidget | None, title: str, label: str, items: list[str], current: int = 0
) -> str | None:
    value, ok = QInputDialog.getItem(parent, title, label, items, current, False)
    return value if ok else None
