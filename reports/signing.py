"""PAdES baseline B-B signatures with pyHanko, offline, with a visible signature block.

Policy (tested in tests/reports/test_signing.py):
- The first signature is a *certification* signature with DocMDP permission FILL_FORMS, so the
  only change a later revision may make is filling the signature boxes reserved on the signature
  page; a second reviewer's countersignature is an approval signature in the next free box, an
  incremental update that keeps the first signature valid.
- SHA-256, no timestamp server, no OCSP/CRL fetch: the signing time is the signer's clock.
- The visible block is drawn by reportlab with the bundled DejaVu font into a one-page PDF that
  pyHanko imports as the widget appearance. This avoids pyHanko's text stamp, which either uses
  non-embedded Courier (non-Latin names garbled) or, with a 2048-UPM TrueType font, renders with
  double letter spacing (see shared/reference/modelcards_signing.md §B1.5).
- The signed output is validated immediately; if any signature fails, signing fails.
"""

from __future__ import annotations

import binascii
import datetime as dt
import uuid
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING

from assessment.errors import ReportError
from reports.fonts import MONO, SANS, SANS_BOLD, register_fonts
from reports.identity import Identity, check_signing_certificate
from reports.verify import form_fields

if TYPE_CHECKING:
    from collections.abc import Callable

    from cryptography import x509
    from pyhanko.pdf_utils.content import PdfContent
    from pyhanko.sign.signers import SimpleSigner

    from reports.verify import VerificationResult

SIGNATURE_BYTES_RESERVED = 16384


@dataclass(frozen=True)
class SignedPdf:
    data: bytes
    field_name: str
    certified: bool
    verification: VerificationResult
    untrusted_earlier: list[str]  # earlier signers not in this user's trusted store


