"""Rebuild Probity's embedded demo from the raw Diabetes 130-US hospitals CSV (UCI dataset 296).

What it makes (all under ``resources/``):

- ``demo/validation_predictions.parquet`` -- one row per validation encounter: the observed 30-day
  readmission (0/1), the demo model's predicted probability (4 decimals) and the three attributes
  the subgroup evaluation looks at (race, gender, age band). Compact (~0.2 MB) and byte-for-byte
  reproducible with the pinned pyarrow.
- ``demo/demo_model.json`` -- the facts a reviewer needs about the demo model: cohort flow,
  predictors, coefficients, the development cohort's demographics and performance figures.
- ``demo/demo.probity`` -- a complete assessment of the demo model, written through the document
  API (``assessment.document`` / ``assessment.storage``), with the evaluation computed by
  Probity's own engine from the shipped predictions file.
- ``examples/complete.probity`` and ``examples/incomplete.probity`` -- small files for
  ``python main.py judge``.

Why it is built this way: the demo must be a model a reviewer could really meet (a penalised
logistic regression on predictors available at discharge, split by patient so that no patient
sits on both sides), and everything it ships must be regenerable offline from the raw CSV by
anyone, with the same bytes. Run from the repository root::

    .venv/bin/python scripts/build_demo.py [--data PATH] [--resources DIR] [--predictions-only]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "diabetes130" / "diabetic_data.csv"
DEFAULT_RESOURCES = REPO_ROOT / "resources"
RAW_SHA256 = "0689e7ec031237dc63031b938805c48377748761a3b26acab621567afa24df97"

SEED = 296  # the UCI dataset id: fixed, so the split and the model never change
VALIDATION_FRACTION = 0.30
PREDICTIONS_NAME = "validation_predictions.parquet"
FACTS_NAME = "demo_model.json"
PROBABILITY_DECIMALS = 4
THRESHOLD = 0.15  # see choose_threshold_note(): roughly 1.5 x the 30-day readmission prevalence

# Discharge dispositions after which a readmission cannot happen (IDs_mapping.csv of the UCI
# archive): 11 expired, 13 hospice / home, 14 hospice / medical facility, 19-21 expired.
NO_READMISSION_POSSIBLE = {11: "expired", 13: "hospice", 14: "hospice", 19: "expired",
                           20: "expired", 21: "expired"}
CHILD_AGE_BANDS = ("[0-10)", "[10-20)")
AGE_BANDS = ("[20-30)", "[30-40)", "[40-50)", "[50-60)", "[60-70)", "[70-80)", "[80-90)",
             "[90-100)")

NUMERIC_PREDICTORS = ("time_in_hospital", "num_lab_procedures", "num_procedures",
                      "num_medications", "number_diagnoses")
COUNT_PREDICTORS = ("number_outpatient", "number_emergency", "number_inpatient")  # log1p
CATEGORICAL_PREDICTORS = ("age", "gender", "admission_type_id", "discharge_disposition_id",
                          "admission_source_id", "medical_specialty", "primary_diagnosis",
                          "A1Cresult", "max_glu_serum", "insulin", "metformin", "change",
                          "diabetesMed")
RARE_CATEGORY_MIN = 100  # categories seen in fewer development rows are pooled as "infrequent"

PREDICTOR_DESCRIPTIONS = {
    "age": "age band in 10-year bands (one-hot)",
    "gender": "recorded sex (Female/Male)",
    "admission_type_id": "admission type (emergency, urgent, elective, ...)",
    "discharge_disposition_id": "planned discharge disposition (home, SNF, home health, ...)",
    "admission_source_id": "admission source (ED, physician referral, transfer, ...)",
    "medical_specialty": "specialty of the admitting physician ('?' kept as 'not recorded')",
    "primary_diagnosis": "primary diagnosis grouped into 9 ICD-9 groups as in Strack et al. 2014",
    "A1Cresult": "HbA1c result during the stay (>8, >7, normal, not measured)",
    "max_glu_serum": "maximum serum glucose (>300, >200, normal, not measured)",
    "insulin": "insulin during the stay (no, steady, up, down)",
    "metformin": "metformin during the stay (no, steady, up, down)",
    "change": "any change of diabetes medication",
    "diabetesMed": "any diabetes medication prescribed",
    "time_in_hospital": "length of stay in days (1-14)",
    "num_lab_procedures": "number of laboratory tests",
    "num_procedures": "number of non-laboratory procedures",
    "num_medications": "number of distinct medications",
    "number_diagnoses": "number of diagnoses entered",
    "number_outpatient": "outpatient visits in the year before (log1p)",
    "number_emergency": "emergency visits in the year before (log1p)",
    "number_inpatient": "inpatient admissions in the year before (log1p)",
}


class BuildError(Exception):
    """The raw data are missing or not what the script expects."""


# --------------------------------------------------------------------------- data and cohort


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_raw(path: Path) -> pd.DataFrame:
    """Read the UCI CSV keeping every code as written ('?' stays '?', 'None' stays 'None')."""
    if not path.is_file():
        raise BuildError(f"{path}: not found; pass --data with the path to diabetic_data.csv")
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])


def icd9_group(code: str) -> str:
    """Group a primary ICD-9 code as Strack et al. (2014, Table 2) did."""
    if code == "?" or code == "":
        return "Missing"
    if code[0] in "VE":
        return "Other"
    value = float(code)
    if 390 <= value <= 459 or int(value) == 785:
        return "Circulatory"
    if 460 <= value <= 519 or int(value) == 786:
        return "Respiratory"
    if 520 <= value <= 579 or int(value) == 787:
        return "Digestive"
    if int(value) == 250:
        return "Diabetes"
    if 800 <= value <= 999:
        return "Injury"
    if 710 <= value <= 739:
        return "Musculoskeletal"
    if 580 <= value <= 629 or int(value) == 788:
        return "Genitourinary"
    if 140 <= value <= 239:
        return "Neoplasms"
    return "Other"


@dataclass(frozen=True)
class Cohort:
    """The eligible encounters plus the counts of the flow diagram."""

    frame: pd.DataFrame
    flow: dict[str, int]


def build_cohort(raw: pd.DataFrame) -> Cohort:
    """Apply the eligibility rules: adults, and only encounters after which readmission is possible."""
    flow: dict[str, int] = {"encounters_in_file": len(raw),
                            "patients_in_file": int(raw["patient_nbr"].nunique())}
    disposition = raw["discharge_disposition_id"].astype(int)
    died_or_hospice = disposition.isin(list(NO_READMISSION_POSSIBLE))
    flow["excluded_died_or_hospice"] = int(died_or_hospice.sum())
    child = raw["age"].isin(CHILD_AGE_BANDS) & ~died_or_hospice
    flow["excluded_age_under_20"] = int(child.sum())
    frame = raw.loc[~died_or_hospice & ~child].copy()
    flow["eligible_encounters"] = len(frame)
    flow["eligible_patients"] = int(frame["patient_nbr"].nunique())

    for column in ("encounter_id", "patient_nbr", *NUMERIC_PREDICTORS, *COUNT_PREDICTORS):
        frame[column] = frame[column].astype(np.int64)
    frame["readmitted_30d"] = (frame["readmitted"] == "<30").astype(np.int8)
    frame["primary_diagnosis"] = frame["diag_1"].map(icd9_group)
    frame["medical_specialty"] = frame["medical_specialty"].replace("?", "not recorded")
    frame = frame.sort_values("encounter_id", kind="stable").reset_index(drop=True)
    return Cohort(frame=frame, flow=flow)


def split_by_patient(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Development / validation indices with every patient's encounters on one side only."""
    from sklearn.model_selection import GroupShuffleSplit

    splitter = GroupShuffleSplit(n_splits=1, test_size=VALIDATION_FRACTION, random_state=SEED)
    dev_idx, val_idx = next(splitter.split(frame, groups=frame["patient_nbr"].to_numpy()))
    return np.sort(dev_idx), np.sort(val_idx)


