"""The one-background-job rule shared by the export page and the verify dialog.

Kept apart so that neither imports the other (the page opens the dialog; both check this).
"""

from __future__ import annotations

from typing import Any


def worker_free(ctx: Any) -> bool:
    """One background job at a time: starting another would cancel a running evaluation."""
    if ctx.current_job is None:
        return True
    from assessment.errors import ProbityError

    ctx.show_error(
        ProbityError(
            "Another task (reading a file, an evaluation or an export) is still running; wait "
            "for it to finish or cancel it, then try again."
        )
    )
    return False
