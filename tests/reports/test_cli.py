"""The report/sign/verify/extract/identity commands, end to end on the shipped demo assessment."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from report_helpers import PASSPHRASE, all_text, squash

import main
from assessment.judgement import applicable_slots
from assessment.storage import load
from reports.report import METRIC_LABELS, _fmt

SHIPPED_DEMO = Path(str(resources.files("resources") / "demo" / "demo.probity"))
DEMO = SHIPPED_DEMO  # replaced by a private copy (below) so a demo rebuild cannot race the tests


@pytest.fixture(autouse=True)
def _no_faulthandler(monkeypatch) -> None:
    """main() enables faulthandler, which needs a real stderr file descriptor (capsys has none)."""
    monkeypatch.setattr(main.faulthandler, "enable", lambda: None)


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    global DEMO
    folder = tmp_path_factory.mktemp("cli")
    DEMO = folder / "demo.probity"
    DEMO.write_bytes(SHIPPED_DEMO.read_bytes())
    return folder


@pytest.fixture
def pw(workspace: Path) -> Path:
    path = workspace / "pw.txt"
    path.write_bytes(PASSPHRASE + b"\n")
    return path


@pytest.fixture
def signed_demo(workspace: Path, pw: Path, capsys) -> dict[str, Path]:
    """identity create x2, report --sign, sign (countersign): the whole CLI flow."""
    ids = {}
    for who, name in (("a", "Zoë Ωμέγα Иванова"), ("b", "Second Reviewer")):
        ids[who] = workspace / f"{who}.p12"
        if not ids[who].exists():
            code, out, _ = run(["identity", "create", "--name", name, "--role", "Reviewer",
                                "--org", "QA", "--out", ids[who], "--passphrase-file", pw,
                                "--key", "ec-p256"], capsys)
            assert code == 0 and "fingerprint" in out
    first, second = workspace / "demo.pdf", workspace / "demo2.pdf"
    if not second.exists():
        code, out, err = run(["report", DEMO, "--out", first, "--sign", ids["a"],
                              "--passphrase-file", pw, "--reason", "Approved <b>&</b>"], capsys)
        assert code == 0, err
        assert "re-validated" in out
        code, out, err = run(["sign", first, "--out", second, "--sign", ids["b"],
                              "--passphrase-file", pw], capsys)
        assert code == 0, err
    return {"first": first, "second": second, "a_cert": ids["a"].with_suffix(".pem"),
            "b_cert": ids["b"].with_suffix(".pem")}


def test_demo_report_text_has_every_answer_rationale_and_metric(signed_demo) -> None:
    doc = load(DEMO)
    text = all_text(signed_demo["first"].read_bytes())
    labels = doc.instrument.answers
    for slot in applicable_slots(doc.instrument, doc.study_type, doc.performance_types):
        a = doc.answer(slot.key)
        assert a.value is not None, slot.key
        assert squash(f"{a.value} — {labels[a.value]}") in text, slot.key
        assert squash(a.rationale) in text, slot.key
    result = doc.evaluation.result_json()
    for g in [result["overall"], *result["groups"]]:
        for metric, e in g["metrics"].items():
            assert squash(METRIC_LABELS[metric]) in text
            if e["value"] is not None:
                assert squash(_fmt(e["value"])) in text, (g["group"], metric)


def test_verify_both_signatures_exit_0_and_json(signed_demo, capsys) -> None:
    trust = ["--trust", signed_demo["a_cert"], "--trust", signed_demo["b_cert"]]
    code, out, _ = run(["verify", signed_demo["second"], *trust], capsys)
    assert code == 0, out
    assert "Result: VALID" in out and "Zoë Ωμέγα Иванова" in out and "whole file" in out
    code, out, _ = run(["verify", signed_demo["second"], *trust, "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["ok"] and len(data["signatures"]) == 2
    assert data["assessment_sha256"] == __import__("hashlib").sha256(DEMO.read_bytes()).hexdigest()


def test_verify_untrusted_exit_1(signed_demo, capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PROBITY_CONFIG_DIR", str(tmp_path / "stranger"))
    code, out, _ = run(["verify", signed_demo["second"]], capsys)
    assert code == 1 and "not trusted" in out


def test_verify_tampered_exit_1(signed_demo, capsys, tmp_path) -> None:
    data = bytearray(signed_demo["second"].read_bytes())
    data[len(data) // 3] ^= 0x20
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(data) + b"appended")
    code, out, _ = run(["verify", bad, "--trust", signed_demo["a_cert"], "--trust",
                        signed_demo["b_cert"]], capsys)
    assert code == 1 and "NOT VALID" in out


def test_verify_not_pdf_or_unsigned_exit_2(signed_demo, capsys, tmp_path) -> None:
    code, _, err = run(["verify", DEMO], capsys)
    assert code == 2 and err.startswith("probity: error:") and "not a PDF" in err
    unsigned = tmp_path / "u.pdf"
    code, _, _ = run(["report", DEMO, "--out", unsigned, "--signature-boxes", "1"], capsys)
    assert code == 0
    code, _, err = run(["verify", unsigned], capsys)
    assert code == 2 and "no digital signature" in err


def test_extract_round_trips_byte_for_byte(signed_demo, capsys, tmp_path) -> None:
    out_file = tmp_path / "back.probity"
    trust = ["--trust", signed_demo["a_cert"], "--trust", signed_demo["b_cert"]]
    code, out, _ = run(["extract", signed_demo["second"], "--out", out_file, *trust], capsys)
    assert code == 0 and out_file.read_bytes() == DEMO.read_bytes() and "verified" in out


def test_signing_errors_are_one_line(signed_demo, capsys, tmp_path) -> None:
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("definitely wrong\n")
    code, _, err = run(["sign", signed_demo["first"], "--out", tmp_path / "x.pdf", "--sign",
                        signed_demo["first"].parent / "b.p12", "--passphrase-file", wrong], capsys)
    assert code == 2 and "Wrong passphrase" in err and err.count("\n") == 1
    code, _, err = run(["report", DEMO, "--out", tmp_path / "y.pdf", "--sign",
                        signed_demo["a_cert"], "--passphrase-file", wrong], capsys)
    assert code == 2 and "not a PKCS#12" in err
    assert not (tmp_path / "y.pdf").exists()


def test_identity_trust_and_list(signed_demo, capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PROBITY_CONFIG_DIR", str(tmp_path / "cfg"))
    code, out, _ = run(["identity", "trust", signed_demo["b_cert"]], capsys)
    assert code == 0 and "Second Reviewer" in out
    code, out, _ = run(["identity", "list"], capsys)
    assert code == 0 and "Second Reviewer" in out


def test_extract_default_name_never_overwrites(signed_demo, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    trust = ["--trust", signed_demo["a_cert"], "--trust", signed_demo["b_cert"]]
    code, out, _ = run(["extract", signed_demo["second"], *trust], capsys)
    assert code == 0 and (tmp_path / "demo.probity").read_bytes() == DEMO.read_bytes()
    code, _, err = run(["extract", signed_demo["second"], *trust], capsys)
    assert code == 2 and "already exists" in err
