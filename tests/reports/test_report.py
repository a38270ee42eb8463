"""The report states the whole assessment, safely: text, escaping, structure, fonts, attachment."""

from __future__ import annotations

import subprocess
import sys
from io import BytesIO

import pytest
from pypdf import PdfReader
from report_helpers import INJECTION, all_text, make_full_doc, squash

from assessment.judgement import applicable_slots, judge
from assessment.storage import loads
from reports.attachment import read_attachment
from reports.report import METRIC_LABELS, _fmt, build_report


@pytest.fixture(scope="module")
def doc_and_text(report_source: bytes, report_text: str):
    return loads(report_source), report_text


def test_every_answer_rationale_and_source_is_printed(doc_and_text) -> None:
    doc, text = doc_and_text
    labels = doc.instrument.answers
    slots = applicable_slots(doc.instrument, doc.study_type, doc.performance_types)
    assert len(slots) > 30
    for slot in slots:
        answer = doc.answer(slot.key)
        assert squash(f"{answer.value} — {labels[answer.value]}") in text, slot.key
        assert squash(answer.rationale) in text, slot.key
        for source in answer.sources:
            assert squash(f"{source.document}, {source.page}") in text
        assert squash(doc.instrument.question(slot.question).text) in text


def test_domain_judgements_and_rationales_are_printed(doc_and_text) -> None:
    doc, text = doc_and_text
    for d in judge(doc).domains:
        dj = doc.domain_judgement(d.key)
        assert squash(dj.rationale) in text
        if d.has_applicability:
            assert squash(dj.applicability_rationale) in text
    assert squash("Overall risk of bias") in text
    for field in ("Sepsis-Ω <Risk>", "2.1 & beta", "Acme Health", "Early warning in ED"):
        assert squash(field) in text


def test_every_metric_value_and_interval_is_printed(doc_and_text) -> None:
    doc, text = doc_and_text
    result = doc.evaluation.result_json()
    groups = [result["overall"], *result["groups"]]
    checked = 0
    for g in groups:
        assert squash(g["group"]) in text
        for metric, e in g["metrics"].items():
            assert squash(METRIC_LABELS[metric]) in text
            if e["value"] is None:
                assert squash(f"undefined: {e['reason']}") in text
                continue
            expected = _fmt(e["value"])
            if e["ci_low"] is not None:
                expected += f"[{_fmt(e['ci_low'])}, {_fmt(e['ci_high'])}]"
            assert squash(expected) in text, (g["group"], metric)
            checked += 1
    assert checked > 100
    for d in result["disparities"]:
        if d["difference"]["value"] is not None:
            assert squash(_fmt(d["difference"]["value"])) in text


def test_provenance_and_audit_are_printed(doc_and_text) -> None:
    doc, text = doc_and_text
    result = doc.evaluation.result_json()
    for value in (result["provenance"]["sha256"], "Bootstrapreplicates", "Seed",
                  "reportlab5.1.0", "pyHanko0.38.0"):
        assert squash(str(value)) in text
    assert squash("Appendix: audit log") in text
    assert squash(f"{len(doc.audit)} recorded changes") in text


def test_user_markup_prints_literally_and_opens_nothing(report_pdf: bytes, report_text) -> None:
    text = report_text
    assert squash(INJECTION) in text
    assert squash("Notes with <i>markup</i> & Кириллица.") in text
    reader = PdfReader(BytesIO(report_pdf))
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            assert annot.get_object()["/Subtype"] != "/Link"
        assert not page.images  # the <img src=/etc/hostname> was not loaded
    assert b"/URI" not in report_pdf and b"/Link" not in report_pdf


