"""Fixtures for the report tests: a complete assessment built through the document API, and
signing identities created in the per-test config folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from assessment.document import Assessment, Reviewer, SourceRef
from assessment.judgement import applicable_slots

INJECTION = '<b>bold</b> & <link href="http://evil.example/x">click</link> <img src="/etc/hostname"/>'
REVIEWER = Reviewer(name="Zoë Ωμέγα Иванова", role="Methodologist", organisation="Łódź Ωmega QA",
                    email="zoe@example.org")
PASSPHRASE = b"correct horse battery staple"


def make_full_doc(with_result: dict | None = None) -> Assessment:
    """Every applicable PROBAST 2019 slot answered with a distinct rationale and source."""
    doc = Assessment.new("probast-2019", reviewer=REVIEWER)
    doc.set_study_type("development_validation")
    inst = doc.instrument
    for f in inst.review_question:
        doc.set_field("review_question", f.id, f"Review {f.id}: adults ≥ 18 in Σ-hospital")
    slots = applicable_slots(inst, doc.study_type, doc.performance_types)
    for i, slot in enumerate(slots):
        q = inst.question(slot.question)
        value = "PN" if i == 3 else ("NI" if i == 5 else "Y" if "Y" in q.answers else q.answers[0])
        doc.set_answer(slot.key, value)
        text = INJECTION if i == 0 else f"Rationale {slot.key} number {i}: cohort Ωμέγα"
        doc.set_answer_rationale(slot.key, text)
        doc.set_answer_sources(slot.key, [SourceRef(document=f"Paper-{i}.pdf", page=f"p. {i + 2}")])
    from assessment.judgement import judge

    for d in judge(doc).domains:
        final = d.suggested or "low"
        doc.set_domain(d.key, final=final, rationale=f"Judgement rationale for {d.key}")
        if d.has_applicability:
            doc.set_domain(d.key, applicability="low",
                           applicability_rationale=f"Applicability rationale {d.key}")
    for fid, value in {"model_name": "Sepsis-Ω <Risk>", "model_version": "2.1 & beta",
                       "developer": "Acme Health", "intended_use": "Early warning in ED",
                       "outcome": "Sepsis within 48 h"}.items():
        doc.set_field("model_card", fid, value)
    doc.set_field("datasheet", "training_demographics",
                  {"sex": {"Female": 512, "Male": 488}, "age_band": {"18-44": 300, "45-64": 400,
                                                                     "65+": 300}})
    doc.set_reference_population({"sex": {"Female": 0.51, "Male": 0.49}})
    doc.set_notes("Notes with <i>markup</i> & Кириллица.")
    if with_result is not None:
        doc.set_evaluation({"source": "test"}, with_result)
    return doc


@pytest.fixture
def full_doc() -> Assessment:
    return make_full_doc()


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "pass.txt"
    path.write_bytes(PASSPHRASE + b"\n")
    return path


@pytest.fixture(scope="session")
def identity_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two reviewer identities (RSA 3072 and EC P-256), created once per session."""
    import os

    from reports.identity import create_identity

    folder = tmp_path_factory.mktemp("identities")
    old = os.environ.get("PROBITY_CONFIG_DIR")
    os.environ["PROBITY_CONFIG_DIR"] = str(folder / "cfg")
    try:
        first = create_identity("Zoë Ωμέγα Иванова", PASSPHRASE, role="Methodologist",
                                organisation="Łódź QA", out=folder / "first.p12")
        second = create_identity("Second Reviewer", PASSPHRASE, role="Statistician",
                                 organisation="Acme", out=folder / "second.p12",
                                 key_type="ec-p256")
    finally:
        if old is None:
            del os.environ["PROBITY_CONFIG_DIR"]
        else:
            os.environ["PROBITY_CONFIG_DIR"] = old
    return {"first": first, "second": second}
