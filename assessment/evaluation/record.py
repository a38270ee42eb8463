"""The evaluation record: one run as the assessment holds it, typed and stored once.

An :class:`EvaluationRecord` is which data file was evaluated (name, path, SHA-256, sheet), the
column mapping and the settings (:class:`EvaluationSpec`) it ran with, the typed
:class:`EvaluationResult`, and the Probity version that ran it. The document holds it
(``Assessment.evaluation``), parsed and validated once when the file is read.

Each fact is stored once in the ``.probity`` file (schema 2): the stored result leaves out the
spec and the file facts of its provenance (name, SHA-256, sheet, mapping), which the record
holds, and the mapping leaves out its threshold when it is the spec's. Reading puts them back,
so :attr:`EvaluationRecord.result` is the complete result, the same as ``evaluate --json``
writes (:meth:`EvaluationRecord.result_json`).

A run goes into the document through :func:`store_evaluation`, one audited change; the GUI's
Run button and ``python main.py evaluate … --into FILE.probity`` both call it, so a headless
pipeline builds exactly the assessment a reviewer would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assessment.codec import JsonRecord
from assessment.evaluation.result import EvaluationResult, ResultFormatError
from assessment.evaluation.result_checks import check_mapping_json
from assessment.evaluation.result_sense import ADVICE as SENSE_ADVICE
from assessment.evaluation.result_sense import check_result_sense
from assessment.evaluation.spec import EvaluationSpec
from assessment.jsoncheck import Invalid, expect_obj, key_path

if TYPE_CHECKING:
    from assessment.document import Assessment
    from assessment.evaluation.mapping import ColumnMapping, LoadedTable

RECORD_SCHEMA = "probity-record/1"
# The file facts a result's provenance repeats (stored once, in the record's ``data``/``mapping``).
_PROVENANCE_FACTS = ("file_name", "sha256", "sheet", "mapping")


def _probity_version() -> str | None:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - always present on 3.11
        return None
    try:
        return version("probity")
    except PackageNotFoundError:
        return None


def _check_mapping(m: Any, path: str) -> None:
    if m is not None:
        check_mapping_json(m, path)


@dataclass(frozen=True)
class DataFile(JsonRecord):
    """The validation file one run read: where it was, its name, SHA-256 and sheet."""

    path: str | None = None
    file_name: str | None = None
    sha256: str | None = None
    sheet: str | None = None


@dataclass(frozen=True)
class EvaluationRecord(JsonRecord):
    """One evaluation run as the document holds it (see the module docstring)."""

    codec_schema = ("schema", RECORD_SCHEMA)
    codec_kind = "evaluation record"

    data: DataFile = field(default_factory=DataFile)
    mapping: dict[str, Any] | None = field(default=None, metadata={"check": _check_mapping})
    spec: EvaluationSpec | None = None
    result: EvaluationResult | None = None
    probity_version: str | None = None

    # ------------------------------------------------------------------ accessors
    @property
    def file_name(self) -> str | None:
        return self.data.file_name

    @property
    def sha256(self) -> str | None:
        return self.data.sha256

    @property
    def run_at(self) -> str | None:
        """When the result was computed (its ``created`` stamp)."""
        return self.result.created if self.result is not None else None

    @property
    def threshold(self) -> float | None:
        return float(self.spec.threshold) if self.spec is not None else None

    def column_mapping(self) -> ColumnMapping | None:
        """The mapping, typed (imports the mapping module, hence NumPy: not done on load)."""
        if self.mapping is None:
            return None
        from assessment.evaluation.mapping import ColumnMapping

        return ColumnMapping.from_json(self.mapping)

    def config_json(self) -> dict[str, Any]:
        """What to re-run with, in the shape of schema 1's ``evaluation.config``."""
        return {
            "file": self.data.path,
            "file_name": self.data.file_name,
            "sha256": self.data.sha256,
            "sheet": self.data.sheet,
            "mapping": dict(self.mapping) if self.mapping is not None else None,
            "spec": self.spec.to_json() if self.spec is not None else None,
        }

    def result_json(self) -> dict[str, Any] | None:
        """The complete probity-evaluation/1 result, as ``evaluate --json`` writes it."""
        return self.result.to_json() if self.result is not None else None

    def describe(self) -> str:
        """One line for the audit log (a record is logged by identity, not in full)."""
        if self.result is None:
            return f"settings for {self.data.file_name or 'a data file'} (not run)"
        sha = self.data.sha256 or "?"  # whole: the plan's lock is dated against this entry
        plan = self.result.plan or {}
        judged = (
            f", plan sha256 {plan.get('sha256', '?')}, verdict {self.result.verdict or '?'}"
            if plan or self.result.verdict
            else ""
        )
        return (
            f"evaluation of {self.data.file_name or '?'} (sha256 {sha}, "
            f"{len(self.result.groups)} groups, created {self.result.created}{judged})"
        )

    # ------------------------------------------------------------------ building
    @classmethod
    def of_run(
        cls, result: EvaluationResult, *, path: str | Path | None = None
    ) -> EvaluationRecord:
        """The record of one engine run: spec, mapping and file facts from the result itself."""
        prov = result.provenance
        mapping = prov.get("mapping")
        return cls(
            data=DataFile(
                path=str(path) if path else None,
                file_name=prov.get("file_name"),
                sha256=prov.get("sha256"),
                sheet=prov.get("sheet"),
            ),
            mapping=dict(mapping) if isinstance(mapping, dict) else None,
            spec=result.evaluation_spec(),
            result=result,
            probity_version=_probity_version(),
        )

    @classmethod
    def from_v1(
        cls, config: dict[str, Any] | None, result: EvaluationResult | dict[str, Any] | None
    ) -> tuple[EvaluationRecord | None, list[str]]:
        """A schema-1 ``{"config", "result"}`` pair as a record, and what could not be kept.

        With a result, the record holds what the result was computed with (its spec, its
        mapping and file facts); the config adds the file's path. Settings in the config that
        differ from the result's are named in the returned notes (the migration logs them).
        """
        config = config or {}
        if result is None:
            if not any(config.get(k) is not None for k in ("file", "file_name", "mapping", "spec")):
                return None, []
            spec = config.get("spec")
            return (
                cls(
                    data=DataFile(
                        path=config.get("file"),
                        file_name=config.get("file_name"),
                        sha256=config.get("sha256"),
                        sheet=config.get("sheet"),
                    ),
                    mapping=config.get("mapping"),
                    spec=EvaluationSpec.from_json(spec) if spec is not None else None,
                ),
                [],
            )
        typed = (
            result if isinstance(result, EvaluationResult) else EvaluationResult.from_json(result)
        )
        record = cls.of_run(typed, path=config.get("file"))
        record = cls(
            data=record.data,
            mapping=record.mapping,
            spec=record.spec,
            result=typed,
            probity_version=None,  # unknown for a run stored before schema 2
        )
        notes: list[str] = []
        for key in ("file_name", "sha256", "sheet"):
            if key in config and config[key] != getattr(record.data, key):
                notes.append(f"the stored settings named {key} {config[key]!r}; the result's kept")
        if config.get("mapping") is not None and config["mapping"] != record.mapping:
            notes.append("the stored column mapping differed from the result's; the result's kept")
        if config.get("spec") is not None and config["spec"] != typed.spec:
            notes.append("the stored settings differed from the result's; the result's kept")
        return record, notes

    # ------------------------------------------------------------------ the stored shape
    def to_json(self) -> dict[str, Any]:
        """The stored shape (computed once per record, which is frozen: treat it as read-only;
        a save and an autosave of a large result then do not encode it again)."""
        cached: dict[str, Any] | None = self.__dict__.get("_json")
        if cached is None:
            cached = self._encode()
            object.__setattr__(self, "_json", cached)
        return cached

    def _encode(self) -> dict[str, Any]:
        out = super().to_json()
        mapping, spec = out.get("mapping"), out.get("spec")
        if isinstance(mapping, dict) and isinstance(spec, dict):
            if "threshold" in mapping and mapping["threshold"] == spec.get("threshold"):
                out["mapping"] = {k: v for k, v in mapping.items() if k != "threshold"}
        result = out.get("result")
        if isinstance(result, dict):
            result.pop("spec", None)
            prov = result.get("provenance")
            if isinstance(prov, dict):
                result["provenance"] = {k: v for k, v in prov.items() if k not in _PROVENANCE_FACTS}
        return out

    @classmethod
    def from_json(cls, d: Any, path: str = "$") -> EvaluationRecord:
        """Read the stored shape; :class:`Invalid` names the JSON path of the first problem."""
        expect_obj(d, path)
        d = dict(d)
        spec = d.get("spec")
        mapping = d.get("mapping")
        if isinstance(mapping, dict) and "threshold" not in mapping and isinstance(spec, dict):
            d["mapping"] = {**mapping, "threshold": spec.get("threshold")}
        result = d.get("result")
        if isinstance(result, dict):
            d["result"] = _whole_result(d, result, key_path(path, "result"), path)
        try:
            record = super().from_json(d, path)
        except ResultFormatError as exc:
            raise Invalid(exc.path, exc.problem) from None
        if record.result is not None:  # the codec read its types; now its sense
            check_result_sense(record.result, key_path(path, "result"))
        return record


