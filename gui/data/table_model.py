"""One read-only table model over an immutable DataFrame.

Serves the validation-data preview (up to millions of rows) and every results table. Nothing
is formatted up front: ``data()`` formats only the cells the view asks for, so a 1M-row
preview costs a few column views and nothing per row. Sorting and filtering are left to a
``QSortFilterProxyModel`` on top, which reads raw values through :data:`SORT_ROLE`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 1
"""Raw value for sorting: numbers as floats (missing sorts first), everything else as text."""

RAW_ROLE = int(Qt.ItemDataRole.UserRole) + 2
"""The cell's Python value (numbers unformatted, None for missing)."""

CellStyle = Callable[[int, int], "QColor | None"]
Index = QModelIndex | QPersistentModelIndex


def format_value(value: Any, decimals: int = 3) -> str:
    """Display text for one cell: short floats, blank for missing, plain str otherwise."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if math.isnan(f):
            return ""
        if f.is_integer() and abs(f) < 1e15 and decimals == 0:
            return str(int(f))
        return f"{f:.{decimals}f}"
    text = str(value)
    return "" if text in ("nan", "NaT", "<NA>") else text


def _raw(value: Any) -> Any:
    """Plain Python value (no NumPy scalars, None for missing) for RAW/SORT roles."""
    if value is None:
        return None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return None if math.isnan(f) else f
    text = str(value)
    return None if text in ("nan", "NaT", "<NA>") else value


class DataFrameModel(QAbstractTableModel):
    """Read-only view of a DataFrame that is never mutated while the model holds it.

    ``decimals`` maps column name -> digits for float formatting (default 3).
    ``foreground`` / ``background`` are optional ``(row, column) -> QColor | None`` callbacks
    (row in model order) used for flag colours; ``tooltip`` likewise returns text or None.
    Replace the frame with :meth:`set_frame`, which resets the model once.
    """

    def __init__(
        self,
        frame: Any = None,
        *,
        decimals: dict[str, int] | None = None,
        foreground: CellStyle | None = None,
        background: CellStyle | None = None,
        tooltip: Callable[[int, int], str | None] | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._frame: Any = None
        self._columns: list[Any] = []
        self._names: list[str] = []
        self._float_cols: set[int] = set()
        self._rows = 0
        self._decimals = dict(decimals or {})
        self._foreground = foreground
        self._background = background
        self._tooltip = tooltip
        if frame is not None:
            self._load(frame)

    # -- data -------------------------------------------------------------------------------
    def _load(self, frame: Any) -> None:
        self._frame = frame
        self._names = [str(c) for c in frame.columns]
        # Column views, not copies: numeric columns become NumPy views; others stay Series and
        # are read per visible cell (``iat`` on a Series is O(1)).
        cols: list[Any] = []
        self._float_cols = set()
        for i, name in enumerate(frame.columns):
            series = frame.iloc[:, i]
            kind = getattr(series.dtype, "kind", "O")
            if kind in "biuf" and isinstance(series.dtype, np.dtype):
                cols.append(series.to_numpy(copy=False))
                if kind == "f":
                    self._float_cols.add(i)
            else:
                cols.append(series)
            del name
        self._columns = cols
        self._rows = int(len(frame))

    def set_frame(self, frame: Any, *, decimals: dict[str, int] | None = None) -> None:
        """Show another frame (results recomputed, another file loaded)."""
        self.beginResetModel()
        if decimals is not None:
            self._decimals = dict(decimals)
        if frame is None:
            self._frame, self._columns, self._names, self._rows = None, [], [], 0
            self._float_cols = set()
        else:
            self._load(frame)
        self.endResetModel()

    def frame(self) -> Any:
        """The DataFrame shown (treat as read-only)."""
        return self._frame

    def fit_columns(self, view: Any, *, sample: int = 200, max_width: int = 320) -> None:
        """Size ``view``'s columns to their header and first ``sample`` cells' text.

        Qt's ``resizeColumnToContents`` asks ``data()`` for every role of every cell through
        the delegate; measuring the formatted strings directly is ~50× cheaper, which keeps a
        results redraw inside one frame.
        """
        metrics = view.fontMetrics()
        header = view.horizontalHeader().fontMetrics()
        rows = min(self._rows, sample)
        for c, name in enumerate(self._names):
            decimals = self._decimals.get(name, 3)
            texts = {format_value(self.value(r, c), decimals) for r in range(rows)}
            width = max([metrics.horizontalAdvance(t) for t in texts] or [0])
            width = max(width, header.horizontalAdvance(name) + 24)
            view.setColumnWidth(c, min(max_width, width + 16))

    def column_names(self) -> list[str]:
        return list(self._names)

    def value(self, row: int, column: int) -> Any:
        """Raw cell value in model coordinates."""
        col = self._columns[column]
        if isinstance(col, np.ndarray):
            return col[row]
        return col.iat[row]

    # -- Qt interface -------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._names)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < self._rows and 0 <= column < len(self._names)):
            return None
        role = int(role)
        if role in (int(Qt.ItemDataRole.DisplayRole), int(Qt.ItemDataRole.ToolTipRole)):
            if role == int(Qt.ItemDataRole.ToolTipRole) and self._tooltip is not None:
                tip = self._tooltip(row, column)
                if tip:
                    return tip
            decimals = self._decimals.get(self._names[column], 3)
            text = format_value(self.value(row, column), decimals)
            if role == int(Qt.ItemDataRole.ToolTipRole) and text:
                # Qt renders a tooltip that looks like HTML as HTML: a cell is shown literally.
                return f"<p style='white-space:pre-wrap'>{html.escape(text, quote=False)}</p>"
            return text
        if role == SORT_ROLE:
            raw = _raw(self.value(row, column))
            if column in self._float_cols or isinstance(raw, (int, float)):
                return -math.inf if raw is None else float(raw)
            return "" if raw is None else str(raw)
        if role == RAW_ROLE:
            return _raw(self.value(row, column))
        if role == int(Qt.ItemDataRole.TextAlignmentRole):
            if isinstance(self._columns[column], np.ndarray):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == int(Qt.ItemDataRole.ForegroundRole) and self._foreground is not None:
            color = self._foreground(row, column)
            return QBrush(color) if color is not None else None
        if role == int(Qt.ItemDataRole.BackgroundRole) and self._background is not None:
            color = self._background(row, column)
            return QBrush(color) if color is not None else None
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if int(role) != int(Qt.ItemDataRole.DisplayRole):
            return None
        if orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(self._names):
                return self._names[section]
            return None
        if 0 <= section < self._rows:
            return str(section + 1)
        return None
