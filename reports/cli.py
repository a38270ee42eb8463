"""CLI: ``report``, ``sign``, ``verify``, ``extract`` and ``identity``.

Cheap to import: reportlab, pyHanko and cryptography are imported inside the run functions so
``main.py --version`` and the GUI start fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("report", help="build the PDF report of an assessment (and sign it)")
    p.add_argument("file", type=Path, help="the .probity assessment")
    p.add_argument("--out", type=Path, required=True, help="PDF to write")
    _sign_args(p, required=False)
    p.add_argument("--signature-boxes", type=int, default=2, choices=(1, 2, 3),
                   help="signature boxes to reserve for co-signers (default 2)")
    p.set_defaults(func=run_report)

    p = subparsers.add_parser("sign", help="countersign a report in its next free signature box")
    p.add_argument("pdf", type=Path, help="the report to sign")
    p.add_argument("--out", type=Path, required=True, help="signed PDF to write")
    _sign_args(p, required=True)
    p.set_defaults(func=run_sign)

    p = subparsers.add_parser("verify", help="check every signature of a report")
    p.add_argument("pdf", type=Path)
    p.add_argument("--trust", type=Path, action="append", default=[], metavar="CERT.pem",
                   help="trust this signer certificate (repeatable), besides the trusted store")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_verify)

    p = subparsers.add_parser("extract", help="write out the assessment embedded in a report")
    p.add_argument("pdf", type=Path)
    p.add_argument("--out", type=Path, help="file to write (default: the embedded file name)")
    p.add_argument("--trust", type=Path, action="append", default=[], metavar="CERT.pem",
                   help="trust this signer certificate (repeatable), besides the trusted store")
    p.add_argument("--unverified", action="store_true",
                   help="write the attachment even if the report does not verify (warns)")
    p.set_defaults(func=run_extract)

    p = subparsers.add_parser("identity", help="create, import, trust and list signing identities")
    sub = p.add_subparsers(dest="identity_command", metavar="ACTION", required=True)
    c = sub.add_parser("create", help="create a self-signed reviewer identity (PKCS#12)")
    c.add_argument("--name", required=True)
    c.add_argument("--role", default="")
    c.add_argument("--org", default="")
    c.add_argument("--unit", default="")
    c.add_argument("--email", default="")
    c.add_argument("--key", choices=("rsa3072", "ec-p256"), default="rsa3072")
    c.add_argument("--out", type=Path, help="where to write (default: the identities folder)")
    c.add_argument("--passphrase-file", type=Path, required=True)
    c.set_defaults(func=run_identity_create)
    i = sub.add_parser("import", help="import an organisation-issued PKCS#12 (.p12/.pfx)")
    i.add_argument("p12", type=Path)
    i.add_argument("--passphrase-file", type=Path, required=True)
    i.set_defaults(func=run_identity_import)
    t = sub.add_parser("trust", help="add a signer certificate to the trusted store")
    t.add_argument("cert", type=Path)
    t.set_defaults(func=run_identity_trust)
    ls = sub.add_parser("list", help="list identities and trusted signers")
    ls.set_defaults(func=run_identity_list)


def _sign_args(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument("--sign", type=Path, required=required, metavar="IDENTITY.p12",
                   help="sign with this PKCS#12 identity")
    p.add_argument("--passphrase-file", type=Path, help="file whose first line is the passphrase")
    p.add_argument("--reason", default="Risk-of-bias assessment approved",
                   help="reason shown in the signature")
    p.add_argument("--location", default="")


def _load_identity(args: argparse.Namespace) -> Any:
    from assessment.errors import ReportError
    from reports.identity import load_identity, read_passphrase

    if args.passphrase_file is None:
        raise ReportError("--sign needs --passphrase-file (the passphrase is never typed on the "
                          "command line).")
    return load_identity(args.sign, read_passphrase(args.passphrase_file))


def run_report(args: argparse.Namespace) -> int:
    from assessment.fileio import check_output
    from assessment.storage import atomic_write_bytes, loads, read_document_bytes
    from reports.model import Signer
    from reports.report import build_report

    check_output(args.out, [args.file, args.sign, args.passphrase_file])
    identity = _load_identity(args) if args.sign else None  # fail fast, before the build
    raw = read_document_bytes(args.file)
    doc = loads(raw, source=str(args.file))
    signer = (Signer(identity.name, identity.role, identity.organisation)
              if identity is not None else None)
    info = build_report(doc, source_bytes=raw, source_name=args.file.name,
                        signature_boxes=args.signature_boxes, signer=signer)
    for warning in info.warnings:
        print(f"probity: warning: {warning}", file=sys.stderr)
    data = info.data
    if identity is not None:
        from reports.signing import sign_pdf

        reason = info.model.signature_reason(args.reason) if info.model else args.reason
        data = sign_pdf(data, identity, reason=reason, location=args.location).data
    atomic_write_bytes(args.out, data)
    signed = f", signed by {identity.name} and re-validated" if identity else ""
    print(f"Wrote {args.out} ({info.pages} pages{signed}).")
    return 0


def run_sign(args: argparse.Namespace) -> int:
    from assessment.errors import ReportError
    from assessment.fileio import check_output
    from assessment.storage import atomic_write_bytes
    from reports.signing import sign_pdf
    from reports.verify import read_pdf

    check_output(args.out, [args.pdf, args.sign, args.passphrase_file], error=ReportError)
    identity = _load_identity(args)
    data = read_pdf(args.pdf)
    signed = sign_pdf(data, identity, reason=args.reason, location=args.location)
    atomic_write_bytes(args.out, signed.data)
    kind = "certified" if signed.certified else "countersigned"
    print(f"Wrote {args.out}: {kind} by {identity.name} in box {signed.field_name}; "
          f"all {len(signed.verification.signatures)} signatures re-validated.")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from reports.identity import load_certificates
    from reports.verify import verify_file

    trust = tuple(c for path in args.trust for c in load_certificates(path))
    result = verify_file(args.pdf, extra_trust=trust)
    if args.json:
        print(json.dumps(result.to_json(), indent=1, ensure_ascii=False))
    else:
        print(format_result(result))
    return 0 if result.ok else 1


def format_result(result: Any) -> str:
    lines = [f"{result.source}: {len(result.signatures)} signature(s), "
             f"{result.revisions} revision(s)"]
    for i, s in enumerate(result.signatures, 1):
        kind = "certification" if s.certification else "approval"
        trusted = ("not assessed (changed after signing)" if s.changed
                   else "yes" if s.trusted else "NO")
        lines += [
            f"Signature {i} ({s.field}, {kind}{', ' + s.box if s.box else ''}): "
            f"{'OK' if s.ok else 'FAILED'}",
            f"  signer:       {s.signer}",
            f"  subject:      {s.subject}",
            f"  signing time: {s.signing_time or 'not stated'} (claimed by the signer's clock)",
            f"  fingerprint:  SHA-256 {s.fingerprint}",
            f"  intact:       {'yes' if s.intact else 'NO'}",
            f"  coverage:     {s.coverage}",
            f"  certificate:  {'acceptable' if s.certificate_ok else 'NOT ACCEPTABLE'}",
            f"  trusted:      {trusted}",
            f"  later changes: {s.modification_level}",
        ]
        lines += [f"  problem: {p}" for p in s.problems]
    lines += [f"{change}" for change in result.changes]
    if result.assessment_sha256:
        lines.append(f"Embedded assessment {result.assessment_name}: SHA-256 "
                     f"{result.assessment_sha256}")
        if result.cover_sha256 is None:
            lines.append("  the cover page prints no assessment SHA-256 to compare with")
        elif result.cover_sha256 == result.assessment_sha256:
            lines.append("  matches the SHA-256 printed on the signed cover page")
    elif result.signatures:
        lines.append("No embedded assessment: this is not a Probity report.")
    lines += [f"Warning: {w}" for w in getattr(result, "warnings", [])]
    lines += [f"Problem: {p}" for p in result.problems]
    lines.append("Result: VALID" if result.ok else "Result: NOT VALID")
    return "\n".join(lines)


def run_extract(args: argparse.Namespace) -> int:
    from assessment.errors import ReportError
    from assessment.fileio import check_output
    from assessment.storage import atomic_write_bytes
    from reports.attachment import read_attachment
    from reports.identity import load_certificates
    from reports.verify import NotVerifiable, read_pdf, verify_pdf

    if args.out is not None:
        check_output(args.out, [args.pdf], error=ReportError)
    data = read_pdf(args.pdf)
    if b"%PDF-" not in data[:1024]:
        raise ReportError(f"{args.pdf} is not a PDF file.")
    trust = tuple(c for path in args.trust for c in load_certificates(path))
    try:
        result = verify_pdf(data, extra_trust=trust, source=str(args.pdf))
        verified = result.ok
        why = (result.all_problems or ["it does not verify"])[0]
    except NotVerifiable as exc:
        if not args.unverified:
            raise
        verified, why = False, exc.message
    if not verified:
        if not args.unverified:
            print(f"probity: error: {args.pdf} does not verify ({why}); nothing extracted. "
                  "Run 'probity verify' for details, or pass --unverified to extract anyway.",
                  file=sys.stderr)
            return 1
        print(f"probity: warning: {args.pdf} does NOT verify ({why}); the extracted "
              "assessment may not be the one that was signed.", file=sys.stderr)
    attachment = read_attachment(data, source=str(args.pdf))
    out = args.out or Path(Path(attachment.name).name or "assessment.probity")  # basename only
    if args.out is None and out.exists():
        raise ReportError(f"{out} already exists; choose where to write with --out.")
    check_output(out, [args.pdf], error=ReportError)
    atomic_write_bytes(out, attachment.data)
    state = "verified" if verified else "UNVERIFIED"
    print(f"Wrote {out} ({len(attachment.data)} bytes, SHA-256 {attachment.sha256}, {state}).")
    return 0


def run_identity_create(args: argparse.Namespace) -> int:
    from reports.identity import create_identity, load_identity, read_passphrase

    passphrase = read_passphrase(args.passphrase_file)
    path = create_identity(args.name, passphrase, role=args.role, organisation=args.org,
                           unit=args.unit, email=args.email, out=args.out, key_type=args.key)
    identity = load_identity(path, passphrase)
    print(f"Created {path} for {identity.name}; certificate {path.with_suffix('.pem')}")
    print(f"Certificate SHA-256 fingerprint: {identity.fingerprint}")
    return 0


def run_identity_import(args: argparse.Namespace) -> int:
    from reports.identity import import_identity, load_identity, read_passphrase

    passphrase = read_passphrase(args.passphrase_file)
    dest = import_identity(args.p12, passphrase)
    identity = load_identity(dest, passphrase)
    print(f"Imported {identity.name} as {dest}; fingerprint {identity.fingerprint}")
    return 0


def run_identity_trust(args: argparse.Namespace) -> int:
    from reports.identity import fingerprint, load_certificates, trust_certificate

    for cert in load_certificates(args.cert):
        trust_certificate(cert)
        print(f"Trusted {cert.subject.rfc4514_string()} (SHA-256 {fingerprint(cert)})")
    return 0


def run_identity_list(args: argparse.Namespace) -> int:
    from reports.identity import fingerprint, list_identities, trusted_certificates

    print("Identities:")
    for path in list_identities():
        print(f"  {path}")
    print("Trusted signers:")
    for cert in trusted_certificates():
        print(f"  {cert.subject.rfc4514_string()}  SHA-256 {fingerprint(cert)}")
    return 0
