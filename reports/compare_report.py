"""The signed procurement-comparison report, built from the comparison dossier alone.

The dossier (the ``probity-comparison/1`` JSON) is embedded byte-for-byte as the report's
attachment and its SHA-256 printed on the cover, exactly like an assessment in the assessment
report, so ``probity sign`` (countersigning by committee members), ``probity verify`` and
``probity extract`` work on it unchanged. Sections: each vendor's risk-of-bias traffic-light row
(from the linked PROBAST assessment), the ranked summary, every model at its operating point,
the paired comparisons (whole population and per group), decision curves, capacity, gates,
provenance per model, methods.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from reportlab.platypus import KeepTogether, LongTable, PageBreak, Spacer, Table, TableStyle

from assessment.compare.cli import patients_text
from assessment.compare.paired import NOT_APPLICABLE
from reports import charts
from reports.attachment import SignatureSlot, finish_pdf
from reports.compare_charts import Curve, ModelPoint, decision_chart, model_forest
from reports.fonts import SANS, register_fonts
from reports.layout import (
    FRAME_WIDTH,
    Heading,
    ReportTemplate,
    SignatureBox,
    make_styles,
    numbered_canvas,
)
from reports.markup import esc
from reports.report_base import _version

SIGNATURE_LABELS = ("Committee chair", "Committee member", "Committee member")
SIG_BOX = (260.0, 95.0)
DOSSIER_NAME = "comparison.json"
METRIC_NAMES = {
    "auroc": "AUROC", "tpr": "Sensitivity (TPR)", "fpr": "False-positive rate",
    "ppv": "PPV", "brier": "Brier score", "calibration_in_the_large": "|E − O| (calibration)",
    "net_benefit": "Net benefit",
}
GROUP_METRICS = ("auroc", "tpr", "fpr")


@dataclass
class ComparisonReport:
    data: bytes
    pages: int
    slots: list[SignatureSlot]
    sha256: str
    warnings: list[str] = field(default_factory=list)


def _f(v: Any, digits: int = 3) -> str:
    if v is None:
        return "—"
    return f"{float(v):.{digits}f}".replace("-", "−")


def _ci(d: dict[str, Any]) -> str:
    if d.get("ci_low") is None or d.get("ci_high") is None:
        return "—"
    return f"{_f(d['ci_low'])} to {_f(d['ci_high'])}"


def _p(v: Any, floor: Any = None) -> str:
    """A p-value; a bootstrap p at its floor 1/(B + 1) reads "<1/(B + 1)"."""
    if v is None:
        return "—"
    if floor and v <= floor * (1 + 1e-9):
        return f"<1/{round(1 / floor)}"
    return "<0.001" if v < 0.001 else f"{v:.3f}"


class _Builder:
    def __init__(self, doc: dict[str, Any], sha: str, name: str, when: dt.datetime,
                 signer: str | None) -> None:
        self.doc, self.sha, self.name, self.when, self.signer = doc, sha, name, when, signer
        self.s = make_styles()
        self.slots: list[SignatureSlot] = []
        self.names = [m["name"] for m in doc["models"]]

    # helpers (same look as the assessment report)
    def p(self, markup: str, style: Any = None) -> Any:
        from reportlab.platypus import Paragraph

        return Paragraph(markup, style or self.s.body)

    def c(self, value: Any, bold: bool = False) -> Any:
        from reportlab.platypus import Paragraph

        return Paragraph(esc(str(value)), self.s.cell_bold if bold else self.s.cell)

    def h(self, text: str, level: int = 0) -> Heading:
        return Heading(esc(text), (self.s.h1, self.s.h2, self.s.h3)[level], level, text)

    def table(self, rows: list[list[Any]], widths: list[float]) -> Table:
        from reports.layout import HEAD_BG, RULE, ZEBRA

        t = LongTable(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
        style: list[tuple[Any, ...]] = [
            ("FONT", (0, 0), (-1, -1), SANS, 8), ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.4, RULE), ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ]
        if len(rows) > 2:
            style.append(("ROWBACKGROUNDS", (0, 1), (-1, -1), [None, ZEBRA]))
        t.setStyle(TableStyle(style))
        return t

    # sections
    def cover(self) -> list[Any]:
        d = self.doc["data"]
        clustered = "clustering" in (self.doc.get("methods") or {})
        pairs = [
            ("Models", ", ".join(self.names)),
            ("Validation data", f"{d.get('file_name', '—')} (SHA-256 {d.get('sha256', '—')})"),
            ("Patients compared", f"{patients_text(d, clustered)} of "
                                  f"{d.get('rows_read', 0):,} rows read"),
            ("Clustering", f"by the patient column {d['patient_column']!r}: cluster-robust "
                           "intervals, the patient is the unit" if d.get("patient_column")
             else "by patient: cluster-robust intervals" if clustered
             else "none: every row is a patient of its own"),
            *(("Warning", w) for w in self.doc.get("warnings", [])),
            ("Comparison", "against the incumbent " + self.doc["incumbent"]
             if self.doc.get("incumbent") else "every pair of models"),
            ("Signed by", self.signer or "not signed (see the signature page)"),
            ("Report date", f"{self.when:%Y-%m-%d %H:%M} UTC"),
            ("Dossier file", self.name),
            ("Comparison dossier SHA-256", self.sha),
            ("Probity version", _version("probity")),
        ]
        rows = [[self.c(k, True), self.c(v)] for k, v in pairs]
        t = Table(rows, colWidths=[120, FRAME_WIDTH - 120], hAlign="LEFT")
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return [Spacer(1, 30),
                Heading("Procurement comparison report", self.s.title, 0, "Cover"),
                self.p("Several vendors' models on the same local patients", self.s.subtitle),
                t, Spacer(1, 10),
                self.p("The attached dossier (the “Comparison dossier SHA-256” above is its "
                       "hash) holds every number in this report; "
                       "<font face='DejaVuSansMono'>probity extract</font> gives it back and "
                       "<font face='DejaVuSansMono'>probity verify</font> checks the "
                       "signatures.", self.s.small)]

    def vendors(self) -> list[Any]:
        out: list[Any] = [self.h("Risk of bias of each vendor's evidence")]
        vendors = self.doc.get("vendor_assessments") or []
        if not vendors:
            return out + [self.p("No vendor assessment is linked to this dossier (compare "
                                 "--assessment NAME=FILE.probity links one per model).")]
        rows: list[list[Any]] = [[self.c(x, True) for x in
                                  ("Model", "Domains (final judgement)", "Overall risk of bias",
                                   "Applicability", "File (SHA-256)")]]
        for v in vendors:
            lights = Table([[charts.traffic_light(dom["judgement"], 11) for dom in v["domains"]]],
                           hAlign="LEFT")
            lights.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 1)]))
            rows.append([self.c(v["model"]), lights,
                         self.c(v["overall"].get("rob") or "not rated"),
                         self.c(v["overall"].get("applicability") or "not rated"),
                         self.c(f"{v['path']} ({v['sha256'][:16]}…)")])
        return out + [self.table(rows, [80, 120, 70, 70, FRAME_WIDTH - 340])]

    def summary(self) -> list[Any]:
        out: list[Any] = [self.h("Ranked summary")]
        out += [self.p(esc(s)) for s in self.doc["summary"]]
        out.append(self.p("An order whose paired interval includes 0 is not established: such "
                          "models are shown together in braces, and every step of a stated "
                          "order is given with its interval.", self.s.small))
        return out

    def operating_points(self) -> list[Any]:
        out: list[Any] = [self.h("Each model at its operating point (whole population)")]
        rows = [[self.c(x, True) for x in ("Model", "Threshold", "AUROC (95% CI)",
                                            "Flagged /100", "Events caught /100",
                                            "Evaluate per event", "Sensitivity", "PPV")]]
        for m in self.doc["models"]:
            auc = m["result"]["overall"]["metrics"].get("auroc") or {}
            op = next(p for p in self.doc["operating_points"]
                      if p["model"] == m["name"] and p["attribute"] is None)
            auc_txt = (f"{_f(auc.get('value'))} ({_f(auc.get('ci_low'))}–"
                       f"{_f(auc.get('ci_high'))})" if auc.get("value") is not None else "—")
            rows.append([self.c(m["name"]), self.c(_f(m.get("threshold"), 2)), self.c(auc_txt),
                         self.c(_f(op["flagged_per_100"], 1)),
                         self.c(_f(op["events_caught_per_100"], 1)),
                         self.c(_f(op["number_needed_to_evaluate"], 1)),
                         self.c(_f(op["sensitivity"])), self.c(_f(op["ppv"]))])
        return out + [self.table(rows, [83, 52, 95, 50, 60, 55, 55, FRAME_WIDTH - 450])]

    def paired(self) -> list[Any]:
        out: list[Any] = [self.h("Paired comparisons (same patients)")]
        out.append(self.p(esc(self.doc["methods"]["multiplicity"]), self.s.small))
        for title, attr_filter in (("Whole population", None),):
            rows = [[self.c(x, True) for x in ("Metric", "A − B", "A", "B", "Difference",
                                                "95% CI", "p", "p adj.")]]
            for e in self.doc["paired"]:
                if e["attribute"] != attr_filter:
                    continue
                d = e["difference"]
                rows.append([self.c(METRIC_NAMES.get(e["metric"], e["metric"])),
                             self.c(f"{e['model_a']} − {e['model_b']}"),
                             self.c(_f(e["estimate_a"])), self.c(_f(e["estimate_b"])),
                             self.c(_f(d["value"])),
                             self.c(_ci(d) if d["value"] is not None
                                    else d.get("reason") or "—"),
                             self.c(_p(d["p_value"], d.get("p_floor"))),
                             self.c(_p(d["p_adjusted"], d.get("p_floor")))])
            out += [self.h(title, 1), self.table(rows, [80, 105, 40, 40, 58, 85, 45,
                                                        FRAME_WIDTH - 453])]
        return out

    def per_group(self) -> list[Any]:
        out: list[Any] = [self.h("Per group: models side by side")]
        attrs = [a for a in dict.fromkeys(e["attribute"] for e in self.doc["paired"]) if a]
        for metric in GROUP_METRICS:
            points: list[ModelPoint] = []
            for m_i, m in enumerate(self.doc["models"]):
                for g in m["result"]["groups"]:
                    if g["attribute"] not in attrs or "×" in g["attribute"]:
                        continue
                    v = g["metrics"].get(metric) or {}
                    points.append(ModelPoint(f"{g['attribute']}: {g['group']}", m_i,
                                             v.get("value"), v.get("ci_low"), v.get("ci_high")))
            points.sort(key=lambda p: (p.group, p.model))
            if points:
                out += [self.h(METRIC_NAMES[metric], 1),
                        model_forest(points, self.names, metric=METRIC_NAMES[metric],
                                     width=FRAME_WIDTH)]
        rows = [[self.c(x, True) for x in ("Group", "Metric", "A − B", "Difference", "95% CI",
                                            "p adj.")]]
        for e in self.doc["paired"]:
            if e["attribute"] is None or "×" in e["attribute"] or e["metric"] not in GROUP_METRICS:
                continue
            if e["difference"]["method"] == NOT_APPLICABLE:  # said once, for the population
                continue
            d = e["difference"]
            rows.append([self.c(f"{e['attribute']}: {e['group']}"),
                         self.c(METRIC_NAMES[e["metric"]]),
                         self.c(f"{e['model_a']} − {e['model_b']}"), self.c(_f(d["value"])),
                         self.c(_ci(d) if d["value"] is not None else d.get("reason") or "—"),
                         self.c(_p(d["p_adjusted"], d.get("p_floor")))])
        out += [self.h("Paired differences per group", 1),
                self.table(rows, [120, 80, 110, 60, 90, FRAME_WIDTH - 460])]
        return out

    def decision_curves(self) -> list[Any]:
        out: list[Any] = [self.h("Decision curves"), self.p(esc(self.doc["methods"]
                                                                ["net_benefit"]), self.s.small)]
        by: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
        for c in self.doc["net_benefit"]:
            if c["attribute"] is None or "×" not in c["attribute"]:
                by.setdefault((c["attribute"], c["group"]), []).append(c)
        for (attr, group), cs in by.items():
            title = "Whole population" if attr is None else f"{attr}: {group}"
            curves = [Curve(c["model"], c["thresholds"], c["values"]) for c in cs]
            out.append(KeepTogether([decision_chart(curves, title=title, width=FRAME_WIDTH)]))
        return out

    def capacity_and_gates(self) -> list[Any]:
        out: list[Any] = []
        cap = self.doc.get("capacity")
        if cap:
            out.append(self.h("Capacity"))
            out.append(self.p(f"The team can follow up {cap['k']} of every {cap['per']} "
                              "patients: each model's top-scoring share, and what each group "
                              "gets at it."))
            rows = [[self.c(x, True) for x in ("Model", "Group", "Threshold", "Flagged /100",
                                                "Events caught /100", "Sensitivity")]]
            for r in cap["groups"]:
                if r["attribute"] is not None and "×" in r["attribute"]:
                    continue
                grp = "All" if r["attribute"] is None else f"{r['attribute']}: {r['group']}"
                rows.append([self.c(r["model"]), self.c(grp), self.c(_f(r["threshold"])),
                             self.c(_f(r["flagged_per_100"], 1)),
                             self.c(_f(r["events_caught_per_100"], 1)),
                             self.c(_f(r["sensitivity"]))])
            out.append(self.table(rows, [90, 150, 55, 60, 70, FRAME_WIDTH - 425]))
        out.append(self.h("Gates"))
        if self.doc.get("gates"):
            out += [self.p(esc(g.get("sentence", ""))) for g in self.doc["gates"]]
            rows = [[self.c(x, True) for x in ("Model", "Gate", "Group", "Value", "95% CI",
                                                "Verdict")]]
            for g in self.doc["gates"]:
                for c in g.get("checks", []):
                    rows.append([self.c(g["model"]), self.c(c.get("gate", "")),
                                 self.c(f"{c.get('attribute')}: {c.get('group')}"),
                                 self.c(_f(c.get("value"))),
                                 self.c(_ci(c)), self.c(c.get("verdict", ""))])
            out.append(self.table(rows, [90, 110, 130, 50, 80, FRAME_WIDTH - 460]))
        else:
            out.append(self.p("No evaluation plan was given, so no gates were checked."))
        return out

    def provenance(self) -> list[Any]:
        out: list[Any] = [self.h("Provenance per model")]
        rows = [[self.c(x, True) for x in ("Model", "Source", "Kind", "Operating point")]]
        for m in self.doc["models"]:
            src = f"{m['file']}: {m['column']}" if m.get("file") else f"column {m['column']}"
            rows.append([self.c(m["name"]), self.c(src), self.c(m["kind"]),
                         self.c(_f(m.get("threshold"), 3))])
        out.append(self.table(rows, [100, 200, 70, FRAME_WIDTH - 370]))
        rows = [[self.c(x, True) for x in ("File", "Role", "Rows", "Matched", "Unmatched")]]
        for j in self.doc["join"]:
            rows.append([self.c(j["file"]), self.c(j["role"]), self.c(f"{j['rows']:,}"),
                         self.c(f"{j['matched']:,}"), self.c(f"{j['unmatched']:,}")])
        out += [self.h("Join diagnostics", 1), self.table(rows, [180, 60, 70, 70,
                                                                 FRAME_WIDTH - 380])]
        out.append(self.h("Methods", 1))
        out += [self.p(f"<b>{esc(k)}</b>: {esc(v)}", self.s.small)
                for k, v in self.doc["methods"].items()]
        out += [self.p(f"<b>Warning</b>: {esc(n)}", self.s.small)
                for n in self.doc.get("warnings", [])]
        out += [self.p(f"Note: {esc(n)}", self.s.small) for n in self.doc.get("notes", [])]
        return out

    def signatures(self, boxes: int) -> list[Any]:
        out: list[Any] = [self.h("Signatures"),
                          self.p("The boxes below are reserved for PAdES signatures of the "
                                 "committee. A signature covers every byte of the report, "
                                 "including the attached dossier."),
                          self.p(f"Attached dossier: {esc(self.name)}, SHA-256 "
                                 f"<font face='DejaVuSansMono' size='7.5'>{self.sha}</font>"),
                          Spacer(1, 8)]
        for i in range(boxes):
            out += [self.p(f"<b>{SIGNATURE_LABELS[i]}</b>"),
                    SignatureBox(f"Signature{i + 1}", SIGNATURE_LABELS[i], *SIG_BOX, self.slots),
                    Spacer(1, 12)]
        return [KeepTogether(out)]

    def story(self, boxes: int) -> list[Any]:
        return [*self.cover(), PageBreak(), *self.vendors(), *self.summary(),
                *self.operating_points(), *self.paired(), PageBreak(), *self.per_group(),
                PageBreak(), *self.decision_curves(), *self.capacity_and_gates(),
                *self.provenance(), PageBreak(), *self.signatures(boxes)]


def build_comparison_report(dossier: bytes, *, name: str = DOSSIER_NAME,
                            signature_boxes: int = 2, signer: str | None = None,
                            generated: dt.datetime | None = None) -> ComparisonReport:
    """The PDF of one comparison dossier (``probity-comparison/1`` JSON bytes)."""
    from assessment.compare import COMPARISON_FORMAT
    from assessment.errors import ReportError

    try:
        doc = json.loads(dossier)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReportError(f"{name} is not a comparison dossier (not JSON: {exc}).") from None
    if not isinstance(doc, dict) or doc.get("format") != COMPARISON_FORMAT:
        raise ReportError(f"{name} is not a {COMPARISON_FORMAT} comparison dossier.")
    if not 1 <= signature_boxes <= len(SIGNATURE_LABELS):
        raise ReportError(f"--signature-boxes must be 1 to {len(SIGNATURE_LABELS)}.")
    from assessment.compare.sources import MAX_NAME_CHARS

    for m in doc.get("models") or []:
        model = m.get("name") if isinstance(m, dict) else None
        if isinstance(model, str) and len(model) > MAX_NAME_CHARS:
            raise ReportError(
                f"{name}: the model name {model[:30]!r}… has {len(model):,} characters; a "
                f"report takes names of at most {MAX_NAME_CHARS} (run the comparison again "
                "with a shorter --model name)."
            )
    register_fonts()
    from reportlab import rl_config

    rl_config.useA85 = 0
    sha = hashlib.sha256(dossier).hexdigest()
    when = (generated or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    b = _Builder(doc, sha, name, when, signer)
    buf = BytesIO()
    template = ReportTemplate(
        buf, header="Probity procurement comparison · " + ", ".join(b.names),
        title="Procurement comparison: " + ", ".join(b.names), author=signer or "Probity",
        subject="Paired comparison of clinical prediction models on the same patients",
        keywords=["procurement comparison", f"assessment-sha256:{sha}"],
        creator=f"Probity {_version('probity')}", lang="en",
    )
    template.build(b.story(signature_boxes),
                   canvasmaker=numbered_canvas(f"Dossier SHA-256 {sha[:16]}…"))
    pdf = finish_pdf(buf.getvalue(), dossier, b.slots, name=name)
    return ComparisonReport(data=pdf, pages=template.page, slots=b.slots, sha256=sha)
