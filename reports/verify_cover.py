"""The assessment SHA-256 printed on the signed cover page, read back from page 1's content
stream through the fonts' ToUnicode maps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from reports.verify_objects import PARSE_ERRORS, pages, pdf_deref, pdf_get

# an assessment's cover says "Assessment SHA-256", a comparison report's "Comparison dossier
# SHA-256" (the label may wrap in its cell)
_SHA256_HEX = re.compile(
    r"(?:Assessment|Comparison\s+dossier)\s+SHA-256\s*([0-9a-fA-F]{64})"
)


def cover_sha256(handler: Any) -> str | None:
    """The assessment SHA-256 printed on page 1, read from its content stream via the fonts'
    ToUnicode maps (reports.report prints it as 'Assessment SHA-256' + 64 hex digits)."""
    first = pages(handler)
    if not first:
        return None
    try:
        text = page_text(handler, first[0])
    except PARSE_ERRORS:
        return None
    m = _SHA256_HEX.search(text)
    return m.group(1) if m else None


def page_text(handler: Any, page: Any) -> str:
    """Text shown by a page's content stream, decoded through each font's ToUnicode map; runs
    are separated by a space. Enough for reading back what reportlab printed."""
    from pyhanko.pdf_utils import generic

    contents = pdf_get(handler, page, "/Contents")
    parts = list(contents) if isinstance(contents, generic.ArrayObject) else [contents]
    data = b"\n".join(
        s.data
        for s in (pdf_deref(handler, p) for p in parts)
        if isinstance(s, generic.StreamObject)
    )
    fonts = pdf_get(handler, pdf_get(handler, page, "/Resources"), "/Font")
    maps: dict[bytes, dict[int, str]] = {}
    font = b""
    runs: list[str] = []
    operands: list[tuple[str, Any]] = []
    for kind, value in _content_tokens(data):
        if kind != "op":
            operands.append((kind, value))
            continue
        if value == b"Tf":
            names = [v for k, v in operands if k == "name"]
            if names:
                font = names[-1]
                if font not in maps:
                    entry = pdf_get(handler, fonts, "/" + font.decode("latin-1")) if fonts else None
                    maps[font] = _to_unicode(handler, entry) if entry is not None else {}
        elif value in (b"Tj", b"TJ", b"'", b'"'):
            cmap = maps.get(font, {})
            for k, v in operands:
                if k == "str":
                    runs.append("".join(cmap.get(b, chr(b)) for b in v))
        operands = []
        if len(runs) > 200_000:
            break
    return " ".join(runs)


_DELIMS = b"()<>[]{}/%"
_SPACE = b"\x00\t\n\x0c\r "
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}


def _content_tokens(data: bytes) -> Iterator[tuple[str, Any]]:
    """Operands and operators of a content stream: ("str", bytes), ("name", bytes),
    ("op", bytes), ("other", bytes). Inline image data is skipped."""
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        if c in _SPACE:
            i += 1
        elif c == ord("%"):
            while i < n and data[i] not in b"\r\n":
                i += 1
        elif c == ord("("):
            out, depth, i = bytearray(), 1, i + 1
            while i < n:
                c = data[i]
                if c == ord("\\") and i + 1 < n:
                    e = data[i + 1]
                    if e in b"01234567":
                        j = i + 1
                        while j < min(i + 4, n) and data[j] in b"01234567":
                            j += 1
                        out.append(int(data[i + 1 : j], 8) & 0xFF)
                        i = j
                        continue
                    if e not in b"\r\n":
                        out.append(_ESCAPES.get(e, e))
                    i += 2
                    continue
                if c == ord("("):
                    depth += 1
                elif c == ord(")"):
                    depth -= 1
                    if not depth:
                        i += 1
                        break
                out.append(c)
                i += 1
            yield "str", bytes(out)
        elif c == ord("<") and data[i : i + 2] != b"<<":
            j = data.find(b">", i)
            j = n if j < 0 else j
            digits = bytes(ch for ch in data[i + 1 : j] if ch not in _SPACE)
            if len(digits) % 2:
                digits += b"0"
            try:
                yield "str", bytes.fromhex(digits.decode("ascii"))
            except ValueError:
                yield "other", b""
            i = j + 1
        elif c in b"<>[]{}":
            yield "other", data[i : i + 1]
            i += 2 if data[i : i + 2] in (b"<<", b">>") else 1
        else:
            j = i + 1
            while j < n and data[j] not in _SPACE and data[j] not in _DELIMS:
                j += 1
            word = data[i:j]
            if c == ord("/"):
                j = i + 1
                while j < n and data[j] not in _SPACE and data[j] not in _DELIMS:
                    j += 1
                yield "name", data[i + 1 : j]
            elif word == b"ID":  # inline image: skip its binary data up to EI
                end = data.find(b"EI", j)
                j = n if end < 0 else end + 2
            elif word[:1].isdigit() or word[:1] in b"+-.":
                yield "other", word
            else:
                yield "op", word
            i = max(j, i + 1)


def _to_unicode(handler: Any, font: Any) -> dict[int, str]:
    """Single-byte code → text from a font's ToUnicode CMap (bfchar and bfrange)."""
    from pyhanko.pdf_utils import generic

    stream = pdf_get(handler, font, "/ToUnicode")
    if not isinstance(stream, generic.StreamObject):
        return {}
    cmap = stream.data[:1_000_000]
    out: dict[int, str] = {}

    def text(hexstr: bytes) -> str:
        raw = bytes.fromhex(hexstr.decode("ascii"))
        return raw.decode("utf-16-be", errors="replace")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            out[int(src, 16)] = text(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            first = int(dst, 16)
            for code in range(int(lo, 16), min(int(hi, 16), int(lo, 16) + 256) + 1):
                out[code] = chr(first + code - int(lo, 16)) if first < 0x110000 else "?"
    return out
