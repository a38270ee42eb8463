"""Reading validation files: formats, encodings, delimiters, decimal comma, broken files."""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assessment.errors import DataError
from assessment.evaluation.io import ColumnMapping, list_sheets, prepare_input, read_table

ROWS = [
    ("1", "0.9", "Café", "F"),
    ("0", "0.2", "Zoë", "M"),
    ("1", "0.7", "Café", "M"),
    ("0", "0.4", "Zoë", "F"),
]


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def csv_text(delimiter: str = ",", decimal: str = ".") -> str:
    lines = [delimiter.join(["y", "p", "site", "sex"])]
    for y, p, site, sex in ROWS:
        lines.append(delimiter.join([y, p.replace(".", decimal), site, sex]))
    return "\n".join(lines) + "\n"


def test_utf8_csv_records_provenance(tmp_path: Path) -> None:
    path = write_text(tmp_path / "data.csv", csv_text())
    table = read_table(path)
    assert table.file_name == "data.csv"
    assert table.rows_read == 4
    assert table.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert table.columns == ["y", "p", "site", "sex"]
    assert table.delimiter == "," and table.encoding == "utf-8" and table.sheet is None
    assert list(table.frame["site"]) == ["Café", "Zoë", "Café", "Zoë"]


def test_utf8_bom_is_not_part_of_first_column_name(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + csv_text().encode("utf-8"))
    table = read_table(path)
    assert table.encoding == "utf-8-sig"
    assert table.columns[0] == "y"


def test_latin1_fallback(tmp_path: Path) -> None:
    path = write_text(tmp_path / "latin.csv", csv_text(), "latin-1")
    table = read_table(path)
    assert table.encoding == "latin-1"
    assert set(table.frame["site"]) == {"Café", "Zoë"}


def test_latin1_byte_deep_in_a_large_file_is_found(tmp_path: Path) -> None:
    body = "y,g\n" + "1,a\n0,b\n" * 400_000 + "1,Gen\xe8ve\n"
    path = write_text(tmp_path / "late.csv", body, "latin-1")
    table = read_table(path)
    assert table.encoding == "latin-1"
    assert table.frame["g"].iloc[-1] == "Genève"


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes(csv_text().encode("utf-16"))
    table = read_table(path)
    assert table.columns == ["y", "p", "site", "sex"]
    assert table.rows_read == 4


def test_semicolon_with_decimal_comma(tmp_path: Path) -> None:
    path = write_text(tmp_path / "eu.csv", csv_text(";", ","))
    table = read_table(path)
    assert table.delimiter == ";" and table.decimal == ","
    assert table.frame["p"].tolist() == pytest.approx([0.9, 0.2, 0.7, 0.4])


def test_decimal_comma_in_a_column_with_missing_tokens(tmp_path: Path) -> None:
    text = "y;p;sex\n1;0,73;F\n0;?;M\n1;0,5;M\n0;0,25;F\n"
    table = read_table(write_text(tmp_path / "eu.csv", text))
    inputs = prepare_input(table, ColumnMapping(label="y", score="p", attributes=["sex"]))
    assert inputs.score.tolist() == pytest.approx([0.73, 0.5, 0.25])
    assert inputs.provenance.excluded == {"missing score": 1}


@pytest.mark.parametrize("name", ["data.tsv", "data.txt"])
def test_tab_separated(tmp_path: Path, name: str) -> None:
    table = read_table(write_text(tmp_path / name, csv_text("\t")))
    assert table.delimiter == "\t" and table.format == "tsv"
    assert table.columns == ["y", "p", "site", "sex"]


def test_pipe_and_explicit_delimiter(tmp_path: Path) -> None:
    path = write_text(tmp_path / "pipe.csv", csv_text("|"))
    assert read_table(path).delimiter == "|"
    forced = read_table(path, delimiter=",")
    assert forced.columns == ["y|p|site|sex"]


def test_explicit_encoding_wins(tmp_path: Path) -> None:
    path = write_text(tmp_path / "cp.csv", csv_text(), "cp1252")
    assert read_table(path, encoding="cp1252").encoding == "cp1252"


def test_quoted_delimiters_inside_cells(tmp_path: Path) -> None:
    text = 'y,p,site\n1,0.5,"Leeds, UK"\n0,0.1,"York, UK"\n'
    table = read_table(write_text(tmp_path / "q.csv", text))
    assert table.frame["site"].tolist() == ["Leeds, UK", "York, UK"]


