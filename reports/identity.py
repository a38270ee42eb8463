"""Signing identities: create a self-signed reviewer identity offline, import an organisation
PKCS#12, keep a store of trusted signer certificates.

Private keys only ever live in passphrase-protected PKCS#12 files (PBES2, PBKDF2-SHA256 with
600 000 rounds, AES-256-CBC, SHA-256 MAC), never in plain text. A certificate is only usable for
signing reports if its key usage allows digitalSignature and nonRepudiation
(X.509 ``content_commitment``), because that is what validators such as pyHanko and Acrobat
check for a document signature.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from assessment import paths
from assessment.errors import ReportError

# RFC 9336 id-kp-documentSigning; cryptography 50 has no named constant for it.
DOCUMENT_SIGNING_EKU = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
PBKDF2_ROUNDS = 600_000
MIN_PASSPHRASE = 8
MAX_PASSPHRASE = 1024  # bytes on line 1 of a passphrase file
MAX_PASSPHRASE_FILE = 64 * 1024
MAX_IDENTITY_FILE = 10 * 1024 * 1024  # a PKCS#12 or certificate file (a few KB in practice)


class IdentityError(ReportError):
    """A signing identity or certificate cannot be created, opened or used."""


@dataclass(frozen=True)
class Identity:
    """An opened signing identity: key, certificate and any CA certificates from the file."""

    path: Path | None
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    @property
    def name(self) -> str:
        return subject_field(self.certificate, NameOID.COMMON_NAME) or "(no name)"

    @property
    def role(self) -> str:
        return subject_field(self.certificate, NameOID.TITLE)

    @property
    def organisation(self) -> str:
        return subject_field(self.certificate, NameOID.ORGANIZATION_NAME)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate)


def subject_field(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    """First value of ``oid`` in the certificate subject, '' if absent."""
    values = cert.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint as colon-separated upper-case hex (the form people compare aloud)."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def read_small_file(path: str | Path, limit: int, *, what: str) -> bytes:
    """Read a regular file of at most ``limit`` bytes, refusing anything else in one sentence
    (a FIFO would block for ever, /dev/zero or a huge file would fill the memory)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise IdentityError(f"Cannot read {what} {path}: {exc.strerror}.") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise IdentityError(f"The {what} {path} is not a regular file; give a file.")
        if info.st_size > limit:
            raise IdentityError(
                f"The {what} {path} is {info.st_size:,} bytes; at most {limit:,} are accepted."
            )
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # grew while being read
            raise IdentityError(f"The {what} {path} is over {limit:,} bytes; it is not accepted.")
        return b"".join(chunks)
    except OSError as exc:
        raise IdentityError(f"Cannot read {what} {path}: {exc.strerror}.") from exc
    finally:
        os.close(fd)


def read_passphrase(path: str | Path) -> bytes:
    """Read a passphrase file: its first line, without the line ending (the file may hold at
    most MAX_PASSPHRASE_FILE bytes, the passphrase at most MAX_PASSPHRASE)."""
    raw = read_small_file(path, MAX_PASSPHRASE_FILE, what="passphrase file")
    line = raw.splitlines()[0] if raw.splitlines() else b""
    if not line:
        raise IdentityError(f"Passphrase file {path} is empty; put the passphrase on line 1.")
    if len(line) > MAX_PASSPHRASE:
        raise IdentityError(
            f"The passphrase in {path} is {len(line):,} bytes long; at most {MAX_PASSPHRASE} "
            "are accepted (is this the right file?)."
        )
    return line


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    return slug[:60] or "identity"


def default_identity_path(name: str) -> Path:
    """Where a new identity named ``name`` goes when no file is given."""
    return paths.identities_dir() / f"{_slug(name)}.p12"


def new_identity_problem(name: str, passphrase: bytes, *, out: Path | None = None) -> str | None:
    """Why :func:`create_identity` would refuse these (one sentence), or None: the one rule the
    command line and the GUI's dialog (which checks before it closes) both apply."""
    if not name.strip():
        return "A signing identity needs a name."
    if len(passphrase) < MIN_PASSPHRASE:
        return (
            f"The passphrase is too short ({len(passphrase)} bytes); use at least "
            f"{MIN_PASSPHRASE}."
        )
    target = default_identity_path(name) if out is None else out
    if target.exists():
        other = "another name" if out is None else "another --out"
        return f"{target} already exists; choose {other} or delete it first."
    return None


