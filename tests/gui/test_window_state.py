"""Remembered geometry, splitters and last folder (JSON settings in the test's own config
folder), and where every file dialog starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QFileDialog, QMainWindow, QSplitter, QWidget

from gui.errors import ask_open_path as real_ask_open_path  # taken before any test patches them
from gui.errors import ask_save_path as real_ask_save_path
from gui.paths import Settings
from gui.window_state import (
    dialog_start,
    keep_window_state,
    remember_folder,
    restore_window_state,
    save_window_state,
    splitter_key,
    start_folder,
    suggested_pdf_path,
)


def test_start_folder_prefers_the_assessment_then_the_last_folder_then_home(tmp_path) -> None:
    doc_dir, last, home = tmp_path / "doc", tmp_path / "last", tmp_path / "home"
    for d in (doc_dir, last, home):
        d.mkdir()
    doc = doc_dir / "a.probity"
    assert start_folder(doc, str(last), home) == doc_dir
    assert start_folder(None, str(last), home) == last
    assert start_folder(None, str(tmp_path / "gone"), home) == home
    assert start_folder(None, "relative/folder", home) == home
    assert start_folder(tmp_path / "deleted" / "a.probity", str(last), home) == last
    assert start_folder(None, "", home) == home


def test_dialog_start_places_a_bare_suggestion_and_keeps_a_full_path(tmp_path) -> None:
    doc = tmp_path / "a.probity"
    assert dialog_start("", doc, None) == str(tmp_path)
    assert dialog_start("report.pdf", doc, None) == str(tmp_path / "report.pdf")
    assert dialog_start("../../etc/report.pdf", doc, None) == str(tmp_path / "report.pdf")
    assert dialog_start("/elsewhere/x.pdf", doc, None) == "/elsewhere/x.pdf"


def test_export_pdf_suggestion_is_beside_the_assessment(tmp_path) -> None:
    assert suggested_pdf_path(tmp_path / "Sepsis.probity", "T", tmp_path / "o") == (
        tmp_path / "Sepsis.pdf")
    assert suggested_pdf_path(None, "Sepsis <Risk> / v2", tmp_path) == (
        tmp_path / "Sepsis-Risk-v2.pdf")
    assert suggested_pdf_path(None, "///", tmp_path) == tmp_path / "assessment.pdf"


def test_file_dialogs_start_in_the_assessment_folder_and_remember_the_last(
        qtbot, monkeypatch, tmp_path, config_dir) -> None:
    """The real gui.errors helpers (not the scripted stand-ins) with Qt's dialog replaced."""
    seen = []
    chosen = tmp_path / "picked" / "data.csv"
    chosen.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda parent, title, start, filters: (
                            seen.append(start) or str(chosen), "")))
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda parent, title, start, filters: (
                            seen.append(start) or "", "")))

    class Ctx:
        path: Path | None = None
        settings = Settings(config_dir / "settings.json")

    class Window(QWidget):
        ctx = Ctx()

    window = Window()
    qtbot.addWidget(window)
    assert real_ask_open_path(window, "Open", "*") == chosen
    assert seen[-1] == str(Path.home())  # no assessment, no last folder yet
    assert Ctx.settings.get("last_folder") == str(chosen.parent)
    stored = json.loads((config_dir / "settings.json").read_text())
    assert stored["last_folder"] == str(chosen.parent)  # in the test's folder, not ~/.config
    real_ask_save_path(window, "Export", "*.pdf", "report.pdf")
    assert seen[-1] == str(chosen.parent / "report.pdf")  # cancelled: nothing remembered
    Ctx.path = tmp_path / "work" / "a.probity"
    Ctx.path.parent.mkdir()
    real_ask_save_path(window, "Export signed PDF", "*.pdf", "a.pdf")
    assert seen[-1] == str(tmp_path / "work" / "a.pdf")
    assert Ctx.settings.get("last_folder") == str(chosen.parent)


def test_remember_folder_ignores_cancel(tmp_path, config_dir) -> None:
    settings = Settings(config_dir / "s.json")
    remember_folder(settings, None)
    assert settings.get("last_folder") == ""
    remember_folder(settings, tmp_path)
    assert settings.get("last_folder") == str(tmp_path)


