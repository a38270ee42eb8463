"""Lock → evaluate → report: the signed plan PDF, the lock recorded in the assessment, deviations,
a plan edited after locking, "locked before the data were first loaded", and the gates table."""

from __future__ import annotations

import json
import time
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from report_helpers import squash

import main
from assessment.errors import ReportError
from assessment.plan.model import SCHEMA, plan_sha256
from assessment.storage import load
from reports.attachment import read_attachment
from reports.plan_report import read_locked_plan
from reports.report import build_report

REPO = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("no_faulthandler")  # tests/reports/conftest.py


def plan_json(bound: float = 0.3) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "title": "Pre-registered release check",
        "purpose": "Acceptance criteria fixed before the validation data",
        "outcome": "y",
        "score": "p",
        "threshold": 0.5,
        "attributes": ["race"],
        "references": {"race": "White"},
        "min_group_size": 50,
        "gates": [
            {"id": "G1", "metric": "tpr", "groups": "overall", "criterion": {"at_least": bound}},
            {"id": "G2", "metric": "auroc", "attribute": "race", "criterion": {"at_least": 0.6}},
        ],
    }


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def cert_of(identity: Path, pw: Path, tmp_path: Path) -> Path:
    """The identity's certificate as a PEM file, for ``--trust``."""
    from cryptography.hazmat.primitives import serialization

    from reports.identity import load_identity, read_passphrase

    cert = load_identity(identity, read_passphrase(pw)).certificate
    out = tmp_path / f"{identity.stem}.pem"
    out.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return out


def lock(tmp_path: Path, plan: Path, identity: Path, pw: Path, capsys: Any) -> Path:
    out = tmp_path / "plan.pdf"
    code, text, err = cli(["plan", "lock", str(plan), "--sign", str(identity),
                           "--passphrase-file", str(pw), "--out", str(out)], capsys)  # fmt: skip
    assert code == 0, err
    assert "locked and signed" in text
    return out


def test_lock_evaluate_report(
    tmp_path: Path,
    data_csv: Path,
    assessment_file: Path,
    identity_files: dict[str, Path],
    passphrase_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_json(), indent=1), encoding="utf-8")
    pdf = lock(tmp_path, plan, identity_files["second"], passphrase_file, capsys)
    raw = pdf.read_bytes()
    assert read_attachment(raw).data == plan.read_bytes()  # the plan, byte for byte
    trust = cert_of(identity_files["second"], passphrase_file, tmp_path)
    from reports.identity import load_certificates

    info = read_locked_plan(raw, extra_trust=tuple(load_certificates(trust)))
    assert info.sha256 == plan_sha256(plan.read_text(encoding="utf-8"))
    assert info.signer == "Second Reviewer"
    from pypdf import PdfReader

    text = squash("".join(p.extract_text() for p in PdfReader(BytesIO(raw)).pages))
    assert squash("Locked evaluation plan") in text and "G2" in text and info.sha256 in text
    # the audit log keeps whole seconds and a tie counts as "not before": leave the lock's second
    time.sleep(1.05)

    out_json = tmp_path / "r.json"
    code, out, err = cli(
        ["evaluate", str(data_csv), "--plan", str(plan), "--locked-plan", str(pdf), "--into",
         str(assessment_file), "--bootstrap", "0", "--json", str(out_json), "--trust",
         str(trust)], capsys
    )  # fmt: skip
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert code == {"pass": 0, "fail": 1, "insufficient": 3}[data["verdict"]], err
    rec = data["plan"]
    assert rec["locked"]["sha256"] == info.sha256
    assert rec["locked"]["signed_at"] == info.signed_at
    assert rec["deviations"] == []
    assert rec["locked_before_data"] is True
    assert "Locked plan: SHA-256" in out
    stored = load(assessment_file).evaluation.result_json()
    assert stored["plan"]["locked"]["sha256"] == info.sha256  # the assessment records the lock
    assert stored["gates"] == data["gates"]

    report = build_report(load(assessment_file))
    text = squash("".join(p.extract_text() for p in PdfReader(BytesIO(report.data)).pages[:4]))
    assert squash("Acceptance gates (evaluation plan)") in text
    assert squash("locked before the validation file was first loaded") in text
    assert squash("Deviations from the plan: none.") in text
    assert squash("G1 TPR") in text

    # the plan is edited after locking: every change is a deviation, and the CLI override too
    edited = plan_json(bound=0.2)
    plan.write_text(json.dumps(edited, indent=1), encoding="utf-8")
    code, out, err = cli(
        ["evaluate", str(data_csv), "--plan", str(plan), "--locked-plan", str(pdf), "--into",
         str(assessment_file), "--bootstrap", "0", "--threshold", "0.45", "--json",
         str(out_json), "--trust", str(trust)], capsys
    )  # fmt: skip
    devs = json.loads(out_json.read_text(encoding="utf-8"))["plan"]["deviations"]
    assert any("edited after locking" in d for d in devs)
    assert any("$.gates[0].criterion.at_least: locked 0.3, used 0.2" in d for d in devs)
    assert any(d.startswith("--threshold: the plan says 0.5, the run used 0.45") for d in devs)
    report = build_report(load(assessment_file))
    text = squash("".join(p.extract_text() for p in PdfReader(BytesIO(report.data)).pages[:4]))
    assert squash("edited after locking") in text
    # now the data were already in the assessment before… the same lock is still earlier
    assert squash("locked before the validation file was first loaded") in text


