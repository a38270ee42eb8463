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

The checks live by concern in :mod:`reports.verify_structure` (byte ranges),
:mod:`reports.verify_certs` (certificates), :mod:`reports.verify_revisions` (what changed after
signing), :mod:`reports.verify_objects` (PDF object access) and :mod:`reports.verify_cover` (the
hash on the cover page); this module holds the result types and runs them, and re-exports their
public names.
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
from reports.verify_certs import (
    MIN_EC_BITS,
    MIN_RSA_BITS,
    STRONG_DIGESTS,
    certificate_problems,
    cms_certificate_problems,
)
from reports.verify_cover import cover_sha256, page_text
from reports.verify_objects import PARSE_ERRORS, form_fields, pages, reserved_boxes
from reports.verify_revisions import describe_revisions
from reports.verify_structure import byte_range_problems, revision_ends

if TYPE_CHECKING:
    from cryptography import x509

MAX_PDF_BYTES = 512 * 1024 * 1024
# Raw-byte marks of a signed (or to-be-signed Probity) PDF: a file holding one that cannot be
# parsed is a damaged signed report (NOT VALID), not "not a PDF" (a report cut in half keeps
# its catalog's /ProbityReservedBoxes but loses the signature dictionaries appended after it).
_SIGNED_MARKS = re.compile(rb"/ByteRange|/ProbityReservedBoxes|/Type\s*/Sig\b|/FT\s*/Sig\b")
NOT_PROBITY = "not a Probity report: no embedded assessment"


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
    # facts that do not make the report NOT VALID but a reader must see (one signer, two boxes)
    warnings: list[str] = dataclass_field(default_factory=list)

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
    marked = looks_signed or _SIGNED_MARKS.search(data) is not None
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    try:
        with _quiet_pyhanko():
            reader = PdfFileReader(BytesIO(data), strict=False)
            embedded = list(reader.embedded_regular_signatures)
            revisions = reader.xrefs.total_revisions
    except PARSE_ERRORS as exc:
        if marked:
            return _damaged(data, source, f"its structure cannot be read ({_brief(exc)})")
        raise NotVerifiable(
            f"{source} is not a readable PDF ({_brief(exc)}), and it holds no trace of a "
            "signature or of Probity's signature boxes; check that it was copied in full."
        ) from exc
    if not embedded:
        if looks_signed:  # a signature dictionary that no longer reads as one
            return _damaged(data, source, "it holds a /ByteRange but no readable signature")
        raise NotVerifiable(f"{source} carries no digital signature.")
    try:
        with _quiet_pyhanko():
            return _verify(reader, embedded, revisions, data, source, extra_trust, use_store, now)
    except PARSE_ERRORS as exc:
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
    except ReportError as exc:
        damaged = "is damaged" in exc.message
        problems.append(exc.message.rstrip(".") if damaged else (
            f"{NOT_PROBITY} ({source} is signed but carries no assessment to check; "
            "Probity reports always embed the assessment they were signed with)"))
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
        warnings=_same_signer_warnings(checks),
    )


def _same_signer_warnings(checks: list[SignatureCheck]) -> list[str]:
    """One line per box signed again by a certificate that already signed the report."""
    seen: dict[str, int] = {}
    warnings: list[str] = []
    ordered = sorted(checks, key=lambda c: c.revision)
    for i, check in enumerate(ordered, start=1):
        if not check.fingerprint:
            continue
        if check.fingerprint in seen:
            first = seen[check.fingerprint]
            who = ("the certifier's certificate" if ordered[first - 1].certification
                   else f"the certificate of signature {first}")
            where = check.box or f"box {check.field}"
            warnings.append(f"{where} signed again by {who} (same SHA-256 fingerprint, "
                            f"{check.signer}): one person filled two signature boxes")
        else:
            seen[check.fingerprint] = i
    return warnings


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
    except PARSE_ERRORS as exc:  # a damaged file is a failed signature, not a crash
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


__all__ = [
    "MAX_PDF_BYTES",
    "MIN_EC_BITS",
    "MIN_RSA_BITS",
    "STRONG_DIGESTS",
    "NotVerifiable",
    "SignatureCheck",
    "VerificationResult",
    "byte_range_problems",
    "certificate_problems",
    "cms_certificate_problems",
    "cover_sha256",
    "describe_revisions",
    "form_fields",
    "page_text",
    "pages",
    "read_pdf",
    "reserved_boxes",
    "revision_ends",
    "verify_file",
    "verify_pdf",
]
