"""Expected group sizes for ``plan check``: a sizes CSV, or the data's counts without outcomes.

A sizes file has the header ``attribute,group,n,events`` and one row per group (the overall
population as ``(all),All,…``; intersections as ``race×sex,Black×F,…``; without a ``(all)`` row
the overall size is the sum of the first attribute's groups). From the data, only the attribute
and score columns are read — never the outcome: the expected events of a group are the sum of
its predicted probabilities (the events a calibrated model expects), and the linear predictors
(logit of the probabilities) feed the calibration-slope variance.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assessment.plan.model import Plan, PlanError
from assessment.plan.power import GroupSize, Sizes
from assessment.plan.verdicts import OVERALL_ID

if TYPE_CHECKING:
    import pandas as pd

MAX_SIZES_BYTES = 4 * 1024 * 1024
CLIP = 1e-6


def read_sizes(path: str | Path) -> Sizes:
    """{(attribute, group): GroupSize} from a sizes CSV; one-sentence PlanError otherwise."""
    from assessment.fileio import read_regular_bytes

    name = Path(path).name
    raw = read_regular_bytes(
        path, what="sizes file", max_bytes=MAX_SIZES_BYTES, error=PlanError,
        limit_hint="it holds one short row per group",
    )  # fmt: skip
    try:
        text = raw.decode("utf-8-sig")
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise PlanError(f"{name} is not a readable UTF-8 CSV file ({exc}).") from None
    header = [c.strip().lower() for c in rows[0]] if rows else []
    if header[:4] != ["attribute", "group", "n", "events"] or len(rows) < 2:
        raise PlanError(f"{name} needs the header 'attribute,group,n,events' and a row per group.")
    out: Sizes = {}
    for i, row in enumerate(rows[1:], start=2):
        if len(row) < 4:
            raise PlanError(f"Row {i} of {name} has fewer than 4 cells.")
        attr, group = row[0].strip(), row[1].strip()
        try:
            n, events = int(row[2]), float(row[3])
        except ValueError:
            raise PlanError(
                f"Row {i} of {name}: n must be a whole number and events a number."
            ) from None
        if not attr or not group or n < 0 or not 0 <= events <= n:
            raise PlanError(f"Row {i} of {name}: need attribute, group and 0 <= events <= n.")
        if (attr, group) in out:
            raise PlanError(f"{attr} = {group} appears twice in {name}.")
        out[(attr, group)] = GroupSize(n, events)
    if OVERALL_ID not in out:
        first = next(a for a, _ in out)
        mine = [s for (a, _), s in out.items() if a == first]
        out[OVERALL_ID] = GroupSize(sum(s.n for s in mine), sum(s.events for s in mine))
    return out


def sizes_from_frame(plan: Plan, frame: pd.DataFrame) -> Sizes:
    """Group sizes and expected events from the plan's attribute and score columns."""
    import pandas as pd

    if plan.score is None or plan.score_kind != "probability":
        raise PlanError(
            "--data gives expected events only from predicted probabilities; this plan has no "
            "probability score column, so give --sizes FILE.csv (attribute,group,n,events)."
        )
    missing = [c for c in (plan.score, *plan.attributes) if c not in frame.columns]
    if missing:
        raise PlanError(f"The data have no column {missing[0]!r} named by the plan.")
    p = pd.to_numeric(frame[plan.score], errors="coerce").to_numpy(dtype=np.float64)
    ok = np.isfinite(p) & (p >= 0) & (p <= 1)
    if not ok.any():
        raise PlanError(f"The score column {plan.score!r} holds no probabilities in [0, 1].")
    p = p[ok]
    lp = np.log(np.clip(p, CLIP, 1 - CLIP)) - np.log1p(-np.clip(p, CLIP, 1 - CLIP))
    labels = {a: frame[a].astype(str).to_numpy()[ok] for a in plan.attributes}
    for combo in plan.intersections:
        labels["×".join(combo)] = np.array(
            ["×".join(v) for v in zip(*(labels[c] for c in combo), strict=True)]
        )
    out: Sizes = {OVERALL_ID: GroupSize(int(p.size), float(p.sum()), lp)}
    for attr, values in labels.items():
        for group in sorted(set(values.tolist())):
            mask = values == group
            out[(attr, str(group))] = GroupSize(int(mask.sum()), float(p[mask].sum()), lp[mask])
    return out
