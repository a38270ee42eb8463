"""The assessment document: everything one reviewer records about one model.

The document is a tree of plain JSON values (so saving is serialising it and a damaged file can be
diagnosed field by field), wrapped in an :class:`Assessment` with typed read accessors and a small
set of mutation methods. Every mutation goes through :meth:`Assessment._change`, which

* records an :class:`AuditEntry` (when, who, which field, old -> new) in the append-only log,
* pushes the change on the undo stack (undo/redo are themselves audited changes),
* marks the document dirty and tells listeners (the GUI refreshes from them).

Rules (suggested judgements, completeness) live in :mod:`assessment.judgement`, not here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from assessment import audit as audit_log
from assessment.catalogue import ANSWER_CODES, LEVELS, REVIEWER_FIELDS
from assessment.document_represent import RepresentationFields
from assessment.errors import DocumentError
from assessment.evaluation import record as evaluation_record
from assessment.schema import new_document_data, validate_document

if TYPE_CHECKING:
    from assessment.evaluation.record import EvaluationRecord
    from assessment.instruments import Instrument

FIELD_SECTIONS = ("review_question", "model_card", "datasheet", "reviewer")

Listener = Callable[[str], None]


def _now() -> datetime:
    """The clock of the audit log (one function, so tests can move time)."""
    return datetime.now(UTC)


def now_iso() -> str:
    return _now().isoformat(timespec="seconds")


SOURCE_KEYS = ("document", "page", "evidence", "quote")


@dataclass(frozen=True)
class SourceRef:
    """Where the evidence is: a document, a page; an evidence PDF's SHA-256, a quote (optional)."""

    document: str
    page: str = ""
    evidence: str = ""
    quote: str = ""

    def to_json(self) -> dict[str, str]:
        extra = {k: v for k, v in (("evidence", self.evidence), ("quote", self.quote)) if v}
        return {"document": self.document, "page": self.page, **extra}


@dataclass(frozen=True)
class Answer:
    value: str | None = None
    rationale: str = ""
    sources: tuple[SourceRef, ...] = ()


@dataclass(frozen=True)
class DomainJudgement:
    final: str | None = None
    rationale: str = ""
    applicability: str | None = None
    applicability_rationale: str = ""


@dataclass(frozen=True)
class Reviewer:
    name: str = ""
    role: str = ""
    organisation: str = ""
    email: str = ""

    def to_json(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in REVIEWER_FIELDS}


@dataclass(frozen=True)
class AuditEntry:
    """One logged change. Long values are digests (see :mod:`assessment.audit`) with a ``diff``;
    a coalesced entry stands for ``edits`` commits made from ``ts`` ``until`` its last one."""

    ts: str
    reviewer: str
    field: str
    old: Any
    new: Any
    diff: str | None = None
    edits: int = 1
    until: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ts": self.ts,
            "reviewer": self.reviewer,
            "field": self.field,
            "old": self.old,
            "new": self.new,
        }
        # Optional keys only when used, so entries of older files keep their exact shape.
        if self.diff is not None:
            out["diff"] = self.diff
        if self.edits != 1:
            out["edits"] = self.edits
        if self.until is not None:
            out["until"] = self.until
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> AuditEntry:
        return cls(
            ts=raw["ts"],
            reviewer=raw["reviewer"],
            field=raw["field"],
            old=raw.get("old"),
            new=raw.get("new"),
            diff=raw.get("diff"),
            edits=raw.get("edits", 1),
            until=raw.get("until"),
        )


@dataclass
class _OpenEntry:
    """The newest log entry while further commits of its text field may still fold into it."""

    index: int
    field: str
    reviewer: str
    old: Any  # the value before the first commit, in full (the entry may hold only a digest)
    last: datetime


@dataclass
class _Change:
    path: tuple[str, ...]
    old: Any
    new: Any


@dataclass
class _History:
    undo: list[_Change] = field(default_factory=list)
    redo: list[_Change] = field(default_factory=list)


_MISSING = object()
# Values stored without a further deep copy: replaced whole, never edited in place.
_SHARED_PATHS = frozenset({("evaluation",)})


def _path_label(path: tuple[str, ...]) -> str:
    return ".".join(path)


