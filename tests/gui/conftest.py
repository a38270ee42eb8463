"""Fixtures for the GUI tests (pytest-qt, offscreen).

* every test gets its own config folder (recovery file, settings, logs) under ``tmp_path``;
* after each test no worker thread may still be running (napari's dangling-thread check);
* Qt warnings fail the test, except the short list below.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Qt messages that are expected and harmless. Keep this list short and say why.
QT_LOG_IGNORE = (
    # The offscreen platform plugin cannot propagate size hints to a window manager.
    re.compile(r"This plugin does not support propagateSizeHints\(\)"),
)


@pytest.fixture
def config_dir(isolated_config: Path) -> Path:
    """The test's own config folder (PROBITY_CONFIG_DIR, set by tests/conftest.py)."""
    return isolated_config


class ScriptedDialogs:
    """Stands in for every modal dialog of gui.errors (STYLE.md §9: mock ``ask()``, not Qt).

    Messages are recorded; questions take their replies from ``reply(name, *values)`` and an
    unexpected question fails the test instead of blocking it.
    """

    QUESTIONS = ("ask_yes_no", "ask_save_discard_cancel", "ask_open_path", "ask_save_path",
                 "ask_text", "ask_passphrase", "ask_item", "ask_choice")

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from gui import errors

        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self._replies: dict[str, list[object]] = {name: [] for name in self.QUESTIONS}
        for name in self.QUESTIONS:
            monkeypatch.setattr(errors, name, self._question(name))
        monkeypatch.setattr(errors, "show_message", self._message)

    def reply(self, name: str, *values: object) -> None:
        self._replies[name].extend(values)

    @property
    def messages(self) -> list[str]:
        return [str(args[1]) for name, args in self.calls if name == "show_message"]

    def asked(self, name: str) -> int:
        return sum(1 for n, _ in self.calls if n == name)

    def _message(self, parent: object, title: str, text: str, icon: object = None) -> None:
        self.calls.append(("show_message", (title, text)))

    def _question(self, name: str) -> Callable[..., object]:
        def ask(parent: object, *args: object, **kwargs: object) -> object:
            self.calls.append((name, args))
            if not self._replies[name]:
                raise AssertionError(f"unexpected modal dialog {name}{args}")
            return self._replies[name].pop(0)

        return ask


@pytest.fixture(autouse=True)
def dialogs(monkeypatch: pytest.MonkeyPatch) -> ScriptedDialogs:
    """No real modal dialog ever opens in a GUI test."""
    return ScriptedDialogs(monkeypatch)


@pytest.fixture(autouse=True)
def no_dangling_workers() -> Iterator[None]:
    """Fail a test that leaves a worker thread (QThreadPool or Python thread) running."""
    before = set(threading.enumerate())
    yield
    from PySide6.QtCore import QThreadPool

    pool = QThreadPool.globalInstance()
    assert pool.waitForDone(5000), "a worker job was still running 5 s after the test ended"
    assert pool.activeThreadCount() == 0
    left = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    assert not left, f"threads left running: {left}"


@pytest.fixture(autouse=True)
def fail_on_qt_warnings(request: pytest.FixtureRequest) -> Iterator[None]:
    """Qt warnings (qWarning, qCritical) fail the test unless listed in QT_LOG_IGNORE."""
    if "qtlog" not in request.fixturenames and "qtbot" not in request.fixturenames:
        yield
        return
    qtlog = request.getfixturevalue("qtlog")
    yield
    from PySide6.QtCore import QtMsgType

    bad = [
        record.message
        for record in qtlog.records
        if record.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
        and not any(pattern.search(record.message) for pattern in QT_LOG_IGNORE)
    ]
    assert not bad, f"Qt warnings during the test: {bad}"


@pytest.fixture
def ctx(qtbot: object) -> Iterator[object]:
    """An application context on a new assessment; its workers are stopped afterwards."""
    import gc

    from assessment.document import Assessment
    from gui.context import AppContext

    context = AppContext()
    context.set_document(Assessment.new())
    yield context
    assert context.shutdown(10.0)
    gc.collect()
