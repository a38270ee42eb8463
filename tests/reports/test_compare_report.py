"""The signed comparison report: built by ``compare --pdf --sign``, verified, countersigned by a
second committee member, and the dossier extracted byte-for-byte; hostile dossiers refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_helpers import PASSPHRASE

import main
from assessment.errors import ReportError
from reports.attachment import read_attachment
from reports.compare_report import build_comparison_report
from reports.identity import load_identity
from reports.signing import sign_pdf
from reports.verify import page_text, verify_pdf

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_faulthandler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main.faulthandler, "enable", lambda *a, **k: None)


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(12)
    n = 800
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.4 * x - 1.2)))).astype(int)
    path = tmp_path_factory.mktemp("cmp") / "val.csv"
    pd.DataFrame({
        "y": y, "race": rng.choice(["White", "Black", "Asian"], n, p=[0.6, 0.3, 0.1]),
        "pa": np.round(1 / (1 + np.exp(-(x + rng.normal(size=n) - 1.2))), 3),
        "pb": np.round(1 / (1 + np.exp(-(0.6 * x + rng.normal(size=n) - 1.2))), 3),
    }).to_csv(path, index=False)
    return path


def test_signed_report_verifies_countersigns_and_extracts(
    data_csv: Path, tmp_path: Path, identity_files: dict[str, Path], passphrase_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pdf, js = tmp_path / "cmp.pdf", tmp_path / "cmp.json"
    code = main.main([
        "compare", str(data_csv), "--label", "y", "--model", "Vendor A=pa", "--model",
        "Vendor B=pb", "--group", "race", "--bootstrap", "200", "--capacity", "10/100",
        "--assessment", f"Vendor A={REPO / 'resources' / 'demo' / 'demo.probity'}",
        "--json", str(js), "--pdf", str(pdf), "--sign", str(identity_files["first"]),
        "--passphrase-file", str(passphrase_file), "--quiet",
    ])
    assert code == 0, capsys.readouterr().err
    first = load_identity(identity_files["first"], PASSPHRASE)
    second = load_identity(identity_files["second"], PASSPHRASE)
    trust = (first.certificate, second.certificate)
    data = pdf.read_bytes()
    result = verify_pdf(data, extra_trust=trust)
    assert result.ok, result.all_problems
    assert result.cover_sha256 == result.assessment_sha256  # the cover names the dossier
    both = sign_pdf(data, second, reason="Committee member").data
    result = verify_pdf(both, extra_trust=trust)
    assert result.ok and len(result.signatures) == 2
    dossier = json.loads(read_attachment(both).data)
    assert dossier["format"] == "probity-comparison/1"
    assert dossier["paired"] == json.loads(js.read_text())["paired"]
    vendor = dossier["vendor_assessments"][0]
    assert vendor["model"] == "Vendor A" and vendor["overall"]["rob"] in ("low", "high",
                                                                         "unclear")
    assert len(vendor["sha256"]) == 64


def test_report_states_the_ranking_and_every_model(data_csv: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    js = tmp_path / "c.json"
    assert main.main(["compare", str(data_csv), "--label", "y", "--model", "Vendor A=pa",
                      "--model", "Vendor B=pb", "--group", "race", "--bootstrap", "0",
                      "--json", str(js), "--quiet"]) == 0
    report = build_comparison_report(js.read_bytes(), signature_boxes=3)
    assert len(report.slots) == 3
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(report.data))
    text = " ".join(page_text(reader, reader.root["/Pages"]["/Kids"][i])
                    for i in range(2))
    assert "Vendor A" in text and "Vendor B" in text
    assert "Ranked summary" in text and "Paired comparisons" in text


@pytest.mark.parametrize(
    ("payload", "message"),
    [(b"\xff\xfe not json", "not JSON"), (b"[]", "comparison dossier"),
     (b'{"format": "probity-evaluation/1"}', "comparison dossier")],
)
def test_hostile_dossiers_are_refused(payload: bytes, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        build_comparison_report(payload)


def test_sign_without_pdf_is_one_sentence(data_csv: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = main.main(["compare", str(data_csv), "--label", "y", "--model", "A=pa", "--model",
                      "B=pb", "--group", "race", "--sign", str(tmp_path / "x.p12")])
    err = capsys.readouterr().err
    assert code == 2 and "--pdf" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("target", "flag", "sign"),
    [("passphrase", "--pdf", True), ("passphrase", "--pdf", False),
     ("passphrase", "--json", True), ("passphrase", "--json", False),
     ("identity", "--pdf", True), ("identity", "--json", True)],
)
def test_an_output_naming_the_passphrase_file_or_the_identity_is_refused_untouched(
    data_csv: Path, tmp_path: Path, identity_files: dict[str, Path], passphrase_file: Path,
    capsys: pytest.CaptureFixture[str], target: str, flag: str, sign: bool,
) -> None:
    """``compare --pdf F --passphrase-file F`` (or the signing identity, or --json, as the
    output): one sentence naming the clash, exit code 2, and the file byte for byte as it was."""
    victim = passphrase_file if target == "passphrase" else identity_files["first"]
    before, mtime = victim.read_bytes(), victim.stat().st_mtime_ns
    args = ["compare", str(data_csv), "--label", "y", "--model", "A=pa", "--model", "B=pb",
            "--group", "race", "--bootstrap", "0", "--passphrase-file", str(passphrase_file),
            flag, str(victim), "--quiet"]
    if sign:
        args += ["--sign", str(identity_files["first"])]
    if flag == "--json":
        args += ["--pdf", str(tmp_path / "out.pdf")]
    code = main.main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"The output {victim} is the input file {victim}" in err
    assert victim.read_bytes() == before and victim.stat().st_mtime_ns == mtime
    assert not (tmp_path / "out.pdf").exists()


def test_report_says_why_a_predicted_class_has_no_auroc_difference(
    data_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.read_csv(data_csv)
    frame["cls"] = (frame["pa"] >= 0.3).astype(int)
    data, js = tmp_path / "with_class.csv", tmp_path / "c.json"
    frame.to_csv(data, index=False)
    assert main.main(["compare", str(data), "--label", "y", "--model", "Vendor A=pa",
                      "--model", "Rule=cls", "--kind", "Rule=class", "--group", "race",
                      "--bootstrap", "0", "--json", str(js), "--quiet"]) == 0
    capsys.readouterr()
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    report = build_comparison_report(js.read_bytes())
    reader = PdfFileReader(BytesIO(report.data))
    kids = reader.root["/Pages"]["/Kids"]
    text = " ".join(" ".join(page_text(reader, kids[i]).split()) for i in range(len(kids)))
    # the paired table's row for the AUROC pair, the ranked summary and the notes say it
    assert "Rule gives a predicted class (no score to rank or compare with the outcome), so " \
           "it has no AUROC: there is no paired difference" in text
    assert "Not ranked on AUROC: Rule (a predicted class has no AUROC)." in text