def create_identity(
    name: str,
    passphrase: bytes,
    *,
    role: str = "",
    organisation: str = "",
    unit: str = "",
    email: str = "",
    out: Path | None = None,
    key_type: str = "rsa3072",
    valid_days: int = 3 * 365,
    now: dt.datetime | None = None,
) -> Path:
    """Create a self-signed reviewer identity and store it as a passphrase-protected PKCS#12.

    Without ``out`` it goes into the user's identities folder. The public certificate is also
    written next to it as ``.pem`` (to hand to colleagues) and added to this user's trusted store,
    since the user vouches for their own key. Returns the path of the ``.p12`` file.
    """
    problem = new_identity_problem(name, passphrase, out=out)
    if problem is not None:
        raise IdentityError(problem)
    if out is None:
        out = default_identity_path(name)
    key = _new_key(key_type)
    cert = _self_signed(key, name, role, organisation, unit, email, valid_days, now)
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(PBKDF2_ROUNDS)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(passphrase)
    )
    data = pkcs12.serialize_key_and_certificates(
        name=name.encode("utf-8"), key=key, cert=cert, cas=None, encryption_algorithm=encryption
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_private(out, data)
    out.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    trust_certificate(cert)
    return out


def _new_key(key_type: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    if key_type == "rsa3072":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    if key_type == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    raise IdentityError(f"Unknown key type {key_type!r}; use rsa3072 or ec-p256.")


def _self_signed(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    name: str,
    role: str,
    organisation: str,
    unit: str,
    email: str,
    valid_days: int,
    now: dt.datetime | None,
) -> x509.Certificate:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, name.strip())]
    for oid, value in (
        (NameOID.ORGANIZATION_NAME, organisation),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
        (NameOID.TITLE, role),
        (NameOID.EMAIL_ADDRESS, email),
    ):
        if value.strip():
            attrs.append(x509.NameAttribute(oid, value.strip()))
    subject = x509.Name(attrs)
    start = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(minutes=5)
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING_EKU]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    return builder.sign(key, hashes.SHA256())


def _write_private(path: Path, data: bytes) -> None:
    """Write key material readable by the owner only, atomically.

    The temporary ``NAME.p12.tmp`` is created with O_EXCL | O_NOFOLLOW and mode 0600, so a
    planted symlink is never followed (and refused) and a stale file's mode is never reused."""
    tmp = path.with_name(path.name + ".tmp")
    if tmp.is_symlink():
        raise IdentityError(
            f"{tmp} is a symbolic link, which Probity never writes key material through; "
            "delete it (someone may have planted it) and try again."
        )
    if tmp.exists():  # left behind by a crash: never reuse it (its mode may be 0644)
        tmp.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        raise IdentityError(f"Cannot write {tmp}: {exc.strerror}.") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_identity(
    path: str | Path, passphrase: bytes, *, at: dt.datetime | None = None
) -> Identity:
    """Open a PKCS#12 identity and check it can sign a report now.

    Raises IdentityError for: unreadable file, not a PKCS#12 file, wrong passphrase, no private
    key, a certificate that is expired or not yet valid, a key usage without digitalSignature
    and nonRepudiation.
    """
    path = Path(path)
    data = read_small_file(path, MAX_IDENTITY_FILE, what="identity file")
    identity = identity_from_bytes(data, passphrase, source=str(path))
    identity = Identity(path, identity.key, identity.certificate, identity.chain)
    check_signing_certificate(identity.certificate, source=str(path), at=at)
    return identity


def identity_from_bytes(data: bytes, passphrase: bytes, *, source: str) -> Identity:
    """Decrypt PKCS#12 bytes, telling 'not a PKCS#12 file' apart from 'wrong passphrase'."""
    if not _looks_like_pkcs12(data):
        raise IdentityError(
            f"{source} is not a PKCS#12 identity (.p12/.pfx); export the key and certificate "
            "as PKCS#12 or create one with 'probity identity create'."
        )
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError as exc:
        raise IdentityError(
            f"Wrong passphrase for {source} (or the file is damaged); check the passphrase file."
        ) from exc
    if cert is None or key is None:
        raise IdentityError(f"{source} holds no private key with a certificate; it cannot sign.")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise IdentityError(f"{source} holds a {type(key).__name__}; use an RSA or EC key.")
    return Identity(None, key, cert, tuple(extra))


