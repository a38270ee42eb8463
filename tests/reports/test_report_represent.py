"""The report shows the reference population's source, the group-label map the evaluation used
(and unmapped values), the UBR characteristics and checklist, and 'not collected' on the
summary page."""

from __future__ import annotations

from io import BytesIO

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from assessment.document import Assessment
from assessment.evaluation.engine import evaluate
from assessment.evaluation.mapping import ColumnMapping, prepare_input
from assessment.evaluation.spec import EvaluationSpec
from assessment.populations import load_population
from reports.report import build_report
from tests.reports.report_helpers import squash


def _pages(pdf: bytes) -> list[str]:
    return [squash(p.extract_text()) for p in PdfReader(BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def pages() -> list[str]:
    return _pages(make_doc_pdf())


def make_doc_pdf() -> bytes:
    return build_report(make_doc(), signature_boxes=1).data


def make_doc() -> Assessment:
    census = load_population("us-census-2020")
    doc = Assessment.new()
    doc.set_field("model_card", "model_name", "Recidivism")
    training = {"race": {"White": 600, "Black or African American": 300, "Asian": 100}}
    doc.set_field("datasheet", "training_demographics", training)
    doc.set_field("datasheet", "ubr_characteristics", {
        "income": {"collected": False}, "geography": {"collected": False},
        "age": {"collected": True, "known_n": 1000, "ubr_n": 150}})
    doc.set_field("datasheet", "ml_friendly_checklist", {"provenance": "partly"})
    doc.set_reference_population(census.shares())
    doc.set_reference_population_source(census.source_record())
    group_map = {"race": {"Caucasian": "White", "African-American": "Black or African American"}}
    doc.set_group_maps(group_map)
    rng = np.random.default_rng(2)
    n = 800
    race = rng.choice(["Caucasian", "African-American", "Asian", "Hispanic"], n,
                      p=[0.55, 0.3, 0.1, 0.05])
    y = (rng.random(n) < 0.3).astype(int)
    frame = pd.DataFrame({"y": y, "p": np.clip(0.3 * y + rng.normal(0.35, 0.15, n), 0, 1),
                          "race": race})
    mapping = ColumnMapping(label="y", score="p", threshold=0.5, attributes=["race"])
    spec = EvaluationSpec(bootstrap=0, training_demographics=training,
                          reference_population=census.shares(), group_map=group_map)
    result = evaluate(prepare_input(frame, mapping), spec)
    doc.set_evaluation({"spec": spec.to_json(), "mapping": mapping.to_json()}, result.to_json())
    return doc


def test_summary_page_names_what_was_not_collected(pages: list[str]) -> None:
    summary = next(p for p in pages if squash("Key subgroup findings") in p)
    assert squash("Training data: not collected: Income, Geography (rurality)") in summary


def test_ubr_table_and_checklist(pages: list[str]) -> None:
    text = "".join(pages)
    assert squash("Under-represented in biomedical research (All of Us categories)") in text
    assert squash("150 of 1,000 (15.0%)") in text
    assert squash("ML-friendly dataset criteria") in text and "Provenancepartly" in text
    assert squash("Mapes BM") in text


def test_population_source_and_group_map(pages: list[str]) -> None:
    text = "".join(pages)
    assert squash("Reference population: United States resident population, 2020 Census") in text
    assert squash("Table P1: Race") in text
    assert squash("CaucasianWhite") in text
    assert squash("African-AmericanBlack or African American") in text
    assert squash("Hispanic(unmapped: not compared)") in text
    share = load_population("us-census-2020").shares()["race"]["White"]
    assert squash(f"{share:.1%}") in text  # the census share in the demographics table


def test_a_map_changed_after_the_run_is_pointed_out(pages: list[str]) -> None:
    assert squash("has changed since this evaluation ran") not in "".join(pages)
    doc = make_doc()
    doc.set_group_maps({"race": {"Caucasian": "White"}})
    text = "".join(_pages(build_report(doc, signature_boxes=1).data))
    assert squash("has changed since this evaluation ran") in text
