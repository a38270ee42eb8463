"""The trusted-signers store as a reviewer manages it: import a colleague's certificate (PEM/DER
file, or the signer certificates of a signed PDF), list what is trusted, remove one.

The store itself (one PEM file per certificate in the config folder's ``trusted`` folder, named by
SHA-256 fingerprint) belongs to :mod:`reports.identity`; :mod:`reports.verify` treats every
certificate in it as a trusted signer. Importing therefore refuses what must not become a trust
anchor: a certification-authority certificate (it would make everything it ever issued trusted),
an expired or not-yet-valid certificate, and anything that is not an X.509 certificate. Each
refusal is one sentence (:class:`~reports.identity.IdentityError`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from assessment import paths
from reports.identity import (
    MAX_IDENTITY_FILE,
    IdentityError,
    fingerprint,
    read_small_file,
)

MAX_CERTIFICATES_PER_FILE = 50


@dataclass(frozen=True)
class CertificateInfo:
    """What the Trusted signers list shows for one certificate."""

    subject: str
    issuer: str
    fingerprint: str  # SHA-256, colon-separated upper-case hex
    not_before: dt.datetime
    not_after: dt.datetime
    is_ca: bool
    self_signed: bool

    def status(self, at: dt.datetime | None = None) -> str:
        now = at or dt.datetime.now(dt.UTC)
        if now > self.not_after:
            return f"expired {self.not_after:%Y-%m-%d}"
        if now < self.not_before:
            return f"not valid before {self.not_before:%Y-%m-%d}"
        return f"valid until {self.not_after:%Y-%m-%d}"


@dataclass(frozen=True)
class StoreListing:
    """The store's certificates, and the files in it that could not be read (one line each)."""

    certificates: tuple[CertificateInfo, ...]
    unreadable: tuple[str, ...]


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def readable_name(name: x509.Name) -> str:
    """A distinguished name as people read it: ``CN=Dr Ada, O=Ward 7 <QA> & Co`` (attributes
    in the certificate's order, short names, values unescaped; RFC 4514 escaping and its
    reversed order are for machines)."""
    return ", ".join(f"{attr.rfc4514_attribute_name}={attr.value!s}" for attr in name)


def describe(cert: x509.Certificate) -> CertificateInfo:
    """Subject, issuer (:func:`readable_name`), fingerprint and validity (UTC)."""
    try:
        return CertificateInfo(
            subject=readable_name(cert.subject),
            issuer=readable_name(cert.issuer),
            fingerprint=fingerprint(cert),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            is_ca=_is_ca(cert),
            self_signed=cert.subject == cert.issuer,
        )
    except ValueError as exc:  # a malformed name or extension, only found when decoded
        raise IdentityError(
            f"The certificate is malformed ({exc}); ask the signer to export it again."
        ) from exc


def certificates_from_bytes(data: bytes, *, source: str) -> list[x509.Certificate]:
    """The certificates in a PEM or DER certificate file, or the signer certificates of every
    signature in a signed PDF."""
    if data.lstrip()[:5] == b"%PDF-":
        return _signers_of_pdf(data, source)
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise IdentityError(
            f"{source} is not an X.509 certificate (PEM or DER) nor a signed PDF; ask the "
            "signer for their certificate (.cer, .crt or .pem)."
        ) from exc
    if len(certs) > MAX_CERTIFICATES_PER_FILE:
        raise IdentityError(
            f"{source} holds {len(certs)} certificates; at most {MAX_CERTIFICATES_PER_FILE} "
            "are imported at once (is this a system certificate bundle?)."
        )
    return certs


def _signers_of_pdf(data: bytes, source: str) -> list[x509.Certificate]:
    from reports.verify import _quiet_pyhanko
    from reports.verify_objects import PARSE_ERRORS

    if b"/ByteRange" not in data:
        raise IdentityError(f"{source} carries no digital signature, so no signer to trust.")
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader

        with _quiet_pyhanko():
            reader = PdfFileReader(BytesIO(data), strict=False)
            signatures = list(reader.embedded_regular_signatures)
            certs = [
                x509.load_der_x509_certificate(sig.signer_cert.dump()) for sig in signatures
            ]
    except (*PARSE_ERRORS, ValueError) as exc:
        raise IdentityError(
            f"The signatures of {source} cannot be read; import the signer's certificate file "
            "instead."
        ) from exc
    if not certs:
        raise IdentityError(f"{source} carries no digital signature, so no signer to trust.")
    unique = {fingerprint(c): c for c in certs}
    return list(unique.values())


