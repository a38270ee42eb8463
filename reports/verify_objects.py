"""Reading PDF objects of one revision for the verifier: dereferencing, dictionary look-ups,
the reserved signature boxes, the terminal form fields and the pages."""

from __future__ import annotations

from typing import Any

from reports.attachment import RESERVED_BOXES_KEY

# Hostile PDFs make pyHanko raise nearly anything (AssertionError, RecursionError, IndexError…):
# at this boundary every one of them means "damaged", never a traceback.
PARSE_ERRORS = (Exception,)


def pdf_deref(handler: Any, obj: Any, depth: int = 0) -> Any:
    from pyhanko.pdf_utils import generic

    while isinstance(obj, generic.IndirectObject) and depth < 32:
        obj = handler.get_object(obj.reference)
        depth += 1
    return obj


def pdf_get(handler: Any, obj: Any, key: str) -> Any:
    from pyhanko.pdf_utils import generic

    obj = pdf_deref(handler, obj)
    if not isinstance(obj, generic.DictionaryObject):
        return None
    try:
        return pdf_deref(handler, obj.raw_get(key))
    except KeyError:
        return None


def pdf_ref(obj: Any) -> tuple[int, int] | None:
    from pyhanko.pdf_utils import generic

    if isinstance(obj, generic.IndirectObject):
        return (obj.idnum, obj.generation)
    return None


def reserved_boxes(handler: Any) -> list[str] | None:
    """Field names of the signature boxes the report reserved, as recorded in its catalog (in
    the revision ``handler`` shows); None when the report records none."""
    record = pdf_get(handler, handler.root, RESERVED_BOXES_KEY)
    if record is None:
        return None
    try:
        return [str(pdf_deref(handler, x)) for x in record]
    except TypeError:
        return None


def form_fields(handler: Any) -> dict[str, dict[str, Any]]:
    """Terminal form fields by fully qualified name: type, value and widget references."""
    from pyhanko.pdf_utils import generic

    out: dict[str, dict[str, Any]] = {}
    acro = pdf_get(handler, handler.root, "/AcroForm")
    top = pdf_get(handler, acro, "/Fields") if acro is not None else None
    stack: list[tuple[Any, str, Any, int]] = [(x, "", None, 0) for x in (top or [])]
    seen: set[Any] = set()
    while stack and len(seen) < 10_000:
        raw, parent, inherited_type, depth = stack.pop()
        key = pdf_ref(raw) or id(raw)
        if key in seen or depth > 32:
            continue
        seen.add(key)
        node = pdf_deref(handler, raw)
        if not isinstance(node, generic.DictionaryObject):
            continue
        part = pdf_get(handler, node, "/T")
        name = f"{parent}.{part}" if parent and part is not None else str(part or parent)
        ftype = pdf_get(handler, node, "/FT") or inherited_type
        kids = pdf_get(handler, node, "/Kids")
        field_kids = [k for k in (kids or []) if pdf_get(handler, k, "/T") is not None]
        if field_kids:
            stack += [(k, name, ftype, depth + 1) for k in field_kids]
            continue
        value = pdf_get(handler, node, "/V")
        widgets = [pdf_ref(k) for k in (kids or [])] if kids else [pdf_ref(raw)]
        out[name] = {
            "type": str(ftype) if ftype is not None else "",
            "value": pdf_ref(node.raw_get("/V")) if "/V" in node else None,
            "value_text": None if value is None else str(value)[:80],
            "ref": pdf_ref(raw),
            "widgets": {w for w in widgets if w is not None},
        }
    return out


def pages(handler: Any) -> list[Any]:
    """Page dictionaries (as raw references where possible) in order, cycle-safe."""
    from pyhanko.pdf_utils import generic

    out: list[Any] = []
    stack = [handler.root.raw_get("/Pages")]
    seen: set[Any] = set()
    while stack and len(out) < 100_000:
        raw = stack.pop()
        key = pdf_ref(raw) or id(raw)
        if key in seen:
            continue
        seen.add(key)
        node = pdf_deref(handler, raw)
        if not isinstance(node, generic.DictionaryObject):
            continue
        kids = pdf_get(handler, node, "/Kids")
        if kids is not None and str(pdf_get(handler, node, "/Type")) != "/Page":
            stack += list(reversed(list(kids)))
        else:
            out.append(raw)
    return out
