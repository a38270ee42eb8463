"""Shared set-up of the comparison tests: ``main()`` run in-process."""

from __future__ import annotations

import pytest

import main


@pytest.fixture(autouse=True)
def no_faulthandler(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() enables faulthandler on sys.stderr, which pytest's capture has no fd for."""
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``main(args)`` with its exit code, standard output and standard error."""
    code = main.main(args)
    out, err = capsys.readouterr()
    return code, out, err
