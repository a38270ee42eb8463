"""Whole-command benchmark of ``python main.py compare`` (issue 13).

Workload (synthetic Parquet, written once to a temporary folder): 1,000,000 rows, binary outcome,
five vendors' probability columns (different noise and calibration around one latent risk),
attributes with 2, 5 and 6 levels and their 3-way intersection (60 cells); every model evaluated
by the engine with bootstrap CIs (B = 1000), all 10 pairs compared (paired DeLong, Tango +
McNemar, paired bootstrap), decision curves per model and group, capacity mode.

Each command runs in a fresh interpreter under a small parent that reports the child's wall
time, CPU time (user + system) and maximum resident set size; the 1-minute load average is
recorded before and after (the machine is shared). Goal: ≤ 15 s and ≤ 2 GB. The comparison
evaluates its models on a thread pool (one thread per available core, at most four).

Usage: python benchmarks/bench_compare.py [--rows 1000000] [--models 5] [--repeats 2]
       [--no-write] [--stages]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PARENT = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter(); r = subprocess.run(sys.argv[1:]); w = time.perf_counter() - t\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(w, u.ru_utime + u.ru_stime, u.ru_maxrss, r.returncode)\n"
)
# Per-stage timer run in a fresh interpreter: wall time and the CPU time of the thread that ran
# each stage (time.thread_time, so stages on the evaluation threads are attributed correctly).
STAGES = r"""
import functools, json, sys, time
sys.path.insert(0, sys.argv[1])
t0 = time.perf_counter()
import main
import assessment.compare.analysis as an, assessment.compare.cli as cc
import assessment.compare.evaluations as ev, assessment.compare.sources as so
import assessment.compare.paired_bootstrap as pb, assessment.evaluation.io as io_
out = {"start-up (imports)": [time.perf_counter() - t0, time.thread_time(), 1]}
def timed(owner, name, label):
    f = getattr(owner, name)
    @functools.wraps(f)
    def g(*a, **k):
        w, c = time.perf_counter(), time.thread_time()
        try:
            return f(*a, **k)
        finally:
            s = out.setdefault(label, [0.0, 0.0, 0])
            s[0] += time.perf_counter() - w; s[1] += time.thread_time() - c; s[2] += 1
    setattr(owner, name, g)
for owner, name, label in [
    (io_, "read_table", "read the file"), (so, "align", "align / join"),
    (so, "model_inputs", "map every model's input"),
    (ev, "evaluate_parts", "engine, per model (on the threads)"),
    (pb.PairedBootstrap, "__init__", "paired bootstrap: cell moments (beside them)"),
    (pb.PairedBootstrap, "grouping", "paired bootstrap: replicates (beside them)"),
    (an, "_proportion_entries", "Tango + McNemar (beside them)"),
    (an, "curve_entries", "decision curves (beside them)"),
    (an, "_auroc_entries", "paired DeLong from the engine's placements"),
    (an, "compare", "compare() as a whole (wall: the threads overlap)"),
    (cc, "write_json", "write the JSON"),
]:
    timed(owner, name, label)
