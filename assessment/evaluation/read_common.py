"""What the readers of :mod:`assessment.evaluation.io` share: chunk sizes, the path of a checked
descriptor, the first line of a parser's error, and the raw header's duplicate names."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from assessment.evaluation.mapping import duplicates_of

MiB = 1024 * 1024
#: Bytes read per chunk by the streamed passes (hash, scans).
CHUNK = 1024 * 1024
#: How much of a file's start is kept to sniff its format, delimiter and decimal mark.
SNIFF_BYTES = 256 * 1024


def fd_path(handle: BinaryIO, path: Path) -> str:
    """A path that opens exactly the checked file (Linux: /proc/self/fd/N), for readers that
    need a name."""
    proc = f"/proc/self/fd/{handle.fileno()}"
    return proc if os.path.exists(proc) else str(path)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def duplicates_from_raw(
    raw_header: Sequence[str], names: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    """Duplicates of the *raw* header, mapped positionally to the frame's (renamed) columns.

    pandas silently renames a second ``decile_score`` to ``decile_score.1``; the raw header is
    the only place the duplication is still visible.
    """
    raw = [h.strip() for h in raw_header]
    if len(raw) != len(names):
        return duplicates_of(list(names))
    positions: dict[str, list[int]] = {}
    for i, h in enumerate(raw):
        positions.setdefault(h, []).append(i)
    return {h: tuple(names[i] for i in pos) for h, pos in positions.items() if len(pos) > 1}


def mangle(names: Sequence[str]) -> list[str]:
    """pandas' renaming of repeated names: x, x.1, x.2 (skipping names already taken)."""
    seen: set[str] = set()
    out: list[str] = []
    counts: dict[str, int] = {}
    for n in names:
        new = n
        while new in seen:
            counts[n] = counts.get(n, 0) + 1
            new = f"{n}.{counts[n]}"
        seen.add(new)
        out.append(new)
    return out
