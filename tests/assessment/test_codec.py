"""The generic JSON codec (assessment/codec.py): type-driven, strict, path-naming, versioned.

Checked against hand-written expectations of the JSON and of each message, and by a hypothesis
round trip over the result's own dataclasses.
"""

from __future__ import annotations

import enum
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessment.codec import COUNT, JsonRecord, clean, decode, encode
from assessment.evaluation.result import Estimate, GroupResult, MetricValue
from assessment.jsoncheck import Invalid


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Inner(JsonRecord):
    value: float | None
    label: str = ""


@dataclass(frozen=True)
class Outer(JsonRecord):
    codec_schema = ("schema", "test-outer/2")

    name: str
    count: int = field(metadata=COUNT)
    ok: bool
    kind: Literal["a", "b"]
    colour: Colour
    inner: Inner
    items: tuple[Inner, ...]
    names: list[str]
    table: dict[str, Inner]
    series: dict[str, list[float | None]]
    either: int | str
    free: Any = None
    maybe: Inner | None = None
    added: str = "default"  # a field added later: one line, old files still load


def _outer() -> Outer:
    return Outer(
        name="x", count=3, ok=True, kind="b", colour=Colour.BLUE, inner=Inner(0.5, "i"),
        items=(Inner(1.0), Inner(None, "n")), names=["p", "q"], table={"k": Inner(2.0)},
        series={"s": [0.1, None, 1.0]}, either="seven", free={"any": [1, "two"]},
    )  # fmt: skip


def test_encode_is_the_json_written_by_hand() -> None:
    assert _outer().to_json() == {
        "schema": "test-outer/2",
        "name": "x", "count": 3, "ok": True, "kind": "b", "colour": "blue",
        "inner": {"value": 0.5, "label": "i"},
        "items": [{"value": 1.0, "label": ""}, {"value": None, "label": "n"}],
        "names": ["p", "q"], "table": {"k": {"value": 2.0, "label": ""}},
        "series": {"s": [0.1, None, 1.0]}, "either": "seven", "free": {"any": [1, "two"]},
        "maybe": None, "added": "default",
    }  # fmt: skip
    assert list(_outer().to_json())[0] == "schema"  # the version marker comes first


def test_round_trip_and_types_restored() -> None:
    obj = _outer()
    back = Outer.from_json(json.loads(json.dumps(obj.to_json())))
    assert back == obj
    assert isinstance(back.items, tuple) and isinstance(back.colour, Colour)


def test_missing_key_takes_the_default_or_is_named() -> None:
    data = _outer().to_json()
    del data["added"], data["maybe"]
    assert Outer.from_json(data).added == "default"
    del data["count"]
    with pytest.raises(Invalid) as info:
        Outer.from_json(data)
    assert (info.value.path, info.value.problem) == ("$.count", "missing")


@pytest.mark.parametrize(
    ("key", "value", "path", "problem"),
    [
        ("name", 5, "$.name", "expected text, got 5"),
        ("count", 2.5, "$.count", "expected a whole number, got 2.5"),
        ("count", True, "$.count", "expected a whole number, got true"),
        ("count", -1, "$.count", "expected a whole number of at least 0, got -1"),
        ("ok", "yes", "$.ok", 'expected true or false, got "yes"'),
        ("kind", "c", "$.kind", 'expected one of "a", "b", got "c"'),
        ("colour", "green", "$.colour", 'expected one of "red", "blue", got "green"'),
        ("inner", [1], "$.inner", "expected an object, got [1]"),
        ("items", {}, "$.items", "expected a list, got {}"),
        ("names", ["a", 1], "$.names[1]", "expected text, got 1"),
        ("table", {"k": {"value": "abc"}}, "$.table.k.value",
         'expected a number or null, got "abc"'),
        ("table", {"a b": {"value": True}}, '$.table["a b"].value',
         "expected a number or null, got true"),
        ("series", {"s": [0.1, "x"]}, "$.series.s[1]", 'expected a number or null, got "x"'),
        ("either", None, "$.either", "expected a whole number or text, got null"),
        ("maybe", 3, "$.maybe", "expected an object or null, got 3"),
        ("schema", "test-outer/3", "$.schema",
         'this record has schema "test-outer/3"; Probity reads test-outer/2'),
        ("surplus", 1, "$.surplus", "unknown key"),
    ],
)  # fmt: skip
def test_bad_values_name_their_json_path(key: str, value: Any, path: str, problem: str) -> None:
    data = _outer().to_json()
    data[key] = value
    with pytest.raises(Invalid) as info:
        Outer.from_json(data)
    assert info.value.path == path
    assert info.value.problem.startswith(problem), info.value.problem


def test_unknown_keys_of_a_result_part_are_skipped() -> None:
    """probity-evaluation/1 grows by adding keys: an older reader skips them."""
    data = {"value": 0.5, "ci_low": None, "ci_high": None, "method": "m", "reason": None}
    assert MetricValue.from_json({**data, "added_later": [1]}) == MetricValue.from_json(data)


def test_non_finite_floats_are_written_as_null() -> None:
    assert clean(float("nan")) is None and clean(float("inf")) is None and clean(2) == 2.0
    est = Estimate(float("nan"), float("-inf"), 1.0, "wald")
    assert est.to_json() == {
        "value": None, "ci_low": None, "ci_high": 1.0, "method": "wald", "reason": None,
    }  # fmt: skip
    assert encode({"a": (float("inf"), 1)}) == {"a": [None, 1]}
    # and NaN read from a lenient parser becomes null for an optional number
    assert Inner.from_json({"value": float("nan")}).value is None


def test_decode_by_type_hint() -> None:
    assert decode(tuple[int, ...], [1, 2]) == (1, 2)
    assert decode(dict[str, float], {"a": 1}) == {"a": 1.0}
    with pytest.raises(Invalid) as info:
        decode(list[int], [1, "2"], "$.x")
    assert info.value.path == "$.x[1]"


_num = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32))
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
_metric = st.builds(MetricValue, _num, _num, _num, _text, st.one_of(st.none(), _text))
_group = st.builds(
    GroupResult,
    attribute=_text, group=_text, n=st.integers(0, 10**9), n_pos=st.integers(0, 10**6),
    n_neg=st.integers(0, 10**6), flags=st.lists(_text, max_size=3).map(tuple),
    flag_reasons=st.lists(_text, max_size=3).map(tuple),
    metrics=st.dictionaries(_text, _metric, max_size=4),
    curves=st.dictionaries(_text, st.dictionaries(_text, st.lists(_num, max_size=5)), max_size=2),
)  # fmt: skip


@given(_group)
def test_result_parts_round_trip_through_json_text(group: GroupResult) -> None:
    text = json.dumps(group.to_json(), allow_nan=False)
    back = GroupResult.from_json(json.loads(text))
    assert back == group
    for m in back.metrics.values():
        assert m.value is None or math.isfinite(m.value)