# --------------------------------------------------------------------------- the model


def make_pipeline() -> Any:
    """Standardised numeric + log1p counts + one-hot categoricals -> L2 logistic regression.

    Predictors were chosen a priori (no univariable screening): patient characteristics,
    the index stay, prior utilisation and diabetes care, all known when the discharge plan is
    made. Race and payer are deliberately not predictors.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    counts = Pipeline([("log1p", FunctionTransformer(np.log1p, feature_names_out="one-to-one")),
                       ("scale", StandardScaler())])
    encoder = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=RARE_CATEGORY_MIN,
                            sparse_output=False)
    columns = ColumnTransformer(
        [("numeric", StandardScaler(), list(NUMERIC_PREDICTORS)),
         ("counts", counts, list(COUNT_PREDICTORS)),
         ("categorical", encoder, list(CATEGORICAL_PREDICTORS))],
        verbose_feature_names_out=True,
    )
    # Newton-Cholesky: exact second-order steps, converges in a handful of iterations for ~100
    # columns, so the result does not hinge on a loose stopping rule (reproducible to 1e-10).
    model = LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=100, tol=1e-10)
    return Pipeline([("columns", columns), ("model", model)])


def predictors(frame: pd.DataFrame) -> pd.DataFrame:
    data = frame[[*NUMERIC_PREDICTORS, *COUNT_PREDICTORS, *CATEGORICAL_PREDICTORS]].copy()
    for column in CATEGORICAL_PREDICTORS:
        data[column] = data[column].astype(str)
    return data


def fit_model(dev: pd.DataFrame) -> Any:
    pipeline = make_pipeline()
    pipeline.fit(predictors(dev), dev["readmitted_30d"].to_numpy())
    return pipeline


def coefficients(pipeline: Any) -> list[dict[str, Any]]:
    names = pipeline.named_steps["columns"].get_feature_names_out()
    model = pipeline.named_steps["model"]
    rows = [{"term": "(intercept)", "coefficient": round(float(model.intercept_[0]), 4)}]
    rows += [{"term": str(name), "coefficient": round(float(value), 4)}
             for name, value in zip(names, model.coef_[0], strict=True)]
    return rows


# --------------------------------------------------------------------------- performance


def auroc_hanley_mcneil(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """AUROC with the Hanley-McNeil (1982) 95% interval: cheap and adequate at these n."""
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y, p))
    n1, n0 = int(y.sum()), int(len(y) - y.sum())
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    se = np.sqrt((auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n0 - 1) * (q2 - auc**2))
                 / (n1 * n0))
    return {"value": round(auc, 4), "ci_low": round(auc - 1.96 * se, 4),
            "ci_high": round(auc + 1.96 * se, 4)}


def calibration(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Calibration slope and intercept (logistic recalibration, Cox 1958) and O/E ratio."""
    from scipy.optimize import minimize

    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    lp = np.log(clipped / (1 - clipped))

    def negloglik(params: np.ndarray) -> float:
        eta = params[0] + params[1] * lp
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta))

    slope_fit = minimize(negloglik, x0=np.array([0.0, 1.0]), method="BFGS")

    def negloglik_offset(params: np.ndarray) -> float:
        eta = params[0] + lp
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta))

    intercept_fit = minimize(negloglik_offset, x0=np.array([0.0]), method="BFGS")
    return {"calibration_slope": round(float(slope_fit.x[1]), 3),
            "calibration_intercept": round(float(intercept_fit.x[0]), 3),
            "oe_ratio": round(float(y.sum() / p.sum()), 3)}


