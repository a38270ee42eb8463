"""When no group-versus-reference comparison has an interval and a p-value (e.g. a patient column
with two "patients"), the PDF says that no disparity could be judged instead of "No disparity was
flagged", which reads as a clean bill (issue 9 attack report, item 5)."""

from __future__ import annotations

from report_helpers import all_text, engine_result, make_full_doc

from reports.report import build_report


def test_no_comparison_judged_is_said(tmp_path) -> None:
    result = engine_result()
    for d in result["disparities"]:
        d.update(p_value=None, p_adjusted=None, flagged=False, flagged_adjusted=False)
        for part in ("difference", "ratio"):
            d[part].update(ci_low=None, ci_high=None)
    build_report(make_full_doc(result), out_path=tmp_path / "r.pdf", signature_boxes=1)
    text = all_text((tmp_path / "r.pdf").read_bytes())
    assert "Nodisparitycouldbejudged" in text
    assert "Nodisparitywasflagged" not in text

