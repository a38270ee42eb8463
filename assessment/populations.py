"""Reference populations: bundled tables with their citation, and the reviewer's own CSV.

A reference population is {attribute: {group: proportion}} in the datasheet's attribute and
category names, so that the representativeness check compares it with the validation data
after the group-label map (:mod:`assessment.evaluation.group_map`). Bundled tables live under
``resources/populations/`` as the published counts, digit for digit, with the table id and
address of their source; the proportions are computed here, so anyone can check them against
the source. Where a datasheet category is not a printed line of the source (an age band that
crosses the census's five-year groups), the file states the rule and :func:`_derive` applies it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from assessment.errors import DataError, DocumentError

RESOURCE_PACKAGE = "resources"
RESOURCE_FOLDER = "populations"

#: Bundled table id -> file name under resources/populations.
POPULATION_FILES: Mapping[str, str] = MappingProxyType(
    {"us-census-2020": "us-census-2020.json"}
)

#: Keys of the document's record of where its reference population came from.
SOURCE_KEYS: tuple[str, ...] = ("id", "title", "year", "citation", "url", "edited")


@dataclass(frozen=True)
class SourceTable:
    """One source table of a bundled population (per attribute)."""

    attribute: str
    table: str
    citation: str
    url: str


@dataclass(frozen=True)
class ReferencePopulation:
    """A bundled reference population: shares per attribute, and where each figure comes from."""

    id: str
    title: str
    year: int
    total: int
    counts: dict[str, dict[str, int]]
    sources: tuple[SourceTable, ...]
    notes: str = ""
    published: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def shares(self) -> dict[str, dict[str, float]]:
        """{attribute: {category: proportion}} (each attribute's counts over their sum)."""
        out: dict[str, dict[str, float]] = {}
        for attr, groups in self.counts.items():
            total = sum(groups.values())
            out[attr] = {g: c / total for g, c in groups.items()}
        return out

    def citation(self) -> str:
        """Every source table's citation, once each, in file order."""
        seen: list[str] = []
        for s in self.sources:
            if s.citation not in seen:
                seen.append(s.citation)
        return " ".join(seen)

    def source_record(self) -> dict[str, Any]:
        """What the document stores about this table (see :data:`SOURCE_KEYS`)."""
        urls: list[str] = []
        for s in self.sources:
            if s.url not in urls:
                urls.append(s.url)
        return {
            "id": self.id,
            "title": self.title,
            "year": self.year,
            "citation": self.citation(),
            "url": " ".join(urls),
            "edited": False,
        }


def available() -> list[tuple[str, str]]:
    """(id, title) of every bundled reference population."""
    return [(pid, load_population(pid).title) for pid in POPULATION_FILES]


def load_population(population_id: str) -> ReferencePopulation:
    """A bundled reference population by id; unknown ids are refused with the known ones."""
    if population_id not in POPULATION_FILES:
        raise DataError(
            f"There is no bundled reference population {population_id!r}; use one of "
            f"{', '.join(POPULATION_FILES)}, or give a CSV file (attribute,group,proportion)."
        )
    ref = resources.files(RESOURCE_PACKAGE) / RESOURCE_FOLDER / POPULATION_FILES[population_id]
    try:
        raw = json.loads(ref.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(
            f"The bundled reference population {population_id} cannot be read ({exc}); "
            "reinstall Probity."
        ) from exc
    return _parse(raw, population_id)


def _parse(raw: dict[str, Any], population_id: str) -> ReferencePopulation:
    try:
        published: dict[str, list[dict[str, Any]]] = raw["published"]
        total = int(raw["total"])
        counts: dict[str, dict[str, int]] = {}
        for attr in ("race", "ethnicity"):
            groups: dict[str, int] = {}
            for row in published[attr]:
                groups[row["category"]] = groups.get(row["category"], 0) + int(row["count"])
            counts[attr] = groups
        counts.update(_derive(published, total))
        sources = tuple(
            SourceTable(s["attribute"], s["table"], s["citation"], s["url"])
            for s in raw["sources"]
        )
        return ReferencePopulation(
            id=str(raw["id"]),
            title=str(raw["title"]),
            year=int(raw["year"]),
            total=total,
            counts=counts,
            sources=sources,
            notes=str(raw.get("notes", "")),
            published=published,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(
            f"The bundled reference population {population_id} is damaged ({exc!r}); "
            "reinstall Probity."
        ) from exc


#: Datasheet age band -> the census five-year groups it sums (by position in DP1's list).
_AGE_BANDS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("30-39", (6, 7)),
    ("40-49", (8, 9)),
    ("50-59", (10, 11)),
    ("60-69", (12, 13)),
    ("70-79", (14, 15)),
    ("80+", (16, 17)),
)


def _derive(published: dict[str, list[dict[str, Any]]], total: int) -> dict[str, dict[str, int]]:
    """Sex and the datasheet's age bands from the DP1 lines, by the rules the file states."""
    male = int(published["sex"][0]["count"])
    five = [int(r["count"]) for r in published["age_five_year"]]
    if len(five) != 18 or sum(five) != total:
        raise ValueError("the five-year age groups do not add up to the total")
    adults = int(published["age_selected"][0]["count"])
    under18 = total - adults
    age = {
        "<18": under18,
        "18-29": sum(five[:4]) - under18 + five[4] + five[5],
    }
    for band, idx in _AGE_BANDS:
        age[band] = sum(five[i] for i in idx)
    return {"sex": {"Female": total - male, "Male": male}, "age_band": age}


# ------------------------------------------------------------------ the document's record


def check_source(value: Any, where: str) -> dict[str, Any]:
    """The document's reference-population source record, or DocumentError naming the key."""
    if not isinstance(value, dict):
        raise DocumentError(f"{where}: expected an object, got {type(value).__name__}")
    for key, item in value.items():
        if key not in SOURCE_KEYS:
            raise DocumentError(f"{where}.{key}: unknown key; this version of Probity writes none")
        if key == "year":
            if item is not None and (not isinstance(item, int) or isinstance(item, bool)):
                raise DocumentError(f"{where}.year: expected a whole number or null")
        elif key == "edited":
            if not isinstance(item, bool):
                raise DocumentError(f"{where}.edited: expected true or false")
        elif not isinstance(item, str):
            raise DocumentError(f"{where}.{key}: expected text")
    return value


def describe_source(source: dict[str, Any]) -> str:
    """One line naming the reference population's source for the report and the GUI."""
    if not source:
        return "Entered by the reviewer (no source recorded)."
    title = str(source.get("title") or source.get("id") or "Reference population")
    year = source.get("year")
    text = f"{title}" + (f" ({year})" if year else "")
    if source.get("citation"):
        text += f". {source['citation']}"
    if source.get("url"):
        text += f" {source['url']}"
    if source.get("edited"):
        text += " Edited by the reviewer after it was loaded."
    return text


def normalised(raw: dict[str, dict[str, float]], name: str) -> dict[str, dict[str, float]]:
    """Each attribute's numbers (proportions, percentages or counts) over their sum."""
    out: dict[str, dict[str, float]] = {}
    for attr, groups in raw.items():
        total = sum(groups.values())
        if any(v < 0 for v in groups.values()) or total <= 0:
            raise DataError(
                f"reference population: the numbers for {attr!r} in {name} must be >= 0 with "
                "a positive sum."
            )
        out[attr] = {g: v / total for g, v in groups.items()}
    return out


def bundled_shares(text: str) -> dict[str, dict[str, float]] | None:
    """``--population NAME``: a bundled table's shares, or None when ``text`` is a file path."""
    if text in POPULATION_FILES and not Path(text).exists():
        return load_population(text).shares()
    return None


__all__ = [
    "bundled_shares",
    "normalised",
    "POPULATION_FILES",
    "ReferencePopulation",
    "available",
    "check_source",
    "describe_source",
    "load_population",
]
