"""Light or dark: follow the desktop's colour scheme, keep judgement colours readable.

The decision (:func:`prefers_dark`) is a pure function of what the desktop says:

1. the preference ``colour_scheme`` ("light"/"dark" force one; "auto" follows the desktop);
2. the offscreen and minimal platforms (tests, the self-test, screenshots) are always light;
3. Qt 6.5+'s ``QStyleHints.colorScheme()``, when the platform theme knows it (GNOME, KDE,
   Windows, macOS);
4. on Linux without a platform theme Qt answers "Unknown": then ``GTK_THEME`` (``Adwaita:dark``,
   ``Yaru-dark``), and ``QT_STYLE_OVERRIDE``/``QT_QUICK_CONTROLS_STYLE`` naming a dark variant,
   are the only hints read. No ``gsettings`` process is started (start-up stays fast and offline);
5. otherwise light.

The palettes are explicit Fusion palettes, so a half-dark desktop theme can never hide text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

LIGHT_ONLY_PLATFORMS = ("offscreen", "minimal", "vnc")
_DARK_NAME = re.compile(r"(^|[:\-_ .])dark($|[:\-_ .])", re.IGNORECASE)


def prefers_dark(
    preference: str, platform: str, scheme: str | None, env: Mapping[str, str]
) -> bool:
    """Whether Probity should use its dark palette (see the module docstring for the order).

    ``scheme`` is "dark", "light" or None (Qt's Unknown / a Qt without colorScheme())."""
    if preference in ("light", "dark"):
        return preference == "dark"
    if platform.split(":")[0].lower() in LIGHT_ONLY_PLATFORMS:
        return False
    if scheme in ("dark", "light"):
        return scheme == "dark"
    for name in ("GTK_THEME", "QT_STYLE_OVERRIDE", "QT_QUICK_CONTROLS_STYLE"):
        value = env.get(name, "").strip()
        if value and _DARK_NAME.search(value):
            return True
    return False


def desktop_scheme() -> str | None:
    """The desktop's scheme as Qt reports it: "dark", "light", or None when unknown."""
    app = QGuiApplication.instance()
    if not isinstance(app, QGuiApplication):
        return None
    hints = app.styleHints()
    if not hasattr(hints, "colorScheme"):
        return None
    scheme = hints.colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return "dark"
    if scheme == Qt.ColorScheme.Light:
        return "light"
    return None


def _palette(colours: Mapping[QPalette.ColorRole, str], disabled: str, disabled_base: str) -> (
    QPalette
):
    p = QPalette()
    for role, colour in colours.items():
        p.setColor(role, QColor(colour))
    roles = QPalette.ColorRole
    group = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        p.setColor(group, role, QColor(disabled))
    p.setColor(group, roles.Base, QColor(disabled_base))
    return p


def light_palette() -> QPalette:
    """A light Fusion palette, set explicitly so that a dark desktop theme cannot hide text."""
    roles = QPalette.ColorRole
    return _palette({
        roles.Window: "#f4f5f7", roles.WindowText: "#1d1d1f", roles.Base: "#ffffff",
        roles.AlternateBase: "#f0f2f5", roles.ToolTipBase: "#ffffe6", roles.ToolTipText: "#1d1d1f",
        roles.PlaceholderText: "#6e6e73", roles.Text: "#1d1d1f", roles.Button: "#eceef1",
        roles.ButtonText: "#1d1d1f", roles.BrightText: "#ffffff", roles.Light: "#ffffff",
        roles.Midlight: "#e3e5e8", roles.Mid: "#b8bcc2", roles.Dark: "#8a8f96",
        roles.Shadow: "#5c6067", roles.Highlight: "#2458a6", roles.HighlightedText: "#ffffff",
        roles.Link: "#1a4f9c", roles.LinkVisited: "#5b3a8c",
    }, "#8e9299", "#f4f5f7")


def dark_palette() -> QPalette:
    """The dark counterpart: the same roles, text >= 7:1 on its window and base colours."""
    roles = QPalette.ColorRole
    return _palette({
        roles.Window: "#202226", roles.WindowText: "#e8e9eb", roles.Base: "#17181b",
        roles.AlternateBase: "#23252a", roles.ToolTipBase: "#2d3036", roles.ToolTipText: "#e8e9eb",
        roles.PlaceholderText: "#9a9ea6", roles.Text: "#e8e9eb", roles.Button: "#2c2f34",
        roles.ButtonText: "#e8e9eb", roles.BrightText: "#ffffff", roles.Light: "#3a3d44",
        roles.Midlight: "#30333a", roles.Mid: "#4a4e56", roles.Dark: "#121315",
        roles.Shadow: "#000000", roles.Highlight: "#3d6fc4", roles.HighlightedText: "#ffffff",
        roles.Link: "#8ab4f8", roles.LinkVisited: "#c39af0",
    }, "#7d8189", "#1c1d20")


def apply_theme(app: QGuiApplication, preference: str = "auto") -> bool:
    """Choose and set the palette (and the judgement colours); True when dark."""
    from gui.widgets import use_level_colours

    dark = prefers_dark(preference, app.platformName(), desktop_scheme(), os.environ)
    hints = app.styleHints()
    if hasattr(hints, "setColorScheme"):  # Qt 6.8+: tell Qt's own widgets the same choice
        hints.setColorScheme(Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light)
    app.setPalette(dark_palette() if dark else light_palette())
    use_level_colours(dark)
    return dark
