"""The About box states each instrument's sources as they are: citation, licence, the overall
wording source, and per signalling question its confidence tag and wording source, read from
the instrument JSON and resources/LICENSES/INSTRUMENTS.md (a second, independent reading here)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gui.dialogs import AboutDialog, about_html, confidence_tags, verification_log_heading

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
CHECK_OUTCOME = "could not be checked against the primary; wording unchanged"


def instrument_json(name: str) -> dict:
    return json.loads((RESOURCES / "instruments" / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def about(qtbot) -> AboutDialog:
    from gui.context import AppContext

    dialog = AboutDialog(AppContext())
    qtbot.addWidget(dialog)
    return dialog


@pytest.mark.parametrize("name", ["probast-2019", "probast-ai-2025"])
def test_every_item_is_listed_with_its_tag_and_source(about, name) -> None:
    data = instrument_json(name)
    text = about.text()
    flat = re.sub(r"\s+", " ", text)
    for citation in data["citation"]:
        assert citation in flat
    assert data["licence"] in flat and data["wording_source"] in flat
    questions = [q for part in data["parts"] for d in part["domains"] for q in d["questions"]]
    assert questions
    # independent grouping of the JSON: items sharing tag and source share one row
    groups: dict[tuple[str, str], list[str]] = {}
    for q in questions:
        groups.setdefault((q["confidence"], q["wording_source"]), []).append(q["id"])
    for (tag, source), ids in groups.items():
        row = f"{', '.join(ids)} {tag} {source} {CHECK_OUTCOME}"
        assert re.sub(r"\s+", " ", row) in flat, ids
    tags = {q["confidence"] for q in questions}
    counts = ", ".join(f"{sum(q['confidence'] == t for q in questions)} {t}"
                       for t in sorted(tags))
    assert f"Signalling questions: {len(questions)} ({counts})." in flat


def test_tag_legend_and_log_come_from_instruments_md() -> None:
    notes = (RESOURCES / "LICENSES" / "INSTRUMENTS.md").read_text(encoding="utf-8")
    tags = confidence_tags()
    assert set(tags) == {"V", "S", "R", "D"}
    for tag, meaning in tags.items():
        assert f"| `{tag}` | {meaning} |" in notes
    heading = verification_log_heading()
    assert heading.startswith("Verification log") and f"## {heading}" in notes
    assert heading in re.sub(r"\s+", " ", about_html().replace("&ldquo;", "").replace(
        "&rdquo;", ""))


def test_about_text_is_escaped(monkeypatch) -> None:
    import gui.dialogs as dialogs

    monkeypatch.setattr(dialogs, "_demo_attribution", lambda: "<b>Demo</b> & data")
    assert "&lt;b&gt;Demo&lt;/b&gt; &amp; data" in about_html()
