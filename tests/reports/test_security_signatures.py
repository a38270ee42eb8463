"""Attacks on signed reports, each built here from a freshly signed report (no binaries).

Every crafted file is checked by Probity's verifier and, where it means something, by poppler's
``pdfsig``: whenever pdfsig says the last signature does not cover the whole document, or that
a signature is invalid, Probity must say NOT VALID too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import shutil
import subprocess
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from report_helpers import PASSPHRASE

from assessment.errors import ReportError
from reports.attachment import read_attachment
from reports.identity import load_identity
from reports.signing import sign_pdf
from reports.verify import NotVerifiable, verify_pdf

PDFSIG = shutil.which("pdfsig")


# ---- fixtures ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_faulthandler(monkeypatch) -> None:
    """main() enables faulthandler, which needs a real stderr file descriptor (capsys has none)."""
    import main

    monkeypatch.setattr(main.faulthandler, "enable", lambda: None)


@pytest.fixture(scope="module")
def identities(identity_files):
    return {k: load_identity(v, PASSPHRASE) for k, v in identity_files.items()}


@pytest.fixture(scope="module")
def trust(identities):
    return tuple(i.certificate for i in identities.values())


@pytest.fixture(scope="module")
def signed(report_pdf, identities) -> bytes:
    return sign_pdf(report_pdf, identities["first"], reason="Approved").data


@pytest.fixture(scope="module")
def countersigned(signed, identities) -> bytes:
    return sign_pdf(signed, identities["second"], reason="Countersigned").data


def verdict(data: bytes, trust, **kw):
    return verify_pdf(data, extra_trust=trust, use_store=False, **kw)


def assert_not_valid(data: bytes, trust, *needles: str, **kw):
    result = verdict(data, trust, **kw)
    assert not result.ok
    text = " | ".join(result.all_problems + result.changes)
    for needle in needles:
        assert needle in text, text
    return result


# ---- pdfsig --------------------------------------------------------------------------


def pdfsig(data: bytes, tmp_path: Path) -> list[dict[str, str]]:
    """pdfsig's view: one dict per signature with 'total' and 'validation' lines."""
    path = tmp_path / f"pdfsig-{hashlib.sha256(data).hexdigest()[:12]}.pdf"
    path.write_bytes(data)
    run = subprocess.run(
        [PDFSIG, "-nocert", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    blocks: list[dict[str, str]] = []
    for line in run.stdout.splitlines():
        if re.match(r"Signature #\d+:", line):
            blocks.append({"total": "", "validation": ""})
        elif blocks and "document signed" in line:
            blocks[-1]["total"] = line.strip(" -")
        elif blocks and "Signature Validation:" in line:
            blocks[-1]["validation"] = line.split(":", 1)[1].strip()
    return [b for b in blocks if b["total"] or b["validation"]]  # not the empty boxes


def pdfsig_rejects(data: bytes, tmp_path: Path) -> bool:
    """pdfsig says the last signature does not cover the whole document, or one is invalid."""
    sigs = pdfsig(data, tmp_path)
    if not sigs:
        return True
    return sigs[-1]["total"].lower() != "total document signed" or any(
        s["validation"] != "Signature is Valid." for s in sigs
    )


def agree_with_pdfsig(data: bytes, trust, tmp_path: Path) -> None:
    if PDFSIG is None:
        pytest.fail("pdfsig (poppler-utils) is required for the signature security tests")
    if pdfsig_rejects(data, tmp_path):
        try:
            assert not verdict(data, trust).ok
        except NotVerifiable:
            pass


# ---- building blocks for attacks ------------------------------------------------------


def last_byte_range(data: bytes) -> tuple[int, int, int, int]:
    found = re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)[-1]
    return tuple(int(x) for x in found)  # type: ignore[return-value]


def der_length(der: bytes) -> int:
    """Length of the DER element at the start of ``der`` (tag, length octets, content)."""
    first = der[1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    return 2 + n + int.from_bytes(der[2 : 2 + n], "big")


def literal(data: bytes) -> bytes:
    out = bytearray(b"(")
    for b in data:
        if b in b"()\\":
            out += b"\\" + bytes([b])
        elif b == 13:
            out += b"\\r"
        elif b == 10:
            out += b"\\n"
        else:
            out.append(b)
    return bytes(out + b")")


def serialise(obj) -> bytes:
    buf = BytesIO()
    obj.write_to_stream(buf, None)
    return buf.getvalue()


def all_low(source: bytes, *, small: bool = False) -> bytes:
    """The assessment with every domain judged low (``small``: without the evaluation snapshot
    and audit log, so that it fits into a signature's gap once compressed)."""
    doc = json.loads(source)
    for dom in doc["domains"].values():
        dom["final"] = "low"
        if "applicability" in dom:
            dom["applicability"] = "low"
    if small:
        doc["evaluation"] = None  # schema 2: no evaluation
        doc["audit"] = []
    return json.dumps(doc).encode()


def overall_judgement(source: bytes) -> set[str | None]:
    from assessment.judgement import judge
    from assessment.storage import loads

    return {o.value for o in judge(loads(source)).overall}


def forged_objects(signed: bytes) -> tuple[dict[int, bytes], int]:
    """Objects that rewrite page 2 (an overlay saying the overall risk is low) and replace the
    embedded assessment with one whose every domain is low; returns them and the next free
    object number."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(signed))
    size = int(reader.trailer["/Size"])
    page_ref = reader.root["/Pages"]["/Kids"].raw_get(1)
    page = page_ref.get_object()
    overlay_num, font_num = size, size + 1
    overlay = (
        b"q 1 1 1 rg 40 560 520 200 re f Q BT /FForge 16 Tf 60 700 Td "
        b"(Overall risk of bias: LOW - forged) Tj ET"
    )
    new_page = generic.DictionaryObject({k: page.raw_get(k) for k in page})
    contents = page.raw_get("/Contents")
    new_page["/Contents"] = generic.ArrayObject(
        [contents, generic.IndirectObject(overlay_num, 0, reader)]
    )
    old_resources = page["/Resources"]
    resources = generic.DictionaryObject({k: old_resources.raw_get(k) for k in old_resources})
    old_fonts = old_resources["/Font"]
    fonts = generic.DictionaryObject({k: old_fonts.raw_get(k) for k in old_fonts})
    fonts["/FForge"] = generic.IndirectObject(font_num, 0, reader)
    resources["/Font"] = fonts
    new_page["/Resources"] = resources
    objects = {
        page_ref.idnum: serialise(new_page),
        overlay_num: b"<< /Length %d >>\nstream\n" % len(overlay) + overlay + b"\nendstream",
        font_num: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    stream_ref = names[1].get_object()["/EF"].raw_get("/F")
    payload = zlib.compress(all_low(read_attachment(signed).data, small=True), 9)
    objects[stream_ref.idnum] = (
        b"<< /Type /EmbeddedFile /Subtype /application#2Fjson /Filter /FlateDecode "
        b"/Length %d >>\nstream\n" % len(payload) + payload + b"\nendstream"
    )
    return objects, size + 2


def xref_section(objects: dict[int, int], trailer: bytes) -> bytes:
    out = bytearray(b"xref\n")
    for num in sorted(objects):
        out += b"%d 1\n%010d 00000 n \n" % (num, objects[num])
    return bytes(out + b"trailer\n" + trailer + b"\n")


def literal_contents_forgery(signed: bytes) -> bytes:
    """Keep both signed byte ranges; re-encode /Contents as a literal string so the freed half
    of the gap carries new objects and a new xref (page 2 and the attachment rewritten); a
    small tail points startxref at that xref. The lengths are tuned so that
    len1 + len2 + 2*len(/Contents) + 2 equals the file size (pyHanko's "entire file" test)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    _, len1, start2, len2 = last_byte_range(signed)
    gap = signed[len1:start2]
    der = bytes.fromhex(gap[1:-1].decode())
    der = der[: der_length(der)]
    range2 = signed[start2:]
    dict_tail = range2[: range2.index(b"endobj") + 6] + b"\n"  # rest of the signature object
    reader = PdfFileReader(BytesIO(signed))
    prev = reader.last_startxref
    trailer_keys = reader.trailer.flatten()
    objects, size = forged_objects(signed)
    info = trailer_keys.raw_get("/Info")
    root = trailer_keys.raw_get("/Root")
    ids = serialise(trailer_keys.raw_get("/ID"))
    tail_min = b"\nstartxref\n%d\n%%%%EOF\n" % (10**9)
    G = len(gap)
    pad = (G + len(tail_min) - 2 - 2 * len(der) + 1) // 2
    lit = literal(der + b"\0" * pad)
    body = bytearray(lit + dict_tail)
    offsets = {}
    for num, text in objects.items():
        offsets[num] = len1 + len(body)
        body += b"%d 0 obj\n" % num + text + b"\nendobj\n"
    xref_at = len1 + len(body)
    trailer = b"<< /Size %d /Root %d 0 R /Info %d 0 R /ID %s /Prev %d >>" % (
        size,
        root.idnum,
        info.idnum,
        ids,
        prev,
    )
    body += xref_section(offsets, trailer)
    assert len(body) <= G, "the forged objects do not fit into the freed half of the gap"
    body += b" " * (G - len(body))
    tail = b"\nstartxref\n%d\n%%%%EOF\n" % xref_at
    total_wanted = len1 + len2 + 2 * (len(der) + pad) + 2
    tail = b"\n" * (total_wanted - len1 - G - len2 - len(tail)) + tail
    forged = signed[:len1] + bytes(body) + range2 + tail
    assert len(forged) == total_wanted
    return forged


def incremental(data: bytes, change) -> bytes:
    """Apply ``change(writer)`` as one incremental update with pyHanko."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(data))
    change(writer)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def swap_attachment(writer) -> None:
    from pyhanko.pdf_utils import generic

    names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    spec = names[1].get_object()
    old = spec["/EF"]["/F"]
    payload = all_low(old.data)
    stream = generic.StreamObject(
        {generic.pdf_name("/Type"): generic.pdf_name("/EmbeddedFile")}, stream_data=payload
    )
    spec["/EF"]["/F"] = writer.add_object(stream)
    writer.update_container(spec)


def simple_signer(key, cert):
    from asn1crypto import keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    acert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    return signers.SimpleSigner(
        signing_cert=acert,
        signing_key=keys.PrivateKeyInfo.load(der_key),
        cert_registry=SimpleCertificateStore.from_certs([acert]),
    )


def raw_sign(
    pdf: bytes, key, cert, *, field: str, certify: bool, md: str = "sha256", prepare=None
) -> bytes:
    """Sign with pyHanko directly (no Probity checks), optionally changing the document in the
    same revision first: what another tool or an attacker with a key can produce."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    if prepare is not None:
        prepare(writer)
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        md_algorithm=md,
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
    )
    out = BytesIO()
    signers.PdfSigner(meta, signer=simple_signer(key, cert)).sign_pdf(
        writer, output=out, bytes_reserved=16384
    )
    return out.getvalue()


def make_cert(name: str, *, key=None, days=(-1, 365), usage: dict | None = None, hash_alg=None):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    flags = dict(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    flags.update(usage or {})
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=days[0]))
        .not_valid_after(now + dt.timedelta(days=days[1]))
        .add_extension(x509.KeyUsage(**flags), critical=True)
        .sign(key, hash_alg or hashes.SHA256())
    )
    return key, cert


