"""Start-up benchmark: process start -> first paint of the main window, as whole processes.

Each trial launches a fresh interpreter and measures wall-clock time from just before the
process is spawned to the first paint event of its main window (reported by the child with
``time.time()``). Two programs run in the same session, interleaved:

* ``bare``: ``import PySide6.QtWidgets``, a QApplication and an empty QMainWindow — the floor;
* ``probity``: ``python main.py`` with no arguments (opens the demo assessment), using the
  ``PROBITY_STARTUP_PROBE`` hook in gui/app.py, with a fresh config folder (no recovery offer).

Both run with Python's bytecode cache allowed (``PYTHONDONTWRITEBYTECODE`` removed), as an
installed copy runs: otherwise every start would recompile Probity's own sources while the
bare program's PySide6 modules come precompiled from site-packages. The warm-up trial writes
the caches (``__pycache__`` is git-ignored).

The probity child also lists which heavy libraries were already imported at first paint
(goal: none of pandas, scikit-learn, pyqtgraph, reportlab, pyhanko).

Usage: [xvfb-run -a] python benchmarks/bench_startup.py [--trials N] [--no-write]
Measures on the offscreen platform, and also on xcb (a real X window) when $DISPLAY is set.
Results go to benchmarks/RESULTS.md between the bench_startup markers.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN, END = "<!-- bench_startup:begin -->", "<!-- bench_startup:end -->"
GOAL_S = 0.6
HEAVY = ("pandas", "sklearn", "scipy", "pyqtgraph", "reportlab", "pyhanko", "numpy")

BARE = r"""
import time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
class Probe(QObject):
    done = False
    def eventFilter(self, obj, event):
        if not self.done and event.type() == QEvent.Type.Paint:
            self.done = True
            print(f"probity-first-paint {time.time():.6f}", flush=True)
            QTimer.singleShot(0, lambda: app.exit(0))
        return False
w = QMainWindow()
w.resize(1280, 820)
w.setWindowTitle("bare")
probe = Probe()
w.installEventFilter(probe)
w.show()
app.exec()
"""

HEAVY_CHECK = (
    "import sys, atexit; "
    f"atexit.register(lambda: print('heavy-loaded', [m for m in {HEAVY!r} if m in sys.modules]"
    ", flush=True))"
)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_trial(kind: str, env: dict[str, str]) -> tuple[float, float, list[str]]:
    if kind == "bare":
        cmd = [sys.executable, "-c", BARE]
    else:
        cmd = [sys.executable, "-c",
               f"{HEAVY_CHECK}; import runpy, sys; sys.argv = ['main.py']; "
               "runpy.run_path('main.py', run_name='__main__')"]
    cpu_before = children_cpu()
    start = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    cpu = children_cpu() - cpu_before
    shown: float | None = None
    heavy: list[str] = []
    for line in proc.stdout.splitlines():
        if line.startswith("probity-first-paint "):
            shown = float(line.split()[1])
        elif line.startswith("heavy-loaded "):
            heavy = eval_list(line.split(" ", 1)[1])
    if shown is None:
        raise SystemExit(f"{kind}: no first paint reported (exit {proc.returncode}):\n"
                         f"{proc.stdout}\n{proc.stderr}")
    return shown - start, cpu, heavy


def eval_list(text: str) -> list[str]:
    """Parse the child's printed list of module names (no eval: names are plain words)."""
    return [part.strip(" '\"") for part in text.strip("[] \n").split(",") if part.strip(" '\"")]


def measure(platform_name: str, trials: int) -> dict[str, tuple[list[float], list[float]]]:
    """Interleaved trials of both programs on one Qt platform: {kind: (wall, cpu)}."""
    results: dict[str, tuple[list[float], list[float]]] = {"bare": ([], []), "probity": ([], [])}
    with tempfile.TemporaryDirectory() as config:
        env = dict(os.environ, QT_QPA_PLATFORM=platform_name, PROBITY_CONFIG_DIR=config,
                   PROBITY_STARTUP_PROBE="1")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for kind in results:  # one warm-up each (file and bytecode caches), not counted
            one_trial(kind, env)
        for _ in range(trials):
            for kind, (walls, cpus) in results.items():
                elapsed, cpu, heavy = one_trial(kind, env)
                walls.append(elapsed)
                cpus.append(cpu)
                HEAVY_SEEN.update(heavy)
    return results


HEAVY_SEEN: set[str] = set()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=7)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    # offscreen always; a real X window too when a display is there (e.g. under xvfb-run).
    platforms = ["offscreen"] + (["xcb"] if os.environ.get("DISPLAY") else [])
    rows: list[str] = []
    verdicts: list[str] = []
    for platform_name in platforms:
        results = measure(platform_name, args.trials)
        for kind, (walls, cpus) in results.items():
            rows.append(f"| {kind} | {platform_name} | {statistics.median(walls):.3f} | "
                        f"{min(walls):.3f} | {max(walls):.3f} | {statistics.median(cpus):.3f} |")
        bare, probity = (statistics.median(results[k][0]) for k in ("bare", "probity"))
        verdicts.append(f"{platform_name}: {probity:.3f} s, {probity - bare:+.3f} s over bare, "
                        f"{'meets' if probity <= GOAL_S else 'MISSES'} the {GOAL_S} s goal")
    load = os.getloadavg()[0]
    section = "\n".join([
        BEGIN,
        "## Start-up: process start to first painted main window (`bench_startup.py`)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python "
        f"{platform.python_version()}, {args.trials} interleaved trials per program and "
        "platform after one warm-up each (warm file and bytecode caches; a fresh interpreter "
        f"every trial; xcb = a real X window on Xvfb); load average {load:.1f} on "
        f"{os.cpu_count()} cores at the end of the run. Seconds:",
        "",
        "| program | Qt platform | wall median | wall min | wall max | CPU median "
        "(user+sys, whole process) |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "Probity = `python main.py` opening the demo assessment. Median wall time: "
        + "; ".join(verdicts) + ". The machine is shared: when the load average is above "
        "the core count every figure stretches, so compare rows of one run, not runs. Heavy "
        f"libraries imported at first paint: {', '.join(sorted(HEAVY_SEEN)) or 'none'} "
        "(pandas, scikit-learn, pyqtgraph, reportlab and pyhanko are imported by the pages "
        "that need them, after the window shows).",
        END,
    ])
    print(section)
    if not args.no_write:
        text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            text = head + section + rest.split(END, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        RESULTS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
