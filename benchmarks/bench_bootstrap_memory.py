"""Maximum resident memory of ``evaluate`` on COMPAS as the bootstrap B grows (issue 9, §3).

The README's COMPAS command (race, sex and race×sex, 7,214 rows) with ``--bootstrap B`` for
B = 1,000 and 100,000 (the limit, ``assessment.evaluation.limits.MAX_BOOTSTRAP``), each in a fresh
interpreter under a small parent that reports the child's wall time, CPU time (user + system)
and maximum RSS. ``unblocked`` runs the same command with the replicate blocks switched off (one
block of B replicates, as before the blocks), so the two rows of one run compare like with like.

Usage: python benchmarks/bench_bootstrap_memory.py [--repeats 1] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402

COMPAS = ROOT.parent / "shared" / "data" / "compas" / "compas_for_aequitas.csv"
PARENT = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter(); r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "w = time.perf_counter() - t\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(w, u.ru_utime + u.ru_stime, u.ru_maxrss, r.returncode)\n"
)
CHILD = (
    "import sys\n"
    "if sys.argv[1] == 'unblocked':\n"
    "    import assessment.evaluation.bootstrap as b\n"
    "    b.block_size = lambda *a: 10**9\n"
    "import main\n"
    "sys.exit(main.main(sys.argv[2:]))\n"
)


def run(mode: str, b: int, out: Path) -> tuple[float, float, float]:
    args = ["evaluate", str(COMPAS), "--label", "label_value", "--prediction", "score",
            "--group", "race", "--group", "sex", "--intersect", "race,sex",
            "--reference", "race=Caucasian", "--reference", "sex=Male",
            "--bootstrap", str(b), "--json", str(out)]  # fmt: skip
    cmd = [sys.executable, "-c", PARENT, sys.executable, "-c", CHILD, mode, *args]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
    wall, cpu, rss_kb, code = res.stdout.split()
    if code != "0":
        raise SystemExit(f"evaluate failed ({mode}, B = {b}): {res.stderr}")
    return float(wall), float(cpu), float(rss_kb) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--no-write", action="store_true")
    opts = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for b in (1000, 100_000):
            for mode in ("blocked", "unblocked"):
                for _ in range(opts.repeats):
                    wall, cpu, rss = run(mode, b, Path(tmp) / "r.json")
                    rows.append((b, mode, wall, cpu, rss))
                    print(f"B={b:>6} {mode:9} wall {wall:6.1f} s  cpu {cpu:6.1f} s  "
                          f"max RSS {rss:6.0f} MB", flush=True)  # fmt: skip
    load = os.getloadavg()[0]
    table = "\n".join(
        f"| {b:,} | {mode} | {wall:.1f} | {cpu:.1f} | {rss:.0f} |"
        for b, mode, wall, cpu, rss in rows
    )
    body = f"""## Bootstrap B and memory: `evaluate` on COMPAS (`bench_bootstrap_memory.py`)

{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, a fresh interpreter per
run; load average {load:.1f} on {os.cpu_count()} cores at the end. The README's COMPAS command
(race, sex, race×sex; 7,214 rows) with `--bootstrap B`. `blocked`: replicates drawn in blocks of
at most 64 MiB of working memory (`assessment/evaluation/boot_blocks.py`); `unblocked`: one block
of B replicates, as before. B is capped at 100,000 (`limits.MAX_BOOTSTRAP`).

| B | replicates | wall s | CPU s (user+sys) | max RSS MB |
|---|---|---|---|---|
{table}

What is left at B = 100,000 grows with B by design: every bootstrap metric's replicates of every
group (8 bytes each) are kept for the percentile intervals, p-values and summary measures.
"""
    if not opts.no_write:
        write_section("bench_bootstrap_memory", body)
    print(body)


if __name__ == "__main__":
    main()
