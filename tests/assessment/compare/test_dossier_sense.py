"""A hand-edited comparison dossier is refused in one sentence (break D, item 1): the models'
embedded evaluations get the .probity sense checks, the comparison's own numbers are checked
and re-derived (DeLong p from its own interval, difference = a − b, operating-point figures
from their counts), and nesting too deep or a non-number never escapes as a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
import pytest

import main
from assessment.compare.dossier import load_dossier
from assessment.errors import DataError


@pytest.fixture(scope="module")
def dossier(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    rng = np.random.default_rng(11)
    n = 600
    x = rng.normal(size=n)
    frame = pd.DataFrame({
        "pid": [f"p{i // 2}" for i in range(n)],
        "y": (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x - 1)))).astype(int),
        "sex": rng.choice(["F", "M"], n),
        "pa": np.round(1 / (1 + np.exp(-(x + rng.normal(size=n) - 1))), 3),
        "pb": np.round(1 / (1 + np.exp(-(0.4 * x + rng.normal(size=n) - 1))), 3),
    })
    d = tmp_path_factory.mktemp("dossier")
    frame.to_csv(d / "v.csv", index=False)
    out = d / "c.json"
    mp = pytest.MonkeyPatch()
    mp.setattr(main.faulthandler, "enable", lambda *a, **k: None)
    try:
        assert main.main(["compare", str(d / "v.csv"), "--label", "y", "--model", "A=pa",
                          "--model", "B=pb", "--group", "sex", "--cluster", "pid",
                          "--threshold", "A=0.3", "--threshold", "B=0.3",
                          "--bootstrap", "200", "--json", str(out), "--quiet"]) == 0
    finally:
        mp.undo()
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc))
    return path


def test_the_written_dossier_loads(dossier: dict[str, Any], tmp_path: Path) -> None:
    assert load_dossier(_write(tmp_path, dossier))["models"][0]["name"] == "A"


def _auroc(doc: dict[str, Any]) -> dict[str, Any]:
    e: dict[str, Any] = next(e for e in doc["paired"] if e["metric"] == "auroc"
                             and e["difference"]["p_value"] is not None)
    return e


def _set(getter: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any
         ) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        getter(doc)[key] = value
    return edit


def _swap(doc: dict[str, Any]) -> None:
    d = _auroc(doc)["difference"]
    d["ci_low"], d["ci_high"] = d["ci_high"], d["ci_low"]


def _tpr(doc: dict[str, Any]) -> dict[str, Any]:
    m: dict[str, Any] = doc["models"][0]["result"]["groups"][0]["metrics"]["tpr"]
    return m


def _op(doc: dict[str, Any]) -> dict[str, Any]:
    p: dict[str, Any] = doc["operating_points"][0]
    return p


def _other(doc: dict[str, Any]) -> dict[str, Any]:
    """A paired entry (not DeLong) whose interval excludes 0 is made by hand here."""
    e: dict[str, Any] = next(e for e in doc["paired"] if e["metric"] == "tpr"
                             and e["difference"]["value"] is not None)
    v = e["difference"]["value"]
    e["difference"].update(ci_low=v - 1e-3 if v > 0 else v - 0.1,
                           ci_high=v + 0.1 if v > 0 else v + 1e-3)
    if v == 0:
        e["difference"].update(ci_low=None, ci_high=None)
    return e


def _p09(doc: dict[str, Any]) -> None:
    _auroc(doc)["difference"].update(p_value=0.9, p_adjusted=0.9)


def _shift_a(doc: dict[str, Any]) -> None:
    e = _auroc(doc)
    e["estimate_a"] += 0.01 if e["estimate_a"] < 0.5 else -0.01


def _nest(doc: dict[str, Any]) -> None:
    deep: Any = 0
    for _ in range(200):
        deep = [deep]
    doc["notes"] = deep


@pytest.mark.parametrize(("edit", "message"), [
    (_set(_tpr, "value", 7.5), "tpr"),
    (_swap, "low end"),
    (_set(lambda d: d["paired"][0], "n", -5), "whole number"),
    (_set(lambda d: d["paired"][0], "estimate_a", 3.0), "outside [0, 1]"),
    (_p09, "z test of its own interval"),
    (_set(lambda d: d, "summary", [{"a": 1}]), "sentences"),
    (_shift_a, "estimate_a"),
    (_set(_op, "flagged_per_100", 99.0), "does not follow from the counts"),
    (_set(_op, "true_positives", 10**6), "cannot be true"),
    (_set(lambda d: d["paired"][0], "model_a", "Z"), "not one of the models"),
    (_set(lambda d: d["data"], "rows_compared", 10**7), "rows compared"),
    (_nest, "nested deeper"),
    (_set(lambda d: d["paired"][0], "group", 3), "expected the group"),
    (lambda d: d["operating_points"][0].pop("attribute"), "expected the attribute"),
])
def test_hand_edited_dossiers_are_refused_in_one_sentence(
    dossier: dict[str, Any], tmp_path: Path, edit: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    doc = json.loads(json.dumps(dossier))
    edit(doc)
    with pytest.raises(DataError, match="damaged") as info:
        load_dossier(_write(tmp_path, doc))
    assert message in info.value.message and "\n" not in info.value.message
    assert "run the comparison again" in info.value.message


def test_a_non_delong_p_that_contradicts_its_interval(dossier: dict[str, Any],
                                                      tmp_path: Path) -> None:
    doc = json.loads(json.dumps(dossier))
    e = _other(doc)
    e["difference"]["p_value"] = e["difference"]["p_adjusted"] = 0.9
    with pytest.raises(DataError, match="contradicts its interval"):
        load_dossier(_write(tmp_path, doc))


def test_the_delong_check_is_the_z_test_computed_here(dossier: dict[str, Any]) -> None:
    """Independent: p = 2 Φ(−|d| / se), se = (high − low) / (2 z_0.975), on every entry."""
    z = NormalDist().inv_cdf(0.975)
    for e in dossier["paired"]:
        d = e["difference"]
        if e["metric"] == "auroc" and d["p_value"] is not None:
            se = (d["ci_high"] - d["ci_low"]) / (2 * z)
            assert abs(2 * NormalDist().cdf(-abs(d["value"]) / se) - d["p_value"]) < 1e-9


@pytest.mark.parametrize("text", [b"[" * 100_000, b'{"format": NaN}',
                                  b'{"format": "probity-comparison/1", "format": 1}'])
def test_deep_nesting_nan_and_repeated_keys_are_one_sentence(tmp_path: Path,
                                                              text: bytes) -> None:
    path = tmp_path / "d.json"
    path.write_bytes(text)
    with pytest.raises(DataError, match="probity compare --json") as info:
        load_dossier(path)
    assert "\n" not in info.value.message
