"""Tester's findings C–F: truncated signed reports, foreign signed PDFs, one certificate in two
boxes, countersigning a tampered report."""

from __future__ import annotations

from io import BytesIO

import pytest
from report_helpers import PASSPHRASE

import main
from assessment.errors import ReportError
from reports import signing
from reports.cli import format_result
from reports.identity import load_identity
from reports.signing import sign_pdf
from reports.verify import NotVerifiable, verify_pdf


@pytest.fixture(scope="module")
def identities(identity_files):
    return {k: load_identity(v, PASSPHRASE) for k, v in identity_files.items()}


@pytest.fixture(scope="module")
def signed(report_pdf, identities):
    return sign_pdf(report_pdf, identities["first"], reason="Assessment approved")


def _trust(identities):
    return tuple(i.certificate for i in identities.values())


@pytest.fixture(autouse=True)
def _no_faulthandler(monkeypatch) -> None:
    monkeypatch.setattr(main.faulthandler, "enable", lambda: None)


# ---- C: a truncated signed report is NOT VALID (exit 1), a non-PDF stays exit 2 -------------


@pytest.mark.parametrize("tail", [b"", b"\n%%EOF\n"])
def test_truncated_signed_report_is_not_valid(signed, tmp_path, capsys, tail) -> None:
    data = signed.data
    # cut between the reserved boxes (written before signing) and the signature dictionary
    start, end = data.index(b"/ProbityReservedBoxes"), data.index(b"/ByteRange")
    cut = data[: (start + end) // 2] + tail
    assert b"/ByteRange" not in cut and b"/Type /Sig" not in cut
    result = verify_pdf(cut)
    assert not result.ok
    assert "is damaged" in result.all_problems[0]
    path = tmp_path / "cut.pdf"
    path.write_bytes(cut)
    assert main.main(["verify", str(path)]) == 1
    out = capsys.readouterr().out
    assert "Result: NOT VALID" in out and "damaged" in out
    assert "not a Probity report" not in out


def test_file_that_is_not_a_pdf_stays_exit_2(tmp_path, capsys) -> None:
    path = tmp_path / "x.pdf"
    path.write_bytes(b"/ByteRange [0 1 2 3] not a pdf at all")
    assert main.main(["verify", str(path)]) == 2
    assert "not a PDF" in capsys.readouterr().err
    with pytest.raises(NotVerifiable, match="not a PDF"):
        verify_pdf(b"/ProbityReservedBoxes " * 10)
    # a PDF fragment with no trace of a signature stays "not readable" (exit 2)
    with pytest.raises(NotVerifiable, match="not a readable PDF.*no trace of a signature"):
        verify_pdf(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")


# ---- D: a certified non-Probity PDF is NOT VALID -------------------------------------------


def _plain_signed(identity) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from reportlab.pdfgen.canvas import Canvas

    buf = BytesIO()
    canvas = Canvas(buf)
    canvas.drawString(72, 720, "not a Probity report")
    canvas.save()
    writer = IncrementalPdfFileWriter(BytesIO(buf.getvalue()))
    meta = signers.PdfSignatureMetadata(field_name="Sig", md_algorithm="sha256", certify=True,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    out = BytesIO()
    signers.PdfSigner(meta, signer=signing._simple_signer(identity)).sign_pdf(writer, output=out)
    return out.getvalue()


def test_trusted_plain_signed_pdf_is_not_a_probity_report(identities, tmp_path, capsys) -> None:
    data = _plain_signed(identities["first"])
    result = verify_pdf(data, extra_trust=_trust(identities), use_store=False)
    assert all(s.ok for s in result.signatures) and not result.ok
    assert any(p.startswith("not a Probity report: no embedded assessment")
               for p in result.problems)
    assert "Result: NOT VALID" in format_result(result)
    path, cert = tmp_path / "plain.pdf", tmp_path / "first.pem"
    path.write_bytes(data)
    from cryptography.hazmat.primitives.serialization import Encoding

    cert.write_bytes(identities["first"].certificate.public_bytes(Encoding.PEM))
    assert main.main(["verify", str(path), "--trust", str(cert)]) == 1
    assert "not a Probity report" in capsys.readouterr().out
    assert main.main(["extract", str(path), "--trust", str(cert),
                      "--out", str(tmp_path / "a.probity")]) == 1
    assert not (tmp_path / "a.probity").exists()


# ---- E: one certificate, two boxes -----------------------------------------------------------


def test_same_certificate_in_two_boxes_is_refused_and_flagged(signed, identities,
                                                               monkeypatch) -> None:
    with pytest.raises(ReportError, match=r"already signed this report in reserved box 1"):
        sign_pdf(signed.data, identities["first"])
    monkeypatch.setattr(signing, "_check_input", lambda *a: None)  # an older Probity, or by hand
    twice = sign_pdf(signed.data, identities["first"]).data
    result = verify_pdf(twice, extra_trust=_trust(identities), use_store=False)
    assert result.warnings == [
        "reserved box 2 signed again by the certifier's certificate (same SHA-256 fingerprint, "
        f"{identities['first'].name}): one person filled two signature boxes"
    ]
    assert "Warning: reserved box 2 signed again by the certifier's certificate" in (
        format_result(result))


def test_gui_verify_view_shows_the_same_signer_warning(qtbot, signed, identities,
                                                       monkeypatch) -> None:
    from gui.export.verify_view import VerificationView

    monkeypatch.setattr(signing, "_check_input", lambda *a: None)
    twice = sign_pdf(signed.data, identities["first"]).data
    view = VerificationView()
    qtbot.addWidget(view)
    view.show_result(verify_pdf(twice, extra_trust=_trust(identities), use_store=False))
    assert "signed again by the certifier's certificate" in view.banner.text()
    assert "signed again by the certifier's certificate" in view.details.text()


# ---- F: countersigning a tampered report says the input is NOT VALID -------------------------


def test_countersigning_a_tampered_report_says_the_input_is_not_valid(signed,
                                                                      identities) -> None:
    data = bytearray(signed.data)
    at = len(data) // 3
    data[at] ^= 0x01
    with pytest.raises(ReportError, match=r"^Cannot countersign: the report to countersign is "
                                          r"NOT VALID \(.*changed after signing"):
        sign_pdf(bytes(data), identities["second"])
