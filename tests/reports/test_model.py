"""The report model (reports/model.py): rows, staleness and status, asserted without a PDF.

The reproduction of issue 10: the datasheet says race {black: 500, white: 1500}, the data says
Black/White; the evaluation runs; then the datasheet is corrected to {black: 100, white: 1900}.
The report must show one row per group (the engine joins case-insensitively; so must the
report), the counts the evaluation used beside its flags, and a banner naming what changed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assessment.document import Assessment, Reviewer
from assessment.evaluation.engine import evaluate
from assessment.evaluation.io import prepare_input, read_table
from assessment.evaluation.mapping import ColumnMapping
from assessment.evaluation.record import document_demographics, evaluation_config, store_evaluation
from assessment.evaluation.representativeness import suggest_demographics_map
from assessment.evaluation.spec import EvaluationSpec
from assessment.judgement import judge
from assessment.storage import dumps, loads
from reports.model import (
    STALE_PREFIX,
    Signer,
    draft_status,
    report_model,
    report_warnings,
    signature_reason,
    stale_inputs,
)


def _run(doc: Assessment, csv_path) -> None:
    """What the GUI's Run does: the document's demographics into the spec, engine, store."""
    table = read_table(csv_path)
    mapping = ColumnMapping(label="y", score="p", attributes=["race"])
    inputs = prepare_input(table, mapping)
    training, population = document_demographics(doc)
    spec = EvaluationSpec(
        bootstrap=0,
        training_demographics=training,
        reference_population=population,
        demographics_map=suggest_demographics_map(["race"], {**population, **training}),
    )
    result = evaluate(inputs, spec, progress=lambda _f: None, cancelled=lambda: False)
    store_evaluation(doc, evaluation_config(table, mapping, spec, csv_path), result)


@pytest.fixture
def data_csv(tmp_path):
    rng = np.random.default_rng(10)
    n = 2000
    race = np.where(np.arange(n) < 500, "Black", "White")  # 25 % Black
    y = (rng.random(n) < 0.3).astype(int)
    p = np.clip(0.3 * y + rng.normal(0.35, 0.15, n), 0, 1).round(4)
    path = tmp_path / "validation.csv"
    pd.DataFrame({"y": y, "p": p, "race": race}).to_csv(path, index=False)
    return path


def _doc(training: dict[str, int]) -> Assessment:
    doc = Assessment.new("probast-2019", reviewer=Reviewer(name="Ana Silva", role="Methodologist"))
    doc.set_field("datasheet", "training_demographics", {"race": training})
    return doc


def test_reproduction_one_table_old_counts_and_banner(data_csv) -> None:
    doc = _doc({"black": 500, "white": 1500})
    _run(doc, data_csv)
    assert stale_inputs(doc) == []
    fresh = report_model(loads(dumps(doc))).table("race")
    assert [r.group for r in fresh.rows] == ["black", "white"]  # two rows, not four
    black = fresh.row("Black")
    assert (black.training_n, black.validation_n) == (500, 500)
    assert black.training_share == pytest.approx(0.25)
    assert black.validation_share == pytest.approx(0.25)
    assert black.flag is None  # 25 % vs 25 %

    doc.set_field("datasheet", "training_demographics", {"race": {"black": 100, "white": 1900}})
    snapshot = loads(dumps(doc))  # the report is built from the saved bytes
    model = report_model(snapshot)
    table = model.table("race")
    assert len(table.rows) == 2
    black = table.row("black")
    # The counts beside the flags are the ones the flags were computed from ...
    assert (black.training_n, black.validation_n, black.flag) == (500, 500, None)
    # ... and the summary says the evaluation no longer matches the datasheet.
    assert model.stale == ("training demographics (race) changed in the datasheet",)
    assert model.stale_banner is not None
    assert model.stale_banner.startswith(STALE_PREFIX + "training demographics (race)")
    assert any(w.startswith(STALE_PREFIX) for w in model.warnings)

    _run(doc, data_csv)  # re-run: current again, and the engine's own rule now flags Black
    model = report_model(loads(dumps(doc)))
    assert model.stale == () and model.stale_banner is None
    black = model.table("race").row("Black")
    assert black.training_n == 100
    assert black.training_share == pytest.approx(0.05)
    assert black.flag == "over_represented"


def test_reference_population_map_and_mapping_changes_are_named(data_csv) -> None:
    doc = _doc({"black": 500, "white": 1500})
    doc.set_reference_population({"race": {"Black": 0.2, "White": 0.8}})
    _run(doc, data_csv)
    assert stale_inputs(doc) == []
    doc.set_reference_population({"race": {"Black": 0.3, "White": 0.7}})
    assert stale_inputs(doc) == ["reference population (race) changed"]
    # Schema 2 stores the mapping and settings once, in the record: the run's own, so a
    # "stored settings differ from the result's" state (schema 1) cannot arise any more.
    record = doc.evaluation
    assert record is not None and record.result is not None
    assert record.mapping == record.result.provenance["mapping"]
    assert record.spec == record.result.evaluation_spec()
    doc.set_field("datasheet", "training_demographics", {"race": {"black": 1, "white": 3}})
    assert stale_inputs(doc) == [
        "training demographics (race) changed in the datasheet",
        "reference population (race) changed",
    ]


def test_open_items_count_every_unanswered_question() -> None:
    doc = Assessment.new("probast-2019")
    doc.set_study_type("development_validation")
    j = judge(doc)
    n_questions = len(j.unanswered)
    assert n_questions > 15
    applicability = sum(1 for d in j.domains if d.has_applicability)
    assert j.open_items == n_questions + applicability  # not "1 + 3 open items"
    model = report_model(doc, signer=Signer("Ana Silva", "Methodologist", "St Elsewhere"))
    assert model.open_items == j.open_items and not model.complete
    assert model.status.startswith(f"Draft — incomplete ({j.open_items} open items)")
    assert signature_reason(doc, "Approved") == f"{draft_status(j.open_items)}: Approved"
    assert draft_status(1) == "draft — incomplete (1 open item)"
    assert model.signed_by is not None
    assert model.signed_by.describe() == "Ana Silva, Methodologist, St Elsewhere"
    assert any(f"{j.open_items} open items" in w for w in report_warnings(doc))


def test_complete_assessment_has_no_warnings_and_plain_reason() -> None:
    from report_helpers import make_full_doc

    doc = make_full_doc()
    assert judge(doc).complete
    assert signature_reason(doc, "Approved") == "Approved"
    assert report_warnings(doc) == []


def test_font_warning_names_the_missing_characters() -> None:
    doc = Assessment.new("probast-2019", reviewer=Reviewer(name="Ana 𓂀 Silva"))
    warnings = report_warnings(doc)
    assert any("𓂀" in w and "bundled font" in w for w in warnings)


def test_pdf_carries_banner_cover_names_and_draft_reason(data_csv, tmp_path, identity_files):
    """The renderer prints what the model says (one PDF check; the rows are asserted above)."""
    from report_helpers import PASSPHRASE, all_text, squash

    from reports.identity import load_identity
    from reports.report import build_report
    from reports.signing import sign_pdf
    from reports.verify import verify_file

    doc = _doc({"black": 500, "white": 1500})
    _run(doc, data_csv)
    doc.set_field("datasheet", "training_demographics", {"race": {"black": 100, "white": 1900}})
    raw = dumps(doc)
    signer = Signer("Bea Costa", "Statistician", "Clinic QA")
    info = build_report(loads(raw), source_bytes=raw, source_name="s.probity", signer=signer)
    assert info.model is not None
    text = all_text(info.data)
    assert squash(STALE_PREFIX + "training demographics (race)") in text
    assert squash("Assessed by") + squash("Ana Silva, Methodologist") in text
    assert squash("Signed by") + squash("Bea Costa, Statistician, Clinic QA") in text
    assert squash(draft_status(info.model.open_items)).capitalize() in text
    identity = load_identity(identity_files["second"], PASSPHRASE)
    reason = info.model.signature_reason("Approved")
    out = tmp_path / "r.pdf"
    out.write_bytes(sign_pdf(info.data, identity, reason=reason, location="").data)
    assert reason == f"{draft_status(info.model.open_items)}: Approved"
    check = verify_file(out).signatures[0]
    assert check.intact and check.valid  # (trust in a self-signed key is the reader's choice)


def test_typed_result_queries_match_the_stored_snapshot(data_csv) -> None:
    from assessment.evaluation.result import EvaluationResult

    doc = _doc({"black": 100, "white": 1900})
    _run(doc, data_csv)
    raw = doc.evaluation.result_json()
    result = EvaluationResult.from_json(raw)
    assert [(d.group, d.metric) for d in result.flagged()] == [
        (d["group"], d["metric"]) for d in raw["disparities"] if d["flagged"]
    ]
    assert [g.group for g in result.insufficient()] == [
        g["group"] for g in raw["groups"] if "insufficient_data" in g["flags"]
    ]
    rows = result.representativeness_of("race")
    # 25 % vs 5 % and 75 % vs 95 % (ratio 0.79 < 0.8)
    assert [(r.group, r.flag) for r in rows] == [
        ("Black", "over_represented"), ("White", "under_represented")
    ]
    assert result.evaluation_spec().training_demographics == {
        "race": {"black": 100.0, "white": 1900.0}
    }


@pytest.mark.parametrize("name", ["demo/demo.probity", "examples/complete.probity",
                                  "examples/incomplete.probity"])
def test_shipped_assessments_are_current_and_their_tables_join(name) -> None:
    from pathlib import Path

    from assessment.storage import load

    doc = load(Path(__file__).resolve().parents[2] / "resources" / name)
    model = report_model(doc)
    assert model.stale == ()  # the shipped evaluations match their datasheets
    for table in model.demographics:
        keys = [r.group.casefold() for r in table.rows]
        assert len(keys) == len(set(keys)), table  # one row per group, however spelled
