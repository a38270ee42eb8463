"""Small widgets shared by the assessment pages: judgement chips, step icons, committing editors.

Text editors commit to the document when the reviewer finishes (focus out, Enter, or a pause while
typing), not on every keystroke: each commit is one undoable, audited change.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFocusEvent, QIcon, QPainter, QPen, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QSizePolicy, QTextEdit, QWidget

from assessment.catalogue import LEVEL_COLOURS_DARK, LEVEL_COLOURS_LIGHT, level_label

# The judgement chip colours (text colour, fill colour) of the current theme, from the one
# definition in assessment.catalogue; gui.theme switches them with the palette.
LEVEL_COLOURS: dict[str | None, tuple[str, str]] = dict(LEVEL_COLOURS_LIGHT)
MUTED_TEXT = {"light": "#4a4a4a", "dark": "#b9bcc2"}
_theme = {"name": "light"}


def use_level_colours(dark: bool) -> None:
    """Switch the chip colours (and muted note text) between the light and the dark theme."""
    LEVEL_COLOURS.clear()
    LEVEL_COLOURS.update(LEVEL_COLOURS_DARK if dark else LEVEL_COLOURS_LIGHT)
    _theme["name"] = "dark" if dark else "light"

TYPING_PAUSE_MS = 1200


def level_text(level: str | None, levels: dict[str, str] | None = None) -> str:
    if level is not None and levels and level in levels:
        return levels[level]
    return level_label(level)


class LevelChip(QLabel):
    """A rounded label coloured by judgement level (text always says the level too)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumWidth(76)
        self.set_level(None)

    def set_level(self, level: str | None, text: str | None = None) -> None:
        fg, bg = LEVEL_COLOURS.get(level, LEVEL_COLOURS[None])
        self.setText(text if text is not None else level_text(level))
        self.setStyleSheet(
            f"QLabel {{ color: {fg}; background: {bg}; border: 1px solid {fg};"
            " border-radius: 9px; padding: 2px 10px; font-weight: 600; }"
        )
        self.setProperty("level", level or "")


def status_icon(state: str, level: str | None = None, size: int = 16) -> QIcon:
    """Icon of a step: "done" (tick), "todo" (hollow ring), "attention" (exclamation).

    The ring is filled with the judgement colour when the step has a level (domains).
    """
    pixmap = QPixmap(QSize(size, size))
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    fg, bg = LEVEL_COLOURS.get(level, LEVEL_COLOURS[None])
    margin = 1.5
    rect = pixmap.rect().adjusted(1, 1, -1, -1)
    if state == "done":
        colour = QColor(fg if level else "#1f6f3a")
        painter.setBrush(colour)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(rect)
        pen = QPen(QColor("white"), 2.0)
        painter.setPen(pen)
        s = size
        painter.drawLine(int(s * 0.28), int(s * 0.52), int(s * 0.44), int(s * 0.68))
        painter.drawLine(int(s * 0.44), int(s * 0.68), int(s * 0.74), int(s * 0.34))
    elif state == "attention":
        painter.setBrush(QColor("#b26a00"))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(rect)
        painter.setPen(QPen(QColor("white"), 2.0))
        painter.drawLine(size // 2, int(size * 0.25), size // 2, int(size * 0.58))
        painter.drawPoint(size // 2, int(size * 0.75))
    else:
        painter.setBrush(QColor(bg) if level else Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor("#7a7a7a"), 1.5))
        painter.drawEllipse(QRectF(rect).adjusted(margin, margin, -margin, -margin))
    painter.end()
    return QIcon(pixmap)


class CommitLineEdit(QLineEdit):
    """A line edit that emits ``committed(text)`` on Enter / focus-out when the text changed."""

    committed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shown = ""
        self.editingFinished.connect(self._commit)

    def show_value(self, text: str) -> None:
        """Display the document's value without committing (keeps the cursor when unchanged)."""
        self._shown = text
        if self.text() != text and (not self.hasFocus() or not self.isModified()):
            self.setText(text)
            self.setCursorPosition(0)  # show the start of a long value, not its end

    def _commit(self) -> None:
        if self.text() != self._shown:
            self._shown = self.text()
            self.setModified(False)
            self.committed.emit(self.text())


class CommitTextEdit(QTextEdit):
    """Multi-line plain-text editor committing on focus-out or after a pause in typing.

    It grows with its text (from ``lines`` up to ``max_lines``, then scrolls), so a long
    rationale is never clipped. Tab moves focus: keyboard users must be able to leave the field.
    """

    committed = Signal(str)

    def __init__(self, parent: QWidget | None = None, lines: int = 3, max_lines: int = 14) -> None:
        super().__init__(parent)
        self.setAcceptRichText(False)
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        self._shown = ""
        self._lines = lines
        self._max_lines = max_lines
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(TYPING_PAUSE_MS)
        self._pause.timeout.connect(self.commit)
        self.textChanged.connect(self._on_text_changed)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._fit_height()

    def show_value(self, text: str) -> None:
        self._shown = text
        if self.toPlainText() != text and not self._pause.isActive():
            self.blockSignals(True)
            self.setPlainText(text)
            self.blockSignals(False)
            self._fit_height()

    def _on_text_changed(self) -> None:
        self._fit_height()
        if self.toPlainText() != self._shown:
            self._pause.start()

    def _fit_height(self) -> None:
        line = self.fontMetrics().lineSpacing()
        margins = int(2 * self.frameWidth() + 2 * self.document().documentMargin())
        document = self.document()
        width = self.viewport().width()
        if width > 0:
            document.setTextWidth(width)
        content = int(document.size().height()) - int(2 * document.documentMargin())
        lines_px = min(max(content, line * self._lines), line * self._max_lines)
        self.setFixedHeight(lines_px + margins + 2)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_height()

    def commit(self) -> None:
        self._pause.stop()
        text = self.toPlainText()
        if text != self._shown:
            self._shown = text
            self.committed.emit(text)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        self.commit()
        super().focusOutEvent(event)


class Heading(QLabel):
    """A page or section heading (bold, larger); word-wrapped so it is never clipped."""

    def __init__(self, text: str, level: int = 1, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        font = self.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * (1.45 if level == 1 else 1.15))
        self.setFont(font)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)


class Note(QLabel):
    """Explanatory text in a muted colour, wrapped, selectable."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setStyleSheet(f"QLabel {{ color: {MUTED_TEXT[_theme['name']]}; }}")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
