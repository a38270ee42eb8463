"""Issue 10: the report reads the typed evaluation result (its dataclasses and query methods),
not the result's JSON walked key by key."""

from __future__ import annotations

import ast
from pathlib import Path

from report_helpers import engine_result

from assessment.evaluation.result import EvaluationResult, MetricValue, SummaryMeasure
from reports.report_base import _ci

ROOT = Path(__file__).resolve().parents[2]


def test_report_evaluation_walks_no_result_json() -> None:
    """No ``.get(`` (dict walking) in the evaluation sections; the only subscripts with string
    keys are the point lists of a typed curve."""
    source = (ROOT / "reports" / "report_evaluation.py").read_text(encoding="utf-8")
    assert ".get(" not in source
    keys = {node.slice.value for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)}
    assert keys <= {"fpr", "tpr", "mean_predicted", "observed"}


def test_sections_read_the_typed_result(full_doc) -> None:
    import datetime as dt

    from assessment.judgement import judge
    from reports.fonts import register_fonts
    from reports.layout import make_styles
    from reports.report_evaluation import EvaluationSections

    register_fonts()
    doc = full_doc
    doc.set_evaluation({"source": "test"}, engine_result())
    assert doc.evaluation is not None
    sections = EvaluationSections(doc, judge(doc), make_styles(), "0" * 64, "x.probity",
                                  dt.datetime.now(dt.UTC), None)  # type: ignore[arg-type]
    assert sections.result is doc.evaluation.result
    assert isinstance(sections.result, EvaluationResult)
    assert sections.key_findings() and sections.subgroups() and sections.provenance()


def test_query_methods_the_report_uses() -> None:
    r = EvaluationResult.from_json(engine_result())
    assert r.flagged_adjusted() == [d for d in r.disparities if d.flagged_adjusted]
    assert r.source("rows_read") == r.provenance["rows_read"]
    assert r.source("no such key") is None
    assert r.method("no such method") is None
    g = r.groups[0]
    assert g.metric_or_none("no such metric") is None
    assert g.metric_or_none("tpr") is g.metrics["tpr"]
    assert g.curve("no such curve") is None
    assert (g.curve("roc") is not None) == bool(g.curves.get("roc"))


def test_ci_of_typed_estimates() -> None:
    assert _ci(None) == "—"
    assert _ci(MetricValue(value=None, reason="x")) == "—"
    assert _ci(MetricValue(value=0.5)) == "0.500"
    assert _ci(MetricValue(value=0.5, ci_low=0.25, ci_high=0.75)) == "0.500 [0.250, 0.750]"
    s = SummaryMeasure(attribute="sex", measure="m", value=0.1, ci_low=None, ci_high=None,
                       method="", reason="bootstrap disabled (B = 0)")
    assert _ci(s) == "0.100"
