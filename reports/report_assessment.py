"""Report sections about the assessment itself: review question, signalling questions and
domain judgements, model card and datasheet, demographics, audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
)

from assessment.catalogue import CONCERN_ANSWERS
from assessment.document import AuditEntry
from reports.layout import (
    FRAME_WIDTH,
)
from reports.markup import esc
from reports.report_evidence import evidence_section, sources_text
from reports.report_represent import RepresentSections

if TYPE_CHECKING:
    pass

from reports.report_base import (
    AUDIT_ATTACHMENT,
    AUDIT_CELL,
    AUDIT_LAST,
    SectionBuilder,
    _clip_cell,
    _count,
    _cut,
    _level,
    _when,
)


class AssessmentSections(RepresentSections, SectionBuilder):
    """Sections from the reviewer's answers and forms."""

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
        return out + evidence_section(self)

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
                        sources = sources_text(self.doc, a.sources if a else ())
                        rows.append([qcell, self.cell(shown, bold=value in CONCERN_ANSWERS),
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
                        if f.type in ("demographics", "ubr", "checklist"):
                            continue  # own tables (demographics, ubr_section)
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
                    if any(f.type == "ubr" for f in fields):
                        out += self.ubr_section(values)
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

    def demographics(self) -> list[Any]:
        out: list[Any] = [CondPageBreak(150),
                          self.heading("Training cohort vs validation data vs reference "
                                       "population")]
        out += self.population_source()
        out += self.group_map_table()
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
