"""Give memory that allocators keep after freeing back to the operating system.

Reading and mapping a large file frees most of what they allocate, but two allocators keep the
freed memory for reuse: Arrow's (mimalloc, used by pyarrow and pandas' Arrow-backed columns) and
glibc's heap (arrays under its mmap threshold). At 10 million rows that is several hundred MB of
resident memory the evaluation never reuses; :func:`release_freed_memory` returns it before the
evaluation's own peak. Nothing is imported for it: Arrow's pool only if pyarrow is already loaded.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache
from typing import Any


@cache
def _libc() -> Any:
    """glibc, when this process runs on it (None elsewhere: macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
        return lib if hasattr(lib, "malloc_trim") else None
    except OSError:
        return None


def release_freed_memory() -> None:
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    lib = _libc()
    if lib is not None:
        lib.malloc_trim(0)
