"""``evaluate --locked-plan``: the lock's signer must be trusted, the LOCKED plan is judged (an
edited --plan is a deviation and a warning even with --quiet), a signed report is named as not a
plan, no output overwrites an input, and the terminal says whether the lock preceded the data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_plan_lock import cert_of, cli, lock, plan_json

# data_csv, assessment_file, no_faulthandler: tests/reports/conftest.py (shared)
pytestmark = pytest.mark.usefixtures("no_faulthandler")


@pytest.fixture
def locked(
    tmp_path: Path,
    identity_files: dict[str, Path],
    passphrase_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> tuple[Path, Path, Path]:
    """(plan.json, plan.pdf locked by the untrusted 'second' identity, its certificate)."""
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_json(bound=0.999)), encoding="utf-8")  # TPR ≥ 0.999: fails
    pdf = lock(tmp_path, plan, identity_files["second"], passphrase_file, capsys)
    return plan, pdf, cert_of(identity_files["second"], passphrase_file, tmp_path)


def evaluate(data: Path, plan: Path, pdf: Path, *extra: str) -> list[str]:
    return ["evaluate", str(data), "--plan", str(plan), "--locked-plan", str(pdf),
            "--bootstrap", "0", *extra]  # fmt: skip


def test_an_untrusted_lock_is_refused_and_a_trusted_one_recorded(
    tmp_path: Path,
    data_csv: Path,
    locked: tuple[Path, Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan, pdf, cert = locked
    code, out, err = cli(evaluate(data_csv, plan, pdf, "--quiet"), capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "not trusted" in err and "--trust" in err
    out_json = tmp_path / "r.json"
    code, out, err = cli(evaluate(data_csv, plan, pdf, "--trust", str(cert), "--json",
                                  str(out_json)), capsys)  # fmt: skip
    assert code == 1, err  # the locked plan's gate fails
    lock_rec = json.loads(out_json.read_text(encoding="utf-8"))["plan"]["locked"]
    from reports.identity import fingerprint, load_certificates

    assert lock_rec["signer_fingerprint"] == fingerprint(load_certificates(cert)[0])
    assert lock_rec["signer_trusted"] is True
    assert "trusted certificate SHA-256" in out
    assert "Locked plan SHA-256" in out and "locked before the validation file" in out


def test_the_locked_plan_is_judged_not_an_edited_file(
    tmp_path: Path,
    data_csv: Path,
    locked: tuple[Path, Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan, pdf, cert = locked
    plan.write_text(json.dumps(plan_json(bound=0.01)), encoding="utf-8")  # would pass
    out_json = tmp_path / "r.json"
    code, out, err = cli(evaluate(data_csv, plan, pdf, "--trust", str(cert), "--quiet", "--json",
                                  str(out_json)), capsys)  # fmt: skip
    assert code == 1 and out == ""  # FAIL, as the locked plan says
    assert "WARNING" in err and "edited after locking" in err
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["verdict"] == "fail"
    assert data["gates"][0]["bound"].endswith("0.999")
    devs = data["plan"]["deviations"]
    assert any("$.gates[0].criterion.at_least: locked 0.999, used 0.01" in d for d in devs)


def test_a_signed_report_is_not_a_locked_plan(
    tmp_path: Path,
    data_csv: Path,
    locked: tuple[Path, Path, Path],
    assessment_file: Path,
    identity_files: dict[str, Path],
    passphrase_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan, _pdf, cert = locked
    report = tmp_path / "report.pdf"
    code, _, err = cli(["report", str(assessment_file), "--out", str(report), "--sign",
                        str(identity_files["second"]), "--passphrase-file",
                        str(passphrase_file)], capsys)  # fmt: skip
    assert code == 0, err
    code, out, err = cli(evaluate(data_csv, plan, report, "--trust", str(cert)), capsys)
    assert code == 2 and err.count("\n") == 1
    assert "is not a locked plan PDF" in err and "unknown key" not in err


@pytest.mark.parametrize("option", ["--json", "--csv"])
@pytest.mark.parametrize("which", ["plan", "pdf", "cert"])
def test_outputs_never_overwrite_the_plan_or_the_lock(
    data_csv: Path,
    locked: tuple[Path, Path, Path],
    option: str,
    which: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan, pdf, cert = locked
    target = {"plan": plan, "pdf": pdf, "cert": cert}[which]
    before = target.read_bytes()
    code, _, err = cli(evaluate(data_csv, plan, pdf, "--trust", str(cert), option,
                                str(target)), capsys)  # fmt: skip
    assert code == 2 and err.count("\n") == 1
    assert target.read_bytes() == before


def test_the_audit_entry_records_the_plan_and_verdict(
    tmp_path: Path,
    data_csv: Path,
    locked: tuple[Path, Path, Path],
    assessment_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from assessment.plan.model import plan_sha256
    from assessment.storage import load

    plan, pdf, cert = locked
    code, _, err = cli(evaluate(data_csv, plan, pdf, "--trust", str(cert), "--quiet", "--into",
                                str(assessment_file)), capsys)  # fmt: skip
    assert code == 1, err
    doc = load(assessment_file)
    line = doc.evaluation.describe()
    assert f"plan sha256 {plan_sha256(plan.read_text(encoding='utf-8'))}" in line
    assert "verdict fail" in line
    import hashlib

    logged = doc.audit_raw[-1]["new"]  # the audit keeps a long text by its SHA-256
    assert logged == line or logged["sha256"] == hashlib.sha256(line.encode()).hexdigest()
    from io import BytesIO

    from pypdf import PdfReader
    from report_helpers import squash

    from reports.report import build_report

    pages = PdfReader(BytesIO(build_report(doc).data)).pages[:4]
    text = squash("".join(p.extract_text() for p in pages))
    assert squash("Not fixed by the plan:") in text and "--seed" in text
