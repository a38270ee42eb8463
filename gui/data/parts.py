"""What the Validation data page's mixins share: their common names (declared once for the type
checker) and the small helpers that show the mapping checks.

:class:`gui.data.page.ValidationDataPage` combines :class:`gui.data.files.DataFileLoading`,
:class:`gui.data.form.MappingForm` (with :class:`gui.data.threshold.ThresholdChoice`) and
:class:`gui.data.settings.SettingsForm`; each uses widgets and
methods the others create. Their names are declared here (the page defines them).
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtWidgets import QLabel, QListWidget

ERROR_STYLE = "color: #9b1c1c;"
WARNING_STYLE = "color: #7a4d00;"
INFO_STYLE = "color: #3d4a5c;"


class DataPageParts:
    """Attributes and methods defined by the page or a sibling mixin."""

    _apply_spec: Any
    _kind_changed: Any
    _show_suggestion: Any
    _stated_operating_point: Any
    _suggestion_for: Any
    _threshold_mode: Any
    clear_threshold: Any
    threshold_ready: Any
    threshold_value: Any
    _check_timer: Any
    _column_values: Any
    _rebuild_reference_values: Any
    _start_job: Any
    _update_state: Any
    _updating: Any
    check_finished: Any
    ctx: Any
    current_mapping: Any
    file_label: Any
    intersection_list: Any
    issues: Any
    output_kind: Any
    path: Any
    running: Any
    showEvent: Any  # noqa: N815 - QWidget.showEvent, reached through super()
    preview: Any
    preview_model: Any
    preview_stack: Any
    reopen_button: Any
    selected_attributes: Any
    set_mapping: Any
    sheet_combo: Any
    state: Any
    status: Any
    table: Any
    table_loaded: Any
    tasks: Any
    threshold_spin: Any


class _FormIssue:
    """A form-level problem found before the engine could look (e.g. malformed bin edges)."""

    def __init__(self, column: str | None, message: str, severity: str = "error") -> None:
        self.column, self.message, self.severity = column, message, severity


def _set_messages(label: QLabel, issues: list[Any]) -> None:
    if not issues:
        label.setVisible(False)
        label.setText("")
        return
    worst = "info"
    for i in issues:
        if i.severity == "error":
            worst = "error"
        elif i.severity == "warning" and worst != "error":
            worst = "warning"
    marks = {"error": "✖", "warning": "⚠", "info": "ℹ"}
    label.setText(
        "\n".join(f"{marks.get(i.severity, '•')} {_gui_wording(i.message)}" for i in issues)
    )
    label.setStyleSheet({"error": ERROR_STYLE, "warning": WARNING_STYLE}.get(worst, INFO_STYLE))
    label.setVisible(True)


def _fit_list_height(widget: QListWidget, max_rows: int) -> None:
    """Show up to ``max_rows`` items without a scroll bar; longer lists scroll."""
    rows = max(1, min(widget.count(), max_rows))
    row_height = widget.sizeHintForRow(0) if widget.count() else widget.fontMetrics().height() + 4
    widget.setFixedHeight(rows * max(row_height, 16) + 2 * widget.frameWidth() + 4)


def _gui_wording(message: str) -> str:
    """The engine's messages also serve the CLI; drop a trailing "(--positive VALUE)" hint,
    which names a command-line option the form shows as a field."""
    return _CLI_HINT.sub("", message)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


_CLI_HINT = re.compile(r"\s*\((?:use )?--[a-z][a-z-]*(?: [A-Z]+)?\)")
