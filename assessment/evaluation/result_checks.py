"""Shape checks of the free-form parts of a stored result: provenance, settings, threshold grid.

The typed parts of a result are read by the generic codec (:mod:`assessment.codec`); these three
fields keep an open JSON shape (other engineers add provenance keys, the grid has one series per
metric), so their keys are checked here, path by path, in the codec's words.
"""

from __future__ import annotations

from typing import Any

from assessment.errors import EvaluationError
from assessment.jsoncheck import (
    Invalid,
    expect_int,
    expect_list,
    expect_num,
    expect_obj,
    expect_str,
    expect_strings,
    key_path,
    required,
    show,
)

_NUMBER_TYPES = (float, int, type(None))


def numbers(v: Any, path: str) -> list[float | None]:
    """A list of numbers or nulls (curves, the threshold grid)."""
    from assessment.codec import clean

    values = expect_list(v, path)
    for i, x in enumerate(values):
        if type(x) not in _NUMBER_TYPES:  # bool is not a number here
            expect_num(x, f"{path}[{i}]", null=True)
    return [clean(x) for x in values]


def check_provenance(p: Any, path: str) -> None:
    """The provenance keys the report and the GUI read from the stored result."""
    expect_obj(p, path)
    for key in ("file_name", "sha256", "sheet"):
        expect_str(p.get(key), key_path(path, key), null=True)
    for key in ("rows_read", "rows_used", "rows_excluded"):
        expect_int(p.get(key), key_path(path, key), null=True, minimum=0)
    excluded = expect_obj(p.get("excluded", {}), f"{path}.excluded")
    for k, v in excluded.items():
        expect_int(v, key_path(f"{path}.excluded", k), minimum=0)
    mapping = p.get("mapping")
    if mapping is not None:
        check_mapping_json(mapping, f"{path}.mapping")


def check_mapping_json(m: Any, path: str) -> None:
    """The JSON shape of a stored column mapping (``ColumnMapping.to_json``), path by path.

    Checked here rather than by ``ColumnMapping.from_json`` so that opening a document does not
    import NumPy (the mapping module needs it); the keys are those of ``to_json``.
    """
    expect_obj(m, path)
    for key in ("label", "score", "prediction"):
        expect_str(m.get(key), key_path(path, key), null=True)
    for key in ("positive", "prediction_positive"):
        v = m.get(key)
        if isinstance(v, list):
            expect_strings(v, key_path(path, key))
        else:
            expect_str(v, key_path(path, key), null=True)
    kind = m.get("score_kind", "probability")
    if kind not in ("probability", "score"):
        raise Invalid(f"{path}.score_kind", f'expected "probability" or "score", got {show(kind)}')
    expect_num(m.get("threshold"), f"{path}.threshold", null=True)
    expect_strings(m.get("attributes") or [], f"{path}.attributes")
    expect_strings(m.get("missing", []), f"{path}.missing")
    bins = expect_obj(m.get("bins") or {}, f"{path}.bins")
    for k, edges in bins.items():
        numbers(edges, key_path(f"{path}.bins", k))


def check_spec(spec: Any, path: str) -> None:
    """The settings as stored with the result (read back by the report and the GUI)."""
    from assessment.evaluation.spec import EvaluationSpec

    expect_obj(spec, path)
    intersections = expect_list(spec.get("intersections", []), f"{path}.intersections")
    for i, combo in enumerate(intersections):
        expect_strings(combo, f"{path}.intersections[{i}]")
    try:
        EvaluationSpec.from_json(spec)
    except EvaluationError as exc:
        raise Invalid(path, exc.message.rstrip(".")) from exc
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise Invalid(path, f"malformed settings ({type(exc).__name__}: {exc})") from exc


def check_grid(grid: Any, path: str) -> None:
    """Thresholds and, per group, one value (or null) per threshold for each grid metric."""
    expect_obj(grid, path)
    thresholds = numbers(grid.get("thresholds", []), f"{path}.thresholds")
    if any(t is None for t in thresholds):
        raise Invalid(f"{path}.thresholds", "expected numbers only, got a null")
    for i, g in enumerate(expect_list(grid.get("groups", []), f"{path}.groups")):
        gpath = f"{path}.groups[{i}]"
        expect_obj(g, gpath)
        for key in ("attribute", "group"):
            expect_str(required(g, key, gpath), key_path(gpath, key))
        for key, series in g.items():
            if key in ("attribute", "group"):
                continue
            values = numbers(series, key_path(gpath, key))
            if len(values) != len(thresholds):
                raise Invalid(
                    key_path(gpath, key),
                    f"expected {len(thresholds)} values (one per threshold), got {len(values)}",
                )


def check_counts(v: Any, path: str) -> None:
    """{reason: count} with whole, non-negative counts."""
    for k, x in expect_obj(v, path).items():
        expect_int(x, key_path(path, k), minimum=0)
