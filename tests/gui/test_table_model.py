"""The shared DataFrame table model: Qt's model tester, lazy formatting, 1M rows, sorting."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor

from gui.data.table_model import RAW_ROLE, SORT_ROLE, DataFrameModel, format_value


@pytest.fixture(autouse=True)
def collect_garbage_on_ui_thread():
    """Collect this test's widget garbage on the UI thread. Left to chance, Python's cyclic GC
    can run inside a later test's worker thread and delete QObjects there (a segfault)."""
    yield
    gc.collect()


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": ["b", "a", None, "c"],
            "n": np.array([10, 30, 5, 7], dtype=np.int64),
            "value": [0.5, np.nan, 0.25, 0.125],
            "flag": [True, False, False, True],
        }
    )


def test_model_passes_qt_model_tester(qtmodeltester) -> None:
    model = DataFrameModel(
        _frame(),
        background=lambda r, c: QColor("#fde2e1") if c == 3 and r == 0 else None,
        foreground=lambda r, c: QColor("#8a1c1c") if c == 3 else None,
    )
    qtmodeltester.check(model, force_py=True)
    # The tester stays connected and checks the reset signals of every later change.
    model.set_frame(_frame().iloc[:2])
    model.set_frame(None)
    model.set_frame(_frame())


def test_empty_model_passes_qt_model_tester(qtmodeltester) -> None:
    qtmodeltester.check(DataFrameModel(pd.DataFrame({"a": []})), force_py=True)


def test_display_is_formatted_and_missing_is_blank() -> None:
    model = DataFrameModel(_frame(), decimals={"value": 2})
    disp = Qt.ItemDataRole.DisplayRole
    assert model.data(model.index(0, 0), disp) == "b"
    assert model.data(model.index(2, 0), disp) == ""
    assert model.data(model.index(0, 1), disp) == "10"
    assert model.data(model.index(0, 2), disp) == "0.50"
    assert model.data(model.index(1, 2), disp) == ""
    assert model.data(model.index(1, 2), RAW_ROLE) is None
    assert model.data(model.index(0, 3), disp) == "yes"
    assert model.headerData(2, Qt.Orientation.Horizontal) == "value"
    assert model.headerData(0, Qt.Orientation.Vertical) == "1"
    assert format_value(3.0, 0) == "3"


def test_proxy_sorts_numbers_numerically_with_missing_first() -> None:
    frame = pd.DataFrame({"x": [10.0, 9.0, 100.0, np.nan], "s": ["10", "9", "100", "z"]})
    model = DataFrameModel(frame)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.sort(0, Qt.SortOrder.AscendingOrder)
    got = [proxy.data(proxy.index(r, 0), RAW_ROLE) for r in range(4)]
    assert got == [None, 9.0, 10.0, 100.0]
    proxy.sort(1, Qt.SortOrder.AscendingOrder)
    assert [proxy.data(proxy.index(r, 1)) for r in range(4)] == ["10", "100", "9", "z"]


def test_million_rows_are_served_lazily() -> None:
    """The model wraps the frame as it is: no copy, no per-row formatting up front (speed is
    measured in benchmarks/bench_ui_responsiveness.py, not asserted here)."""
    rng = np.random.default_rng(1)
    n = 1_000_000
    frame = pd.DataFrame(
        {
            "score": rng.random(n),
            "label": rng.integers(0, 2, n),
            "race": pd.Series(rng.choice(["A", "B", "C"], n), dtype="str"),
        }
    )
    model = DataFrameModel(frame)
    assert model.rowCount() == n
    # A screenful of cells, anywhere in the table, formatted on demand from the frame.
    for r in range(n - 40, n):
        assert model.data(model.index(r, 2)) == frame["race"].iat[r]
        assert model.data(model.index(r, 1)) == str(frame["label"].iat[r])


def test_ui_thread_gc_collects_from_the_event_loop(qtbot) -> None:
    from gui.data.ui_gc import install_ui_thread_gc

    collector = install_ui_thread_gc(interval_ms=10)
    try:
        assert install_ui_thread_gc() is collector
        import gc as gc_module

        assert not gc_module.isenabled()

        class Cycle:
            pass

        for _ in range(collector.thresholds[0] + 50):
            a, b = Cycle(), Cycle()
            a.other, b.other = b, a
        qtbot.waitUntil(lambda: gc_module.get_count()[0] < collector.thresholds[0], timeout=2000)
    finally:
        collector.uninstall()
        collector.setParent(None)
    assert gc_module.isenabled()