def sign_pdf(
    pdf: bytes,
    identity: Identity,
    *,
    reason: str = "",
    location: str = "",
    extra_trust: tuple[x509.Certificate, ...] = (),
    now: dt.datetime | None = None,
) -> SignedPdf:
    """Sign ``pdf`` into its first empty signature box and return the re-validated result."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle

    check_signing_certificate(identity.certificate, source="the signing identity", at=now)
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
    except (PdfError, ValueError) as exc:
        raise ReportError(f"Cannot sign: the input is not a readable PDF ({exc}).") from exc
    existing = list(fields.enumerate_sig_fields(writer.prev))
    already_signed = any(value is not None for _, value, _ in existing)
    if not existing:
        raise ReportError(
            "This PDF has no signature box; sign reports made by 'probity report' (they reserve "
            "the boxes on their signature page)."
        )
    reserved = _reserved_boxes(writer.prev, already_signed)
    foreign = [name for name in form_fields(writer.prev) if name not in reserved]
    if foreign:
        raise ReportError(
            f"This report has a form field the certified report did not reserve ({foreign[0]!r}),"
            " added later by someone else; it may hide report content, so it is not signed."
        )
    if already_signed:  # a damaged or changed input is named as such, before anything else
        _check_input(pdf, identity, extra_trust)
    free = [(name, ref) for name, value, ref in existing if value is None and name in reserved]
    if not free:
        raise ReportError(
            "Every signature box of this report is already signed; rebuild the report with "
            "more signature boxes to add another signer."
        )
    field_name, field_ref = min(free, key=lambda item: reserved.index(item[0]))
    width, height = _widget_size(field_ref.get_object())
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    appearance = render_signature_block(identity, reason=reason, when=when, size=(width, height))
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None,
        location=location or None,
        name=identity.name,
        certify=not already_signed,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
    )
    signer = _simple_signer(identity)
    from pyhanko.pdf_utils import layout

    style = StaticStampStyle(
        background=_PdfBytesPage(appearance),
        border_width=0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(0, 0, 0, 0),
        ),
    )
    if already_signed:
        # pyHanko rewrites /Info and the XMP stream (ModDate, Producer) on every signing; after
        # certification a metadata change is refused by reports.verify, so a countersignature
        # changes nothing but its own box.
        writer._update_meta = lambda: None  # type: ignore[method-assign]
    pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=style)
    out = BytesIO()
    try:
        pdf_signer.sign_pdf(writer, output=out, bytes_reserved=SIGNATURE_BYTES_RESERVED)
    except (PdfError, ValueError) as exc:
        raise ReportError(f"Signing failed: {exc}.") from exc
    data = out.getvalue()

    from reports.verify import verify_pdf

    trust = (identity.certificate, *identity.chain, *extra_trust)
    result = verify_pdf(data, extra_trust=trust, source="the signed report")
    mine = next((s for s in result.signatures if s.field == field_name), None)
    broken = [*result.problems, *(p for s in result.signatures if not s.sound for p in s.problems)]
    if mine is None or not mine.ok or broken:
        problems = "; ".join(broken or (mine.problems if mine else ["new signature missing"]))
        raise ReportError(f"The signed report failed re-validation ({problems}); nothing exported.")
    # Earlier signers need not be in this signer's trusted store: that is the verifier's call.
    untrusted = [s.signer for s in result.signatures if not s.trusted]
    return SignedPdf(data, field_name, not already_signed, result, untrusted)


def _check_input(
    pdf: bytes, identity: Identity, extra_trust: tuple[x509.Certificate, ...]
) -> None:
    """Before countersigning: the input must verify (earlier signers need not be trusted by
    this signer), and this certificate must not have signed it already."""
    from reports.verify import verify_pdf

    trust = (identity.certificate, *identity.chain, *extra_trust)
    result = verify_pdf(pdf, extra_trust=trust, source="the report to countersign")
    broken = [*(p for s in result.signatures if not s.sound for p in s.problems),
              *result.problems]
    if broken or not result.signatures:
        why = broken[0] if broken else "no readable signature"
        raise ReportError(
            f"Cannot countersign: the report to countersign is NOT VALID ({why}); nothing "
            "exported. Run 'probity verify' on it."
        )
    mine = identity.fingerprint
    for s in result.signatures:
        if s.fingerprint == mine:
            where = s.box or f"box {s.field}"
            raise ReportError(
                f"Cannot countersign: this certificate (SHA-256 {mine}) already signed this "
                f"report in {where} as {s.signer}; a countersignature must come from another "
                "reviewer's certificate."
            )


def _reserved_boxes(reader: object, already_signed: bool) -> list[str]:
    """Names of the signature boxes the report reserved, read from the certified revision once
    the report is certified (a later revision cannot add boxes)."""
    from reports.verify import reserved_boxes

    handler = reader
    if already_signed:
        try:
            sigs = list(reader.embedded_regular_signatures)  # type: ignore[attr-defined]
            first = next((s for s in sigs if s.docmdp_level is not None), sigs[0])
            handler = reader.get_historical_resolver(first.signed_revision)  # type: ignore
        except Exception as exc:  # a hostile signature dictionary: refuse, never crash
            raise ReportError(
                f"Cannot countersign: the existing signatures cannot be read ({exc})."
            ) from exc
    reserved = reserved_boxes(handler)
    if not reserved:
        raise ReportError(
            "This PDF does not record which signature boxes the report reserved; only reports "
            "made by 'probity report' can be signed (rebuild the report)."
        )
    return reserved


def _widget_size(field: object) -> tuple[float, float]:
    """Width and height of a signature field's (first) widget rectangle."""
    obj = field
    if "/Rect" not in obj and "/Kids" in obj:  # type: ignore[operator]
        obj = obj["/Kids"][0].get_object()  # type: ignore[index]
    try:
        x1, y1, x2, y2 = (float(v) for v in obj["/Rect"])  # type: ignore[index]
    except (KeyError, TypeError) as exc:
        raise ReportError(
            "The free signature field has no visible box; rebuild the report."
        ) from exc
    width, height = abs(x2 - x1), abs(y2 - y1)
    if width < 120 or height < 60:
        raise ReportError("The free signature field is too small for a visible signature block.")
    return width, height


