"""Pins the instrument wording verified on 2026-11-23, so that no edit can drift silently.

Every string below was compared on 2026-11-23 with the transcriptions named in
resources/LICENSES/INSTRUMENTS.md, section "Verification log (2026-11-23)". The primary PDFs were
not available to that check, so the confidence tags stay those of secondary transcriptions (V: two
independent transcriptions agree; S: one; R: Probity's recollection or paraphrase). Changing any
text, variant or tag here is deliberate: update the JSON, this file and the verification log
together, naming the document the new wording was checked against.
"""

from __future__ import annotations

import pytest

from assessment.instruments import Instrument, load_instrument

VERIFIED_ON = "2026-11-23"

# --------------------------------------------------------------------------- PROBAST 2019

# Form wording (PROBAST_20190515.pdf) as printed identically by abdelmoez/META-LAB probast.js and
# OHDSI/OhdsiReportGenerator R/PredictionQueries.R (3.5: META-LAB plus independent seed files).
PROBAST_2019_QUESTIONS: dict[str, str] = {
    "1.1": "Were appropriate data sources used, e.g. cohort, RCT or nested case-control study "
           "data?",
    "1.2": "Were all inclusions and exclusions of participants appropriate?",
    "2.1": "Were predictors defined and assessed in a similar way for all participants?",
    "2.2": "Were predictor assessments made without knowledge of outcome data?",
    "2.3": "Are all predictors available at the time the model is intended to be used?",
    "3.1": "Was the outcome determined appropriately?",
    "3.2": "Was a pre-specified or standard outcome definition used?",
    "3.3": "Were predictors excluded from the outcome definition?",
    "3.4": "Was the outcome defined and determined in a similar way for all participants?",
    "3.5": "Was the outcome determined without knowledge of predictor information?",
    "3.6": "Was the time interval between predictor assessment and outcome determination "
           "appropriate?",
    "4.1": "Were there a reasonable number of participants with the outcome?",
    "4.2": "Were continuous and categorical predictors handled appropriately?",
    "4.3": "Were all enrolled participants included in the analysis?",
    "4.4": "Were participants with missing data handled appropriately?",
    "4.5": "Was selection of predictors based on univariable analysis avoided?",
    "4.6": "Were complexities in the data (e.g. censoring, competing risks, sampling of controls) "
           "accounted for appropriately?",
    "4.7": "Were relevant model performance measures evaluated appropriately?",
    "4.8": "Were model overfitting and optimism in model performance accounted for?",
    "4.9": "Do predictors and their assigned weights in the final model correspond to the results "
           "from multivariable analysis?",
}

# Wordings printed in the Annals papers (E&E / statement), kept as variants: (text, confidence).
PROBAST_2019_VARIANTS: dict[str, tuple[str, str]] = {
    "1.1": ("Were appropriate data sources used, e.g., cohort, randomized controlled trial, or "
            "nested case\u2013control study data?", "S"),
    "3.2": ("Was a prespecified or standard outcome definition used?", "V"),
    "4.6": ("Were complexities in the data (e.g., censoring, competing risks, sampling of control "
            "participants) accounted for appropriately?", "V"),
    # "underfitting": quoted from the Wolff 2019 statement by one audit only; unconfirmed.
    "4.8": ("Were model overfitting, underfitting, and optimism in model performance accounted "
            "for?", "S"),
    "4.9": ("Do predictors and their assigned weights in the final model correspond to the results "
            "from the reported multivariable analysis?", "V"),
}

# domain -> (judgement prompt, applicability prompt or None, applicability describe or None)
PROBAST_2019_DOMAIN_PROMPTS: dict[str, tuple[str, str | None, str | None]] = {
    "D1": ("Risk of bias introduced by selection of participants",
           "Concern that the included participants and setting do not match the review question",
           "Describe included participants, setting and dates:"),
    "D2": ("Risk of bias introduced by predictors or their assessment",
           "Concern that the definition, assessment or timing of predictors in the model do not "
           "match the review question",
           None),
    "D3": ("Risk of bias introduced by the outcome or its determination",
           "Concern that the outcome, its definition, timing or determination do not match the "
           "review question",
           "At what time point was the outcome determined; if a composite outcome was used, "
           "describe the relative frequency/distribution of each contributing outcome:"),
    "D4": ("Risk of bias introduced by the analysis", None, None),
}

PROBAST_2019_DESCRIBE_D1_D3: dict[str, str] = {
    "D1": "Describe the sources of data and criteria for participant selection:",
    "D2": "List and describe predictors included in the final model, e.g. definition and timing "
          "of assessment:",
    "D3": "Describe the outcome, how it was defined and determined, and the time interval between "
          "predictor assessment and outcome determination:",
}

