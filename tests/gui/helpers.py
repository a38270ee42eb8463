"""Helpers for the GUI tests: a main window on a given document, answering a domain by clicks."""

from __future__ import annotations

from PySide6.QtCore import Qt

from assessment.document import Assessment
from gui.main_window import MainWindow
from gui.pages.probast import DomainPage


def open_window(qtbot, doc: Assessment | None = None) -> MainWindow:  # noqa: ANN001
    window = MainWindow()
    qtbot.addWidget(window, before_close_func=lambda w: w.close_without_prompt())
    window.set_document(doc or Assessment.new("probast-2019"), None)
    window.show()
    qtbot.waitExposed(window)
    return window


def click_answer(qtbot, page: DomainPage, key: str, value: str) -> None:  # noqa: ANN001
    question = key.split("@", 1)[0]
    button = page.cards[question].editors[key].buttons[value]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def answer_all(qtbot, page: DomainPage, value: str) -> None:  # noqa: ANN001
    for card in page.cards.values():
        for key in card.editors:
            click_answer(qtbot, page, key, value)
