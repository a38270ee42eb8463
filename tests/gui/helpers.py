"""Helpers for the GUI tests: a main window on a given document, answering a domain by clicks."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from assessment.document import Assessment
from gui.compare.page import OPEN_LANE, ComparisonPage
from gui.main_window import MainWindow
from gui.pages.probast import DomainPage


def open_window(qtbot: QtBot, doc: Assessment | None = None) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window, before_close_func=lambda w: w.close_without_prompt())
    window.set_document(doc or Assessment.new("probast-2019"), None)
    window.show()
    qtbot.waitExposed(window)
    return window


def click_answer(qtbot: QtBot, page: DomainPage, key: str, value: str) -> None:
    question = key.split("@", 1)[0]
    button = page.cards[question].editors[key].buttons[value]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def answer_all(qtbot: QtBot, page: DomainPage, value: str) -> None:
    for card in page.cards.values():
        for key in card.editors:
            click_answer(qtbot, page, key, value)


def open_dossier(qtbot: QtBot, page: ComparisonPage, path: Path) -> None:
    """Open a comparison dossier on the page and wait until its worker delivered it."""
    page.open_dossier(path)
    qtbot.waitUntil(lambda: not page.tasks.running(OPEN_LANE), timeout=20000)
