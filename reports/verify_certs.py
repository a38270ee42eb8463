"""The certificate checks of a signature: validity at signing time and now, key usage, key
size, digest strength, and one version of the signer certificate in the CMS."""

from __future__ import annotations

import datetime as dt
from typing import Any

STRONG_DIGESTS = frozenset({"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512"})
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256


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
