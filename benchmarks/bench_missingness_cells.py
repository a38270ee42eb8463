"""Time and memory of counting exclusions per intersection cell (missingness.with_intersections).

Synthetic rows with two attributes (6 × 10 levels: a 60-cell intersection) and a share of rows
excluded for a missing outcome or score. Measures what the import adds (recording the excluded
rows' levels and reasons, ``ExcludedRows.from_masks``) and what the engine adds (the cell counts,
``with_intersections``), each as wall time and tracemalloc peak, beside the time of the
groupings the engine builds anyway.

Usage: .venv/bin/python benchmarks/bench_missingness_cells.py [--rows N] [--excluded SHARE]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assessment.evaluation.groupings import build_groupings  # noqa: E402
from assessment.evaluation.inputs import (  # noqa: E402
    Attribute,
    EvaluationInput,
    ExcludedRows,
    Provenance,
)
from assessment.evaluation.missingness import with_intersections  # noqa: E402


def _measure(label: str, fn):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label}: {dt:.3f} s, peak {peak / 1e6:.1f} MB")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--excluded", type=float, default=0.1)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    n = args.rows
    race = rng.integers(0, 6, n).astype(np.int32)
    age = rng.integers(0, 10, n).astype(np.int32)
    u = rng.random(n)
    no_y = u < args.excluded / 2
    no_p = (u >= args.excluded / 2) & (u < args.excluded)
    attrs = (
        Attribute("race", race, tuple(f"r{i}" for i in range(6))),
        Attribute("age", age, tuple(f"a{i}" for i in range(10))),
    )
    masks = [("missing outcome", no_y), ("missing score", no_p)]
    ex = _measure("record excluded rows (import)", lambda: ExcludedRows.from_masks(attrs, masks))
    keep = ~(no_y | no_p)
    kept = tuple(Attribute(a.name, a.codes[keep], a.levels) for a in attrs)
    y = rng.random(int(keep.sum())) < 0.2
    excluded = {"missing outcome": int(no_y.sum()), "missing score": int(no_p.sum())}
    inp = EvaluationInput(y, None, y, "class", kept,
                          Provenance("bench", "0" * 64, n, int(keep.sum()), excluded),
                          excluded_rows=ex)
    groupings = _measure("groupings (engine, already built)",
                         lambda: build_groupings(inp, (("race", "age"),)))
    prov = _measure("cell counts (engine)", lambda: with_intersections(inp, groupings))
    cells = prov.rows_by_group["race×age"]
    assert sum(cells.values()) == n and len(cells) == 60
    print(f"{n:,} rows, {int((~keep).sum()):,} excluded, {len(cells)} cells; "
          f"excluded-row record {sum(a.codes.nbytes for a in ex.attributes) + ex.reason.nbytes:,}"
          " bytes")


if __name__ == "__main__":
    main()