def performance(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    y = y.astype(np.int64)
    pred = p >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = int(np.sum(~pred & (y == 0)))
    return {
        "n": len(y), "events": int(y.sum()), "prevalence": round(float(y.mean()), 4),
        "auroc": auroc_hanley_mcneil(y, p),
        "brier": round(float(np.mean((p - y) ** 2)), 4),
        **calibration(y, p),
        "threshold": threshold,
        "sensitivity": round(tp / (tp + fn), 4), "specificity": round(tn / (tn + fp), 4),
        "ppv": round(tp / (tp + fp), 4), "npv": round(tn / (tn + fn), 4),
        "flagged_share": round(float(pred.mean()), 4),
    }


def cross_validated_auroc(dev: pd.DataFrame) -> dict[str, Any]:
    """Internal validation within development data: 5-fold cross-validation grouped by patient."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    y = dev["readmitted_30d"].to_numpy()
    x = predictors(dev)
    folds = GroupKFold(n_splits=5)
    aucs = []
    for train, test in folds.split(x, y, groups=dev["patient_nbr"].to_numpy()):
        pipeline = make_pipeline().fit(x.iloc[train], y[train])
        aucs.append(float(roc_auc_score(y[test], pipeline.predict_proba(x.iloc[test])[:, 1])))
    return {"method": "5-fold cross-validation grouped by patient (GroupKFold)",
            "fold_auroc": [round(a, 4) for a in aucs], "mean_auroc": round(float(np.mean(aucs)), 4)}


# --------------------------------------------------------------------------- outputs


def predictions_frame(val: pd.DataFrame, probability: np.ndarray) -> pd.DataFrame:
    """The shipped columns: '?' race and 'Unknown/Invalid' gender become missing (null)."""
    race = val["race"].where(val["race"] != "?", None)
    gender = val["gender"].where(val["gender"].isin(["Female", "Male"]), None)
    return pd.DataFrame({
        "encounter_id": val["encounter_id"].to_numpy(),
        "readmitted_30d": val["readmitted_30d"].to_numpy(),
        "predicted_probability": np.round(probability, PROBABILITY_DECIMALS),
        "race": race.to_numpy(dtype=object),
        "gender": gender.to_numpy(dtype=object),
        "age_band": val["age"].to_numpy(dtype=object),
    })


def write_predictions(frame: pd.DataFrame, path: Path) -> str:
    """Write Parquet (zstd, dictionary-encoded strings): ~0.2 MB for ~29,000 rows.

    Parquet because Probity's importer reads it directly (gzip'd CSV it refuses), and because
    it keeps types: the outcome stays an integer, missing attributes stay null. No pandas
    metadata and no statistics are written, so the bytes depend only on the values and the
    pinned pyarrow version.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, schema=predictions_schema(), preserve_index=False)
    table = table.replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", use_dictionary=True, write_statistics=False)
    payload = sink.getvalue().to_pybytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return hashlib.sha256(payload).hexdigest()


