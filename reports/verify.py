"""Verify every signature of a Probity report, offline, against the user's trusted signers.

A report passes only if, for every signature:

- its ``/ByteRange`` is exactly two ranges, the first from byte 0, the second ending at the
  ``%%EOF`` that closes the signature's revision (the end of the file for the last one), and the
  unsigned gap between them holds exactly one hex string ``<…>`` (ISO 32000-1 §12.8.1) and
  nothing else, decoding to the CMS that was validated (checked here on the raw bytes: pyHanko's
  own "entire file" test only compares lengths, so a literal-string ``/Contents`` frees half of
  the gap for new objects);
- the signed bytes are unchanged and the CMS signature verifies;
- the signer certificate was valid at the claimed signing time and is valid now, allows document
  signing (digitalSignature or nonRepudiation), has a strong key (RSA >= 2048 bits, EC >= 256)
  and the document digest is SHA-256 or stronger; the CMS carries one version of it only;
- the signer is trusted (``--trust`` certificates and the trusted store);

and every revision after the certified one is a countersignature in one of the boxes the
certified report reserved (recorded in its catalog, see reports.attachment), changing nothing
else: every later revision is described ("countersignature by X in reserved box 2", "document
metadata changed (Title: A → B)", "form field 'x' filled", "annotation added on page 2"), and
anything but a countersignature makes the report NOT VALID. The embedded assessment's SHA-256
must equal the one printed on the signed cover page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field  # a SignatureCheck attribute is named `field`
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assessment.errors import ReportError
from reports.attachment import RESERVED_BOXES_KEY

if TYPE_CHECKING:
    from cryptography import x509

# Hostile PDFs make pyHanko raise nearly anything (AssertionError, RecursionError, IndexError…):
# at this boundary every one of them means "damaged", never a traceback.
_PARSE_ERRORS = (Exception,)

STRONG_DIGESTS = frozenset({"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512"})
MAX_PDF_BYTES = 512 * 1024 * 1024
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
_HEX_GAP = re.compile(rb"<[0-9A-Fa-f]*>")
_EOF = re.compile(rb"startxref[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+%%EOF")
_SHA256_HEX = re.compile(r"Assessment SHA-256\s*([0-9a-fA-F]{64})")


class NotVerifiable(ReportError):
    """The file is not a PDF, or carries no signature at all (CLI exit code 2)."""


@dataclass
class SignatureCheck:
    field: str
    signer: str
    subject: str
    signing_time: str | None
    fingerprint: str
    intact: bool
    valid: bool
    trusted: bool
    certification: bool
    revision: int  # 1-based revision this signature covers
    coverage: str
    modification_level: str
    ok: bool
    problems: list[str] = dataclass_field(default_factory=list)

    coverage_ok: bool = False  # whole file, or followed only by permitted signatures
    structure_ok: bool = False  # ByteRange and /Contents gap as ISO 32000-1 requires
    certificate_ok: bool = False  # validity period, key usage, key size, digest
    box: str = ""  # "reserved box 2", or "" when the field is not one of the reserved boxes

    @property
    def sound(self) -> bool:
        """Intact, well-formed, valid and covering the file (or followed only by permitted
        signatures): everything except trust, which depends on who is verifying."""
        return self.intact and self.valid and self.coverage_ok and self.structure_ok

    @property
    def changed(self) -> bool:
        """The bytes around this signature were changed after signing."""
        return not (self.intact and self.structure_ok and self.coverage_ok)


@dataclass
class VerificationResult:
    source: str
    revisions: int
    file_sha256: str
    signatures: list[SignatureCheck]
    assessment_name: str | None
    assessment_sha256: str | None
    cover_sha256: str | None = None  # the assessment hash printed on the signed cover page
    # one line per revision after the certified one, and the document-level reasons for NOT VALID
    changes: list[str] = dataclass_field(default_factory=list)
    problems: list[str] = dataclass_field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.signatures) and all(s.ok for s in self.signatures) and not self.problems

    @property
    def all_problems(self) -> list[str]:
        """Every reason for NOT VALID: changed bytes first, then later revisions and
        certificates, trust last (a changed file is not a trust question)."""
        problems = [p for s in self.signatures for p in s.problems] + list(self.problems)

        def rank(problem: str) -> int:
            if "changed after signing" in problem or "is damaged" in problem:
                return 0
            return 2 if "not trusted" in problem else 1

        return sorted(problems, key=rank)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


def verify_file(
    path: str | Path,
    *,
    extra_trust: tuple[x509.Certificate, ...] = (),
    use_store: bool = True,
    now: dt.datetime | None = None,
) -> VerificationResult:
    data = read_pdf(path)
    return verify_pdf(data, extra_trust=extra_trust, use_store=use_store, source=str(path), now=now)


def read_pdf(path: str | Path) -> bytes:
    """The bytes of a PDF to verify: a regular file of at most MAX_PDF_BYTES (a FIFO or
    /dev/zero is refused in one sentence, NotVerifiable)."""
    from reports.identity import IdentityError, read_small_file

    try:
        return read_small_file(path, MAX_PDF_BYTES, what="PDF")
    except IdentityError as exc:
        raise NotVerifiable(exc.message) from exc


def verify_pdf(
    data: bytes,
    *,
    extra_trust: tuple[x509.Certificate, ...] = (),
    use_store: bool = True,
    source: str = "the PDF",
    now: dt.datetime | None = None,
) -> VerificationResult:
    """Validate all signatures in ``data``; raise NotVerifiable if it is not a signed PDF.

    A file that looks signed (it has a ``/ByteRange``) but cannot be read is not "not a PDF":
    it is returned as NOT VALID (damaged or changed after signing).
    """
    from pyhanko.pdf_utils.reader import PdfFileReader

    if b"%PDF-" not in data[:1024]:
        raise NotVerifiable(f"{source} is not a PDF file.")
    looks_signed = b"/ByteRange" in data
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    try:
        with _quiet_pyhanko():
            reader = PdfFileReader(BytesIO(data), strict=False)
            embedded = list(reader.embedded_regular_signatures)
            revisions = reader.xrefs.total_revisions
    except _PARSE_ERRORS as exc:
        if looks_signed:
            return _damaged(data, source, f"its structure cannot be read ({_brief(exc)})")
        raise NotVerifiable(f"{source} is not a readable PDF ({_brief(exc)}).") from exc
    if not embedded:
        if looks_signed:  # a signature dictionary that no longer reads as one
            return _damaged(data, source, "it holds a /ByteRange but no readable signature")
        raise NotVerifiable(f"{source} carries no digital signature.")
    try:
        with _quiet_pyhanko():
            return _verify(reader, embedded, revisions, data, source, extra_trust, use_store, now)
    except _PARSE_ERRORS as exc:
        return _damaged(data, source, f"it cannot be analysed ({_brief(exc)})")


def _brief(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


def _damaged(data: bytes, source: str, why: str) -> VerificationResult:
    return VerificationResult(
        source=source,
        revisions=0,
        file_sha256=hashlib.sha256(data).hexdigest(),
        signatures=[],
        assessment_name=None,
        assessment_sha256=None,
        problems=[f"{source} is damaged: {why}; it was changed after signing or is incomplete"],
    )


def _verify(
    reader: Any,
    embedded: list[Any],
    revisions: int,
    data: bytes,
    source: str,
    extra_trust: tuple[x509.Certificate, ...],
    use_store: bool,
    now: dt.datetime,
) -> VerificationResult:
    context = _validation_context(extra_trust, use_store)
    ends = revision_ends(reader, data)
    certification = next((s for s in embedded if s.docmdp_level is not None), embedded[0])
    certified_rev = certification.signed_revision
    certified = reader.get_historical_resolver(certified_rev)
    reserved = reserved_boxes(certified)
    checks = [_check(sig, context, ends, data, reserved, now) for sig in embedded]
    problems: list[str] = []
    if certification is not embedded[0]:
        problems.append(
            f"the certification signature {certification.field_name} is not the "
            "first signature of the report"
        )
    by_revision = {sig.signed_revision: chk for sig, chk in zip(embedded, checks, strict=True)}
    changes, change_problems = describe_revisions(reader, certified_rev, by_revision, reserved)
    problems += change_problems

    name = digest = None
    from reports.attachment import read_attachment

    try:
        attachment = read_attachment(data, source=source)
        name, digest = attachment.name, attachment.sha256
    except ReportError:
        pass
    cover = cover_sha256(certified)
    if digest is not None and cover is not None and digest.lower() != cover.lower():
        problems.append(
            f"the embedded assessment (SHA-256 {digest}) is not the one the signed cover page "
            f"names (SHA-256 {cover.lower()}): it was replaced after signing"
        )
    return VerificationResult(
        source=source,
        revisions=revisions,
        file_sha256=hashlib.sha256(data).hexdigest(),
        signatures=checks,
        assessment_name=name,
        assessment_sha256=digest,
        cover_sha256=cover.lower() if cover else None,
        changes=changes,
        problems=problems,
    )


@contextmanager
def _quiet_pyhanko() -> Iterator[None]:
    """pyHanko logs every trust failure with a traceback; the result already says it."""
    loggers = [logging.getLogger(name) for name in ("pyhanko", "pyhanko_certvalidator")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _validation_context(extra: tuple[x509.Certificate, ...], use_store: bool) -> Any:
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from pyhanko_certvalidator import ValidationContext

    from reports.identity import trusted_certificates

    certs = list(extra) + (trusted_certificates() if use_store else [])
    roots = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in certs]
    return ValidationContext(trust_roots=roots, allow_fetching=False)


# ---- file structure -------------------------------------------------------------------


def revision_ends(reader: Any, data: bytes) -> list[int | None]:
    """Byte offset just after the ``%%EOF`` (and its end-of-line) that closes each revision.

    Found from pyHanko's xref sections: the first ``startxref N %%EOF`` after a section's end
    whose N is that section's declared start. None when a revision has no such marker.
    """
    ends: list[int | None] = []
    for rev in range(reader.xrefs.total_revisions):
        meta = reader.xrefs.get_xref_container_info(rev)
        ends.append(None)
        for m in _EOF.finditer(data, meta.end_location):
            if int(m.group(1)) == meta.declared_startxref:
                end = m.end()
                if data[end : end + 2] == b"\r\n":
                    end += 2
                elif data[end : end + 1] in (b"\r", b"\n"):
                    end += 1
                ends[-1] = end
                break
    return ends


def byte_range_problems(
    data: bytes, sig: Any, ends: list[int | None]
) -> tuple[list[str], int | None]:
    """Structural problems of one signature's /ByteRange and /Contents gap (empty: sound),
    and the offset where its signed data ends."""
    from pyhanko.pdf_utils import generic

    name = str(sig.field_name)
    br = sig.byte_range
    values = list(br) if isinstance(br, generic.ArrayObject | list) else []
    if len(values) != 4 or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values
    ):
        return [
            f"{name}: changed after signing: /ByteRange is not exactly two ranges of byte offsets"
        ], None
    start1, len1, start2, len2 = values
    if start1 != 0:
        return [
            f"{name}: changed after signing: the signed ranges do not start at byte 0 "
            f"(they start at {start1})"
        ], None
    end = start2 + len2
    if not len1 < start2 <= len(data) or end > len(data):
        return [
            f"{name}: changed after signing: /ByteRange [0 {len1} {start2} {len2}] does "
            f"not fit the file ({len(data)} bytes)"
        ], None
    problems = []
    rev = sig.signed_revision
    rev_end = ends[rev] if 0 <= rev < len(ends) else None
    if rev_end is None:
        problems.append(
            f"{name}: changed after signing: the revision holding this signature "
            "has no end-of-file marker"
        )
    elif end not in (rev_end, data.rfind(b"%%EOF", 0, rev_end) + 5):
        problems.append(
            f"{name}: changed after signing: the signed data ends at byte {end}, not at the end "
            f"of its revision (byte {rev_end}), so part of the file is not signed"
        )
    gap = data[len1:start2]
    if not _HEX_GAP.fullmatch(gap):
        head = _HEX_GAP.match(gap)
        if gap[:1] == b"(":
            what = "a literal string (...) instead of the hex string <...> the standard requires"
        elif head is not None:
            what = f"a hex string followed by {len(gap) - head.end()} other bytes"
        else:
            what = "something other than one hex string <...>"
        problems.append(
            f"{name}: changed after signing: the unsigned gap (bytes {len1}-{start2}) holds "
            f"{what}; new content can hide there"
        )
    elif len(gap) % 2 or bytes.fromhex(gap[1:-1].decode("ascii")) != bytes(sig.pkcs7_content):
        problems.append(
            f"{name}: changed after signing: the /Contents that was validated is "
            "not the hex string in the signature's gap"
        )
    else:
        contents = bytes(sig.pkcs7_content)
        used = _der_size(contents)
        if used is None or used > len(contents):
            problems.append(
                f"{name}: changed after signing: the signature's /Contents does not start "
                "with one complete DER-encoded signature"
            )
        elif contents[used:].strip(b"\x00"):
            extra = len(contents[used:].rstrip(b"\x00"))
            problems.append(
                f"{name}: changed after signing: {extra} bytes after the signature data in "
                "/Contents are not the zero padding the signer left there; hidden content "
                "can be carried there"
            )
    return problems, end


def _der_size(blob: bytes) -> int | None:
    """Length of the DER SEQUENCE at the start of ``blob`` (tag, length and contents), or
    None when it does not start with a definite-length SEQUENCE header (X.690 §8.1.3)."""
    if len(blob) < 2 or blob[0] != 0x30:
        return None
    first = blob[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(blob) < 2 + count:
        return None
    return 2 + count + int.from_bytes(blob[2 : 2 + count], "big")


# ---- certificates ----------------------------------------------------------------------


def certificate_problems(
    sig: Any, cert_der: bytes, who: str, claimed: dt.datetime | None, now: dt.datetime
) -> list[str]:
    """Reasons a signer certificate cannot vouch for a document signature, even when the
    verifier trusts it directly (a trust anchor is otherwise not checked at all)."""
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    name = str(sig.field_name)
    try:
        cert = x509.load_der_x509_certificate(cert_der)
    except ValueError:
        return [f"{name}: the signer certificate of {who} cannot be parsed"]
    problems = []
    start, stop = cert.not_valid_before_utc, cert.not_valid_after_utc
    period = f"valid {start:%Y-%m-%d %H:%M} to {stop:%Y-%m-%d %H:%M} UTC"
    if claimed is None:
        problems.append(
            f"{name}: the signature states no signing time, so the certificate of "
            f"{who} cannot be checked at signing time"
        )
    elif not start <= claimed.astimezone(dt.UTC) <= stop:
        state = "not yet valid" if claimed < start else "already expired"
        problems.append(
            f"{name}: at the claimed signing time ({claimed:%Y-%m-%d %H:%M} UTC) "
            f"the certificate of {who} was {state} ({period})"
        )
    if now > stop:
        problems.append(
            f"{name}: now ({now:%Y-%m-%d %H:%M} UTC) the certificate of {who} has "
            f"expired ({period})"
        )
    elif now < start:
        problems.append(
            f"{name}: now ({now:%Y-%m-%d %H:%M} UTC) the certificate of {who} is "
            f"not yet valid ({period})"
        )
    usage: x509.KeyUsage | None = None  # no KeyUsage extension: no restriction (RFC 5280)
    unreadable = False
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        pass
    except ValueError:
        unreadable = True
    if unreadable:
        problems.append(f"{name}: the key usage of the certificate of {who} cannot be read")
    elif usage is not None and not (usage.digital_signature or usage.content_commitment):
        allowed = [
            label
            for label, on in (
                ("keyEncipherment", usage.key_encipherment),
                ("dataEncipherment", usage.data_encipherment),
                ("keyAgreement", usage.key_agreement),
                ("keyCertSign", usage.key_cert_sign),
                ("cRLSign", usage.crl_sign),
            )
            if on
        ]
        problems.append(
            f"{name}: the certificate of {who} does not allow document signing (key usage "
            f"{', '.join(allowed) or 'empty'}, without digitalSignature or nonRepudiation)"
        )
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        key = None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        problems.append(
            f"{name}: the RSA key of {who} has {key.key_size} bits; at least "
            f"{MIN_RSA_BITS} are required"
        )
    elif isinstance(key, ec.EllipticCurvePublicKey) and key.key_size < MIN_EC_BITS:
        problems.append(
            f"{name}: the EC key of {who} has {key.key_size} bits; at least "
            f"{MIN_EC_BITS} are required"
        )
    elif not isinstance(
        key,
        rsa.RSAPublicKey
        | ec.EllipticCurvePublicKey
        | ed25519.Ed25519PublicKey
        | ed448.Ed448PublicKey,
    ):
        problems.append(f"{name}: the key of {who} is not an RSA, EC or EdDSA key")
    digest = str(sig.md_algorithm).lower()
    if digest not in STRONG_DIGESTS:
        problems.append(
            f"{name}: the document digest is {digest.upper()}; SHA-256 or stronger is required"
        )
    try:
        mech_hash = sig.signer_info["signature_algorithm"].hash_algo
    except (ValueError, KeyError):
        mech_hash = None
    if mech_hash is not None and str(mech_hash).lower() not in STRONG_DIGESTS:
        problems.append(
            f"{name}: the signature algorithm uses {str(mech_hash).upper()}; "
            "SHA-256 or stronger is required"
        )
    return problems


def cms_certificate_problems(sig: Any, who: str) -> list[str]:
    """Two different certificates with one identity in the CMS: which one a validator uses is
    arbitrary, so the signer cannot be named (poppler calls such a signature invalid)."""
    name = str(sig.field_name)
    seen: dict[Any, bytes] = {}
    for choice in sig.signed_data["certificates"] or []:
        cert = choice.chosen
        try:
            dumped = cert.dump()
            keys: list[Any] = [("issuer-serial", cert.issuer.dump(), cert.serial_number)]
            if cert.key_identifier is not None:
                keys.append(("key-id", cert.key_identifier))
        except (ValueError, KeyError, AttributeError):
            return [f"{name}: a certificate in the signature cannot be parsed"]
        for key in keys:
            if seen.setdefault(key, dumped) != dumped:
                return [
                    f"{name}: the signature carries two different certificates claiming "
                    f"the identity of {who} (one was edited); changed after signing"
                ]
    return []


# ---- one signature ---------------------------------------------------------------------


def _check(
    sig: Any,
    context: Any,
    ends: list[int | None],
    data: bytes,
    reserved: list[str] | None,
    now: dt.datetime,
) -> SignatureCheck:
    from pyhanko.sign.validation import validate_pdf_signature

    field_name = str(sig.field_name)
    structure, end = byte_range_problems(data, sig, ends)
    try:
        status = validate_pdf_signature(sig, context)
    except _PARSE_ERRORS as exc:  # a damaged file is a failed signature, not a crash
        return SignatureCheck(
            field=field_name,
            signer="(unreadable)",
            subject="",
            signing_time=None,
            fingerprint="",
            intact=False,
            valid=False,
            trusted=False,
            certification=False,
            revision=sig.signed_revision + 1,
            coverage="unknown",
            modification_level="unknown",
            ok=False,
            problems=[
                *structure,
                f"{field_name}: changed after signing: the "
                f"signature cannot be validated ({_brief(exc)})",
            ],
        )
    cert = status.signing_cert
    subject = cert.subject.native
    signer = str(subject.get("common_name", cert.subject.human_friendly))
    when = status.signer_reported_dt
    fp = hashlib.sha256(cert.dump()).hexdigest().upper()
    fingerprint = ":".join(fp[i : i + 2] for i in range(0, len(fp), 2))
    rev = sig.signed_revision
    problems: list[str] = list(structure)
    if not status.intact:
        problems.append(f"{field_name}: changed after signing: the signed bytes were changed")
    if not status.valid:
        problems.append(
            f"{field_name}: changed after signing: the cryptographic signature does not verify"
        )
    problems += cms_certificate_problems(sig, signer)
    changed = bool(problems)
    total = len(ends)
    last_end = ends[-1]
    coverage_ok = True
    if end is not None and end == len(data):
        coverage = "whole file"
    else:
        coverage = f"revision {rev + 1} of {total}"
    if last_end is not None and last_end < len(data):
        coverage_ok = False
        problems.append(
            f"{field_name}: changed after signing: {len(data) - last_end} bytes "
            "were appended after the signed data"
        )
    level = status.modification_level
    if rev + 1 < total and (
        level is None or level.name not in ("NONE", "FORM_FILLING") or status.docmdp_ok is False
    ):
        coverage_ok = False
        problems.append(
            f"{field_name}: changed after signing: later revisions do more than add permitted "
            f"signatures (level {_level(level)})"
        )
    certification = sig.docmdp_level is not None
    if reserved is None:  # not recorded (a report from an older Probity or another tool)
        box = f"box {field_name}"
    elif field_name in reserved:
        box = f"reserved box {reserved.index(field_name) + 1}"
    else:
        box = ""
    if reserved is not None and not box:
        problems.append(
            f"{field_name}: the signature is not in a box the certified report "
            "reserved (a planted field)"
        )
    cert_problems = certificate_problems(sig, cert.dump(), signer, when, now)
    problems += cert_problems
    if not status.trusted and not changed and coverage_ok:
        problems.append(f"{field_name}: certificate of {signer} is not trusted (pass --trust CERT)")
    return SignatureCheck(
        field=field_name,
        signer=signer,
        subject=cert.subject.human_friendly,
        signing_time=when.isoformat() if when else None,
        fingerprint=fingerprint,
        intact=bool(status.intact) and not structure,
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        certification=certification,
        revision=rev + 1,
        coverage=coverage,
        modification_level=_level(level),
        ok=not problems,
        problems=problems,
        coverage_ok=coverage_ok,
        structure_ok=not structure,
        certificate_ok=not cert_problems,
        box=box,
    )


def _level(level: Any) -> str:
    return "unknown" if level is None else str(level.name).lower()


# ---- what each revision changed --------------------------------------------------------


def _deref(handler: Any, obj: Any, depth: int = 0) -> Any:
    from pyhanko.pdf_utils import generic

    while isinstance(obj, generic.IndirectObject) and depth < 32:
        obj = handler.get_object(obj.reference)
        depth += 1
    return obj


def _get(handler: Any, obj: Any, key: str) -> Any:
    from pyhanko.pdf_utils import generic

    obj = _deref(handler, obj)
    if not isinstance(obj, generic.DictionaryObject):
        return None
    try:
        return _deref(handler, obj.raw_get(key))
    except KeyError:
        return None


def _ref(obj: Any) -> tuple[int, int] | None:
    from pyhanko.pdf_utils import generic

    if isinstance(obj, generic.IndirectObject):
        return (obj.idnum, obj.generation)
    return None


def reserved_boxes(handler: Any) -> list[str] | None:
    """Field names of the signature boxes the report reserved, as recorded in its catalog (in
    the revision ``handler`` shows); None when the report records none."""
    record = _get(handler, handler.root, RESERVED_BOXES_KEY)
    if record is None:
        return None
    try:
        return [str(_deref(handler, x)) for x in record]
    except TypeError:
        return None


def form_fields(handler: Any) -> dict[str, dict[str, Any]]:
    """Terminal form fields by fully qualified name: type, value and widget references."""
    from pyhanko.pdf_utils import generic

    out: dict[str, dict[str, Any]] = {}
    acro = _get(handler, handler.root, "/AcroForm")
    top = _get(handler, acro, "/Fields") if acro is not None else None
    stack: list[tuple[Any, str, Any, int]] = [(x, "", None, 0) for x in (top or [])]
    seen: set[Any] = set()
    while stack and len(seen) < 10_000:
        raw, parent, inherited_type, depth = stack.pop()
        key = _ref(raw) or id(raw)
        if key in seen or depth > 32:
            continue
        seen.add(key)
        node = _deref(handler, raw)
        if not isinstance(node, generic.DictionaryObject):
            continue
        part = _get(handler, node, "/T")
        name = f"{parent}.{part}" if parent and part is not None else str(part or parent)
        ftype = _get(handler, node, "/FT") or inherited_type
        kids = _get(handler, node, "/Kids")
        field_kids = [k for k in (kids or []) if _get(handler, k, "/T") is not None]
        if field_kids:
            stack += [(k, name, ftype, depth + 1) for k in field_kids]
            continue
        value = _get(handler, node, "/V")
        widgets = [_ref(k) for k in (kids or [])] if kids else [_ref(raw)]
        out[name] = {
            "type": str(ftype) if ftype is not None else "",
            "value": _ref(node.raw_get("/V")) if "/V" in node else None,
            "value_text": None if value is None else str(value)[:80],
            "ref": _ref(raw),
            "widgets": {w for w in widgets if w is not None},
        }
    return out


def pages(handler: Any) -> list[Any]:
    """Page dictionaries (as raw references where possible) in order, cycle-safe."""
    from pyhanko.pdf_utils import generic

    out: list[Any] = []
    stack = [handler.root.raw_get("/Pages")]
    seen: set[Any] = set()
    while stack and len(out) < 100_000:
        raw = stack.pop()
        key = _ref(raw) or id(raw)
        if key in seen:
            continue
        seen.add(key)
        node = _deref(handler, raw)
        if not isinstance(node, generic.DictionaryObject):
            continue
        kids = _get(handler, node, "/Kids")
        if kids is not None and str(_get(handler, node, "/Type")) != "/Page":
            stack += list(reversed(list(kids)))
        else:
            out.append(raw)
    return out


def _annotations(handler: Any, page: Any) -> list[tuple[Any, str]]:
    annots = _get(handler, page, "/Annots") or []
    return [
        (_ref(a) or ("direct", i), str(_get(handler, a, "/Subtype") or "?"))
        for i, a in enumerate(annots)
    ]


def _content_digest(handler: Any, page: Any) -> str:
    from pyhanko.pdf_utils import generic

    contents = _get(handler, page, "/Contents")
    parts = list(contents) if isinstance(contents, generic.ArrayObject) else [contents]
    digest = hashlib.sha256()
    for part in parts:
        stream = _deref(handler, part)
        if isinstance(stream, generic.StreamObject):
            digest.update(stream.data)
    for key in ("/Resources", "/MediaBox", "/CropBox", "/Rotate"):
        digest.update(repr(_get(handler, page, key)).encode())
    return digest.hexdigest()


def _info(handler: Any, revision: int, reader: Any) -> dict[str, str]:
    info = _deref(handler, reader.trailer.raw_get("/Info", revision=revision))
    try:
        return {str(k): str(_deref(handler, v)) for k, v in info.items()}
    except (AttributeError, TypeError):
        return {}


# Catalog entries whose value change is described (the others are compared as present/absent:
# a countersignature legitimately rewrites /AcroForm, and /Perms is set at certification).
_WATCHED = frozenset(
    {
        "/OpenAction",
        "/AA",
        "/Names",
        "/Outlines",
        "/Pages",
        "/URI",
        "/OCProperties",
        "/Dests",
        "/PageLabels",
        "/Lang",
        "/ViewerPreferences",
        "/PageMode",
    }
)


# What a signature revision may add to the catalog: the form (first field filled) and the
# extension level pyHanko declares for the signature's algorithms (ISO 32000 developer ext.).
_SIGNING_CATALOG_KEYS = frozenset({"/AcroForm", "/Extensions"})


def _catalog(handler: Any) -> dict[str, str]:
    """Catalog entries as comparable text (watched ones by their value in this revision)."""
    out: dict[str, str] = {}
    for key in handler.root:
        raw = handler.root.raw_get(key)
        ref = _ref(raw)
        out[str(key)] = f"{ref[0]} {ref[1]} R" if ref else repr(raw)
        if key in _WATCHED:
            out[str(key)] += " = " + repr(_deref(handler, raw))[:100_000]
    return out


def _xmp(handler: Any) -> bytes | None:
    from pyhanko.pdf_utils import generic

    stream = _get(handler, handler.root, "/Metadata")
    return stream.data if isinstance(stream, generic.StreamObject) else None


def _attachment_sha(handler: Any) -> str | None:
    from reports.attachment import ATTACHMENT_NAME

    names = _get(
        handler, _get(handler, _get(handler, handler.root, "/Names"), "/EmbeddedFiles"), "/Names"
    )
    try:
        for i in range(0, len(names or []) - 1, 2):
            if str(_deref(handler, names[i])) == ATTACHMENT_NAME:
                stream = _get(handler, _get(handler, names[i + 1], "/EF"), "/F")
                return hashlib.sha256(stream.data).hexdigest()
    except (AttributeError, TypeError):
        return "unreadable"
    return None


def _short(text: str | None) -> str:
    if text is None:
        return "(none)"
    return repr(text if len(text) <= 60 else text[:57] + "…")


def describe_revisions(
    reader: Any,
    certified_rev: int,
    signatures: dict[int, SignatureCheck],
    reserved: list[str] | None,
) -> tuple[list[str], list[str]]:
    """One line per revision after the certified one saying what it changed, and the changes
    that make the report NOT VALID (anything but a countersignature in a reserved box)."""
    changes: list[str] = []
    problems: list[str] = []
    total = reader.xrefs.total_revisions
    prev = reader.get_historical_resolver(certified_rev)
    certified_fields = form_fields(prev)
    for name, f in certified_fields.items():
        if f["type"] != "/Sig":
            problems.append(
                f"form field {name!r} ({f['type'] or 'untyped'}) is not a signature "
                "box; a Probity report has no other fields"
            )
        elif reserved is not None and name not in reserved:
            problems.append(
                f"form field {name!r} is not one of the signature boxes the report reserved"
            )
    prev_fields = certified_fields
    prev_pages = pages(prev)
    prev_info, prev_xmp = _info(prev, certified_rev, reader), _xmp(prev)
    prev_root = _catalog(prev)
    prev_att = _attachment_sha(prev)
    prev_annots = [_annotations(prev, p) for p in prev_pages]
    prev_content = [_content_digest(prev, p) for p in prev_pages]
    for rev in range(certified_rev + 1, total):
        cur = reader.get_historical_resolver(rev)
        items: list[str] = []
        bad: list[str] = []
        sig = signatures.get(rev)
        fields_now = form_fields(cur)
        for name in fields_now.keys() - prev_fields.keys():
            bad.append(f"form field {name!r} added")
        for name in prev_fields.keys() - fields_now.keys():
            bad.append(f"form field {name!r} removed")
        for name in fields_now.keys() & prev_fields.keys():
            old, new = prev_fields[name], fields_now[name]
            if (old["value"], old["value_text"]) == (new["value"], new["value_text"]):
                if old["widgets"] != new["widgets"]:
                    bad.append(f"form field {name!r}: its boxes were replaced")
                continue
            if sig is not None and name == sig.field and new["type"] == "/Sig":
                continue
            if new["type"] == "/Sig":
                bad.append(f"signature field {name!r} changed outside a signature revision")
            else:
                bad.append(f"form field {name!r} filled ({_short(new['value_text'])})")
        info_now = _info(cur, rev, reader)
        meta = [
            f"{k.lstrip('/')}: {_short(prev_info.get(k))} → {_short(info_now.get(k))}"
            for k in sorted(prev_info.keys() | info_now.keys())
            if prev_info.get(k) != info_now.get(k)
        ]
        if meta:
            bad.append(f"document metadata changed ({'; '.join(meta)})")
        root_now = _catalog(cur)
        signing_keys = _SIGNING_CATALOG_KEYS if sig is not None else frozenset()
        for key in sorted(root_now.keys() - prev_root.keys() - signing_keys):
            bad.append(f"document catalog entry {key} added")
        for key in sorted(prev_root.keys() - root_now.keys()):
            bad.append(f"document catalog entry {key} removed")
        for key in sorted(k for k in root_now.keys() & prev_root.keys() if k in _WATCHED):
            if root_now[key] != prev_root[key]:
                bad.append(f"document catalog entry {key} changed")
        xmp_now = _xmp(cur)
        if xmp_now != prev_xmp:
            bad.append("document metadata changed (XMP metadata stream)")
        rewritten = {(r.idnum, r.generation) for r in cur.explicit_refs_in_revision()}
        pages_now = pages(cur)
        if len(pages_now) != len(prev_pages):
            bad.append(f"page count changed ({len(prev_pages)} → {len(pages_now)})")
        widgets = {w for f in fields_now.values() for w in f["widgets"]}
        annots_now = [_annotations(cur, p) for p in pages_now]
        content_now = [_content_digest(cur, p) for p in pages_now]
        for i, (old_a, new_a) in enumerate(zip(prev_annots, annots_now, strict=False), 1):
            old_refs = {r for r, _ in old_a}
            for ref, subtype in new_a:
                if ref not in old_refs and ref not in widgets:
                    bad.append(f"annotation added on page {i} ({subtype.lstrip('/')})")
                elif ref not in old_refs:
                    bad.append(f"form field box added on page {i}")
            if old_refs - {r for r, _ in new_a}:
                bad.append(f"annotation removed on page {i}")
            own = fields_now[sig.field]["widgets"] if sig and sig.field in fields_now else set()
            for ref, subtype in new_a:
                if ref in old_refs and ref in rewritten and ref not in own:
                    bad.append(f"annotation changed on page {i} ({subtype.lstrip('/')})")
        for i, (old_c, new_c) in enumerate(zip(prev_content, content_now, strict=False), 1):
            if old_c != new_c:
                bad.append(f"page {i} content or resources changed")
        att_now = _attachment_sha(cur)
        if att_now != prev_att:
            bad.append(f"embedded assessment replaced (SHA-256 {prev_att} → {att_now})")
        if sig is not None:
            where = sig.box or f"field {sig.field!r}, not a reserved box"
            kind = "certification" if sig.certification else "countersignature"
            items.append(f"{kind} by {sig.signer} in {where}")
        elif not bad:
            bad.append("an incremental update without a signature")
        line = f"Revision {rev + 1}: " + "; ".join(items + bad)
        changes.append(line)
        problems += [f"revision {rev + 1}: {b} after certification" for b in bad]
        prev_fields, prev_pages, prev_info, prev_xmp = fields_now, pages_now, info_now, xmp_now
        prev_root = root_now
        prev_annots, prev_content, prev_att = annots_now, content_now, att_now
    return changes, problems


# ---- the hash printed on the cover page ------------------------------------------------


def cover_sha256(handler: Any) -> str | None:
    """The assessment SHA-256 printed on page 1, read from its content stream via the fonts'
    ToUnicode maps (reports.report prints it as 'Assessment SHA-256' + 64 hex digits)."""
    first = pages(handler)
    if not first:
        return None
    try:
        text = page_text(handler, first[0])
    except _PARSE_ERRORS:
        return None
    m = _SHA256_HEX.search(text)
    return m.group(1) if m else None


def page_text(handler: Any, page: Any) -> str:
    """Text shown by a page's content stream, decoded through each font's ToUnicode map; runs
    are separated by a space. Enough for reading back what reportlab printed."""
    from pyhanko.pdf_utils import generic

    contents = _get(handler, page, "/Contents")
    parts = list(contents) if isinstance(contents, generic.ArrayObject) else [contents]
    data = b"\n".join(
        s.data for s in (_deref(handler, p) for p in parts) if isinstance(s, generic.StreamObject)
    )
    fonts = _get(handler, _get(handler, page, "/Resources"), "/Font")
    maps: dict[bytes, dict[int, str]] = {}
    font = b""
    runs: list[str] = []
    operands: list[tuple[str, Any]] = []
    for kind, value in _content_tokens(data):
        if kind != "op":
            operands.append((kind, value))
            continue
        if value == b"Tf":
            names = [v for k, v in operands if k == "name"]
            if names:
                font = names[-1]
                if font not in maps:
                    entry = _get(handler, fonts, "/" + font.decode("latin-1")) if fonts else None
                    maps[font] = _to_unicode(handler, entry) if entry is not None else {}
        elif value in (b"Tj", b"TJ", b"'", b'"'):
            cmap = maps.get(font, {})
            for k, v in operands:
                if k == "str":
                    runs.append("".join(cmap.get(b, chr(b)) for b in v))
        operands = []
        if len(runs) > 200_000:
            break
    return " ".join(runs)


_DELIMS = b"()<>[]{}/%"
_SPACE = b"\x00\t\n\x0c\r "
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}


def _content_tokens(data: bytes) -> Iterator[tuple[str, Any]]:
    """Operands and operators of a content stream: ("str", bytes), ("name", bytes),
    ("op", bytes), ("other", bytes). Inline image data is skipped."""
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        if c in _SPACE:
            i += 1
        elif c == ord("%"):
            while i < n and data[i] not in b"\r\n":
                i += 1
        elif c == ord("("):
            out, depth, i = bytearray(), 1, i + 1
            while i < n:
                c = data[i]
                if c == ord("\\") and i + 1 < n:
                    e = data[i + 1]
                    if e in b"01234567":
                        j = i + 1
                        while j < min(i + 4, n) and data[j] in b"01234567":
                            j += 1
                        out.append(int(data[i + 1 : j], 8) & 0xFF)
                        i = j
                        continue
                    if e not in b"\r\n":
                        out.append(_ESCAPES.get(e, e))
                    i += 2
                    continue
                if c == ord("("):
                    depth += 1
                elif c == ord(")"):
                    depth -= 1
                    if not depth:
                        i += 1
                        break
                out.append(c)
                i += 1
            yield "str", bytes(out)
        elif c == ord("<") and data[i : i + 2] != b"<<":
            j = data.find(b">", i)
            j = n if j < 0 else j
            digits = bytes(ch for ch in data[i + 1 : j] if ch not in _SPACE)
            if len(digits) % 2:
                digits += b"0"
            try:
                yield "str", bytes.fromhex(digits.decode("ascii"))
            except ValueError:
                yield "other", b""
            i = j + 1
        elif c in b"<>[]{}":
            yield "other", data[i : i + 1]
            i += 2 if data[i : i + 2] in (b"<<", b">>") else 1
        else:
            j = i + 1
            while j < n and data[j] not in _SPACE and data[j] not in _DELIMS:
                j += 1
            word = data[i:j]
            if c == ord("/"):
                j = i + 1
                while j < n and data[j] not in _SPACE and data[j] not in _DELIMS:
                    j += 1
                yield "name", data[i + 1 : j]
            elif word == b"ID":  # inline image: skip its binary data up to EI
                end = data.find(b"EI", j)
                j = n if end < 0 else end + 2
            elif word[:1].isdigit() or word[:1] in b"+-.":
                yield "other", word
            else:
                yield "op", word
            i = max(j, i + 1)


def _to_unicode(handler: Any, font: Any) -> dict[int, str]:
    """Single-byte code → text from a font's ToUnicode CMap (bfchar and bfrange)."""
    from pyhanko.pdf_utils import generic

    stream = _get(handler, font, "/ToUnicode")
    if not isinstance(stream, generic.StreamObject):
        return {}
    cmap = stream.data[:1_000_000]
    out: dict[int, str] = {}

    def text(hexstr: bytes) -> str:
        raw = bytes.fromhex(hexstr.decode("ascii"))
        return raw.decode("utf-16-be", errors="replace")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            out[int(src, 16)] = text(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            first = int(dst, 16)
            for code in range(int(lo, 16), min(int(hi, 16), int(lo, 16) + 256) + 1):
                out[code] = chr(first + code - int(lo, 16)) if first < 0x110000 else "?"
    return out
