"""Gates of a locked evaluation plan, per model (the hook for issue 12's ``assessment.plan``).

The comparison applies one plan to every model's evaluation result, so the dossier can say
which model passes every gate. The plan module is being built alongside this one; until it is
part of this build, ``--plan`` is refused with a sentence saying so rather than ignored.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from assessment.compare.sources import ModelSource
from assessment.errors import DataError


def model_gates(plan_path: Path, models: list[ModelSource]) -> list[dict[str, Any]]:
    """Per model: {"model", "verdict", "gates": [...]} from the plan's own gate checker."""
    try:
        importlib.import_module("assessment.plan")
    except ModuleNotFoundError:
        raise DataError(
            f"--plan {plan_path.name}: this build of Probity has no evaluation-plan module yet "
            "(issue 12), so gates cannot be checked; run the comparison without --plan."
        ) from None
    raise DataError(  # pragma: no cover - wired once assessment.plan exposes its gate checker
        f"--plan {plan_path.name}: the evaluation-plan module does not yet expose a gate "
        "checker the comparison can call; run the comparison without --plan."
    )
