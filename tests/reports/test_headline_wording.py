"""The signed report's headline fairness measures say what the engine computed them over: for a
current result, the groups with sufficient data only, with the two groups that set each value
named and the groups left out listed; a stored result from before that restriction is introduced
as including every group (found by reading the demo report: the sentence once promised a
restriction the engine did not make)."""

from __future__ import annotations

import json

from report_helpers import all_text


def _summary(report_source: bytes) -> tuple[list[dict], dict]:
    result = (json.loads(report_source).get("evaluation") or {}).get("result") or {}
    return [x for x in result.get("summary") or [] if x.get("value") is not None], result


def test_headline_intro_matches_what_the_engine_computed(report_source, report_pages) -> None:
    text = " ".join(report_pages).replace("\n", " ")
    summary, _ = _summary(report_source)
    assert summary, "the fixture report must have headline measures for this test to mean anything"
    assert "Headline measures" in text
    restricted = any("excluded_groups" in x for x in summary)
    assert restricted, "the engine now restricts summary measures to groups with sufficient data"
    assert ("over groups with sufficient data" in text) == restricted
    assert ("groups with insufficient data included" in text) != restricted


def test_headline_measures_name_their_groups_and_leave_out_thin_ones(
    report_source, report_pdf
) -> None:
    summary, result = _summary(report_source)
    thin = {(g["attribute"], g["group"]) for g in result["groups"]
            if "insufficient_data" in (g.get("flags") or [])}
    assert thin, "the fixture must have a group with insufficient data"
    compact = all_text(report_pdf)
    for x in summary:
        assert len(x["set_by"]) == 2
        assert not {(x["attribute"], g) for g in x["set_by"]} & thin, x
        assert {(x["attribute"], g) for g in x["excluded_groups"]} >= {
            t for t in thin if t[0] == x["attribute"]}
        assert "".join(" vs ".join(x["set_by"]).split()) in compact
    left = [x for x in summary if x["excluded_groups"]]
    assert left and "leftoutoftheheadlinemeasures" in compact


def test_key_findings_mark_every_flagged_gap_of_a_thin_group(report_source, report_pdf) -> None:
    """A flagged disparity of a group (or reference) with insufficient data is listed with the
    mark in front, whole, however long the group's name (it was once clipped off)."""
    _, result = _summary(report_source)
    thin = {(g["attribute"], g["group"]) for g in result["groups"]
            if "insufficient_data" in (g.get("flags") or [])}
    marked = [d for d in result["disparities"] if d.get("flagged_adjusted")
              and ((d["attribute"], d["group"]) in thin
                   or (d["attribute"], d["reference"]) in thin)]
    assert marked, "the fixture must flag a gap of a group with insufficient data"
    compact = all_text(report_pdf)
    for d in marked:
        assert f"⚠insufficientdata:{d['group']}vs{d['reference']}" in compact, d
