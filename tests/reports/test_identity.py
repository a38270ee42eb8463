"""Signing identities: creation, protection, import, the trusted store, and clear errors."""

from __future__ import annotations

import datetime as dt
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from report_helpers import PASSPHRASE

from assessment import paths
from reports.identity import (
    IdentityError,
    create_identity,
    import_identity,
    list_identities,
    load_certificates,
    load_identity,
    read_passphrase,
    trust_certificate,
    trusted_certificates,
)


def test_created_identity_is_self_signed_for_document_signing(tmp_path) -> None:
    path = create_identity("Ana Ωμέγα", PASSPHRASE, role="Lead reviewer", organisation="QA",
                           unit="Methods", email="ana@example.org", out=tmp_path / "ana.p12")
    identity = load_identity(path, PASSPHRASE)
    cert = identity.certificate
    assert identity.name == "Ana Ωμέγα" and identity.role == "Lead reviewer"
    assert identity.organisation == "QA"
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == \
        "Methods"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    assert identity.key.key_size == 3072
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" not in path.read_bytes()  # encrypted PKCS#12, never plain text
    pem = load_certificates(path.with_suffix(".pem"))
    assert pem == [cert]
    assert cert in trusted_certificates()  # the creator trusts their own key


def test_default_location_is_the_config_identities_folder() -> None:
    path = create_identity("Default Place", PASSPHRASE, key_type="ec-p256")
    assert path.parent == paths.identities_dir()
    assert path in list_identities()


def test_wrong_passphrase_is_a_clear_error(tmp_path) -> None:
    path = create_identity("Bo", PASSPHRASE, out=tmp_path / "bo.p12", key_type="ec-p256")
    with pytest.raises(IdentityError, match="Wrong passphrase"):
        load_identity(path, b"not the passphrase")


@pytest.mark.parametrize("content", [b"", b"hello", b"%PDF-1.7\n", b"0\x82\x01\x00garbage"])
def test_not_a_pkcs12_file_is_a_clear_error(tmp_path, content) -> None:
    path = tmp_path / "fake.p12"
    path.write_bytes(content)
    with pytest.raises(IdentityError, match="not a PKCS#12"):
        load_identity(path, PASSPHRASE)


def test_expired_certificate_is_a_clear_error(tmp_path) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=800)
    path = create_identity("Old", PASSPHRASE, out=tmp_path / "old.p12", key_type="ec-p256",
                           valid_days=365, now=past)
    with pytest.raises(IdentityError, match="expired on"):
        load_identity(path, PASSPHRASE)


def _p12_with_usage(tmp_path, **usage) -> object:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Encrypt Only")])
    now = dt.datetime.now(dt.UTC)
    flags = dict(digital_signature=False, content_commitment=False, key_encipherment=False,
                 data_encipherment=False, key_agreement=False, key_cert_sign=False,
                 crl_sign=False, encipher_only=False, decipher_only=False)
    flags.update(usage)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.KeyUsage(**flags), critical=True)
            .sign(key, hashes.SHA256()))
    data = pkcs12.serialize_key_and_certificates(
        b"x", key, cert, None, serialization.BestAvailableEncryption(PASSPHRASE))
    path = tmp_path / "usage.p12"
    path.write_bytes(data)
    return path


def test_certificate_without_signing_usage_is_a_clear_error(tmp_path) -> None:
    path = _p12_with_usage(tmp_path, key_agreement=True)
    with pytest.raises(IdentityError, match="digitalSignature and nonRepudiation"):
        load_identity(path, PASSPHRASE)
    path = _p12_with_usage(tmp_path, digital_signature=True)
    with pytest.raises(IdentityError, match="lacks nonRepudiation"):
        load_identity(path, PASSPHRASE)


def test_import_copies_encrypted_file_and_trusts_signer(tmp_path) -> None:
    src = create_identity("Org Signer", PASSPHRASE, out=tmp_path / "org.p12", key_type="ec-p256")
    dest = import_identity(src, PASSPHRASE)
    assert dest.parent == paths.identities_dir()
    assert dest.read_bytes() == src.read_bytes()
    with pytest.raises(IdentityError, match="already exists"):
        import_identity(src, PASSPHRASE)


def test_trust_store_accepts_pem_and_der_and_rejects_junk(tmp_path) -> None:
    src = create_identity("Peer", PASSPHRASE, out=tmp_path / "peer.p12", key_type="ec-p256")
    cert = load_certificates(src.with_suffix(".pem"))[0]
    der = tmp_path / "peer.der"
    der.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    trust_certificate(der)
    assert trusted_certificates().count(cert) == 1
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(IdentityError, match="not an X.509 certificate"):
        trust_certificate(junk)


def test_passphrase_rules(tmp_path) -> None:
    with pytest.raises(IdentityError, match="too short"):
        create_identity("Short", b"abc", out=tmp_path / "s.p12")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    with pytest.raises(IdentityError, match="empty"):
        read_passphrase(empty)
    good = tmp_path / "pw.txt"
    good.write_bytes(b"line one pass\r\nsecond")
    assert read_passphrase(good) == b"line one pass"