def text_field(writer, name: str, page_ix: int, rect, value: str | None = None):
    """A transparent text field (no border, no background) on a page: the planted kind."""
    from pyhanko.pdf_utils import generic

    page_ref = writer.root["/Pages"]["/Kids"][page_ix]
    widget = generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/Widget"),
            generic.pdf_name("/FT"): generic.pdf_name("/Tx"),
            generic.pdf_name("/T"): generic.TextStringObject(name),
            generic.pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in rect),
            generic.pdf_name("/F"): generic.NumberObject(4),
            generic.pdf_name("/P"): page_ref,
            generic.pdf_name("/DA"): generic.TextStringObject("/Helv 14 Tf 0 g"),
        }
    )
    if value is not None:
        widget["/V"] = generic.TextStringObject(value)
    ref = writer.add_object(widget)
    page = page_ref.get_object()
    annots = page.get("/Annots", generic.ArrayObject())
    annots = generic.ArrayObject(list(annots) + [ref])
    page["/Annots"] = annots
    writer.update_container(page)
    acro = writer.root["/AcroForm"]
    acro["/Fields"].append(ref)
    writer.update_container(acro)
    return ref


def fill_text_field(writer, name: str, value: str) -> None:
    from pyhanko.pdf_utils import generic

    for ref in writer.root["/AcroForm"]["/Fields"]:
        obj = ref.get_object()
        if str(obj.get("/T")) == name:
            obj["/V"] = generic.TextStringObject(value)
            writer.update_container(obj)
            return
    raise AssertionError(f"no field {name}")


