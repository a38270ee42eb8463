"""Issue 8 §5: the report's audit appendix is bounded whatever the log's size (summary, counts, the
newest entries), the full log is attached as CSV, and the .probity attachment is unchanged."""

from __future__ import annotations

import csv
import io
import json
from io import BytesIO

import pytest
from pypdf import PdfReader
from report_helpers import make_full_doc, squash

from assessment.document import Assessment
from assessment.storage import dumps, loads
from reports.attachment import read_attachment
from reports.report import AUDIT_ATTACHMENT, AUDIT_LAST, build_report

N_ENTRIES = 100_000


def with_log(doc: Assessment, n: int) -> tuple[Assessment, bytes]:
    """``doc`` with ``n`` further audit entries (in the stored form, as a long-used file has)."""
    data = doc.to_json()
    extra = [
        {
            "ts": f"2026-02-{1 + i // 4000 % 28:02d}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:"
            f"{i % 60:02d}+00:00",
            "reviewer": ("Ana Silva", "Bo Chen", "Cleo Ortiz")[i % 3],
            "field": f"answers.{1 + i % 4}.{1 + i % 3}@development.rationale",
            "old": f"rationale version {i}",
            "new": f"rationale version {i + 1}",
        }
        for i in range(n)
    ]
    data["audit"] = data["audit"] + extra
    raw = dumps(Assessment.from_json(data))
    return loads(raw), raw


@pytest.fixture(scope="module")
def small_and_huge():
    base = make_full_doc()
    short = base.to_json()
    short["audit"] = short["audit"][:40]
    small_doc, small_raw = with_log(Assessment.from_json(short), 10)
    huge_doc, huge_raw = with_log(base, N_ENTRIES)
    small = build_report(small_doc, source_bytes=small_raw, source_name="small.probity")
    huge = build_report(huge_doc, source_bytes=huge_raw, source_name="huge.probity")
    return small_doc, small, huge_doc, huge_raw, huge


def appendix_text(pdf: bytes) -> str:
    reader = PdfReader(BytesIO(pdf))
    pages = [p.extract_text() for p in reader.pages]
    start = next(i for i, t in enumerate(pages) if "Appendix: audit log" in t)
    end = next(i for i, t in enumerate(pages) if i > start and "Signatures" in t)
    return "\n".join(pages[start:end])


def test_a_hundred_thousand_entries_give_a_bounded_appendix(small_and_huge) -> None:
    small_doc, small, huge_doc, _raw, huge = small_and_huge
    assert len(huge_doc.audit_raw) > N_ENTRIES
    # the appendix prints summary + counts + AUDIT_LAST rows, so the page count does not grow
    # with the log: the same as a report of the same assessment with a short log, give or take
    # the page the newest-100 table may spill onto.
    assert huge.pages <= small.pages + 2, (small.pages, huge.pages)
    text = squash(appendix_text(huge.data))
    assert squash(f"{len(huge_doc.audit_raw)} recorded changes") in text
    assert squash(f"The newest {AUDIT_LAST} of {len(huge_doc.audit_raw):,} changes") in text
    assert squash(f"attached to this PDF as {AUDIT_ATTACHMENT}") in text
    for name in ("Ana Silva", "Bo Chen", "Cleo Ortiz"):
        assert squash(name) in text
    newest = huge_doc.audit_raw[-1]
    assert squash(f"rationale version {N_ENTRIES}") in text  # the last entry's new value
    assert squash(newest["ts"].replace("T", " ").replace("+00:00", "")) in text
    oldest_shown = huge_doc.audit_raw[-AUDIT_LAST]
    not_shown = huge_doc.audit_raw[-AUDIT_LAST - 1]
    assert squash(f"{oldest_shown['old']} →") in text
    assert squash(f"{not_shown['old']} →") not in text


def test_full_log_is_attached_as_csv_and_the_assessment_is_unchanged(small_and_huge) -> None:
    _small_doc, _small, huge_doc, huge_raw, huge = small_and_huge
    assert read_attachment(huge.data).data == huge_raw  # `extract` still gets it byte for byte
    reader = PdfReader(BytesIO(huge.data))
    tree = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    assert [str(tree[i]) for i in range(0, len(tree), 2)] == [
        "assessment.probity",
        AUDIT_ATTACHMENT,
    ]
    files = reader.attachments  # keyed by each file's names (pypdf, an independent reader)
    assert files["huge.probity"] == [huge_raw]
    rows = list(csv.reader(io.StringIO(files[AUDIT_ATTACHMENT][0].decode("utf-8"))))
    assert len(rows) == len(huge_doc.audit_raw) + 1
    stored = huge_doc.audit_raw
    for i in (0, 1, len(stored) // 2, len(stored) - 1):
        row, entry = rows[i + 1], stored[i]
        assert (row[0], row[2], row[3]) == (entry["ts"], entry["reviewer"], entry["field"])
        expected_new = (
            entry["new"]
            if isinstance(entry["new"], str)
            else json.dumps(entry["new"], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        )
        assert row[6] == expected_new


def test_short_log_is_printed_in_full(small_and_huge) -> None:
    small_doc, small, *_ = small_and_huge
    text = squash(appendix_text(small.data))
    assert len(small_doc.audit_raw) <= AUDIT_LAST
    assert squash("Every change, oldest first") in text
    assert squash(f"{len(small_doc.audit_raw)} recorded changes") in text


def test_compact_and_coalesced_entries_print_their_digest_and_diff() -> None:
    doc = make_full_doc()
    data = doc.to_json()
    data["audit"].append(
        {
            "ts": "2026-03-01T09:00:02+00:00",
            "reviewer": "Ana Silva",
            "field": "notes",
            "old": {"sha256": "ab" * 32, "chars": 2_000_000, "type": "text"},
            "new": {"sha256": "cd" * 32, "chars": 2_000_012, "type": "text"},
            "diff": "at character 1,000,001: inserted 12 characters “ [edit one] ”",
            "edits": 7,
            "until": "2026-03-01T09:01:00+00:00",
        }
    )
    raw = dumps(Assessment.from_json(data))
    info = build_report(loads(raw), source_bytes=raw)
    text = squash(appendix_text(info.data))
    assert squash("at character 1,000,001: inserted 12 characters “ [edit one] ”") in text
    assert squash("SHA-256 abababababab… → cdcdcdcdcdcd…") in text
    assert squash("2026-03-01 09:00:02 ×7") in text
    assert squash("1 entries each fold successive commits") in text
