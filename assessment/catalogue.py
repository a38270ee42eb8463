"""The one catalogue of Probity's vocabulary: metrics and the domain's words.

Every list and label table elsewhere (the engine's metric families, the GUI's combo boxes and
column headers, the CLI's table, the PDF's tables, the open dialog's filter, the drop handler, the
document validator) is a *view* of the tables here, so a label or an order is written once and is
the same on screen, on the command line and on paper.

Pure data and small lookups; imports nothing from Probity (every other module may import it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

# ----------------------------------------------------------------------------- metrics

Direction = Literal["higher", "lower", "target", "neutral"]
"""Which value is better: ``higher`` (AUROC, TPR), ``lower`` (FPR, Brier), closest to the
metric's ``target`` (O/E ratio 1, calibration intercept 0 and slope 1), or ``neutral`` where
neither is (prevalence, selection rate: descriptive)."""

Needs = Literal["label", "decision", "score", "probability"]
"""What the metric needs beyond the outcome: ``label`` nothing (prevalence), ``decision`` a
predicted class (a score with a threshold, or a predicted-label column), ``score`` a ranking
score (any scale), ``probability`` a predicted probability."""

IntervalFamily = Literal["wilson", "delong", "bootstrap"]
"""How the engine's confidence interval is computed (the exact method text is in the result)."""

ToleranceKind = Literal["ratio", "diff"]
"""How a gap against the reference is judged by default: a ratio band (rates that can be small)
or an absolute difference (metrics near a ceiling or on their own scale)."""


@dataclass(frozen=True)
class Metric:
    """One metric the engine computes, with everything the views need to show it."""

    id: str
    label: str
    short: str
    direction: Direction
    needs: Needs
    threshold_dependent: bool
    interval: IntervalFamily
    tolerance_kind: ToleranceKind | None
    """The default tolerance's kind; None: descriptive of the data, never flagged."""
    tolerance_limit: float | None = None
    """The default |difference| of a ``diff`` tolerance (ratio bands use :data:`RATIO_BAND`)."""
    target: float | None = None
    description: str = ""

    @property
    def higher_is_better(self) -> bool | None:
        """True/False for a monotone metric, None for a target metric (O/E, calibration)."""
        if self.direction in ("target", "neutral"):
            return None
        return self.direction == "higher"

    @property
    def ratio_meaningful(self) -> bool:
        """A ratio to the reference means something (not for signed log-odds quantities)."""
        return self.id not in ("calibration_intercept", "calibration_slope")


def _m(
    id: str,
    label: str,
    short: str,
    direction: Direction,
    needs: Needs,
    threshold: bool,
    interval: IntervalFamily,
    tolerance: ToleranceKind | float | None,
    description: str,
    target: float | None = None,
) -> Metric:
    """``tolerance``: "ratio" (the default band), a number (a difference limit) or None."""
    if isinstance(tolerance, float):
        kind: ToleranceKind | None = "diff"
        limit: float | None = tolerance
    else:
        kind, limit = tolerance, None
    return Metric(
        id, label, short, direction, needs, threshold, interval, kind, limit, target, description
    )


#: The default ratio band of a ``ratio`` tolerance: the four-fifths rule and its inverse.
RATIO_BAND: tuple[float, float] = (0.8, 1.25)


