"""Build the assessment report (PDF) from an Assessment, judge(doc) and its evaluation result.

The report is built from the document and the stored evaluation result alone, so the same
.probity file always gives the same content. Every user-supplied string passes through
reports.markup.esc before it reaches a Paragraph. After the reportlab build, the .probity file
is embedded as a PDF attachment and empty signature fields are added over the reserved boxes
(reports.attachment); signing is a separate step (reports.signing).

Traffic-light convention (robvis style, stated in the legend): Low = green circle with "+",
Unclear = yellow circle with "?", High = red circle with "−", not rated = grey circle with "·".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportlab.lib import colors
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    LongTable,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from assessment.catalogue import (
    FOREST_METRICS,
    METRIC_LABELS,
    NOT_RATED,
    metric_label,
    summary_measure_label,
)
from assessment.document import AuditEntry
from reports import charts
from reports.attachment import ExtraFile, SignatureSlot, finish_pdf
from reports.fonts import SANS, SANS_BOLD, missing_glyphs, register_fonts
from reports.layout import (
    FRAME_WIDTH,
    HEAD_BG,
    RULE,
    ZEBRA,
    Heading,
    ReportTemplate,
    SignatureBox,
    Styles,
    make_styles,
    numbered_canvas,
)
from reports.markup import esc
from reports.model import ReportModel, Signer, report_model

if TYPE_CHECKING:
    from assessment.document import Assessment
    from assessment.judgement import Judgement

METRICS_PER_TABLE = 4
SIGNATURE_LABELS = ("Reviewer", "Second reviewer (countersignature)", "Third signatory")
SIG_BOX = (260.0, 95.0)
AUDIT_LAST = 100  # audit entries printed in the appendix; the full log is attached
AUDIT_ATTACHMENT = "audit-log.csv"
AUDIT_CELL = 400  # characters of a change summary printed (wrapped) in the appendix


@dataclass
class ReportInfo:
    """What was built: the PDF bytes (also written to ``out_path`` if given) and facts about it."""

    data: bytes
    out_path: Path | None
    pages: int
    slots: list[SignatureSlot]
    assessment_name: str
    assessment_sha256: str
    charts: int
    warnings: list[str] = field(default_factory=list)
    model: ReportModel | None = None


def build_report(
    doc: Assessment,
    *,
    out_path: str | Path | None = None,
    source_bytes: bytes | None = None,
    source_name: str = "assessment.probity",
    signature_boxes: int = 2,
    generated: dt.datetime | None = None,
    signer: Signer | None = None,
) -> ReportInfo:
    """Render the report of one snapshot. ``source_bytes`` is the .probity file to embed
    (byte-for-byte) and the report states exactly what it holds; without it the document is
    serialised with assessment.storage.dumps. ``signer``: who will sign (named on the cover)."""
    from assessment.judgement import judge
    from assessment.storage import atomic_write_bytes, dumps, loads

    register_fonts()
    from reportlab import rl_config

    rl_config.useA85 = 0  # binary (Flate only) streams: smaller and faster than ASCII85 text
    if not 1 <= signature_boxes <= len(SIGNATURE_LABELS):
        raise ValueError(f"signature_boxes must be 1..{len(SIGNATURE_LABELS)}")
    embedded = source_bytes if source_bytes is not None else dumps(doc)
    if source_bytes is not None:  # one snapshot: the report says what the attachment holds
        doc = loads(source_bytes, source=source_name)
    sha = hashlib.sha256(embedded).hexdigest()
    when = (generated or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    model = report_model(doc, signer=signer)
    builder = _Builder(doc, judge(doc), make_styles(), sha, source_name, when, model)
    story = builder.story(signature_boxes)
    buf = BytesIO()
    reviewer = doc.reviewer
    template = ReportTemplate(
        buf,
        header=f"Probity assessment report · {doc.title}",
        title=f"Risk-of-bias assessment: {doc.title}",
        author=reviewer.name or "Probity reviewer",
        subject=f"{doc.instrument.title} assessment of {doc.title}",
        keywords=["PROBAST", doc.instrument_id, "risk of bias", "subgroup evaluation",
                  f"assessment-sha256:{sha}"],
        creator=f"Probity {_version('probity')}",
        lang="en",
    )
    template.build(story, canvasmaker=numbered_canvas(f"Assessment SHA-256 {sha[:16]}…"))
    from assessment import audit as audit_log

    full_log = ExtraFile(AUDIT_ATTACHMENT, audit_log.csv_bytes(doc.audit_raw), "text/csv",
                         "The complete audit log of the assessment, one row per change")
    pdf = finish_pdf(buf.getvalue(), embedded, builder.slots, name=source_name,
                     extra=[full_log])
    if out_path is not None:
        out_path = Path(out_path)
        atomic_write_bytes(out_path, pdf)
    return ReportInfo(
        data=pdf, out_path=out_path, pages=template.page, slots=list(builder.slots),
        assessment_name=source_name, assessment_sha256=sha, charts=builder.chart_count,
        warnings=list(dict.fromkeys([*model.warnings, *builder.warnings])),
        model=model,
    )


def _count(n: float) -> str:
    """A count as typed in the datasheet (500, not 500.0)."""
    return f"{n:g}" if n != int(n) else f"{int(n)}"


def _when(ts: str) -> str:
    """An audit timestamp as the appendix prints it (UTC, no offset)."""
    return ts.replace("T", " ").replace("+00:00", "")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clip_cell(text: str, width: float, size: float = 7) -> str:
    """Plain (unparsed, fast) table text cut to the column width; used for data labels that
    are printed in full elsewhere in the report."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = " ".join(str(text)[: int(width / (size * 0.25)) + 2].split())  # no glyph is narrower
    limit = width - 6
    if stringWidth(text, SANS, size) <= limit:
        return text
    lo, hi = 0, len(text)  # longest prefix that fits with the ellipsis (binary search)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if stringWidth(text[:mid] + "…", SANS, size) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _ci(entry: dict[str, Any] | None, digits: int = 3) -> str:
    if not entry or entry.get("value") is None:
        return "—"
    text = _fmt(entry["value"], digits)
    if entry.get("ci_low") is not None and entry.get("ci_high") is not None:
        text += f" [{_fmt(entry['ci_low'], digits)}, {_fmt(entry['ci_high'], digits)}]"
    return text


