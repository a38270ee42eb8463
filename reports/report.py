"""Build the assessment report (PDF) from one snapshot: the saved assessment and its evaluation.

The facts that must agree everywhere (who assessed and signs, open items, staleness, warnings,
the demographics table) come from the report model (reports/model.py); the sections are
rendered by reports/report_assessment.py and reports/report_evaluation.py on the shared base in
reports/report_base.py; this module assembles the story and the PDF.

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
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportlab.lib import colors
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Spacer,
    Table,
    TableStyle,
)

# Names the report's tests and callers read from here (their homes: catalogue, report_base).
from assessment.catalogue import METRIC_LABELS as METRIC_LABELS
from reports import charts
from reports.attachment import ExtraFile, SignatureSlot, finish_pdf
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
from reports.model import ReportModel, Signer, report_model
from reports.plan_sections import gates_section
from reports.report_assessment import AssessmentSections
from reports.report_base import AUDIT_ATTACHMENT, SectionBuilder, _level, _version
from reports.report_base import AUDIT_LAST as AUDIT_LAST
from reports.report_base import _fmt as _fmt
from reports.report_evaluation import EvaluationSections

if TYPE_CHECKING:
    from assessment.document import Assessment

SIGNATURE_LABELS = ("Reviewer", "Second reviewer (countersignature)", "Third signatory")
SIG_BOX = (260.0, 95.0)


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


class _Builder(AssessmentSections, EvaluationSections, SectionBuilder):
    """Turns one assessment into a list of flowables (one method per report section)."""

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
        out += self.datasheet_findings()  # UBR characteristics not collected (represent)
        out += gates_section(self)  # the evaluation plan's acceptance gates, when run with one
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
