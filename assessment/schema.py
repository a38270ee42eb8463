"""Validation (and migration) of .probity documents read from disk.

A damaged or foreign file must give one message naming what is wrong and where, as a JSON path
(``$.evaluation.result.groups[3].metrics.tpr.value: expected a number or null, got "abc"``), so
the reviewer can fix or report it; it must never be half-loaded. The *whole* file is checked,
including the stored evaluation (read back with :meth:`EvaluationResult.from_json`, whose
errors carry their JSON path) and its settings, so that whatever loads can be shown, judged,
saved and reported without a traceback. Documents from a newer schema are refused, older ones
migrated here.

Schema 2 holds the evaluation as one :class:`~assessment.evaluation.record.EvaluationRecord`
(``"evaluation": null`` or the record), parsed once here: :func:`validate_document` returns the
document dict with the typed record in place of its JSON. Schema 1 held ``{"config", "result"}``
with the mapping, the spec and the file facts stored twice; it is checked in its own shape (so
its error paths are those of the file) and migrated by :func:`migrate_v1`, which logs the
migration in the audit log.

Two passes: a generic one over every value (nesting depth, lone surrogates in text that no
UTF-8 file can hold, integers too large and non-finite numbers), then the shape of each field.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

from assessment.catalogue import ANSWER_CODES, EVIDENCE_KEYS, LEVELS, REVIEWER_FIELDS
from assessment.errors import DocumentError, InstrumentError, ProbityError
from assessment.jsoncheck import (
    Invalid,
    check_json_values,
    expect_int,
    expect_list,
    expect_num,
    expect_obj,
    expect_str,
    expect_strings,
    key_path,
    show,
)

SCHEMA_VERSION = 2
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
    "evaluation": (dict, type(None)),
    "audit": list,
}
# Optional keys (written only once set, so older files load and save byte for byte): where the
# reference population came from, the group-label maps (assessment.populations, group_map) and
# the attached evidence PDFs (assessment.evidence).
_OPTIONAL_TOP_LEVEL: dict[str, type] = {
    "reference_population_source": dict,
    "group_maps": dict,
    "evidence": list,
}
# old/new are digests for long values, with a one-line ``diff``; ``edits``/``until`` mark a
# coalesced entry (assessment.audit).
_AUDIT_KEYS = ("ts", "reviewer", "field", "old", "new", "diff", "edits", "until")
_ANSWER_KEYS = ("value", "rationale", "sources")
_DOMAIN_KEYS = ("final", "rationale", "applicability", "applicability_rationale")
_SOURCE_KEYS = ("document", "page", "evidence", "quote")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def new_document_data(instrument_id: str, reviewer: dict[str, Any], stamp: str) -> dict[str, Any]:
    """The JSON of a new, empty assessment in this schema version."""
    return {
        "format": FILE_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "id": str(uuid4()),
        "created": stamp,
        "modified": stamp,
        "instrument": {"id": instrument_id},
        "study_type": None,
        "performance_types": [],
        "review_question": {},
        "answers": {},
        "domains": {},
        "model_card": {},
        "datasheet": {},
        "reference_population": {},
        "reviewer": reviewer,
        "notes": "",
        "evaluation": None,
        "audit": [],
    }


def _fail(source: str, path: str, problem: str) -> DocumentError:
    return DocumentError(f"{source} is not a valid assessment: {path}: {problem}")


# ------------------------------------------------------------------------------ the document


def validate_document(data: Any, *, source: str = "the file") -> dict[str, Any]:
    """Return the (migrated) document dict, or raise DocumentError naming the problem."""
    if not isinstance(data, dict):
        raise _fail(source, "$", "expected a JSON object at the top level")
    if data.get("format") != FILE_FORMAT:
        raise DocumentError(
            f'{source} is not a Probity assessment (no "format": "{FILE_FORMAT}" marker).'
        )
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _fail(source, "$.schema_version", f"missing or not a whole number: {show(version)}")
    if version > SCHEMA_VERSION:
        raise DocumentError(
            f"{source} was written by a newer Probity (schema {version}; this version reads up to "
            f"{SCHEMA_VERSION}). Open it with a newer Probity; nothing was changed."
        )
    if version < 1:
        raise _fail(source, "$.schema_version", f"unknown schema version {version}")
    try:
        check_json_values(data)
        _check_document(data)
        if version == 1:
            _carry_unadjusted_flags(data["evaluation"])
            migrate_v1(data, _check_evaluation_v1(data["evaluation"]))
        else:
            data["evaluation"] = _read_record(data["evaluation"])
    except Invalid as exc:
        raise _fail(source, exc.path, exc.problem) from None
    return data


UNADJUSTED_NOTE = (
    "This evaluation was stored by an earlier Probity without multiplicity-adjusted flags: its "
    "adjusted flags repeat the unadjusted ones; run it again for Holm/BH-adjusted flags."
)


def _carry_unadjusted_flags(evaluation: Any) -> None:
    """A schema-1 result from before the multiplicity adjustment has ``flagged`` only: keep its
    flags visible (as the adjusted flag) and say so, rather than read them as "not flagged"."""
    result = evaluation.get("result") if isinstance(evaluation, dict) else None
    if not isinstance(result, dict) or not isinstance(result.get("disparities"), list):
        return
    old = [d for d in result["disparities"] if isinstance(d, dict) and "flagged_adjusted" not in d]
    if not old:
        return
    for d in old:
        d["flagged_adjusted"] = d.get("flagged", False)
    if isinstance(result.get("notes"), list) and UNADJUSTED_NOTE not in result["notes"]:
        result["notes"].append(UNADJUSTED_NOTE)


def migrate_v1(data: dict[str, Any], result: Any = None) -> None:
    """Turn a checked schema-1 document into schema 2 in place (the record typed), logged.

    ``result``: the stored result already read (typed), so it is parsed once.
    """
    from assessment.evaluation.record import EvaluationRecord

    ev = data["evaluation"]
    record, notes = EvaluationRecord.from_v1(
        ev.get("config"), result if result is not None else ev.get("result")
    )
    data["evaluation"] = record
    data["schema_version"] = SCHEMA_VERSION
    from datetime import UTC, datetime

    what = "evaluation stored once as a typed record"
    if notes:
        what += " (" + "; ".join(notes) + ")"
    data["audit"].append(
        {
            "ts": datetime.now(UTC).isoformat(timespec="seconds"),
            "reviewer": "Probity",
            "field": "schema_version (migration)",
            "old": 1,
            "new": SCHEMA_VERSION,
            "diff": what,
        }
    )


def _read_record(value: Any) -> Any:
    """Schema 2's evaluation: null or one record, read (and so checked) by the codec."""
    if value is None:
        return None
    from assessment.evaluation.record import EvaluationRecord

    return EvaluationRecord.from_json(value, "$.evaluation")


