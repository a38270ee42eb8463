"""The report's evidence: the documents the reviewer assessed, and each answer's sources.

"Evidence assessed" lists every attached PDF with its title, original file name, SHA-256 (in
full, so a reader can check their copy is the one assessed) and page count; a source prints as
``title, p. 4 — “quoted text”`` (the document's current title when it is attached).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reportlab.platypus import Spacer

from assessment.document import SourceRef
from assessment.evidence import by_hash, documents, source_label
from reports.layout import FRAME_WIDTH

if TYPE_CHECKING:
    from assessment.document import Assessment
    from reports.report_base import SectionBuilder


def sources_text(doc: Assessment, sources: Iterable[SourceRef]) -> str:
    """The sources of one answer, separated by "; " ("" when there are none)."""
    table = by_hash(doc)
    return "; ".join(source_label(s, table) for s in sources)


def evidence_section(builder: SectionBuilder) -> list[Any]:
    """"Evidence assessed": one row per attached document (nothing when none is attached)."""
    entries = documents(builder.doc)
    if not entries:
        return []
    rows: list[list[Any]] = [["Title", "File", "SHA-256", "Pages"]]
    for entry in entries:
        builder.check_glyphs(entry.title, entry.file_name)
        rows.append([
            builder.cell(entry.title),
            builder.cell(entry.file_name, small=True),
            builder.cell(entry.sha256, small=True),
            builder.cell(str(entry.pages)),
        ])
    return [
        Spacer(1, 6),
        builder.heading("Evidence assessed", 1),
        builder.p("The documents the reviewer assessed, identified by SHA-256; a source below "
                  "names one of them and a page, with the quoted passage where one was marked."),
        builder.table(rows, [150, 110, FRAME_WIDTH - 300, 40]),
    ]
