"""The zero padding after the CMS inside /Contents is part of the unsigned gap: text hidden
there, or one changed hex digit, changes the file after signing and must be NOT VALID (found by
an independent attack: it verified as VALID, whole file, no later changes; pdfsig still calls
such a file valid, so Probity is stricter here on purpose)."""

from __future__ import annotations

import binascii
import re

import pytest
from report_helpers import PASSPHRASE

from reports.identity import load_identity
from reports.signing import sign_pdf
from reports.verify import verify_pdf


@pytest.fixture(scope="module")
def signed_and_trust(report_pdf, identity_files):
    first = load_identity(identity_files["first"], PASSPHRASE)
    second = load_identity(identity_files["second"], PASSPHRASE)
    once = sign_pdf(report_pdf, first, reason="Approved").data
    twice = sign_pdf(once, second, reason="Countersigned").data
    return once, twice, (first.certificate, second.certificate)


def _gap(data: bytes, which: int) -> tuple[int, int]:
    found = re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)[which]
    _, len1, start2, _ = (int(x) for x in found)
    return len1 + 1, start2 - 1  # the hex digits between < and >


def _smuggle(data: bytes, which: int, payload: bytes) -> bytes:
    lo, hi = _gap(data, which)
    hexs = data[lo:hi]
    zeros = len(hexs) - len(hexs.rstrip(b"0"))
    text = binascii.hexlify(payload)[: zeros - 2]
    assert len(text) > 8, "the signer left too little padding for this test"
    start = hi - zeros + 2
    return data[:start] + text + data[start + len(text) :]


def _flip_padding_digit(data: bytes, which: int) -> bytes:
    lo, hi = _gap(data, which)
    return data[: hi - 10] + b"7" + data[hi - 9 :]


@pytest.mark.parametrize("which", [0, -1], ids=["certification", "countersignature"])
@pytest.mark.parametrize(
    "change",
    [
        lambda d, w: _smuggle(d, w, b"PAYLOAD: the real judgement was HIGH risk. " * 40),
        _flip_padding_digit,
    ],
    ids=["hidden-text", "one-digit"],
)
def test_bytes_in_the_signature_padding_are_not_valid(signed_and_trust, which, change) -> None:
    _, twice, trust = signed_and_trust
    forged = change(twice, which)
    assert forged != twice and len(forged) == len(twice)
    result = verify_pdf(forged, extra_trust=trust, use_store=False)
    assert not result.ok
    text = " | ".join(result.all_problems)
    assert "changed after signing" in text and "zero padding" in text, text


def test_untouched_padding_still_verifies(signed_and_trust) -> None:
    once, twice, trust = signed_and_trust
    for data in (once, twice):
        assert verify_pdf(data, extra_trust=trust, use_store=False).ok
