"""Datasheet completeness for the under-represented: the All of Us UBR characteristics and the
NIH AI working group's ML-friendly dataset criteria.

The items are data (``resources/instruments/datasheet_ubr.json``); the datasheet's ``ubr`` and
``checklist`` fields store the reviewer's answers:

- ``ubr``: {characteristic id: {"collected": bool, "known_n": int | null, "ubr_n": int | null}}
  (participants with the characteristic recorded, and how many of them are in the
  under-represented group); ``collected: false`` is "not collected", itself a finding;
- ``checklist``: {criterion id: "yes" | "partly" | "no" | "unclear"}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from assessment.errors import InstrumentError
from assessment.jsoncheck import Invalid, show

RESOURCE_FILE = "datasheet_ubr.json"
UBR_KEYS: tuple[str, ...] = ("collected", "known_n", "ubr_n")


@dataclass(frozen=True)
class Item:
    """One UBR characteristic or one checklist criterion."""

    id: str
    label: str
    text: str  # the UBR definition, or the criterion's guidance


@dataclass(frozen=True)
class ItemList:
    title: str
    citation: str
    wording_source: str
    items: tuple[Item, ...]

    def label(self, item_id: str) -> str:
        return next((i.label for i in self.items if i.id == item_id), item_id)


@dataclass(frozen=True)
class UbrCatalogue:
    ubr: ItemList
    checklist: ItemList
    answers: tuple[str, ...]


@lru_cache(maxsize=1)
def catalogue() -> UbrCatalogue:
    """The UBR characteristics and checklist criteria (read once)."""
    ref = resources.files("resources") / "instruments" / RESOURCE_FILE
    try:
        raw = json.loads(ref.read_text(encoding="utf-8"))
        ubr, chk = raw["ubr"], raw["checklist"]
        return UbrCatalogue(
            ubr=ItemList(
                ubr["title"],
                ubr["citation"],
                ubr["wording_source"],
                tuple(Item(c["id"], c["label"], c["definition"]) for c in ubr["characteristics"]),
            ),
            checklist=ItemList(
                chk["title"],
                chk["citation"],
                chk["wording_source"],
                tuple(Item(c["id"], c["label"], c["guidance"]) for c in chk["items"]),
            ),
            answers=tuple(str(a) for a in chk["answers"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InstrumentError(
            f"The datasheet's UBR and checklist file {RESOURCE_FILE} is missing or damaged "
            f"({exc!r}); reinstall Probity."
        ) from exc


def check_value(kind: str, value: Any, where: str) -> None:
    """Raise :class:`Invalid` at the first part of a stored answer no valid document holds."""
    cat = catalogue()
    if not isinstance(value, dict):
        raise Invalid(where, f"expected an object, got {show(value)}")
    known = {i.id for i in (cat.ubr if kind == "ubr" else cat.checklist).items}
    for key, item in value.items():
        path = f"{where}.{key}"
        if key not in known:
            raise Invalid(path, f"unknown {'characteristic' if kind == 'ubr' else 'criterion'}")
        if kind == "checklist":
            if item is not None and item not in cat.answers:
                raise Invalid(path, f"{show(item)} is not one of {', '.join(cat.answers)}")
            continue
        if not isinstance(item, dict):
            raise Invalid(path, f"expected an object, got {show(item)}")
        for name, v in item.items():
            if name not in UBR_KEYS:
                raise Invalid(f"{path}.{name}", "unknown key")
            if name == "collected":
                if v is not None and not isinstance(v, bool):
                    raise Invalid(
                        f"{path}.collected", f"expected true, false or null, got {show(v)}"
                    )
            elif v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise Invalid(f"{path}.{name}", f"expected a count >= 0 or null, got {show(v)}")
        k, u = item.get("known_n"), item.get("ubr_n")
        counted = next((n for n in ("known_n", "ubr_n") if item.get(n) is not None), None)
        if counted is not None and item.get("collected") is not True:
            state = "not collected" if item.get("collected") is False else "not answered"
            raise Invalid(
                f"{path}.{counted}",
                f"counts are given but the characteristic is marked {state} "
                f"(collected: {show(item.get('collected'))}); set collected to true, or the "
                "counts to null",
            )
        if isinstance(k, int) and isinstance(u, int) and u > k:
            raise Invalid(
                f"{path}.ubr_n",
                f"{u} under-represented participants is more than the {k} with it recorded",
            )


def check_totals(datasheet: dict[str, Any], where: str) -> None:
    """Raise :class:`Invalid` when a UBR count exceeds the training cohort's size
    (``training_total_n``): "3 of 1,000,000,000" in a cohort of 2,000 is a typing error."""
    answers, total = datasheet.get("ubr_characteristics"), datasheet.get("training_total_n")
    if not isinstance(answers, dict) or isinstance(total, bool):
        return
    if not isinstance(total, int | float) or total != total or total < 0:
        return
    for key, item in answers.items():
        if not isinstance(item, dict):
            continue
        for name in ("known_n", "ubr_n"):
            n = item.get(name)
            if isinstance(n, int) and not isinstance(n, bool) and n > total:
                raise Invalid(
                    f"{where}.ubr_characteristics.{key}.{name}",
                    f"{n:,} participants is more than the training cohort's "
                    f"{total:,g} ({where}.training_total_n); correct the count or the total",
                )


def check_edit(datasheet: dict[str, Any]) -> None:
    """The datasheet after an edit of its UBR answers or cohort size: DocumentError naming the
    JSON path and the problem (the same checks as on load)."""
    from assessment.errors import DocumentError

    try:
        if datasheet.get("ubr_characteristics") is not None:
            check_value("ubr", datasheet["ubr_characteristics"], "$.datasheet.ubr_characteristics")
        check_totals(datasheet, "$.datasheet")
    except Invalid as exc:
        raise DocumentError(f"{exc.path}: {exc.problem}.") from None


def not_collected(datasheet: dict[str, Any]) -> list[str]:
    """Labels of the UBR characteristics the datasheet says were not collected."""
    answers = datasheet.get("ubr_characteristics") or {}
    return [
        i.label
        for i in catalogue().ubr.items
        if isinstance(answers.get(i.id), dict) and answers[i.id].get("collected") is False
    ]


def findings(datasheet: dict[str, Any]) -> list[str]:
    """Summary-page findings: each UBR characteristic not collected for the training cohort."""
    missing = not_collected(datasheet)
    if not missing:
        return []
    return [
        "Training data: not collected: "
        + ", ".join(missing)
        + " (All of Us under-represented-in-biomedical-research characteristics); how the "
        "model serves these under-represented groups cannot be judged from the training data."
    ]


def ubr_rows(datasheet: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(characteristic, UBR definition, status, UBR count of recorded) for the report."""
    answers = datasheet.get("ubr_characteristics") or {}
    rows = []
    for item in catalogue().ubr.items:
        a = answers.get(item.id) if isinstance(answers.get(item.id), dict) else None
        rows.append((item.label, item.text, *_status(a)))
    return rows


def _status(a: dict[str, Any] | None) -> tuple[str, str]:
    if a is None or a.get("collected") is None:
        return "not answered", "—"
    if a["collected"] is False:
        return "not collected", "—"
    k, u = a.get("known_n"), a.get("ubr_n")
    if isinstance(k, int) and isinstance(u, int) and k > 0:
        return "collected", f"{u:,} of {k:,} ({u / k:.1%})"
    if isinstance(u, int):
        return "collected", f"{u:,} (recorded total not given)"
    return "collected", "counts not given"


def checklist_rows(datasheet: dict[str, Any]) -> list[tuple[str, str]]:
    """(criterion, answer) for the report, in the working group's order."""
    answers = datasheet.get("ml_friendly_checklist") or {}
    items = catalogue().checklist.items
    return [(i.label, str(answers.get(i.id) or "not answered")) for i in items]


__all__ = [
    "catalogue",
    "check_edit",
    "check_totals",
    "check_value",
    "checklist_rows",
    "findings",
    "not_collected",
    "ubr_rows",
]
