"""Bundled TrueType fonts (DejaVu, see resources/fonts/README.md), registered with reportlab once.

The standard-14 PDF fonts are never embedded and print non-Latin names as boxes, so every
paragraph, table and chart label in the report uses these embedded fonts instead.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SANS = "DejaVuSans"
SANS_BOLD = "DejaVuSans-Bold"
MONO = "DejaVuSansMono"
_FILES = {SANS: "DejaVuSans.ttf", SANS_BOLD: "DejaVuSans-Bold.ttf", MONO: "DejaVuSansMono.ttf"}
_registered = False


def font_path(name: str) -> Path:
    """Filesystem path of a bundled font file (resources is a plain package on disk)."""
    return Path(str(resources.files("resources") / "fonts" / _FILES[name]))


def register_fonts() -> None:
    """Register the DejaVu family with reportlab (idempotent) so <b> maps to the bold face."""
    global _registered
    if _registered:
        return
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name in _FILES:
        pdfmetrics.registerFont(TTFont(name, str(font_path(name))))
    addMapping(SANS, 0, 0, SANS)
    addMapping(SANS, 1, 0, SANS_BOLD)
    addMapping(SANS, 0, 1, SANS)
    addMapping(SANS, 1, 1, SANS_BOLD)
    addMapping(MONO, 0, 0, MONO)
    addMapping(MONO, 1, 0, MONO)
    addMapping(MONO, 0, 1, MONO)
    addMapping(MONO, 1, 1, MONO)
    _registered = True


def missing_glyphs(text: str, font: str = SANS) -> set[str]:
    """Characters of ``text`` the bundled font cannot draw (reported, never silently boxed)."""
    register_fonts()
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    registered = pdfmetrics.getFont(font)
    if not isinstance(registered, TTFont):
        raise ValueError(f"{font} is not one of the bundled TrueType fonts")
    face = registered.face
    return {ch for ch in text if not ch.isspace() and ord(ch) not in face.charToGlyph}