class Assessment(RepresentationFields):
    """One assessment (.probity document). Construct with :meth:`new` or :meth:`from_json`."""

    def __init__(self, data: dict[str, Any]) -> None:
        """``data``: a checked document dict (:func:`validate_document`, or :meth:`to_json`)."""
        self._data = _with_typed_evaluation(data)
        self._history = _History()
        self._listeners: list[Listener] = []
        self._open_entry: _OpenEntry | None = None
        self.dirty = False

    # ------------------------------------------------------------------ construction
    @classmethod
    def new(
        cls, instrument_id: str = "probast-2019", reviewer: Reviewer | None = None
    ) -> Assessment:
        from assessment.instruments import load_instrument

        load_instrument(instrument_id)  # refuse unknown instruments up front
        data = new_document_data(instrument_id, (reviewer or Reviewer()).to_json(), now_iso())
        doc = cls(data)
        doc._audit("document", None, f"created ({instrument_id})")
        doc.dirty = False
        return doc

    @classmethod
    def from_json(cls, data: Any, *, source: str = "the file") -> Assessment:
        return cls(validate_document(data, source=source))

    def snapshot(self) -> Assessment:
        """An independent copy for a background writer (the frozen evaluation record shared)."""
        return Assessment(
            {k: v if k == "evaluation" else copy.deepcopy(v) for k, v in self._data.items()}
        )

    def to_json(self) -> dict[str, Any]:
        """The document as schema-2 JSON (a deep copy; the evaluation's JSON is shared, cached
        by its frozen record: treat it as read-only)."""
        return {
            k: (v and v.to_json() if k == "evaluation" else copy.deepcopy(v))
            for k, v in self._data.items()
        }

    # ------------------------------------------------------------------ read accessors
    @property
    def id(self) -> str:
        return str(self._data["id"])

    @property
    def created(self) -> str:
        return str(self._data["created"])

    @property
    def modified(self) -> str:
        return str(self._data["modified"])

    @property
    def instrument_id(self) -> str:
        return str(self._data["instrument"]["id"])

    @property
    def instrument(self) -> Instrument:  # import kept lazy: instruments load JSON
        from assessment.instruments import load_instrument

        return load_instrument(self.instrument_id)

    @property
    def study_type(self) -> str | None:
        study_type: str | None = self._data["study_type"]
        return study_type

    @property
    def performance_types(self) -> list[str]:
        return list(self._data["performance_types"])

    @property
    def review_question(self) -> dict[str, str]:
        return dict(self._data["review_question"])

    @property
    def answers(self) -> dict[str, Answer]:
        return {k: _answer_from(v) for k, v in self._data["answers"].items()}

    def answer(self, key: str) -> Answer:
        raw = self._data["answers"].get(key)
        return _answer_from(raw) if raw is not None else Answer()

    @property
    def domain_judgements(self) -> dict[str, DomainJudgement]:
        return {k: self.domain_judgement(k) for k in self._data["domains"]}

    def domain_judgement(self, key: str) -> DomainJudgement:
        raw = self._data["domains"].get(key) or {}
        return DomainJudgement(
            final=raw.get("final"),
            rationale=raw.get("rationale", ""),
            applicability=raw.get("applicability"),
            applicability_rationale=raw.get("applicability_rationale", ""),
        )

    @property
    def model_card(self) -> dict[str, Any]:
        return copy.deepcopy(self._data["model_card"])

    @property
    def datasheet(self) -> dict[str, Any]:
        return copy.deepcopy(self._data["datasheet"])

    @property
    def training_demographics(self) -> dict[str, dict[str, int]]:
        return copy.deepcopy(self._data["datasheet"].get("training_demographics") or {})

    @property
    def reference_population(self) -> dict[str, dict[str, float]]:
        return copy.deepcopy(self._data["reference_population"])

    @property
    def reviewer(self) -> Reviewer:
        r = self._data["reviewer"]
        return Reviewer(**{k: str(r.get(k, "")) for k in REVIEWER_FIELDS})

    @property
    def notes(self) -> str:
        return str(self._data["notes"])

    @property
    def evaluation(self) -> EvaluationRecord | None:
        """The stored evaluation run, typed (frozen: shared, never copied), or None."""
        return cast("EvaluationRecord | None", self._data["evaluation"])

    @property
    def has_evaluation_result(self) -> bool:
        return getattr(self.evaluation, "result", None) is not None

    @property
    def audit(self) -> list[AuditEntry]:
        return [AuditEntry.from_json(e) for e in self._data["audit"]]

    @property
    def audit_raw(self) -> list[dict[str, Any]]:
        """The log as stored (read-only view for summaries; no copies of 100,000 entries)."""
        log: list[dict[str, Any]] = self._data["audit"]
        return log

    @property
    def title(self) -> str:
        name = str(self._data["model_card"].get("model_name") or "").strip()
        version = str(self._data["model_card"].get("model_version") or "").strip()
        if not name:
            return "Untitled assessment"
        return f"{name} {version}".strip()

    # ------------------------------------------------------------------ listeners
    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    # ------------------------------------------------------------------ mutations
    def set_answer(self, key: str, value: str | None) -> None:
        self._check_slot(key)
        if value is not None and value not in ANSWER_CODES:
            raise DocumentError(
                f"{value!r} is not an answer; use one of {', '.join(ANSWER_CODES)}."
            )
        if value is not None:
            self._check_answer_allowed(key, value)
        self._change(("answers", key, "value"), value)

    def set_answer_rationale(self, key: str, text: str) -> None:
        self._check_slot(key)
        self._change(("answers", key, "rationale"), str(text), typed=True)

    def set_answer_sources(self, key: str, sources: Iterable[SourceRef | dict[str, str]]) -> None:
        self._check_slot(key)
        refs = [
            s.to_json() if isinstance(s, SourceRef) else SourceRef(**s).to_json() for s in sources
        ]
        self._change(("answers", key, "sources"), refs)

    def set_domain(self, domain_key: str, **changes: Any) -> None:
        """Set final / rationale / applicability / applicability_rationale of one domain."""
        self._check_domain(domain_key)
        allowed = {"final", "rationale", "applicability", "applicability_rationale"}
        for name, value in changes.items():
            if name not in allowed:
                raise DocumentError(f"unknown domain field {name!r}")
            if name in ("final", "applicability") and value is not None and value not in LEVELS:
                raise DocumentError(f"{value!r} is not a judgement; use low, unclear or high.")
            if name in ("rationale", "applicability_rationale"):
                value = str(value)
            self._change(("domains", domain_key, name), value, typed=isinstance(value, str))

    def set_field(self, section: str, field_id: str, value: Any) -> None:
        if section not in FIELD_SECTIONS:
            raise DocumentError(
                f"unknown section {section!r}; use one of {', '.join(FIELD_SECTIONS)}"
            )
        if section == "reviewer" and field_id not in REVIEWER_FIELDS:
            raise DocumentError(f"unknown reviewer field {field_id!r}")
        if section == "datasheet" and field_id in ("ubr_characteristics", "training_total_n"):
            from assessment.ubr import check_edit

            check_edit({**self._data["datasheet"], field_id: value})
        self._change((section, field_id), copy.deepcopy(value), typed=isinstance(value, str))

    def set_study_type(self, study_type: str | None) -> None:
        if study_type is not None:
            self.instrument.study_type(study_type)  # raises InstrumentError if unknown
        self._change(("study_type",), study_type)

    def set_performance_types(self, types: Iterable[str]) -> None:
        known = [p.id for p in self.instrument.performance_types]
        chosen = [t for t in known if t in set(types)]
        unknown = set(types) - set(known)
        if unknown:
            raise DocumentError(
                f"unknown performance type(s) {', '.join(sorted(unknown))}; "
                f"this instrument knows {', '.join(known) or 'none'}"
            )
        self._change(("performance_types",), chosen)

    def set_notes(self, text: str) -> None:
        self._change(("notes",), str(text), typed=True)

    def set_reference_population(self, population: dict[str, dict[str, float]]) -> None:
        clean = {
            str(a): {str(g): float(p) for g, p in groups.items()}
            for a, groups in population.items()
        }
        self._change(("reference_population",), clean)

    def set_evaluation_record(self, record: EvaluationRecord | None) -> None:
        """Replace the evaluation (one audited, undoable change; the record is frozen, shared)."""
        self._change(("evaluation",), record)

    def set_evaluation(self, config: dict[str, Any] | None, result: Any) -> None:
        """Schema 1's ``config`` + ``result`` JSON (or typed result) as one record."""
        record = evaluation_record.EvaluationRecord.from_v1(copy.deepcopy(config), result)[0]
        self.set_evaluation_record(record)

    # ------------------------------------------------------------------ undo / redo
    @property
    def can_undo(self) -> bool:
        return bool(self._history.undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._history.redo)

    def next_change_paths(self) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
        """The paths the next undo and the next redo would change (None: nothing to do)."""
        h = self._history
        return (h.undo[-1].path if h.undo else None, h.redo[-1].path if h.redo else None)

    def undo(self) -> bool:
        if not self._history.undo:
            return False
        change = self._history.undo.pop()
        self._history.redo.append(change)  # before the listeners hear of it (menu labels)
        self._apply(change.path, change.old, record=False, label="undo")
        return True

    def redo(self) -> bool:
        if not self._history.redo:
            return False
        change = self._history.redo.pop()
        self._history.undo.append(change)  # before the listeners hear of it (menu labels)
        self._apply(change.path, change.new, record=False, label="redo")
        return True

    # ------------------------------------------------------------------ internals
    def _check_slot(self, key: str) -> None:
        from assessment.judgement import all_slot_keys

        if key not in all_slot_keys(self.instrument):
            raise DocumentError(
                f"{key!r} is not a signalling question of {self.instrument_id} "
                "(expected e.g. '1.1@development' or 'E-4.2@apparent')"
            )

    def _check_answer_allowed(self, key: str, value: str) -> None:
        qid = key.split("@", 1)[0]
        question = self.instrument.question(qid)
        if value not in question.answers:
            raise DocumentError(
                f"answer {value!r} is not allowed for question {qid}; "
                f"allowed: {', '.join(question.answers)}"
            )

    def _check_domain(self, key: str) -> None:
        part_id, _, domain_id = key.partition(":")
        try:
            self.instrument.domain(part_id, domain_id)
        except Exception as exc:  # InstrumentError or KeyError from the lookup
            raise DocumentError(
                f"{key!r} is not a domain of {self.instrument_id} (expected e.g. 'main:D1')"
            ) from exc

    def _get(self, path: tuple[str, ...]) -> Any:
        node: Any = self._data
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return _MISSING
            node = node[part]
        return node

    def _change(self, path: tuple[str, ...], new: Any, *, typed: bool = False) -> None:
        """``typed``: free text the reviewer types (its commits may be coalesced in the log)."""
        old = self._get(path)
        if old is not _MISSING and old == new:
            return
        self._history.undo.append(_Change(path, old, new))
        self._history.redo.clear()
        self._apply(path, new, record=True, label=None, typed=typed)

    def _apply(
        self,
        path: tuple[str, ...],
        value: Any,
        *,
        record: bool,
        label: str | None,
        typed: bool = False,
    ) -> None:
        old = self._get(path)
        node = self._data
        for part in path[:-1]:
            node = node.setdefault(part, {})
        if value is _MISSING:  # undoing the creation of a field removes it again
            node.pop(path[-1], None)
            value = None
        else:
            node[path[-1]] = value if path in _SHARED_PATHS else copy.deepcopy(value)
        self._data["modified"] = now_iso()
        field_label = _path_label(path) if label is None else f"{_path_label(path)} ({label})"
        self._audit(
            field_label,
            _audit_value(path, None if old is _MISSING else old),
            _audit_value(path, value),
            typed=typed,
        )
        self.dirty = True
        for listener in list(self._listeners):
            listener(_path_label(path))

    def _audit(self, field_label: str, old: Any, new: Any, *, typed: bool = False) -> None:
        """Append an entry, or fold a further commit of the same text into the newest one.

        Folding needs: a typed edit (not undo/redo, not an answer or a judgement), the same
        field and reviewer as the newest entry, within ``COALESCE_SECONDS`` of its last commit,
        and no save or load in between (``dirty``: an entry already in the file is never
        rewritten).
        """
        now = _now()
        stamp = now.isoformat(timespec="seconds")
        reviewer = self.reviewer.name or "(unnamed reviewer)"
        log = self._data["audit"]
        text = typed and audit_log.is_text_value(old) and audit_log.is_text_value(new)
        open_entry = self._open_entry
        if (
            text
            and self.dirty
            and open_entry is not None
            and open_entry.index == len(log) - 1
            and open_entry.field == field_label
            and open_entry.reviewer == reviewer
            and 0 <= (now - open_entry.last).total_seconds() <= audit_log.COALESCE_SECONDS
        ):
            first = AuditEntry.from_json(log[-1])
            logged_old, logged_new, diff = audit_log.logged_values(open_entry.old, new)
            log[-1] = AuditEntry(
                ts=first.ts,
                reviewer=reviewer,
                field=field_label,
                old=logged_old,
                new=logged_new,
                diff=diff,
                edits=first.edits + 1,
                until=stamp,
            ).to_json()
            open_entry.last = now
            return
        logged_old, logged_new, diff = audit_log.logged_values(old, new)
        entry = AuditEntry(
            ts=stamp,
            reviewer=reviewer,
            field=field_label,
            old=copy.deepcopy(logged_old),
            new=copy.deepcopy(logged_new),
            diff=diff,
        )
        log.append(entry.to_json())
        self._open_entry = (
            _OpenEntry(len(log) - 1, field_label, reviewer, old, now) if text else None
        )


def _with_typed_evaluation(data: dict[str, Any]) -> dict[str, Any]:
    """The document with its evaluation typed (given as the record or its schema-2 JSON)."""
    if not isinstance(data.get("evaluation"), dict):
        return data
    return {**data, "evaluation": evaluation_record.EvaluationRecord.from_json(data["evaluation"])}


def _audit_value(path: tuple[str, ...], value: Any) -> Any:
    """Keep the audit log readable: an evaluation record is logged by identity, not in full."""
    if path[:1] != ("evaluation",) or value is None:
        return value
    describe = getattr(value, "describe", None)
    return describe() if callable(describe) else value


def _answer_from(raw: dict[str, Any]) -> Answer:
    return Answer(
        value=raw.get("value"),
        rationale=raw.get("rationale", ""),
        sources=tuple(
            SourceRef(**{k: s.get(k, "") for k in SOURCE_KEYS}) for s in raw.get("sources", [])
        ),
    )
