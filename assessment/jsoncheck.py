"""Checking parsed JSON against an expected shape, naming the JSON path of the first problem.

Shared by the document validator (:mod:`assessment.schema`) and the evaluation result reader
(:meth:`assessment.evaluation.result.EvaluationResult.from_json`). Paths look like
``$.evaluation.result.groups[3].metrics.tpr.value``; keys that are not identifiers are quoted:
``$.answers["1.1@development"]``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

#: Deepest nesting of JSON arrays/objects accepted (the deepest real value is ~8 levels).
MAX_DEPTH = 64
#: Largest integer magnitude accepted anywhere (counts, seeds and ids fit in 64 bits).
MAX_INT = 2**63

_SURROGATE = re.compile("[\ud800-\udfff]")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Invalid(Exception):
    """A problem at a JSON path (raised inside the checks, turned into one DocumentError)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def key_path(path: str, key: str | int) -> str:
    """``$.a`` + ``b`` -> ``$.a.b``; non-identifier keys in brackets: ``$.answers["1.1@x"]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENT.match(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=True)}]"


def show(value: Any, limit: int = 60) -> str:
    """A short JSON rendering of a value for a message (ASCII, one line)."""
    try:
        text = json.dumps(value, ensure_ascii=True, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ------------------------------------------------------------------------------ duplicate keys


class _Duplicated(dict[str, Any]):
    """An object that named ``key`` twice (made by :func:`pairs_refusing_duplicates`)."""

    key: str = ""


def pairs_refusing_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for :func:`json.loads`: an object with a key twice is marked, so
    :func:`duplicate_key_path` can name it (``{"a": 3, "a": 2}`` would silently be ``2``)."""
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    seen: set[str] = set()
    marked = _Duplicated(out)
    for k, _ in pairs:
        if k in seen:
            marked.key = k
            break
        seen.add(k)
    return marked


def duplicate_key_path(data: Any, path: str = "$") -> str | None:
    """The JSON path of the first key that an object of ``data`` (parsed with
    :func:`pairs_refusing_duplicates`) names twice, or None."""
    stack: list[tuple[Any, str]] = [(data, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, _Duplicated):
            return key_path(where, value.key)
        if isinstance(value, dict):
            stack.extend((v, key_path(where, k)) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((v, key_path(where, i)) for i, v in reversed(list(enumerate(value))))
    return None


# ------------------------------------------------------------------------------ generic pass


class _Deep(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.keys: list[str | int] = []


def _scalar(value: Any) -> None:
    """Check one non-container value (called only when the quick test in _walk fails)."""
    t = type(value)
    if t is str:
        if _SURROGATE.search(value):
            raise _Deep("text with a lone UTF-16 surrogate (not a character; invalid in UTF-8)")
    elif t is int:
        if not -MAX_INT <= value <= MAX_INT:
            raise _Deep(f"an integer too large ({len(str(abs(value)))} digits)")
    elif t is float:
        if not math.isfinite(value):
            raise _Deep(f"{value} is not a finite number")
    elif value is not None and t is not bool:
        raise _Deep(f"unexpected value of type {t.__name__}")


def _walk(value: Any, depth: int) -> None:
    """Check every value under a list or object (scalars inline: this runs on every value)."""
    if depth >= MAX_DEPTH:
        raise _Deep(f"nested deeper than {MAX_DEPTH} levels")
    pairs = value.items() if type(value) is dict else enumerate(value)
    isfinite = math.isfinite
    for k, v in pairs:
        t = type(v)
        try:
            if t is float:
                if not isfinite(v):
                    _scalar(v)
            elif t is str:
                if not v.isascii():
                    _scalar(v)
            elif t is dict or t is list:
                _walk(v, depth + 1)
            elif t is int:
                if not -MAX_INT <= v <= MAX_INT:
                    _scalar(v)
            elif v is not None and t is not bool:
                _scalar(v)
            if type(k) is str and not k.isascii() and _SURROGATE.search(k):
                raise _Deep("a key with a lone UTF-16 surrogate")
        except _Deep as exc:
            exc.keys.append(k)
            raise


def check_json_values(data: Any, path: str = "$") -> None:
    """Raise :class:`Invalid` at the first value no valid document can hold."""
    try:
        if isinstance(data, dict | list):
            _walk(data, 0)
        else:
            _scalar(data)
    except _Deep as exc:
        where = path
        for k in reversed(exc.keys):
            where = key_path(where, k)
        raise Invalid(where, exc.problem) from None


# ------------------------------------------------------------------------------ typed helpers


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def expect_obj(v: Any, path: str, keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise Invalid(path, f"expected an object, got {show(v)}")
    if keys is not None:
        for k in v:
            if k not in keys:
                raise Invalid(key_path(path, k), f"unknown key (expected only {', '.join(keys)})")
    return v


def expect_list(v: Any, path: str) -> list[Any]:
    if not isinstance(v, list):
        raise Invalid(path, f"expected a list, got {show(v)}")
    return v


def expect_str(v: Any, path: str, *, null: bool = False) -> str | None:
    if v is None and null:
        return None
    if not isinstance(v, str):
        raise Invalid(path, f"expected text{' or null' if null else ''}, got {show(v)}")
    return v


def expect_num(v: Any, path: str, *, null: bool = False, minimum: float | None = None) -> Any:
    if v is None and null:
        return None
    if not _is_num(v):
        raise Invalid(path, f"expected a number{' or null' if null else ''}, got {show(v)}")
    if minimum is not None and v < minimum:
        raise Invalid(path, f"expected a number of at least {minimum:g}, got {show(v)}")
    return v


def expect_strings(v: Any, path: str) -> list[str]:
    items = expect_list(v, path)
    for i, x in enumerate(items):
        expect_str(x, key_path(path, i))
    return items


def expect_int(v: Any, path: str, *, null: bool = False, minimum: int | None = None) -> Any:
    if v is None and null:
        return None
    if not isinstance(v, int) or isinstance(v, bool):
        raise Invalid(path, f"expected a whole number{' or null' if null else ''}, got {show(v)}")
    if minimum is not None and v < minimum:
        raise Invalid(path, f"expected a whole number of at least {minimum}, got {show(v)}")
    return v


def expect_bool(v: Any, path: str) -> bool:
    if not isinstance(v, bool):
        raise Invalid(path, f"expected true or false, got {show(v)}")
    return v


def required(d: dict[str, Any], key: str, path: str) -> Any:
    """``d[key]``, or Invalid naming the missing key's path."""
    if key not in d:
        raise Invalid(key_path(path, key), "missing")
    return d[key]
