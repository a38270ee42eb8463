"""Light or dark: the decision follows the desktop (offscreen stays light), the palettes and the
judgement colours keep WCAG contrast, and the chips switch with the palette."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from assessment.catalogue import LEVEL_CHART_FILLS, LEVEL_COLOURS_DARK, LEVEL_COLOURS_LIGHT
from gui.theme import apply_theme, dark_palette, light_palette, prefers_dark


def luminance(hex_colour: str) -> float:
    """WCAG 2.1 relative luminance, from the definition (sRGB linearisation)."""
    rgb = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near-miss


@pytest.mark.parametrize("colours", [LEVEL_COLOURS_LIGHT, LEVEL_COLOURS_DARK],
                         ids=["light", "dark"])
def test_every_judgement_chip_keeps_aa_contrast(colours) -> None:
    for level, (fg, bg) in colours.items():
        assert contrast(fg, bg) >= 4.5, (level, fg, bg, contrast(fg, bg))


@pytest.mark.parametrize("palette", [light_palette, dark_palette], ids=["light", "dark"])
def test_palette_text_contrast(qapp, palette) -> None:
    p = palette()
    roles = QPalette.ColorRole
    for text, back in ((roles.WindowText, roles.Window), (roles.Text, roles.Base),
                       (roles.ButtonText, roles.Button), (roles.HighlightedText, roles.Highlight),
                       (roles.ToolTipText, roles.ToolTipBase)):
        ratio = contrast(p.color(text).name(), p.color(back).name())
        assert ratio >= 4.5, (text, back, ratio)
    assert contrast(p.color(roles.PlaceholderText).name(), p.color(roles.Base).name()) >= 4.5


def test_dark_chips_are_distinguishable_on_the_dark_window(qapp) -> None:
    window = dark_palette().color(QPalette.ColorRole.Window).name()
    fills = [bg for _fg, bg in LEVEL_COLOURS_DARK.values()]
    assert len(set(fills)) == len(fills)
    for fg, _bg in LEVEL_COLOURS_DARK.values():
        assert contrast(fg, window) >= 4.5
    assert set(LEVEL_CHART_FILLS) == set(LEVEL_COLOURS_LIGHT) == set(LEVEL_COLOURS_DARK)


@pytest.mark.parametrize(
    ("preference", "platform", "scheme", "env", "dark"),
    [
        ("auto", "offscreen", "dark", {"GTK_THEME": "Adwaita:dark"}, False),
        ("auto", "minimal", None, {}, False),
        ("dark", "offscreen", None, {}, True),  # an explicit choice wins everywhere
        ("light", "xcb", "dark", {}, False),
        ("auto", "xcb", "dark", {}, True),
        ("auto", "wayland", "light", {"GTK_THEME": "Adwaita:dark"}, False),  # Qt knows: Qt wins
        ("auto", "xcb", None, {"GTK_THEME": "Adwaita:dark"}, True),
        ("auto", "xcb", None, {"GTK_THEME": "Yaru-dark"}, True),
        ("auto", "xcb", None, {"GTK_THEME": "Adwaita"}, False),
        ("auto", "xcb", None, {"GTK_THEME": "Darkly"}, False),  # a word containing "dark"
        ("auto", "xcb", None, {"QT_STYLE_OVERRIDE": "kvantum-dark"}, True),
        ("auto", "windows", None, {}, False),
        ("bogus", "xcb", "dark", {}, True),  # an unknown preference means auto
    ],
)
def test_prefers_dark(preference, platform, scheme, env, dark) -> None:
    assert prefers_dark(preference, platform, scheme, env) is dark


def test_offscreen_stays_light_and_a_forced_dark_switches_chips(qtbot, qapp) -> None:
    from gui.widgets import LEVEL_COLOURS, LevelChip

    assert QApplication.platformName() == "offscreen"
    try:
        assert apply_theme(qapp, "auto") is False
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == "#f4f5f7"
        assert apply_theme(qapp, "dark") is True
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == "#202226"
        assert LEVEL_COLOURS["high"] == LEVEL_COLOURS_DARK["high"]
        chip = LevelChip()
        qtbot.addWidget(chip)
        chip.set_level("high")
        assert LEVEL_COLOURS_DARK["high"][1] in chip.styleSheet()
    finally:
        apply_theme(qapp, "light")
    assert LEVEL_COLOURS["high"] == LEVEL_COLOURS_LIGHT["high"]


def test_make_application_reads_the_preference(qapp, config_dir) -> None:
    import json

    from gui.app import make_application

    (config_dir / "settings.json").write_text(json.dumps({"colour_scheme": "dark"}))
    try:
        app = make_application(["probity"])
        assert app.palette().color(QPalette.ColorRole.Window).name() == "#202226"
    finally:
        apply_theme(qapp, "light")
