"""release_freed_memory returns what Arrow's allocator kept after freeing, and never imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def run(code: str) -> str:
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_it_imports_nothing() -> None:
    out = run(
        "import sys\n"
        "from assessment.evaluation.memory import release_freed_memory\n"
        "release_freed_memory()\n"
        "print('pyarrow' in sys.modules, 'pandas' in sys.modules)\n"
    )
    assert out.split() == ["False", "False"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_freed_arrow_memory_leaves_the_process() -> None:
    out = run(
        "import numpy as np, pyarrow as pa, pyarrow.compute as pc\n"
        "from assessment.evaluation.memory import release_freed_memory\n"
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS'):\n"
        "            return int(line.split()[1]) // 1024\n"
        "a = pa.array(np.arange(25_000_000, dtype=np.int64))\n"
        "b = pc.add(a, 1)\n"  # 200 MB from Arrow's pool
        "del b\n"
        "kept = rss()\n"
        "release_freed_memory()\n"
        "print(kept, rss())\n"
    )
    kept, after = (int(v) for v in out.split())
    assert kept - after > 100, (kept, after)