def _level(level: str | None, labels: dict[str, str] | Any) -> str:
    return NOT_RATED if level is None else str(labels.get(level, level))


class _Builder:
    """Turns one assessment into a list of flowables (one method per report section)."""

    def __init__(self, doc: Assessment, judgement: Judgement, styles: Styles, sha: str,
                 source_name: str, when: dt.datetime, model: ReportModel) -> None:
        self.doc, self.j, self.s, self.model = doc, judgement, styles, model
        self.sha, self.source_name, self.when = sha, source_name, when
        self.inst = doc.instrument
        self.result: dict[str, Any] | None = (doc.evaluation or {}).get("result")
        self.slots: list[SignatureSlot] = []
        self.chart_count = 0
        self.warnings: list[str] = []

    # ------------------------------------------------------------------ helpers
    def p(self, markup: str, style: Any = None) -> Paragraph:
        return Paragraph(markup, style or self.s.body)

    def cell(self, value: Any, bold: bool = False, small: bool = False) -> Paragraph:
        style = self.s.cell_bold if bold else (self.s.cell_small if small else self.s.cell)
        return Paragraph(esc(value), style)

    def heading(self, text: str, level: int = 0) -> Heading:
        style = (self.s.h1, self.s.h2, self.s.h3)[level]
        return Heading(esc(text), style, level, text)

    def table(self, rows: list[list[Any]], widths: Sequence[float], *, header: int = 1,
              long: bool = False, extra: Iterable[tuple[Any, ...]] = ()) -> Table:
        cls = LongTable if long else Table
        t = cls(rows, colWidths=list(widths), repeatRows=header, hAlign="LEFT")
        style: list[tuple[Any, ...]] = [
            ("FONT", (0, 0), (-1, -1), SANS, 8),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.4, RULE),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ]
        if header:
            style += [("BACKGROUND", (0, 0), (-1, header - 1), HEAD_BG),
                      ("FONT", (0, 0), (-1, header - 1), SANS_BOLD, 8)]
        if len(rows) > header + 1:
            style.append(("ROWBACKGROUNDS", (0, header), (-1, -1), [None, ZEBRA]))
        style.extend(extra)
        t.setStyle(TableStyle(style))
        return t

    def kv_table(self, pairs: list[tuple[str, Any]], key_width: float = 150) -> Table:
        rows = [[self.cell(k, bold=True), self.cell(v)] for k, v in pairs]
        return self.table(rows, [key_width, FRAME_WIDTH - key_width], header=0)

    def check_glyphs(self, *texts: str) -> None:
        missing = set().union(*(missing_glyphs(t) for t in texts if t))
        if missing:
            self.warnings.append(
                "Characters not in the bundled font print as boxes: " + "".join(sorted(missing))
            )

    def _slot_label(self, key: str) -> str:
        if "@" not in key:
            return ""
        tail = key.split("@", 1)[1]
        for opt in (*self.inst.columns, *self.inst.performance_types):
            if opt.id == tail:
                return str(opt.label)
        return tail

    # ------------------------------------------------------------------ story
    def story(self, signature_boxes: int) -> list[Any]:
        out: list[Any] = []
        out += self.cover()
        out += [PageBreak()] + self.summary()
        out += [PageBreak()] + self.review_question()
        out += self.domains()
        out += [PageBreak()] + self.forms()
        out += self.demographics()
        out += [PageBreak()] + self.subgroups()
        out += [PageBreak()] + self.provenance()
        out += [PageBreak()] + self.audit()
        out += [PageBreak()] + self.signature_page(signature_boxes)
        return out

    def cover(self) -> list[Any]:
        doc, mc = self.doc, self.doc.model_card
        reviewer = doc.reviewer
        st = doc.study_type
        study = self.inst.study_type(st).label if st else "Not chosen"
        self.check_glyphs(doc.title, reviewer.name, reviewer.organisation)
        pairs = [
            ("Model", mc.get("model_name") or "—"),
            ("Version", mc.get("model_version") or "—"),
            ("Developer", mc.get("developer") or "—"),
            ("Intended use", mc.get("intended_use") or "—"),
            ("Study type", study),
            ("Instrument", f"{self.inst.title} ({self.inst.id}, version {self.inst.version})"),
            ("Assessed by", ", ".join(x for x in (reviewer.name, reviewer.role,
                                                  reviewer.organisation) if x) or "—"),
            ("Signed by", self.model.signed_by.describe() if self.model.signed_by
             else "not signed (see the signature page)"),
            ("Report date", f"{self.when:%Y-%m-%d %H:%M} UTC"),
            ("Assessment file", self.source_name),
            ("Assessment SHA-256", self.sha),
            ("Assessment status", self.model.status),
            ("Probity version", _version("probity")),
        ]
        return [
            Spacer(1, 40),
            Heading("Risk-of-bias assessment report", self.s.title, 0, "Cover"),
            self.p(esc(doc.title), self.s.subtitle),
            self.kv_table(pairs, 120),
            Spacer(1, 14),
            self.p("This report states the whole assessment: the reviewer's answers to every "
                   "signalling question with rationale and sources, the domain and overall "
                   "judgements, the model card and datasheet, and the subgroup evaluation with "
                   "its provenance. The assessment file is attached to this PDF; "
                   "<font face='DejaVuSansMono'>probity extract</font> gives it back and "
                   "<font face='DejaVuSansMono'>probity verify</font> checks the signatures.",
                   self.s.small),
        ]

    # ------------------------------------------------------------------ summary
    def summary(self) -> list[Any]:
        out: list[Any] = [self.heading("Summary")]
        banner = self.model.stale_banner
        if banner:
            box = Table([[self.p(esc(banner), self.s.body)]], colWidths=[FRAME_WIDTH],
                        hAlign="LEFT")
            box.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), SANS, 8),
                                     ("BOX", (0, 0), (-1, -1), 1.2, colors.HexColor("#B42318")),
                                     ("BACKGROUND", (0, 0), (-1, -1),
                                      colors.HexColor("#FDECEA")),
                                     ("LEFTPADDING", (0, 0), (-1, -1), 6),
                                     ("TOPPADDING", (0, 0), (-1, -1), 5),
                                     ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
            out += [box, Spacer(1, 8)]
        levels = self.inst.levels
        rows: list[list[Any]] = [["Overall judgement", "Rating"]]
        for o in self.j.overall:
            value = _level(o.value, levels) + (" (provisional)" if o.provisional else "")
            rows.append([self.cell(o.label), self._light_cell(o.value, value)])
        if len(rows) > 1:
            out.append(self.table(rows, [260, FRAME_WIDTH - 260]))
        else:
            out.append(self.p("No overall judgement yet: choose the study type first."))
        out += [Spacer(1, 8), self.heading("Domain judgements (traffic lights)", 1)]
        out += self.traffic_lights()
        if self.j.problems:
            out += [self.heading("Open items", 1)]
            out += [self.p("• " + esc(p), self.s.small) for p in self.j.problems]
        if self.j.prompts:
            out += [self.heading("Points for the reviewer to consider", 1)]
            out += [self.p("• " + esc(p), self.s.small) for p in self.j.prompts]
        out += [self.heading("Key subgroup findings", 1)]
        out += self.key_findings()
        return out

    def _light_cell(self, level: str | None, text: str) -> Table:
        t = Table([[charts.traffic_light(level), self.cell(text)]], colWidths=[17, None],
                  hAlign="LEFT")
        t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), SANS, 8),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("TOPPADDING", (0, 0), (-1, -1), 0),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
        return t

    def traffic_lights(self) -> list[Any]:
        levels = self.inst.levels
        if not self.j.domains:
            return [self.p("No domains to show until the study type is chosen.")]
        parts = [p for p in self.inst.parts if any(d.part == p.id for d in self.j.domains)]
        header = ["Domain"]
        for part in parts:
            prefix = f"{part.label}: " if len(parts) > 1 else ""
            header += [prefix + part.judgement_label, prefix + "Applicability"]
        rows: list[list[Any]] = [[self.cell(h, bold=True) for h in header]]
        names: list[str] = []
        for dom in self.j.domains:
            if dom.domain not in names:
                names.append(dom.domain)
        for did in names:
            row: list[Any] = []
            label = ""
            for part in parts:
                d = next((x for x in self.j.domains if x.part == part.id and x.domain == did),
                         None)
                if d is None:
                    row += ["", ""]
                    continue
                label = label or f"{did} {d.name}"
                row.append(self._light_cell(d.final, _level(d.final, levels)))
                row.append(self._light_cell(d.applicability, _level(d.applicability, levels))
                           if d.has_applicability else self.cell("not assessed (no applicability "
                                                                 "question)", small=True))
            rows.append([self.cell(label), *row])
        n = len(header) - 1
        first = 150.0
        width = (FRAME_WIDTH - first) / n
        legend = Table([[charts.traffic_light(k), self.cell(v[2])]
                        for k, v in charts.LIGHTS.items()], colWidths=[17, 70], hAlign="LEFT")
        legend.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), SANS, 8),
                                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
        return [
            self.table(rows, [first] + [width] * n),
            Spacer(1, 4),
            self.p("Legend (robvis convention, colour and symbol): green “+” low, yellow “?” "
                   "unclear, red “−” high risk of bias or concern; grey “·” not rated yet. "
                   "The final judgement is shown; suggested judgements are in the domain "
                   "sections.", self.s.small),
            legend,
        ]

    def key_findings(self) -> list[Any]:
        r = self.result
        if not r:
            return [self.p("No subgroup evaluation is attached to this assessment.")]
        out: list[Any] = []
        out += self.headline_measures()
        # the adjusted flag (results from before the multiplicity adjustment have only "flagged")
        flagged = [d for d in r.get("disparities", [])
                   if d.get("flagged_adjusted", d.get("flagged"))]
        small = {(g["attribute"], g["group"]) for g in r.get("groups", [])
                 if "insufficient_data" in (g.get("flags") or [])}
        # groups with enough data first; a gap of an insufficient-data group is marked
        flagged.sort(key=lambda d: ((d["attribute"], d["group"]) in small
                                    or (d.get("reason") or "").startswith("insufficient")))
        if flagged:
            spec = r.get("spec") or {}
            method = {"holm": "Holm", "bh": "Benjamini–Hochberg"}.get(
                spec.get("multiplicity", "holm"), "Holm")
            raw = sum(bool(d.get("flagged")) for d in r.get("disparities", []))
            rows: list[list[Any]] = [["Attribute", "Group vs reference", "Metric",
                                      "Difference [95% CI]", "Ratio [95% CI]"]]
            for d in flagged:
                thin_mark = ((d["attribute"], d["group"]) in small
                             or (d.get("reason") or "").startswith("insufficient"))
                label = f"{d['group']} vs {d['reference']}" + (" ⚠ insufficient data"
                                                                if thin_mark else "")
                rows.append([_clip_cell(d["attribute"], 68), _clip_cell(label, 148),
                             metric_label(d["metric"]),
                             _ci(d.get("difference")), _ci(d.get("ratio"))])
            out += [self.p(esc(f"{len(flagged)} flagged disparities after the {method} "
                               "adjustment within each metric family "
                               f"({raw} on unadjusted intervals): the gap is beyond the metric's "
                               "tolerance, its 95% interval excludes parity and its adjusted "
                               "p-value is below 0.05. Rows marked ⚠ involve a group with "
                               "insufficient data: shown, but not firm evidence.")),
                    self.table(rows, [70, 150, 85, 94, FRAME_WIDTH - 399], long=True,
                               extra=self._compact())]
        else:
            out.append(self.p("No disparity was flagged against the tolerances in the "
                              "evaluation specification after the multiplicity adjustment."))
        thin = [g for g in r.get("groups", []) if "insufficient_data" in (g.get("flags") or [])]
        if thin:
            out.append(self.p(f"<b>{len(thin)} groups with insufficient data</b> (shown in the "
                              "tables, estimates unreliable):"))
            out += [self.p("• " + esc(f"{g['attribute']} = {g['group']}: "
                                      + "; ".join(g.get("flag_reasons") or [])), self.s.small)
                    for g in thin]
        out += self.missingness_findings()
        reps = [x for x in r.get("representativeness", []) if x.get("flag")]
        if reps:
            out.append(self.p(f"<b>{len(reps)} representativeness flags</b>:"))
            out += [self.p("• " + esc(f"{x['attribute']} = {x['group']}: "
                                      f"{x['flag'].replace('_', ' ')} — {x.get('reason') or ''}"),
                           self.s.small) for x in reps]
        else:
            out.append(self.p("No representativeness flag."))
        return out

    def headline_measures(self) -> list[Any]:
        """Summary fairness measures: computed over groups with sufficient data only."""
        summ = [x for x in (self.result or {}).get("summary") or []
                if x.get("value") is not None]
        if not summ:
            return []
        rows: list[list[Any]] = [["Attribute", "Measure", "Value [95% CI]", "Set by"]]
        for x in summ:
            by = " vs ".join(x.get("set_by") or [])
            left = x.get("excluded_groups") or {}
            note = by + (f"; {len(left)} group(s) with insufficient data left out" if left
                         else "")
            rows.append([_clip_cell(x["attribute"], 78),
                         summary_measure_label(x["measure"]), _ci(x),
                         _clip_cell(note or "—", FRAME_WIDTH - 330)])
        return [self.p("Headline measures (over groups with sufficient data; the groups that "
                       "set each value are named):"),
                self.table(rows, [80, 130, 120, FRAME_WIDTH - 330], extra=self._compact())]

    def missingness_findings(self) -> list[Any]:
        """Groups that lose more (or fewer) rows to exclusion than the rest."""
        rows = (self.result or {}).get("missingness") or []
        hits = [m for m in rows if m.get("flagged_adjusted") or m.get("flagged")]
        if not rows:
            return []
        if not hits:
            return [self.p("No differential missingness: no group's exclusion rate differs "
                           "from the rest beyond the tolerance with an interval excluding 0.")]
        out = [self.p(f"<b>{len(hits)} groups with differential missingness</b> (exclusion "
                      "rate vs the rest, Newcombe 95% CI; their metrics come from a selected "
                      "subset):")]
        for m in hits:
            how = "flagged after adjustment" if m.get("flagged_adjusted") else \
                "unadjusted interval only"
            out.append(self.p("• " + esc(
                f"{m['attribute']} = {m['group']}: {m['excluded']} of {m['rows_read']} rows "
                f"excluded ({(m.get('rate') or 0):.1%} vs {(m.get('rest_rate') or 0):.1%}); "
                f"difference {_ci(m.get('difference'))}; {how}"), self.s.small))
        return out

    def exclusions_table(self) -> list[Any]:
        """Excluded rows per group and reason (every group of every attribute)."""
        rows_m = (self.result or {}).get("missingness") or []
        if not rows_m:
            return []
        rows: list[list[Any]] = [["Attribute", "Group", "Rows read", "Excluded (by reason)",
                                  "Rate vs rest [95% CI]", "Flag"]]
        for m in rows_m:
            reasons = "; ".join(f"{k}: {v}" for k, v in (m.get("by_reason") or {}).items())
            flag = ("⚑ adjusted" if m.get("flagged_adjusted") else
                    "unadjusted only" if m.get("flagged") else "")
            rows.append([_clip_cell(m["attribute"], 78), _clip_cell(m["group"], 98),
                         str(m.get("rows_read")),
                         _clip_cell(f"{m.get('excluded')} ({reasons or 'none'})", 128),
                         _ci(m.get("difference")), flag])
        return [CondPageBreak(80), self.heading("Excluded rows by group", 1),
                self.p("Rows without an outcome, score or prediction are excluded (each under "
                       "its first reason). Each group's exclusion rate is compared with that of "
                       "all other rows (difference, Newcombe 95% CI); ⚑ marks a difference "
                       "beyond the tolerance whose multiplicity-adjusted p-value is below 0.05.",
                       self.s.small),
                self.table(rows, [80, 100, 50, 130, 110, FRAME_WIDTH - 470], long=True,
                           extra=self._compact())]

    # ------------------------------------------------------------------ questions
    def review_question(self) -> list[Any]:
        out: list[Any] = [self.heading("Review question")]
        rq = self.doc.review_question
        pairs = [(f.label, rq.get(f.id) or "—") for f in self.inst.review_question]
        pairs += [(k, v) for k, v in rq.items() if k not in {f.id for f in
                                                             self.inst.review_question}]
        out.append(self.kv_table(pairs, 150) if pairs else self.p("Not recorded."))
        if self.doc.performance_types:
            labels = {o.id: o.label for o in self.inst.performance_types}
            out.append(self.p("Performance types reported: " + esc(", ".join(
                labels.get(p, p) for p in self.doc.performance_types))))
        return out

    def domains(self) -> list[Any]:
        from assessment.judgement import applicable_slots

        out: list[Any] = []
        st = self.doc.study_type
        if st is None:
            return [self.p("The study type has not been chosen, so no signalling questions "
                           "apply yet.")]
        slots = applicable_slots(self.inst, st, self.doc.performance_types)
        by_question: dict[str, list[str]] = {}
        for s in slots:
            by_question.setdefault(s.question, []).append(s.key)
        answers = self.doc.answers
        labels = self.inst.answers
        levels = self.inst.levels
        for part in self.inst.parts:
            results = [d for d in self.j.domains if d.part == part.id]
            if not results:
                continue
            out += [PageBreak(), self.heading(f"Signalling questions: {part.label}")]
            for domain in part.domains:
                res = next((d for d in results if d.domain == domain.id), None)
                if res is None:
                    continue
                out += [CondPageBreak(120),
                        self.heading(f"Domain {domain.number}: {domain.name}", 1)]
                rows: list[list[Any]] = [["Question", "Answer", "Rationale", "Sources"]]
                for q in domain.questions:
                    keys = by_question.get(q.id, [])
                    if not keys:
                        continue
                    for i, key in enumerate(keys):
                        a = answers.get(key)
                        slot = self._slot_label(key)
                        value = a.value if a else None
                        shown = f"{value} — {labels.get(value, value)}" if value else \
                            "Not answered"
                        if slot:
                            shown = f"{slot}: {shown}"
                        qcell = self.p(f"<b>{esc(q.id)}</b> {esc(q.text)}", self.s.cell) \
                            if i == 0 else self.cell("")
                        sources = "; ".join(
                            f"{s.document}, {s.page}" if s.page else s.document
                            for s in (a.sources if a else ())
                        )
                        rows.append([qcell, self.cell(shown, bold=value in ("N", "PN")),
                                     self.cell(a.rationale if a and a.rationale else "—"),
                                     self.cell(sources or "—", small=True)])
                out.append(self.table(rows, [160, 74, 196, FRAME_WIDTH - 430], long=True))
                out.append(Spacer(1, 4))
                dj = self.doc.domain_judgement(res.key)
                pairs = [
                    ("Suggested from answers", _level(res.suggested, levels)),
                    (f"Final ({part.judgement_label.lower()})", _level(res.final, levels)),
                ]
                if res.final_is_override or res.rationale:
                    pairs.append(("Justification" if res.final_is_override else "Rationale",
                                  res.rationale or "— (missing)"))
                if res.has_applicability:
                    pairs.append(("Concern about applicability", _level(res.applicability,
                                                                        levels)))
                    pairs.append(("Applicability rationale", dj.applicability_rationale or "—"))
                out.append(KeepTogether([self.kv_table(pairs, 150)]))
        return out

    # ------------------------------------------------------------------ forms
    def forms(self) -> list[Any]:
        from assessment.errors import InstrumentError
        from assessment.instruments import load_form

        out: list[Any] = []
        for form_id, values, title in (("model-card", self.doc.model_card, "Model card"),
                                       ("datasheet", self.doc.datasheet, "Datasheet")):
            out += [CondPageBreak(100), self.heading(title)]
            try:
                form = load_form(form_id)
            except InstrumentError:
                form = None
            shown: set[str] = set()
            if form is not None:
                out.append(self.p(esc(f"{form.title} (version {form.version})"), self.s.small))
                for section, fields in self._sections(form):
                    rows, empty = [], []
                    for f in fields:
                        shown.add(f.id)
                        if f.type == "demographics":
                            continue
                        value = self._value(values.get(f.id))
                        if value == "—":
                            empty.append(f.label)
                            continue
                        rows.append([self.cell(f.label, bold=True), self.cell(value)])
                    out.append(self.heading(section.title, 1))
                    if rows:
                        out.append(self.table(rows, [170, FRAME_WIDTH - 170], header=0))
                    if empty:
                        out.append(self.p("<b>Not answered:</b> " + esc("; ".join(empty)),
                                          self.s.small))
            rest = [(k, v) for k, v in values.items() if k not in shown
                    and k != "training_demographics"]
            if rest:
                out += [self.heading("Other fields", 1),
                        self.kv_table([(k, self._value(v)) for k, v in rest], 170)]
            if not values:
                out.append(self.p("No answers recorded."))
        return out

    @staticmethod
    def _sections(form: Any) -> list[tuple[Any, list[Any]]]:
        return [(s, list(s.fields)) for s in form.sections]

    @staticmethod
    def _value(v: Any) -> str:
        if v is None or v == "" or v == []:
            return "—"
        if isinstance(v, bool):
            return "Yes" if v else "No"
        if isinstance(v, list):
            return ", ".join(str(x) for x in v)
        if isinstance(v, dict):
            return json.dumps(v, ensure_ascii=False, sort_keys=True)
        return str(v)

    def demographics(self) -> list[Any]:
        out: list[Any] = [CondPageBreak(150),
                          self.heading("Training cohort vs validation data vs reference "
                                       "population")]
        tables = self.model.demographics
        if not tables:
            return out + [self.p("No demographics recorded.")]
        source = ("the evaluation's inputs (see the summary if the document changed since)"
                  if self.result else "the datasheet and the reference population")
        out.append(self.p("Shares are proportions of each cohort; groups are matched ignoring "
                          "case and spacing, as the engine matches them; counts are those of "
                          f"{source}; “flag” comes from the evaluation's representativeness "
                          "check.", self.s.small))
        for t in tables:
            rows: list[list[Any]] = [["Group", "Training n (share)", "Validation n (share)",
                                      "Reference share", "Flag"]]
            for r in t.rows:
                tshare = (f"{_count(r.training_n)} ({r.training_share:.1%})"
                          if r.training_n is not None and r.training_share is not None else "—")
                vshare = (f"{r.validation_n} ({r.validation_share:.1%})"
                          if r.validation_share is not None else "—")
                flag = (r.flag or "").replace("_", " ")
                rows.append([self.cell(r.group), self.cell(tshare), self.cell(vshare),
                             self.cell(f"{r.reference_share:.1%}"
                                       if r.reference_share is not None else "—"),
                             self.cell(flag, bold=bool(flag))])
            title = t.attribute + (f" (validation data column {', '.join(t.columns)})"
                                   if t.columns else "")
            out += [self.heading(title, 1),
                    self.table(rows, [130, 95, 95, 80, FRAME_WIDTH - 400])]
        return out

    # ------------------------------------------------------------------ evaluation
    def subgroups(self) -> list[Any]:
        out: list[Any] = [self.heading("Subgroup evaluation")]
        r = self.result
        if not r:
            return out + [self.p("No subgroup evaluation is attached to this assessment.")]
        spec = r.get("spec", {})
        out.append(self.p(esc(
            f"Threshold {spec.get('threshold')}, {round(100 * float(spec.get('ci_level', 0.95)))}% "
            f"confidence intervals, bootstrap B = {spec.get('bootstrap')}, seed "
            f"{spec.get('seed')}; groups with n < {spec.get('min_n')} or fewer than "
            f"{spec.get('min_events')} events are flagged as insufficient data. "
            "Methods per metric are listed in the provenance section.")))
        groups = [r["overall"], *r.get("groups", [])] if r.get("overall") else \
            list(r.get("groups", []))
        metrics = [m for m in METRIC_LABELS if any(m in g.get("metrics", {}) for g in groups)]
        metrics += sorted({m for g in groups for m in g.get("metrics", {})} - set(metrics))
        attrs: list[str] = []
        for g in groups:
            if g["attribute"] not in attrs:
                attrs.append(g["attribute"])
        for attr in attrs:
            rows_g = [g for g in groups if g["attribute"] == attr]
            out += [CondPageBreak(140),
                    self.heading(f"Metrics by {attr}" if attr != "(all)" else
                                 "Metrics for the whole validation set", 1)]
            for i in range(0, len(metrics), METRICS_PER_TABLE):
                chunk = metrics[i : i + METRICS_PER_TABLE]
                out.append(self._metric_table(rows_g, chunk))
                out.append(Spacer(1, 6))
        out += self.disparities()
        out += self.exclusions_table()
        out += self.chart_section()
        notes = r.get("notes") or []
        if notes:
            out += [self.heading("Notes from the evaluation", 1)]
            out += [self.p("• " + esc(n), self.s.small) for n in notes]
        return out

    def _metric_table(self, groups: list[dict[str, Any]], metrics: list[str]) -> Table:
        """Numbers as plain cell strings (not parsed as markup, and fast to lay out)."""
        header = ["Group", "n", "Events"] + [metric_label(m) + " [95% CI]"
                                             for m in metrics]
        rows: list[list[Any]] = [[Paragraph(esc(h), self.s.cell_bold) for h in header]]
        for g in groups:
            label = g["group"] + (" ⚑" if g.get("flags") else "")
            row: list[Any] = [self.cell(label, small=True), str(g.get("n")), str(g.get("n_pos"))]
            for m in metrics:
                e = (g.get("metrics") or {}).get(m)
                if e is None:
                    row.append("—")
                elif e.get("value") is None:
                    row.append(self.cell(f"undefined: {e.get('reason') or 'no estimate'}",
                                         small=True))
                elif e.get("ci_low") is not None and e.get("ci_high") is not None:
                    row.append(f"{_fmt(e['value'])}\n[{_fmt(e['ci_low'])}, {_fmt(e['ci_high'])}]")
                else:
                    row.append(f"{_fmt(e['value'])}\n(no CI)")
            rows.append(row)
        first, nw, ew = 110.0, 36.0, 36.0
        mw = (FRAME_WIDTH - first - nw - ew) / len(metrics)
        return self.table(rows, [first, nw, ew] + [mw] * len(metrics), long=True,
                          extra=self._compact())

    @staticmethod
    def _compact() -> list[tuple[Any, ...]]:
        return [("FONT", (0, 0), (-1, -1), SANS, 7, 8.4),
                ("FONT", (0, 0), (-1, 0), SANS_BOLD, 7, 8.4),
                ("TOPPADDING", (0, 0), (-1, -1), 1.2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.8)]

    def disparities(self) -> list[Any]:
        r = self.result or {}
        out: list[Any] = [CondPageBreak(120), self.heading("Disparities against the reference "
                                                           "group", 1)]
        refs = r.get("references") or {}
        out.append(self.p("Each group is compared with its attribute's reference group "
                          "(difference = group − reference, ratio = group / reference, with 95% "
                          "CIs). ⚑ marks a disparity beyond its metric's tolerance whose "
                          "interval excludes parity and whose multiplicity-adjusted p-value is "
                          "below 0.05 ('unadjusted only': the interval alone); numbered notes "
                          "explain values that are undefined or not judged.", self.s.small))
        dis = r.get("disparities") or []
        attrs: list[str] = []
        for d in dis:
            if d["attribute"] not in attrs:
                attrs.append(d["attribute"])
        for attr in attrs:
            notes: dict[str, int] = {}
            rows: list[list[Any]] = [["Group", "Metric", "Difference [95% CI]",
                                      "Ratio [95% CI]", "Flag / note"]]
            for d in (x for x in dis if x["attribute"] == attr):
                flag = ""
                if d.get("flagged_adjusted", d.get("flagged")):
                    flag = "⚑ flagged"  # the reason restates the tolerance rule given above
                elif d.get("flagged"):
                    flag = "unadjusted only"
                elif d.get("reason"):
                    number = notes.setdefault(d["reason"], len(notes) + 1)
                    flag = f"note {number}"
                rows.append([_clip_cell(d["group"], 118), metric_label(d["metric"]),
                             _ci(d.get("difference")), _ci(d.get("ratio")), flag])
            out += [CondPageBreak(80),
                    self.heading(f"{attr} (reference: {refs.get(attr, '—')})", 2),
                    self.table(rows, [120, 100, 110, 110, FRAME_WIDTH - 440], long=True,
                               extra=self._compact())]
            if notes:  # one paragraph, so a page break cannot strand a single note
                out.append(self.p("<br/>".join(esc(f"Note {n}: {text}")
                                               for text, n in notes.items()), self.s.cell_small))
        if not dis:
            out.append(self.p("No disparities computed."))
        summ = r.get("summary") or []
        if summ:
            methods: dict[str, int] = {}
            rows = [["Attribute", "Measure", "Value [95% CI]", "Method"]]
            for s in summ:
                number = methods.setdefault(s.get("method") or "not stated", len(methods) + 1)
                rows.append([self.cell(s["attribute"], small=True),
                             summary_measure_label(s["measure"]), _ci(s),
                             f"method {number}"])
            out += [self.heading("Summary fairness measures", 1),
                    self.table(rows, [110, 150, 130, FRAME_WIDTH - 390],
                               extra=self._compact())]
            out += [self.p(esc(f"Method {n}: {text}"), self.s.cell_small)
                    for text, n in methods.items()]
        return out

    def chart_section(self) -> list[Any]:
        r = self.result or {}
        out: list[Any] = [PageBreak(), self.heading("Charts", 1)]
        groups = r.get("groups") or []
        overall = r.get("overall") or {}
        for metric in FOREST_METRICS:
            rows = []
            for g in groups:
                e = (g.get("metrics") or {}).get(metric)
                if e is None:
                    continue
                rows.append(charts.ForestRow(
                    label=f"{g['attribute']}: {g['group']}", value=e.get("value"),
                    low=e.get("ci_low"), high=e.get("ci_high"),
                    flagged=bool(g.get("flags")), note=e.get("reason") or ""))
            if not rows:
                continue
            ref = ((overall.get("metrics") or {}).get(metric) or {}).get("value")
            out += [CondPageBreak(60 + 13 * len(rows)),
                    self.heading(f"Forest plot: {metric_label(metric)} by group", 2),
                    charts.forest_plot(rows, metric=f"{metric_label(metric)} (95% CI)",
                                       width=FRAME_WIDTH, reference=ref,
                                       reference_label="all patients"),
                    self.p("Squares: estimates; whiskers: 95% CI; dashed line: whole validation "
                           "set; orange and ⚑: group flagged.", self.s.small)]
            self.chart_count += 1
        attrs = []
        for g in groups:
            if g["attribute"] not in attrs:
                attrs.append(g["attribute"])
        for attr in attrs:
            members = [g for g in groups if g["attribute"] == attr]
            roc = [charts.Series(f"{g['group']} (AUROC {_fmt(self._metric(g, 'auroc'))})",
                                 g["curves"]["roc"]["fpr"], g["curves"]["roc"]["tpr"])
                   for g in members if (g.get("curves") or {}).get("roc")]
            cal = [charts.Series(g["group"], g["curves"]["reliability"]["mean_predicted"],
                                 g["curves"]["reliability"]["observed"])
                   for g in members if (g.get("curves") or {}).get("reliability")]
            if not roc and not cal:
                continue
            out += [CondPageBreak(260), self.heading(f"ROC and calibration by {attr}", 2)]
            if roc:
                out.append(charts.curve_chart(roc, title=f"ROC curves by {attr}",
                                              xlabel="False positive rate (1 − specificity)",
                                              ylabel="True positive rate (sensitivity)",
                                              width=FRAME_WIDTH, diagonal="chance"))
                self.chart_count += 1
            if cal:
                out += [Spacer(1, 6),
                        charts.curve_chart(cal, title=f"Calibration by {attr} (reliability "
                                           "diagram)", xlabel="Mean predicted probability",
                                           ylabel="Observed event rate", width=FRAME_WIDTH,
                                           diagonal="perfect calibration", markers=True)]
                self.chart_count += 1
        return out

    @staticmethod
    def _metric(g: dict[str, Any], metric: str) -> float | None:
        return ((g.get("metrics") or {}).get(metric) or {}).get("value")

    # ------------------------------------------------------------------ provenance, audit
    def provenance(self) -> list[Any]:
        out: list[Any] = [self.heading("Provenance")]
        r = self.result
        pairs: list[tuple[str, Any]] = [("Assessment file", self.source_name),
                                        ("Assessment SHA-256", self.sha),
                                        ("Assessment id", self.doc.id),
                                        ("Created / modified",
                                         f"{self.doc.created} / {self.doc.modified}")]
        if r:
            pv = r.get("provenance") or {}
            spec = r.get("spec") or {}
            excluded = pv.get("excluded") or {}
            pairs += [
                ("Validation data file", pv.get("file_name")),
                ("Data SHA-256", pv.get("sha256")),
                ("Sheet", pv.get("sheet") or "—"),
                ("Rows read / used / excluded",
                 f"{pv.get('rows_read')} / {pv.get('rows_used')} / {pv.get('rows_excluded')}"),
                ("Excluded by reason", "; ".join(f"{k}: {v}" for k, v in excluded.items())
                 or "none"),
                ("Threshold", spec.get("threshold")),
                ("Seed", spec.get("seed")),
                ("Bootstrap replicates B", spec.get("bootstrap")),
                ("Confidence level", spec.get("ci_level")),
                ("Reference group rule", json.dumps(spec.get("reference"), ensure_ascii=False)),
                ("Tolerance", json.dumps(spec.get("tolerance"), ensure_ascii=False)),
                ("Tolerances per metric",
                 (r.get("methods") or {}).get("disparity_tolerance")
                 or json.dumps(spec.get("tolerances") or {}, ensure_ascii=False)),
                ("Multiplicity adjustment", spec.get("multiplicity", "holm")),
                ("Intersections", ", ".join("×".join(x) for x in spec.get("intersections") or [])
                 or "none"),
                ("Minimum n / events", f"{spec.get('min_n')} / {spec.get('min_events')}"),
                ("AUROC method / calibration bins",
                 f"{spec.get('auroc_method')} / {spec.get('calibration_bins')}"),
                ("Evaluation created", r.get("created")),
                ("Engine version", r.get("engine_version")),
            ]
        pairs += [
            ("Software", f"Probity {_version('probity')}, Python {platform.python_version()}"),
            ("Libraries", ", ".join(f"{d} {_version(d)}" for d in (
                "numpy", "pandas", "scipy", "scikit-learn", "reportlab", "pyHanko",
                "cryptography"))),
        ]
        out.append(self.kv_table(pairs, 150))
        if r:
            mapping = (r.get("provenance") or {}).get("mapping") or {}
            if mapping:
                out += [self.heading("Column mapping", 1),
                        self.kv_table([(k, self._value(v)) for k, v in mapping.items()], 150)]
            methods = r.get("methods") or {}
            if methods:
                out += [self.heading("Statistical methods", 1),
                        self.kv_table([(metric_label(k), v) for k, v in methods.items()],
                                      150)]
        if self.doc.notes.strip():
            out += [self.heading("Reviewer's notes", 1), self.p(esc(self.doc.notes))]
        return out

    def audit(self) -> list[Any]:
        """Bounded whatever the log's size: counts, then only the newest AUDIT_LAST entries; the
        whole log is attached to the PDF (AUDIT_ATTACHMENT) and is inside the assessment file."""
        from assessment import audit as audit_log

        raw = self.doc.audit_raw
        summary = audit_log.summarise(raw)
        out: list[Any] = [self.heading("Appendix: audit log")]
        span = ""
        if summary.first and summary.last:
            span = f" from {_when(summary.first)} to {_when(summary.last)} (UTC)"
        folded = (f"; {summary.coalesced:,} entries each fold successive commits of one text "
                  f"field ({summary.edits:,} commits in all)" if summary.coalesced else "")
        digests = (f"; {summary.digests:,} long values are logged by length and SHA-256 with a "
                   "summary of the change" if summary.digests else "")
        out.append(self.p(
            f"{summary.entries} recorded changes{span}{folded}{digests}. The complete log is "
            f"attached to this PDF as {AUDIT_ATTACHMENT} (one row per change) and is part of "
            f"the attached assessment file.", self.s.small))
        counts: list[list[Any]] = [["Reviewer", "Changes"]]
        counts += [[_clip_cell(name, 300), f"{n:,}"] for name, n in summary.by_reviewer[:10]]
        if len(summary.by_reviewer) > 10:
            rest = sum(n for _, n in summary.by_reviewer[10:])
            counts.append([f"{len(summary.by_reviewer) - 10:,} more reviewers", f"{rest:,}"])
        sections: list[list[Any]] = [["Part of the assessment", "Changes"]]
        sections += [[_clip_cell(name, 300), f"{n:,}"] for name, n in summary.by_section[:12]]
        if len(summary.by_section) > 12:
            rest = sum(n for _, n in summary.by_section[12:])
            sections.append([f"{len(summary.by_section) - 12:,} more", f"{rest:,}"])
        out += [self.table(counts, [300, 80], extra=self._compact()), Spacer(1, 6),
                self.table(sections, [300, 80], extra=self._compact()), Spacer(1, 8)]
        shown = raw[-AUDIT_LAST:]
        if len(raw) > len(shown):
            out.append(self.p(f"The newest {len(shown):,} of {len(raw):,} changes, oldest "
                              "first (long values are cut at the column edge):", self.s.small))
        else:
            out.append(self.p("Every change, oldest first (long values are cut at the column "
                              "edge):", self.s.small))
        rows: list[list[Any]] = [["When (UTC)", "Who", "Field", "Old → new"]]
        for e in shown:
            entry = AuditEntry.from_json(e)
            if entry.diff:  # long values: what changed, then the hashes that prove it
                change = (f"{entry.diff}; SHA-256 {self._audit_hash(entry.old)} → "
                          f"{self._audit_hash(entry.new)}")
                cell: Any = Paragraph(esc(_cut(change, AUDIT_CELL)), self.s.cell_small)
            else:
                change = f"{self._value(entry.old)} → {self._value(entry.new)}"
                cell = _clip_cell(change, FRAME_WIDTH - 278)
            when = _when(entry.ts)
            if entry.edits > 1:
                when += f" ×{entry.edits}"
            rows.append([when, _clip_cell(entry.reviewer, 76), _clip_cell(entry.field, 128), cell])
        out.append(self.table(rows, [72, 78, 128, FRAME_WIDTH - 278], long=True,
                              extra=self._compact()))
        return out

    def _audit_hash(self, value: Any) -> str:
        from assessment import audit as audit_log

        if audit_log.is_digest(value):
            return f"{str(value['sha256'])[:12]}…"
        return _cut(self._value(value), 40)

    def signature_page(self, boxes: int) -> list[Any]:
        out: list[Any] = [
            self.heading("Signatures"),
            self.p("The boxes below are reserved for PAdES digital signatures. A signature "
                   "covers every byte of the report, including the attached assessment file, "
                   "as it was when signed. The first signature certifies the report and only "
                   "allows later signatures in the remaining boxes; any other change "
                   "invalidates it. Check with <font face='DejaVuSansMono'>probity verify "
                   "REPORT.pdf</font> or any PAdES-capable PDF reader, and compare the "
                   "certificate fingerprint with the one the signer gave you."),
            self.p(f"Attached assessment: {esc(self.source_name)}, SHA-256 "
                   f"<font face='DejaVuSansMono' size='7.5'>{self.sha}</font>"),
            Spacer(1, 10),
        ]
        for i in range(boxes):
            label = SIGNATURE_LABELS[i]
            out += [self.p(f"<b>{esc(label)}</b> — box reserved for the digital signature"),
                    SignatureBox(f"Signature{i + 1}", label, *SIG_BOX, self.slots),
                    Spacer(1, 14)]
        return [KeepTogether(out)]


__all__ = ["ReportInfo", "build_report"]
