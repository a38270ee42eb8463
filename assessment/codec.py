"""One generic, versioned JSON codec for the frozen dataclasses of the domain.

A dataclass that inherits :class:`JsonRecord` gets ``to_json()`` and ``from_json(d, path)``
driven by its type hints, so adding a field is a one-line change: declare it (with a default,
so files written before it still load) and it is written, read and validated.

Supported field types: ``str``, ``int``, ``float``, ``bool``, ``None`` and unions of them
(``float | None``), ``tuple[X, ...]`` and ``list[X]`` (JSON lists), ``dict[str, X]`` (JSON
objects), nested :class:`JsonRecord` dataclasses, :class:`enum.Enum` (by value), ``Literal``
and ``Any`` (any JSON value, copied as is).

Reading is strict and names the JSON path of the first bad value in the project's words, e.g.
``$.groups[3].metrics.tpr.value: expected a number or null, got "abc"``
(:class:`assessment.jsoncheck.Invalid`). Non-finite floats are written as ``null`` (JSON has
no NaN; :func:`clean`). A missing key takes the field's default, or is reported ``missing``.
Unknown keys are refused unless the class says ``codec_unknown = "ignore"``. A class may carry
a version marker ``codec_schema = ("schema", "probity-evaluation/1")``: written first, and a
file with another value is refused with a message naming both.

Per-field options go in the dataclass field's metadata: ``minimum`` (ints and floats) and
``check`` (a callable ``(value, path)`` that raises Invalid, run on the raw JSON value first) and
``omit_default`` (the key is not written while the value equals its default, so an optional
section that was added later leaves older readers' files unchanged).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, Literal, TypeVar, Union

from assessment.errors import ProbityError
from assessment.jsoncheck import Invalid, key_path, show

T = TypeVar("T", bound="JsonRecord")
Decoder = Callable[[Any, str], Any]
Encoder = Callable[[Any], Any]

#: Metadata for a count: a whole number of at least 0.
COUNT: dict[str, Any] = {"minimum": 0}


def clean(x: Any) -> float | None:
    """A JSON-safe float: NaN/inf/None become None."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


class JsonRecord:
    """Mixin for frozen dataclasses: ``to_json`` / ``from_json`` from the type hints."""

    codec_schema: ClassVar[tuple[str, str] | None] = None
    codec_unknown: ClassVar[Literal["refuse", "ignore"]] = "refuse"
    codec_kind: ClassVar[str] = "record"  # the word for it in a version-mismatch message

    def to_json(self) -> dict[str, Any]:
        cls: Any = type(self)
        out: dict[str, Any] = _record_encoder(cls)(self)
        return out

    @classmethod
    def from_json(cls: type[T], d: Any, path: str = "$") -> T:
        """Rebuild from JSON; :class:`~assessment.jsoncheck.Invalid` names the bad path."""
        key: Any = cls
        out: T = _record_decoder(key)(d, path)
        return out


def encode(value: Any) -> Any:
    """Any supported value as JSON (dataclass records, tuples, enums, floats cleaned)."""
    if isinstance(value, JsonRecord):
        return value.to_json()
    if callable(getattr(value, "to_json", None)):  # a class with its own JSON (the spec)
        return value.to_json()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, float):
        return clean(value)
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def decode(tp: Any, value: Any, path: str = "$") -> Any:
    """Read ``value`` as type ``tp`` (a hint such as ``tuple[GroupResult, ...]``)."""
    return _decoder(tp)(value, path)


# ------------------------------------------------------------------------------ describing


_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}


