"""Verify every signature of a Probity report, offline, against the user's trusted signers.

A report passes only if each signature is intact (signed bytes unchanged), cryptographically
valid, made with a trusted certificate, and either covers the whole file or is followed only by
revisions that are themselves later signatures filling reserved boxes (DocMDP-permitted form
filling). Anything else appended (a page, an annotation, stray bytes) fails.
"""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field  # a SignatureCheck attribute is named `field`
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assessment.errors import ReportError

if TYPE_CHECKING:
    from cryptography import x509


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

    @property
    def sound(self) -> bool:
        """Intact, valid and covering the file (or followed only by permitted signatures):
        everything except trust, which depends on who is verifying."""
        return self.intact and self.valid and self.coverage_ok


@dataclass
class VerificationResult:
    source: str
    revisions: int
    file_sha256: str
    signatures: list[SignatureCheck]
    assessment_name: str | None
    assessment_sha256: str | None

    @property
    def ok(self) -> bool:
        return bool(self.signatures) and all(s.ok for s in self.signatures)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


def verify_file(
    path: str | Path, *, extra_trust: tuple[x509.Certificate, ...] = (), use_store: bool = True
) -> VerificationResult:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotVerifiable(f"Cannot read {path}: {exc.strerror}.") from exc
    return verify_pdf(data, extra_trust=extra_trust, use_store=use_store, source=str(path))


def verify_pdf(
    data: bytes,
    *,
    extra_trust: tuple[x509.Certificate, ...] = (),
    use_store: bool = True,
    source: str = "the PDF",
) -> VerificationResult:
    """Validate all signatures in ``data``; raise NotVerifiable if it is not a signed PDF."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    if b"%PDF-" not in data[:1024]:
        raise NotVerifiable(f"{source} is not a PDF file.")
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        embedded = list(reader.embedded_regular_signatures)
        revisions = reader.xrefs.total_revisions
    except (PdfError, ValueError, KeyError) as exc:
        raise NotVerifiable(f"{source} is not a readable PDF ({exc}).") from exc
    if not embedded:
        raise NotVerifiable(f"{source} carries no digital signature.")
    context = _validation_context(extra_trust, use_store)
    signed_revisions = {sig.signed_revision for sig in embedded}
    with _quiet_pyhanko():
        checks = [_check(sig, context, revisions, signed_revisions) for sig in embedded]
    name = digest = None
    from reports.attachment import read_attachment

    try:
        attachment = read_attachment(data, source=source)
        name, digest = attachment.name, attachment.sha256
    except ReportError:
        pass
    return VerificationResult(
        source=source,
        revisions=revisions,
        file_sha256=hashlib.sha256(data).hexdigest(),
        signatures=checks,
        assessment_name=name,
        assessment_sha256=digest,
    )


@contextmanager
def _quiet_pyhanko() -> Iterator[None]:
    """pyHanko logs every trust failure with a traceback; the result already says it."""
    loggers = [logging.getLogger(name) for name in ("pyhanko", "pyhanko_certvalidator")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
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


def _check(sig: Any, context: Any, revisions: int, signed_revisions: set[int]) -> SignatureCheck:
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    field_name = str(sig.field_name)
    try:
        status = validate_pdf_signature(sig, context)
    except (SignatureValidationError, PdfError, ValueError, KeyError, TypeError,
            zlib.error) as exc:  # a damaged file is a failed signature, not a crash
        return SignatureCheck(
            field=field_name, signer="(unreadable)", subject="", signing_time=None,
            fingerprint="", intact=False, valid=False, trusted=False, certification=False,
            revision=sig.signed_revision + 1, coverage="unknown", modification_level="unknown",
            ok=False, problems=[f"signature {field_name} cannot be validated: {exc}"],
        )
    cert = status.signing_cert
    subject = cert.subject.native
    signer = str(subject.get("common_name", cert.subject.human_friendly))
    when = status.signer_reported_dt
    fp = hashlib.sha256(cert.dump()).hexdigest().upper()
    fingerprint = ":".join(fp[i : i + 2] for i in range(0, len(fp), 2))
    later = set(range(sig.signed_revision + 1, revisions))
    level = status.modification_level
    problems: list[str] = []
    if not status.intact:
        problems.append(f"{field_name}: signed bytes were changed")
    if not status.valid:
        problems.append(f"{field_name}: the cryptographic signature does not verify")
    if not status.trusted:
        problems.append(f"{field_name}: certificate of {signer} is not trusted (pass --trust CERT)")
    covered_before = len(problems)
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        coverage = "whole file"
    elif status.coverage == SignatureCoverageLevel.ENTIRE_REVISION:
        coverage = f"revision {sig.signed_revision + 1} of {revisions}"
        if not later:
            problems.append(f"{field_name}: bytes were appended after the signed data")
        only_signatures = later <= signed_revisions
        permitted = level is not None and level <= ModificationLevel.FORM_FILLING
        if not (only_signatures and permitted and status.docmdp_ok is not False):
            problems.append(
                f"{field_name}: the file was changed after this signature "
                f"(later revisions are not only permitted signatures; level {_level(level)})"
            )
    else:
        coverage = "unclear" if status.coverage is None else status.coverage.name.lower()
        problems.append(f"{field_name}: the signature does not cover the file ({coverage})")
    return SignatureCheck(
        field=field_name,
        signer=signer,
        subject=cert.subject.human_friendly,
        signing_time=when.isoformat() if when else None,
        fingerprint=fingerprint,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        certification=sig.docmdp_level is not None,
        revision=sig.signed_revision + 1,
        coverage=coverage,
        modification_level=_level(level),
        ok=not problems,
        problems=problems,
        coverage_ok=len(problems) == covered_before,
    )


def _level(level: Any) -> str:
    return "unknown" if level is None else str(level.name).lower()