PROBAST_2019_OVERALL: dict[str, dict[str, str]] = {
    "rob": {
        "low": "If all domains were rated low risk of bias. If a prediction model was developed "
               "without any external validation, and it was rated as low risk of bias for all "
               "domains, consider downgrading to high risk of bias. Such a model can only be "
               "considered as low risk of bias, if the development was based on a very large data "
               "set and included some form of internal validation.",
        "high": "If at least one domain is judged to be at high risk of bias.",
        "unclear": "If an unclear risk of bias was noted in at least one domain and it was low "
                   "risk for all other domains.",
    },
    "applicability": {
        "low": "If low concerns regarding applicability for all domains.",
        "high": "If high concerns regarding applicability for at least one domain.",
        "unclear": "If unclear concerns (but no \"high concern\") regarding applicability for at "
                   "least one domain.",
    },
}

PROBAST_2019_SHADING_NOTE = (
    "Shaded boxes indicate where signalling questions do not apply and should not be answered.")

# Step 1 row labels: recalled, no transcription found; they must stay tagged R until checked.
PROBAST_2019_STEP1_LABELS: dict[str, str] = {
    "intended_use": "Intended use of the model",
    "participants": "Participants (selection criteria, setting)",
    "predictors": "Predictors (types of predictor, time of measurement, specific measurement "
                  "issues)",
    "outcome": "Outcome to be predicted",
}

# --------------------------------------------------------------------------- PROBAST+AI 2025

# Domains 1-3 are worded alike in both parts (ROADMAP lists them twice, prumo reuses one bank).
_PAI_D1_D3: dict[str, str] = {
    "1.1": "Were appropriate data sources used?",
    "1.2": "Was an appropriate study design used?",
    "1.3": "Did the in- and exclusions of study participants result in a representative dataset?",
    "2.1": "Were predictors defined and assessed in a similar way for all participants?",
    "2.2": "Was any pre-processing of predictors similar for all participants?",
    "2.3": "Were predictor assessments made without knowledge of outcome data?",
    "2.4": "Were the predictors included in the model available at the time the model was "
           "intended to be used?",
    "3.1": "Were outcomes defined and assessed appropriately?",
    "3.2": "Were outcomes defined and assessed in a similar way for all participants?",
    "3.3": "Were outcome assessments made without use or knowledge of predictor data?",
    "3.4": "Was the time interval between predictor assessment and outcome assessment "
           "appropriate?",
}

# cekahn/ROADMAP (ROADMAP.ttl, dcterms:source doi:10.1136/bmj-2024-082505) wording.
PROBAST_AI_QUESTIONS: dict[str, str] = {
    **{f"D-{k}": v for k, v in _PAI_D1_D3.items()},
    "D-4.1": "Was there evidence that the sample size was reasonable?",
    "D-4.2": "Were continuous and categorical predictors handled appropriately?",
    "D-4.3": "Were participants with missing or censored data handled appropriately in the "
             "analysis?",
    "D-4.4": "If methods to address class imbalance were used, was the model or the model "
             "predictions recalibrated?",
    "D-4.5": "Were methods used to address potential model overfitting?",
    **{f"E-{k}": v for k, v in _PAI_D1_D3.items()},
    "E-4.1": "Was model evaluation based on only apparent performance avoided?",
    "E-4.2": "Was there evidence that the sample size was reasonable?",
    "E-4.3": "Were participants with missing or censored data handled appropriately in the "
             "analysis?",
    "E-4.4": "If methods to address class imbalance were used, was the evaluation done in a "
             "dataset without imbalance correction?",
    "E-4.5": "If data splitting was done to create training and test datasets, was there evidence "
             "that data leakage was avoided?",
    "E-4.6": "If resampling methods were used to evaluate model performance, were all model "
             "development steps replicated in the resampling process?",
    "E-4.7": "Was the predictive performance of the model evaluated appropriately, e.g., "
             "calibration, discrimination, and net benefit?",
}

# raphaelfh/prumo's orthography where it differs from ROADMAP; unsettled until the primary is read.
_PRUMO_1_3 = ("Did the inclusions and exclusions of study participants result in a representative "
              "dataset?")
_PRUMO_2_2 = "Was any preprocessing of predictors similar for all participants?"
PROBAST_AI_VARIANTS: dict[str, tuple[str, str]] = {
    "D-1.3": (_PRUMO_1_3, "S"),
    "E-1.3": (_PRUMO_1_3, "S"),
    "D-2.2": (_PRUMO_2_2, "S"),
    "E-2.2": (_PRUMO_2_2, "S"),
    "E-4.4": ("If methods to address class imbalance were used, was the evaluation done in a "
              "dataset without correction for imbalance?", "S"),
    "E-4.7": ("Was the predictive performance of the model evaluated appropriately, for example, "
              "calibration, discrimination, and net benefit?", "S"),
}

