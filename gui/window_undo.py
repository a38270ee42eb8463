"""Edit › Undo and Redo of the main window: they name the change, show its page, and a focused
text field's own history goes first.

A mixin of :class:`gui.main_window.MainWindow`. The words and the step come from the document's
undo stack through :mod:`assessment.undo_labels`. A text field claims Ctrl+Z only while its own
history has a step (an application event filter on ``ShortcutOverride``); when exhausted, the
shortcut reaches Edit › Undo, i.e. the document's undo, as the reviewer expects.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QTextEdit


class UndoCommands:
    """Undo/Redo of the window (see the module docstring)."""

    act_redo: Any
    act_undo: Any
    commit_pending: Any
    ctx: Any
    go_to: Any
    isAncestorOf: Any  # noqa: N815 - QWidget's
    _step_signature: tuple[str, ...]

    def install_undo_filter(self) -> None:
        """Watch the application's shortcut overrides (Ctrl+Z in an exhausted text field)."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.installEventFilter(self)  # type: ignore[arg-type]  # self is the window
            app.focusChanged.connect(self._focus_moved)

    def _focus_moved(self, _old: Any, _new: Any) -> None:
        if self.ctx.has_document:
            self._update_undo_actions()

    def _update_undo_actions(self) -> None:
        """Edit › Undo/Redo name the change they would take back or put back."""
        from assessment.undo_labels import redo_label, undo_label

        if not self.ctx.has_document:
            return
        for action, verb, redo, label in (
            (self.act_undo, "&Undo", False, undo_label(self.ctx.doc)),
            (self.act_redo, "&Redo", True, redo_label(self.ctx.doc)),
        ):
            if self._text_field_history(redo) is not None:  # the field's own history first
                label = "typing"
            action.setText(f"{verb} {label}" if label else verb)
            action.setEnabled(label is not None)

    def _text_field_history(self, redo: bool) -> QLineEdit | QTextEdit | QPlainTextEdit | None:
        """The focused text field of this window if its own undo (redo) history has a step."""
        widget = QApplication.focusWidget()
        if widget is None or not self.isAncestorOf(widget):
            return None
        if isinstance(widget, QLineEdit) and not widget.isReadOnly():
            has = widget.isRedoAvailable() if redo else widget.isUndoAvailable()
            return widget if has else None
        if isinstance(widget, (QTextEdit, QPlainTextEdit)) and not widget.isReadOnly():
            document = widget.document()
            has = document.isRedoAvailable() if redo else document.isUndoAvailable()
            return widget if has else None
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """A text field claims Ctrl+Z (Ctrl+Shift+Z) only while its own history has a step;
        when exhausted the shortcut reaches Edit › Undo (Redo), i.e. the document's."""
        if (
            event.type() == QEvent.Type.KeyRelease
            and isinstance(watched, (QLineEdit, QTextEdit, QPlainTextEdit))
            and watched is QApplication.focusWidget()
            and self.isAncestorOf(watched)
        ):
            self._update_undo_actions()  # typing gave the field a history: "Undo typing"
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(watched, (QLineEdit, QTextEdit, QPlainTextEdit))
            and isinstance(event, QKeyEvent)
            and watched is QApplication.focusWidget()
            and self.isAncestorOf(watched)
        ):
            for key, redo in ((QKeySequence.StandardKey.Undo, False),
                              (QKeySequence.StandardKey.Redo, True)):
                if event.matches(key) and self._text_field_history(redo) is None:
                    event.ignore()
                    return True  # not overridden: the window's shortcut runs
        return bool(super().eventFilter(watched, event))  # type: ignore[misc]

    def undo(self) -> None:
        self._step_history(redo=False)

    def redo(self) -> None:
        self._step_history(redo=True)

    def _step_history(self, *, redo: bool) -> None:
        """The focused text field's own history first; then the document's, and show its page."""
        from assessment.undo_labels import redo_step, undo_step

        field = self._text_field_history(redo)
        if field is not None:
            field.redo() if redo else field.undo()
            self.commit_pending()  # the document follows the field at once, not after a pause
            self._update_undo_actions()
            return
        # Text still being typed is the newest edit: commit it so Undo takes it back, instead
        # of reverting an older change while the typing lands afterwards.
        self.commit_pending()
        doc = self.ctx.doc
        step = redo_step(doc) if redo else undo_step(doc)
        if not (doc.redo() if redo else doc.undo()):
            self.ctx.show_status("Nothing to redo" if redo else "Nothing to undo", 2000)
            return
        if step is not None and step in self._step_signature:
            self.go_to(step)
