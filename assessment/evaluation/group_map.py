"""The group-label map: which datasheet category each value of a data attribute counts as.

Data files and datasheets name the same people differently (COMPAS says "Caucasian" and
"African-American" where the OMB categories of a datasheet say "White" and "Black or African
American"); without a map every such group looks absent from one side and over-represented on
the other. A map is {data attribute: {data value: datasheet category}}; several values may map
to one category. Values that match no category and have no entry are *unmapped*: the
representativeness check shows them and leaves them out of the comparison.

:func:`suggest_group_map` proposes entries from normalised names and a small synonym table;
the reviewer confirms or edits them (GUI), or gives a CSV (``--group-map``).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from assessment.errors import DataError, DocumentError

GroupMap = dict[str, dict[str, str]]

#: How a value without a category is shown (GUI map table, report map table).
UNMAPPED_LABEL = "(unmapped: not compared)"
#: The start of the representativeness reason of an unmapped value's row.
UNMAPPED_REASON = "not mapped to a datasheet category"

#: Largest --group-map file read (one short row per data value).
MAX_GROUP_MAP_BYTES = 4 * 1024 * 1024

#: Datasheet category -> other names data files use for it (compared after :func:`normalise`).
#: Kept small and unambiguous: a label that could mean two categories is not listed.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "White": ("caucasian", "white american", "european american"),
    "Black or African American": ("black", "african american", "african-american", "afr am"),
    "American Indian or Alaska Native": (
        "native american",
        "american indian",
        "alaska native",
        "american indian alaska native",
        "aian",
    ),
    "Asian": ("asian american", "asian-american"),
    "Native Hawaiian or Other Pacific Islander": (
        "pacific islander",
        "native hawaiian",
        "nhpi",
        "native hawaiian pacific islander",
    ),
    "Hispanic or Latino": ("hispanic", "latino", "latina", "latinx", "hispanic latino"),
    "Not Hispanic or Latino": ("non-hispanic", "not hispanic", "non hispanic"),
    "Female": ("f", "woman", "women", "girl"),
    "Male": ("m", "man", "men", "boy"),
    "Unknown": ("unknown", "not reported", "not known", "unk"),
}


def normalise(label: str) -> str:
    """Case, hyphens, underscores, slashes and spacing ignored ("African-American" = "african
    american")."""
    return " ".join(re.sub(r"[-_/]+", " ", label).casefold().split())


def _synonym_index(categories: list[str]) -> dict[str, str]:
    index: dict[str, str] = {}
    by_norm = {normalise(c): c for c in categories}
    for canonical, names in SYNONYMS.items():
        target = by_norm.get(normalise(canonical))
        if target is None:
            continue
        for name in names:
            index.setdefault(normalise(name), target)
    return index


def suggest_value(value: str, categories: list[str]) -> str | None:
    """The category ``value`` most likely means: same normalised name, else a synonym."""
    by_norm = {normalise(c): c for c in categories}
    key = normalise(value)
    if key in by_norm:
        return by_norm[key]
    return _synonym_index(categories).get(key)


def suggest_group_map(values: list[str], categories: list[str]) -> dict[str, str]:
    """{data value: category} for the values that can be matched; the rest stay unmapped."""
    out: dict[str, str] = {}
    for v in values:
        hit = suggest_value(v, categories)
        if hit is not None:
            out[v] = hit
    return out


def entry_for(group_map: GroupMap, attribute: str) -> dict[str, str]:
    """The map of one data attribute (attribute names matched ignoring case and spacing)."""
    if attribute in group_map:
        return group_map[attribute]
    key = normalise(attribute)
    for name, entry in group_map.items():
        if normalise(name) == key:
            return entry
    return {}


def resolve(
    levels: list[str], entry: dict[str, str], categories: list[str]
) -> dict[str, str | None]:
    """{data value: category or None (unmapped)}.

    The map's entry wins; a value without one counts as the category of the same normalised
    name (so identical labels need no entry). Synonyms are only *suggested*, never applied
    silently: the reviewer confirms them into the map.
    """
    by_norm = {normalise(c): c for c in categories}
    entry_norm = {normalise(k): v for k, v in entry.items()}
    out: dict[str, str | None] = {}
    for level in levels:
        target = entry.get(level) or entry_norm.get(normalise(level))
        if target is not None:  # a category the figures do not list counts as unmapped
            out[level] = by_norm.get(normalise(target))
        else:
            out[level] = by_norm.get(normalise(level))
    return out


def unknown_category_problem(
    attribute: str, value: str, category: str, categories: list[str]
) -> str | None:
    """The sentence naming a map row whose category is not one of the datasheet's categories
    for that attribute (None when it is, or when the datasheet gives no categories to check)."""
    if not categories or normalise(category) in {normalise(c) for c in categories}:
        return None
    return (
        f"the map row {attribute},{value},{category} names {category!r}, which is not a "
        f"datasheet category of {attribute} (its categories: {', '.join(categories)}); "
        "choose one of them or remove the row"
    )


def check_map_categories(
    group_map: GroupMap, categories_of: dict[str, list[str]], source: str
) -> None:
    """DataError naming the first row of ``group_map`` whose category the datasheet (or
    population) figures of its attribute do not have; ``categories_of`` maps each data
    attribute to those categories (attributes without figures are not checked)."""
    for attr, cats in categories_of.items():
        for value, category in sorted(entry_for(group_map, attr).items()):
            problem = unknown_category_problem(attr, value, category, cats)
            if problem is not None:
                raise DataError(f"{source}: {problem}.")


# ------------------------------------------------------------------ files and JSON


def read_group_map_csv(path: Path) -> GroupMap:
    """{attribute: {data value: category}} from a CSV with header attribute,data_value,category.

    One row per data value; a value listed twice with different categories is refused.
    """
    from assessment.fileio import read_regular_bytes

    name = Path(path).name
    data = read_regular_bytes(
        path,
        what="--group-map CSV file",
        max_bytes=MAX_GROUP_MAP_BYTES,
        error=DataError,
        limit_hint="it should hold one short row per data value",
    )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"--group-map: {name} is not UTF-8 text; save it as CSV UTF-8.") from None
    if "\x00" in text:
        raise DataError(f"--group-map: {name} is not a text CSV file (it holds NUL bytes).")
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise DataError(f"--group-map: {name} is not a readable CSV file ({exc}).") from None
    header = [normalise(c).replace(" ", "_") for c in rows[0]] if rows else []
    if header[:3] != ["attribute", "data_value", "category"]:
        raise DataError(
            f"--group-map: {name} needs the header row 'attribute,data_value,category' and one "
            "row per data value."
        )
    out: GroupMap = {}
    for i, row in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in row]
        if len(cells) < 3 or not all(cells[:3]):
            raise DataError(
                f"--group-map: row {i} of {name} needs an attribute, a data value and a category."
            )
        attr, value, category = cells[:3]
        entry = out.setdefault(attr, {})
        if value in entry and entry[value] != category:
            raise DataError(
                f"--group-map: {attr} = {value} is mapped to both {entry[value]!r} and "
                f"{category!r} in {name}; keep one row."
            )
        entry[value] = category
    if not out:
        raise DataError(f"--group-map: {name} has a header but no rows.")
    return out