def import_problem(cert: x509.Certificate, *, source: str, at: dt.datetime | None = None) -> (
    str | None
):
    """Why ``cert`` may not become a trusted signer (one sentence), or None."""
    info = describe(cert)
    now = at or dt.datetime.now(dt.UTC)
    who = info.subject or "the certificate"
    if info.is_ca:
        return (
            f"{who} in {source} is a certification-authority certificate, not a signer's; "
            "trusting it would trust everything it issued. Import the colleague's own "
            "certificate."
        )
    if now > info.not_after:
        return (
            f"The certificate of {who} in {source} expired on {info.not_after:%Y-%m-%d}; ask "
            "the colleague for their current certificate."
        )
    if now < info.not_before:
        return (
            f"The certificate of {who} in {source} is not valid before "
            f"{info.not_before:%Y-%m-%d}; check the computer's clock or ask for another one."
        )
    return None


def read_certificate_source(path: str | Path) -> list[x509.Certificate]:
    """Certificates from a certificate file or a signed PDF on disk (size-limited reads)."""
    from reports.verify import MAX_PDF_BYTES

    path = Path(path)
    is_pdf = path.suffix.lower() == ".pdf"
    limit = MAX_PDF_BYTES if is_pdf else MAX_IDENTITY_FILE
    data = read_small_file(path, limit, what="signed PDF" if is_pdf else "certificate file")
    if not data.strip():
        raise IdentityError(f"{path} is empty; ask the signer to export their certificate again.")
    return certificates_from_bytes(data, source=path.name)


def import_trusted(path: str | Path, *, at: dt.datetime | None = None) -> list[CertificateInfo]:
    """Add the signer certificate(s) of ``path`` to the trusted store; all or nothing.

    Certificates already trusted are accepted again (nothing changes). Raises IdentityError
    naming the first certificate that may not be trusted."""
    return trust_certificates(read_certificate_source(path), source=Path(path).name, at=at)


def trust_certificates(
    certs: list[x509.Certificate], *, source: str, at: dt.datetime | None = None
) -> list[CertificateInfo]:
    """Add ``certs`` (from ``source``, named in refusals) to the trusted store; all or nothing."""
    for cert in certs:
        problem = import_problem(cert, source=source, at=at)
        if problem is not None:
            raise IdentityError(problem)
    folder = paths.trusted_dir()
    infos = []
    for cert in certs:
        target = folder / (cert.fingerprint(hashes.SHA256()).hex() + ".pem")
        target.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        infos.append(describe(cert))
    return infos


def list_trusted() -> StoreListing:
    """Every certificate in the store; a damaged file is listed as unreadable, not fatal."""
    folder = paths.trusted_dir()
    infos: dict[str, CertificateInfo] = {}
    unreadable = []
    for item in sorted(folder.glob("*.pem")):
        try:
            data = read_small_file(item, MAX_IDENTITY_FILE, what="trusted certificate")
            for cert in certificates_from_bytes(data, source=item.name):
                info = describe(cert)
                infos.setdefault(info.fingerprint, info)
        except IdentityError as exc:
            unreadable.append(f"{item.name}: {exc.message}")
    ordered = sorted(infos.values(), key=lambda i: (i.subject.casefold(), i.fingerprint))
    return StoreListing(tuple(ordered), tuple(unreadable))


def remove_trusted(fp: str) -> int:
    """Stop trusting the certificate with SHA-256 fingerprint ``fp`` (any spelling of the hex);
    returns how many store files changed. A file holding other certificates keeps those."""
    wanted = fp.replace(":", "").strip().lower()
    changed = 0
    for item in sorted(paths.trusted_dir().glob("*.pem")):
        try:
            data = read_small_file(item, MAX_IDENTITY_FILE, what="trusted certificate")
            certs = certificates_from_bytes(data, source=item.name)
        except IdentityError:
            continue
        keep = [c for c in certs if c.fingerprint(hashes.SHA256()).hex() != wanted]
        if len(keep) == len(certs):
            continue
        if keep:
            item.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in keep))
        else:
            item.unlink()
        changed += 1
    return changed