def _whole_result(d: dict[str, Any], result: dict[str, Any], where: str, path: str) -> Any:
    """The stored result with the facts the record holds put back."""
    for key in ("spec",):
        if key in result:
            raise Invalid(key_path(where, key), f"stored once, in {key_path(path, key)}")
    if d.get("spec") is None:
        raise Invalid(key_path(path, "spec"), "missing (a stored result needs its settings)")
    prov = result.get("provenance")
    if not isinstance(prov, dict):
        return result  # the codec names the problem
    for key in _PROVENANCE_FACTS:
        if key in prov:
            raise Invalid(key_path(f"{where}.provenance", key), "stored once, in the record")
    data = d.get("data")
    facts = {
        k: (data.get(k) if isinstance(data, dict) else None)
        for k in ("file_name", "sha256", "sheet")
    }
    if d.get("mapping") is not None:
        facts["mapping"] = d["mapping"]
    return {**result, "spec": d["spec"], "provenance": {**facts, **prov}}


def check_result_json(obj: Any, path: str = "$", advice: str | None = None) -> EvaluationResult:
    """Read a stored probity-evaluation/1 result embedded in another document (e.g. a
    comparison dossier's per-model result) through the same type and sense checks;
    :class:`Invalid` names the JSON path (under ``path``) and the problem, with ``advice`` in
    place of "re-run the evaluation to replace it" when given (e.g. "re-run the comparison")."""
    try:
        return EvaluationResult.from_json(obj, path)
    except ResultFormatError as exc:
        problem = exc.problem if advice is None else exc.problem.replace(SENSE_ADVICE, advice)
        raise Invalid(exc.path, problem) from None
    except RecursionError:  # nesting the codec cannot walk
        raise Invalid(path, "nested too deeply to be an evaluation result") from None


