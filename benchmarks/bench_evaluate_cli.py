"""Whole-command benchmark of ``python main.py evaluate`` on Parquet files (issue 9).

Workloads (synthetic, written once to a temporary folder): binary outcome, probability score,
attributes with 2, 5 and 6 levels plus their 3-way intersection (60 cells), threshold 0.5,
all metrics with bootstrap CIs (B = 1000) and disparities:

- ``calibrated``: p = expit(η), the true risk;
- ``over-confident``: p = expit(c + 4·(η − c)) (true calibration slope 0.25: the score that made
  the undamped recalibration fit run 60 passes);
- ``clustered``: 4 encounters per patient with a shared patient effect, ``--cluster patient``
  (cluster bootstrap and cluster-robust intervals).

Each command runs in a fresh interpreter under a small parent that reports the child's wall
time, CPU time (user + system) and maximum resident set size. Goals: ≤ 5 s and ≤ 1 GB at
1,000,000 rows; ≤ 30 s and ≤ 2 GB at 10,000,000 rows.

Usage: python benchmarks/bench_evaluate_cli.py [--rows 1000000] [--big-rows 10000000]
       [--repeats 3] [--big-repeats 3] [--data DIR] [--no-write] [--kinds clustered,...]

``--data DIR`` keeps the generated files in DIR (and reuses them: same seed, same files).
``--kinds`` runs only some of the files (e.g. ``clustered`` while profiling); the table in
``RESULTS.md`` is rewritten only by a run of all three.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN, END = "<!-- bench_evaluate_cli:begin -->", "<!-- bench_evaluate_cli:end -->"
PARENT = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter(); r = subprocess.run(sys.argv[1:]); w = time.perf_counter() - t\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(w, u.ru_utime + u.ru_stime, u.ru_maxrss, r.returncode)\n"
)


def write_file(path: Path, n: int, kind: str, seed: int = 2026) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    a2 = rng.integers(0, 2, n)
    a5 = rng.integers(0, 5, n)
    a6 = rng.integers(0, 6, n)
    c = -1.5
    eta = c + rng.normal(0, 1, n) + 0.1 * a5 - 0.1 * a2
    columns: dict[str, object] = {}
    if kind == "clustered":
        patient = np.arange(n) // 4
        eta = eta + np.repeat(rng.normal(0, 0.8, n // 4 + 1), 4)[:n]
        columns["patient"] = patient
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.int8)
    p = (
        1 / (1 + np.exp(-(c + 4 * (eta - c))))
        if kind == "over-confident"
        else 1 / (1 + np.exp(-eta))
    )
    columns.update(
        {
            "y": y,
            "p": np.round(p, 6),
            "sex": pa.DictionaryArray.from_arrays(a2.astype(np.int32), ["F", "M"]),
            "band": pa.DictionaryArray.from_arrays(
                a5.astype(np.int32), [f"B{i}" for i in range(5)]
            ),
            "region": pa.DictionaryArray.from_arrays(
                a6.astype(np.int32), [f"R{i}" for i in range(6)]
            ),
        }
    )
    pq.write_table(pa.table(columns), path, compression="zstd")


def command(path: Path, kind: str, out: Path) -> list[str]:
    cmd = [
        sys.executable,
        str(ROOT / "main.py"),
        "evaluate",
        str(path),
        "--label",
        "y",
        "--score",
        "p",
        "--group",
        "sex",
        "--group",
        "band",
        "--group",
        "region",
        "--intersect",
        "sex,band,region",
        "--bootstrap",
        "1000",
        "--json",
        str(out),
        "--quiet",
    ]
    if kind == "clustered":
        cmd += ["--cluster", "patient"]
    return [*cmd, "--max-cells", "200000000"]  # 10M rows × 6 columns is over the default


def measure(cmd: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, max RSS MB) of one fresh process running ``cmd``."""
    res = subprocess.run(
        [sys.executable, "-c", PARENT, *cmd], capture_output=True, text=True, check=True
    )
    wall, cpu, rss, rc = res.stdout.split()
    if rc != "0":
        raise SystemExit(f"{' '.join(cmd)} failed: {res.stderr}")
    return float(wall), float(cpu), float(rss) / 1024


