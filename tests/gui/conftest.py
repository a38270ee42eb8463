"""Fixtures for the GUI tests (pytest-qt, offscreen).

* every test gets its own config folder (recovery file, settings, logs) under ``tmp_path``;
* after each test no worker thread may still be running (napari's dangling-thread check);
* Qt warnings fail the test, except the short list below.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Qt messages that are expected and harmless. Keep this list short and say why.
QT_LOG_IGNORE = (
    # The offscreen platform plugin cannot propagate size hints to a window manager.
    re.compile(r"This plugin does not support propagateSizeHints\(\)"),
)


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the GUI's config folder (gui.paths) at a fresh temporary folder."""
    folder = tmp_path / "config"
    monkeypatch.setenv("PROBITY_CONFIG_DIR", str(folder))
    return folder


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