def _simple_signer(identity: Identity) -> SimpleSigner:
    from asn1crypto import keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    der_key = identity.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert = asn1_x509.Certificate.load(identity.certificate.public_bytes(serialization.Encoding.DER))
    chain = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
        for c in identity.chain
    ]
    return signers.SimpleSigner(
        signing_cert=cert,
        signing_key=keys.PrivateKeyInfo.load(der_key),
        # pyhanko-certvalidator leaves from_certs unannotated
        cert_registry=SimpleCertificateStore.from_certs([cert, *chain]),  # type: ignore[no-untyped-call]
    )


def render_signature_block(
    identity: Identity, *, reason: str, when: dt.datetime, size: tuple[float, float]
) -> bytes:
    """Draw the visible signature block as a one-page PDF exactly ``size`` points large."""
    from reportlab.lib.colors import HexColor
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    register_fonts()
    width, height = size
    buf = BytesIO()
    # types-reportlab types initialFontName as a float (reportlab takes the font's name)
    canvas = Canvas(buf, pagesize=size, initialFontName=SANS, initialFontSize=8)  # type: ignore[arg-type]
    canvas.setFillColor(HexColor("#F2F6FB"))
    canvas.setStrokeColor(HexColor("#1F4E79"))
    canvas.setLineWidth(1)
    canvas.rect(0.5, 0.5, width - 1, height - 1, stroke=1, fill=1)
    pad = 6.0
    inner = width - 2 * pad

    def fit(text: str, font: str, fs: float) -> str:
        if stringWidth(text, font, fs) <= inner:
            return text
        while text and stringWidth(text + "…", font, fs) > inner:
            text = text[:-1]
        return text + "…"

    role = " · ".join(p for p in (identity.role, identity.organisation) if p)
    fp = identity.fingerprint
    half = len(fp) // 2 + 1  # split after a colon: 16 bytes per line
    lines: list[tuple[str, str, float, str]] = [
        ("Digitally signed (PAdES B-B)", SANS_BOLD, 7.5, "#1F4E79"),
        (identity.name, SANS_BOLD, 11, "#000000"),
        (role, SANS, 8, "#000000"),
        (f"Date: {when:%Y-%m-%d %H:%M:%S} UTC (signer's clock)", SANS, 8, "#000000"),
        (f"Reason: {reason}" if reason else "Reason: —", SANS, 8, "#000000"),
        ("Certificate SHA-256 fingerprint:", SANS, 6.8, "#333333"),
        (fp[:half].rstrip(":"), MONO, 6.2, "#333333"),
        (fp[half:], MONO, 6.2, "#333333"),
    ]
    y = height - pad
    for text, font, fs, colour in lines:
        if not text:
            continue
        y -= fs * 1.22
        canvas.setFont(font, fs)
        canvas.setFillColor(HexColor(colour))
        canvas.drawString(pad, y, fit(text, font, fs))
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def _pdf_bytes_page_class() -> Callable[[bytes], PdfContent]:
    from pyhanko.pdf_utils.content import PdfContent
    from pyhanko.pdf_utils.layout import BoxConstraints
    from pyhanko.pdf_utils.reader import PdfFileReader

    class PdfBytesPage(PdfContent):
        """pyHanko's ImportedPdfPage, reading from memory instead of a file name."""

        def __init__(self, data: bytes) -> None:
            self.data = data
            super().__init__()

        def render(self) -> bytes:
            writer = self._ensure_writer
            reader = PdfFileReader(BytesIO(self.data))
            xobj = writer.import_page_as_xobject(reader, page_ix=0)
            name = b"/Import" + binascii.hexlify(uuid.uuid4().bytes)
            self.resources.xobject[name.decode("ascii")] = xobj
            x1, y1, x2, y2 = xobj.get_object()["/BBox"]
            self.box = BoxConstraints(width=abs(x1 - x2), height=abs(y1 - y2))
            return name + b" Do"

    return PdfBytesPage


def _PdfBytesPage(data: bytes) -> PdfContent:  # noqa: N802 - reads like the class it builds
    return _pdf_bytes_page_class()(data)
