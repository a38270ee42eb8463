"""What each revision after the certified one changed, in words ("countersignature by X in
reserved box 2", "form field 'x' filled", "annotation added on page 2"), and which of those
changes make the report NOT VALID."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from reports.verify_objects import form_fields, pages, pdf_deref, pdf_get, pdf_ref

if TYPE_CHECKING:
    from reports.verify import SignatureCheck


def _annotations(handler: Any, page: Any) -> list[tuple[Any, str]]:
    annots = pdf_get(handler, page, "/Annots") or []
    return [
        (pdf_ref(a) or ("direct", i), str(pdf_get(handler, a, "/Subtype") or "?"))
        for i, a in enumerate(annots)
    ]


def _content_digest(handler: Any, page: Any) -> str:
    from pyhanko.pdf_utils import generic

    contents = pdf_get(handler, page, "/Contents")
    parts = list(contents) if isinstance(contents, generic.ArrayObject) else [contents]
    digest = hashlib.sha256()
    for part in parts:
        stream = pdf_deref(handler, part)
        if isinstance(stream, generic.StreamObject):
            digest.update(stream.data)
    for key in ("/Resources", "/MediaBox", "/CropBox", "/Rotate"):
        digest.update(repr(pdf_get(handler, page, key)).encode())
    return digest.hexdigest()


def _info(handler: Any, revision: int, reader: Any) -> dict[str, str]:
    info = pdf_deref(handler, reader.trailer.raw_get("/Info", revision=revision))
    try:
        return {str(k): str(pdf_deref(handler, v)) for k, v in info.items()}
    except (AttributeError, TypeError):
        return {}


# Catalog entries whose value change is described (the others are compared as present/absent:
# a countersignature legitimately rewrites /AcroForm, and /Perms is set at certification).
_WATCHED = frozenset(
    {
        "/OpenAction",
        "/AA",
        "/Names",
        "/Outlines",
        "/Pages",
        "/URI",
        "/OCProperties",
        "/Dests",
        "/PageLabels",
        "/Lang",
        "/ViewerPreferences",
        "/PageMode",
    }
)


# What a signature revision may add to the catalog: the form (first field filled) and the
# extension level pyHanko declares for the signature's algorithms (ISO 32000 developer ext.).
_SIGNING_CATALOG_KEYS = frozenset({"/AcroForm", "/Extensions"})


def _catalog(handler: Any) -> dict[str, str]:
    """Catalog entries as comparable text (watched ones by their value in this revision)."""
    out: dict[str, str] = {}
    for key in handler.root:
        raw = handler.root.raw_get(key)
        ref = pdf_ref(raw)
        out[str(key)] = f"{ref[0]} {ref[1]} R" if ref else repr(raw)
        if key in _WATCHED:
            out[str(key)] += " = " + repr(pdf_deref(handler, raw))[:100_000]
    return out


def _xmp(handler: Any) -> bytes | None:
    from pyhanko.pdf_utils import generic

    stream = pdf_get(handler, handler.root, "/Metadata")
    return stream.data if isinstance(stream, generic.StreamObject) else None


def _attachment_sha(handler: Any) -> str | None:
    from reports.attachment import ATTACHMENT_NAME

    names = pdf_get(
        handler,
        pdf_get(handler, pdf_get(handler, handler.root, "/Names"), "/EmbeddedFiles"),
        "/Names",
    )
    try:
        for i in range(0, len(names or []) - 1, 2):
            if str(pdf_deref(handler, names[i])) == ATTACHMENT_NAME:
                stream = pdf_get(handler, pdf_get(handler, names[i + 1], "/EF"), "/F")
                return hashlib.sha256(stream.data).hexdigest()
    except (AttributeError, TypeError):
        return "unreadable"
    return None


def _short(text: str | None) -> str:
    if text is None:
        return "(none)"
    return repr(text if len(text) <= 60 else text[:57] + "…")


def describe_revisions(
    reader: Any,
    certified_rev: int,
    signatures: dict[int, SignatureCheck],
    reserved: list[str] | None,
) -> tuple[list[str], list[str]]:
    """One line per revision after the certified one saying what it changed, and the changes
    that make the report NOT VALID (anything but a countersignature in a reserved box)."""
    changes: list[str] = []
    problems: list[str] = []
    total = reader.xrefs.total_revisions
    prev = reader.get_historical_resolver(certified_rev)
    certified_fields = form_fields(prev)
    for name, f in certified_fields.items():
        if f["type"] != "/Sig":
            problems.append(
                f"form field {name!r} ({f['type'] or 'untyped'}) is not a signature "
                "box; a Probity report has no other fields"
            )
        elif reserved is not None and name not in reserved:
            problems.append(
                f"form field {name!r} is not one of the signature boxes the report reserved"
            )
    prev_fields = certified_fields
    prev_pages = pages(prev)
    prev_info, prev_xmp = _info(prev, certified_rev, reader), _xmp(prev)
    prev_root = _catalog(prev)
    prev_att = _attachment_sha(prev)
    prev_annots = [_annotations(prev, p) for p in prev_pages]
    prev_content = [_content_digest(prev, p) for p in prev_pages]
    for rev in range(certified_rev + 1, total):
        cur = reader.get_historical_resolver(rev)
        items: list[str] = []
        bad: list[str] = []
        sig = signatures.get(rev)
        fields_now = form_fields(cur)
        for name in fields_now.keys() - prev_fields.keys():
            bad.append(f"form field {name!r} added")
        for name in prev_fields.keys() - fields_now.keys():
            bad.append(f"form field {name!r} removed")
        for name in fields_now.keys() & prev_fields.keys():
            old, new = prev_fields[name], fields_now[name]
            if (old["value"], old["value_text"]) == (new["value"], new["value_text"]):
                if old["widgets"] != new["widgets"]:
                    bad.append(f"form field {name!r}: its boxes were replaced")
                continue
            if sig is not None and name == sig.field and new["type"] == "/Sig":
                continue
            if new["type"] == "/Sig":
                bad.append(f"signature field {name!r} changed outside a signature revision")
            else:
                bad.append(f"form field {name!r} filled ({_short(new['value_text'])})")
        info_now = _info(cur, rev, reader)
        meta = [
            f"{k.lstrip('/')}: {_short(prev_info.get(k))} → {_short(info_now.get(k))}"
            for k in sorted(prev_info.keys() | info_now.keys())
            if prev_info.get(k) != info_now.get(k)
        ]
        if meta:
            bad.append(f"document metadata changed ({'; '.join(meta)})")
        root_now = _catalog(cur)
        signing_keys = _SIGNING_CATALOG_KEYS if sig is not None else frozenset()
        for key in sorted(root_now.keys() - prev_root.keys() - signing_keys):
            bad.append(f"document catalog entry {key} added")
        for key in sorted(prev_root.keys() - root_now.keys()):
            bad.append(f"document catalog entry {key} removed")
        for key in sorted(k for k in root_now.keys() & prev_root.keys() if k in _WATCHED):
            if root_now[key] != prev_root[key]:
                bad.append(f"document catalog entry {key} changed")
        xmp_now = _xmp(cur)
        if xmp_now != prev_xmp:
            bad.append("document metadata changed (XMP metadata stream)")
        rewritten = {(r.idnum, r.generation) for r in cur.explicit_refs_in_revision()}
        pages_now = pages(cur)
        if len(pages_now) != len(prev_pages):
            bad.append(f"page count changed ({len(prev_pages)} → {len(pages_now)})")
        widgets = {w for f in fields_now.values() for w in f["widgets"]}
        annots_now = [_annotations(cur, p) for p in pages_now]
        content_now = [_content_digest(cur, p) for p in pages_now]
        for i, (old_a, new_a) in enumerate(zip(prev_annots, annots_now, strict=False), 1):
            old_refs = {r for r, _ in old_a}
            for ref, subtype in new_a:
                if ref not in old_refs and ref not in widgets:
                    bad.append(f"annotation added on page {i} ({subtype.lstrip('/')})")
                elif ref not in old_refs:
                    bad.append(f"form field box added on page {i}")
            if old_refs - {r for r, _ in new_a}:
                bad.append(f"annotation removed on page {i}")
            own = fields_now[sig.field]["widgets"] if sig and sig.field in fields_now else set()
            for ref, subtype in new_a:
                if ref in old_refs and ref in rewritten and ref not in own:
                    bad.append(f"annotation changed on page {i} ({subtype.lstrip('/')})")
        for i, (old_c, new_c) in enumerate(zip(prev_content, content_now, strict=False), 1):
            if old_c != new_c:
                bad.append(f"page {i} content or resources changed")
        att_now = _attachment_sha(cur)
        if att_now != prev_att:
            bad.append(f"embedded assessment replaced (SHA-256 {prev_att} → {att_now})")
        if sig is not None:
            where = sig.box or f"field {sig.field!r}, not a reserved box"
            kind = "certification" if sig.certification else "countersignature"
            items.append(f"{kind} by {sig.signer} in {where}")
        elif not bad:
            bad.append("an incremental update without a signature")
        line = f"Revision {rev + 1}: " + "; ".join(items + bad)
        changes.append(line)
        problems += [f"revision {rev + 1}: {b} after certification" for b in bad]
        prev_fields, prev_pages, prev_info, prev_xmp = fields_now, pages_now, info_now, xmp_now
        prev_root = root_now
        prev_annots, prev_content, prev_att = annots_now, content_now, att_now
    return changes, problems
