"""The one place that resolves Probity's per-user folders for signing.

Resolving paths in a single module (qutebrowser's ``standarddir``) means tests redirect
everything with one environment variable and no code guesses a home directory on its own.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_ENV = "PROBITY_CONFIG_DIR"


def config_dir() -> Path:
    """Per-user config folder: ``$PROBITY_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/probity``,
    else ``~/.config/probity`` (XDG base-directory default)."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    return base / "probity"


def identities_dir(create: bool = False) -> Path:
    """Folder holding the user's passphrase-protected PKCS#12 signing identities."""
    return _sub("identities", create)


def trusted_dir(create: bool = False) -> Path:
    """Folder holding certificates (PEM) of signers this user trusts."""
    return _sub("trusted", create)


def _sub(name: str, create: bool) -> Path:
    path = config_dir() / name
    if create:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
