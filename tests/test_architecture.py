"""The one rule of the layout: assessment/ and reports/ never import Qt (nor gui/)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import assessment
import reports

REPO_ROOT = Path(__file__).resolve().parents[1]


def _modules(package) -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + "."))


@pytest.mark.parametrize("package", [assessment, reports], ids=["assessment", "reports"])
def test_pure_packages_never_load_qt(package) -> None:
    names = _modules(package)
    assert names, "no modules found"
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6', 'pyqtgraph', 'gui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"{package.__name__} pulled in: {out.stdout.strip()}"


def test_assessment_never_loads_reportlab() -> None:
    names = _modules(assessment)
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('reportlab'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_version_is_fast_path() -> None:
    """`main.py --version` must not import the heavy libraries (start-up speed)."""
    code = (
        "import sys, runpy\n"
        "sys.argv = ['main.py', '--version']\n"
        "try:\n"
        "    runpy.run_path('main.py', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('pandas', 'sklearn', 'reportlab', 'pyhanko', 'PySide6', 'scipy')"
        " if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert "Probity" in out.stdout
    assert out.stdout.strip().endswith("HEAVY="), out.stdout
