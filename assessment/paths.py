"""The one place that decides where Probity keeps per-user files.

Config (signing identities, trusted signer certificates, preferences) and state (recovery files)
live under one folder: ``$PROBITY_CONFIG_DIR`` when set (tests point it at a temporary folder),
else ``$XDG_CONFIG_HOME/probity`` or ``~/.config/probity``. Nothing needs admin rights.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "PROBITY_CONFIG_DIR"


def config_dir() -> Path:
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "probity"


def _sub(name: str) -> Path:
    path = config_dir() / name
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def identities_dir() -> Path:
    return _sub("identities")


def trusted_dir() -> Path:
    return _sub("trusted")


def recovery_dir() -> Path:
    return _sub("recovery")
