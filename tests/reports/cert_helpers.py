"""Certificates for the trusted-signers tests: a leaf signer, a CA, an expired one, made with
cryptography's builder (independent of reports.identity's own certificate code)."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def make_cert(
    name: str = "Dr Colleague",
    *,
    ca: bool = False,
    start: dt.datetime | None = None,
    days: int = 365,
    basic_constraints: bool = True,
) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ward 7 <QA> & Co")])
    begin = start or (dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begin)
        .not_valid_after(begin + dt.timedelta(days=days))
    )
    if basic_constraints:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                                        critical=True)
    return builder.sign(key, hashes.SHA256())


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def sha256_colon(cert: x509.Certificate) -> str:
    """The fingerprint written independently of reports.identity.fingerprint."""
    import hashlib

    digest = hashlib.sha256(der(cert)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