@dataclass(frozen=True)
class Row:
    rows: int
    kind: str
    wall: float
    cpu: float
    rss: float
    repeats: int
    slope: float
    slope_ci: tuple[float, float]
    cpu_range: tuple[float, float] = (0.0, 0.0)


def run(args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    LOADS.append(os.getloadavg()[0])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.data) if args.data else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        kinds = [k for k in KINDS if k in args.kinds.split(",")]
        plan = [(args.rows, k, args.repeats) for k in kinds] if args.rows else []
        if args.big_rows:
            plan += [(args.big_rows, k, args.big_repeats) for k in kinds]
        for n, kind, repeats in plan:
            path = folder / f"{kind}-{n}.parquet"
            if not (args.data and path.exists()):
                write_file(path, n, kind)
            out = Path(tmp) / "out.json"
            runs = [measure(command(path, kind, out)) for _ in range(repeats)]
            result = json.loads(out.read_text())
            slope = result["overall"]["metrics"]["calibration_slope"]
            rows.append(
                Row(
                    n,
                    kind,
                    statistics.median(r[0] for r in runs),
                    statistics.median(r[1] for r in runs),
                    max(r[2] for r in runs),
                    repeats,
                    slope["value"],
                    (slope["ci_low"], slope["ci_high"]),
                    (min(r[1] for r in runs), max(r[1] for r in runs)),
                )
            )
            print(rows[-1], flush=True)
            if not args.data:
                path.unlink()
    return rows


LOADS: list[float] = []
KINDS = ("calibrated", "over-confident", "clustered")


def section(rows: list[Row]) -> str:
    load = os.getloadavg()[0]
    start = f"{LOADS[0]:.1f} at the start and " if LOADS else ""
    lines = [
        BEGIN,
        "## Whole `evaluate` command, all metrics with CIs (`bench_evaluate_cli.py`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores (shared with other jobs; 1-minute load average {start}"
        f"{load:.1f} at the end), Python {platform.python_version()}. "
        "`python main.py evaluate FILE.parquet "
        "--group sex --group band --group region --intersect sex,band,region --bootstrap 1000 "
        "--json OUT` (3 attributes + 60-cell intersection, B = 1000, disparities), a fresh "
        "process per run, each file run 3 times (by default); wall and CPU time are medians "
        "(the CPU time's range in brackets: on this shared virtual machine the same work's "
        "CPU time varies by up to 20% between runs), memory the largest maximum resident set "
        "size. The command runs the engine on one thread (its default); the goal is judged on "
        "wall time and on CPU time (user + system) separately: with other jobs on the machine "
        "the wall time exceeds the CPU time, on an idle one it approaches it.",
        "",
        "| Rows | Scores | Wall s | CPU s (range) | Max RSS MB | Goal | Status "
        "| Overall slope (95% CI) |",
        "|---:|---|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        goal_s, goal_mb = (30, 2048) if r.rows > 2_000_000 else (5, 1024)
        mem = r.rss <= goal_mb
        by_wall = "met" if r.wall <= goal_s and mem else "NOT met"
        by_cpu = "met" if r.cpu <= goal_s and mem else "NOT met"
        lo, hi = r.slope_ci
        lines.append(
            f"| {r.rows:,} | {r.kind} | {r.wall:.2f} | {r.cpu:.2f} ({r.cpu_range[0]:.1f}–"
            f"{r.cpu_range[1]:.1f}) | {r.rss:.0f} | ≤ {goal_s} s, "
            f"≤ {goal_mb // 1024} GB | {by_wall} by wall, {by_cpu} by CPU time | "
            f"{r.slope:.3f} ({lo:.3f}–{hi:.3f}) |"
        )
    lines += ["", END]
    return "\n".join(lines)


def write(text: str) -> None:
    old = RESULTS.read_text(encoding="utf-8")
    if BEGIN in old:
        head, rest = old.split(BEGIN, 1)
        new = head + text + rest.split(END, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big-repeats", type=int, default=3)
    parser.add_argument("--data", help="folder to keep (and reuse) the generated files in")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset")
    args = parser.parse_args(argv)
    unknown = set(args.kinds.split(",")) - set(KINDS)
    if unknown:
        parser.error(f"--kinds: unknown {', '.join(sorted(unknown))}; choose from {KINDS}")
    text = section(run(args))
    print(text)
    if not args.no_write and set(args.kinds.split(",")) == set(KINDS):
        write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
