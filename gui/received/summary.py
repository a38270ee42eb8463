"""The read-only summary of a received assessment: who assessed what, and every judgement.

Built from the document's own accessors and the instrument's domain names; all text is escaped
(a column or model name such as ``<b>x</b>`` shows as typed).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from assessment.catalogue import level_label

if TYPE_CHECKING:
    from assessment.document import Assessment


def assessment_html(doc: Assessment) -> str:
    esc = html.escape
    reviewer = doc.reviewer
    who = ", ".join(x for x in (reviewer.name, reviewer.role, reviewer.organisation) if x)
    parts = [
        f"<h3>{esc(doc.title)}</h3>",
        f"<p><b>Instrument:</b> {esc(doc.instrument.title)}<br>",
        f"<b>Reviewer:</b> {esc(who or 'not stated')}<br>",
        f"<b>Last modified:</b> {esc(doc.modified)}</p>",
        "<table border='1' cellspacing='0' cellpadding='3'>"
        "<tr><th>Part</th><th>Domain</th><th>Judgement</th><th>Applicability</th></tr>",
    ]
    for part in doc.instrument.parts:
        for domain in part.domains:
            judgement = doc.domain_judgement(domain.key)
            applicability = (level_label(judgement.applicability)
                             if domain.applicability is not None else "")
            parts.append(
                f"<tr><td>{esc(part.label)}</td><td>{esc(domain.name)}</td>"
                f"<td>{esc(level_label(judgement.final))}</td><td>{esc(applicability)}</td></tr>"
            )
    parts.append("</table>")
    if doc.notes.strip():
        parts.append(f"<p><b>Notes:</b> {esc(doc.notes)}</p>")
    return "".join(parts)