w = time.perf_counter()
main.main(sys.argv[2:])
out["whole command"] = [time.perf_counter() - t0, time.process_time(), 1]
print(json.dumps(out))
"""
GOAL_SECONDS = 15.0
GOAL_GB = 2.0


def write_file(path: Path, n: int, k: int, seed: int = 2026) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    a2 = rng.integers(0, 2, n)
    a5 = rng.integers(0, 5, n)
    a6 = rng.integers(0, 6, n)
    eta = -1.5 + rng.normal(0, 1, n) + 0.1 * a5 - 0.1 * a2
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.int8)
    columns: dict[str, object] = {
        "y": y,
        "sex": pa.DictionaryArray.from_arrays(a2.astype(np.int32), ["F", "M"]),
        "band": pa.DictionaryArray.from_arrays(a5.astype(np.int32), [f"B{i}" for i in range(5)]),
        "region": pa.DictionaryArray.from_arrays(
            a6.astype(np.int32), [f"R{i}" for i in range(6)]
        ),
    }
    for i in range(k):
        slope = 0.6 + 0.2 * i
        score = -1.5 + slope * (eta + 1.5) + rng.normal(0, 0.3 + 0.15 * i, n)
        columns[f"m{i}"] = np.round(1 / (1 + np.exp(-score)), 6)
    pq.write_table(pa.table(columns), path)


def run_once(cmd: list[str]) -> tuple[float, float, float]:
    out = subprocess.run(
        [sys.executable, "-c", PARENT, *cmd], capture_output=True, text=True, check=True,
        cwd=ROOT,
    )
    wall, cpu, rss_kb, code = out.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"compare failed with exit code {code}")
    return float(wall), float(cpu), float(rss_kb) / 1024 / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--models", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--stages", action="store_true", help="add a per-stage time table")
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "compare.parquet"
        write_file(data, args.rows, args.models)
        cmd = [sys.executable, str(ROOT / "main.py"), "compare", str(data), "--label", "y"]
        for i in range(args.models):
            cmd += ["--model", f"Vendor {chr(65 + i)}=m{i}"]
        cmd += ["--group", "sex", "--group", "band", "--group", "region",
                "--intersect", "sex,band,region", "--bootstrap", str(args.bootstrap),
                "--capacity", "10/100", "--json", str(Path(tmp) / "out.json"), "--quiet"]
        runs = [run_once(cmd) for _ in range(args.repeats)]
        single = [sys.executable, str(ROOT / "main.py"), "evaluate", str(data), "--label", "y",
                  "--score", "m0", "--group", "sex", "--group", "band", "--group", "region",
                  "--intersect", "sex,band,region", "--bootstrap", str(args.bootstrap),
                  "--json", str(Path(tmp) / "one.json"), "--quiet"]
        one = min((run_once(single) for _ in range(args.repeats)), key=lambda r: r[1])
        stages = None
        if args.stages:
            out = subprocess.run([sys.executable, "-c", STAGES, str(ROOT), *cmd[2:]],
                                 capture_output=True, text=True, check=True, cwd=ROOT)
            stages = json.loads(out.stdout.strip().splitlines()[-1])
    load_after = os.getloadavg()[0]
    sys.path.insert(0, str(ROOT))
    from assessment.compare.evaluations import available_cores, worker_count

    threads = worker_count(args.models, args.rows)
    best = min(runs, key=lambda r: r[0])
    rss = max(r[2] for r in runs)
    rows = "\n".join(
        f"| {i + 1} | {w:.2f} | {c:.2f} | {m:.2f} |" for i, (w, c, m) in enumerate(runs)
    )
    verdict_t = "meets" if best[0] <= GOAL_SECONDS else "MISSES"
    verdict_c = "meets" if best[1] <= GOAL_SECONDS else "MISSES"
    verdict_m = "meets" if rss <= GOAL_GB else "MISSES"
    body = f"""## Whole `compare` command, {args.models} models (`bench_compare.py`)

{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores shared with
other jobs, Python {platform.python_version()}, NumPy {np.__version__}; 1-minute load average
{load_before:.1f} before and {load_after:.1f} after. Workload: {args.rows:,} rows (Parquet),
{args.models} probability models, attributes with 2, 5 and 6 levels and their 3-way intersection
(60 cells), bootstrap B = {args.bootstrap} for every model's metrics and for the paired
differences, all {args.models * (args.models - 1) // 2} pairs, decision curves 0.01–0.99, capacity
10/100, `--json`. Fresh interpreter per run; nothing extrapolated.

| run | wall s | CPU s (user+sys) | max RSS GB |
|---|---|---|---|
{rows}

The comparison evaluated the models on {threads} threads ({available_cores()} cores available
to it; the paired bootstrap runs as one more task beside them), so its wall time can be below
its CPU time. For scale, the same file through `evaluate` for one model (same groups, same B),
best of {args.repeats}: wall {one[0]:.2f} s, CPU {one[1]:.2f} s, {one[2]:.2f} GB: the comparison
runs this engine once per model, so about {args.models} × {one[1]:.1f} s of its CPU time is the
engine's (minus the shared start-up and file reading), the rest the join and the paired
statistics.

Goal ≤ {GOAL_SECONDS:g} s and ≤ {GOAL_GB:g} GB: best wall time {best[0]:.2f} s {verdict_t} it;
its CPU time {best[1]:.2f} s {verdict_c} it (on one core the wall time would approach it);
memory {rss:.2f} GB {verdict_m} it. With a load average above the core count wall times stretch.
"""
    if stages:
        table = "\n".join(
            f"| {name} | {w:.2f} | {c:.2f} | {k} |" for name, (w, c, k) in stages.items()
        )
        body += f"""
Where the time goes (`--stages`: one more run with timers; CPU is the running thread's, and
the whole command's the process's; the engine's CPU is summed over the models):

| stage | wall s | CPU s | calls |
|---|---|---|---|
{table}
"""
    print(body)
    if not args.no_write:
        write_section("bench_compare", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
