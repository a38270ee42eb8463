"""A signed report received from someone else: verify it, then hand out its embedded assessment.

The reviewer who opens a colleague's (or a vendor's) signed PDF wants two things: whether the
signatures hold for them (:func:`reports.verify.verify_pdf`, with their trusted signers), and the
assessment inside, to read it. The assessment of a report that does not verify is refused unless
the reviewer explicitly chooses to look at it anyway (``allow_unverified``); the choice is kept
on the result so a view can say so. The document is read-only by contract: callers show it and
offer "Save a copy" (:func:`copy_name`), never save it over the report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assessment.errors import ReportError

if TYPE_CHECKING:
    from cryptography import x509

    from assessment.document import Assessment
    from reports.verify import VerificationResult


class UnverifiedReport(ReportError):
    """The report does not verify and the reviewer did not choose to open it anyway."""


@dataclass(frozen=True)
class ReceivedReport:
    source: str
    verification: VerificationResult
    document: Assessment
    attachment_name: str
    attachment_sha256: str
    opened_unverified: bool  # the reviewer chose to open a report that does not verify

    @property
    def verified(self) -> bool:
        return self.verification.ok


def verify_received(
    data: bytes,
    *,
    source: str,
    extra_trust: tuple[x509.Certificate, ...] = (),
    use_store: bool = True,
    now: dt.datetime | None = None,
) -> VerificationResult:
    """Verify a received PDF (NotVerifiable in one sentence if it is no signed PDF at all)."""
    from reports.verify import verify_pdf

    return verify_pdf(data, extra_trust=extra_trust, use_store=use_store, source=source, now=now)


def unverified_sentence(result: VerificationResult) -> str:
    problems = result.all_problems
    first = problems[0] if problems else "no signature could be checked"
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    return (
        f"{result.source} does not verify: {first}{more}. Its assessment is not opened unless "
        "you choose to open it anyway."
    )


def embedded_assessment(
    data: bytes, result: VerificationResult, *, allow_unverified: bool = False
) -> ReceivedReport:
    """The assessment embedded in a verified report (or an unverified one, if allowed)."""
    from assessment.storage import loads
    from reports.attachment import read_attachment

    if not result.ok and not allow_unverified:
        raise UnverifiedReport(unverified_sentence(result))
    attachment = read_attachment(data, source=result.source)
    digest = hashlib.sha256(attachment.data).hexdigest()
    if result.ok and result.assessment_sha256 not in (None, digest):
        # verify_pdf already compares these; a mismatch here means the bytes changed under us
        raise ReportError(
            f"The assessment in {result.source} is not the one the signatures cover; "
            "do not rely on this file."
        )
    document = loads(attachment.data, source=f"the assessment embedded in {result.source}")
    return ReceivedReport(
        source=result.source,
        verification=result,
        document=document,
        attachment_name=attachment.name,
        attachment_sha256=digest,
        opened_unverified=not result.ok,
    )


def open_received(
    data: bytes,
    *,
    source: str,
    allow_unverified: bool = False,
    extra_trust: tuple[x509.Certificate, ...] = (),
    use_store: bool = True,
    now: dt.datetime | None = None,
) -> ReceivedReport:
    """Verify ``data`` and return its embedded assessment: the one call for both steps."""
    result = verify_received(
        data, source=source, extra_trust=extra_trust, use_store=use_store, now=now
    )
    return embedded_assessment(data, result, allow_unverified=allow_unverified)


def read_received(path: str | Path) -> bytes:
    """The bytes of a received PDF (size-limited, regular files only; one sentence otherwise)."""
    from reports.verify import read_pdf

    return read_pdf(path)


def copy_name(report_path: str | Path, title: str) -> str:
    """The file name suggested for "Save a copy": beside the report, never the report itself."""
    stem = re.sub(r"[^\w.-]+", "-", title, flags=re.UNICODE).strip("-._")[:60]
    base = stem or Path(report_path).stem or "received"
    return f"{base} (received copy).probity"