# ---- 1. the literal-/Contents forgery -------------------------------------------------


def test_literal_contents_forgery_is_not_valid(signed, trust, tmp_path, capsys) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pypdf import PdfReader

    forged = literal_contents_forgery(signed)
    # The attack is real: page 2 and the attachment changed, and pyHanko alone is fooled.
    assert "LOW - forged" in PdfReader(BytesIO(forged)).pages[1].extract_text()
    doc = json.loads(read_attachment(forged).data)
    assert {d["final"] for d in doc["domains"].values()} == {"low"}
    assert overall_judgement(read_attachment(forged).data) == {"low"}
    assert "high" in overall_judgement(read_attachment(signed).data)
    emb = PdfFileReader(BytesIO(forged), strict=False).embedded_regular_signatures[0]
    from pyhanko_certvalidator import ValidationContext

    status = validate_pdf_signature(emb, ValidationContext(trust_roots=[], allow_fetching=False))
    assert status.intact and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    # Probity is not.
    result = assert_not_valid(forged, trust, "literal string", "changed after signing")
    assert result.signatures[0].coverage != "whole file"
    sigs = pdfsig(forged, tmp_path)
    assert sigs and sigs[-1]["total"].lower() == "not total document signed"
    agree_with_pdfsig(forged, trust, tmp_path)

    from main import main

    path = tmp_path / "forged.pdf"
    path.write_bytes(forged)
    pem = tmp_path / "trust.pem"
    from cryptography.hazmat.primitives.serialization import Encoding

    pem.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in trust))
    assert main(["verify", str(path), "--trust", str(pem)]) == 1
    out = capsys.readouterr().out
    assert "Result: NOT VALID" in out and "literal string" in out
    assert out.index("changed after signing") < out.index("Result:")
    assert (
        main(["extract", str(path), "--trust", str(pem), "--out", str(tmp_path / "x.probity")]) == 1
    )
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "does not verify" in err
    assert not (tmp_path / "x.probity").exists()


