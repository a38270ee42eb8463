"""Fixtures for the report tests (builders live in report_helpers)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # so tests and fixtures share report_helpers
from report_helpers import PASSPHRASE, engine_result, make_full_doc, squash  # noqa: E402

from assessment.document import Assessment  # noqa: E402


@pytest.fixture
def full_doc() -> Assessment:
    return make_full_doc()


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "pass.txt"
    path.write_bytes(PASSPHRASE + b"\n")
    return path


@pytest.fixture(scope="session")
def identity_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two reviewer identities (RSA 3072 and EC P-256), created once per session."""
    import os

    from reports.identity import create_identity

    folder = tmp_path_factory.mktemp("identities")
    old = os.environ.get("PROBITY_CONFIG_DIR")
    os.environ["PROBITY_CONFIG_DIR"] = str(folder / "cfg")
    try:
        first = create_identity("Zoë Ωμέγα Иванова", PASSPHRASE, role="Methodologist",
                                organisation="Łódź QA", out=folder / "first.p12")
        second = create_identity("Second Reviewer", PASSPHRASE, role="Statistician",
                                 organisation="Acme", out=folder / "second.p12",
                                 key_type="ec-p256")
    finally:
        if old is None:
            del os.environ["PROBITY_CONFIG_DIR"]
        else:
            os.environ["PROBITY_CONFIG_DIR"] = old
    return {"first": first, "second": second}


@pytest.fixture(scope="session")
def report_source() -> bytes:
    """The .probity bytes of a complete assessment with a real engine result."""
    from assessment.storage import dumps

    return dumps(make_full_doc(engine_result()))


@pytest.fixture(scope="session")
def report_info(report_source: bytes):
    from assessment.storage import loads
    from reports.report import build_report

    return build_report(loads(report_source), source_bytes=report_source,
                        source_name="full.probity")


@pytest.fixture(scope="session")
def report_pdf(report_info) -> bytes:
    return report_info.data


@pytest.fixture(scope="session")
def report_pages(report_pdf: bytes) -> list[str]:
    """Extracted text per page (extraction is slow: done once per session)."""
    from io import BytesIO

    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(BytesIO(report_pdf)).pages]


@pytest.fixture(scope="session")
def report_text(report_pages: list[str]) -> str:
    return squash("".join(report_pages))


# ---- the evaluation-plan CLI tests (test_plan_lock*.py) --------------------------------------


@pytest.fixture
def no_faulthandler(monkeypatch: pytest.MonkeyPatch) -> None:
    """main.main() enables faulthandler, which needs a real stderr (pytest captures it)."""
    import main

    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)


@pytest.fixture
def data_csv(tmp_path: Path) -> Path:
    """900 validation rows: outcome, probability, race (Black/White)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(12)
    n = 900
    race = rng.choice(["Black", "White"], n, p=[0.35, 0.65])
    y = (rng.random(n) < 0.35).astype(int)
    p = np.clip(0.35 * y + rng.normal(0.33, 0.15, n), 0.001, 0.999).round(4)
    path = tmp_path / "validation.csv"
    pd.DataFrame({"y": y, "p": p, "race": race}).to_csv(path, index=False)
    return path


@pytest.fixture
def assessment_file(tmp_path: Path) -> Path:
    """A copy of the complete example assessment to evaluate --into."""
    import shutil

    path = tmp_path / "study.probity"
    repo = Path(__file__).resolve().parents[2]
    shutil.copy(repo / "resources" / "examples" / "complete.probity", path)
    return path
