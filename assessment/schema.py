"""Validation (and migration) of .probity documents read from disk.

A damaged or foreign file must give one message naming what is wrong and where (JSON path), so
the reviewer can fix or report it; it must never be half-loaded. Documents from a newer schema are
refused, older ones migrated here.
"""

from __future__ import annotations

from typing import Any

from assessment.catalogue import ANSWER_CODES, LEVELS, REVIEWER_FIELDS
from assessment.errors import DocumentError, InstrumentError

SCHEMA_VERSION = 1
FILE_FORMAT = "probity-assessment"

_TOP_LEVEL: dict[str, type | tuple[type, ...]] = {
    "format": str,
    "schema_version": int,
    "id": str,
    "created": str,
    "modified": str,
    "instrument": dict,
    "study_type": (str, type(None)),
    "performance_types": list,
    "review_question": dict,
    "answers": dict,
    "domains": dict,
    "model_card": dict,
    "datasheet": dict,
    "reference_population": dict,
    "reviewer": dict,
    "notes": str,
    "evaluation": dict,
    "audit": list,
}

_TYPE_NAMES = {
    str: "text",
    int: "a whole number",
    dict: "an object",
    list: "a list",
    type(None): "null",
    float: "a number",
    bool: "true/false",
}


def _type_name(t: type | tuple[type, ...]) -> str:
    if isinstance(t, tuple):
        return " or ".join(_TYPE_NAMES.get(x, x.__name__) for x in t)
    return _TYPE_NAMES.get(t, t.__name__)


def _fail(source: str, path: str, problem: str) -> DocumentError:
    return DocumentError(f"{source} is not a valid assessment: {path}: {problem}")


def validate_document(data: Any, *, source: str = "the file") -> dict[str, Any]:
    """Return the (migrated) document dict, or raise DocumentError naming the problem."""
    if not isinstance(data, dict):
        raise _fail(source, "top level", "expected a JSON object")
    if data.get("format") != FILE_FORMAT:
        raise DocumentError(
            f'{source} is not a Probity assessment (no "format": "{FILE_FORMAT}" marker).'
        )
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _fail(source, "schema_version", "missing or not a whole number")
    if version > SCHEMA_VERSION:
        raise DocumentError(
            f"{source} was written by a newer Probity (schema {version}; this version reads up to "
            f"{SCHEMA_VERSION}). Open it with a newer Probity; nothing was changed."
        )
    if version < 1:
        raise _fail(source, "schema_version", f"unknown schema version {version}")
    for key, expected in _TOP_LEVEL.items():
        if key not in data:
            raise _fail(source, key, "missing")
        if not isinstance(data[key], expected) or (expected is int and isinstance(data[key], bool)):
            raise _fail(
                source, key, f"expected {_type_name(expected)}, found {_type_name(type(data[key]))}"
            )

    from assessment.instruments import load_instrument
    from assessment.judgement import all_slot_keys

    instrument_id = data["instrument"].get("id")
    try:
        instrument = load_instrument(str(instrument_id))
    except InstrumentError as exc:
        raise _fail(source, "instrument.id", exc.message) from exc

    st = data["study_type"]
    if st is not None and st not in {s.id for s in instrument.study_types}:
        known = ", ".join(s.id for s in instrument.study_types)
        raise _fail(source, "study_type", f"unknown study type {st!r} (known: {known})")
    known_perf = {p.id for p in instrument.performance_types}
    for i, p in enumerate(data["performance_types"]):
        if p not in known_perf:
            raise _fail(source, f"performance_types[{i}]", f"unknown performance type {p!r}")

    slots = all_slot_keys(instrument)
    for key, raw in data["answers"].items():
        where = f"answers[{key!r}]"
        if key not in slots:
            qid = key.split("@", 1)[0]
            raise _fail(source, where, f"unknown question {qid!r} for {instrument.id}")
        if not isinstance(raw, dict):
            raise _fail(source, where, "expected an object")
        value = raw.get("value")
        if value is not None:
            question = instrument.question(key.split("@", 1)[0])
            if value not in ANSWER_CODES or value not in question.answers:
                raise _fail(
                    source,
                    f"{where}.value",
                    f"{value!r} is not an allowed answer ({', '.join(question.answers)})",
                )
        if not isinstance(raw.get("rationale", ""), str):
            raise _fail(source, f"{where}.rationale", "expected text")
        sources = raw.get("sources", [])
        if not isinstance(sources, list) or not all(
            isinstance(s, dict)
            and isinstance(s.get("document", ""), str)
            and isinstance(s.get("page", ""), str)
            for s in sources
        ):
            raise _fail(source, f"{where}.sources", "expected a list of {document, page} objects")

    for key, raw in data["domains"].items():
        where = f"domains[{key!r}]"
        part_id, _, domain_id = key.partition(":")
        try:
            instrument.domain(part_id, domain_id)
        except (InstrumentError, KeyError) as exc:
            raise _fail(source, where, f"unknown domain for {instrument.id}") from exc
        if not isinstance(raw, dict):
            raise _fail(source, where, "expected an object")
        for name in ("final", "applicability"):
            v = raw.get(name)
            if v is not None and v not in LEVELS:
                raise _fail(source, f"{where}.{name}", f"{v!r} is not low, unclear or high")
        for name in ("rationale", "applicability_rationale"):
            if not isinstance(raw.get(name, ""), str):
                raise _fail(source, f"{where}.{name}", "expected text")

    for key in data["reviewer"]:
        if key not in REVIEWER_FIELDS:
            raise _fail(source, f"reviewer.{key}", "unknown reviewer field")
    for attr, groups in data["reference_population"].items():
        if not isinstance(groups, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in groups.values()
        ):
            raise _fail(
                source,
                f"reference_population[{attr!r}]",
                "expected an object of group -> proportion",
            )
    evaluation = data["evaluation"]
    for name in ("config", "result"):
        if not isinstance(evaluation.get(name), dict | type(None)):
            raise _fail(source, f"evaluation.{name}", "expected an object or null")
    for i, entry in enumerate(data["audit"]):
        if not isinstance(entry, dict) or not {"ts", "reviewer", "field"} <= set(entry):
            raise _fail(source, f"audit[{i}]", "expected {ts, reviewer, field, old, new}")
        entry.setdefault("old", None)
        entry.setdefault("new", None)
        _check_audit_extras(entry, source, i)
    return data


def _check_audit_extras(entry: dict[str, Any], source: str, i: int) -> None:
    """The optional keys of compact and coalesced entries (assessment.audit)."""
    if "diff" in entry and not isinstance(entry["diff"], str):
        raise _fail(source, f"audit[{i}].diff", "expected text")
    if "until" in entry and not isinstance(entry["until"], str):
        raise _fail(source, f"audit[{i}].until", "expected text")
    edits = entry.get("edits", 1)
    if isinstance(edits, bool) or not isinstance(edits, int) or edits < 1:
        raise _fail(source, f"audit[{i}].edits", "expected a whole number of at least 1")
