"""Presentation helpers of the Comparison page: which rows of the dossier a view shows.

Pure reading of the ``probity-comparison/1`` dossier (no rules: every number comes from it).
"""

from __future__ import annotations

from typing import Any

GroupKey = tuple[str | None, str | None]  # (attribute, group); (None, None) = everyone
SIDE_METRICS = ("auroc", "tpr", "fpr", "ppv", "brier")
SIDE_LABELS = {"auroc": "AUROC", "tpr": "TPR", "fpr": "FPR", "ppv": "PPV", "brier": "Brier"}
PAIRED_LABELS = {
    "auroc": "AUROC", "tpr": "TPR", "fpr": "FPR", "ppv": "PPV", "brier": "Brier",
    "calibration_in_the_large": "|E − O|", "net_benefit": "Net benefit",
}


def group_keys(doc: dict[str, Any]) -> list[GroupKey]:
    """Everyone first, then every group of every attribute and intersection, in result order."""
    keys: list[GroupKey] = [(None, None)]
    for g in doc["models"][0]["result"]["groups"]:
        keys.append((g["attribute"], g["group"]))
    return keys


def key_label(key: GroupKey) -> str:
    return "Whole population" if key[0] is None else f"{key[0]}: {key[1]}"


def model_group(model: dict[str, Any], key: GroupKey) -> dict[str, Any] | None:
    result = model["result"]
    if key[0] is None:
        return dict(result["overall"])
    for g in result["groups"]:
        if g["attribute"] == key[0] and g["group"] == key[1]:
            return dict(g)
    return None


def fmt(v: Any, digits: int = 3) -> str:
    return "—" if v is None else f"{float(v):.{digits}f}"


def fmt_p(v: Any, floor: Any = None) -> str:
    """A p-value; a bootstrap p at its floor 1/(B + 1) reads "<1/(B + 1)"."""
    if v is None:
        return "—"
    if floor and float(v) <= float(floor) * (1 + 1e-9):
        return f"<1/{round(1 / float(floor))}"
    return "<0.001" if v < 0.001 else f"{float(v):.3f}"


def with_ci(m: dict[str, Any] | None) -> str:
    if not m or m.get("value") is None:
        return "—"
    if m.get("ci_low") is None or m.get("ci_high") is None:
        return fmt(m["value"])
    return f"{fmt(m['value'])} ({fmt(m['ci_low'])}–{fmt(m['ci_high'])})"


def side_rows(doc: dict[str, Any], key: GroupKey) -> list[list[str]]:
    """Per model: name, n, metrics with CI, flagged per 100, events caught per 100, NNE."""
    rows = []
    for m in doc["models"]:
        g = model_group(m, key) or {}
        op: dict[str, Any] = next((p for p in doc["operating_points"] if p["model"] == m["name"]
                   and p["attribute"] == key[0] and p["group"] == key[1]), {})
        metrics = g.get("metrics", {})
        rows.append([m["name"], str(g.get("n", "—")),
                     *[with_ci(metrics.get(k)) for k in SIDE_METRICS],
                     fmt(op.get("flagged_per_100"), 1), fmt(op.get("events_caught_per_100"), 1),
                     fmt(op.get("number_needed_to_evaluate"), 1)])
    return rows


def paired_rows(doc: dict[str, Any], key: GroupKey) -> list[list[str]]:
    """Metric, pair, difference, interval, p, adjusted p, and whether the interval includes 0."""
    rows = []
    for e in doc["paired"]:
        if (e["attribute"], e["group"]) != key:
            continue
        d = e["difference"]
        lo, hi = d.get("ci_low"), d.get("ci_high")
        verdict = ("" if lo is None or hi is None
                   else "includes 0" if lo <= 0 <= hi else "excludes 0")
        rows.append([PAIRED_LABELS.get(e["metric"], e["metric"]),
                     f"{e['model_a']} − {e['model_b']}", fmt(d.get("value")),
                     "—" if lo is None else f"{fmt(lo)} to {fmt(hi)}",
                     fmt_p(d.get("p_value"), d.get("p_floor")),
                     fmt_p(d.get("p_adjusted"), d.get("p_floor")),
                     verdict or (d.get("reason") or "")])
    return rows


def curves(doc: dict[str, Any], key: GroupKey) -> list[dict[str, Any]]:
    return [c for c in doc["net_benefit"] if (c["attribute"], c["group"]) == key]


def roc(model: dict[str, Any], key: GroupKey) -> tuple[list[float], list[float]] | None:
    g = model_group(model, key)
    r = (g or {}).get("curves", {}).get("roc")
    if not r:
        return None
    pairs = [(x, y) for x, y in zip(r["fpr"], r["tpr"], strict=False)
             if x is not None and y is not None]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def source_text(doc: dict[str, Any], source: str) -> str:
    """"file: A, B on 20,795 patients (29,463 rows; patient column 'patient_nbr')"."""
    from assessment.compare.cli import patients_text

    names = ", ".join(m["name"] for m in doc["models"])
    clustered = "clustering" in (doc.get("methods") or {})
    return f"{source}: {names} on {patients_text(doc['data'], clustered)}"


def notes_html(doc: dict[str, Any]) -> str:
    """Warnings first (bold), then the clustering method and every note of the dossier."""
    import html

    lines = [f"<b>Warning:</b> {html.escape(w)}" for w in doc.get("warnings") or []]
    clustering = (doc.get("methods") or {}).get("clustering")
    if clustering:
        lines.append(f"<b>Clustering:</b> {html.escape(clustering)}")
    lines += [f"Note: {html.escape(n)}" for n in doc.get("notes") or []]
    return "<br>".join(lines)


def gates_text(doc: dict[str, Any]) -> str:
    gates = doc.get("gates") or []
    if not gates:
        return "Gates: no evaluation plan was given, so no gates were checked."
    return "Gates: " + " ".join(
        str(g.get("sentence") or f"{g.get('model')}: {g.get('verdict')}")
        for g in gates if isinstance(g, dict)
    )
