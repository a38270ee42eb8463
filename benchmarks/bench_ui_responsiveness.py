"""UI-thread responsiveness while the validation data page loads and evaluates a large file.

A timer probe fires every 5 ms on the UI thread; the longest gap between two firings, minus
the interval, is the longest stall a user would feel. The workload is the real GUI path: the
Validation data page reads a 1,000,000-row Parquet file, checks the mapping, and runs the full
evaluation (3 attributes with 2, 5 and 6 levels, their 3-way intersection, bootstrap CIs) in its
worker, while the Subgroup results page is open and redraws when the result arrives.
Goal: no UI-thread stall over 100 ms during the evaluation.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_ui_responsiveness.py
     [--rows 1000000] [--bootstrap 1000] [--no-write]
Writes its figures to the "UI responsiveness" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

GOAL_MS = 100.0
PROBE_MS = 5


@dataclass
class Probe:
    """Records the longest gap between timer firings, per named phase."""

    last: float = 0.0
    phase: str = "idle"
    worst: dict[str, float] = field(default_factory=dict)
    ticks: dict[str, int] = field(default_factory=dict)

    def tick(self) -> None:
        now = time.perf_counter()
        if self.last:
            stall = (now - self.last) * 1000.0 - PROBE_MS
            self.worst[self.phase] = max(self.worst.get(self.phase, 0.0), stall)
        self.ticks[self.phase] = self.ticks.get(self.phase, 0) + 1
        self.last = now

    def enter(self, phase: str) -> None:
        self.phase = phase
        self.last = time.perf_counter()


def make_data(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(42)
    sex = rng.choice(["Female", "Male"], rows)
    race = rng.choice(["White", "Black", "Asian", "Hispanic", "Other"], rows,
                      p=[0.55, 0.2, 0.1, 0.1, 0.05])
    age = rng.choice(["18-29", "30-39", "40-49", "50-59", "60-69", "70+"], rows)
    logit = rng.normal(-1.2, 1.0, rows) + (race == "Black") * 0.2
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(rows) < p).astype(np.int8)
    score = np.clip(p + rng.normal(0, 0.08, rows), 0, 1).round(4)
    pd.DataFrame({"outcome": y, "score": score, "sex": sex, "race": race,
                  "age_band": age}).to_parquet(path)


def run(rows: int, bootstrap: int) -> dict[str, float]:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from assessment.document import Assessment
    from gui.context import AppContext
    from gui.data.page import ValidationDataPage
    from gui.results.page import ResultsPage

    folder = Path(tempfile.gettempdir()) / f"probity-bench-ui-{rows}"
    folder.mkdir(exist_ok=True)
    os.environ.setdefault("PROBITY_CONFIG_DIR", str(folder / "config"))
    data = folder / "validation.parquet"
    if not data.exists():
        make_data(data, rows)

    ctx = AppContext()
    ctx.set_document(Assessment.new())
    data_page = ValidationDataPage(ctx)
    results = ResultsPage(ctx)
    data_page.resize(1200, 800)
    results.resize(1200, 800)
    data_page.show()
    results.show()

    probe = Probe()
    timer = QTimer()
    timer.setInterval(PROBE_MS)
    timer.timeout.connect(probe.tick)
    timer.start()

    def wait(cond, timeout: float = 600.0) -> None:
        end = time.perf_counter() + timeout
        while not cond():
            if time.perf_counter() > end:
                raise TimeoutError("benchmark step did not finish")
            app.processEvents()
            time.sleep(0.001)

    timings: dict[str, float] = {}
    probe.enter("load")
    t0 = time.perf_counter()
    data_page.load_file(str(data))
    wait(lambda: data_page.table is not None and not data_page.running)
    timings["load_s"] = time.perf_counter() - t0

    data_page.set_attributes(["sex", "race", "age_band"])
    data_page.set_intersections([("sex", "race", "age_band")])
    data_page.bootstrap_spin.setValue(bootstrap)
    probe.enter("check")
    t0 = time.perf_counter()
    data_page._start_check()
    wait(lambda: not data_page.running and not data_page._check_timer.isActive())
    timings["check_s"] = time.perf_counter() - t0
    if data_page.has_errors():
        raise SystemExit(f"mapping problems: {[i.message for i in data_page.issues]}")

    finished: list[bool] = []
    data_page.evaluation_finished.connect(lambda: finished.append(True))
    # The worker's result reaches the UI thread: from here on it is storing and drawing.
    data_page.session.result_changed.connect(lambda: probe.enter("store"))
    probe.enter("evaluate")
    t0 = time.perf_counter()
    data_page.run_evaluation()
    wait(lambda: bool(finished))
    timings["evaluate_s"] = time.perf_counter() - t0
    end = time.perf_counter() + 1.0  # the results page draws on the next event-loop turns
    wait(lambda: time.perf_counter() > end)

    probe.enter("metric")
    results.metric_combo.setCurrentIndex(results.metric_combo.findData("tpr"))
    results.refresh()
    pause = time.perf_counter() + 0.5
    wait(lambda: time.perf_counter() > pause)
    probe.enter("slider")
    t0 = time.perf_counter()
    for value in range(100, 900, 100):
        results.slider.setValue(value)
        pause = time.perf_counter() + 0.08
        wait(lambda pause=pause: time.perf_counter() > pause)
    timings["slider_s"] = time.perf_counter() - t0
    timer.stop()
    ctx.shutdown()
    data_page.close()
    results.close()
    data_page.deleteLater()
    results.deleteLater()
    record = ctx.doc.evaluation
    groups = len(record.result.groups) if record is not None and record.result else 0
    out = {
        "rows": rows,
        "bootstrap": bootstrap,
        "groups": groups,
        **timings,
        **{f"stall_{k}_ms": v for k, v in probe.worst.items()},
    }
    return out


BEGIN = "<!-- bench_ui_responsiveness:begin -->"
END = "<!-- bench_ui_responsiveness:end -->"
PHASES = (
    ("load", "read file + suggest mapping (worker)", "load_s"),
    ("check", "check mapping (worker)", "check_s"),
    ("evaluate", "**evaluate (worker)**", "evaluate_s"),
    ("store", "store in document + draw results (UI thread)", None),
    ("metric", "switch metric (tables + forest plot)", None),
    ("slider", "threshold slider, 8 moves (engine fast path in worker)", "slider_s"),
)


def write_results(trials: list[dict[str, float]]) -> None:
    """Replace this benchmark's section of RESULTS.md (between its begin/end markers)."""
    import datetime as dt
    import statistics

    path = ROOT / "benchmarks" / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    first = trials[0]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = []
    for key, label, wall in PHASES:
        stalls = [t.get(f"stall_{key}_ms", 0.0) for t in trials]
        walls = [t[wall] for t in trials] if wall else []
        wall_text = f"{statistics.median(walls):.2f} s" if walls else "—"
        rows.append(f"| {label} | {wall_text} | {statistics.median(stalls):.0f} ms | "
                    f"{max(stalls):.0f} ms |")
    worst_eval = max(t["stall_evaluate_ms"] for t in trials)
    verdict = "met" if worst_eval < GOAL_MS else "NOT met"
    body = "\n".join([
        BEGIN,
        "## UI responsiveness during an evaluation (`bench_ui_responsiveness.py`)",
        "",
        f"{stamp}, Python {platform.python_version()}, QT_QPA_PLATFORM=offscreen, "
        f"{len(trials)} trials; load average {load:.1f} on {os.cpu_count()} cores during the "
        f"run. Probe: a {PROBE_MS} ms QTimer on the UI thread; stall = longest gap between two "
        "firings minus the interval. Workload: the real pages (Validation data + Subgroup "
        f"results) on {int(first['rows']):,} rows (Parquet), attributes with 2, 5 and 6 levels "
        f"and their 3-way intersection ({int(first['groups'])} groups), bootstrap "
        f"B = {int(first['bootstrap'])}.",
        "",
        "| phase | wall time (median) | longest UI stall (median) | (max) |",
        "|---|---|---|---|",
        *rows,
        "",
        f"Goal: no UI-thread stall over {GOAL_MS:.0f} ms while the evaluation runs — {verdict} "
        f"(worst {worst_eval:.0f} ms). The 'store' row is the UI thread's share once the result "
        "arrives: the document's `set_evaluation` (which deep-copies the snapshot into the "
        "document and its audit log) and the results redraw, split over separate event-loop "
        "turns. Stalls in the load/check rows come from pandas/pyarrow calls in the worker "
        "that hold the GIL (the first trial also imports pyarrow there).",
        END,
    ])
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + body + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    trials = []
    for _ in range(args.trials):
        fig = run(args.rows, args.bootstrap)
        trials.append(fig)
        print(", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in fig.items()), flush=True)
    if not args.no_write:
        write_results(trials)
    return 0 if max(t["stall_evaluate_ms"] for t in trials) < GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
