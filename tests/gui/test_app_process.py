"""The real entry point as a process: `python main.py [FILE]` shows its window and exits cleanly
through the start-up probe (the hook the start-up benchmark uses)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from assessment import storage
from assessment.document import Assessment

ROOT = Path(__file__).resolve().parents[2]


def run_app(args: list[str], config: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PROBITY_CONFIG_DIR=str(config),
               PROBITY_STARTUP_PROBE="1")
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_no_arguments_show_the_demo(tmp_path):
    proc = run_app([], tmp_path / "config")
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("probity-first-paint "))
    demo = storage.load(ROOT / "resources" / "demo" / "demo.probity")
    assert line.split(" ", 2)[2] == demo.title
    assert "Traceback" not in proc.stderr


def test_a_file_argument_opens_it(tmp_path):
    doc = Assessment.new("probast-ai-2025")
    doc.set_field("model_card", "model_name", "Sepsis watch")
    path = tmp_path / "sepsis.probity"
    storage.save(doc, path)
    proc = run_app([str(path)], tmp_path / "config")
    assert proc.returncode == 0, proc.stderr
    assert "probity-first-paint" in proc.stdout and proc.stdout.rstrip().endswith("Sepsis watch")