def test_xlsx_sheets(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    frame = pd.DataFrame({"y": [1, 0, 1, 0], "p": [0.9, 0.2, 0.7, 0.4], "sex": list("FMMF")})
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"note": ["read me"]}).to_excel(writer, sheet_name="About", index=False)
        frame.to_excel(writer, sheet_name="Validation", index=False)
    assert list_sheets(path) == ["About", "Validation"]
    first = read_table(path)
    assert first.sheet == "About" and first.columns == ["note"]
    table = read_table(path, sheet="Validation")
    assert table.sheet == "Validation" and table.format == "xlsx" and table.rows_read == 4
    assert table.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    inputs = prepare_input(table, ColumnMapping(label="y", score="p", attributes=["sex"]))
    assert inputs.provenance.sheet == "Validation"
    assert inputs.score.tolist() == pytest.approx([0.9, 0.2, 0.7, 0.4])


def test_xlsx_wrong_sheet_lists_sheets(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    pd.DataFrame({"y": [1, 0]}).to_excel(path, sheet_name="Data", index=False)
    with pytest.raises(DataError, match=r"no sheet named 'Dta'.*'Data'"):
        read_table(path, sheet="Dta")


def test_xlsx_duplicate_header_detected(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "dup.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["y", "score", "score", "sex"])
    ws.append([1, 0.4, 0.6, "F"])
    ws.append([0, 0.3, 0.2, "M"])
    wb.save(path)
    table = read_table(path)
    assert table.duplicates == {"score": ("score", "score.1")}


def test_parquet_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    frame = pd.DataFrame(
        {"y": [True, False, True, False], "p": [0.9, 0.2, 0.7, 0.4], "race": ["A", None, "B", "A"]}
    )
    frame.to_parquet(path)
    table = read_table(path)
    assert table.format == "parquet" and table.rows_read == 4
    inputs = prepare_input(table, ColumnMapping(label="y", score="p", attributes=["race"]))
    assert inputs.y_true.tolist() == [True, False, True, False]
    race = inputs.attribute("race")
    assert race.levels == ("A", "B", "(missing)")
    assert race.codes.tolist() == [0, 2, 1, 0]


def test_parquet_categorical_and_nullable_columns(tmp_path: Path) -> None:
    path = tmp_path / "typed.parquet"
    frame = pd.DataFrame(
        {
            "y": pd.array([1, 0, None, 0, 1], dtype="Int64"),
            "p": pd.array([0.9, 0.2, 0.5, None, 0.6], dtype="Float64"),
            "race": pd.Categorical(["B", "A", "A", None, "B"]),
        }
    )
    frame.to_parquet(path)
    inputs = prepare_input(
        read_table(path), ColumnMapping(label="y", score="p", attributes=["race"])
    )
    assert inputs.provenance.excluded == {"missing outcome": 1, "missing score": 1}
    assert inputs.y_true.tolist() == [True, False, True]
    assert inputs.score.tolist() == pytest.approx([0.9, 0.2, 0.6])
    race = inputs.attribute("race")
    assert [race.levels[c] for c in race.codes] == ["B", "A", "B"]
    assert len({read_table(path): "cached"}) == 1  # hashable: the GUI may key caches on it


def test_parquet_is_detected_by_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "export.dat"
    pd.DataFrame({"y": [1, 0]}).to_parquet(path)
    assert read_table(path).format == "parquet"


# ---- broken files ------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.csv is empty"):
        read_table(path)


def test_whitespace_only_file(tmp_path: Path) -> None:
    path = write_text(tmp_path / "blank.csv", "\n\n   \n")
    with pytest.raises(DataError, match="is empty"):
        read_table(path)


def test_header_only(tmp_path: Path) -> None:
    path = write_text(tmp_path / "head.csv", "y,p,sex\n")
    with pytest.raises(DataError, match="header row but no data rows"):
        read_table(path)


def test_header_only_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "head.xlsx"
    pd.DataFrame({"y": [], "p": []}).to_excel(path, index=False)
    with pytest.raises(DataError, match="header row but no data rows"):
        read_table(path)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "model.csv"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(DataError, match="binary file"):
        read_table(path)


def test_corrupt_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 50)
    with pytest.raises(DataError, match="not a readable XLSX"):
        read_table(path)


def test_text_file_named_xlsx(tmp_path: Path) -> None:
    path = write_text(tmp_path / "fake.xlsx", csv_text())
    with pytest.raises(DataError, match="not a valid XLSX"):
        read_table(path)


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1" + b"\x01\x02" * 40 + b"PAR1")
    with pytest.raises(DataError, match="not a readable Parquet"):
        read_table(path)


def test_truncated_parquet(tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    pd.DataFrame({"y": np.arange(1000)}).to_parquet(good)
    bad = tmp_path / "cut.parquet"
    bad.write_bytes(good.read_bytes()[:300])
    with pytest.raises(DataError, match="Parquet"):
        read_table(bad)


def test_old_xls(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(DataError, match=r"\.xls.*save it as \.xlsx or CSV"):
        read_table(path)


def test_gzip(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(csv_text().encode()))
    with pytest.raises(DataError, match="gzip"):
        read_table(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="File not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a folder"):
        read_table(tmp_path)


def test_unterminated_quote_is_a_parse_error(tmp_path: Path) -> None:
    path = write_text(tmp_path / "quote.csv", 'y,p\n1,"0.5\n0,0.2\n')
    with pytest.raises(DataError, match=r"quote\.csv: a quoted value is never closed"):
        read_table(path)


def test_ragged_rows_are_a_parse_error(tmp_path: Path) -> None:
    path = write_text(tmp_path / "ragged.csv", "y,p\n1,0.5\n0,0.2,7,8\n1,0.1\n")
    with pytest.raises(DataError, match="ragged.csv: line 3 has 4 fields but the header has 2"):
        read_table(path)


def test_duplicate_columns_from_raw_header(tmp_path: Path) -> None:
    text = "y,score,sex,score\n1,0.9,F,0.1\n0,0.2,M,0.8\n1,0.6,M,0.3\n0,0.1,F,0.7\n"
    table = read_table(write_text(tmp_path / "dup.csv", text))
    assert table.duplicates == {"score": ("score", "score.1")}
    mapping = ColumnMapping(label="y", score="score", attributes=["sex"])
    with pytest.raises(DataError) as err:
        prepare_input(table, mapping)
    msg = err.value.message
    assert "'score'" in msg and "2 times" in msg and "'score.1'" in msg and "\n" not in msg


def test_identical_duplicate_columns_are_merged_differing_ones_refused(tmp_path: Path) -> None:
    text = "y,score,sex,score,sex\n1,0.9,F,0.9,F\n0,0.2,M,0.2,F\n1,0.6,M,0.6,M\n"
    table = read_table(write_text(tmp_path / "dup2.csv", text))
    assert table.columns == ["y", "score", "sex", "sex.1"]
    assert table.duplicates == {"sex": ("sex", "sex.1")}
    assert [n for n in table.notes if "'score' appears 2 times" in n]
    assert table.frame["score"].tolist() == [0.9, 0.2, 0.6]


def test_real_compas_header_duplicates() -> None:
    path = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "compas"
    table = read_table(path / "compas-scores-two-years.csv")
    # both copies of each are identical cell for cell: one is kept, with a note
    assert table.duplicates == {}
    assert table.columns.count("decile_score") == 1 and "decile_score.1" not in table.columns
    assert any("'priors_count' appears 2 times" in n for n in table.notes)
    assert table.rows_read == 7214
    assert table.sha256 == "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d"



def test_an_extra_field_on_the_first_data_row_is_refused_not_read_shifted(tmp_path: Path) -> None:
    """pandas takes the first column as a row index when the first data row has one field more
    than the header, and every name then labels the next column's data (the outcome read from
    y30, the score from p_old, exit 0). The file is refused as a later ragged line is; the
    same holds for semicolons and for an evaluation through the command line."""
    rng = np.random.default_rng(3)
    rows = [f"{rng.integers(0, 2)},{rng.integers(0, 2)},{rng.random():.3f},{rng.random():.3f},a"
            for _ in range(50)]
    rows[0] += ",note, with a comma"
    path = write_text(tmp_path / "shifted.csv", "y,y30,p,p_old,g\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match="shifted.csv: line 2 has 7 fields but the header has 5"):
        read_table(path)
    semi_rows = "".join(f"{i % 2};0.{i + 1};{'ab'[i % 2]}\n" for i in range(9))
    semi = write_text(tmp_path / "semi.csv", "y;p;g\n1;0.5;a;x\n" + semi_rows)
    with pytest.raises(DataError, match="semi.csv: line 2 has 4 fields but the header has 3"):
        read_table(semi)


def test_a_separator_at_the_end_of_every_data_row_is_read_as_written(tmp_path: Path) -> None:
    """Some exports end every data row (not the header) with a separator: the columns keep
    their names and data; a value in that unnamed last field on any row is refused."""
    body = "".join(f"{i % 2},0.{i + 1},{'ab'[i % 2]},\n" for i in range(8))
    table = read_table(write_text(tmp_path / "trailing.csv", "y,p,g\n" + body))
    assert list(table.frame.columns) == ["y", "p", "g"]
    assert table.frame["y"].tolist() == [i % 2 for i in range(8)]
    assert table.frame["p"].tolist() == [float(f"0.{i + 1}") for i in range(8)]
    assert table.frame["g"].tolist() == ["ab"[i % 2] for i in range(8)]
    bad = body.replace("1,0.4,b,\n", "1,0.4,b,oops\n")
    with pytest.raises(DataError, match="bad.csv: data row 4 has a value after the last"):
        read_table(write_text(tmp_path / "bad.csv", "y,p,g\n" + bad))
