"""The signed report must not claim that the headline fairness measures leave out groups with
insufficient data unless the engine's result says it left them out (found by reading the demo
report: the sentence promised a restriction the engine did not make)."""

from __future__ import annotations

import json


def test_headline_intro_matches_what_the_engine_computed(report_source, report_pages) -> None:
    text = " ".join(report_pages).replace("\n", " ")
    result = (json.loads(report_source).get("evaluation") or {}).get("result") or {}
    summary = [x for x in result.get("summary") or [] if x.get("value") is not None]
    assert summary, "the fixture report must have headline measures for this test to mean anything"
    assert "Headline measures" in text
    restricted = any("excluded_groups" in x for x in summary)
    assert ("over groups with sufficient data" in text) == restricted
    assert ("groups with insufficient data included" in text) != restricted
