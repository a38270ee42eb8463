"""Child processes for crash tests: run Qt-free code, then SIGKILL itself (a real crash)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def killed_child(code: str, *args: str) -> int:
    """Run ``code`` in a child that SIGKILLs itself when done; return its (now dead) pid."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(code) + "\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
            *args,
        ],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stderr=subprocess.PIPE,
        text=True,
    )
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err
    return proc.pid
