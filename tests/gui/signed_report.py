"""A small signed Probity report for the GUI tests (built once per module; its signer's identity
lives in its own folder, never in the developer's config)."""

from __future__ import annotations

import os
from pathlib import Path


def build_signed_report(folder: Path) -> tuple[bytes, object]:
    """(signed PDF bytes, signer certificate) of a complete PROBAST 2019 assessment."""
    from assessment.storage import dumps, loads
    from reports.identity import create_identity, load_identity
    from reports.report import build_report
    from reports.signing import sign_pdf
    from tests.reports.report_helpers import PASSPHRASE, make_full_doc

    old = os.environ.get("PROBITY_CONFIG_DIR")
    os.environ["PROBITY_CONFIG_DIR"] = str(folder / "signer-config")
    try:
        source = dumps(make_full_doc())
        pdf = build_report(loads(source), source_bytes=source, source_name="v.probity").data
        identity = load_identity(
            create_identity("Vendor Reviewer", PASSPHRASE, key_type="ec-p256",
                            out=folder / "vendor.p12"), PASSPHRASE)
        return sign_pdf(pdf, identity).data, identity.certificate
    finally:
        if old is None:
            del os.environ["PROBITY_CONFIG_DIR"]
        else:
            os.environ["PROBITY_CONFIG_DIR"] = old
