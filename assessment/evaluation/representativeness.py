"""Representativeness: is each group as common in the validation data as in the training cohort
and in the population the model is meant for? (The sampling-bias check of the PROBAST
participants domain.)

Shares compare like with like: a known group's validation share is its count over the rows with
a known value of that attribute, because training demographics and population figures describe
known values only; the "(missing)" group is reported as a share of all rows and not compared.
Data values count as the datasheet category the group-label map gives them; a value matching no
category is "unmapped": shown, not compared, but kept in the denominator, so while an attribute
has unmapped values each category's share is a lower bound and only over-representation is
flagged.
A group is flagged when its validation share divided by the comparison share falls outside the
spec's ratio tolerance (default 0.8–1.25), or when it is absent from the validation data.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from assessment.evaluation.group_map import (
    UNMAPPED_REASON,
    entry_for,
    normalise,
    resolve,
    suggest_value,
    unknown_category_problem,
)
from assessment.evaluation.inputs import MISSING_GROUP, EvaluationInput
from assessment.evaluation.result import RepresentativenessRow
from assessment.evaluation.spec import EvaluationSpec


def group_key(label: str) -> str:
    """Case-, space- and padding-insensitive group key ("Black " matches "black").

    The one normaliser for joining group names across the data, the datasheet and the reference
    population (the engine's representativeness check and the report's tables both use it)."""
    return " ".join(label.strip().casefold().split())


def _lookup(source: dict[str, dict[str, float]], name: str) -> dict[str, float] | None:
    if name in source:
        return source[name]
    key = group_key(name)
    for k, v in source.items():
        if group_key(k) == key:
            return v
    return None


# Names that denote the same demographic attribute in data files and datasheets.
_EQUIVALENT_NAMES: tuple[frozenset[str], ...] = (
    frozenset({"sex", "gender"}),
    frozenset({"age band", "age group", "agegroup", "age cat", "age"}),
    frozenset({"race"}),
    frozenset({"ethnicity", "ethnic group", "ethnic"}),
)


def _name_class(name: str) -> frozenset[str] | None:
    key = group_key(name.replace("_", " "))
    return next((c for c in _EQUIVALENT_NAMES if key in c), None)


def suggest_demographics_map(
    attributes: list[str], demographics: dict[str, dict[str, float]]
) -> dict[str, str]:
    """{data attribute: demographics attribute} for attributes that are named differently.

    An attribute whose name already matches (ignoring case and spacing) needs no entry; others
    are matched through names that mean the same ("gender" and "sex", "age_cat" and
    "age_band"), in either direction. Each demographics attribute is used at most once; anything
    ambiguous is left unmapped for the user rather than guessed.
    """
    targets = {group_key(t): t for t in demographics}
    used = {targets[group_key(a)] for a in attributes if group_key(a) in targets}
    out: dict[str, str] = {}
    for attr in attributes:
        cls = _name_class(attr)
        if group_key(attr) in targets or cls is None:
            continue
        hits = [t for t in demographics if t not in used and _name_class(t) == cls]
        if len(hits) == 1:
            out[attr] = hits[0]
            used.add(hits[0])
    return out


def _shares(dist: dict[str, float] | None) -> dict[str, float] | None:
    if not dist:
        return None
    total = float(sum(dist.values()))
    if total <= 0:
        return None
    return {group_key(k): float(v) / total for k, v in dist.items()}


def _flag(
    share: float | None, comp: float | None, what: str, spec: EvaluationSpec
) -> tuple[str | None, str | None]:
    if comp is None or share is None:
        return None, None
    tol = spec.tolerance
    if comp > 0 and share == 0:
        return "absent_in_validation", f"no validation rows, {100 * comp:.1f}% in the {what}"
    if comp == 0:
        if share > 0:
            return "over_represented", f"{100 * share:.1f}% of validation rows, 0% in the {what}"
        return None, None
    ratio = share / comp
    if ratio < tol.ratio_low:
        return "under_represented", (
            f"{100 * share:.1f}% of validation rows vs {100 * comp:.1f}% in the {what} "
            f"(ratio {ratio:.2f} < {tol.ratio_low:g})"
        )
    if ratio > tol.ratio_high:
        return "over_represented", (
            f"{100 * share:.1f}% of validation rows vs {100 * comp:.1f}% in the {what} "
            f"(ratio {ratio:.2f} > {tol.ratio_high:g})"
        )
    return None, None


_PRIORITY = {"absent_in_validation": 0, "under_represented": 1, "over_represented": 2}


def representativeness(
    inputs: EvaluationInput, spec: EvaluationSpec
) -> tuple[list[RepresentativenessRow], list[str]]:
    """One row per (attribute, group) for attributes with training or population figures.

    Data values are counted as the datasheet category the spec's group-label map assigns them
    (several values may count as one category); a value with no entry counts as the category
    of the same name; a value matching no category is *unmapped*: shown, not compared, and
    left out of the shares' denominator, as missing values are.
    """
    rows: list[RepresentativenessRow] = []
    notes: list[str] = []
    for attr in inputs.attributes:
        target = spec.demographics_map.get(attr.name, attr.name)
        training = _shares(_lookup(spec.training_demographics, target))
        population = _shares(_lookup(spec.reference_population, target))
        if training is None and population is None:
            continue
        counts = np.bincount(np.asarray(attr.codes), minlength=len(attr.levels))
        total = int(counts.sum())
        categories = _categories(spec, target)
        entry = entry_for(spec.group_map, attr.name)
        mapping = resolve([lv for lv in attr.levels if lv != MISSING_GROUP], entry, categories)
        by_category: dict[str, int] = {}
        unmapped: list[tuple[str, int]] = []
        shown: dict[str, str] = {}
        missing = 0
        for level, cnt in zip(attr.levels, counts, strict=True):
            if level == MISSING_GROUP:
                missing += int(cnt)
                continue
            category = mapping[level]
            if category is None:
                unmapped.append((level, int(cnt)))
            else:
                by_category[category] = by_category.get(category, 0) + int(cnt)
                if group_key(level) == group_key(category):
                    shown.setdefault(category, level)  # the data's own spelling of the name
        # While values are unmapped the denominator keeps them (they have a known value, just
        # not a category yet): each category's share is then a lower bound of its true share.
        known = total - missing
        seen: set[str] = set()
        for category, cnt in by_category.items():
            key = group_key(category)
            seen.add(key)
            share = float(cnt) / known if known else None
            label = shown.get(category, category)
            row = _row(attr.name, label, cnt, share, training, population, key, spec)
            rows.append(_guard(row, unmapped))
        extra = sorted({k for src in (training, population) if src for k in src} - seen)
        for key in extra:
            label = _original_label(spec, target, key)
            row = _row(attr.name, label, 0, 0.0 if known else None, training, population, key, spec)
            rows.append(_guard(row, unmapped))
        for level, cnt in unmapped:
            rows.append(_plain_row(attr.name, level, cnt, total, _UNMAPPED_REASON))
        if missing or MISSING_GROUP in attr.levels:
            rows.append(
                _plain_row(
                    attr.name,
                    MISSING_GROUP,
                    missing,
                    total,
                    "share of all rows; missing values are not compared",
                )
            )
        # a value the map sends to a category the datasheet lacks: the map row is named, not
        # the data value
        wrong = {v: unknown_category_problem(attr.name, v, mapped_to, categories)
                 for v, _ in unmapped if (mapped_to := _entry_target(entry, v)) is not None}
        notes += [f"representativeness: {p}; {v} is not compared until then." for v, p in
                  wrong.items() if p is not None]
        unmapped_data = [(v, n) for v, n in unmapped if wrong.get(v) is None]
        notes += _mapping_notes(attr.name, mapping, extra, unmapped_data, categories)
    return rows, notes


_UNMAPPED_REASON = (
    f"{UNMAPPED_REASON}: shown as a share of all rows, not compared (map it in the "
    "group-label map)"
)


def _guard(row: RepresentativenessRow, unmapped: list[tuple[str, int]]) -> RepresentativenessRow:
    """While some values are unmapped a category's share is a lower bound (its rows may be
    among the unmapped values): over-representation still stands, under-representation and
    absence are not claimed until every value is mapped."""
    if not unmapped or row.flag == "over_represented":
        return row
    if row.flag is None and row.validation_n:
        return row
    return replace(row, flag=None, reason=(
        "share is a lower bound while "
        + ", ".join(v for v, _ in unmapped)
        + " are unmapped: under-representation is not flagged until they are mapped"
    ))


def _entry_target(entry: dict[str, str], value: str) -> str | None:
    """The category the map's entry gives ``value`` (names matched as :func:`resolve` does)."""
    if value in entry:
        return entry[value]
    return {normalise(k): v for k, v in entry.items()}.get(normalise(value))


