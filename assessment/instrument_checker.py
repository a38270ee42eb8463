"""Typed accessors over an instrument's raw JSON that fail with the file and the JSON path of
the first problem (shared by the risk-of-bias and the form validators)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from assessment.errors import InstrumentError
from assessment.instrument_model import (
    CONFIDENCE_TAGS,
    SCHEMA,
)


class Checker:
    """Typed accessors over raw JSON that fail with the file and the JSON path of the problem."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> NoReturn:
        raise InstrumentError(
            f"Instrument file {self.source} is invalid at {path}: {problem}. "
            "Reinstall Probity or correct the file."
        )

    def obj(self, value: Any, path: str, required: Sequence[str],
            optional: Sequence[str] = ()) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected an object, found {kind_of(value)}")
        for key in required:
            if key not in value:
                self.fail(f"{path}.{key}", "required key is missing")
        allowed = set(required) | set(optional)
        for key in value:
            if key not in allowed:
                self.fail(f"{path}.{key}",
                          f"unknown key (allowed: {', '.join(sorted(allowed))})")
        return value

    def string(self, value: Any, path: str, *, nullable: bool = False) -> Any:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"expected a non-empty text, found {kind_of(value)}")
        return value

    def opt_string(self, obj: Mapping[str, Any], key: str, path: str) -> str | None:
        text: str | None = self.string(obj.get(key), f"{path}.{key}", nullable=True)
        return text

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"expected true or false, found {kind_of(value)}")
        return value

    def integer(self, value: Any, path: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(path, f"expected an integer >= {minimum}, found {value!r}")
        return value

    def array(self, value: Any, path: str, *, nonempty: bool = False) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list, found {kind_of(value)}")
        if nonempty and not value:
            self.fail(path, "the list must not be empty")
        return value

    def strings(self, value: Any, path: str, *, nonempty: bool = False,
                allowed: Sequence[str] | None = None, what: str = "value") -> tuple[str, ...]:
        items = self.array(value, path, nonempty=nonempty)
        out: list[str] = []
        for i, item in enumerate(items):
            self.string(item, f"{path}[{i}]")
            if allowed is not None and item not in allowed:
                self.fail(f"{path}[{i}]",
                          f"unknown {what} '{item}' (known: {', '.join(allowed) or 'none'})")
            if item in out:
                self.fail(f"{path}[{i}]", f"duplicate {what} '{item}'")
            out.append(item)
        return tuple(out)

    def unique(self, seen: dict[str, str], item_id: str, path: str, what: str) -> None:
        if item_id in seen:
            self.fail(path, f"duplicate {what} id '{item_id}' (first used at {seen[item_id]})")
        seen[item_id] = path

    def confidence(self, obj: Mapping[str, Any], path: str, *, required: bool) -> str | None:
        value = obj.get("confidence")
        if value is None and not required:
            return None
        if value not in CONFIDENCE_TAGS:
            self.fail(f"{path}.confidence",
                      f"expected one of {', '.join(CONFIDENCE_TAGS)}, found {value!r}")
        return str(value)

    def header(self, data: Any, kind: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail("$", f"expected an object, found {kind_of(data)}")
        if data.get("schema") != SCHEMA:
            self.fail("$.schema", f"expected '{SCHEMA}', found {data.get('schema')!r}")
        if data.get("kind") != kind:
            self.fail("$.kind", f"expected '{kind}', found {data.get('kind')!r}")
        return data


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a text", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def read_citation(c: Checker, data: Mapping[str, Any]) -> tuple[str, ...]:
    return c.strings(data["citation"], "$.citation", nonempty=True, what="citation")
