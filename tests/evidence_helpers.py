"""Evidence PDFs for tests, written with reportlab (a runtime dependency): real text, real
pages, optionally encrypted, so PDFium reads them exactly as it reads a vendor's submission."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def make_pdf(path: Path, pages: list[str], *, title: str = "", password: str | None = None
             ) -> Path:
    """One page per text (lines split on newlines, set at 72 pt from the top-left)."""
    c = canvas.Canvas(str(path), pagesize=A4, encrypt=password, invariant=1)
    if title:
        c.setTitle(title)
    for text in pages:
        y = A4[1] - 72
        for line in text.split("\n"):
            c.drawString(72, y, line)
            y -= 16
        c.showPage()
    c.save()
    return path


SUBMISSION_PAGES = [
    "Vendor submission: ReadmitRisk 2.1",
    "Methods\nParticipants were enrolled consecutively at three hospitals.\nNo exclusions.",
    "Results\nThe area under the ROC curve was 0.81 in the external cohort.",
]