# ---- 2. ByteRange and gap variants ----------------------------------------------------


def _rewrite_byte_range(data: bytes, new: bytes) -> bytes:
    m = list(re.finditer(rb"/ByteRange\s*\[[^\]]*\]\s*", data))[-1]
    old = m.group(0)
    assert len(new) <= len(old)
    return data[: m.start()] + new.ljust(len(old)) + data[m.end() :]


@pytest.mark.parametrize(
    "variant",
    [
        "three-ranges",
        "not-from-zero",
        "short-second",
        "negative",
        "extra-after-hex",
        "bytes-before-hex",
        "odd-hex",
        "hex-mismatch",
    ],
)
def test_byte_range_and_gap_variants_are_not_valid(signed, trust, tmp_path, variant) -> None:
    _, len1, start2, len2 = last_byte_range(signed)
    data = signed
    if variant == "three-ranges":
        data = _rewrite_byte_range(data, b"/ByteRange [0 %d %d %d 0 0]" % (len1, start2, len2))
        needle = "exactly two ranges"
    elif variant == "not-from-zero":
        data = _rewrite_byte_range(data, b"/ByteRange [1 %d %d %d]" % (len1 - 1, start2, len2))
        needle = "changed after signing"
    elif variant == "short-second":
        data = _rewrite_byte_range(data, b"/ByteRange [0 %d %d %d]" % (len1, start2, len2 - 40))
        needle = "changed after signing"
    elif variant == "negative":
        data = _rewrite_byte_range(data, b"/ByteRange [0 %d %d -%d]" % (len1, start2, len2))
        needle = "exactly two ranges"
    else:
        gap = bytearray(data[len1:start2])
        if variant == "extra-after-hex":
            gap[-3:] = b">  "
            needle = "other bytes"
        elif variant == "bytes-before-hex":
            gap[:3] = b"  <"
            gap[-2:] = b"0>"
            needle = "changed after signing"
        elif variant == "odd-hex":
            gap[-2:] = b"> "
            needle = "other bytes"
        else:  # a valid-looking hex string that is not the CMS pyHanko parsed
            gap[1:3] = b"31"
            needle = "changed after signing"
        data = data[:len1] + bytes(gap) + data[start2:]
    assert len(data) == len(signed) or variant == "negative"
    result = assert_not_valid(data, trust, needle)
    assert not result.signatures or not result.signatures[0].ok
    agree_with_pdfsig(data, trust, tmp_path)