#: Every metric, in the engine's (and every table's) order.
# fmt: off
METRICS: tuple[Metric, ...] = (
    _m("auroc", "AUROC", "AUROC", "higher", "score", False, "delong", 0.05,
       "area under the ROC curve: the chance that a random event is ranked above a random "
       "non-event"),
    # TPR is a rate near 1 for a useful model: a ratio band hides a doubling of missed events
    # (TPR 0.90 vs 0.80 is FNR 0.10 vs 0.20, ratio 0.89), so its pair is judged on a difference
    _m("tpr", "Sensitivity (TPR)", "TPR", "higher", "decision", True, "wilson", 0.05,
       "share of events predicted positive"),
    _m("fpr", "False positive rate (FPR)", "FPR", "lower", "decision", True, "wilson", "ratio",
       "share of non-events predicted positive"),
    # TNR and FNR mirror FPR and TPR (evaluation.mirrors): each pair is one verdict, judged on
    # its primary with the primary's tolerance (spec.DEFAULT_TOLERANCES has no entry for a
    # mirror). FNR's 0.05 is exactly TPR's rule (|ΔFNR| = |ΔTPR|); FPR's ratio band has no
    # equivalent on TNR, whose 0.05 only marks it as flagged (through FPR).
    _m("tnr", "Specificity (TNR)", "TNR", "higher", "decision", True, "wilson", 0.05,
       "share of non-events predicted negative"),
    _m("fnr", "False negative rate (FNR)", "FNR", "lower", "decision", True, "wilson", 0.05,
       "share of events predicted negative"),
    _m("ppv", "Precision (PPV)", "PPV", "higher", "decision", True, "wilson", "ratio",
       "share of predicted positives that are events"),
    _m("npv", "Negative predictive value (NPV)", "NPV", "higher", "decision", True, "wilson",
       0.05, "share of predicted negatives that are non-events"),
    _m("selection_rate", "Selection rate", "Selected", "neutral", "decision", True, "wilson",
       "ratio", "share of all cases predicted positive"),
    _m("prevalence", "Prevalence", "Prev.", "neutral", "label", False, "wilson", None,
       "share of cases that are events"),
    _m("accuracy", "Accuracy", "Acc.", "higher", "decision", True, "wilson", 0.05,
       "share of cases predicted correctly"),
    _m("balanced_accuracy", "Balanced accuracy", "Bal. acc.", "higher", "decision", True,
       "bootstrap", 0.05, "mean of sensitivity and specificity"),
    _m("f1", "F1 score", "F1", "higher", "decision", True, "bootstrap", 0.05,
       "harmonic mean of precision and sensitivity"),
    _m("brier", "Brier score", "Brier", "lower", "probability", False, "bootstrap", 0.02,
       "mean squared error of the predicted probabilities"),
    _m("oe_ratio", "Observed/expected ratio (O/E)", "O/E", "target", "probability", False,
       "bootstrap", 0.1, "observed events divided by the sum of predicted probabilities",
       target=1.0),
    _m("calibration_intercept", "Calibration intercept", "Cal. int.", "target", "probability",
       False, "bootstrap", 0.2, "calibration-in-the-large (logit(p) as offset)", target=0.0),
    _m("calibration_slope", "Calibration slope", "Cal. slope", "target", "probability", False,
       "bootstrap", 0.2, "coefficient of logit(p) in a logistic recalibration", target=1.0),
)
# fmt: on

METRIC: Mapping[str, Metric] = MappingProxyType({m.id: m for m in METRICS})
METRIC_IDS: tuple[str, ...] = tuple(m.id for m in METRICS)
METRIC_LABELS: Mapping[str, str] = MappingProxyType({m.id: m.label for m in METRICS})
METRIC_SHORT: Mapping[str, str] = MappingProxyType({m.id: m.short for m in METRICS})

PROPORTION_METRICS: tuple[str, ...] = tuple(m.id for m in METRICS if m.interval == "wilson")
"""Proportions of counts: Wilson intervals, Newcombe/Katz disparity intervals."""
BOOTSTRAP_METRICS: tuple[str, ...] = tuple(m.id for m in METRICS if m.interval == "bootstrap")
"""No closed-form interval: CIs (and those of their disparities) from the stratified bootstrap."""
THRESHOLD_METRICS: tuple[str, ...] = tuple(m.id for m in METRICS if m.threshold_dependent)
"""Metrics that change with the decision threshold (the GUI's slider recomputes these)."""
PROBABILITY_METRICS: tuple[str, ...] = tuple(m.id for m in METRICS if m.needs == "probability")
"""Metrics that need predicted probabilities (not raw scores, not predicted classes)."""
HIGHER_IS_BETTER: Mapping[str, bool] = MappingProxyType(
    {m.id: m.direction == "higher" for m in METRICS if m.direction in ("higher", "lower")}
)
"""For the "best" reference and summary measures: does a larger value mean better?
(Only monotone metrics.)"""

