"""Every read of a user's file and every write of one, in one place.

Reading (:func:`open_regular`, :func:`read_regular_bytes`): only a *regular* file is opened.
A path that is (or is a symlink to) a device such as ``/dev/zero``, a FIFO, a socket or a folder
is refused at once with one sentence, before a byte is read; the file is opened with
``O_NONBLOCK`` so that a FIFO swapped in after the check cannot hang the open, and checked again
on the open descriptor. The size limit is checked before reading and again while reading (a file
that grows while it is read stops at the limit).

Writing (:func:`atomic_write`): the one atomic writer. Guarantee: the payload goes to a temporary
file in the target's own folder (so the rename never crosses a file system), which is flushed
and fsynced, then renamed over the target, then the folder is fsynced; on any failure the
temporary file is removed and the target is untouched (the old file, or no file). Every failure
a user can cause (missing folder, permission, read-only disk, full disk, a name that is too
long, a folder where the file should go) is one sentence of the caller's error type, never a
traceback. Temporary files are named ``.<target name>.<pid>.<host tag>.<random>.probity-tmp`` (see
:data:`TEMP_SUFFIX` and :func:`is_temp_file`), so a clean-up after a crash can recognise them.

:func:`refuse_same_file` stops a command from writing its output over one of its inputs.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import math
import os
import re
import socket
import stat
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from assessment.errors import DocumentError, ProbityError

#: Suffix of the atomic writer's temporary files (``.<name>.<pid>.<host>.<random>.probity-tmp``).
TEMP_SUFFIX = ".probity-tmp"
#: Characters of the target's name kept in the temporary file's name (the random part and the
#: suffix must still fit in the 255-byte name limit of common file systems).
TEMP_NAME_CHARS = 100

Writer = Callable[[BinaryIO], None]


def mb(n: int | float) -> str:
    """A byte count as megabytes for messages ("1,024 MB", "0.5 MB")."""
    value = n / (1024 * 1024)
    return f"{value:,.0f} MB" if value >= 10 else f"{value:,.1f} MB".replace(".0 MB", " MB")


# ---------------------------------------------------------------------------------- reading


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _reason(exc: OSError) -> str:
    code = exc.errno
    if code == errno.ENOENT:
        return "it does not exist"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if code == errno.ENAMETOOLONG:
        return "the name is too long"
    if code == errno.ELOOP:
        return "it is a loop of symbolic links"
    if code == errno.ENOTDIR:
        return "a part of the path is not a folder"
    if code == errno.ENOSPC:
        return "no space left on the disk"
    if code == errno.EROFS:
        return "the disk is read-only"
    if code == errno.EISDIR:
        return "it is a folder"
    if code == errno.EDQUOT:
        return "the disk quota is exceeded"
    return (exc.strerror or str(exc)).rstrip(".").lower()


def open_regular(
    path: str | os.PathLike[str],
    *,
    what: str = "file",
    max_bytes: int | None = None,
    limit_hint: str = "",
    error: type[ProbityError] = DocumentError,
) -> tuple[BinaryIO, int]:
    """Open a regular file for reading; return (binary file object, size in bytes).

    ``what`` names the expected content ("data file", "assessment"); ``limit_hint`` says how to
    raise ``max_bytes`` ("raise it with --max-file-mb"). Raises ``error`` with one sentence.
    """
    p = Path(path)
    try:
        st = os.stat(p)  # follows symlinks: a link to /dev/zero is judged by what it points at
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise error(f"{p} does not exist; check the path.") from exc
        raise error(f"Cannot read {p}: {_reason(exc)}.") from exc
    kind = _kind(st.st_mode)
    if kind is not None:
        raise error(f"{p} is {kind}, not a {what}; choose a regular {what}.")
    _check_size(p, st.st_size, max_bytes, what, limit_hint, error)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise error(f"Cannot read {p}: {_reason(exc)}.") from exc
    try:
        st = os.fstat(fd)  # the file actually opened (it may have been swapped since the stat)
        kind = _kind(st.st_mode)
        if kind is not None:
            raise error(f"{p} is {kind}, not a {what}; choose a regular {what}.")
        _check_size(p, st.st_size, max_bytes, what, limit_hint, error)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return handle, st.st_size


def _check_size(
    p: Path, size: int, max_bytes: int | None, what: str, hint: str, error: type[ProbityError]
) -> None:
    if max_bytes is not None and size > max_bytes:
        raise error(
            f"{p.name} is {mb(size)}, over the {mb(max_bytes)} limit for a {what}"
            + (f"; {hint}." if hint else ".")
        )


def read_regular_bytes(
    path: str | os.PathLike[str],
    *,
    what: str = "file",
    max_bytes: int,
    limit_hint: str = "",
    error: type[ProbityError] = DocumentError,
) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (see :func:`open_regular`)."""
    handle, _ = open_regular(
        path, what=what, max_bytes=max_bytes, limit_hint=limit_hint, error=error
    )
    p = Path(path)
    with handle:
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise error(f"Cannot read {p}: {_reason(exc)}.") from exc
    if len(data) > max_bytes:  # it grew while being read
        _check_size(p, len(data), max_bytes, what, limit_hint, error)
    return data


