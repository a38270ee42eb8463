"""The PDF states a mirror metric's verdict as its primary's (issue 9, finding 1): in the disparity
tables a flagged TNR or FNR row says "judged on FPR/TPR, its mirror"; the key findings list a
mirror pair once, on its primary, naming the mirror, and count it once."""

from __future__ import annotations

from report_helpers import all_text, engine_result, make_full_doc

from assessment.evaluation.mirrors import MIRRORS
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
    assert "⚑flagged(judgedon" in text  # the disparity tables
    for d in mirrors:
        primary = {"tnr": "FPR", "fnr": "TPR"}[d.metric]
        assert f"⚑flagged(judgedon{primary},itsmirror)" in text
    # key findings: each pair once, on its primary, naming the mirror; the count says so
    distinct = [d for d in typed.flagged_adjusted() if d.metric not in MIRRORS]
    raw = [d for d in typed.flagged() if d.metric not in MIRRORS]
    assert f"{len(distinct)}flaggeddisparitiesafterthe" in text
    assert f"({len(raw)}onunadjustedintervals)" in text
    assert "(oneverdictwithitsmirrorTNR)" in text or "(oneverdictwithitsmirrorFNR)" in text
    findings = text.split("Keysubgroupfindings", 1)[1].split("groupswithinsufficientdata", 1)[0]
    assert "(judgedonFPR,itsmirror)" not in findings
    assert "(judgedonTPR,itsmirror)" not in findings
