"""The Comparison page's read limits: the app's own (as raised on the Validation data page),
and, for a file over one, the offer to raise it and run the comparison again.

``compare`` on the command line takes ``--max-file-mb`` … (:mod:`assessment.evaluation.limits`);
the page sets the same options from the app's settings, so a file the data page was allowed to
read is allowed here too, and a refusal names no option the page does not have.
"""

from __future__ import annotations

import argparse
from typing import Any

from assessment.evaluation.limits import LIMIT_OPTIONS, LimitError, ReadLimits


def app_limits(ctx: Any) -> ReadLimits:
    """The read limits stored in the app's settings (the defaults without settings)."""
    settings = getattr(ctx, "settings", None)
    return ReadLimits.from_json(settings.get("read_limits") if settings else None)


def with_limits(args: argparse.Namespace, limits: ReadLimits) -> argparse.Namespace:
    """``args`` with every read-limit option set from ``limits``."""
    return argparse.Namespace(**{**vars(args),
                                 **{k: getattr(limits, k) for k in LIMIT_OPTIONS}})


def offer_raised_limit(ctx: Any, exc: BaseException) -> bool | None:
    """A comparison refused over a read limit: ask whether to raise it (stored in the
    settings, as the data page does). None: not a limit refusal; True: raised, run again;
    False: the reviewer declined."""
    if not isinstance(exc, LimitError):
        return None
    limits = app_limits(ctx)
    raised = limits.raised(exc.limit, exc.needed if exc.needed else
                           getattr(limits, exc.limit) * 4)
    question = (f"{exc.message}\n\nRaise this limit to {getattr(raised, exc.limit):,g} and run "
                "the comparison again? A very large file can take minutes and gigabytes of "
                "memory.")
    if not ctx.ask_yes_no("Data file over a limit", question):
        return False
    settings = getattr(ctx, "settings", None)
    if settings is not None:
        settings.set("read_limits", raised.to_json())
    return True
