"""The report lists the evidence assessed (title, file, full SHA-256, pages) and prints each
answer's sources as "title, p. N — “quote”", with the document's current title."""

from __future__ import annotations

import hashlib
from pathlib import Path

from report_helpers import all_text, squash

from assessment import evidence, storage
from assessment.document import Assessment, Reviewer, SourceRef
from reports.report import build_report
from tests.evidence_helpers import SUBMISSION_PAGES, make_pdf


def _doc_with_evidence(tmp_path: Path) -> tuple[Assessment, evidence.EvidenceDocument]:
    doc = Assessment.new("probast-2019", reviewer=Reviewer(name="Ada Reviewer"))
    doc.set_study_type("validation")
    path = tmp_path / "study.probity"
    storage.save(doc, path)
    pdf = make_pdf(tmp_path / "dossier_v2.pdf", SUBMISSION_PAGES, title="Vendor dossier")
    entry, _ = evidence.attach(doc, path, pdf)
    doc.set_answer("1.1@validation", "Y")
    doc.set_answer_sources("1.1@validation", [
        evidence.evidence_ref(entry, 2, "enrolled consecutively at three hospitals"),
        SourceRef("Smith 2020", "p. 4"),
    ])
    return doc, entry


def test_evidence_assessed_and_quoted_sources_are_printed(tmp_path: Path) -> None:
    doc, entry = _doc_with_evidence(tmp_path)
    evidence.rename(doc, entry.sha256, "ReadmitRisk submission")  # the current title prints
    text = all_text(build_report(doc, signature_boxes=1).data)
    assert squash("Evidence assessed") in text
    assert entry.sha256 in text
    assert entry.sha256 == hashlib.sha256((tmp_path / "dossier_v2.pdf").read_bytes()).hexdigest()
    assert squash("ReadmitRisk submission dossier_v2.pdf") in text
    assert squash("ReadmitRisk submission, p. 2 — “enrolled consecutively at three hospitals”;"
                  " Smith 2020, p. 4") in text


def test_a_report_without_evidence_has_no_evidence_list(tmp_path: Path) -> None:
    doc = Assessment.new("probast-2019")
    doc.set_study_type("validation")
    doc.set_answer_sources("1.1@validation", [SourceRef("Smith 2020", "p. 4")])
    text = all_text(build_report(doc, signature_boxes=1).data)
    assert squash("Evidence assessed") not in text
    assert squash("Smith 2020, p. 4") in text