def check_group_map(value: Any, where: str) -> GroupMap:
    """The document's group maps, or DocumentError naming the JSON path of the problem."""
    if not isinstance(value, dict):
        raise DocumentError(f"{where}: expected an object, got {type(value).__name__}")
    for attr, entry in value.items():
        if not isinstance(entry, dict):
            raise DocumentError(f"{where}[{attr!r}]: expected an object of value: category")
        for data_value, category in entry.items():
            if not isinstance(category, str) or not category.strip():
                raise DocumentError(
                    f"{where}[{attr!r}][{data_value!r}]: expected a category name (text)"
                )
    return value


def clean_group_map(group_map: GroupMap) -> GroupMap:
    """A copy without blank entries and attributes (what the document and spec store)."""
    out: GroupMap = {}
    for attr, entry in group_map.items():
        kept = {str(k): str(v).strip() for k, v in entry.items() if str(v).strip()}
        if kept:
            out[str(attr)] = kept
    return out


def map_rows(group_map: GroupMap) -> list[tuple[str, str, str]]:
    """(attribute, data value, category) rows, sorted, for tables and the CSV form."""
    return sorted((a, v, c) for a, entry in group_map.items() for v, c in entry.items())


def group_map_arg(path: str | None, document: Any = None) -> GroupMap:
    """``--group-map``: the CSV's map, else the assessment's (``--into``), else none."""
    if path:
        return read_group_map_csv(Path(path))
    if document is not None:
        return dict(document.group_maps)
    return {}


__all__ = [
    "UNMAPPED_LABEL",
    "UNMAPPED_REASON",

    "group_map_arg",
    "SYNONYMS",
    "GroupMap",
    "check_group_map",
    "check_map_categories",
    "unknown_category_problem",
    "clean_group_map",
    "entry_for",
    "map_rows",
    "normalise",
    "read_group_map_csv",
    "resolve",
    "suggest_group_map",
    "suggest_value",
]