@pytest.mark.parametrize(
    "tail", [b"\n", b"x", b"\n%%EOF\n", b"\x00" * 300, b"\n1 0 obj\n<< >>\nendobj\n"]
)
def test_appended_bytes_are_changed_after_signing(countersigned, trust, tmp_path, tail) -> None:
    result = assert_not_valid(countersigned + tail, trust, "changed after signing")
    assert "not trusted" not in " ".join(result.all_problems)
    agree_with_pdfsig(countersigned + tail, trust, tmp_path)


# ---- 3. attachment swaps --------------------------------------------------------------


def test_attachment_swapped_in_an_incremental_update(signed, trust, tmp_path, capsys) -> None:
    data = incremental(signed, swap_attachment)
    assert json.loads(read_attachment(data).data)["domains"]["main:D1"]["final"] == "low"
    result = assert_not_valid(
        data, trust, "embedded assessment replaced", "not the one the signed cover page names"
    )
    assert result.cover_sha256 == hashlib.sha256(read_attachment(signed).data).hexdigest()
    agree_with_pdfsig(data, trust, tmp_path)
    from main import main

    path = tmp_path / "swapped.pdf"
    path.write_bytes(data)
    out = tmp_path / "got.probity"
    assert main(["extract", str(path), "--out", str(out)]) == 1
    assert "does not verify" in capsys.readouterr().err and not out.exists()
    assert main(["extract", str(path), "--out", str(out), "--unverified"]) == 0
    captured = capsys.readouterr()
    assert "warning" in captured.err and "NOT verify" in captured.err
    assert out.read_bytes() == read_attachment(data).data


def test_attachment_swapped_in_the_countersignature_revision(signed, trust, tmp_path) -> None:
    key, cert = make_cert("Mallory Cosigner")
    data = raw_sign(signed, key, cert, field="Signature2", certify=False, prepare=swap_attachment)
    assert_not_valid(data, (*trust, cert), "embedded assessment replaced")
    agree_with_pdfsig(data, (*trust, cert), tmp_path)


def test_the_cover_page_hash_is_compared_with_the_attachment(countersigned, trust) -> None:
    result = verdict(countersigned, trust)
    assert result.ok, result.all_problems
    assert result.cover_sha256 == result.assessment_sha256
    assert result.changes == ["Revision 4: countersignature by Second Reviewer in reserved box 2"]


# ---- 4. planted fields ----------------------------------------------------------------


def _planted_sig_field(writer) -> None:
    from pyhanko.sign import fields

    fields.append_signature_field(
        writer, fields.SigFieldSpec("Planted", on_page=1, box=(40, 560, 560, 760))
    )


def test_planted_signature_field_is_refused_by_sign_and_verify(
    signed, identities, trust, tmp_path
) -> None:
    data = incremental(signed, _planted_sig_field)
    assert_not_valid(data, trust, "form field 'Planted' added")
    agree_with_pdfsig(data, trust, tmp_path)
    with pytest.raises(ReportError, match="did not reserve"):
        sign_pdf(data, identities["second"])
    # A countersignature in the planted box, made with another tool, is not valid either.
    key, cert = make_cert("Mallory Cosigner")
    cosigned = raw_sign(data, key, cert, field="Planted", certify=False)
    assert_not_valid(cosigned, (*trust, cert), "not in a box the certified report reserved")


def test_field_planted_before_certification_is_refused(
    report_pdf, identities, trust, tmp_path
) -> None:
    pre = incremental(report_pdf, lambda w: text_field(w, "Note", 1, (40, 560, 560, 760)))
    with pytest.raises(ReportError, match="did not reserve"):
        sign_pdf(pre, identities["first"])
    # Certified by another tool anyway, then filled in a later revision.
    key, cert = make_cert("Other Tool Signer")
    certified = raw_sign(pre, key, cert, field="Signature1", certify=True)
    filled = incremental(certified, lambda w: fill_text_field(w, "Note", "Overall: LOW"))
    result = assert_not_valid(
        filled, (*trust, cert), "form field 'Note' filled", "not a signature box"
    )
    assert any("filled" in c for c in result.changes)
    agree_with_pdfsig(filled, (*trust, cert), tmp_path)


# ---- 5. metadata and annotations ------------------------------------------------------