def map_categories(spec: EvaluationSpec, attributes: list[str]) -> dict[str, list[str]]:
    """{data attribute: the datasheet and population categories it is compared with}."""
    return {a: _categories(spec, spec.demographics_map.get(a, a)) for a in attributes}


def _categories(spec: EvaluationSpec, target: str) -> list[str]:
    out: list[str] = []
    for src in (spec.training_demographics, spec.reference_population):
        for k in _lookup(src, target) or {}:
            if all(group_key(k) != group_key(o) for o in out):
                out.append(k)
    return out


def _plain_row(
    attribute: str, group: str, count: int, total: int, reason: str
) -> RepresentativenessRow:
    return RepresentativenessRow(
        attribute=attribute,
        group=group,
        validation_n=count,
        validation_share=float(count) / total if total else None,
        training_share=None,
        reference_share=None,
        difference_training=None,
        difference_reference=None,
        flag=None,
        reason=reason,
    )


def _mapping_notes(
    attribute: str,
    mapping: dict[str, str | None],
    extra: list[str],
    unmapped: list[tuple[str, int]],
    categories: list[str],
) -> list[str]:
    notes: list[str] = []
    renamed = [f"{v} → {c}" for v, c in mapping.items() if c is not None and v != c]
    if renamed:
        notes.append(
            f"representativeness: {attribute} values counted as datasheet categories: "
            + "; ".join(renamed)
            + "."
        )
    if unmapped:
        hints = [
            f"{v} → {c}"
            for v, _ in unmapped
            if (c := suggest_value(v, categories)) is not None
        ]
        notes.append(
            f"representativeness: {attribute} values "
            + ", ".join(v for v, _ in unmapped)
            + " match no datasheet category and are not compared; map them in the "
            "group-label map (GUI) or with --group-map (CLI)"
            + (f" (suggested: {'; '.join(hints)})" if hints else "")
            + "."
        )
    if extra:
        notes.append(
            f"representativeness: {attribute} groups {', '.join(extra)} appear in the "
            "training or population figures but not in the validation data (names are "
            "matched case-insensitively, after the group-label map)."
        )
    return notes


def _original_label(spec: EvaluationSpec, target: str, key: str) -> str:
    for src in (spec.training_demographics, spec.reference_population):
        dist = _lookup(src, target) or {}
        for k in dist:
            if group_key(k) == key:
                return k
    return key


def _row(
    attribute: str,
    group: str,
    count: int,
    share: float | None,
    training: dict[str, float] | None,
    population: dict[str, float] | None,
    key: str,
    spec: EvaluationSpec,
) -> RepresentativenessRow:
    t = training.get(key, 0.0) if training is not None else None
    r = population.get(key, 0.0) if population is not None else None
    flags = [
        f
        for f in (
            _flag(share, t, "training cohort", spec),
            _flag(share, r, "reference population", spec),
        )
        if f[0]
    ]
    flags.sort(key=lambda f: _PRIORITY[f[0] or ""])
    flag = flags[0][0] if flags else None
    reason = "; ".join(f[1] for f in flags if f[1]) or None
    return RepresentativenessRow(
        attribute=attribute,
        group=group,
        validation_n=count,
        validation_share=share,
        training_share=t,
        reference_share=r,
        difference_training=None if (t is None or share is None) else share - t,
        difference_reference=None if (r is None or share is None) else share - r,
        flag=flag,
        reason=reason,
    )
