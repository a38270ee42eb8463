"""Probity entry point.

No arguments: open the desktop app. With a subcommand: run headless (``judge``, ``evaluate``,
``report``, ``verify``, ``extract``, ``identity``). Early checks follow qutebrowser's earlyinit:
faulthandler on, and a PySide6 that cannot load becomes a message naming the missing libraries.
"""

from __future__ import annotations

import argparse
import faulthandler
import importlib
import os
import sys
from collections.abc import Callable, Mapping

__version__ = "0.1.0"

# `python main.py FILE` opens FILE in the GUI when it is an assessment, a validation data file or a
# signed report (.pdf, verified and shown read-only).
# (The suffixes come from the catalogue, a pure module that costs nothing to import.)
def _gui_file_suffixes() -> tuple[str, ...]:
    from assessment.catalogue import ASSESSMENT_SUFFIX, DATA_SUFFIXES, RECEIVED_REPORT_SUFFIX

    return (ASSESSMENT_SUFFIX, *DATA_SUFFIXES, RECEIVED_REPORT_SUFFIX)

# Subcommand areas: each module exposes register(subparsers) and is cheap to import.
CLI_MODULES = (
    "assessment.cli",
    "assessment.evaluate_command",
    "reports.compare_cli",
    "reports.cli",
    "reports.plan_cli",  # after evaluate: it adds --locked-plan to that command
)

#: The Debian packages Qt needs, one list shared with dev.sh (GROUP PACKAGE [LIBRARY] per line).
SYSTEM_PACKAGES_FILE = "qt-system-packages.txt"
INSTALL = "sudo apt-get install -y --no-install-recommends"


def system_packages(group: str) -> list[tuple[str, str | None]]:
    """(package, shared library or None) of one group of resources/qt-system-packages.txt."""
    from importlib.resources import files

    text = (files("resources") / SYSTEM_PACKAGES_FILE).read_text(encoding="utf-8")
    out: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if fields and fields[0] == group:
            out.append((fields[1], fields[2] if len(fields) > 2 else None))
    return out


def _packages(group: str) -> str:
    return " ".join(name for name, _ in system_packages(group))


def check_qt() -> str | None:
    """Return None when PySide6's widgets load, else a readable message naming the fix."""
    try:
        importlib.import_module("PySide6.QtWidgets")
    except ImportError as exc:
        return (
            f"Qt could not be loaded ({exc}). Install the system libraries Qt needs:\n"
            f"  {INSTALL} {_packages('runtime')}\n"
            f"and, for a window on an X display, also:\n"
            f"  {INSTALL} {_packages('xcb')}"
        )
    return None


def _loads(library: str) -> bool:
    """Whether the dynamic loader finds ``library`` (what Qt's xcb plugin will ask it for)."""
    import ctypes

    try:
        ctypes.CDLL(library)
    except OSError:
        return False
    return True


def uses_xcb(environ: Mapping[str, str]) -> bool:
    """Whether Qt will open its window through the xcb plugin (Linux, X, not offscreen)."""
    if not sys.platform.startswith("linux"):
        return False
    platform = environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":", 1)[0].split(";", 1)[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def check_xcb(loads: Callable[[str], bool] | None = None) -> str | None:
    """None when every library of Qt's xcb plugin loads; else the apt-get line for the missing
    packages (Qt itself would die in "Fatal Python error: Aborted" without them)."""
    load = loads or _loads
    missing = [name for name, library in system_packages("xcb") if library and not load(library)]
    if not missing:
        return None
    return (
        "Qt cannot open a window on this X display: the Debian packages "
        f"{', '.join(missing)} are missing. Install them with:\n"
        f"  {INSTALL} {' '.join(missing)}\n"
        "then start Probity again (or use QT_QPA_PLATFORM=offscreen for headless use)."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="probity",
        description="Probity: risk-of-bias assessment of clinical prediction models "
        "(PROBAST 2019, PROBAST+AI 2025), subgroup evaluation and signed PDF reports.",
    )
    parser.add_argument("--version", action="version", version=f"Probity {__version__}")
    parser.add_argument(
        "--selftest", action="store_true", help="build the main window offscreen and exit 0"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in CLI_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    faulthandler.enable()
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    opens_file = bool(argv) and argv[0].lower().endswith(_gui_file_suffixes())
    args, rest = parser.parse_known_args([] if opens_file else argv)
    if opens_file:  # `probity FILE.probity` / `probity data.csv`: open it in the GUI
        rest = list(argv)
    if args.command is None:
        message = check_qt()
        if message is not None:
            print(f"probity: error: {message}", file=sys.stderr)
            return 2
        if not args.selftest and uses_xcb(os.environ):
            message = check_xcb()
            if message is not None:
                print(f"probity: error: {message}", file=sys.stderr)
                return 1
        from gui import app

        if args.selftest:
            return app.selftest()
        return app.run([sys.argv[0], *rest])
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    from assessment.errors import ProbityError

    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except ProbityError as exc:
        print(f"probity: error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("probity: interrupted", file=sys.stderr)
        return 130


#: The exit code of a command whose reader went away (128 + SIGPIPE), as shell tools use.
EXIT_PIPE_CLOSED = 141


def _stdout_closed() -> int:
    """The reader of stdout went away (``probity … | head -1``): stop quietly, no traceback.
    Later writes, and the interpreter's last flush, go to /dev/null."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests)
        pass
    return EXIT_PIPE_CLOSED


if __name__ == "__main__":
    sys.exit(main())