#: The columns of every compact per-group table (CLI stdout, PDF subgroup summary).
SUMMARY_METRICS: tuple[str, ...] = ("auroc", "tpr", "fpr", "ppv", "brier")
#: The metrics drawn as forest plots in the report.
FOREST_METRICS: tuple[str, ...] = ("auroc", "tpr")

#: Summary measures over the groups of one attribute: id -> label.
SUMMARY_MEASURE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "equalized_odds_difference": "Equalized odds difference",
        "demographic_parity_difference": "Demographic parity difference",
        "demographic_parity_ratio": "Demographic parity ratio",
        "equal_opportunity_difference": "Equal opportunity difference",
        "auroc_gap": "AUROC gap (max − min)",
    }
)


def metric_label(metric_id: str) -> str:
    """The full label of a metric (the id itself for one outside the catalogue)."""
    return METRIC_LABELS.get(metric_id, metric_id)


def metric_short(metric_id: str) -> str:
    """The column-header label of a metric (the id itself for one outside the catalogue)."""
    return METRIC_SHORT.get(metric_id, metric_id)


def summary_measure_label(measure_id: str) -> str:
    return SUMMARY_MEASURE_LABELS.get(measure_id, measure_id.replace("_", " "))


# ----------------------------------------------------------------------------- judgements

#: Risk-of-bias / applicability / quality levels, best first: the one order of every list,
#: legend and table.
LEVELS: tuple[str, ...] = ("low", "unclear", "high")
LEVEL_LABELS: Mapping[str, str] = MappingProxyType(
    {"low": "Low", "unclear": "Unclear", "high": "High"}
)
LEVEL_RANK: Mapping[str, int] = MappingProxyType({lv: i for i, lv in enumerate(LEVELS)})
NO_LEVEL = "—"
"""What a compact cell or chip shows where no judgement has been made."""
NOT_RATED = "Not rated"
"""What a legend, a choice or a report row says where no judgement has been made."""


def level_label(level: str | None) -> str:
    return NO_LEVEL if level is None else LEVEL_LABELS.get(level, level)


#: Judgement colours, defined once: (text, fill) of a level chip in the light and in the dark
#: GUI theme (each pair keeps a WCAG contrast of at least 4.5:1, tests/gui/test_theme.py), and
#: the fill of the PDF traffic lights (printed with a symbol too, so greyscale survives).
#: ``None`` is "not rated".
LEVEL_COLOURS_LIGHT: Mapping[str | None, tuple[str, str]] = MappingProxyType({
    "low": ("#135e2b", "#d7f0de"),
    "unclear": ("#6b4a00", "#fde9b5"),
    "high": ("#8c1d18", "#f9d6d3"),
    None: ("#4a4a4a", "#e6e6e6"),
})
LEVEL_COLOURS_DARK: Mapping[str | None, tuple[str, str]] = MappingProxyType({
    "low": ("#a6e8b9", "#163a22"),
    "unclear": ("#f6d98a", "#45360b"),
    "high": ("#f7b4ae", "#4f1b18"),
    None: ("#d2d4d8", "#3a3c40"),
})
LEVEL_CHART_FILLS: Mapping[str | None, str] = MappingProxyType({
    "low": "#3BA55C", "unclear": "#F2C12E", "high": "#D7263D", None: "#B0B7BF",
})


# ----------------------------------------------------------------------------- answers

