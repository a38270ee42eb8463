"""Exported tables (CSV/XLSX of the results page) get ordinary permissions, 0666 less the umask,
as any program's new file would; only the recovery file is private (0600)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from assessment.evaluation.export import write_csv, write_xlsx

FRAME = pd.DataFrame({"group": ["Female", "Male"], "auroc": [0.71, 0.74]})


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def write(kind: str, path: Path) -> None:
    if kind == "csv":
        write_csv(FRAME, path)
    else:
        write_xlsx({"Groups": FRAME, "Disparities": FRAME}, path)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_a_new_export_gets_0666_less_the_umask(tmp_path, kind, mask, expected):
    path = tmp_path / f"groups.{kind}"
    with umask(mask):
        write(kind, path)
    assert mode(path) == expected
    # the same as an ordinary open() under that umask
    with umask(mask):
        (tmp_path / "plain").write_bytes(b"x")
    assert mode(path) == mode(tmp_path / "plain")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_overwriting_an_export_keeps_its_permissions(tmp_path, kind):
    path = tmp_path / f"groups.{kind}"
    with umask(0o022):
        write(kind, path)
        os.chmod(path, 0o664)
        write(kind, path)
    assert mode(path) == 0o664
