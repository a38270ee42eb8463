"""Typed, user-facing errors.

Every failure a user can cause (a broken file, a wrong column, a bad passphrase) is raised as a
:class:`ProbityError` whose ``message`` is one plain sentence naming the file, row or column and
what to do. The GUI's error funnel and the CLI print ``message`` and nothing else.
"""

from __future__ import annotations


class ProbityError(Exception):
    """Base of all user-facing errors."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class DocumentError(ProbityError):
    """An assessment file cannot be read, is damaged, or is from a newer Probity."""


class InstrumentError(ProbityError):
    """An instrument definition under resources/instruments is invalid."""


class DataError(ProbityError):
    """Validation data cannot be read or mapped (names the column/row and the fix)."""


class EvaluationError(ProbityError):
    """The evaluation cannot be computed with the given specification."""


class ReportError(ProbityError):
    """The PDF report cannot be built, signed or verified."""


class Cancelled(ProbityError):
    """The user cancelled a long-running job."""

    def __init__(self, message: str = "Cancelled by the user.") -> None:
        super().__init__(message)