# ---------------------------------------------------------------------------------- writing


def is_temp_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is named like one of :func:`atomic_write`'s temporary files."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def host_tag() -> str:
    """8 hex digits naming this host in temporary file names (SHA-256 of the host name)."""
    return hashlib.sha256((socket.gethostname() or "localhost").encode()).hexdigest()[:8]


def temp_prefix(target_name: str) -> str:
    """``.<target>.<pid>.<host tag>.``: the writer of a temporary file can be checked after a
    crash (assessment.leftovers removes those whose writer is dead)."""
    return f".{target_name[:TEMP_NAME_CHARS]}.{os.getpid()}.{host_tag()}."


@dataclass(frozen=True)
class TempName:
    """What a temporary file's name says: its target (cut to TEMP_NAME_CHARS), writer, host."""

    target: str
    pid: int | None  # None: named by a version that did not record the writer
    host: str | None


_TEMP_WITH_WRITER = re.compile(
    r"\.(?P<target>.+)\.(?P<pid>[0-9]{1,10})\.(?P<host>[0-9a-f]{8})\.[a-z0-9_]{8}"
    + re.escape(TEMP_SUFFIX),
    re.DOTALL,
)
_TEMP_WITHOUT_WRITER = re.compile(
    r"\.(?P<target>.+)\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX), re.DOTALL
)


def parse_temp_name(name: str) -> TempName | None:
    """The parts of a temporary file's name, or None if it is not one of the writer's."""
    match = _TEMP_WITH_WRITER.fullmatch(name)
    if match is not None:
        return TempName(match["target"], int(match["pid"]), match["host"])
    match = _TEMP_WITHOUT_WRITER.fullmatch(name)
    if match is not None:
        return TempName(match["target"], None, None)
    return None