# ---------------------------------------------------------------------------- the run


def document_demographics(
    doc: Assessment,
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """(training demographics, reference population) as the evaluation spec takes them."""
    training = {
        str(a): {str(g): float(c) for g, c in groups.items()}
        for a, groups in (doc.training_demographics or {}).items()
    }
    population = {
        str(a): {str(g): float(p) for g, p in groups.items()}
        for a, groups in (doc.reference_population or {}).items()
    }
    return training, population


def evaluation_config(
    table: LoadedTable, mapping: ColumnMapping, spec: EvaluationSpec, path: str | Path | None
) -> dict[str, Any]:
    """The run configuration (schema 1's shape): what to re-run with (:func:`store_evaluation`)."""
    return {
        "file": str(path) if path else None,
        "file_name": table.file_name,
        "sha256": table.sha256,
        "sheet": table.sheet,
        "mapping": mapping.to_json(),
        "spec": spec.to_json(),
    }


def store_evaluation(
    doc: Assessment, config: dict[str, Any], result: EvaluationResult | dict[str, Any]
) -> None:
    """Replace the document's evaluation with this run (one audited, undoable change).

    The record holds what the result was computed with; ``config`` adds the data file's path.
    """
    typed = result if isinstance(result, EvaluationResult) else EvaluationResult.from_json(result)
    doc.set_evaluation_record(EvaluationRecord.of_run(typed, path=config.get("file")))


__all__ = [
    "RECORD_SCHEMA",
    "DataFile",
    "check_result_json",
    "EvaluationRecord",
    "document_demographics",
    "evaluation_config",
    "store_evaluation",
]
