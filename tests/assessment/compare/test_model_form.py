"""The comparison form's rows (``model_form``): refused in the form's words before the CLI
sees them, the same name rules as the CLI, the key column of models from their own files, and
suggestions that never take the outcome, a group, the patient or the key column for a model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import main
from assessment.compare.model_form import FormModel, column_roles, model_argv, suggest_models
from assessment.errors import DataError
from assessment.evaluation.io import read_table

P, Q = FormModel("P", "pa"), FormModel("Q", "pb")


@pytest.mark.parametrize(
    ("rows", "key", "message"),
    [
        ([P, FormModel("Q", "pb", threshold="abc")], "",
         "Model 'Q': the Threshold 'abc' is not a number"),
        ([P, FormModel("Q", "pb", threshold="nan")], "", "'nan' is not a number"),
        ([P, FormModel("Q", "pb", threshold="1.5")], "", "between 0 and 1, not 1.5"),
        ([P, FormModel("A=B", "pb")], "", "The model name 'A=B' contains '='"),
        ([P, FormModel("A\nB", "pb")], "", "contains a line break"),
        ([P, FormModel("A\x1fB", "pb")], "", "another control character"),
        ([FormModel("Vendor A", "pa"), FormModel("vendor a", "pb")], "",
         "Two models are named 'Vendor A' and 'vendor a', which differ only in capitals"),
        ([P, FormModel("Q", "vendor.csv:risk")], "",
         "Model 'Q' comes from its own file: enter the Key column"),
        ([P, FormModel("Q", "vendor.csv:risk")], "  ", "enter the Key column"),
        ([P, FormModel("", "")], "", "at least two models: fill in a second row"),
        ([FormModel(f"M{i}", "pa") for i in range(13)], "", "at most 12 models, not 13"),
        ([P, FormModel("treat none", "pb")], "", "reference strategy"),
    ],
)
def test_bad_rows_are_refused_in_the_forms_words(rows: list[FormModel], key: str,
                                                message: str) -> None:
    with pytest.raises(DataError) as err:
        model_argv(rows, key)
    text = str(err.value)
    assert message in text, text
    assert "--" not in text and "\n" not in text  # no CLI syntax, one line


def test_key_column_becomes_the_key_option() -> None:
    argv = model_argv([P, FormModel("Q", "vendor.csv:risk", "score", "3")], " id ")
    assert argv[-1] == "--key=id"
    assert argv[2] == "--model=Q=vendor.csv:risk"
    assert not any(a.startswith("--key") for a in model_argv([P, Q]))  # no key: no --key
    assert model_argv([P, Q], "id")[-1] == "--key=id"  # harmless for one file


def _frame(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "id": [f"p{i:04d}" for i in range(n)],
        "y": (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x - 1)))).astype(int),
        "sex": rng.choice(["F", "M"], n),
        "pa": np.round(1 / (1 + np.exp(-(x + rng.normal(size=n) - 1))), 3),
        "pb": np.round(1 / (1 + np.exp(-(0.5 * x + rng.normal(size=n) - 1))), 3),
    })


@pytest.mark.parametrize(
    ("models", "message"),
    [(["A\nB=pb"], "contains a line break"),
     (["a=pb"], "Two models are named 'A' and 'a', which differ only in capitals")],
)
def test_the_cli_refuses_the_same_names(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        models: list[str], message: str) -> None:
    data = tmp_path / "val.csv"
    _frame().to_csv(data, index=False)
    argv = ["compare", str(data), "--label", "y", "--group", "sex", "--model", "A=pa",
            "--bootstrap", "0", "--quiet"]
    for m in models:
        argv += ["--model", m]
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err


def test_a_model_reading_the_outcome_or_a_group_column_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roles = column_roles("y", "sex", "id", "")
    with pytest.raises(DataError, match="Model 'Q' reads the column 'y', which is the outcome"):
        model_argv([P, FormModel("Q", "y", "class")], "", roles)
    with pytest.raises(DataError, match="which is the patient column, not a prediction"):
        model_argv([P, FormModel("Q", "id")], "", roles)
    assert model_argv([P, FormModel("Q", "v.csv:y")], "id", roles)  # another file's y
    data = tmp_path / "val.csv"
    _frame().to_csv(data, index=False)
    for model, message in (("B=y", "which is the outcome column"),
                           ("B=sex", "which is a group column")):
        argv = ["compare", str(data), "--label", "y", "--group", "sex", "--model", "A=pa",
                "--model", model, "--kind", "B=class", "--bootstrap", "0", "--quiet"]
        assert main.main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err


def test_suggestions_skip_the_columns_with_another_role(tmp_path: Path) -> None:
    data = tmp_path / "val.csv"
    _frame().to_csv(data, index=False)
    rows = [FormModel("A", "y"), FormModel("B", "sex"), FormModel("C", "id"), FormModel("D", "pa")]
    found = suggest_models(str(data), "y", rows, lambda p: read_table(p),
                           column_roles("y", "sex, age", "id", ""))
    assert found[0].kind is None and "y: the outcome column, not a model's" in found[0].sentence
    assert found[1].kind is None and "sex: a group column" in found[1].sentence
    assert found[2].kind is None and "id: the patient column" in found[2].sentence
    assert found[3].kind == "probability"
    # without the roles the 0/1 outcome would be proposed as a predicted class
    assert suggest_models(str(data), None, rows[:1], lambda p: read_table(p))[0].kind == "class"
    # the label alone is always taken
    assert suggest_models(str(data), "y", rows[:1], lambda p: read_table(p))[0].kind is None
    assert column_roles("y", "", "", "id") == {"id": "the key column", "y": "the outcome column"}


def test_own_file_without_a_column_is_refused_in_the_forms_words() -> None:
    with pytest.raises(DataError, match=r"Model 'Q': name the column of v.csv after the colon"):
        model_argv([P, FormModel("Q", "v.csv:")], "id")


@pytest.mark.parametrize(
    ("cli", "form"),
    [('map it as the predicted class instead (--kind "B"=class).',
      "map it as the predicted class instead (the kind Predicted class for B)."),
     ('or give --kind "My B"=score with --threshold "My B"=T.',
      "or choose the kind Raw score for My B and enter its Threshold."),
     ("so say which one is the positive prediction (--prediction-positive VALUE).",
      "so say which one is the positive prediction (enter it in the Flagged value column)."),
     ("so say which one is the positive outcome (--positive VALUE).",
      "so say which one is the positive outcome (enter it in the Event value field)."),
     ("name the patient key every file shares with --key.",
      "name the patient key every file shares in the Key column."),
     ("d.csv: 2,000 cells, over the limit of 1,000; if the file is genuine, raise it with "
      "--max-cells (in the app: Raise limit and read again).",
      "d.csv: 2,000 cells, over the limit of 1,000; if the file is genuine, raise it."),
     ("Column 'x' is not in d.csv; check the spelling.",
      "Column 'x' is not in d.csv; check the spelling.")],
)
def test_messages_name_the_forms_fields(cli: str, form: str) -> None:
    from assessment.compare.model_form import form_error, in_form_words

    assert in_form_words(cli) == form
    err = form_error(DataError(cli))
    assert str(err) == form and err.args == (form,)