def test_metadata_change_after_certification_is_described_and_not_valid(
    signed, trust, tmp_path
) -> None:
    from pyhanko.pdf_utils import generic

    def retitle(writer) -> None:
        info = writer.trailer["/Info"]
        info["/Title"] = generic.TextStringObject("All low risk")
        writer.update_container(info)
        writer._update_meta = lambda: None  # exactly the one change

    data = incremental(signed, retitle)
    result = assert_not_valid(data, trust, "document metadata changed (Title:", "All low risk")
    assert any("Revision 4: document metadata changed" in c for c in result.changes)
    agree_with_pdfsig(data, trust, tmp_path)


def test_annotation_added_on_page_2_is_described_and_not_valid(
    countersigned, trust, tmp_path
) -> None:
    from pyhanko.pdf_utils import generic

    def annotate(writer) -> None:
        page = writer.root["/Pages"]["/Kids"][1].get_object()
        note = generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/FreeText"),
                generic.pdf_name("/Rect"): generic.ArrayObject(
                    generic.FloatObject(v) for v in (40, 560, 560, 760)
                ),
                generic.pdf_name("/Contents"): generic.TextStringObject("Overall risk: LOW"),
                generic.pdf_name("/DA"): generic.TextStringObject("/Helv 20 Tf 0 g"),
            }
        )
        annots = list(page.get("/Annots", []))
        page["/Annots"] = generic.ArrayObject(annots + [writer.add_object(note)])
        writer.update_container(page)
        writer._update_meta = lambda: None

    data = incremental(countersigned, annotate)
    result = assert_not_valid(data, trust, "annotation added on page 2")
    assert result.changes[0].startswith("Revision 4: countersignature by Second Reviewer")
    assert "annotation added on page 2" in result.changes[1]
    agree_with_pdfsig(data, trust, tmp_path)


# ---- 6. the CMS: an edited second copy of the signer certificate ----------------------


def test_two_signer_certificates_one_edited_is_not_valid(signed, trust, tmp_path) -> None:
    from asn1crypto import cms
    from asn1crypto import x509 as asn1_x509

    _, len1, start2, _ = last_byte_range(signed)
    gap = signed[len1:start2]
    der = bytes.fromhex(gap[1:-1].decode())
    info = cms.ContentInfo.load(der[: der_length(der)])
    sd = info["content"]
    original = sd["certificates"][0].chosen
    name = "Zoë Ωμέγα Иванова".encode()
    edited_der = original.dump().replace(name, "Zoë Ωμέγα Ивановб".encode())
    assert edited_der != original.dump()
    edited = asn1_x509.Certificate.load(edited_der)
    sd["certificates"] = cms.CertificateSet([edited, original])
    new = info.dump(force=True).hex().encode()
    new_gap = b"<" + new.ljust(len(gap) - 2, b"0") + b">"
    data = signed[:len1] + new_gap + signed[start2:]
    assert_not_valid(data, trust, "two different certificates")
    agree_with_pdfsig(data, trust, tmp_path)


# ---- 7. certificate defects, even for a directly trusted certificate -------------------


def _cert_case(case: str):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa

    if case == "expired":
        return make_cert("Expired Signer", days=(-400, -2)), "sha256"
    if case == "not-yet-valid":
        return make_cert("Future Signer", days=(2, 400)), "sha256"
    if case == "ca-only":
        return make_cert(
            "CA Signer",
            usage=dict(
                digital_signature=False, content_commitment=False, key_cert_sign=True, crl_sign=True
            ),
        ), "sha256"
    if case == "key-encipherment-only":
        return make_cert(
            "Encipher Signer",
            usage=dict(digital_signature=False, content_commitment=False, key_encipherment=True),
        ), "sha256"
    if case == "rsa-1024":
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        return make_cert("Weak Key Signer", key=key), "sha256"
    if case == "sha1-digest":
        return make_cert("SHA1 Signer", hash_alg=hashes.SHA256()), "sha1"
    raise AssertionError(case)


CERT_NEEDLES = {
    "expired": ["at the claimed signing time", "already expired", "now (", "has expired"],
    "not-yet-valid": ["at the claimed signing time", "not yet valid"],
    "ca-only": ["does not allow document signing", "keyCertSign"],
    "key-encipherment-only": ["does not allow document signing", "keyEncipherment"],
    "rsa-1024": ["1024 bits"],
    "sha1-digest": ["document digest is SHA1"],
}


@pytest.mark.parametrize("case", sorted(CERT_NEEDLES))
def test_certificate_defects_are_not_valid_even_when_trusted(report_pdf, tmp_path, case) -> None:
    (key, cert), md = _cert_case(case)
    data = raw_sign(report_pdf, key, cert, field="Signature1", certify=True, md=md)
    result = assert_not_valid(data, (cert,), *CERT_NEEDLES[case])
    (sig,) = result.signatures
    assert sig.intact and not sig.certificate_ok
    agree_with_pdfsig(data, (cert,), tmp_path)


