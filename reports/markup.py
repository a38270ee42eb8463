"""The escaping layer: the only way user text enters reportlab's Paragraph mini-markup.

Paragraph parses XML-like tags, so unescaped user text such as ``<link href=...>`` would become
a live link and ``<img src=/etc/hostname>`` would make reportlab read a local file. Every
user-supplied string goes through :func:`esc`; markup is built only from app-owned templates.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

_CONTROL = {c: None for c in range(32) if chr(c) not in "\t\n"}


def esc(value: Any) -> str:
    """Escape any value for Paragraph markup; None prints as an em dash, newlines as <br/>."""
    if value is None:
        return "—"
    text = value if isinstance(value, str) else str(value)
    text = text.translate(_CONTROL)  # control characters cannot be drawn
    return escape(text, {'"': "&quot;"}).replace("\n", "<br/>")


def tag(name: str, body_markup: str) -> str:
    """Wrap already-escaped markup in an app-owned tag (b, i, font...)."""
    return f"<{name}>{body_markup}</{name}>"
