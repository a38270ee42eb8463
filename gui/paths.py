"""Every folder and file the GUI keeps for itself, resolved in one place.

Following qutebrowser's ``standarddir``: nothing else in ``gui/`` builds a config path, and the
folder itself comes from :func:`assessment.paths.config_dir` (the one resolver shared with the
CLI), so tests and portable installs move everything with ``PROBITY_CONFIG_DIR``.
Settings are plain JSON (never pickled, never QSettings' binary formats) and are written
atomically, so a crash while saving preferences cannot corrupt them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assessment.errors import ProbityError

MAX_RECENT = 10


def default_config_dir() -> Path:
    """The per-user folder, as :mod:`assessment.paths` resolves it (``PROBITY_CONFIG_DIR``...)."""
    from assessment.paths import config_dir

    return config_dir()


@dataclass(frozen=True)
class Paths:
    """The GUI's own files, all under one config folder."""

    config_dir: Path

    @classmethod
    def resolve(cls) -> Paths:
        return cls(default_config_dir())

    @property
    def recovery_dir(self) -> Path:
        """Autosaved snapshots of documents with unsaved edits (see assessment.storage)."""
        return self.config_dir / "recovery"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def identities_dir(self) -> Path:
        """Signing identities created in the app (PKCS#12 files, passphrase-protected)."""
        return self.config_dir / "identities"

    @property
    def crash_log(self) -> Path:
        """Tracebacks of unexpected errors (shown to the user only as one plain sentence)."""
        return self.config_dir / "logs" / "errors.log"

    def ensure(self) -> None:
        """Create the folders lazily, only when something is about to be written."""
        for folder in (self.config_dir, self.recovery_dir, self.crash_log.parent):
            folder.mkdir(parents=True, exist_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with the one atomic writer (creating the folder first)."""
    from assessment.fileio import atomic_write_text as write

    path.parent.mkdir(parents=True, exist_ok=True)
    write(path, text)


class Settings:
    """Small JSON-backed preferences with defaults; unknown or damaged files fall back safely."""

    DEFAULTS: dict[str, Any] = {
        "recent_files": [],
        "autosave_delay_ms": 1500,
        "reviewer_name": "",
        "reviewer_role": "",
        "reviewer_organisation": "",
        "reviewer_email": "",
        "default_instrument": "probast-2019",
        "open_demo_at_start": True,
        # Raised read limits (assessment.evaluation.limits.ReadLimits), set when the reviewer
        # agrees to read a file that was over one; empty = the defaults.
        "read_limits": {},
        # Window state (gui.window_state): geometry and splitter positions as base64 of Qt's
        # own byte arrays, and the folder of the last file chosen in a file dialog.
        "window_geometry": "",
        "window_state": "",
        "splitters": {},
        "last_folder": "",
        # "auto" follows the desktop's colour scheme; "light" or "dark" force one (gui.theme).
        "colour_scheme": "auto",
    }

    def __init__(self, path: Path) -> None:
        self.path = path
        self._values: dict[str, Any] = dict(self.DEFAULTS)
        self._load()

    def _load(self) -> None:
        from assessment.fileio import read_regular_bytes

        try:
            data = read_regular_bytes(self.path, what="settings file", max_bytes=1 << 20)
            raw = json.loads(data.decode("utf-8"))
        except (ProbityError, ValueError, RecursionError):
            return  # first start or a damaged file: defaults are the safe answer
        if isinstance(raw, dict):
            for key, default in self.DEFAULTS.items():
                value = raw.get(key, default)
                if isinstance(value, type(default)):
                    self._values[key] = value

    def get(self, key: str) -> Any:
        return self._values[key]

    def set(self, key: str, value: Any) -> None:
        if key not in self.DEFAULTS:
            raise KeyError(f"unknown setting {key!r}; known: {', '.join(sorted(self.DEFAULTS))}")
        self._values[key] = value
        self.save()

    def save(self) -> None:
        try:
            atomic_write_text(self.path, json.dumps(self._values, indent=2, sort_keys=True))
        except (OSError, ProbityError):
            # Preferences are a convenience; failing to store them must not interrupt work.
            pass

    def recent_files(self) -> list[str]:
        return [p for p in self._values["recent_files"] if isinstance(p, str)]

    def add_recent(self, path: Path | str) -> None:
        item = str(Path(path).resolve())
        recent = [p for p in self.recent_files() if p != item]
        self.set("recent_files", [item, *recent][:MAX_RECENT])

    def clear_recent(self) -> None:
        self.set("recent_files", [])
