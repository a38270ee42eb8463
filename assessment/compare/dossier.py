"""The procurement dossier's link to each vendor's risk-of-bias appraisal.

The comparison result (``probity-comparison/1``) is the dossier: besides the joint evaluation it
lists, per model, the PROBAST / PROBAST+AI assessment of that vendor's evidence by path and
SHA-256, with the domain and overall judgements read from the file when the dossier was made
(so the report can show each vendor's traffic-light row, and anyone can check the file is the
one that was judged).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from assessment.compare.dossier_check import check_dossier
from assessment.compare.sources import MAX_NAME_CHARS
from assessment.errors import DataError, DocumentError


def vendor_assessment(model: str, path: Path) -> dict[str, Any]:
    """{model, path, sha256, title, instrument, domains, overall, open_items} of one file."""
    from assessment.judgement import judge
    from assessment.storage import loads, read_document_bytes

    try:
        raw = read_document_bytes(path)
        doc = loads(raw, source=str(path))
    except DocumentError as exc:
        from assessment.catalogue import ASSESSMENT_SUFFIX

        if path.suffix.lower() != ASSESSMENT_SUFFIX:  # another kind of file, not a damaged one
            raise DataError(
                f"--assessment {model}={path}: {path.name} is not a Probity assessment "
                f"({ASSESSMENT_SUFFIX}); give the vendor's PROBAST / PROBAST+AI assessment file."
            ) from None
        raise DataError(f"--assessment {model}={path}: {exc.message}") from None
    j = judge(doc)
    return {
        "model": model,
        "path": str(path),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "title": doc.title,
        "instrument": f"{doc.instrument.title} ({doc.instrument_id})",
        "domains": [{"name": d.name, "part": d.part, "judgement": d.final} for d in j.domains],
        "overall": {o.id: o.value for o in j.overall},
        "open_items": j.open_items,
    }


MAX_DOSSIER_BYTES = 512 * 1024 * 1024


def load_dossier(path: Path) -> dict[str, Any]:
    """A ``probity-comparison/1`` dossier from disk, refused in one clear sentence unless it is
    strict JSON (no NaN, no key twice, nesting bounded as for .probity files) with the shape
    the page and the report rely on and numbers that make sense
    (:func:`assessment.compare.dossier_check.check_dossier`)."""
    from assessment.compare import COMPARISON_FORMAT
    from assessment.fileio import read_regular_bytes
    from assessment.jsoncheck import Invalid, check_json_values
    from assessment.storage import parse_document_json

    raw = read_regular_bytes(path, what="comparison dossier", max_bytes=MAX_DOSSIER_BYTES,
                             limit_hint="no comparison is that large", error=DataError)
    try:  # strict JSON: no NaN, no key twice; nesting too deep for Python is refused
        doc = parse_document_json(raw, source=path.name, what="comparison dossier")
    except DocumentError as exc:
        text = exc.message.split(". Nothing was changed")[0].rstrip(".")
        if "invalid JSON" in text:
            text = f"{path.name} is not a comparison dossier (not JSON: {text.split(': ', 1)[-1]})"
        elif "not UTF-8" in text:
            text = f"{path.name} is not a comparison dossier (not JSON: not UTF-8 text)"
        elif "is empty" in text:
            text = f"{path.name} is empty; it is not a comparison dossier"
        raise DataError(f"{text}; open the file written by 'probity compare --json'.") from None
    if not isinstance(doc, dict) or doc.get("format") != COMPARISON_FORMAT:
        raise DataError(
            f"{path.name} is not a {COMPARISON_FORMAT} comparison dossier; open the file "
            "written by 'probity compare --json'."
        )
    for key, kind in (("models", list), ("paired", list), ("net_benefit", list),
                      ("operating_points", list), ("summary", list), ("data", dict)):
        if not isinstance(doc.get(key), kind):
            raise DataError(f"{path.name} is a damaged comparison dossier: {key!r} is missing "
                            "or has the wrong type.")
    for i, m in enumerate(doc["models"]):
        if not (isinstance(m, dict) and isinstance(m.get("name"), str)
                and isinstance(m.get("result"), dict)
                and isinstance(m["result"].get("overall"), dict)
                and isinstance(m["result"].get("groups"), list)):
            raise DataError(f"{path.name} is a damaged comparison dossier: model {i + 1} has no "
                            "name or no evaluation result.")
        if len(m["name"]) > MAX_NAME_CHARS:
            raise DataError(f"{path.name}: model {i + 1}'s name has {len(m['name']):,} "
                            f"characters (at most {MAX_NAME_CHARS}); run the comparison again "
                            "with a shorter --model name.")
    try:
        check_json_values(doc)  # nesting, finite numbers, text (as for .probity files)
    except Invalid as exc:
        where = exc.path if len(exc.path) <= 80 else exc.path[:77] + "…"
        raise DataError(f"{path.name} is a damaged comparison dossier: {where}: {exc.problem}; "
                        "run the comparison again to replace it.") from None
    try:
        check_dossier(doc)
    except Invalid as exc:
        raise DataError(f"{path.name} is a damaged comparison dossier: {exc.path}: "
                        f"{exc.problem}.") from None
    return doc