_PAI_APPLICABILITY: dict[str, str] = {
    "D1": "Concern that the data of the included participants do not match the review question or "
          "the assessor's intended use of the prediction model",
    "D2": "Concern that the definition, preprocessing, assessment, or timing of assessment of the "
          "predictors in the model do not match the review question or the assessor's intended "
          "use",
    "D3": "Concern that the outcome, its definition, assessment, or timing of assessment do not "
          "match the review question or the assessor's intended use",
}

# (part, domain) -> judgement prompt (raphaelfh/prumo seed, single source)
PROBAST_AI_JUDGEMENT_PROMPTS: dict[tuple[str, str], str] = {
    ("development", "D1"): "Concern regarding quality of selection of participants and data "
                           "sources",
    ("development", "D2"): "Concern regarding the quality of the predictors or their assessment",
    ("development", "D3"): "Concern regarding quality of the outcome or its determination",
    ("development", "D4"): "Concern regarding quality of the analysis",
    ("evaluation", "D1"): "Risk of bias introduced by the selection of participants and data "
                          "sources",
    ("evaluation", "D2"): "Risk of bias introduced by the predictors or their assessment",
    ("evaluation", "D3"): "Risk of bias introduced by the outcome or its determination",
    ("evaluation", "D4"): "Risk of bias introduced by the analysis",
}

PROBAST_AI_RATIONALE_LABELS = {"development": "Rationale of quality rating",
                               "evaluation": "Rationale of risk of bias rating"}

