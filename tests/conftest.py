"""Fixtures shared by every test area.

Every test gets its own config folder (signing identities, trusted certificates, recovery files),
so no test reads or writes the developer's real ~/.config/probity.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO_ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(autouse=True)
def isolated_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    folder = tmp_path_factory.mktemp("probity-config")
    monkeypatch.setenv("PROBITY_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(
            f"the shared real data is missing at {SHARED_DATA}; CI keeps it beside the repo"
        )
    return SHARED_DATA
