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

from assessment.errors import DataError, DocumentError


def vendor_assessment(model: str, path: Path) -> dict[str, Any]:
    """{model, path, sha256, title, instrument, domains, overall, open_items} of one file."""
    from assessment.judgement import judge
    from assessment.storage import loads, read_document_bytes

    try:
        raw = read_document_bytes(path)
        doc = loads(raw, source=str(path))
    except DocumentError as exc:
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
