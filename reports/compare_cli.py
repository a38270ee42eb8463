"""``probity compare`` with its PDF: the analysis options of :mod:`assessment.compare.cli`
plus ``--pdf OUT [--sign ID.p12 --passphrase-file F]`` for the signed comparison report.

Registered by ``main.py`` (the report lives in ``reports/``, which may use ``assessment/`` but
not the other way round). Cheap to import: reportlab and pyHanko load inside :func:`run`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    from assessment.compare.cli import add_parser

    p = add_parser(subparsers)
    p.add_argument("--pdf", type=Path, metavar="OUT.pdf",
                   help="write the comparison report (the dossier is embedded in it)")
    p.add_argument("--sign", type=Path, metavar="IDENTITY.p12",
                   help="sign the report with this PKCS#12 identity (needs --pdf)")
    p.add_argument("--passphrase-file", type=Path, help="file whose first line is the passphrase")
    p.add_argument("--signature-boxes", type=int, default=2, choices=(1, 2, 3),
                   help="signature boxes for committee members (default 2)")
    p.add_argument("--reason", default="Procurement comparison approved",
                   help="reason shown in the signature")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assessment.compare.cli import analyse, print_summary, print_warnings
    from assessment.errors import ReportError

    if args.sign and not args.pdf:
        raise ReportError("--sign signs the PDF report: give --pdf OUT.pdf as well.")
    identity = None
    if args.sign:  # fail fast on a wrong passphrase, before the analysis
        from reports.identity import load_identity, read_passphrase

        if args.passphrase_file is None:
            raise ReportError("--sign needs --passphrase-file (the passphrase is never typed on "
                              "the command line).")
        identity = load_identity(args.sign, read_passphrase(args.passphrase_file))
    doc = analyse(args, outputs=[str(args.pdf)] if args.pdf else [],
                  extra_inputs=(args.sign, args.passphrase_file))
    if args.pdf:
        write_pdf(doc, args, identity)
    if not args.quiet:
        print_summary(doc, sys.stdout)
        if args.pdf:
            signed = f", signed by {identity.name}" if identity is not None else ""
            print(f"Wrote {args.pdf}{signed}.")
    else:
        print_warnings(doc, sys.stderr)
    return 0


def write_pdf(doc: dict[str, Any], args: argparse.Namespace, identity: Any) -> None:
    from assessment.compare.cli import dossier_bytes
    from assessment.storage import atomic_write_bytes
    from reports.compare_report import build_comparison_report

    dossier = dossier_bytes(doc)
    report = build_comparison_report(
        dossier, signature_boxes=args.signature_boxes,
        signer=identity.name if identity is not None else None,
    )
    data = report.data
    if identity is not None:
        from reports.signing import sign_pdf

        data = sign_pdf(data, identity, reason=args.reason, location="").data
    atomic_write_bytes(args.pdf, data)
