"""Guard against the PySide6 release we ship losing references to None/True/False.

PySide6-Essentials 6.12.0 on Python 3.11 dropped a reference to ``True`` on every
``Signal(bool).emit`` and to ``None`` for every invalid QVariant returned to Python; after a few
thousand calls CPython aborted with "bool_dealloc"/"none_dealloc" (on 3.11 these singletons are
not immortal). Probity pins 6.11.3, which does not; this test fails if an upgrade brings the bug
back, instead of the app crashing in a reviewer's long session.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QLabel


class _Emitter(QObject):
    flag = Signal(bool)
    anything = Signal(object)


def test_singleton_reference_counts_survive_many_qt_calls(qtbot) -> None:
    combo = QComboBox()
    combo.addItem("a")
    qtbot.addWidget(combo)
    label = QLabel()
    qtbot.addWidget(label)
    model = QStandardItemModel(2, 2)
    model.setItem(0, 0, QStandardItem("x"))
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    emitter = _Emitter()
    emitter.flag.connect(lambda _v: None)
    emitter.anything.connect(lambda _v: None)
    before = {name: sys.getrefcount(obj) for name, obj in
              (("None", None), ("True", True), ("False", False))}
    for _ in range(5000):
        combo.currentData()
        proxy.data(proxy.index(1, 1), Qt.ItemDataRole.DisplayRole)
        model.headerData(0, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
        emitter.flag.emit(True)
        emitter.flag.emit(False)
        emitter.anything.emit(None)
        label.setText("x")
    after = {name: sys.getrefcount(obj) for name, obj in
             (("None", None), ("True", True), ("False", False))}
    for name in before:
        assert after[name] >= before[name] - 50, f"{name} lost {before[name] - after[name]} refs"