PROBAST_AI_SUMMARY_LABELS = {
    "dev_quality": "Summary of quality of the model development",
    "eval_rob": "Summary of risk of bias of the model evaluation",
    "dev_applicability": "Summary of applicability of the model development",
    "eval_applicability": "Summary of applicability of the model evaluation",
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def probast() -> Instrument:
    return load_instrument("probast-2019")


@pytest.fixture(scope="module")
def pai() -> Instrument:
    return load_instrument("probast-ai-2025")


# --------------------------------------------------------------------------- PROBAST 2019 tests


def test_probast_2019_item_set_is_pinned(probast):
    assert [q.id for _, _, q in probast.iter_questions()] == list(PROBAST_2019_QUESTIONS)


@pytest.mark.parametrize("qid", list(PROBAST_2019_QUESTIONS))
def test_probast_2019_question_wording(probast, qid):
    question = probast.question(qid)
    assert question.text == PROBAST_2019_QUESTIONS[qid]
    assert question.confidence == "V"
    assert f"re-read {VERIFIED_ON}" in question.wording_source
    assert "META-LAB" in question.wording_source


def test_probast_2019_variants(probast):
    found = {q.id: [(v.text, v.confidence) for v in q.variants]
             for _, _, q in probast.iter_questions() if q.variants}
    assert found == {qid: [pinned] for qid, pinned in PROBAST_2019_VARIANTS.items()}
    for qid in PROBAST_2019_VARIANTS:
        (variant,) = probast.question(qid).variants
        assert VERIFIED_ON in variant.source, qid
        assert variant.text != probast.question(qid).text


def test_probast_2019_form_wording_has_no_underfitting(probast):
    # The form (two independent transcriptions and four further implementations) has no
    # "underfitting"; only the single-source Annals variant carries it.
    assert "underfitting" not in probast.question("4.8").text
    assert probast.question("4.8").variants[0].confidence == "S"


@pytest.mark.parametrize("domain_id", list(PROBAST_2019_DOMAIN_PROMPTS))
def test_probast_2019_domain_prompts(probast, domain_id):
    domain = probast.domain("main", domain_id)
    judgement, applicability, describe = PROBAST_2019_DOMAIN_PROMPTS[domain_id]
    assert domain.judgement_prompt == judgement
    assert domain.rationale_label == "Rationale of bias rating"
    if applicability is None:
        assert domain.applicability is None
    else:
        assert domain.applicability.prompt == applicability
        assert domain.applicability.describe == describe
    if domain_id in PROBAST_2019_DESCRIBE_D1_D3:
        assert domain.describe == (PROBAST_2019_DESCRIBE_D1_D3[domain_id],)
        assert domain.confidence == "S"
    else:
        # The Domain 4 describe boxes are Probity's paraphrase and must say so.
        assert domain.confidence == "R"
        assert "paraphrase" in (domain.wording_source or "")


def test_probast_2019_overall_rules_and_shading_note(probast):
    for rule_id, rules in PROBAST_2019_OVERALL.items():
        rule = probast.overall_rule(rule_id)
        assert dict(rule.rules) == rules
        assert rule.confidence == "S"
        assert VERIFIED_ON in (rule.wording_source or "")
    assert probast.study_type_note == PROBAST_2019_SHADING_NOTE
    shaded = {q.id for _, _, q in probast.iter_questions() if "validation" not in q.columns}
    assert shaded == {"4.5", "4.8", "4.9"}


def test_probast_2019_step1_labels_stay_recalled(probast):
    assert {r.id: r.label for r in probast.review_question} == PROBAST_2019_STEP1_LABELS
    for row in probast.review_question:
        assert row.confidence == "R", row.id
        assert "recalled" in (row.wording_source or ""), row.id


# --------------------------------------------------------------------------- PROBAST+AI tests


def test_probast_ai_item_set_is_pinned(pai):
    assert [q.id for _, _, q in pai.iter_questions()] == list(PROBAST_AI_QUESTIONS)
    assert len(PROBAST_AI_QUESTIONS) == 34


@pytest.mark.parametrize("qid", list(PROBAST_AI_QUESTIONS))
def test_probast_ai_question_wording(pai, qid):
    question = pai.question(qid)
    assert question.text == PROBAST_AI_QUESTIONS[qid]
    assert question.confidence == "V"
    assert f"re-read {VERIFIED_ON}" in question.wording_source
    assert "cekahn/ROADMAP" in question.wording_source
    assert "raphaelfh/prumo" in question.wording_source


def test_probast_ai_variants(pai):
    found = {q.id: [(v.text, v.confidence) for v in q.variants]
             for _, _, q in pai.iter_questions() if q.variants}
    assert found == {qid: [pinned] for qid, pinned in PROBAST_AI_VARIANTS.items()}
    for qid in PROBAST_AI_VARIANTS:
        (variant,) = pai.question(qid).variants
        assert variant.source.startswith("raphaelfh/prumo"), qid
        assert VERIFIED_ON in variant.source, qid
        assert "unsettled" in pai.question(qid).wording_source, qid


@pytest.mark.parametrize("key", list(PROBAST_AI_JUDGEMENT_PROMPTS))
def test_probast_ai_domain_prompts(pai, key):
    part_id, domain_id = key
    domain = pai.domain(part_id, domain_id)
    assert domain.judgement_prompt == PROBAST_AI_JUDGEMENT_PROMPTS[key]
    assert domain.rationale_label == PROBAST_AI_RATIONALE_LABELS[part_id]
    if domain_id == "D4":
        assert domain.applicability is None
        assert domain.confidence == "R"
    else:
        assert domain.applicability.prompt == _PAI_APPLICABILITY[domain_id]
        assert domain.confidence == "S"
    assert VERIFIED_ON in (domain.wording_source or "")


def test_probast_ai_step4_rules_stay_paraphrase(pai):
    # No verbatim transcription of the Step-4 tables was found: the texts are Probity's
    # paraphrase, tagged R, and no "consider downgrading" sentence was invented for them.
    assert {o.id: o.summary_label for o in pai.overall} == PROBAST_AI_SUMMARY_LABELS
    for rule in pai.overall:
        assert rule.confidence == "R", rule.id
        assert "paraphrase" in (rule.wording_source or ""), rule.id
        assert not any("downgrad" in text for text in rule.rules.values()), rule.id
    assert [p.id for p in pai.prompts] == ["copy_apparent"]


def test_instrument_level_sources_point_to_the_verification_log(probast, pai):
    for instrument in (probast, pai):
        assert f"Verification log ({VERIFIED_ON})" in instrument.wording_source


# --------------------------------------------------------------------------- re-check 2026-12-07

RECHECKED_ON = "2026-12-07"


def _log_rows(heading: str) -> dict[str, tuple[str, str]]:
    """Item -> (outcome, tag) from the per-item tables under ``heading`` in INSTRUMENTS.md."""
    from pathlib import Path

    notes = (Path(__file__).resolve().parents[2] / "resources" / "LICENSES"
             / "INSTRUMENTS.md").read_text(encoding="utf-8")
    section = notes.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("Item", "---"):
            rows[cells[0]] = (cells[1], cells[2])
    return rows


def test_recheck_outcome_is_recorded_for_every_item_with_its_current_tag(probast, pai):
    # The primaries were searched for again on 2026-12-07 and were still not readable: every
    # item is logged as "could not be checked", with the tag it keeps; no wording changed.
    rows = _log_rows(f"Verification log ({RECHECKED_ON})")
    items = [q for inst in (probast, pai) for _p, _d, q in inst.iter_questions()]
    assert len(items) == 54 and set(rows) == {q.id for q in items}
    for q in items:
        outcome, tag = rows[q.id]
        assert outcome == "could not be checked against the primary; wording unchanged", q.id
        assert tag == q.confidence, q.id
        assert f"again {RECHECKED_ON}" in q.wording_source, q.id
    for instrument in (probast, pai):
        assert f"Verification log ({RECHECKED_ON})" in instrument.wording_source
