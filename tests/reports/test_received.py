"""Opening a received signed report: verification first, the embedded assessment only when it
verifies (or when the reviewer chooses), and hostile files refused in one sentence."""

from __future__ import annotations

import hashlib

import pytest
from report_helpers import PASSPHRASE

from assessment.errors import ReportError
from reports.identity import load_identity, trust_certificate
from reports.received import UnverifiedReport, copy_name, open_received, read_received
from reports.verify import NotVerifiable


@pytest.fixture(scope="module")
def signer(identity_files):
    return load_identity(identity_files["first"], PASSPHRASE)


@pytest.fixture(scope="module")
def signed_pdf(report_pdf, signer) -> bytes:
    from reports.signing import sign_pdf

    return sign_pdf(report_pdf, signer, reason="Assessment approved").data


def test_trusted_report_opens_with_the_exact_embedded_assessment(
        signed_pdf, signer, report_source) -> None:
    trust_certificate(signer.certificate)
    received = open_received(signed_pdf, source="vendor.pdf")
    assert received.verified and not received.opened_unverified
    # the document is the one embedded: its canonical bytes hash to what was signed
    assert received.attachment_sha256 == hashlib.sha256(report_source).hexdigest()
    assert received.attachment_sha256 == received.verification.assessment_sha256
    from assessment.storage import dumps, loads

    assert dumps(received.document) == dumps(loads(report_source))


def test_untrusted_signer_is_refused_unless_chosen(signed_pdf) -> None:
    with pytest.raises(UnverifiedReport) as err:
        open_received(signed_pdf, source="vendor.pdf")
    message = err.value.message
    assert message.startswith("vendor.pdf does not verify: ") and "not trusted" in message
    assert "anyway" in message and "\n" not in message
    received = open_received(signed_pdf, source="vendor.pdf", allow_unverified=True)
    assert received.opened_unverified and not received.verified
    assert received.document.title


def test_changed_report_is_refused_and_says_so(signed_pdf, signer) -> None:
    trust_certificate(signer.certificate)
    tampered = bytearray(signed_pdf)
    index = tampered.find(b"/Producer")
    assert index > 0
    tampered[index + 1] = ord("Q")  # one byte inside the signed range
    with pytest.raises(UnverifiedReport, match="does not verify"):
        open_received(bytes(tampered), source="changed.pdf")


@pytest.mark.parametrize(
    ("data", "error", "expected"),
    [
        (b"PK\x03\x04 a zip file", NotVerifiable, "is not a PDF file"),
        (b"%PDF-1.7\n%%EOF\n", NotVerifiable, "not a readable PDF|no digital signature"),
    ],
)
def test_not_a_signed_pdf(data: bytes, error: type[Exception], expected: str) -> None:
    with pytest.raises(error, match=expected):
        open_received(data, source="x.pdf")


def test_unsigned_probity_report_is_not_verifiable(report_pdf) -> None:
    with pytest.raises(NotVerifiable, match="carries no digital signature"):
        open_received(report_pdf, source="unsigned.pdf")


def test_read_received_refuses_a_fifo(tmp_path) -> None:
    import os

    fifo = tmp_path / "r.pdf"
    os.mkfifo(fifo)
    with pytest.raises(ReportError, match="not a regular file"):
        read_received(fifo)


def test_copy_name_never_names_the_report() -> None:
    expected = "Sepsis-Risk-v2 (received copy).probity"
    assert copy_name("/x/report.pdf", "Sepsis <Risk> / v2") == expected
    assert copy_name("/x/report.pdf", "///") == "report (received copy).probity"