#: Every answer code Probity knows, in the order the instruments list them; an instrument
#: offers a subset of these.
ANSWER_CODES: tuple[str, ...] = ("Y", "PY", "PN", "N", "NI", "NA")
#: The answers every signalling question must offer (PROBAST's five-point scale).
BASE_ANSWERS: tuple[str, ...] = ("Y", "PY", "PN", "N", "NI")
NOT_APPLICABLE = "NA"
ANSWER_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "Y": "Yes",
        "PY": "Probably yes",
        "PN": "Probably no",
        "N": "No",
        "NI": "No information",
        "NA": "Not applicable",
    }
)
#: Answers that, when given, need the reviewer's explicit final judgement (PROBAST: an N/PN
#: answer suggests but does not settle high risk).
CONCERN_ANSWERS: frozenset[str] = frozenset({"N", "PN"})
#: Answers that support a low risk of bias (NA does not count against it).
FAVOURABLE_ANSWERS: frozenset[str] = frozenset({"Y", "PY", "NA"})

# ----------------------------------------------------------------------------- reviewer

#: The reviewer block of a document: field id -> label.
REVIEWER_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "name": "Name",
        "role": "Role",
        "organisation": "Organisation",
        "email": "E-mail",
    }
)
REVIEWER_FIELDS: tuple[str, ...] = tuple(REVIEWER_LABELS)

# ----------------------------------------------------------------------------- data files


@dataclass(frozen=True)
class DataFormat:
    """One kind of validation-data file Probity reads."""

    id: Literal["delimited", "excel", "parquet"]
    label: str
    suffixes: tuple[str, ...]


#: Validation-data formats Probity reads (CLI, File › Open, the data page's dialog and drag and
#: drop all accept exactly these). Old .xls workbooks are refused with a message to re-save.
DATA_FORMATS: tuple[DataFormat, ...] = (
    DataFormat("delimited", "CSV/TSV", (".csv", ".tsv", ".tab", ".txt")),
    DataFormat("excel", "Excel workbook", (".xlsx", ".xlsm")),
    DataFormat("parquet", "Parquet", (".parquet", ".pq")),
)
DATA_SUFFIXES: tuple[str, ...] = tuple(s for f in DATA_FORMATS for s in f.suffixes)
#: Delimited suffixes whose default delimiter is a tab (sniffing may still override it).
TAB_SUFFIXES: frozenset[str] = frozenset({".tsv", ".tab"})
ASSESSMENT_SUFFIX = ".probity"
#: A signed Probity report received from someone: the GUI verifies it and shows its assessment.
RECEIVED_REPORT_SUFFIX = ".pdf"


def data_format(suffix: str) -> DataFormat | None:
    """The format a file suffix (any case, with the dot) belongs to; None if not supported."""
    s = suffix.lower()
    return next((f for f in DATA_FORMATS if s in f.suffixes), None)


def _patterns(suffixes: tuple[str, ...]) -> str:
    return " ".join(f"*{s}" for s in suffixes)


def data_file_filter() -> str:
    """A Qt file-dialog filter for validation data: all formats, then each, then all files."""
    parts = [f"Validation data ({_patterns(DATA_SUFFIXES)})"]
    parts += [f"{f.label} ({_patterns(f.suffixes)})" for f in DATA_FORMATS]
    parts.append("All files (*)")
    return ";;".join(parts)


def data_suffixes_text() -> str:
    """The supported suffixes for a help text or an error message: '.csv, .tsv, … or .pq'."""
    return ", ".join(DATA_SUFFIXES[:-1]) + " or " + DATA_SUFFIXES[-1]


# --- evidence documents (assessment.evidence) -------------------------------------------------
# The fields of one attached evidence PDF in $.evidence, and the states of its stored copy.
EVIDENCE_KEYS: tuple[str, ...] = ("sha256", "title", "file_name", "pages", "size", "added")
EVIDENCE_STATE_LABELS: Mapping[str, str] = MappingProxyType(
    {"ok": "OK", "changed": "Changed", "missing": "Missing", "unsaved": "Not saved yet"}
)
