"""Builders shared by the report tests: a complete assessment made through the document API,
a real engine result, and PDF text extraction."""

from __future__ import annotations

from assessment.document import Assessment, Reviewer, SourceRef
from assessment.judgement import applicable_slots

INJECTION = ('<b>bold</b> & <link href="http://evil.example/x">click</link> '
             '<img src="/etc/hostname"/>')
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


def engine_result(rows: int = 1500, seed: int = 4) -> dict:
    """A real probity-evaluation/1 result computed by the engine on synthetic data with group
    differences, an intersection and a tiny group (so flags and undefined values occur)."""
    import numpy as np
    import pandas as pd

    from assessment.evaluation.engine import evaluate
    from assessment.evaluation.mapping import ColumnMapping, prepare_input
    from assessment.evaluation.spec import EvaluationSpec

    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], rows, p=[0.55, 0.45])
    age = rng.choice(["18-44", "45-64", "65+", "Ωμέγα-group"], rows, p=[0.3, 0.4, 0.29, 0.01])
    y = rng.random(rows) < np.where(sex == "Male", 0.3, 0.2)
    # the tiny group is scored much higher, so its selection-rate/FPR gap is real and flagged by the
    # analytic (Newcombe/Katz) intervals despite its few rows
    score = np.clip(0.25 * y + rng.normal(0.3, 0.15, rows) + (age == "65+") * 0.05
                    + (age == "Ωμέγα-group") * 0.4, 0, 1)
    frame = pd.DataFrame({"y": y.astype(int), "p": score.round(4), "sex": sex, "age": age})
    mapping = ColumnMapping(label="y", score="p", threshold=0.4, attributes=["sex", "age"])
    inputs = prepare_input(frame, mapping)
    spec = EvaluationSpec(threshold=0.4, intersections=(("sex", "age"),), bootstrap=200, seed=3,
                          training_demographics={"sex": {"Female": 512, "Male": 488}},
                          reference_population={"sex": {"Female": 0.51, "Male": 0.49}})
    return evaluate(inputs, spec).to_json()


def all_text(pdf: bytes) -> str:
    """Text of every page with all whitespace removed (cells wrap text at arbitrary points)."""
    from io import BytesIO

    from pypdf import PdfReader

    reader = PdfReader(BytesIO(pdf))
    return squash("".join(page.extract_text() for page in reader.pages))


def squash(text: str) -> str:
    return "".join(text.split())
