"""Probity entry point.

No arguments: open the desktop app. With a subcommand: run headless (``judge``, ``evaluate``,
``report``, ``verify``, ``extract``, ``identity``). Early checks follow qutebrowser's earlyinit:
faulthandler on, and a PySide6 that cannot load becomes a message naming the missing libraries.
"""

from __future__ import annotations

import argparse
import faulthandler
import importlib
import sys

__version__ = "0.1.0"

# `python main.py FILE` opens FILE in the GUI when it is an assessment or a validation data file.
# (The suffixes come from the catalogue, a pure module that costs nothing to import.)
def _gui_file_suffixes() -> tuple[str, ...]:
    from assessment.catalogue import ASSESSMENT_SUFFIX, DATA_SUFFIXES

    return (ASSESSMENT_SUFFIX, *DATA_SUFFIXES)

# Subcommand areas: each module exposes register(subparsers) and is cheap to import.
CLI_MODULES = (
    "assessment.cli",
    "assessment.evaluation.cli",
    "reports.compare_cli",
    "reports.cli",
)

QT_RUNTIME_PACKAGES = (
    "libegl1 libgl1 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0 "
    "libx11-6 fonts-dejavu-core"
)
QT_XCB_PACKAGES = (
    "libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 "
    "libxcb-randr0 libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-shm0 libxcb-sync1 "
    "libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libx11-xcb1"
)


def check_qt() -> str | None:
    """Return None when PySide6's widgets load, else a readable message naming the fix."""
    try:
        importlib.import_module("PySide6.QtWidgets")
    except ImportError as exc:
        return (
            f"Qt could not be loaded ({exc}). Install the system libraries Qt needs:\n"
            f"  sudo apt-get install -y --no-install-recommends {QT_RUNTIME_PACKAGES}\n"
            f"and, for a window on an X display, also:\n"
            f"  sudo apt-get install -y --no-install-recommends {QT_XCB_PACKAGES}"
        )
    return None


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
        from gui import app

        if args.selftest:
            return app.selftest()
        return app.run([sys.argv[0], *rest])
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    from assessment.errors import ProbityError

    try:
        return int(args.func(args))
    except ProbityError as exc:
        print(f"probity: error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("probity: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
