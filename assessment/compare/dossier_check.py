"""Sense checks of a ``probity-comparison/1`` dossier read from disk.

A hand-edited or hostile dossier must not reach the Comparison page or a report: every model's
embedded evaluation is read by the evaluation result reader
(:meth:`~assessment.evaluation.result.EvaluationResult.from_json`, with the same sense checks
as an assessment's stored evaluation, :mod:`assessment.evaluation.result_sense`), and the
comparison's own numbers are checked and, where they can be, re-derived:

- counts are whole numbers ≥ 0, n_pos + n_neg = n, rows compared ≤ rows read;
- a paired difference names two of the dossier's models, its estimates lie in [0, 1] for a
  proportion, AUROC, Brier or |E − O|, its value is estimate_a − estimate_b, its interval has
  both limits or neither with low ≤ high and the value within, its p-values lie in [0, 1] with
  the adjusted one not below the unadjusted;
- a paired DeLong AUROC difference: the p-value is the two-sided z test of the interval's own
  standard error (re-derived: the interval and the test are the same normal approximation);
  any other method: an interval that excludes 0 cannot come with p > 0.5;
- an operating point: true positives ≤ flagged ≤ n, true positives ≤ n_pos, and flagged per
  100, events caught per 100, sensitivity, PPV and number needed to evaluate re-derived from
  the counts;
- summary sentences, notes and method texts are text.

:func:`check_dossier` raises :class:`~assessment.jsoncheck.Invalid` naming the JSON path.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

from assessment.jsoncheck import Invalid, key_path, show

EPS = 1e-9
#: Re-derived figures must agree to this (relative) tolerance.
REL = 1e-6
UNIT = frozenset(("auroc", "tpr", "fpr", "ppv", "brier", "calibration_in_the_large"))
ADVICE = "the file was changed after Probity wrote it; run the comparison again to replace it"


def _bad(path: str, what: str) -> Invalid:
    return Invalid(path, f"{what} ({ADVICE})")


def _count(v: Any, path: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise _bad(path, f"expected a count (a whole number ≥ 0), got {show(v)}")
    return v


def _num(v: Any, path: str) -> float | None:
    if v is None:
        return None
    if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
        raise _bad(path, f"expected a finite number or null, got {show(v)}")
    return float(v)


def _texts(v: Any, path: str) -> None:
    if not isinstance(v, list) or not all(isinstance(t, str) for t in v):
        raise _bad(path, "expected a list of sentences (text)")


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(1.0, abs(a), abs(b))


def check_dossier(doc: dict[str, Any]) -> None:
    """Refuse (:class:`Invalid`) a dossier whose numbers cannot be true; ``doc`` has the
    top-level shape already (see :func:`assessment.compare.dossier.load_dossier`)."""
    from assessment.evaluation.result import EvaluationResult, ResultFormatError

    names = []
    level = 0.95
    for i, m in enumerate(doc["models"]):
        path = f"$.models[{i}].result"
        try:
            result = EvaluationResult.from_json(m["result"], path=path)
        except ResultFormatError as exc:
            raise Invalid(exc.path, exc.problem.replace("re-run the evaluation",
                                                        "run the comparison again")) from None
        level = result.evaluation_spec().ci_level
        names.append(m["name"])
    if len(set(names)) != len(names):
        raise _bad("$.models", "two models have the same name")
    _texts(doc["summary"], "$.summary")
    _texts(doc.get("notes", []), "$.notes")
    _texts(doc.get("warnings", []), "$.warnings")
    methods = doc.get("methods", {})
    if not isinstance(methods, dict) or not all(isinstance(t, str) for t in methods.values()):
        raise _bad("$.methods", "expected the method texts (text)")
    _data(doc["data"])
    for i, e in enumerate(doc["paired"]):
        _paired(e, f"$.paired[{i}]", set(names), level)
    for i, p in enumerate(doc["operating_points"]):
        _point(p, f"$.operating_points[{i}]", set(names))
    for i, c in enumerate(doc["net_benefit"]):
        _curve(c, f"$.net_benefit[{i}]", set(names))


def _curve(c: Any, path: str, names: set[str]) -> None:
    """A decision curve: a model (or a reference strategy), thresholds in (0, 1) and one net
    benefit (at most 1) or null per threshold."""
    if not isinstance(c, dict):
        raise _bad(path, "expected a decision curve (an object)")
    _where(c, path)
    if not isinstance(c.get("model"), str):
        raise _bad(key_path(path, "model"), "expected the model's name (text)")
    ts, vs = c.get("thresholds"), c.get("values")
    if not isinstance(ts, list) or not isinstance(vs, list) or len(ts) != len(vs):
        raise _bad(path, "expected as many net-benefit values as thresholds")
    for j, t in enumerate(ts):
        tv = _num(t, f"{key_path(path, 'thresholds')}[{j}]")
        if tv is None or not 0 < tv < 1:
            raise _bad(f"{key_path(path, 'thresholds')}[{j}]",
                       f"a threshold probability {show(t)} not strictly between 0 and 1")
    for j, v in enumerate(vs):
        nb = _num(v, f"{key_path(path, 'values')}[{j}]")
        if nb is not None and nb > 1 + EPS:
            raise _bad(f"{key_path(path, 'values')}[{j}]", f"a net benefit {nb:g} above 1")


def _data(d: dict[str, Any]) -> None:
    read, compared = d.get("rows_read"), d.get("rows_compared")
    if read is not None and compared is not None:
        _count(read, "$.data.rows_read")
        _count(compared, "$.data.rows_compared")
        if compared > read:
            raise _bad("$.data.rows_compared", f"{compared:,} rows compared of {read:,} read")
    for key in ("patients", "missing_patient_ids", "most_rows_per_patient"):
        if d.get(key) is not None:
            _count(d[key], key_path("$.data", key))
    if isinstance(d.get("patients"), int) and isinstance(compared, int):
        if d["patients"] > compared:
            raise _bad("$.data.patients", f"{d['patients']:,} patients in {compared:,} rows")
    if d.get("patient_column") is not None and not isinstance(d["patient_column"], str):
        raise _bad("$.data.patient_column", "expected the patient column's name (text)")
    excluded = d.get("excluded", {})
    if not isinstance(excluded, dict):
        raise _bad("$.data.excluded", "expected an object of counts")
    for k, v in excluded.items():
        _count(v, key_path("$.data.excluded", str(k)))


def _interval(value: float | None, low: float | None, high: float | None, path: str) -> None:
    if (low is None) != (high is None):
        raise _bad(path, "an interval needs both limits or neither, got one")
    if low is None or high is None:
        return
    if value is None:
        raise _bad(key_path(path, "value"), "an interval without its estimate (null)")
    if low > high + EPS:
        raise _bad(key_path(path, "ci_low"),
                   f"the interval's low end {low:g} is above its high end {high:g}")
    slack = EPS * max(1.0, abs(value))
    if not low - slack <= value <= high + slack:
        raise _bad(path, f"the difference {value:g} lies outside its own interval "
                   f"[{low:g}, {high:g}]")


def _p(v: Any, path: str) -> float | None:
    p = _num(v, path)
    if p is not None and not -EPS <= p <= 1 + EPS:
        raise _bad(path, f"the p-value {p:g} is outside [0, 1]")
    return p


def _where(e: dict[str, Any], path: str) -> None:
    """attribute and group: both text (a group) or both null (the whole population)."""
    for key in ("attribute", "group"):
        if key not in e or not (e[key] is None or isinstance(e[key], str)):
            raise _bad(key_path(path, key), f"expected the {key} (text, or null for everyone)")


def _paired(e: Any, path: str, names: set[str], level: float) -> None:
    if not isinstance(e, dict) or not isinstance(e.get("difference"), dict):
        raise _bad(path, "expected a paired difference (an object with its difference)")
    _where(e, path)
    metric = e.get("metric")
    if not isinstance(metric, str):
        raise _bad(key_path(path, "metric"), "expected the metric's name (text)")
    for key in ("model_a", "model_b"):
        if e.get(key) not in names:
            raise _bad(key_path(path, key), f"{show(e.get(key))} is not one of the models")
    n, n_pos, n_neg = (_count(e.get(k), key_path(path, k)) for k in ("n", "n_pos", "n_neg"))
    if n_pos + n_neg != n:
        raise _bad(path, f"n_pos {n_pos} + n_neg {n_neg} is not n {n}")
    est = []
    for key in ("estimate_a", "estimate_b"):
        v = _num(e.get(key), key_path(path, key))
        if v is not None and metric in UNIT and not -EPS <= v <= 1 + EPS:
            raise _bad(key_path(path, key), f"{metric} {v:g} is outside [0, 1]")
        est.append(v)
    d = e["difference"]
    dpath = key_path(path, "difference")
    value, low, high = (_num(d.get(k), key_path(dpath, k)) for k in ("value", "ci_low", "ci_high"))
    _interval(value, low, high, dpath)
    a, b = est
    if value is not None and a is not None and b is not None and not _close(value, a - b):
        raise _bad(key_path(dpath, "value"), f"the difference {value:g} is not estimate_a − "
                   f"estimate_b = {a - b:g}")
    p = _p(d.get("p_value"), key_path(dpath, "p_value"))
    adj = _p(d.get("p_adjusted"), key_path(dpath, "p_adjusted"))
    if p is not None and adj is not None and adj < p - EPS:
        raise _bad(key_path(dpath, "p_adjusted"), f"the adjusted p-value {adj:g} is below the "
                   f"unadjusted {p:g}")
    if p is None or value is None or low is None or high is None:
        return
    method = d.get("method")
    if metric == "auroc" and isinstance(method, str) and method.startswith("paired DeLong"):
        z = NormalDist().inv_cdf(0.5 + level / 2)
        se = (high - low) / (2 * z)
        expect = 2 * NormalDist().cdf(-abs(value) / se) if se > 0 else (1.0 if value == 0 else 0.0)
        if not abs(expect - p) <= 1e-6:
            raise _bad(key_path(dpath, "p_value"), f"the p-value {p:g} is not the z test of "
                       f"its own interval [{low:g}, {high:g}] (p = {expect:.3g})")
    elif (low > 0 or high < 0) and p > 0.5:
        raise _bad(key_path(dpath, "p_value"), f"the p-value {p:g} contradicts its interval "
                   f"[{low:g}, {high:g}], which excludes 0")


def _point(pt: Any, path: str, names: set[str]) -> None:
    if not isinstance(pt, dict):
        raise _bad(path, "expected an operating point (an object)")
    _where(pt, path)
    if pt.get("model") not in names:
        raise _bad(key_path(path, "model"), f"{show(pt.get('model'))} is not one of the models")
    n, n_pos, flagged, tp = (_count(pt.get(k), key_path(path, k))
                             for k in ("n", "n_pos", "flagged", "true_positives"))
    if not (tp <= flagged <= n and tp <= n_pos <= n):
        raise _bad(path, f"counts that cannot be true (n {n}, n_pos {n_pos}, flagged {flagged}, "
                   f"true positives {tp})")
    derived = {
        "flagged_per_100": 100 * flagged / n if n else None,
        "events_caught_per_100": 100 * tp / n if n else None,
        "sensitivity": tp / n_pos if n_pos else None,
        "ppv": tp / flagged if flagged else None,
        "number_needed_to_evaluate": flagged / tp if tp else None,
    }
    for key, want in derived.items():
        got = _num(pt.get(key), key_path(path, key))
        if got is not None and (want is None or not _close(got, want)):
            raise _bad(key_path(path, key), f"{key} {got:g} does not follow from the counts "
                       f"({'undefined' if want is None else f'{want:g}'})")
