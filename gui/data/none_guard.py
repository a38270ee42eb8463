"""Work around PySide6 6.12 dropping a reference to ``None`` on Python 3.11.

Measured here: every time Python receives an *invalid* QVariant from a C++ call — e.g.
``proxy.data(index, role)`` for an empty cell, ``QComboBox.currentData()`` of an item without
data, ``QAbstractItemModel.headerData`` for an unused role — shiboken hands back ``None``
without taking a reference, so ``None``'s reference count falls by one per call. After some
tens of thousands of such calls (a model tester run, a long session) CPython aborts with
"Fatal Python error: none_dealloc". Python 3.12 made ``None`` immortal, which hides the bug;
on 3.11 we give ``None`` the same property by raising its count far out of reach, once per
process. The same was seen for ``True``/``False`` (a bool QVariant). No object is freed by
this and no memory is touched besides those counters.
"""

from __future__ import annotations

import ctypes
import sys

_MARGIN = 1 << 40


def protect_none() -> None:
    """Make ``None``, ``True`` and ``False`` practically immortal (idempotent; a no-op on
    Python >= 3.12, where they are immortal already)."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    for singleton in (None, True, False):
        count = ctypes.c_ssize_t.from_address(id(singleton))  # ob_refcnt: first field
        if count.value < _MARGIN:
            count.value += _MARGIN