class Page(QWidget):
    def __init__(self) -> None:
        super().__init__()
        from PySide6.QtWidgets import QVBoxLayout

        self.split = QSplitter(self)
        self.split.addWidget(QWidget())
        self.split.addWidget(QWidget())
        QVBoxLayout(self).addWidget(self.split)


Page.__module__ = "gui.fake_page"  # the key names Probity's own enclosing class


def make_window(qtbot) -> tuple[QMainWindow, Page]:
    window = QMainWindow()
    page = Page()
    window.setCentralWidget(page)
    qtbot.addWidget(window)
    window.resize(500, 400)
    window.show()
    qtbot.waitExposed(window)
    return window, page


def test_geometry_and_splitters_round_trip_through_the_settings_file(qtbot, config_dir) -> None:
    settings = Settings(config_dir / "settings.json")
    window, page = make_window(qtbot)
    assert splitter_key(page.split) == "Page/splitter0"
    window.resize(610, 450)  # within the offscreen 800 x 600 screen
    page.split.setSizes([100, 380])
    sizes = page.split.sizes()
    save_window_state(window, settings)
    reread = Settings(config_dir / "settings.json")
    other, other_page = make_window(qtbot)
    assert restore_window_state(other, reread)
    assert other_page.split.sizes() == sizes
    qtbot.waitUntil(lambda: other.size() == QSize(610, 450), timeout=2000)


@pytest.mark.parametrize("stored", ["!!not base64!!", "QUJD", "x" * 70000, 12])
def test_damaged_stored_state_is_ignored(qtbot, config_dir, stored) -> None:
    path = config_dir / "settings.json"
    path.write_text(json.dumps({"window_geometry": stored, "splitters": {"Page/splitter0":
                                                                        stored}}))
    window, page = make_window(qtbot)
    before = page.split.sizes()
    assert not restore_window_state(window, Settings(path))
    assert page.split.sizes() == before


def test_keeper_saves_on_close(qtbot, config_dir) -> None:
    settings = Settings(config_dir / "settings.json")
    window, page = make_window(qtbot)
    keep_window_state(window, settings)
    page.split.setSizes([50, 400])
    window.close()
    assert settings.get("window_geometry") and "Page/splitter0" in settings.get("splitters")


def test_main_window_splitter_comes_back(qtbot, config_dir) -> None:
    from tests.gui.helpers import open_window

    settings = Settings(config_dir / "settings.json")
    first = open_window(qtbot)
    key = "MainWindow/splitter0"
    [main] = [s for s in first.findChildren(QSplitter) if splitter_key(s) == key]
    default = main.sizes()[0]
    main.setSizes([default + 60, 2000])
    save_window_state(first, settings)
    second = open_window(qtbot)
    keep_window_state(second, Settings(config_dir / "settings.json"))
    [again] = [s for s in second.findChildren(QSplitter) if splitter_key(s) == key]
    assert again.sizes()[0] == default + 60


class StackWindow(QMainWindow):
    """A window whose pages are built lazily in ``self.stack``, as the main window's are."""

    def __init__(self) -> None:
        from PySide6.QtWidgets import QStackedWidget

        super().__init__()
        self.stack = QStackedWidget()
        self.stack.addWidget(QWidget())
        self.setCentralWidget(self.stack)
        self.resize(600, 400)

    def show_page(self) -> Page:
        page = Page()
        self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        return page


def test_a_lazily_built_page_gets_its_splitter_back_once_laid_out(qtbot, config_dir) -> None:
    settings = Settings(config_dir / "settings.json")
    first = StackWindow()
    qtbot.addWidget(first)
    first.show()
    page = first.show_page()
    qtbot.waitUntil(lambda: page.split.width() > 500)
    page.split.setSizes([420, 180])
    wanted = page.split.sizes()
    save_window_state(first, settings)

    second = StackWindow()
    qtbot.addWidget(second)
    keep_window_state(second, Settings(config_dir / "settings.json"))
    second.show()
    again = second.show_page()  # built after the keeper: restored when shown
    qtbot.waitUntil(lambda: again.split.sizes() == wanted, timeout=2000)
    assert wanted[0] > wanted[1]  # not Qt's even default
