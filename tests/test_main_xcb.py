"""`python main.py` on an X display without Qt's xcb libraries: one apt-get line, exit 1, never
Qt's "Fatal Python error: Aborted". The package list is one file, shared with dev.sh."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import main

ROOT = Path(__file__).resolve().parents[1]

# Runs main.main() with one extra xcb package whose library does not exist, so the real dlopen
# fails exactly as it does on a Debian without libxcb-cursor0.
DRIVER = """
import sys
import main
real = main.system_packages
def with_missing(group):
    rows = real(group)
    if group == "xcb":
        rows = [*rows, ("libxcb-probity-test0", "libxcb-probity-test.so.0")]
    return rows
main.system_packages = with_missing
sys.exit(main.main([]))
"""


def run_driver(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY")}
    clean.update(PROBITY_CONFIG_DIR=str(tmp_path / "config"), PROBITY_STARTUP_PROBE="1", **env)
    return subprocess.run([sys.executable, "-c", DRIVER], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=120)


def test_missing_xcb_library_prints_the_apt_get_line_and_exits_1(tmp_path):
    proc = run_driver(tmp_path, DISPLAY=":93")  # no X server there: never reached
    assert proc.returncode == 1, proc.stderr
    assert "Fatal Python error" not in proc.stderr and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("probity: error: Qt cannot open a window on this X display")
    assert "libxcb-probity-test0 are missing" in lines[0]
    assert lines[1] == "  sudo apt-get install -y --no-install-recommends libxcb-probity-test0"
    assert "probity-first-paint" not in proc.stdout  # no window was built


def test_offscreen_start_is_not_checked(tmp_path):
    proc = run_driver(tmp_path, QT_QPA_PLATFORM="offscreen")
    assert proc.returncode == 0, proc.stderr
    assert "probity-first-paint" in proc.stdout


def test_every_listed_library_is_checked_and_named_by_its_package():
    failed: list[str] = []

    def loads(library: str) -> bool:
        failed.append(library)
        return False

    message = main.check_xcb(loads)
    packages = main.system_packages("xcb")
    assert failed == [library for _, library in packages]
    assert message is not None
    assert message.splitlines()[1].split()[-len(packages):] == [p for p, _ in packages]
    assert main.check_xcb(lambda _library: True) is None


@pytest.mark.parametrize(
    ("environ", "xcb"),
    [
        ({}, True),
        ({"QT_QPA_PLATFORM": "xcb"}, True),
        ({"QT_QPA_PLATFORM": "xcb:display=:1"}, True),
        ({"QT_QPA_PLATFORM": "offscreen"}, False),
        ({"QT_QPA_PLATFORM": "wayland"}, False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, False),
    ],
)
def test_which_starts_use_xcb(environ, xcb):
    assert main.uses_xcb(environ) is xcb


def test_dev_sh_reads_the_same_list():
    script = (ROOT / "dev.sh").read_text()
    assert "libxcb" not in script and "libegl1" not in script  # no second copy of the list
    definition = next(line for line in script.splitlines() if line.startswith("debs_of()"))
    for group in ("runtime", "xcb"):
        out = subprocess.run(["bash", "-c", f"{definition}\ndebs_of {group}"], cwd=ROOT,
                             capture_output=True, text=True, timeout=30, check=True)
        assert out.stdout.split() == [p for p, _ in main.system_packages(group)]
    assert [p for p, _ in main.system_packages("runtime")][:2] == ["libegl1", "libgl1"]
    assert ("libxcb-cursor0", "libxcb-cursor.so.0") in main.system_packages("xcb")
