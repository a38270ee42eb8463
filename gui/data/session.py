"""What the data page hands the results page besides the document: the loaded data in memory.

The document stores the evaluation's config and its JSON snapshot (that is what is saved and
signed). The prepared :class:`~assessment.evaluation.inputs.EvaluationInput` lives only in
memory: the results page uses it for the engine's threshold fast path. When an assessment is
reopened without its data, the results page falls back to the snapshot's threshold grid.

One session per :class:`~gui.context.AppContext`, kept as a named child QObject so the pages,
which are built independently as ``Page(ctx)``, find the same one without a global registry.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

_NAME = "probity-evaluation-session"


class EvaluationSession(QObject):
    """In-memory evaluation state shared by the data and results pages."""

    inputs_changed = Signal()
    result_changed = Signal()
    rerun_requested = Signal(float)  # the results page: run again at this threshold

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(_NAME)
        self.inputs: Any = None  # EvaluationInput of the last run, or None
        self.spec: Any = None  # EvaluationSpec of the last run, or None
        self.result: dict[str, Any] | None = None  # JSON snapshot of the last run
        self.storing = False  # True while the data page writes this run into the document

    @classmethod
    def of(cls, ctx: QObject) -> EvaluationSession:
        """The context's session, created on first use."""
        found = ctx.findChild(EvaluationSession, _NAME)
        if isinstance(found, EvaluationSession):
            return found
        return cls(ctx)

    def set_run(self, inputs: Any, spec: Any, result: dict[str, Any]) -> None:
        self.inputs, self.spec, self.result = inputs, spec, result
        self.result_changed.emit()

    def clear(self) -> None:
        """Forget the in-memory data (the document keeps its snapshot)."""
        self.inputs = self.spec = self.result = None

    def matches(self, result: dict[str, Any] | None) -> bool:
        """True when ``result`` is the snapshot of this session's run (same data, same time)."""
        if result is None or self.result is None:
            return False
        return bool(
            result.get("created") == self.result.get("created")
            and (result.get("provenance") or {}).get("sha256")
            == (self.result.get("provenance") or {}).get("sha256")
        )