def _umask() -> int:
    """The process umask, read without changing it (other threads may be creating files)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _cannot_write(target: Path, reason: str, error: type[ProbityError]) -> ProbityError:
    return error(
        f"Cannot write {target}: {reason}. Nothing was written there; choose another "
        "folder or file name."
    )


def check_output(
    path: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    *,
    error: type[ProbityError] = DocumentError,
) -> Path:
    """Check, before any work, that ``path`` can be written; return the path to write.

    Refuses an output that is one of ``inputs``, a folder or a device, a missing folder and a
    name longer than the file system allows. A symlink resolves to the file it points at (that
    file is replaced, the link kept). :func:`atomic_write` makes the same checks.
    """
    target = Path(path)
    refuse_same_file(target, inputs, error=error)
    try:
        if target.is_symlink():
            target = Path(os.path.realpath(target))
        folder = target.parent if str(target.parent) else Path(".")
        try:
            st = os.stat(target)
        except FileNotFoundError:
            pass
        else:
            kind = _kind(st.st_mode)
            if kind is not None:
                raise _cannot_write(target, f"it is {kind}, not a regular file", error)
        if not folder.is_dir():
            raise _cannot_write(target, f"the folder {folder} does not exist", error)
        with contextlib.suppress(OSError, ValueError):
            if len(os.fsencode(target.name)) > os.pathconf(folder, "PC_NAME_MAX"):
                raise _cannot_write(target, "the name is too long", error)
    except OSError as exc:
        raise _cannot_write(target, _reason(exc), error) from exc
    return target


def atomic_write(
    path: str | os.PathLike[str],
    payload: bytes | Writer,
    *,
    private: bool = False,
    error: type[ProbityError] = DocumentError,
) -> None:
    """Write ``payload`` (bytes, or a function writing to a binary file) to ``path`` atomically.

    A new file gets the permissions an ordinary ``open()`` would give it (0666 less the umask),
    or 0600 when ``private``; an existing file keeps its permissions. Errors are ``error``
    with one sentence; the previous file, if any, is then unchanged and no temporary file is left.
    """
    target = check_output(path, error=error)
    folder = target.parent if str(target.parent) else Path(".")

    def fail(reason: str) -> ProbityError:
        return _cannot_write(target, reason, error)

    try:
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target.name), suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise fail(f"no file can be created in {folder}") from exc
        raise fail(_reason(exc)) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(payload, bytes | bytearray | memoryview):
                handle.write(payload)
            else:
                payload(handle)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            if target.exists():
                os.chmod(tmp, target.stat().st_mode & 0o777)
            elif not private:
                os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except UnicodeEncodeError as exc:  # a writer function encoding text
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise fail(f"the text holds a character that cannot be encoded ({exc.reason})") from exc
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise fail(_reason(exc)) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def atomic_write_text(
    path: str | os.PathLike[str],
    text: str,
    *,
    encoding: str = "utf-8",
    private: bool = False,
    error: type[ProbityError] = DocumentError,
) -> None:
    """:func:`atomic_write` of ``text`` (no newline translation)."""
    try:
        payload = text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise error(
            f"Cannot write {path}: the text cannot be encoded as {encoding} "
            f"(character {exc.start})."
        ) from exc
    atomic_write(path, payload, private=private, error=error)


def refuse_same_file(
    out: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str] | None],
    *,
    error: type[ProbityError] = DocumentError,
) -> None:
    """Refuse an output path that is one of the inputs (same path, or the same file on disk)."""
    target = Path(out)
    for raw in inputs:
        if raw is None:
            continue
        source = Path(raw)
        same = False
        with contextlib.suppress(OSError, ValueError):
            same = target.resolve() == source.resolve()
        if not same:
            with contextlib.suppress(OSError, ValueError):
                same = os.path.samefile(target, source)  # hard links, bind mounts
        if same:
            raise error(
                f"The output {target} is the input file {source}; writing it would destroy "
                "the input. Choose another output file."
            )


# Spreadsheet formula injection: text cells starting with these are prefixed with a quote.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """Return ``value`` safe for a spreadsheet: risky text gets a leading ``'``.

    Non-text values (numbers, booleans, None) are returned unchanged; a NaN float becomes
    None so it is written as an empty cell rather than the text "nan".
    """
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        if value.startswith(FORMULA_PREFIXES):
            return "'" + value
        return value
    if hasattr(value, "item") and not isinstance(value, (bytes, bytearray)):
        # NumPy scalar -> Python scalar (openpyxl and csv both want plain values).
        try:
            return neutralise_cell(value.item())
        except (TypeError, ValueError):
            return neutralise_cell(str(value))
    if isinstance(value, (int, float, bool)):
        return value
    return neutralise_cell(str(value))
