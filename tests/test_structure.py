"""Structure is checked, not hoped for: import contracts and static types (pyproject.toml).

- import-linter: gui -> reports -> assessment, a Qt-free (and, for assessment/, PDF-free) core,
  no import cycles between sibling modules.
- mypy: strict for assessment/ and reports/, the default checks for gui/ and main.py.

A failure prints the tool's own report (file:line: message [code]), so the fix is one read away.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(args: list[str], timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


def test_import_contracts_are_kept() -> None:
    code = (
        "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())"
    )
    out = _run(["-c", code, "--no-cache"], timeout=300)
    assert out.returncode == 0, "import-linter contracts broken:\n" + out.stdout + out.stderr
    assert "0 broken" in out.stdout, out.stdout


def test_mypy_is_clean() -> None:
    out = _run(["-m", "mypy", "--no-error-summary", "--no-pretty"], timeout=600)
    assert out.returncode == 0, (
        "mypy (strict for assessment/ and reports/, default for gui/) found problems:\n"
        + out.stdout
        + out.stderr
    )
