"""The trusted-signers store as a reviewer manages it: import (PEM, DER, bundle, signed PDF),
hostile files refused in one sentence, list, remove; and verify_pdf follows the store."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from cert_helpers import der, make_cert, pem, sha256_colon
from report_helpers import PASSPHRASE

from assessment import paths
from reports.identity import MAX_IDENTITY_FILE, IdentityError, load_identity
from reports.trust_store import (
    MAX_CERTIFICATES_PER_FILE,
    describe,
    import_trusted,
    list_trusted,
    remove_trusted,
)


def one_sentence(message: str) -> None:
    assert "Traceback" not in message and "\n" not in message
    assert message.rstrip().endswith((".", ")")) and len(message) < 400


@pytest.fixture
def signer_pdf(report_pdf, identity_files) -> bytes:
    from reports.signing import sign_pdf

    return sign_pdf(report_pdf, load_identity(identity_files["second"], PASSPHRASE)).data


def test_pem_and_der_import_show_subject_issuer_fingerprint_validity(tmp_path: Path) -> None:
    a, b = make_cert("Alice Ångström"), make_cert("Bob")
    (tmp_path / "alice.pem").write_bytes(pem(a))
    (tmp_path / "bob.cer").write_bytes(der(b))
    assert [i.fingerprint for i in import_trusted(tmp_path / "alice.pem")] == [sha256_colon(a)]
    import_trusted(tmp_path / "bob.cer")
    listing = list_trusted()
    assert {i.fingerprint for i in listing.certificates} == {sha256_colon(a), sha256_colon(b)}
    alice = next(i for i in listing.certificates if i.fingerprint == sha256_colon(a))
    assert alice.subject == "CN=Alice Ångström, O=Ward 7 <QA> & Co"  # unescaped, CN first
    assert alice.issuer == alice.subject and alice.self_signed and not alice.is_ca
    assert alice.not_after == a.not_valid_after_utc
    assert alice.status().startswith("valid until ")
    # the verifier's own store reader sees exactly the imported certificates
    from reports.identity import trusted_certificates

    assert {sha256_colon(c) for c in trusted_certificates()} == {sha256_colon(a), sha256_colon(b)}


def test_pem_bundle_is_all_or_nothing(tmp_path: Path) -> None:
    good, ca = make_cert("Good"), make_cert("Root CA", ca=True)
    (tmp_path / "bundle.pem").write_bytes(pem(good) + pem(ca))
    with pytest.raises(IdentityError, match="certification-authority") as err:
        import_trusted(tmp_path / "bundle.pem")
    one_sentence(err.value.message)
    assert list_trusted().certificates == ()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"hello, not a certificate", "not an X.509 certificate"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not an X.509"),
        (b"\x30\x82\xff\xff" + os.urandom(200), "not an X.509"),
        (b"   \n", "is empty"),
        (b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF", "no digital signature"),
    ],
)
def test_garbage_files_are_refused_in_one_sentence(tmp_path: Path, content: bytes,
                                                   expected: str) -> None:
    path = tmp_path / "colleague.crt"
    path.write_bytes(content)
    with pytest.raises(IdentityError, match=expected) as err:
        import_trusted(path)
    one_sentence(err.value.message)
    assert list_trusted().certificates == ()


def test_huge_file_and_fifo_are_refused_without_reading_them(tmp_path: Path) -> None:
    huge = tmp_path / "huge.pem"
    with huge.open("wb") as fh:
        fh.truncate(MAX_IDENTITY_FILE + 1)  # sparse: costs no disk
    with pytest.raises(IdentityError, match="at most") as err:
        import_trusted(huge)
    one_sentence(err.value.message)
    fifo = tmp_path / "pipe.pem"
    os.mkfifo(fifo)
    with pytest.raises(IdentityError, match="not a regular file"):
        import_trusted(fifo)


def test_expired_not_yet_valid_and_ca_certificates_are_refused(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    cases = {
        "expired.pem": (make_cert("Old", start=now - dt.timedelta(days=800), days=365),
                        "expired on"),
        "future.pem": (make_cert("Future", start=now + dt.timedelta(days=30)), "not valid before"),
        "ca.pem": (make_cert("Hospital Root CA", ca=True), "certification-authority"),
    }
    for name, (cert, expected) in cases.items():
        (tmp_path / name).write_bytes(pem(cert))
        with pytest.raises(IdentityError, match=expected) as err:
            import_trusted(tmp_path / name)
        one_sentence(err.value.message)
        assert "Traceback" not in err.value.message
    assert list_trusted().certificates == ()
    # a leaf without BasicConstraints is no CA (RFC 5280 §4.2.1.9): accepted
    (tmp_path / "plain.pem").write_bytes(pem(make_cert("Plain", basic_constraints=False)))
    assert len(import_trusted(tmp_path / "plain.pem")) == 1


def test_too_many_certificates_in_one_file(tmp_path: Path) -> None:
    cert = make_cert("Many")
    (tmp_path / "system-bundle.pem").write_bytes(pem(cert) * (MAX_CERTIFICATES_PER_FILE + 1))
    with pytest.raises(IdentityError, match="system certificate bundle"):
        import_trusted(tmp_path / "system-bundle.pem")


def test_signers_of_a_signed_pdf_are_imported_and_then_verify_as_trusted(
        tmp_path: Path, signer_pdf: bytes, identity_files) -> None:
    from reports.verify import verify_pdf

    # identity_files was created in another config folder: this one trusts nobody yet
    before = verify_pdf(signer_pdf, source="r.pdf")
    assert not before.ok and not before.signatures[0].trusted
    (tmp_path / "r.pdf").write_bytes(signer_pdf)
    infos = import_trusted(tmp_path / "r.pdf")
    expected = load_identity(identity_files["second"], PASSPHRASE).certificate
    assert [i.fingerprint for i in infos] == [sha256_colon(expected)]
    assert "Second Reviewer" in infos[0].subject
    after = verify_pdf(signer_pdf, source="r.pdf")
    assert after.ok and after.signatures[0].trusted
    remove_trusted(infos[0].fingerprint)
    assert not verify_pdf(signer_pdf, source="r.pdf").signatures[0].trusted


def test_remove_by_any_fingerprint_spelling_keeps_the_others(tmp_path: Path) -> None:
    a, b = make_cert("A"), make_cert("B")
    (tmp_path / "a.pem").write_bytes(pem(a))
    (tmp_path / "b.pem").write_bytes(pem(b))
    import_trusted(tmp_path / "a.pem")
    import_trusted(tmp_path / "b.pem")
    # a store file holding two certificates (written by hand): only the removed one goes
    (paths.trusted_dir() / "pair.pem").write_bytes(pem(a) + pem(b))
    assert remove_trusted(sha256_colon(a).replace(":", "").lower()) == 2
    assert [i.fingerprint for i in list_trusted().certificates] == [sha256_colon(b)]
    assert remove_trusted(sha256_colon(a)) == 0


def test_a_damaged_store_file_is_listed_not_fatal(tmp_path: Path) -> None:
    good = make_cert("Good")
    (tmp_path / "g.pem").write_bytes(pem(good))
    import_trusted(tmp_path / "g.pem")
    (paths.trusted_dir() / "broken.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nzz")
    listing = list_trusted()
    assert [i.fingerprint for i in listing.certificates] == [sha256_colon(good)]
    assert len(listing.unreadable) == 1 and listing.unreadable[0].startswith("broken.pem: ")


def test_describe_matches_cryptography() -> None:
    cert = make_cert("Zoë <b>x</b>")
    info = describe(cert)
    assert info.subject == "CN=Zoë <b>x</b>, O=Ward 7 <QA> & Co"
    assert "\\<b\\>" in cert.subject.rfc4514_string()  # what the machine form would show
    assert (info.not_before, info.not_after) == (cert.not_valid_before_utc,
                                                 cert.not_valid_after_utc)
    assert info.status(at=cert.not_valid_after_utc + dt.timedelta(seconds=1)).startswith(
        "expired")
