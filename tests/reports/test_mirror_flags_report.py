"""The PDF states a mirror metric's verdict as its primary's (issue 9, finding 1): a flagged TNR or
FNR row says "judged on FPR/TPR, its mirror", in the key findings and the disparity tables."""

from __future__ import annotations

from report_helpers import all_text, engine_result, make_full_doc

from assessment.evaluation.result import EvaluationResult
from reports.report import build_report


def test_flagged_mirror_rows_say_which_member_judged_them(tmp_path) -> None:
    result = engine_result()
    typed = EvaluationResult.from_json(result)
    mirrors = [d for d in typed.flagged_adjusted() if d.metric in ("tnr", "fnr")]
    assert mirrors, "the helper's data must flag a mirror pair for this test to mean anything"
    doc = make_full_doc(result)
    info = build_report(doc, out_path=tmp_path / "r.pdf", signature_boxes=1)
    text = all_text((tmp_path / "r.pdf").read_bytes())
    assert info is not None
    for d in mirrors:
        primary = {"tnr": "FPR", "fnr": "TPR"}[d.metric]
        assert f"(judgedon{primary},itsmirror)" in text
    assert "⚑flagged(judgedon" in text
