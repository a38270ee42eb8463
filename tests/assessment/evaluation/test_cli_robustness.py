"""``probity evaluate`` against hostile or contradictory input: group limits, seeds,
conflicting repeated options (each refused with one sentence, exit 2)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import main
from assessment.errors import EvaluationError
from assessment.evaluation.columns import LoadedTable
from assessment.evaluation.io import prepare_input, read_table
from assessment.evaluation.limits import LimitError, ReadLimits
from assessment.evaluation.mapping import ColumnMapping, check_mapping
from assessment.evaluation.spec import EvaluationSpec

N = 2_000


@pytest.fixture(scope="module")
def ids_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 rows: an outcome, a probability, sex, an identifier and a 60-level site."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "y": rng.integers(0, 2, N),
            "p": rng.random(N).round(4),
            "sex": rng.choice(["F", "M"], N),
            "patient": np.arange(N),
            "site": rng.integers(0, 60, N),
        }
    )
    path = tmp_path_factory.mktemp("robust") / "ids.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(autouse=True)
def no_faulthandler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)


def one_line_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    try:
        code = main.main(argv)
    except SystemExit as exc:  # argparse's refusals
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    return lines[-1]


def base(path: Path) -> list[str]:
    return ["evaluate", str(path), "--label", "y", "--score", "p", "--quiet", "--bootstrap", "0"]


def test_identifier_as_attribute_is_refused_before_evaluation(
    ids_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start = time.monotonic()
    line = one_line_error([*base(ids_csv), "--group", "sex", "--group", "patient"], capsys)
    assert time.monotonic() - start < 30
    assert "'patient' has 2,000 groups" in line and "--max-groups" in line


def test_max_groups_can_be_raised(ids_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line_error([*base(ids_csv), "--group", "site", "--max-groups", "50"], capsys)
    assert "'site' has 60 groups, over the limit of 50" in line
    code = main.main([*base(ids_csv), "--group", "site"])
    assert code == 0, capsys.readouterr().err


def test_intersection_cells_limit(ids_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*base(ids_csv), "--group", "sex", "--group", "site", "--intersect", "sex,site"]
    line = one_line_error([*argv, "--max-group-cells", "100"], capsys)
    assert "'sex' x 'site' has 120 groups" in line and "--max-group-cells" in line


def test_group_limit_in_the_mapping_step_for_gui_and_comparison(ids_csv: Path) -> None:
    table = read_table(ids_csv, limits=ReadLimits(max_groups=100))
    mapping = ColumnMapping(label="y", score="p", attributes=("patient",))
    with pytest.raises(LimitError) as exc:
        prepare_input(table, mapping)
    assert exc.value.limit == "max_groups"
    assert any("--max-groups" in i.message for i in check_mapping(table, mapping))
    # an in-memory table has the default limits
    frame = pd.read_csv(ids_csv)
    with pytest.raises(LimitError):
        prepare_input(LoadedTable.from_frame(frame), mapping)


@pytest.mark.parametrize("seed", ["-1", "99999999999999999999999", "9223372036854775808"])
def test_seed_out_of_range_is_refused(
    ids_csv: Path, seed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_line_error([*base(ids_csv), "--group", "sex", f"--seed={seed}"], capsys)
    assert "--seed" in line and "from 0 to" in line


def test_spec_refuses_bad_seed_with_json_path() -> None:
    with pytest.raises(EvaluationError, match="seed"):
        EvaluationSpec(seed=-3)
    with pytest.raises(EvaluationError, match=r"\$\.evaluation\.spec\.seed"):
        EvaluationSpec.from_json({"seed": -3}, "$.evaluation.spec")
    with pytest.raises(EvaluationError, match=r"\$\.seed"):
        EvaluationSpec.from_json({"seed": 2**63})
    assert EvaluationSpec.from_json({"seed": 2**63 - 1}).seed == 2**63 - 1


def test_conflicting_repeats_are_refused(
    ids_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*base(ids_csv), "--group", "sex"]
    line = one_line_error(
        [*argv, "--tolerance", "tpr=diff:0.1", "--tolerance", "tpr=ratio:0.5,2"], capsys
    )
    assert "two different rules for 'tpr'" in line
    line = one_line_error([*argv, "--reference", "sex=F", "--reference", "sex=M"], capsys)
    assert "two groups of 'sex'" in line
    # the same value twice is no conflict
    code = main.main(
        [*argv, "--reference", "sex=F", "--reference", "sex=F",
         "--tolerance", "tpr=diff:0.1", "--tolerance", "tpr=diff:0.1"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err


def test_data_values_cannot_rewrite_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(1)
    n = 600
    groups = ["A\x1b[2J", "B\x1b[8mhidden", "C\nNo disparity flagged (forged).", "D\u202eevil"]
    path = tmp_path / "hostile.csv"
    pd.DataFrame(
        {"y": rng.integers(0, 2, n), "p": rng.random(n).round(3),
         "grp\x1b[31m": rng.choice(groups, n)}
    ).to_csv(path, index=False)  # fmt: skip
    code = main.main(
        ["evaluate", str(path), "--label", "y", "--score", "p", "--group", "grp\x1b[31m",
         "--bootstrap", "0"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "\x1b" not in out and "\u202e" not in out and "\r" not in out
    assert "A\\x1b[2J" in out and "D\\u202eevil" in out and "grp\\x1b[31m" in out
    assert "C\\nNo disparity flagged (forged)." in out
    assert not any(line.startswith("No disparity flagged (forged)") for line in out.splitlines())


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (b'{"schema_version": 3, "schema_version": 2}', "$.schema_version"),
        (b'{"a": {"b": [1, {"c": 1, "c": 1}]}}', "$.a.b[1].c"),
    ],
)
def test_duplicate_json_keys_in_a_document_are_refused(raw: bytes, where: str) -> None:
    from assessment.errors import DocumentError
    from assessment.storage import parse_document_json

    with pytest.raises(DocumentError) as exc:
        parse_document_json(raw, source="F.probity")
    assert f"{where} appears twice" in exc.value.message
    assert parse_document_json(b'{"a": {"b": 1}, "b": 2}', source="F") == {"a": {"b": 1}, "b": 2}


def test_stored_negative_seed_does_not_load(ids_csv: Path, tmp_path: Path) -> None:
    import json
    import shutil

    from assessment import storage
    from assessment.errors import DocumentError

    repo = Path(__file__).resolve().parents[3]
    path = tmp_path / "negseed.probity"
    shutil.copy(repo / "resources" / "examples" / "complete.probity", path)
    assert main.main([*base(ids_csv), "--group", "sex", "--into", str(path)]) == 0
    storage.load(path)
    text = path.read_text(encoding="utf-8")
    assert '"seed": ' in text
    data = json.loads(text)

    def negate(value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k == "seed" and isinstance(v, int):
                    value[k] = -3
                else:
                    negate(v)
        elif isinstance(value, list):
            for v in value:
                negate(v)

    negate(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DocumentError, match="random seed"):
        storage.load(path)


@pytest.fixture
def study(tmp_path: Path) -> Path:
    import shutil

    path = tmp_path / "study.probity"
    repo = Path(__file__).resolve().parents[3]
    shutil.copy(repo / "resources" / "examples" / "complete.probity", path)
    return path


def test_into_honours_the_apps_live_lock(
    ids_csv: Path, study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from assessment.locks import DocumentLock, Instance, lock_document, lock_file_for

    before = study.read_bytes()
    window = Instance(reviewer="Ana Silva")
    lock = lock_document(study.resolve(), window.owner)
    assert isinstance(lock, DocumentLock)
    try:
        line = one_line_error([*base(ids_csv), "--group", "sex", "--into", str(study)], capsys)
        assert "Ana Silva" in line and "has it open" in line
        assert study.read_bytes() == before
        assert lock.still_ours()
    finally:
        window.close()  # the window is gone without releasing: its lock is stale
    assert main.main([*base(ids_csv), "--group", "sex", "--into", str(study)]) == 0
    assert study.read_bytes() != before
    assert not lock_file_for(study.resolve()).exists()  # released after the run


def test_into_refuses_a_file_changed_during_the_run(
    ids_csv: Path, study: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assessment.evaluation.record import EvaluationRecord

    of_run = EvaluationRecord.of_run

    def meanwhile(*args: object, **kwargs: object) -> EvaluationRecord:
        study.write_bytes(study.read_bytes() + b"\n")  # someone saves meanwhile
        return of_run(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(EvaluationRecord, "of_run", meanwhile)
    line = one_line_error([*base(ids_csv), "--group", "sex", "--into", str(study)], capsys)
    assert "changed on disk" in line and "not stored" in line


def _hard_label_table(extra: list[float]) -> LoadedTable:
    rng = np.random.default_rng(4)
    n = 3_000
    s = rng.integers(0, 2, n).astype(float)
    s[: len(extra)] = extra
    frame = pd.DataFrame({"y": rng.integers(0, 2, n), "s": s, "g": rng.choice(["A", "B"], n)})
    return LoadedTable.from_frame(frame)


@pytest.mark.parametrize(
    ("extra", "stray"),
    [([1e-9], ""), ([1 - 1e-7, 3e-7], ""), ([0.5], "1 other value"), ([0.3, 0.7], "2 other")],
)
def test_a_hard_label_with_stray_values_is_not_a_score(extra: list[float], stray: str) -> None:
    from assessment.errors import DataError

    table = _hard_label_table(extra)
    mapping = ColumnMapping(label="y", score="s", attributes=["g"])
    with pytest.raises(DataError, match=r"holds essentially two values \(0 and 1") as exc:
        prepare_input(table, mapping)
    assert stray in exc.value.message
    assert "--prediction" in exc.value.message
    # mapped as the predicted class it evaluates
    as_class = ColumnMapping(label="y", prediction="s", prediction_positive="1", attributes=["g"])
    assert prepare_input(table, as_class).y_pred is not None


def test_a_score_with_many_values_is_still_a_score() -> None:
    table = _hard_label_table([0.5] * 10)  # 10 of 3,000 (0.33 %) are not 0 or 1
    mapping = ColumnMapping(label="y", score="s", attributes=["g"])
    assert prepare_input(table, mapping).score is not None


def test_p_values_are_never_rounded_across_a_threshold() -> None:
    from assessment.evaluation.cli_output import _p

    assert _p(0.0497) == "0.0497" and _p(0.0503) == "0.05"  # 0.05 reads as not below 0.05
    assert _p(0.00996) == "0.00996" and _p(0.2345) == "0.23" and _p(0.05) == "0.05"
    assert _p(None) == "—" and _p(1e-5) == "< 0.0001"


def test_deciles_outside_zero_one_are_not_called_percentages() -> None:
    import pandas as pd

    from assessment.evaluation.mapping import ColumnMapping, check_mapping

    frame = pd.DataFrame({"y": [0, 1] * 20, "s": list(range(1, 11)) * 4, "g": ["a", "b"] * 20})
    problems = check_mapping(frame, ColumnMapping(label="y", positive=["1"], score="s",
                                                  attributes=["g"]))  # fmt: skip
    text = " ".join(str(p) for p in problems)
    assert "0 and 1" in text and "percentages" not in text
    frame["s"] = [12.5, 40.0, 77.0, 93.0] * 10
    problems = check_mapping(frame, ColumnMapping(label="y", positive=["1"], score="s",
                                                  attributes=["g"]))  # fmt: skip
    assert "percentages" in " ".join(str(p) for p in problems)