def _describe(tp: Any) -> str:
    if tp is type(None):
        return "null"
    if tp in _NAMES:
        return _NAMES[tp]
    origin = typing.get_origin(tp)
    if origin in (list, tuple):
        return "a list"
    if origin is dict or (isinstance(tp, type) and dataclasses.is_dataclass(tp)):
        return "an object"
    if origin is Literal:
        return "one of " + ", ".join(show(a) for a in typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(show(m.value) for m in tp)
    return getattr(tp, "__name__", str(tp))


_EXACT: dict[type, str] = {str: "text", bool: "true or false", int: "a whole number"}


def _exact_decoder(tp: type, words: str) -> Decoder:
    def exact(v: Any, p: str) -> Any:
        if type(v) is not tp:
            raise Invalid(p, f"expected {words}, got {show(v)}")
        return v

    return exact


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return typing.get_args(tp)
    return None


# ------------------------------------------------------------------------------ decoders


def _is_number(v: Any) -> bool:
    t = type(v)
    return t is float or t is int


@functools.cache
def _decoder(tp: Any) -> Decoder:
    if tp is Any:
        return lambda v, p: v
    if tp is type(None):

        def none(v: Any, p: str) -> None:
            if v is not None:
                raise Invalid(p, f"expected null, got {show(v)}")

        return none
    args = _union_args(tp)
    if args is not None:
        return _union_decoder(args)
    if tp in _EXACT:  # str, bool, int: the JSON value's own type, exactly (True is no int)
        return _exact_decoder(tp, _EXACT[tp])
    if tp is float:

        def number(v: Any, p: str) -> float:
            if not _is_number(v):
                raise Invalid(p, f"expected a number, got {show(v)}")
            return float(v)

        return number
    origin = typing.get_origin(tp)
    if origin is Literal:
        allowed = typing.get_args(tp)

        def literal(v: Any, p: str) -> Any:
            if v not in allowed or type(v) is bool:
                raise Invalid(p, f"expected {_describe(tp)}, got {show(v)}")
            return v

        return literal
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        by_value = {m.value: m for m in tp}

        def member(v: Any, p: str) -> Any:
            try:
                return by_value[v]
            except (KeyError, TypeError):
                raise Invalid(p, f"expected {_describe(tp)}, got {show(v)}") from None

        return member
    if origin in (list, tuple):
        return _sequence_decoder(tp, origin)
    if origin is dict:
        key_tp, value_tp = typing.get_args(tp)
        if key_tp is not str:
            raise TypeError(f"codec: dict keys must be str, not {key_tp!r}")
        item = _decoder(value_tp)

        def mapping(v: Any, p: str) -> dict[str, Any]:
            if type(v) is not dict:
                raise Invalid(p, f"expected an object, got {show(v)}")
            return {k: item(x, key_path(p, k)) for k, x in v.items()}

        return mapping
    if isinstance(tp, type) and issubclass(tp, JsonRecord):
        record_type: Any = tp
        return _record_decoder(record_type)
    if isinstance(tp, type) and hasattr(tp, "from_json") and hasattr(tp, "to_json"):
        return _own_decoder(tp)
    raise TypeError(f"codec: unsupported type {tp!r}")


def _own_decoder(tp: type) -> Decoder:
    """A class with its own ``from_json(d)`` (e.g. the evaluation spec): its error, which names
    no path, becomes a problem at the field's path."""
    def own(v: Any, p: str) -> Any:
        if type(v) is not dict:
            raise Invalid(p, f"expected an object, got {show(v)}")
        try:
            return tp.from_json(v)  # type: ignore[attr-defined]
        except Invalid:
            raise
        except ProbityError as exc:
            raise Invalid(p, exc.message.rstrip(".")) from exc
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise Invalid(p, f"malformed ({type(exc).__name__}: {exc})") from exc

    return own


def _union_decoder(args: tuple[Any, ...]) -> Decoder:
    nullable = type(None) in args
    rest = tuple(a for a in args if a is not type(None))
    if rest == (float,) or set(rest) == {int, float}:  # the commonest: an optional number

        def opt_number(v: Any, p: str) -> float | None:
            if v is None and nullable:
                return None
            if not _is_number(v):
                null = " or null" if nullable else ""
                raise Invalid(p, f"expected a number{null}, got {show(v)}")
            return clean(v)

        return opt_number
    if len(rest) == 1:
        inner = _decoder(rest[0])
        what = _describe(rest[0])

        def optional(v: Any, p: str) -> Any:
            if v is None:
                return None
            try:
                return inner(v, p)
            except Invalid as exc:
                if exc.path == p and exc.problem.startswith("expected "):
                    raise Invalid(p, f"expected {what} or null, got {show(v)}") from None
                raise

        return optional
    decoders = [_decoder(a) for a in rest]
    what = " or ".join([_describe(a) for a in rest] + (["null"] if nullable else []))

    def either(v: Any, p: str) -> Any:
        if v is None and nullable:
            return None
        for d in decoders:
            try:
                return d(v, p)
            except Invalid:
                continue
        raise Invalid(p, f"expected {what}, got {show(v)}")

    return either


def _sequence_decoder(tp: Any, origin: Any) -> Decoder:
    args = typing.get_args(tp)
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        raise TypeError(f"codec: only tuple[X, ...] is supported, not {tp!r}")
    item_tp = args[0]
    make: Callable[[list[Any]], Any] = tuple if origin is tuple else list
    if _union_args(item_tp) is not None and set(typing.get_args(item_tp)) <= {
        float,
        int,
        type(None),
    }:
        # numbers or nulls (curves, grids): one pass, the path built only on failure
        nullable = type(None) in typing.get_args(item_tp)

        def numbers(v: Any, p: str) -> Any:
            if type(v) is not list:
                raise Invalid(p, f"expected a list, got {show(v)}")
            for i, x in enumerate(v):
                t = type(x)
                if not (t is float or t is int or (x is None and nullable)):
                    null = " or null" if nullable else ""
                    raise Invalid(f"{p}[{i}]", f"expected a number{null}, got {show(x)}")
            return make([clean(x) for x in v])

        return numbers
    item = _decoder(item_tp)

    def sequence(v: Any, p: str) -> Any:
        if type(v) is not list:
            raise Invalid(p, f"expected a list, got {show(v)}")
        return make([item(x, f"{p}[{i}]") for i, x in enumerate(v)])

    return sequence


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    decode: Decoder
    encode: Encoder
    default: Any  # dataclasses.MISSING when required
    check: Callable[[Any, str], None] | None
    minimum: float | None
    omit_default: bool = False


def _fields(cls: Any) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = _Factory(f.default_factory)
        else:
            default = dataclasses.MISSING
        out.append(
            _Field(
                name=f.name,
                decode=_decoder(hints[f.name]),
                encode=_encoder(hints[f.name]),
                default=default,
                check=f.metadata.get("check"),
                minimum=f.metadata.get("minimum"),
                omit_default=bool(f.metadata.get("omit_default", False)),
            )
        )
    return tuple(out)


def _is_default(f: _Field, value: Any) -> bool:
    default = f.default.make() if isinstance(f.default, _Factory) else f.default
    return default is not dataclasses.MISSING and bool(value == default)


@dataclasses.dataclass(frozen=True)
class _Factory:
    make: Callable[[], Any]


@functools.cache
def _record_decoder(cls: Any) -> Decoder:
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"codec: {cls!r} is not a dataclass")
    fields = _fields(cls)
    names = {f.name for f in fields}
    schema: tuple[str, str] | None = getattr(cls, "codec_schema", None)
    if schema is not None:
        names.add(schema[0])
    refuse_unknown = getattr(cls, "codec_unknown", "refuse") == "refuse"
    kind: str = getattr(cls, "codec_kind", "record")

    def record(v: Any, p: str) -> Any:
        if type(v) is not dict:
            raise Invalid(p, f"expected an object, got {show(v)}")
        if schema is not None and v.get(schema[0]) != schema[1]:
            raise Invalid(
                key_path(p, schema[0]),
                f"this {kind} has {schema[0]} {show(v.get(schema[0]))}; Probity reads {schema[1]}",
            )
        if refuse_unknown:
            for k in v:
                if k not in names:
                    raise Invalid(
                        key_path(p, k), f"unknown key (expected only {', '.join(sorted(names))})"
                    )
        kwargs: dict[str, Any] = {}
        for f in fields:
            where = key_path(p, f.name)
            if f.name not in v:
                if f.default is dataclasses.MISSING:
                    raise Invalid(where, "missing")
                kwargs[f.name] = f.default.make() if isinstance(f.default, _Factory) else f.default
                continue
            raw = v[f.name]
            if f.check is not None:
                f.check(raw, where)
            value = f.decode(raw, where)
            if f.minimum is not None and value is not None and value < f.minimum:
                word = "a whole number" if isinstance(value, int) else "a number"
                raise Invalid(where, f"expected {word} of at least {f.minimum:g}, got {show(raw)}")
            kwargs[f.name] = value
        try:
            return cls(**kwargs)
        except ProbityError as exc:  # the class's own validation (e.g. the spec's ranges)
            raise Invalid(p, exc.message.rstrip(".")) from None

    return record


