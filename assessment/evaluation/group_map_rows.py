"""The group-label map's rows for an editor: each data value of the document's last evaluation,
the datasheet category it counts as, and a suggestion (the GUI's table, kept free of Qt)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assessment.evaluation.group_map import (
    GroupMap,
    entry_for,
    normalise,
    resolve,
    suggest_value,
    unknown_category_problem,
)


@dataclass(frozen=True)
class MapRow:
    """One data value of the last evaluation, with the category it counts as."""

    attribute: str  # data attribute
    target: str  # the datasheet attribute it is compared with
    value: str
    n: int
    category: str | None  # what the map (or the same name) makes it; None: unmapped
    explicit: bool  # whether the map has an entry for it
    suggestion: str | None
    categories: tuple[str, ...]
    # the map's row for this value names a category the datasheet lacks: the sentence saying so
    problem: str | None = None
    wrong_category: str | None = None  # that category


def document_map_rows(doc: Any) -> list[MapRow]:
    """The data values of the document's last evaluation and what each counts as.

    Attributes and values come from the stored result (each single attribute's groups, not
    intersections; the missing group is left out); categories from the datasheet's training
    counts, the reference population and the datasheet form's category list.
    """
    from assessment.evaluation.inputs import MISSING_GROUP
    from assessment.evaluation.representativeness import suggest_demographics_map

    record = doc.evaluation  # EvaluationRecord | None (assessment.evaluation.record)
    result = record.result if record is not None else None
    groups_all = list(result.groups) if result is not None else []
    attributes = [str(a) for a in ((record.mapping or {}).get("attributes") or [])] if (
        record is not None) else []
    if not attributes:
        attributes = list(dict.fromkeys(g.attribute for g in groups_all if "×" not in g.attribute))
    training, population = doc.training_demographics, doc.reference_population
    stored = record.spec.demographics_map if record is not None and record.spec else {}
    suggested = suggest_demographics_map(attributes, {**population, **training})
    form_groups = _form_groups()
    rows: list[MapRow] = []
    for attr in attributes:
        target = str(stored.get(attr) or suggested.get(attr) or attr)
        categories: list[str] = []
        for source in (training, population, form_groups):
            for name, dist in source.items():
                if normalise(name) == normalise(target):
                    categories += [c for c in dist if normalise(c) not in
                                   {normalise(x) for x in categories}]
        entry = entry_for(doc.group_maps, attr)
        groups = [g for g in groups_all if g.attribute == attr and g.group != MISSING_GROUP]
        values = [g.group for g in groups]
        resolved = resolve(values, entry, categories)
        entry_norm = {normalise(k): v for k, v in entry.items()}
        for g, value in zip(groups, values, strict=True):
            mapped_to = entry.get(value) or entry_norm.get(normalise(value))
            problem = (unknown_category_problem(attr, value, mapped_to, categories)
                       if mapped_to is not None and resolved[value] is None else None)
            rows.append(MapRow(
                attribute=attr, target=target, value=value, n=g.n,
                category=resolved[value], explicit=value in entry,
                suggestion=suggest_value(value, categories), categories=tuple(categories),
                problem=problem, wrong_category=mapped_to if problem else None))
    return rows


def _form_groups() -> dict[str, list[str]]:
    """{datasheet attribute id: its category list} from the datasheet form (empty if broken)."""
    from assessment.errors import InstrumentError
    from assessment.instruments import load_form

    try:
        form = load_form("datasheet")
    except InstrumentError:
        return {}
    return {a.id: [g for g in a.groups] for _, f in form.iter_fields()
            for a in f.attributes}


def with_suggestions(group_map: GroupMap, rows: list[MapRow]) -> GroupMap:
    """``group_map`` plus the suggestion for every value that is unmapped now."""
    out = {a: dict(e) for a, e in group_map.items()}
    for r in rows:
        if r.category is None and r.suggestion is not None:
            out.setdefault(r.attribute, {})[r.value] = r.suggestion
    return out


__all__ = ["MapRow", "document_map_rows", "with_suggestions"]
