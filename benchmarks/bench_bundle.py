"""Offline bundle: archive size, build time, offline install time, start-up of the installed app.

Builds the bundle with ``./dev.sh bundle`` into a temporary folder (downloads cached, so this is the
rebuild time after a code change), unpacks it, installs it with ``install.sh --prefix`` inside a
network namespace with no interfaces (``unshare -n``; run as root), re-runs it (the upgrade in
place), then starts the installed ``probity`` (no arguments: the demo assessment) and measures
process start -> first paint of the main window on the offscreen platform through the
``PROBITY_STARTUP_PROBE`` hook, as ``bench_startup.py`` does for the source tree: the first start
after the install (the page cache is warm from the install, bytecode was written by install.sh),
then the median of ``--trials`` further starts.

``--pyinstaller`` also builds the frozen alternative for comparison: a PyInstaller one-folder
build of the same installed wheels (PyInstaller itself comes from PyPI, so this part needs the
package index), its ``.tar.gz``, the time to unpack it (its whole "install") and the same start-up
measurement. Results go to benchmarks/RESULTS.md between the bench_bundle markers.

Usage: sudo .venv/bin/python benchmarks/bench_bundle.py [--trials N] [--pyinstaller] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from results import write_section

ROOT = Path(__file__).resolve().parent.parent
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PYINSTALLER = "pyinstaller==6.22.3"


def du(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


CPU: dict[str, float] = {}  # CPU seconds (user+sys of the child processes) per timed step
LAST_STDERR: list[str] = []  # stderr of the last timed command


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], step: str = "", **kwargs) -> float:
    """Wall seconds of ``cmd``; its CPU seconds go to ``CPU[step]``."""
    cpu, start = children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} … failed:\n{proc.stdout}\n{proc.stderr}")
    if step:
        CPU[step] = children_cpu() - cpu
    LAST_STDERR[:] = [proc.stderr]
    return time.perf_counter() - start


def clean_env(home: Path) -> list[str]:
    return ["env", "-i", f"PATH={BASE_PATH}", f"HOME={home}", "LANG=C.UTF-8"]


def first_paint(cmd: list[str], config: Path) -> float:
    env = {
        "PATH": BASE_PATH,
        "HOME": str(config),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "PROBITY_CONFIG_DIR": str(config),
        "PROBITY_STARTUP_PROBE": "1",
    }
    start = time.time()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    for line in proc.stdout.splitlines():
        if line.startswith("probity-first-paint "):
            return float(line.split()[1]) - start
    raise SystemExit(
        f"no first paint from {cmd[0]} (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    )


def startup(cmd: list[str], trials: int, work: Path) -> tuple[float, float]:
    config = Path(tempfile.mkdtemp(dir=work))
    first = first_paint(cmd, config)
    rest = [first_paint(cmd, config) for _ in range(trials)]
    return first, statistics.median(rest)


def measure_bundle(work: Path, trials: int) -> dict[str, float | int | str]:
    dist = work / "dist"
    build_s = timed(["./dev.sh", "bundle", "--out", str(dist)], "build", cwd=ROOT)
    cached = bool(LAST_STDERR) and "using cached downloads" in LAST_STDERR[-1]
    archive = next(dist.glob("probity-offline-*.tar.gz"))
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        start = time.perf_counter()
        tar.extractall(work / "unpacked", filter="data")
        unpack_s = time.perf_counter() - start
    bundle = work / "unpacked" / archive.name.removesuffix(".tar.gz")
    home = work / "home"
    home.mkdir()
    prefix = home / "prefix"
    install = [*clean_env(home), str(bundle / "install.sh"), "--prefix", str(prefix)]
    install_s = timed(["unshare", "-n", *install], "install")
    upgrade_s = timed(["unshare", "-n", *install], "upgrade")
    first, median = startup([str(prefix / "bin" / "probity")], trials, work)
    return {
        "archive_mb": archive.stat().st_size / 1e6,
        "build_s": build_s,
        "unpack_s": unpack_s,
        "wheels": sum(m.name.endswith(".whl") for m in members),
        "wheels_mb": sum(m.size for m in members if m.name.endswith(".whl")) / 1e6,
        "debs": sum(m.name.endswith(".deb") for m in members),
        "debs_mb": sum(m.size for m in members if m.name.endswith(".deb")) / 1e6,
        "install_s": install_s,
        "upgrade_s": upgrade_s,
        "installed_mb": du(prefix) / 1e6,
        "start_first_s": first,
        "start_median_s": median,
        "bundle": str(bundle),
        "downloads": "downloads cached" if cached else "downloads fetched in this run",
    }


def measure_pyinstaller(work: Path, bundle: Path, trials: int) -> dict[str, float]:
    """The frozen one-folder alternative, built from the bundle's own wheels."""
    venv = work / "freeze-venv"
    subprocess.run(["/usr/bin/python3.11", "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    timed(
        [
            py,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--find-links",
            str(bundle / "wheelhouse"),
            "-r",
            str(bundle / "requirements.lock"),
        ]
    )
    timed([py, "-m", "pip", "install", "-q", PYINSTALLER])
    entry = work / "probity_entry.py"
    entry.write_text("import sys\nfrom main import main\nsys.exit(main())\n", encoding="utf-8")
    collect = []
    for pkg in ("assessment", "reports", "gui"):
        collect += ["--collect-submodules", pkg]
    for pkg in ("resources", "reportlab", "pyhanko", "pyhanko_certvalidator"):
        collect += ["--collect-data", pkg]
    build_s = timed(
        [
            py,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--onedir",
            "--name",
            "probity",
            "--distpath",
            str(work / "frozen"),
            "--workpath",
            str(work / "pyi-build"),
            "--specpath",
            str(work),
            "--log-level",
            "WARN",
            *collect,
            str(entry),
        ],
        "freeze",
    )
    folder = work / "frozen" / "probity"
    archive = work / "probity-frozen.tar.gz"
    start = time.perf_counter()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="probity")
    pack_s = time.perf_counter() - start
    target = work / "frozen-installed"
    start = time.perf_counter()
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    install_s = time.perf_counter() - start
    exe = target / "probity" / "probity"
    selftest = subprocess.run(
        [str(exe), "--selftest"],
        capture_output=True,
        text=True,
        env={"PATH": BASE_PATH, "HOME": str(work), "LANG": "C.UTF-8"},
        timeout=300,
    )
    first, median = startup([str(exe)], trials, work)
    return {
        "archive_mb": archive.stat().st_size / 1e6,
        "build_s": build_s,
        "pack_s": pack_s,
        "folder_mb": du(folder) / 1e6,
        "install_s": install_s,
        "selftest": "passed" if selftest.returncode == 0 else "FAILED",
        "start_first_s": first,
        "start_median_s": median,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--pyinstaller", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the install is measured inside `unshare -n`")
    work = Path(tempfile.mkdtemp(prefix="probity-bench-bundle-"))
    try:
        b = measure_bundle(work, args.trials)
        f = (
            measure_pyinstaller(work, Path(str(b["bundle"])), args.trials)
            if args.pyinstaller
            else None
        )
        load = os.getloadavg()[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        "## Offline bundle: size, install time, start-up (`bench_bundle.py`)",
        "",
        f"{stamp}, {platform.platform()}, {os.cpu_count()} cores, load average {load:.1f} at "
        "the end (the machine is shared: above 2 every wall time stretches; the CPU seconds, "
        "user+sys of the whole step, do not). Install = the whole `install.sh` inside "
        "`unshare -n` (checksums of every file, system-library check, venv from the "
        "wheelhouse, bytecode, launcher and desktop entry, `probity --selftest`). Start-up = "
        "process start to first paint of the main window with the demo, offscreen; first = "
        f"first start after the install, then the median of {args.trials} more.",
        "",
        "| build | archive | contents | install, wall (CPU) | upgrade re-run | installed "
        "| start first / median |",
        "|---|---|---|---|---|---|---|",
        f"| venv + wheelhouse: `./dev.sh bundle`, {b['downloads']}, {b['build_s']:.0f} s "
        f"({CPU['build']:.0f} s CPU) | {b['archive_mb']:.0f} MB | {b['wheels']} wheels "
        f"({b['wheels_mb']:.0f} MB), {b['debs']} .debs ({b['debs_mb']:.0f} MB) "
        f"| {b['install_s']:.0f} s ({CPU['install']:.0f} s) + unpack {b['unpack_s']:.0f} s "
        f"| {b['upgrade_s']:.0f} s ({CPU['upgrade']:.0f} s) | {b['installed_mb']:.0f} MB "
        f"| {b['start_first_s']:.2f} / {b['start_median_s']:.2f} s |",
    ]
    if f is not None:
        lines.append(
            f"| PyInstaller one-folder ({PYINSTALLER}) from the same wheels: "
            f"{f['build_s']:.0f} s ({CPU['freeze']:.0f} s CPU) + tar.gz {f['pack_s']:.0f} s "
            f"| {f['archive_mb']:.0f} MB | the frozen folder only: it needs the same system "
            f"libraries, so the .debs would be added | unpack {f['install_s']:.0f} s "
            f"(self-test {f['selftest']}) | — | {f['folder_mb']:.0f} MB "
            f"| {f['start_first_s']:.2f} / {f['start_median_s']:.2f} s |"
        )
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("bench_bundle", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
