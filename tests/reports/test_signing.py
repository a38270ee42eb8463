"""PAdES signing, countersigning and verification, including tampering that must be caught."""

from __future__ import annotations

import datetime as dt
import re
from io import BytesIO

import pytest
from report_helpers import PASSPHRASE

from assessment.errors import ReportError
from reports.attachment import read_attachment
from reports.identity import create_identity, load_identity
from reports.signing import sign_pdf
from reports.verify import NotVerifiable, verify_pdf


@pytest.fixture(scope="module")
def identities(identity_files):
    return {k: load_identity(v, PASSPHRASE) for k, v in identity_files.items()}


@pytest.fixture(scope="module")
def signed(report_pdf, identities):
    return sign_pdf(report_pdf, identities["first"], reason="Assessment approved", location="Łódź")


@pytest.fixture(scope="module")
def countersigned(signed, identities):
    return sign_pdf(signed.data, identities["second"], reason="Countersigned")


def _trust(identities):
    return tuple(i.certificate for i in identities.values())


def test_signature_validates_whole_file_and_trusted(signed, identities) -> None:
    assert signed.certified and signed.field_name == "Signature1"
    result = verify_pdf(signed.data, extra_trust=_trust(identities))
    assert result.ok
    (sig,) = result.signatures
    assert sig.signer == "Zoë Ωμέγα Иванова"
    assert sig.intact and sig.valid and sig.trusted and sig.certification
    assert sig.coverage == "whole file"
    assert sig.fingerprint == identities["first"].fingerprint
    assert sig.signing_time is not None
    assert dt.datetime.fromisoformat(sig.signing_time) <= dt.datetime.now(dt.UTC)


def test_signature_is_pades_and_sha256(signed) -> None:
    data = signed.data
    assert b"/ETSI.CAdES.detached" in data
    from pyhanko.pdf_utils.reader import PdfFileReader

    sig = PdfFileReader(BytesIO(data)).embedded_signatures[0]
    assert sig.md_algorithm == "sha256"


def test_unknown_signer_is_not_trusted(signed) -> None:
    result = verify_pdf(signed.data, use_store=False)
    assert not result.ok
    sig = result.signatures[0]
    assert sig.intact and sig.valid and not sig.trusted


def test_countersigning_keeps_both_signatures_valid(countersigned, identities) -> None:
    assert not countersigned.certified and countersigned.field_name == "Signature2"
    result = verify_pdf(countersigned.data, extra_trust=_trust(identities))
    assert result.ok, [s.problems for s in result.signatures]
    first, second = result.signatures
    assert first.coverage.startswith("revision") and first.modification_level == "form_filling"
    assert second.coverage == "whole file" and second.signer == "Second Reviewer"


def _byte_ranges(data: bytes) -> list[tuple[int, int]]:
    last = re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)[-1]
    a, b, c, d = (int(x) for x in last)
    return [(a, a + b), (c, c + d)]


def _caught(data: bytes, identities) -> bool:
    try:
        return not verify_pdf(data, extra_trust=_trust(identities)).ok
    except NotVerifiable:
        return True  # an unreadable file is refused too (exit code 2)


@pytest.mark.parametrize("where", [0.0005, 0.1, 0.33, 0.5, 0.75, 0.97, "second-range"])
def test_single_byte_flip_inside_signed_ranges_is_caught(countersigned, identities, where):
    data = countersigned.data
    (s1, e1), (s2, e2) = _byte_ranges(data)
    offset = s2 + (e2 - s2) // 2 if where == "second-range" else int(s1 + (e1 - s1) * where)
    flipped = bytearray(data)
    flipped[offset] ^= 0x01
    assert _caught(bytes(flipped), identities), offset


@pytest.mark.parametrize("which", ["signed", "countersigned"])
def test_appended_page_is_caught(request, identities, which) -> None:
    from pypdf import PdfWriter

    original = request.getfixturevalue(which).data
    writer = PdfWriter(BytesIO(original), incremental=True)
    writer.add_blank_page(595, 842)
    out = BytesIO()
    writer.write(out)
    data = out.getvalue()
    assert data.startswith(original)  # a genuine incremental update
    result = verify_pdf(data, extra_trust=_trust(identities))
    assert not result.ok
    assert any("changed after" in p for s in result.signatures for p in s.problems)


@pytest.mark.parametrize("tail", [b"x", b"\x00" * 64, b"garbage\n"])
def test_appended_bytes_are_caught(signed, identities, tail) -> None:
    result = verify_pdf(signed.data + tail, extra_trust=_trust(identities))
    assert not result.ok
    assert any("appended" in p for p in result.signatures[0].problems)


def test_appended_bytes_that_break_the_trailer_are_not_valid(signed) -> None:
    """A signed file made unreadable by appended bytes was changed after signing (exit 1), not
    'not a PDF' (exit 2)."""
    result = verify_pdf(signed.data + b"\n%%EOF\n")
    assert not result.ok
    assert "changed after signing" in result.all_problems[0]


def test_not_a_pdf_and_unsigned_pdf_are_not_verifiable(report_pdf) -> None:
    with pytest.raises(NotVerifiable, match="not a PDF"):
        verify_pdf(b"{\"format\": \"probity-assessment\"}")
    with pytest.raises(NotVerifiable, match="no digital signature"):
        verify_pdf(report_pdf)


def test_extract_round_trips_after_signing(countersigned, report_source) -> None:
    attachment = read_attachment(countersigned.data)
    assert attachment.data == report_source
    result = verify_pdf(countersigned.data, use_store=False)
    import hashlib

    assert result.assessment_sha256 == hashlib.sha256(report_source).hexdigest()


def test_all_boxes_signed_gives_a_clear_error(countersigned, identities) -> None:
    with pytest.raises(ReportError, match="already signed"):
        sign_pdf(countersigned.data, identities["first"])


def test_expired_identity_cannot_sign(report_pdf, tmp_path) -> None:
    path = create_identity("Old Reviewer", PASSPHRASE, out=tmp_path / "old.p12",
                           key_type="ec-p256", valid_days=30,
                           now=dt.datetime.now(dt.UTC) - dt.timedelta(days=400))
    identity = load_identity(path, PASSPHRASE, at=dt.datetime.now(dt.UTC) - dt.timedelta(days=399))
    with pytest.raises(ReportError, match="expired"):
        sign_pdf(report_pdf, identity)


def test_visible_signature_uses_embedded_dejavu(signed) -> None:
    """The stamp is drawn with the bundled font (no non-embedded Courier, issue §B1.5)."""
    data = signed.data
    assert b"/Courier" not in data and b"/Helvetica" not in data
    assert data.count(b"DejaVuSans") >= 2



def test_pdf_without_signature_boxes_is_refused(identities) -> None:
    from reportlab.pdfgen.canvas import Canvas

    buf = BytesIO()
    canvas = Canvas(buf)
    canvas.drawString(72, 720, "not a Probity report")
    canvas.save()
    with pytest.raises(ReportError, match="no signature box"):
        sign_pdf(buf.getvalue(), identities["first"])
    with pytest.raises(ReportError, match="not a readable PDF"):
        sign_pdf(b"%PDF-1.7\nbroken", identities["first"])
