"""The entry point for File › Open, drops and the command line: a ``.pdf`` is a received report.

``open_received_report(window, path)`` shows a non-modal :class:`ReceivedReportDialog` over the
window; a saved copy of its assessment opens in that window (``window.load_file``), so the
reviewer works on the copy, never on the signed report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assessment.catalogue import RECEIVED_REPORT_SUFFIX
from gui.received.view import ReceivedReportDialog

RECEIVED_FILTER = "Signed reports (*.pdf)"


def is_received_report(path: Path) -> bool:
    return path.suffix.lower() == RECEIVED_REPORT_SUFFIX


def open_received_report(window: Any, path: Path) -> ReceivedReportDialog:
    load = getattr(window, "load_file", None)
    dialog = ReceivedReportDialog(Path(path), window, on_open_copy=load)
    dialog.setModal(False)
    dialog.show()
    return dialog
