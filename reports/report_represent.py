"""Report sections about representativeness inputs: the reference population's source, the
group-label map the evaluation used, the datasheet's under-represented (UBR) characteristics and
the ML-friendly checklist, and the summary-page finding for characteristics not collected."""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Spacer

from assessment.evaluation.group_map import UNMAPPED_LABEL, UNMAPPED_REASON, map_rows
from assessment.populations import describe_source
from assessment.ubr import catalogue, checklist_rows, findings, ubr_rows
from reports.layout import FRAME_WIDTH
from reports.markup import esc
from reports.report_base import SectionBuilder


class RepresentSections(SectionBuilder):
    """Sections about where the comparison figures come from and what the datasheet lacks."""

    # ------------------------------------------------------------------ summary page
    def datasheet_findings(self) -> list[Any]:
        """'Not collected' UBR characteristics as findings (shown on the summary page)."""
        items = findings(self.doc.datasheet)
        if not items:
            return []
        return [self.heading("Training data: under-represented groups", 1)] + [
            self.p("• " + esc(f), self.s.small) for f in items
        ]

    # ------------------------------------------------------------------ demographics
    def population_source(self) -> list[Any]:
        """The reference population's citation and year, as the document records it."""
        if not self.doc.reference_population:
            return [self.p("Reference population: none given.", self.s.small)]
        return [self.p("<b>Reference population:</b> "
                       + esc(describe_source(self.doc.reference_population_source)),
                       self.s.small)]

    def group_map_table(self) -> list[Any]:
        """The data value → datasheet category map the evaluation used, and unmapped values."""
        record = self.record
        result = record.result if record is not None else None
        # the map the run used (a spec stores it only when set); None: no run, or run without one
        used = (record.spec.group_map or None) if result and record and record.spec else None
        group_map = used if used is not None else self.doc.group_maps
        out: list[Any] = [self.heading("Group-label map", 1)]
        rows: list[list[Any]] = [["Data attribute", "Data value", "Datasheet category"]]
        rows += [[self.cell(a), self.cell(v), self.cell(c)] for a, v, c in map_rows(group_map)]
        unmapped = [
            (r.attribute, r.group)
            for r in (result.representativeness if result is not None else ())
            if (r.reason or "").startswith(UNMAPPED_REASON)
        ]
        rows += [[self.cell(a), self.cell(v), self.cell(UNMAPPED_LABEL, bold=True)]
                 for a, v in unmapped]
        source = ("the evaluation's settings" if self.result and used is not None
                  else "the assessment (not yet used by an evaluation)")
        if len(rows) == 1:
            return out + [self.p("No group-label map: data values were matched to datasheet "
                                 "categories by name only.", self.s.small)]
        out.append(self.p(f"From {esc(source)}. Values with the same name as a category need "
                          "no entry; unmapped values are shown but not compared.", self.s.small))
        if self.result and used is not None and used != self.doc.group_maps:
            out.append(self.p("<b>The assessment's group-label map has changed since this "
                              "evaluation ran; re-run it to use the current map.</b>",
                              self.s.small))
        out += [self.table(rows, [130, 150, FRAME_WIDTH - 280]), Spacer(1, 6)]
        return out

    # ------------------------------------------------------------------ datasheet
    def ubr_section(self, values: dict[str, Any]) -> list[Any]:
        """The UBR characteristics table and the ML-friendly checklist."""
        cat = catalogue()
        out: list[Any] = [self.heading(cat.ubr.title, 1),
                          self.p(esc(cat.ubr.citation), self.s.small)]
        rows: list[list[Any]] = [["Characteristic", "Under-represented group", "Status",
                                  "UBR of recorded"]]
        for label, definition, status, counts in ubr_rows(values):
            rows.append([self.cell(label, bold=True), self.cell(definition, small=True),
                         self.cell(status, bold=status == "not collected"), self.cell(counts)])
        out.append(self.table(rows, [95, 190, 75, FRAME_WIDTH - 360]))
        out += [self.heading(cat.checklist.title, 1),
                self.p(esc(cat.checklist.citation), self.s.small)]
        crow: list[list[Any]] = [["Criterion", "Met"]]
        crow += [[self.cell(label), self.cell(answer)] for label, answer in
                 checklist_rows(values)]
        out.append(self.table(crow, [260, FRAME_WIDTH - 260]))
        return out
