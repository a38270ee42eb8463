"""One answer slot's answer set as a single keyboard stop (issue 11, "PROBAST at speed").

The answer buttons take no focus of their own: the bar does. With the bar focused, a letter key
answers (see :data:`ANSWER_KEYS`), Left/Right move a cursor over the buttons and Space/Enter
answers with the one under it, Up/Down go to the previous/next answer slot of the page, and
Delete clears the answer. Space or a click on the chosen answer keeps it: an answer is only ever
cleared deliberately (Delete, the bar's clear button or its context menu).

The bar decides nothing about the document: it calls ``on_answer(value)`` (``None`` clears) and
the page writes through the document's own audited, undoable methods.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QContextMenuEvent, QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QMenu, QPushButton, QToolButton, QWidget

from assessment.catalogue import ANSWER_LABELS

#: Keyboard answers: (key, with Shift, answer code). Plain letters give the definite answers,
#: Shift gives the "probably" ones; the one table the bar, the help and the tests read.
ANSWER_KEYS: tuple[tuple[str, bool, str], ...] = (
    ("Y", False, "Y"),
    ("Y", True, "PY"),
    ("N", False, "N"),
    ("N", True, "PN"),
    ("I", False, "NI"),
    ("A", False, "NA"),
)

#: What the other keys of a focused answer bar do (for the help).
BAR_KEYS: tuple[tuple[str, str], ...] = (
    ("Left / Right", "move over the answers; Space or Enter chooses the one under the cursor"),
    ("Up / Down", "previous / next answer on the page"),
    ("Delete", "clear the answer (the only key that clears one)"),
    ("Tab", "rationale, then source, then the next question's answers"),
)

_LETTERS = {getattr(Qt.Key, f"Key_{letter}"): letter for letter, _, _ in ANSWER_KEYS}


def key_label(letter: str, shift: bool) -> str:
    return f"Shift+{letter}" if shift else letter


def answer_for_key(letter: str, shift: bool) -> str | None:
    return next((code for k, s, code in ANSWER_KEYS if k == letter and s == shift), None)


def keys_for_answer(code: str) -> str:
    return ", ".join(key_label(k, s) for k, s, c in ANSWER_KEYS if c == code)


class AnswerBar(QWidget):
    """The answer buttons of one slot; one tab stop."""

    slot_key = ""  # the answer slot shown (set by the page; used to find and focus it)

    def __init__(
        self,
        answers: tuple[str, ...],
        answer_names: dict[str, str],
        accessible_name: str,
        button_width: int,
        on_answer: Callable[[str | None], None],
        on_refused: Callable[[str], None],
        on_move: Callable[[AnswerBar, int], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("answerBar")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # the focus frame
        self.setAccessibleName(accessible_name)
        self.answers = answers
        self.answer_names = {code: answer_names.get(code) or ANSWER_LABELS.get(code, code)
                             for code in ANSWER_LABELS}
        self._on_answer = on_answer
        self._on_refused = on_refused
        self._on_move = on_move
        self.value: str | None = None
        self.position = 0  # the answer under the keyboard cursor
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(4)
        self.buttons: dict[str, QPushButton] = {}
        for value in answers:
            button = QPushButton(value)
            button.setCheckable(True)
            button.setProperty("answer", value)
            button.setProperty("keyed", False)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setFixedWidth(button_width)
            name = self.answer_names.get(value, value)
            keys = keys_for_answer(value)
            button.setToolTip(f"{name} (key {keys})" if keys else name)
            button.clicked.connect(partial(self._clicked, value))
            layout.addWidget(button)
            self.buttons[value] = button
        self.clear_button = QToolButton()
        self.clear_button.setText("×")
        self.clear_button.setObjectName("clearAnswer")
        self.clear_button.setAutoRaise(True)
        self.clear_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.clear_button.setToolTip("Clear this answer (Delete)")
        self.clear_button.setAccessibleName(f"{accessible_name}: clear")
        self.clear_button.clicked.connect(self.clear)
        layout.addWidget(self.clear_button)
        layout.addStretch(1)
        self._update_accessible()
        self.show_value(None)

    # --- showing -----------------------------------------------------------------------------
    def show_value(self, value: str | None) -> None:
        """Show the document's answer (no signal back to the document)."""
        self.value = value
        for name, button in self.buttons.items():
            button.setChecked(name == value)
        self.clear_button.setEnabled(value is not None)
        self._update_accessible()

    def _update_accessible(self) -> None:
        chosen = self.answer_names.get(self.value, self.value) if self.value else "not answered"
        self.setAccessibleDescription(f"Answer: {chosen}")

    def _show_cursor(self) -> None:
        focused = self.hasFocus()
        for i, button in enumerate(self.buttons.values()):
            on = focused and i == self.position
            if button.property("keyed") != on:
                button.setProperty("keyed", on)
                button.style().unpolish(button)
                button.style().polish(button)

    # --- answering ---------------------------------------------------------------------------
    def choose(self, value: str) -> None:
        """Answer ``value``; choosing the current answer again keeps it."""
        if value not in self.buttons:
            return
        self.position = list(self.buttons).index(value)
        self._show_cursor()
        if value == self.value:
            self.buttons[value].setChecked(True)  # a click toggled it off: undo that
            return
        self.show_value(value)
        self._on_answer(value)

    def clear(self) -> None:
        if self.value is None:
            return
        self.show_value(None)
        self._on_answer(None)

    def _clicked(self, value: str) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.choose(value)

    # --- keyboard ----------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        shift = mods == Qt.KeyboardModifier.ShiftModifier
        plain = mods == Qt.KeyboardModifier.NoModifier
        if key in _LETTERS and (plain or shift):
            self._letter(_LETTERS[key], shift)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and plain:
            step = -1 if key == Qt.Key.Key_Left else 1
            self.position = max(0, min(len(self.buttons) - 1, self.position + step))
            self._show_cursor()
        elif key in (Qt.Key.Key_Home, Qt.Key.Key_End) and plain:
            self.position = 0 if key == Qt.Key.Key_Home else len(self.buttons) - 1
            self._show_cursor()
        elif key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter) and plain:
            self.choose(list(self.buttons)[self.position])
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and plain:
            self._on_move(self, -1 if key == Qt.Key.Key_Up else 1)
        elif key == Qt.Key.Key_Delete and plain:
            self.clear()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def _letter(self, letter: str, shift: bool) -> None:
        code = answer_for_key(letter, shift)
        if code is None:
            self._on_refused(
                f"{key_label(letter, shift)} is not an answer key; use "
                + ", ".join(f"{key_label(k, s)} = {c}" for k, s, c in ANSWER_KEYS)
                + "."
            )
        elif code not in self.buttons:
            name = self.answer_names.get(code, code)
            offered = ", ".join(self.buttons)
            self._on_refused(
                f"{code} ({name}) is not an answer to this question: the instrument offers it "
                f"only where the question may not apply. Choose one of {offered}."
            )
        else:
            self.choose(code)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        if self.value in self.buttons:
            self.position = list(self.buttons).index(self.value)
        super().focusInEvent(event)
        self._show_cursor()
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        super().focusOutEvent(event)
        self._show_cursor()
        self.update()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 - Qt override
        menu = QMenu(self)
        clear = QAction("Clear answer\tDelete", menu)
        clear.setEnabled(self.value is not None)
        clear.triggered.connect(self.clear)
        menu.addAction(clear)
        menu.exec(event.globalPos())
