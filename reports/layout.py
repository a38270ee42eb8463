"""Page furniture for the report: styles, the document template (outline, metadata, running
header and "Page X of Y" footer) and the flowable that reserves the signature boxes.

All text uses the bundled DejaVu fonts (reports.fonts); nothing falls back to the
non-embedded standard-14 fonts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph

from reports.attachment import SignatureSlot
from reports.fonts import MONO, SANS, SANS_BOLD

PAGE = A4
MARGIN = 18 * mm
FRAME_WIDTH = PAGE[0] - 2 * MARGIN
INK = colors.HexColor("#1A1A1A")
ACCENT = colors.HexColor("#1F4E79")
RULE = colors.HexColor("#B8C4D0")
HEAD_BG = colors.HexColor("#DCE6F0")
ZEBRA = colors.HexColor("#F5F7FA")


@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    subtitle: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    cell_small: ParagraphStyle
    mono: ParagraphStyle
    centre: ParagraphStyle


def make_styles() -> Styles:
    base = ParagraphStyle("body", fontName=SANS, fontSize=9.5, leading=12.5, textColor=INK,
                          spaceAfter=4)
    return Styles(
        title=ParagraphStyle("title", parent=base, fontName=SANS_BOLD, fontSize=22, leading=27,
                             textColor=ACCENT, spaceAfter=8),
        subtitle=ParagraphStyle("subtitle", parent=base, fontSize=12.5, leading=16, spaceAfter=14),
        h1=ParagraphStyle("h1", parent=base, fontName=SANS_BOLD, fontSize=15, leading=19,
                          textColor=ACCENT, spaceBefore=4, spaceAfter=8),
        h2=ParagraphStyle("h2", parent=base, fontName=SANS_BOLD, fontSize=12, leading=15,
                          textColor=ACCENT, spaceBefore=10, spaceAfter=5),
        h3=ParagraphStyle("h3", parent=base, fontName=SANS_BOLD, fontSize=10, leading=13,
                          spaceBefore=6, spaceAfter=3),
        body=base,
        small=ParagraphStyle("small", parent=base, fontSize=8, leading=10.2),
        cell=ParagraphStyle("cell", parent=base, fontSize=8, leading=10, spaceAfter=0),
        cell_bold=ParagraphStyle("cellb", parent=base, fontName=SANS_BOLD, fontSize=8,
                                 leading=10, spaceAfter=0),
        cell_small=ParagraphStyle("cells", parent=base, fontSize=7, leading=8.6, spaceAfter=0),
        mono=ParagraphStyle("mono", parent=base, fontName=MONO, fontSize=7.5, leading=9.5,
                            spaceAfter=0),
        centre=ParagraphStyle("centre", parent=base, fontSize=8, leading=10, alignment=TA_CENTER,
                              spaceAfter=0),
    )


class Heading(Paragraph):
    """A paragraph that becomes a PDF outline entry (bookmark) at ``level``."""

    def __init__(self, text: str, style: ParagraphStyle, level: int, outline: str) -> None:
        super().__init__(text, style)
        self.outline_level = level
        self.outline_title = outline


class SignatureBox(Flowable):
    """Reserves an empty box on the signature page and records where it landed, so pyHanko can
    put a signature field exactly there after the build (reportlab cannot make /Sig fields)."""

    def __init__(self, field_name: str, label: str, width: float, height: float,
                 sink: list[SignatureSlot]) -> None:
        super().__init__()
        self.field_name, self.label = field_name, label
        self.width, self.height = width, height
        self.sink = sink

    def draw(self) -> None:
        canv = self.canv
        canv.saveState()
        canv.setStrokeColor(RULE)
        canv.setDash(3, 2)
        canv.rect(0, 0, self.width, self.height, stroke=1, fill=0)
        canv.setFont(SANS, 8)
        canv.setFillColor(colors.HexColor("#8A96A3"))
        canv.drawCentredString(self.width / 2, self.height / 2 - 3, "Not signed yet")
        canv.restoreState()
        x, y = canv.absolutePosition(0, 0)
        self.sink.append(SignatureSlot(self.field_name, canv.getPageNumber() - 1,
                                       (x, y, x + self.width, y + self.height), self.label))


class ReportTemplate(BaseDocTemplate):
    """A4 portrait; bookmarks from Heading flowables; header/footer drawn by NumberedCanvas."""

    def __init__(self, target: Any, *, header: str, **meta: Any) -> None:
        super().__init__(target, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN,
                         topMargin=MARGIN + 4 * mm, bottomMargin=MARGIN, initialFontName=SANS,
                         initialFontSize=9, **meta)
        self.header = header
        frame = Frame(MARGIN, MARGIN, FRAME_WIDTH, PAGE[1] - 2 * MARGIN - 4 * mm, id="body",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._decorate)])
        self._bookmarks = 0
        self._last_level = -1

    def _decorate(self, canv: Canvas, doc: Any) -> None:
        canv.saveState()
        canv.setFont(SANS, 7.5)
        canv.setFillColor(colors.HexColor("#5A6673"))
        canv.drawString(MARGIN, PAGE[1] - MARGIN + 2 * mm, self.header)
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.5)
        y = PAGE[1] - MARGIN + 0.5 * mm
        canv.line(MARGIN, y, PAGE[0] - MARGIN, y)
        canv.restoreState()

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 - reportlab hook name
        if isinstance(flowable, Heading):
            key = f"h{self._bookmarks}"
            self._bookmarks += 1
            level = min(flowable.outline_level, self._last_level + 1)  # outline can't skip levels
            self._last_level = level
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(flowable.outline_title, key, level, closed=level > 0)


class NumberedCanvas(Canvas):
    """Writes "Page X of Y" in every footer. Y is a form XObject defined when the canvas is
    saved (a forward reference), so pages are emitted as they are drawn and bookmarks keep
    pointing at the right page."""

    footer_left = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initialFontName", SANS)
        super().__init__(*args, **kwargs)

    def showPage(self) -> None:  # noqa: N802 - reportlab API
        self._footer()
        super().showPage()

    def save(self) -> None:
        self.beginForm("pageTotal")
        self.setFont(SANS, 7.5)
        self.setFillColor(colors.HexColor("#5A6673"))
        self.drawString(0, 0, str(self.getPageNumber() - 1))
        self.endForm()
        super().save()

    def _footer(self) -> None:
        self.saveState()
        self.setFont(SANS, 7.5)
        self.setFillColor(colors.HexColor("#5A6673"))
        y = MARGIN - 9 * mm
        self.drawString(MARGIN, y, self.footer_left)
        text = f"Page {self.getPageNumber()} of "
        x = PAGE[0] - MARGIN - 14 - self.stringWidth(text, SANS, 7.5)
        self.drawString(x, y, text)
        self.translate(x + self.stringWidth(text, SANS, 7.5), y)
        self.doForm("pageTotal")
        self.restoreState()


def numbered_canvas(footer: str) -> type[NumberedCanvas]:
    """A NumberedCanvas subclass carrying this report's footer text."""
    return type("ReportCanvas", (NumberedCanvas,), {"footer_left": footer})