def _check_document(data: dict[str, Any]) -> None:
    for key, expected in _TOP_LEVEL.items():
        if key not in data:
            raise Invalid(key_path("$", key), "missing")
        value = data[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise Invalid(key_path("$", key), f"expected {_type_name(expected)}, got {show(value)}")
    for key in data:
        if key not in _TOP_LEVEL and key not in _OPTIONAL_TOP_LEVEL:
            raise Invalid(key_path("$", key), "unknown key; this version of Probity writes none")
    if not _ID.match(data["id"]):
        raise Invalid(
            "$.id", f"expected an identifier (letters, digits, -), got {show(data['id'])}"
        )

    from assessment.instruments import load_instrument

    expect_obj(data["instrument"], "$.instrument", ("id", "version"))
    instrument_id = expect_str(data["instrument"].get("id"), "$.instrument.id")
    try:
        instrument = load_instrument(str(instrument_id))
    except InstrumentError as exc:
        raise Invalid("$.instrument.id", exc.message) from exc

    st = data["study_type"]
    if st is not None and st not in {s.id for s in instrument.study_types}:
        known = ", ".join(s.id for s in instrument.study_types)
        raise Invalid("$.study_type", f"unknown study type {st!r} (known: {known})")
    known_perf = {p.id for p in instrument.performance_types}
    seen: set[str] = set()
    for i, p in enumerate(data["performance_types"]):
        where = f"$.performance_types[{i}]"
        expect_str(p, where)
        if p not in known_perf:
            raise Invalid(where, f"unknown performance type {p!r}")
        if p in seen:
            raise Invalid(where, f"{p!r} is listed twice")
        seen.add(p)
    for key, value in data["review_question"].items():
        expect_str(value, key_path("$.review_question", key), null=True)
    _check_answers(data["answers"], instrument)
    _check_domains(data["domains"], instrument)
    _check_form(data["model_card"], "model-card", "$.model_card")
    _check_form(data["datasheet"], "datasheet", "$.datasheet")
    for attr, groups in data["reference_population"].items():
        where = key_path("$.reference_population", attr)
        expect_obj(groups, where)
        for group, share in groups.items():
            expect_num(share, key_path(where, group), minimum=0)
    _check_representation(data)
    for key, value in data["reviewer"].items():
        if key not in REVIEWER_FIELDS:
            raise Invalid(key_path("$.reviewer", key), "unknown reviewer field")
        expect_str(value, key_path("$.reviewer", key))
    if "evidence" in data:
        _check_evidence(data["evidence"])
    for i, entry in enumerate(data["audit"]):
        where = f"$.audit[{i}]"
        expect_obj(entry, where, _AUDIT_KEYS)
        for name in ("ts", "reviewer", "field"):
            if name not in entry:
                raise Invalid(f"{where}.{name}", "missing")
            expect_str(entry[name], f"{where}.{name}")
        for name in ("diff", "until"):
            if name in entry:
                expect_str(entry[name], f"{where}.{name}")
        if "edits" in entry:
            expect_int(entry["edits"], f"{where}.edits", minimum=1)
        entry.setdefault("old", None)
        entry.setdefault("new", None)


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


def _check_answers(answers: dict[str, Any], instrument: Any) -> None:
    from assessment.judgement import all_slot_keys

    slots = all_slot_keys(instrument)
    for key, raw in answers.items():
        where = key_path("$.answers", key)
        if key not in slots:
            qid = key.split("@", 1)[0]
            raise Invalid(where, f"unknown question {qid!r} for {instrument.id}")
        expect_obj(raw, where, _ANSWER_KEYS)
        value = raw.get("value")
        if value is not None:
            question = instrument.question(key.split("@", 1)[0])
            if value not in ANSWER_CODES or value not in question.answers:
                raise Invalid(
                    f"{where}.value",
                    f"{show(value)} is not an allowed answer ({', '.join(question.answers)})",
                )
        expect_str(raw.get("rationale", ""), f"{where}.rationale")
        sources = expect_list(raw.get("sources", []), f"{where}.sources")
        for j, s in enumerate(sources):
            spath = f"{where}.sources[{j}]"
            expect_obj(s, spath, _SOURCE_KEYS)
            for name in _SOURCE_KEYS:
                expect_str(s.get(name, ""), f"{spath}.{name}")


def _check_evidence(entries: Any) -> None:
    seen: set[str] = set()
    for i, raw in enumerate(expect_list(entries, "$.evidence")):
        where = f"$.evidence[{i}]"
        expect_obj(raw, where, EVIDENCE_KEYS)
        for name in EVIDENCE_KEYS:
            if name not in raw:
                raise Invalid(f"{where}.{name}", "missing")
        sha = expect_str(raw["sha256"], f"{where}.sha256")
        if not re.fullmatch(r"[0-9a-f]{64}", str(sha)) or sha in seen:
            raise Invalid(
                f"{where}.sha256", f"expected a new SHA-256 (64 hex digits), got {show(sha)}"
            )
        seen.add(str(sha))
        for name in ("title", "file_name", "added"):
            expect_str(raw[name], f"{where}.{name}")
        for name in ("pages", "size"):
            expect_int(raw[name], f"{where}.{name}", minimum=0)


def _check_domains(domains: dict[str, Any], instrument: Any) -> None:
    for key, raw in domains.items():
        where = key_path("$.domains", key)
        part_id, _, domain_id = key.partition(":")
        try:
            instrument.domain(part_id, domain_id)
        except (InstrumentError, KeyError) as exc:
            raise Invalid(where, f"unknown domain for {instrument.id}") from exc
        expect_obj(raw, where, _DOMAIN_KEYS)
        for name in ("final", "applicability"):
            v = raw.get(name)
            if v is not None and v not in LEVELS:
                raise Invalid(f"{where}.{name}", f"{show(v)} is not low, unclear or high")
        for name in ("rationale", "applicability_rationale"):
            expect_str(raw.get(name, ""), f"{where}.{name}")


def _check_form(values: dict[str, Any], form_id: str, path: str) -> None:
    """Each answered field has the JSON type its form declares (unknown fields: any value)."""
    from assessment.instruments import load_form

    try:
        form = load_form(form_id)
    except InstrumentError:  # a broken resource is reported where forms are shown
        return
    types = {f.id: f.type for _, f in form.iter_fields()}
    for key, value in values.items():
        where = key_path(path, key)
        kind = types.get(key)
        if kind is None and form_id == "datasheet":  # a mis-named key was silently ignored
            raise Invalid(where, _unknown_field(key, list(types)))
        if kind is None or value is None:
            continue
        if kind in ("text", "multiline", "date", "choice"):
            expect_str(value, where)
        elif kind == "number":
            if value != "":
                expect_num(value, where)
        elif kind == "bool":
            if not isinstance(value, bool):
                raise Invalid(where, f"expected true, false or null, got {show(value)}")
        elif kind == "multichoice":
            expect_strings(value, where)
        elif kind in ("ubr", "checklist"):
            from assessment.ubr import check_value

            check_value(kind, value, where)
        elif kind == "demographics":
            expect_obj(value, where)
            for attr, groups in value.items():
                apath = key_path(where, attr)
                expect_obj(groups, apath)
                for group, count in groups.items():
                    expect_num(count, key_path(apath, group), null=True, minimum=0)
    if form_id == "datasheet":
        from assessment.ubr import check_totals

        check_totals(values, path)


def _unknown_field(key: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5) or [
        k for k in known if k.startswith(key) or key.startswith(k)][:1]
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown datasheet field{hint} (a field Probity does not know is never ignored)"


def _check_representation(data: dict[str, Any]) -> None:
    from assessment.evaluation.group_map import check_group_map
    from assessment.populations import check_source

    for check, key in ((check_source, "reference_population_source"),
                       (check_group_map, "group_maps")):
        if key not in data:
            continue
        try:
            check(data[key], f"$.{key}")
        except DocumentError as exc:
            path, _, problem = exc.message.partition(": ")
            raise Invalid(path, problem) from None


def _check_evaluation_v1(evaluation: Any) -> Any:
    """Schema 1's ``{"config", "result"}``, checked in its own paths; the result, typed."""
    expect_obj(evaluation, "$.evaluation", ("config", "result"))
    config = evaluation.get("config")
    if config is not None:
        _check_config(expect_obj(config, "$.evaluation.config"))
    result = evaluation.get("result")
    if result is not None:
        from assessment.evaluation.result import EvaluationResult, ResultFormatError

        try:
            return EvaluationResult.from_json(
                expect_obj(result, "$.evaluation.result"), path="$.evaluation.result"
            )
        except ResultFormatError as exc:
            raise Invalid(exc.path, exc.problem) from None
    return None


def _check_config(config: dict[str, Any]) -> None:
    """The stored evaluation settings, as the GUI reads them back to re-run the evaluation."""
    for name in ("file", "file_name", "sha256", "sheet"):
        expect_str(config.get(name), f"$.evaluation.config.{name}", null=True)
    mapping = config.get("mapping")
    if mapping is not None:
        from assessment.evaluation.result_checks import check_mapping_json

        check_mapping_json(mapping, "$.evaluation.config.mapping")
    spec = config.get("spec")
    if spec is not None:
        from assessment.evaluation.spec import EvaluationSpec

        _rebuild(
            EvaluationSpec.from_json,
            expect_obj(spec, "$.evaluation.config.spec"),
            "$.evaluation.config.spec",
        )


def _rebuild(build: Any, value: Any, path: str) -> None:
    """Run a from_json; its error (which names no path) becomes a problem at ``path``."""
    try:
        build(value)
    except Invalid:
        raise
    except ProbityError as exc:
        raise Invalid(path, exc.message.rstrip(".")) from exc
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise Invalid(path, f"malformed ({type(exc).__name__}: {exc})") from exc