# ------------------------------------------------------------------------------ encoders


def _identity(v: Any) -> Any:
    return v


@functools.cache
def _encoder(tp: Any) -> Encoder:
    if tp in (str, int, bool, type(None)):
        return _identity
    if tp is float:
        return clean
    if tp is Any:
        return encode
    args = _union_args(tp)
    if args is not None:
        rest = [a for a in args if a is not type(None)]
        if all(a in (str, int, bool) for a in rest):
            return _identity
        if set(rest) <= {float, int}:
            return clean
        return encode
    origin = typing.get_origin(tp)
    if origin is Literal:
        return _identity
    if origin in (list, tuple):
        item = _encoder(typing.get_args(tp)[0])
        if item is _identity:
            return list
        return lambda v: [item(x) for x in v]
    if origin is dict:
        item = _encoder(typing.get_args(tp)[1])
        if item is _identity:
            return dict
        return lambda v: {k: item(x) for k, x in v.items()}
    return encode


@functools.cache
def _record_encoder(cls: Any) -> Encoder:
    fields = _fields(cls)
    schema: tuple[str, str] | None = getattr(cls, "codec_schema", None)

    def record(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {schema[0]: schema[1]} if schema is not None else {}
        for f in fields:
            value = getattr(obj, f.name)
            if f.omit_default and _is_default(f, value):
                continue
            out[f.name] = f.encode(value)
        return out

    return record


__all__ = ["COUNT", "JsonRecord", "clean", "decode", "encode"]
