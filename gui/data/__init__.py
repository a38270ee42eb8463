"""Validation data step: the shared DataFrame table model, the data page and its session."""

from gui.data.none_guard import protect_none

# PySide6 6.12 on Python 3.11 leaks references to None; see gui.data.none_guard.
protect_none()