def test_page_x_of_y_outline_and_metadata(report_pdf: bytes, report_pages) -> None:
    reader = PdfReader(BytesIO(report_pdf))
    total = len(reader.pages)
    assert total >= 15
    for i, page in enumerate(report_pages, 1):
        assert squash(f"Page {i} of {total}") in squash(page)
    titles = [o.title for o in reader.outline if not isinstance(o, list)]
    for wanted in ("Cover", "Summary", "Subgroup evaluation", "Provenance", "Signatures"):
        assert wanted in titles
    pages = {o.title: reader.get_destination_page_number(o) for o in reader.outline
             if not isinstance(o, list)}
    assert pages["Cover"] == 0 < pages["Summary"] < pages["Provenance"] < pages["Signatures"]
    meta = reader.metadata
    assert meta.title.startswith("Risk-of-bias assessment: Sepsis-Ω")
    assert meta.author == "Zoë Ωμέγα Иванова"


def test_only_embedded_dejavu_fonts(report_pdf: bytes) -> None:
    reader = PdfReader(BytesIO(report_pdf))
    seen = set()
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font") or {}
        for font in fonts.values():
            font = font.get_object()
            seen.add(str(font["/BaseFont"]).split("+")[-1])
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font \
                else font
            descriptor = descendant.get("/FontDescriptor")
            assert descriptor is not None, font["/BaseFont"]
            assert "/FontFile2" in descriptor.get_object(), font["/BaseFont"]
    assert seen and all(name.startswith("DejaVuSans") for name in seen), seen


def test_long_tables_repeat_their_header(report_pages) -> None:
    header = squash("Difference [95% CI]Ratio [95% CI]Flag / note")
    pages = [i for i, p in enumerate(report_pages) if header in squash(p)]
    assert len(pages) >= 2 and pages == list(range(pages[0], pages[0] + len(pages)))


def test_attachment_is_the_source_file_byte_for_byte(report_source: bytes, report_pdf: bytes):
    attachment = read_attachment(report_pdf)
    assert attachment.data == report_source
    assert attachment.name == "full.probity"


def test_report_without_evaluation_and_unusual_names(tmp_path) -> None:
    doc = make_full_doc()
    doc.set_field("reviewer", "name", "李雷 Łukasz")
    info = build_report(doc, out_path=tmp_path / "r.pdf", signature_boxes=1)
    assert (tmp_path / "r.pdf").read_bytes() == info.data
    assert len(info.slots) == 1
    assert any("李" in w for w in info.warnings)  # CJK is not in DejaVu: reported, not hidden
    assert squash("No subgroup evaluation is attached") in all_text(info.data)


def test_charts_are_vector_drawings(report_info, report_text) -> None:
    # 2 forest plots + ROC and calibration for sex, age and sex×age
    assert report_info.charts == 8
    assert not any(page.images for page in PdfReader(BytesIO(report_info.data)).pages)
    text = report_text
    for title in ("Forest plot: AUROC by group", "ROC curves by sex", "Calibration by age"):
        assert squash(title) in text


def test_reports_package_never_imports_qt_and_cli_is_cheap() -> None:
    code = (
        "import sys, reports.cli\n"
        "heavy = [m for m in ('reportlab', 'pyhanko', 'cryptography', 'pandas')\n"
        "         if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "import reports.report, reports.signing, reports.verify, reports.identity, reports.charts\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'gui')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(_repo()))


def _repo():
    from pathlib import Path

    return Path(__file__).resolve().parents[2]


def test_probast_ai_report_shows_both_parts_and_performance_types() -> None:
    from assessment.document import Assessment, Reviewer

    doc = Assessment.new("probast-ai-2025", reviewer=Reviewer(name="Ana"))
    inst = doc.instrument
    doc.set_study_type("development_evaluation")
    doc.set_performance_types(["internal", "external"])
    slots = applicable_slots(inst, doc.study_type, doc.performance_types)
    for s in slots:
        q = inst.question(s.question)
        doc.set_answer(s.key, "PY" if "PY" in q.answers else q.answers[0])
        doc.set_answer_rationale(s.key, f"why {s.key}")
    info = build_report(doc, signature_boxes=3)
    text = all_text(info.data)
    assert len(info.slots) == 3
    for s in slots:
        assert squash(f"why {s.key}") in text
    labels = {p.id: p.label for p in inst.performance_types}
    assert any("@" in s.key for s in slots)
    assert squash(f"{labels['internal']}: PY") in text
    for part in inst.parts:
        assert squash(f"Signalling questions: {part.label}") in text