def test_a_plan_locked_after_the_data_were_loaded_is_reported(
    tmp_path: Path,
    data_csv: Path,
    assessment_file: Path,
    identity_files: dict[str, Path],
    passphrase_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = cli(["evaluate", str(data_csv), "--label", "y", "--score", "p", "--group",
                        "race", "--into", str(assessment_file), "--bootstrap", "0", "--quiet"],
                       capsys)  # fmt: skip
    assert code == 0, err
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_json()), encoding="utf-8")
    pdf = lock(tmp_path, plan, identity_files["second"], passphrase_file, capsys)
    out_json = tmp_path / "r.json"
    trust = cert_of(identity_files["second"], passphrase_file, tmp_path)
    cli(["evaluate", str(data_csv), "--plan", str(plan), "--locked-plan", str(pdf), "--into",
         str(assessment_file), "--bootstrap", "0", "--json", str(out_json), "--quiet",
         "--trust", str(trust)], capsys)  # fmt: skip
    rec = json.loads(out_json.read_text(encoding="utf-8"))["plan"]
    assert rec["locked_before_data"] is False
    assert rec["lock_note"].endswith("audit log")
    report = build_report(load(assessment_file))
    from pypdf import PdfReader

    text = squash("".join(p.extract_text() for p in PdfReader(BytesIO(report.data)).pages[:4]))
    assert squash("AFTER the validation file was first loaded") in text


def test_tampered_or_unsigned_lock_is_refused(
    tmp_path: Path,
    identity_files: dict[str, Path],
    passphrase_file: Path,
    data_csv: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_json()), encoding="utf-8")
    pdf = lock(tmp_path, plan, identity_files["second"], passphrase_file, capsys)
    raw = bytearray(pdf.read_bytes())
    at = raw.find(b"Pre-registered")
    if at > 0:
        raw[at] = ord("Q")
    else:  # the title sits in a compressed stream: flip a byte in the middle of the file
        raw[len(raw) // 3] ^= 0xFF
    with pytest.raises(ReportError):
        read_locked_plan(bytes(raw))
    from reports.plan_report import build_plan_pdf

    with pytest.raises(ReportError, match="not signed|carries no digital signature"):
        read_locked_plan(build_plan_pdf(plan.read_text(encoding="utf-8")))
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    code, out, err = cli(["evaluate", str(data_csv), "--plan", str(plan), "--locked-plan",
                          str(bad)], capsys)  # fmt: skip
    assert code == 2 and out == "" and err.count("\n") == 1
