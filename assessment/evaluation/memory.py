"""Give memory that allocators keep after freeing back to the operating system.

Reading and mapping a large file frees most of what they allocate, but two allocators keep the
freed memory for reuse: Arrow's (mimalloc, used by pyarrow and pandas' Arrow-backed columns) and
glibc's heap (arrays under its mmap threshold). At 10 million rows that is several hundred MB of
resident memory the evaluation never reuses; :func:`release_freed_memory` returns it before the
evaluation's own peak. Nothing is imported for it: Arrow's pool only if pyarrow is already loaded.

While an evaluation runs, :func:`reuse_freed_pages` has glibc keep freed large blocks for reuse
instead of handing them back to the system at once (see there).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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
        return lib if hasattr(lib, "malloc_trim") and hasattr(lib, "mallopt") else None
    except OSError:
        return None


def release_freed_memory() -> None:
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    lib = _libc()
    if lib is not None:
        lib.malloc_trim(0)


# mallopt(3) parameters. glibc adjusts its mmap threshold by itself (a freed mapped block of up
# to 32 MiB raises it to that size, the trim threshold to twice that) until mallopt is called,
# after which it never does again: when the last holder ends, the settings restored are the ones
# that rule reaches once large blocks have been freed (what any evaluation frees), and the
# default number of mappings.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
AFTER_MMAP_THRESHOLD = 32 * 1024 * 1024  # DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems
AFTER_TRIM_THRESHOLD = 2 * AFTER_MMAP_THRESHOLD
DEFAULT_MMAP_MAX = 65536
#: Free memory at the top of the heap kept while an evaluation runs (one evaluation's
#: temporaries at 10M rows are 80–320 MB each; a smaller limit handed most of them back).
KEPT_FREE = 1 << 30
#: Environment variables through which a user tunes glibc's allocator: their setting is kept.
_USER_TUNING = ("GLIBC_TUNABLES", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")

_lock = threading.Lock()
_holders = [0]


@contextmanager
def reuse_freed_pages() -> Iterator[None]:
    """While held, glibc serves large blocks from its heap and keeps freed ones for reuse, and
    NumPy does not ask for transparent huge pages.

    By default glibc maps every block over its mmap threshold (at most 32 MiB) afresh and unmaps
    it when freed: every new row-length temporary is new pages the kernel faults in and zeroes.
    A 10M-row evaluation makes thousands of them (80 MB each): 11 of its 40 seconds were
    system time. Held, blocks come from the heap (``M_MMAP_MAX`` 0) and up to
    :data:`KEPT_FREE` of freed memory stays for the next block (``M_TRIM_THRESHOLD``). NumPy
    marks each array of 4 MB or more for huge pages (``madvise``); on reused heap memory that
    cost 3–4 s more system time than it saved (the kernel compacts memory to find huge pages),
    so it is off meanwhile. Together: 1.5 s of system time at 10M clustered rows
    (benchmarks/RESULTS.md). Holders nest and may be on several threads; when the last one ends
    the settings come back (glibc's own rule for large blocks: see :data:`AFTER_MMAP_THRESHOLD`)
    and the free heap memory is returned (``malloc_trim``). A no-op off
    glibc; a setting the user made through the environment is kept. Only the calling
    process's main heap gains: worker threads allocate from per-thread arenas, which map large
    blocks whatever the setting.
    """
    lib = _libc()
    if lib is None or any(name in os.environ for name in _USER_TUNING):
        yield
        return
    with _lock:
        if _holders[0] == 0:
            lib.mallopt(M_MMAP_MAX, 0)
            lib.mallopt(M_TRIM_THRESHOLD, KEPT_FREE)
            _huge_pages[0] = _numpy_huge_pages(False)
        _holders[0] += 1
    try:
        yield
    finally:
        with _lock:
            _holders[0] -= 1
            if _holders[0] == 0:
                lib.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
                lib.mallopt(M_MMAP_THRESHOLD, AFTER_MMAP_THRESHOLD)
                lib.mallopt(M_TRIM_THRESHOLD, AFTER_TRIM_THRESHOLD)
                if _huge_pages[0] is not None:
                    _numpy_huge_pages(_huge_pages[0])
                lib.malloc_trim(0)


_huge_pages: list[bool | None] = [None]


def _numpy_huge_pages(enabled: bool) -> bool | None:
    """Set whether NumPy marks large arrays for huge pages; returns the previous setting (None
    when NumPy is not loaded, lacks the switch, or the user set NUMPY_MADVISE_HUGEPAGE)."""
    numpy = sys.modules.get("numpy")
    if numpy is None or "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return None
    core = getattr(numpy, "_core", None)
    switch = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    return None if switch is None else bool(switch(enabled))
