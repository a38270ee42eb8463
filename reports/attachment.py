"""Embed the .probity file into the report and get it back out, byte for byte.

reportlab has no API for embedded files or signature fields, so both are added with pyHanko in
one incremental update right after the build and before anything is signed (signing later
appends its own revisions, which the attachment revision does not disturb). The same update
records the names of the reserved signature boxes in the catalog (``/ProbityReservedBoxes``).
"""

from __future__ import annotations

import hashlib
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from assessment.errors import ReportError

ATTACHMENT_NAME = "assessment.probity"
ATTACHMENT_MIME = "application/json"
RESERVED_BOXES_KEY = "/ProbityReservedBoxes"  # catalog: names of the reserved signature boxes


@dataclass(frozen=True)
class SignatureSlot:
    """A reserved box on the signature page: pyHanko field name, 0-based page, PDF-point box."""

    field_name: str
    page: int
    box: tuple[float, float, float, float]
    label: str


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class ExtraFile:
    """A further file embedded after the assessment (e.g. the full audit log)."""

    name: str
    data: bytes
    mime_type: str
    description: str


def finish_pdf(
    pdf: bytes,
    assessment: bytes,
    slots: list[SignatureSlot],
    *,
    name: str,
    extra: Sequence[ExtraFile] = (),
) -> bytes:
    """Add the assessment as an EmbeddedFile (Data relationship), then any ``extra`` files
    (Supplement relationship; names must sort after ``assessment.probity``, the name tree is
    flat and ordered), and empty signature fields."""
    from pyhanko.pdf_utils import embed, generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields

    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    stream = embed.EmbeddedFileObject.from_file_data(
        writer,
        data=assessment,
        mime_type=ATTACHMENT_MIME,
        params=embed.EmbeddedFileParams(embed_size=True, embed_checksum=True),
    )
    spec = embed.FileSpec(
        file_spec_string=ATTACHMENT_NAME,
        file_name=name,
        embedded_data=stream,
        description="The Probity assessment this report was built from",
        af_relationship=generic.pdf_name("/Data"),
    )
    embed.embed_file(writer, spec)
    for item in sorted(extra, key=lambda f: f.name):
        if item.name <= ATTACHMENT_NAME:
            raise ValueError(f"extra attachment {item.name!r} must sort after {ATTACHMENT_NAME}")
        data = embed.EmbeddedFileObject.from_file_data(
            writer,
            data=item.data,
            mime_type=item.mime_type,
            params=embed.EmbeddedFileParams(embed_size=True, embed_checksum=True),
        )
        embed.embed_file(
            writer,
            embed.FileSpec(
                file_spec_string=item.name,
                file_name=item.name,
                embedded_data=data,
                description=item.description,
                af_relationship=generic.pdf_name("/Supplement"),
            ),
        )
    for slot in slots:
        fields.append_signature_field(
            writer,
            fields.SigFieldSpec(slot.field_name, on_page=slot.page, box=_whole_points(slot.box)),
        )
    # The reserved boxes, recorded in the revision the first signature certifies: countersigning
    # accepts only these, and reports.verify refuses any other field (a planted box).
    writer.root[RESERVED_BOXES_KEY] = generic.ArrayObject(
        generic.TextStringObject(slot.field_name) for slot in slots
    )
    writer.update_root()  # type: ignore[no-untyped-call]  # pyHanko leaves it unannotated
    out = BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]  # pyHanko leaves write() unannotated
    return out.getvalue()


def read_attachment(pdf: bytes, *, source: str = "the PDF") -> Attachment:
    """Return the embedded assessment (first file named assessment.probity) from a report."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError as exc:
        raise ReportError(
            f"{source} has no embedded assessment; it was not made by Probity."
        ) from exc
    except (PdfError, ValueError) as exc:
        raise ReportError(f"{source} is not a readable PDF ({exc}).") from exc
    for i in range(0, len(names) - 1, 2):
        if str(names[i]) != ATTACHMENT_NAME:
            continue
        try:
            spec = names[i + 1].get_object()
            data = spec["/EF"]["/F"].get_object().data
            shown = str(spec.get("/UF", spec["/F"]))
        except (KeyError, TypeError, ValueError, PdfError, zlib.error) as exc:
            raise ReportError(f"The assessment embedded in {source} is damaged ({exc}).") from exc
        return Attachment(name=shown, data=data)
    raise ReportError(f"{source} has no embedded {ATTACHMENT_NAME}; it was not made by Probity.")


def _whole_points(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """A field box in whole points (pyHanko's SigFieldSpec), rounded outwards to keep the box."""
    x1, y1, x2, y2 = box
    return math.floor(x1), math.floor(y1), math.ceil(x2), math.ceil(y2)