def test_validity_at_signing_time_and_now_are_stated_separately(signed, trust) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=4000)
    result = assert_not_valid(signed, trust, "has expired", now=later)
    problems = " ".join(result.all_problems)
    assert "at the claimed signing time" not in problems  # valid when it was signed
    assert verdict(signed, trust).ok


def test_identity_file_certificates_still_sign_and_verify(countersigned, trust) -> None:
    result = verdict(countersigned, trust)
    assert result.ok and all(s.certificate_ok and s.structure_ok for s in result.signatures)


# ---- 8. fuzzing: no traceback on any crafted file --------------------------------------


def _fuzz_cases(data: bytes) -> list[bytes]:
    rng = random.Random(8)
    cases = [data[:n] for n in (9, 100, 5000, len(data) // 2, len(data) - 200, len(data) - 7)]
    for _ in range(24):
        flipped = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        cases.append(bytes(flipped))
    xref = data.rfind(b"\nxref")
    cases.append(data[:xref] + b"\nxqef" + data[xref + 5 :])
    sx = data.rfind(b"startxref")
    cases.append(data[:sx] + b"startxref\n99999999999\n%%EOF\n")
    cases.append(data[:sx] + b"startxref\n0\n%%EOF\n")
    cases.append(data.replace(b"/ByteRange", b"/ByteRangf", 1))
    cases.append(data.replace(b"/Type /Sig", b"/Type /Xig", 1))
    cases.append(re.sub(rb"/V \d+ 0 R", b"/V 1 0 R", data, count=1))
    cases.append(b"%PDF-1.7\n/ByteRange [0 1 2 3]\n%%EOF\n")
    cases.append(b"%PDF-1.7\n" + bytes(rng.randrange(256) for _ in range(4000)))
    return cases


def test_fuzzed_files_give_a_verdict_never_a_traceback(
    countersigned, trust, capsys, tmp_path
) -> None:
    from main import main

    for i, case in enumerate(_fuzz_cases(countersigned)):
        try:
            result = verdict(case, trust)
        except NotVerifiable as exc:
            assert exc.message
            continue
        assert case == countersigned or not result.ok, i
        path = tmp_path / f"fuzz{i}.pdf"
        path.write_bytes(case)
        code = main(["verify", str(path)])
        captured = capsys.readouterr()
        assert code in (1, 2) and "Traceback" not in captured.err + captured.out, i


def test_verify_exit_codes(countersigned, report_pdf, tmp_path, capsys) -> None:
    from main import main

    files = {
        "bad.pdf": countersigned + b"x",
        "unsigned.pdf": report_pdf,
        "notpdf.pdf": b"hello",
        "good.pdf": countersigned,
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    assert main(["verify", str(tmp_path / "bad.pdf")]) == 1
    assert main(["verify", str(tmp_path / "unsigned.pdf")]) == 2
    assert main(["verify", str(tmp_path / "notpdf.pdf")]) == 2
    capsys.readouterr()


# ---- 9. the key temp file and the passphrase file --------------------------------------


def test_key_temp_file_never_follows_a_planted_symlink(tmp_path, monkeypatch) -> None:
    from reports.identity import IdentityError, create_identity

    monkeypatch.setenv("PROBITY_CONFIG_DIR", str(tmp_path / "cfg"))
    target = tmp_path / "attacker-readable.bin"
    target.write_bytes(b"")
    out = tmp_path / "ana.p12"
    (tmp_path / "ana.p12.tmp").symlink_to(target)
    with pytest.raises(IdentityError, match="symbolic link"):
        create_identity("Ana", PASSPHRASE, out=out, key_type="ec-p256")
    assert target.read_bytes() == b"" and not out.exists()


def test_key_temp_file_is_new_and_0600_even_after_a_stale_0644_one(tmp_path, monkeypatch):
    import os
    import stat

    from reports.identity import create_identity, import_identity

    monkeypatch.setenv("PROBITY_CONFIG_DIR", str(tmp_path / "cfg"))
    out = tmp_path / "ana.p12"
    stale = tmp_path / "ana.p12.tmp"
    stale.write_bytes(b"left by a crash")
    stale.chmod(0o644)
    old_umask = os.umask(0)  # the most permissive umask: the mode must still be 0600
    try:
        path = create_identity("Ana", PASSPHRASE, out=out, key_type="ec-p256")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and not stale.exists()
    assert load_identity(path, PASSPHRASE).name == "Ana"
    imported = import_identity(path, PASSPHRASE)
    assert stat.S_IMODE(imported.stat().st_mode) == 0o600


def test_huge_passphrase_file_gives_one_line_and_little_memory(tmp_path) -> None:
    import os
    import sys

    big = tmp_path / "pass.txt"
    with big.open("wb") as fh:  # 270 MB, sparse: nothing is written to disk
        fh.truncate(270 * 1024 * 1024)
    code = (
        "import resource, sys\n"
        "from main import main\n"
        "rc = main(['identity', 'create', '--name', 'X', '--out', sys.argv[2],"
        " '--passphrase-file', sys.argv[1]])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
        "sys.exit(rc)\n"
    )
    env = {**os.environ, "PROBITY_CONFIG_DIR": str(tmp_path / "cfg")}

    def create_with(passphrase_file: Path) -> tuple[int, str, int]:
        run = subprocess.run(
            [sys.executable, "-c", code, str(passphrase_file), str(tmp_path / "x.p12")],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=Path(__file__).parents[2],
            check=False,
        )
        return run.returncode, run.stderr.strip(), int(run.stdout.strip())

    short = tmp_path / "short.txt"
    short.write_bytes(b"abc\n")  # refused too (too short), after the same imports
    _, _, baseline_kib = create_with(short)
    code_, err, kib = create_with(big)
    assert code_ == 2
    assert len(err.splitlines()) == 1 and "283,115,520 bytes" in err and "at most" in err
    assert kib - baseline_kib < 64 * 1024  # the 270 MB file is never read into memory


def test_passphrase_fifo_and_device_are_refused_without_blocking(tmp_path) -> None:
    import os

    from reports.identity import IdentityError, read_passphrase

    fifo = tmp_path / "pass.fifo"
    os.mkfifo(fifo)
    with pytest.raises(IdentityError, match="not a regular file"):
        read_passphrase(fifo)
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(IdentityError, match="not a regular file"):
        read_passphrase(tmp_path / "zero")
    long_line = tmp_path / "long.txt"
    long_line.write_bytes(b"x" * 5000 + b"\n")
    with pytest.raises(IdentityError, match="at most 1024"):
        read_passphrase(long_line)
    with pytest.raises(NotVerifiable, match="not a regular file"):
        from reports.verify import verify_file

        verify_file(fifo)


def test_reserved_box_moved_after_certification_is_not_valid(signed, identities, trust) -> None:
    from pyhanko.pdf_utils import generic

    def move(writer) -> None:
        for ref in writer.root["/AcroForm"]["/Fields"]:
            box = ref.get_object()
            if str(box.get("/T")) == "Signature2":
                box["/Rect"] = generic.ArrayObject(
                    generic.FloatObject(v) for v in (40, 560, 560, 760)
                )
                writer.update_container(box)
        writer._update_meta = lambda: None

    data = incremental(signed, move)
    assert_not_valid(data, trust, "annotation changed on page")
    # the input is verified first and named NOT VALID (it used to fail only at re-validation)
    with pytest.raises(ReportError, match="report to countersign is NOT VALID"):
        sign_pdf(data, identities["second"])


def test_catalog_action_added_after_certification_is_described(countersigned, trust) -> None:
    from pyhanko.pdf_utils import generic

    def open_action(writer) -> None:
        action = generic.DictionaryObject(
            {
                generic.pdf_name("/S"): generic.pdf_name("/URI"),
                generic.pdf_name("/URI"): generic.TextStringObject("http://evil.example/"),
            }
        )
        writer.root["/OpenAction"] = writer.add_object(action)
        writer.update_root()
        writer._update_meta = lambda: None

    data = incremental(countersigned, open_action)
    result = assert_not_valid(data, trust, "document catalog entry /OpenAction added")
    assert result.changes[-1].startswith("Revision 5: document catalog entry /OpenAction added")


def test_a_broken_signature_dictionary_is_not_valid_rather_than_unsigned(signed, trust) -> None:
    data = signed.replace(b"/Type /Sig", b"/Type /Xig", 1)
    assert data != signed
    result = assert_not_valid(data, trust, "changed after signing")
    assert "no readable signature" in result.all_problems[0]