def _looks_like_pkcs12(data: bytes) -> bool:
    """Parse the outer PFX structure (unencrypted ASN.1) without the passphrase."""
    from asn1crypto import pkcs12 as asn1_pkcs12

    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        return pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native in (
            "data",
            "signed_data",
        )
    except (ValueError, TypeError, KeyError):
        return False


def check_signing_certificate(
    cert: x509.Certificate, *, source: str, at: dt.datetime | None = None
) -> None:
    """Refuse certificates that validators would reject for a document signature."""
    now = at or dt.datetime.now(dt.UTC)
    who = subject_field(cert, NameOID.COMMON_NAME) or "the certificate"
    if now > cert.not_valid_after_utc:
        raise IdentityError(
            f"The certificate of {who} in {source} expired on "
            f"{cert.not_valid_after_utc:%Y-%m-%d}; create or import a current identity."
        )
    if now < cert.not_valid_before_utc:
        raise IdentityError(
            f"The certificate of {who} in {source} is not valid before "
            f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC; check the computer's clock."
        )
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        raise IdentityError(
            f"The RSA key of {who} in {source} has {key.key_size} bits; at least 2048 are needed "
            "for a signature verifiers accept."
        )
    if isinstance(key, ec.EllipticCurvePublicKey) and key.key_size < 256:
        raise IdentityError(
            f"The EC key of {who} in {source} has {key.key_size} bits; at least 256 are needed."
        )
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return  # no KeyUsage extension means no restriction (RFC 5280 §4.2.1.3)
    missing = [
        label
        for label, ok in (
            ("digitalSignature", usage.digital_signature),
            ("nonRepudiation", usage.content_commitment),
        )
        if not ok
    ]
    if missing:
        raise IdentityError(
            f"The certificate of {who} in {source} does not allow document signing (key usage "
            f"lacks {' and '.join(missing)}); ask the issuer for a signing certificate."
        )


def import_identity(src: str | Path, passphrase: bytes) -> Path:
    """Check an organisation-issued PKCS#12 and copy it (still encrypted) into the user's
    identities folder; its signer certificate joins the user's trusted store."""
    identity = load_identity(src, passphrase)
    dest = paths.identities_dir() / Path(src).name
    if dest.exists():
        raise IdentityError(f"An identity named {dest.name} already exists in {dest.parent}.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    _write_private(dest, read_small_file(src, MAX_IDENTITY_FILE, what="identity file"))
    trust_certificate(identity.certificate)
    return dest


def list_identities() -> list[Path]:
    """PKCS#12 files in the user's identities folder."""
    folder = paths.identities_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".p12", ".pfx"))


# ---- trusted signers store -------------------------------------------------------------


def load_certificates(path: str | Path) -> list[x509.Certificate]:
    """Read one or more certificates from a PEM or DER file."""
    path = Path(path)
    data = read_small_file(path, MAX_IDENTITY_FILE, what="certificate file")
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise IdentityError(
            f"{path} is not an X.509 certificate (PEM or DER); export the signer's certificate."
        ) from exc


def trust_certificate(cert: x509.Certificate | str | Path) -> list[Path]:
    """Add a certificate (or every certificate in a file) to the user's trusted signers."""
    certs = [cert] if isinstance(cert, x509.Certificate) else load_certificates(cert)
    folder = paths.trusted_dir()
    written = []
    for item in certs:
        target = folder / (item.fingerprint(hashes.SHA256()).hex() + ".pem")
        target.write_bytes(item.public_bytes(serialization.Encoding.PEM))
        written.append(target)
    return written


def trusted_certificates() -> list[x509.Certificate]:
    """All certificates in the user's trusted-signers store."""
    folder = paths.trusted_dir()
    if not folder.is_dir():
        return []
    certs: list[x509.Certificate] = []
    for item in sorted(folder.glob("*.pem")):
        certs.extend(load_certificates(item))
    return certs
