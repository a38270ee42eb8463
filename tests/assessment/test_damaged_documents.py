"""Issue 8 §3: damaged .probity files give one line naming the JSON path, never a traceback.

Every damage class is built here from the demo assessment (which carries a full evaluation
snapshot): wrong types in the instrument parts, the forms, the audit log and the stored
evaluation, lone surrogates, deep nesting, huge integers, non-finite numbers. The loader, the
``judge`` and ``report`` commands and the GUI's open path all go through ``storage.load``/
``storage.loads``; a hypothesis fuzz checks that *every* mutation of the demo either loads (and
then judges, serialises and reads back its evaluation) or raises the one-line DocumentError.
Also here: output paths equal to an input are refused, and the one atomic writer's guarantee.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import main
from assessment import fileio, storage
from assessment.errors import DataError, DocumentError, EvaluationError
from assessment.evaluation.result import EvaluationResult, ResultFormatError
from assessment.judgement import judge

REPO = Path(__file__).resolve().parents[2]
# The demo as written in schema 1: these damage classes are stated in schema 1's paths (the
# schema-2 classes are in test_schema_migration.py); a schema-1 file is still read, so it must
# still be checked path by path.
DEMO = REPO / "tests" / "assessment" / "schema1" / "demo.probity"
DEMO_TEXT = DEMO.read_text(encoding="utf-8")
DEMO_DATA = json.loads(DEMO_TEXT)


def demo() -> dict[str, Any]:
    return copy.deepcopy(DEMO_DATA)


def load_error(tmp_path: Path, payload: str | bytes) -> str:
    """Write ``payload`` as a .probity file, load it, return the one-line message."""
    path = tmp_path / "damaged.probity"
    path.write_bytes(payload.encode("utf-8") if isinstance(payload, str) else payload)
    before = path.read_bytes()
    with pytest.raises(DocumentError) as info:
        storage.load(path)
    message = info.value.message
    assert "\n" not in message and "Traceback" not in message
    assert path.read_bytes() == before  # loading never writes
    return message


def mutate(edit: Any) -> str:
    data = demo()
    edit(data)
    return json.dumps(data)


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def edit(data: dict[str, Any]) -> None:
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return edit


def test_the_demo_itself_loads() -> None:
    doc = storage.load(DEMO)
    assert doc.has_evaluation_result
    assert judge(doc).domains


# --------------------------------------------------------------------- the seven classes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([1], "$.performance_types[0]: expected text, got 1"),
        ([["apparent"]], '$.performance_types[0]: expected text, got ["apparent"]'),
        ([{"id": "apparent"}], "$.performance_types[0]: expected text"),
        ([None], "$.performance_types[0]: expected text, got null"),
        ("apparent", "$.performance_types: expected a list"),
    ],
)
def test_non_string_performance_types(tmp_path: Path, value: Any, expected: str) -> None:
    assert expected in load_error(tmp_path, mutate(_set(("performance_types",), value)))


def test_audit_entry_with_an_extra_key(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["audit"][3]["extra"] = "planted"

    message = load_error(tmp_path, mutate(edit))
    assert "$.audit[3].extra: unknown key" in message


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("created", "$.audit[0]: expected an object"),
        ({"ts": "x", "reviewer": "y"}, "$.audit[0].field: missing"),
        ({"ts": 1, "reviewer": "y", "field": "z"}, "$.audit[0].ts: expected text, got 1"),
    ],
)
def test_audit_entries_of_the_wrong_shape(tmp_path: Path, entry: Any, expected: str) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["audit"][0] = entry

    assert expected in load_error(tmp_path, mutate(edit))


def test_audit_entry_without_old_and_new_still_loads(tmp_path: Path) -> None:
    data = demo()
    data["audit"][0] = {"ts": "2026-01-01", "reviewer": "R", "field": "document"}
    doc = storage.loads(json.dumps(data).encode())
    assert (doc.audit[0].old, doc.audit[0].new) == (None, None)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("training_demographics", "many", "$.datasheet.training_demographics: expected an object"),
        ("training_demographics", {"sex": [1, 2]}, ".training_demographics.sex: expected an obj"),
        (
            "training_demographics",
            {"sex": {"Female": "lots"}},
            '$.datasheet.training_demographics.sex.Female: expected a number or null, got "lots"',
        ),
        ("training_demographics", {"sex": {"Female": -3}}, "at least 0"),
        ("training_total_n", "69030 people", "$.datasheet.training_total_n: expected a number"),
        ("relates_to_people", "yes", "$.datasheet.relates_to_people: expected true, false or"),
        ("purpose", {"text": "x"}, "$.datasheet.purpose: expected text"),
    ],
)
def test_wrong_typed_datasheet(tmp_path: Path, key: str, value: Any, expected: str) -> None:
    assert expected in load_error(tmp_path, mutate(_set(("datasheet", key), value)))


def test_wrong_typed_sections(tmp_path: Path) -> None:
    cases = [
        (("datasheet",), [], "$.datasheet: expected an object, got []"),
        (("model_card", "model_name"), 7, "$.model_card.model_name: expected text, got 7"),
        (("reviewer", "name"), ["A"], "$.reviewer.name: expected text"),
        (("review_question", "intended_use"), 3, "$.review_question.intended_use: expected"),
        (("reference_population",), {"sex": {"F": "half"}}, "$.reference_population.sex.F"),
        (("answers", "1.1@development", "rationale"), 5, '$.answers["1.1@development"].ratio'),
        (("answers", "1.1@development", "sources"), [{"document": 1}], "sources[0].document"),
        (("domains", "main:D1", "rationale"), None, '$.domains["main:D1"].rationale: expected'),
        (("id",), "../../../etc/cron.d/x", "$.id: expected an identifier"),
        (("instrument",), {"id": "probast-2019", "x": 1}, "$.instrument.x: unknown key"),
    ]
    for path, value, expected in cases:
        assert expected in load_error(tmp_path, mutate(_set(path, value))), path


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ("groups", 3, "metrics", "tpr", "value"),
            "abc",
            '$.evaluation.result.groups[3].metrics.tpr.value: expected a number or null, got "abc"',
        ),
        (("groups", 0, "n"), 12.5, "$.evaluation.result.groups[0].n: expected a whole number"),
        (("groups", 0, "n_pos"), -1, "groups[0].n_pos: expected a whole number of at least 0"),
        (("groups", 1, "flags"), "small", "$.evaluation.result.groups[1].flags: expected a list"),
        (("groups",), {"a": 1}, "$.evaluation.result.groups: expected a list"),
        (("overall",), None, "$.evaluation.result.overall: expected an object, got null"),
        (("schema",), "probity-evaluation/9", "$.evaluation.result.schema: this result has"),
        (("disparities", 0, "flagged"), "yes", "$.evaluation.result.disparities[0].flagged"),
        (("disparities", 0, "ratio"), [1], "$.evaluation.result.disparities[0].ratio: expected"),
        (("summary", 0, "value"), True, "$.evaluation.result.summary[0].value: expected a number"),
        (("methods", "auroc"), 1, "$.evaluation.result.methods.auroc: expected text"),
        (("representativeness", 0, "validation_n"), "9", "representativeness[0].validation_n"),
        (("threshold_grid", "thresholds"), "0.5", "$.evaluation.result.threshold_grid.thresh"),
        (("threshold_grid", "groups", 0, "tpr"), [0.5], "expected 101 values (one per thresho"),
        (("provenance", "rows_read"), "many", "$.evaluation.result.provenance.rows_read"),
        (("provenance", "mapping", "score_kind"), "odds", "provenance.mapping.score_kind"),
        (("spec", "intersections"), [[1, 2]], "$.evaluation.result.spec.intersections[0][0]"),
        (("spec", "bootstrap"), "lots", "$.evaluation.result.spec: The evaluation settings are"),
        (("notes",), [None], "$.evaluation.result.notes[0]: expected text, got null"),
        (("created",), None, "$.evaluation.result.created: expected text, got null"),
    ],
)
def test_garbage_evaluation_result(
    tmp_path: Path, path: tuple[Any, ...], value: Any, expected: str
) -> None:
    message = load_error(tmp_path, mutate(_set(("evaluation", "result", *path), value)))
    assert expected in message, message


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ("garbage", "$.evaluation.result: expected an object"),
        ({}, "$.evaluation.result.schema"),
        ({"schema": "probity-evaluation/1"}, "$.evaluation.result.provenance: missing"),
        ([1, 2, 3], "$.evaluation.result: expected an object"),
    ],
)
def test_whole_result_replaced_by_garbage(tmp_path: Path, result: Any, expected: str) -> None:
    assert expected in load_error(tmp_path, mutate(_set(("evaluation", "result"), result)))


def test_garbage_evaluation_settings(tmp_path: Path) -> None:
    cases = [
        (("config",), "x", "$.evaluation.config: expected an object"),
        (("config", "mapping", "attributes"), "race", "$.evaluation.config.mapping.attributes"),
        (("config", "mapping", "bins"), {"age": ["a"]}, "config.mapping.bins.age[0]: expected"),
        (("config", "spec", "threshold"), "high", "$.evaluation.config.spec: The evaluation"),
        (("config", "sha256"), 5, "$.evaluation.config.sha256: expected text or null"),
        (("extra",), 1, "$.evaluation.extra: unknown key"),
    ]
    for path, value, expected in cases:
        message = load_error(tmp_path, mutate(_set(("evaluation", *path), value)))
        assert expected in message, message


def test_result_reader_alone_names_paths() -> None:
    """EvaluationResult.from_json (also used outside documents) raises a path-naming error."""
    result = demo()["evaluation"]["result"]
    result["groups"][2]["metrics"]["auroc"]["ci_low"] = {"x": 1}
    with pytest.raises(ResultFormatError) as info:
        EvaluationResult.from_json(result)
    assert info.value.path == "$.groups[2].metrics.auroc.ci_low"
    assert isinstance(info.value, EvaluationError)


def test_lone_surrogate(tmp_path: Path) -> None:
    text = mutate(_set(("notes",), "PLACEHOLDER")).replace("PLACEHOLDER", "bad \\ud800 text")
    message = load_error(tmp_path, text)
    assert "$.notes: text with a lone UTF-16 surrogate" in message
    text = mutate(_set(("model_card", "PLACEHOLDER"), "x")).replace("PLACEHOLDER", "\\udfff")
    assert '$.model_card["\\udfff"]' in load_error(tmp_path, text)
    text = DEMO_TEXT.replace('"Demo Reviewer"', '"Demo \\udc80Reviewer"', 1)
    assert "lone UTF-16 surrogate" in load_error(tmp_path, text)


def test_deep_nesting(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    text = mutate(_set(("notes",), "PLACEHOLDER")).replace('"PLACEHOLDER"', deep)
    assert "nested too deeply" in load_error(tmp_path, text)
    assert "nested too deeply" in load_error(tmp_path, "[" * 100_000)
    # Shallow enough for the JSON parser, too deep for anything the document holds.
    text = mutate(_set(("model_card", "extra"), "PLACEHOLDER")).replace(
        '"PLACEHOLDER"', "[" * 500 + "]" * 500
    )
    message = load_error(tmp_path, text)
    assert "$.model_card.extra[0][0]" in message and "nested deeper than 64 levels" in message
    text = '{"a":' * 50_000 + "1" + "}" * 50_000
    assert "nested too deeply" in load_error(tmp_path, text)


def test_huge_integers_and_non_numbers(tmp_path: Path) -> None:
    text = mutate(_set(("datasheet", "training_total_n"), "PLACEHOLDER"))
    message = load_error(tmp_path, text.replace('"PLACEHOLDER"', "9" * 5000))
    assert "an integer with 5,000 digits" in message
    message = load_error(tmp_path, text.replace('"PLACEHOLDER"', "9" * 30))
    assert "$.datasheet.training_total_n: an integer too large (30 digits)" in message
    message = load_error(tmp_path, text.replace('"PLACEHOLDER"', "1e999"))
    assert "$.datasheet.training_total_n: inf is not a finite number" in message
    for constant in ("NaN", "Infinity", "-Infinity"):
        message = load_error(tmp_path, text.replace('"PLACEHOLDER"', constant))
        assert f"the non-number {constant}" in message
    grid = mutate(_set(("evaluation", "result", "groups", 0, "n"), "PLACEHOLDER"))
    assert "an integer with 5,000 digits" in load_error(
        tmp_path, grid.replace('"PLACEHOLDER"', "-" + "1" * 5000)
    )


def test_the_top_level_and_markers(tmp_path: Path) -> None:
    assert "$: expected a JSON object" in load_error(tmp_path, "[]")
    assert "$: expected a JSON object" in load_error(tmp_path, '"text"')
    assert "$.schema_version: missing or not a whole number" in load_error(
        tmp_path, mutate(_set(("schema_version",), True))
    )
    assert "$.planted: unknown key" in load_error(tmp_path, mutate(_set(("planted",), 1)))

    def drop(data: dict[str, Any]) -> None:
        del data["answers"]

    assert "$.answers: missing" in load_error(tmp_path, mutate(drop))


def test_special_files_and_sizes_are_refused_before_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.probity"
    os.mkfifo(fifo)
    assert "is a named pipe (FIFO), not a Probity assessment file" in load_error_path(fifo)
    link = tmp_path / "zero.probity"
    link.symlink_to("/dev/zero")
    assert "is a device, not a Probity assessment file" in load_error_path(link)
    assert "is a folder" in load_error_path(tmp_path)
    big = tmp_path / "big.probity"
    with big.open("wb") as fh:
        fh.truncate(storage.MAX_DOCUMENT_BYTES + 1)  # sparse: no disk used
    assert "over the 256 MB limit" in load_error_path(big)


def load_error_path(path: Path) -> str:
    with pytest.raises(DocumentError) as info:
        storage.load(path)
    assert "\n" not in info.value.message
    return info.value.message


def test_recovery_listing_skips_damaged_snapshots(tmp_path: Path) -> None:
    folder = tmp_path / "recovery"
    folder.mkdir()
    (folder / "a.recovery.json").write_text("[" * 100_000)
    (folder / "b.recovery.json").write_text('{"document": 5}')
    (folder / "c.recovery.json").write_text(json.dumps({"document": demo(), "original": None}))
    os.mkfifo(folder / "d.recovery.json")
    found = storage.list_recoveries(folder)
    assert [r.path.name for r in found] == ["c.recovery.json"]


# --------------------------------------------------------------------- the commands


def _main(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main.main(list(argv))
    out = capfd.readouterr()
    return code, out.out, out.err


def test_judge_and_report_commands_give_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.probity"
    bad.write_text(
        mutate(_set(("evaluation", "result", "groups", 3, "metrics", "tpr", "value"), "abc"))
    )
    for argv in (("judge", str(bad)), ("report", str(bad), "--out", str(tmp_path / "r.pdf"))):
        code, _, err = _main(capfd, *argv)
        assert code == 2
        assert err.count("\n") == 1 and "Traceback" not in err
        assert "$.evaluation.result.groups[3].metrics.tpr.value" in err
    assert not (tmp_path / "r.pdf").exists()


def test_report_refuses_to_write_over_its_input(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "a.probity"
    doc.write_text(DEMO_TEXT)
    hard = tmp_path / "hard.pdf"
    os.link(doc, hard)
    soft = tmp_path / "soft.pdf"
    soft.symlink_to(doc)
    for out in (doc, hard, soft, tmp_path / "." / "a.probity"):
        code, _, err = _main(capfd, "report", str(doc), "--out", str(out))
        assert code == 2, out
        assert "is the input file" in err and err.count("\n") == 1
    assert doc.read_text() == DEMO_TEXT


def test_sign_extract_and_evaluate_refuse_their_inputs(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%not really\n")
    key = tmp_path / "id.p12"
    key.write_bytes(b"key")
    words = tmp_path / "pass.txt"
    words.write_text("secret")
    data = tmp_path / "data.csv"
    data.write_text("y,score,sex\n1,0.9,F\n0,0.1,M\n")
    runs = [
        ("sign", str(pdf), "--out", str(pdf), "--sign", str(key), "--passphrase-file", str(words)),
        ("sign", str(pdf), "--out", str(key), "--sign", str(key), "--passphrase-file", str(words)),
        ("extract", str(pdf), "--out", str(pdf)),
        (
            "evaluate",
            str(data),
            "--label",
            "y",
            "--score",
            "score",
            "--group",
            "sex",
            "--json",
            str(data),
        ),
        (
            "evaluate",
            str(data),
            "--label",
            "y",
            "--score",
            "score",
            "--group",
            "sex",
            "--csv",
            str(data),
        ),
        (
            "evaluate",
            str(data),
            "--label",
            "y",
            "--score",
            "score",
            "--group",
            "sex",
            "--csv",
            str(tmp_path / "o.csv"),
            "--json",
            str(tmp_path / "o.csv"),
        ),
    ]
    for argv in runs:
        code, _, err = _main(capfd, *argv)
        assert code == 2, argv
        assert "is the input file" in err and err.count("\n") == 1, err
    assert pdf.read_bytes() == b"%PDF-1.7\n%not really\n"
    assert key.read_bytes() == b"key"
    assert data.read_text().startswith("y,score,sex")


def test_unwritable_and_too_long_output_paths_give_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "a.probity"
    doc.write_text(DEMO_TEXT)
    outs = {
        "name is too long": tmp_path / ("x" * 300 + ".pdf"),
        "does not exist": tmp_path / "missing" / "r.pdf",
        "it is a folder": tmp_path,
        "is a device": Path("/dev/null"),
        "permission denied": Path("/sys/r.pdf"),  # not writable even for root
    }
    for expected, out in outs.items():
        code, _, err = _main(capfd, "report", str(doc), "--out", str(out))
        assert code == 2, out
        assert expected in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.probity"]


# --------------------------------------------------------------------- the atomic writer


def test_atomic_write_guarantee(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    seen: dict[str, Any] = {}
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_mode)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)

    def writer(handle: Any) -> None:
        temps = [p for p in tmp_path.iterdir() if p.name != "out.bin"]
        seen["temps"] = temps
        handle.write(b"new")

    fileio.atomic_write(target, writer)
    assert target.read_bytes() == b"new"
    (temp,) = seen["temps"]  # the temp file sat beside the target, with the recognisable name
    assert fileio.is_temp_file(temp) and temp.name.startswith(".out.bin.")
    assert temp.name.endswith(fileio.TEMP_SUFFIX) and not temp.exists()
    import stat

    assert any(stat.S_ISREG(m) for m in synced) and any(stat.S_ISDIR(m) for m in synced)

    def broken(handle: Any) -> None:
        handle.write(b"half")
        raise RuntimeError("writer crashed")

    with pytest.raises(RuntimeError):
        fileio.atomic_write(target, broken)
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]

    def full(handle: Any) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(DataError, match="no space left on the disk") as info:
        fileio.atomic_write(target, full, error=DataError)
    assert "\n" not in info.value.message
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_write_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.probity"
    real.write_text("old")
    link = tmp_path / "link.probity"
    link.symlink_to(real)
    fileio.atomic_write(link, b"new")
    assert link.is_symlink() and real.read_text() == "new"


def test_long_target_names_get_a_temp_name_that_fits(tmp_path: Path) -> None:
    target = tmp_path / ("n" * 240 + ".probity")
    fileio.atomic_write(target, b"ok")
    assert target.read_bytes() == b"ok"


def test_unencodable_text_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="cannot be encoded"):
        fileio.atomic_write_text(tmp_path / "x.txt", "bad \ud800")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------- fuzz


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):  # the first items stand for the rest
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(DEMO_DATA)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _load_or_one_line(payload: bytes) -> None:
    """The fuzz property: a DocumentError of one line, or a document every reader can use."""
    try:
        doc = storage.loads(payload, source="mutated.probity")
    except DocumentError as exc:
        assert "\n" not in exc.message
        return
    _exercise(doc)


def _exercise(doc: Any) -> None:
    """What the GUI, judge and report read from a loaded document."""
    judge(doc)
    _ = (
        doc.title,
        doc.answers,
        doc.domain_judgements,
        doc.audit,
        doc.reviewer,
        doc.training_demographics,
        doc.reference_population,
        doc.model_card,
        doc.datasheet,
    )
    result = doc.evaluation.result_json()
    if result is not None:
        EvaluationResult.from_json(result)
    storage.loads(storage.dumps(doc))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(PATHS),
    action=st.sampled_from(["replace", "delete", "add", "wrap"]),
    value=JSON_VALUES,
)
@pytest.mark.slow
def test_fuzz_mutations_load_or_give_one_line(
    path: tuple[Any, ...], action: str, value: Any
) -> None:
    data = demo()
    if not path:
        data = value if action == "replace" else [data]
    else:
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        if action == "replace":
            parent[key] = value
        elif action == "delete":
            del parent[key]
        elif action == "wrap":
            parent[key] = [parent[key]]
        elif isinstance(parent, dict):
            parent[f"{key}_extra"] = value
        else:
            parent.insert(key, value)
    _load_or_one_line(json.dumps(data).encode("utf-8"))


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(0, len(DEMO_TEXT)), junk=st.binary(max_size=8))
@pytest.mark.slow
def test_fuzz_byte_damage_loads_or_gives_one_line(cut: int, junk: bytes) -> None:
    raw = DEMO_TEXT.encode("utf-8")
    payload = raw[:cut] + junk + raw[cut + len(junk) :]
    _load_or_one_line(payload)
