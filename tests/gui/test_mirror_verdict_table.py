"""The app's disparity table shows a mirror pair's one verdict (issue 9, finding 1)."""

from __future__ import annotations

from assessment.evaluation.engine import evaluate
from assessment.evaluation.spec import EvaluationSpec
from gui.results.frames import disparities_frame
from tests.assessment.evaluation.test_mirror_verdicts import REF_A, _two_groups


def test_a_tnr_row_shows_fpr_flag_and_says_so() -> None:
    res = evaluate(_two_groups(fp=(50, 200)), EvaluationSpec(bootstrap=0, reference=REF_A))
    frame = disparities_frame(res, attribute="g").set_index("Metric")
    fpr, tnr = frame.loc["False positive rate (FPR)"], frame.loc["Specificity (TNR)"]
    assert fpr["Flagged"] == tnr["Flagged"] == "flagged"
    assert tnr["Reason"].startswith("judged on FPR, its mirror: ratio 4")
    assert tnr["Tolerance"] == "judged on FPR, its mirror: ratio outside [0.8, 1.25]"