def predictions_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("encounter_id", pa.int64()), ("readmitted_30d", pa.int8()),
                      ("predicted_probability", pa.float64()), ("race", pa.string()),
                      ("gender", pa.string()), ("age_band", pa.string())])


def demographics(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Counts per sex, age band and race of one cohort (encounters), in the file's own labels."""
    sex = frame["gender"].map(lambda g: g if g in ("Female", "Male") else "Not recorded")
    race = frame["race"].map(lambda r: "Not recorded" if r == "?" else r)
    return {
        "sex": {k: int(v) for k, v in sex.value_counts().sort_index().items()},
        "age_band": {band: int((frame["age"] == band).sum()) for band in AGE_BANDS},
        "race": {k: int(v) for k, v in race.value_counts().items()},
        "ethnicity": {"Not recorded": len(frame)},
    }


@dataclass(frozen=True)
class DemoBuild:
    """Everything the document step needs from the modelling step."""

    facts: dict[str, Any]
    predictions_path: Path
    predictions_sha256: str


def build_model_and_predictions(data_path: Path, resources: Path) -> DemoBuild:
    raw = read_raw(data_path)
    cohort = build_cohort(raw)
    dev_idx, val_idx = split_by_patient(cohort.frame)
    dev, val = cohort.frame.iloc[dev_idx], cohort.frame.iloc[val_idx]
    pipeline = fit_model(dev)
    p_dev = pipeline.predict_proba(predictors(dev))[:, 1]
    p_val = pipeline.predict_proba(predictors(val))[:, 1]

    shipped = predictions_frame(val, p_val)
    out = resources / "demo" / PREDICTIONS_NAME
    digest = write_predictions(shipped, out)
    rounded = shipped["predicted_probability"].to_numpy()

    flow = dict(cohort.flow)
    flow.update({
        "development_encounters": len(dev), "development_patients": int(dev["patient_nbr"].nunique()),
        "development_events": int(dev["readmitted_30d"].sum()),
        "validation_encounters": len(val), "validation_patients": int(val["patient_nbr"].nunique()),
        "validation_events": int(val["readmitted_30d"].sum()),
    })
    n_params = len(pipeline.named_steps["columns"].get_feature_names_out())
    facts: dict[str, Any] = {
        "schema": "probity-demo-facts/1",
        "source": {"file": data_path.name, "sha256": sha256_of(data_path),
                   "expected_sha256": RAW_SHA256},
        "split": {"method": "GroupShuffleSplit by patient_nbr", "validation_fraction":
                  VALIDATION_FRACTION, "seed": SEED},
        "flow": flow,
        "predictors": PREDICTOR_DESCRIPTIONS,
        "parameters": n_params,
        "events_per_parameter": round(flow["development_events"] / n_params, 1),
        "model": "LogisticRegression(C=1.0, L2 penalty, Newton-Cholesky) after standardisation; "
                 "one-hot categoricals with categories < 100 development rows pooled",
        "coefficients": coefficients(pipeline),
        "training_demographics": demographics(dev),
        "validation_demographics": demographics(val),
        "performance": {
            "apparent": performance(dev["readmitted_30d"].to_numpy(), p_dev, THRESHOLD),
            "internal_cv": cross_validated_auroc(dev),
            "validation": performance(val["readmitted_30d"].to_numpy(), rounded, THRESHOLD),
        },
        "predictions": {"file": PREDICTIONS_NAME, "sha256": digest, "rows": len(shipped),
                        "columns": list(shipped.columns)},
    }
    facts_path = resources / "demo" / FACTS_NAME
    facts_path.write_text(json.dumps(facts, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return DemoBuild(facts=facts, predictions_path=out, predictions_sha256=digest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="path to diabetic_data.csv (default: ../shared/data/diabetes130/)")
    parser.add_argument("--resources", type=Path, default=DEFAULT_RESOURCES,
                        help="resources folder to write into (default: the repository's)")
    parser.add_argument("--predictions-only", action="store_true",
                        help="only rebuild the model, predictions file and facts")
    args = parser.parse_args(argv)
    try:
        build = build_model_and_predictions(args.data, args.resources)
    except BuildError as exc:
        print(f"build_demo: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {build.predictions_path} (sha256 {build.predictions_sha256})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
