"""The audit log kept small: long values by digest, keystroke edits coalesced, a bounded summary.

Every change a reviewer makes is logged (when, who, which field, old -> new), but logging a 2 MB
note in full on every commit made a file grow by 4 MB per edit (169 MB after 40 edits), and a
report that printed 100,000 entries took minutes. So:

* a text longer than :data:`LONG_TEXT` characters (or a structured value whose JSON is longer
  than :data:`LARGE_VALUE`) is logged as ``{"sha256", "chars", "type"}`` instead of in full, and
  the entry gets a ``diff`` key: a one-line summary of what changed (where, how many characters
  removed and inserted, short excerpts). Whoever holds the file a value came from can prove it
  with the hash; the log stays a few hundred bytes per entry whatever the field's size;
* successive commits of the same text field by the same reviewer within
  :data:`COALESCE_SECONDS` of each other (typing pauses, each committed) become one entry whose
  ``old`` is the value before the first commit and ``new`` the value after the last, with
  ``edits`` (how many commits) and ``until`` (when the last one was made);
* :func:`summarise` condenses any log into counts (per reviewer, per field, time span) for the
  report, which prints only the newest entries and attaches the full log as a CSV file.

Entries written by older versions (full values, no ``diff``/``edits``/``until``) are read
unchanged; the extra keys are optional.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LONG_TEXT = 200  # characters: longer text values are logged as a digest plus a diff summary
LARGE_VALUE = 2000  # characters of JSON: larger structured values are logged as a digest
COALESCE_SECONDS = 30.0  # commits of one text field closer than this become one entry
EXCERPT = 60  # characters of removed/inserted text quoted in a diff summary

DIGEST_KEYS = frozenset({"sha256", "chars", "type"})
OPTIONAL_KEYS = ("diff", "edits", "until")


def is_digest(value: Any) -> bool:
    """Whether ``value`` is a logged digest (``{"sha256", "chars", "type"}``), not a value."""
    return isinstance(value, dict) and set(value) == DIGEST_KEYS


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def digest(value: Any) -> dict[str, Any]:
    """SHA-256 (of the UTF-8 text, or of canonical JSON) and length of a value."""
    if isinstance(value, str):
        return {"sha256": _sha256(value), "chars": len(value), "type": "text"}
    text = _json_text(value)
    return {"sha256": _sha256(text), "chars": len(text), "type": "json"}


def is_long(value: Any) -> bool:
    """Whether ``value`` is logged as a digest rather than in full."""
    if value is None or isinstance(value, bool | int | float):
        return False
    if isinstance(value, str):
        return len(value) > LONG_TEXT
    return len(_json_text(value)) > LARGE_VALUE


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix (binary search over slice comparisons: C speed, O(n log n))."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _excerpt(text: str) -> str:
    shown = text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"
    return "“" + shown.replace("\r", "").replace("\n", "⏎").replace("\t", " ") + "”"


def text_diff(old: str, new: str) -> str:
    """One line saying what changed between two texts: where, what was removed and inserted."""
    if old == new:
        return "no change"
    prefix = _common_prefix(old, new)
    suffix = _common_suffix(old, new, min(len(old), len(new)) - prefix)
    removed = old[prefix : len(old) - suffix]
    inserted = new[prefix : len(new) - suffix]
    where = f"at character {prefix + 1:,}"
    parts = []
    if removed:
        parts.append(f"removed {len(removed):,} characters {_excerpt(removed)}")
    if inserted:
        parts.append(f"inserted {len(inserted):,} characters {_excerpt(inserted)}")
    return f"{where}: {', '.join(parts)} ({len(old):,} → {len(new):,} characters)"


def change_summary(old: Any, new: Any) -> str:
    """The ``diff`` of an entry whose values are logged as digests."""
    if isinstance(old, str | None) and isinstance(new, str | None):
        return text_diff(old or "", new or "")
    before = "nothing" if old is None else f"{digest(old)['chars']:,} characters of JSON"
    after = "nothing" if new is None else f"{digest(new)['chars']:,} characters of JSON"
    return f"structured value replaced ({before} → {after})"


def logged_values(old: Any, new: Any) -> tuple[Any, Any, str | None]:
    """``(old, new, diff)`` as the log keeps them: long values replaced by digests."""
    if not (is_long(old) or is_long(new)):
        return old, new, None
    return (
        digest(old) if is_long(old) else old,
        digest(new) if is_long(new) else new,
        change_summary(old, new),
    )


def is_text_value(value: Any) -> bool:
    """Values whose commits are coalesced (text typed by the reviewer; None = never set)."""
    return value is None or isinstance(value, str)


def describe(value: Any) -> str:
    """A logged value as one line for the report ("" for None)."""
    if value is None:
        return ""
    if is_digest(value):
        kind = "characters" if value["type"] == "text" else "characters of JSON"
        return f"[{value['chars']:,} {kind}, SHA-256 {str(value['sha256'])[:12]}…]"
    if isinstance(value, str):
        return value
    return _json_text(value)


# ---------------------------------------------------------------------- summary for the report
@dataclass(frozen=True)
class AuditSummary:
    entries: int
    edits: int  # commits, counting every one folded into a coalesced entry
    coalesced: int  # entries that stand for more than one commit
    digests: int  # entries whose values are logged by digest
    first: str | None
    last: str | None
    by_reviewer: list[tuple[str, int]]
    by_section: list[tuple[str, int]]


def section_of(field: str) -> str:
    """The part of the document a field label belongs to ("answers", "notes", "document"...)."""
    return field.split(".", 1)[0].split(" ", 1)[0]


def summarise(entries: Iterable[Mapping[str, Any]]) -> AuditSummary:
    """Counts over the raw entry dicts of a document's log (one pass; any size)."""
    reviewers: Counter[str] = Counter()
    sections: Counter[str] = Counter()
    n = edits = coalesced = digests = 0
    first: str | None = None
    last: str | None = None
    for e in entries:
        n += 1
        count = e.get("edits", 1)
        count = count if isinstance(count, int) and count > 0 else 1
        edits += count
        coalesced += count > 1
        digests += "diff" in e
        reviewers[str(e.get("reviewer", ""))] += 1
        sections[section_of(str(e.get("field", "")))] += 1
        ts = str(e.get("until") or e.get("ts") or "")
        start = str(e.get("ts") or "")
        if start and (first is None or start < first):
            first = start
        if ts and (last is None or ts > last):
            last = ts
    return AuditSummary(
        entries=n,
        edits=edits,
        coalesced=coalesced,
        digests=digests,
        first=first,
        last=last,
        by_reviewer=reviewers.most_common(),
        by_section=sections.most_common(),
    )


CSV_HEADER = ("when_utc", "until_utc", "reviewer", "field", "edits", "old", "new", "diff")


def csv_bytes(entries: Iterable[Mapping[str, Any]]) -> bytes:
    """The full log as UTF-8 CSV (one row per entry, text neutralised against formulas)."""
    import csv
    import io

    from assessment.fileio import neutralise_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for e in entries:
        row = (
            e.get("ts", ""),
            e.get("until") or "",
            e.get("reviewer", ""),
            e.get("field", ""),
            e.get("edits", 1),
            describe(e.get("old")),
            describe(e.get("new")),
            e.get("diff") or "",
        )
        writer.writerow([neutralise_cell(v) for v in row])
    return out.getvalue().encode("utf-8")
