"""The file-structure checks of a signature: where each revision ends, and whether its
``/ByteRange`` covers the file with exactly one hex ``/Contents`` string in the gap
(ISO 32000-1 §12.8.1), checked on the raw bytes."""

from __future__ import annotations

import re
from typing import Any

_HEX_GAP = re.compile(rb"<[0-9A-Fa-f]*>")
_EOF = re.compile(rb"startxref[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+%%EOF")


def revision_ends(reader: Any, data: bytes) -> list[int | None]:
    """Byte offset just after the ``%%EOF`` (and its end-of-line) that closes each revision.

    Found from pyHanko's xref sections: the first ``startxref N %%EOF`` after a section's end
    whose N is that section's declared start. None when a revision has no such marker.
    """
    ends: list[int | None] = []
    for rev in range(reader.xrefs.total_revisions):
        meta = reader.xrefs.get_xref_container_info(rev)
        ends.append(None)
        for m in _EOF.finditer(data, meta.end_location):
            if int(m.group(1)) == meta.declared_startxref:
                end = m.end()
                if data[end : end + 2] == b"\r\n":
                    end += 2
                elif data[end : end + 1] in (b"\r", b"\n"):
                    end += 1
                ends[-1] = end
                break
    return ends


def byte_range_problems(
    data: bytes, sig: Any, ends: list[int | None]
) -> tuple[list[str], int | None]:
    """Structural problems of one signature's /ByteRange and /Contents gap (empty: sound),
    and the offset where its signed data ends."""
    from pyhanko.pdf_utils import generic

    name = str(sig.field_name)
    br = sig.byte_range
    values = list(br) if isinstance(br, generic.ArrayObject | list) else []
    if len(values) != 4 or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values
    ):
        return [
            f"{name}: changed after signing: /ByteRange is not exactly two ranges of byte offsets"
        ], None
    start1, len1, start2, len2 = values
    if start1 != 0:
        return [
            f"{name}: changed after signing: the signed ranges do not start at byte 0 "
            f"(they start at {start1})"
        ], None
    end = start2 + len2
    if not len1 < start2 <= len(data) or end > len(data):
        return [
            f"{name}: changed after signing: /ByteRange [0 {len1} {start2} {len2}] does "
            f"not fit the file ({len(data)} bytes)"
        ], None
    problems = []
    rev = sig.signed_revision
    rev_end = ends[rev] if 0 <= rev < len(ends) else None
    if rev_end is None:
        problems.append(
            f"{name}: changed after signing: the revision holding this signature "
            "has no end-of-file marker"
        )
    elif end not in (rev_end, data.rfind(b"%%EOF", 0, rev_end) + 5):
        problems.append(
            f"{name}: changed after signing: the signed data ends at byte {end}, not at the end "
            f"of its revision (byte {rev_end}), so part of the file is not signed"
        )
    gap = data[len1:start2]
    if not _HEX_GAP.fullmatch(gap):
        head = _HEX_GAP.match(gap)
        if gap[:1] == b"(":
            what = "a literal string (...) instead of the hex string <...> the standard requires"
        elif head is not None:
            what = f"a hex string followed by {len(gap) - head.end()} other bytes"
        else:
            what = "something other than one hex string <...>"
        problems.append(
            f"{name}: changed after signing: the unsigned gap (bytes {len1}-{start2}) holds "
            f"{what}; new content can hide there"
        )
    elif len(gap) % 2 or bytes.fromhex(gap[1:-1].decode("ascii")) != bytes(sig.pkcs7_content):
        problems.append(
            f"{name}: changed after signing: the /Contents that was validated is "
            "not the hex string in the signature's gap"
        )
    else:
        contents = bytes(sig.pkcs7_content)
        used = _der_size(contents)
        if used is None or used > len(contents):
            problems.append(
                f"{name}: changed after signing: the signature's /Contents does not start "
                "with one complete DER-encoded signature"
            )
        elif contents[used:].strip(b"\x00"):
            extra = len(contents[used:].rstrip(b"\x00"))
            problems.append(
                f"{name}: changed after signing: {extra} bytes after the signature data in "
                "/Contents are not the zero padding the signer left there; hidden content "
                "can be carried there"
            )
    return problems, end


def _der_size(blob: bytes) -> int | None:
    """Length of the DER SEQUENCE at the start of ``blob`` (tag, length and contents), or
    None when it does not start with a definite-length SEQUENCE header (X.690 §8.1.3)."""
    if len(blob) < 2 or blob[0] != 0x30:
        return None
    first = blob[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(blob) < 2 + count:
        return None
    return 2 + count + int.from_bytes(blob[2 : 2 + count], "big")
