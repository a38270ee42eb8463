"""The locked evaluation plan: a short PDF of the plan, the plan JSON attached, PAdES-signed.

``plan lock`` renders the plan (purpose, data mapping, multiplicity, one row per gate), embeds
the canonical plan JSON exactly as hashed, reserves one signature box and signs it with the same
machinery as reports (:func:`reports.attachment.finish_pdf`, :func:`reports.signing.sign_pdf`).
:func:`read_locked_plan` verifies such a PDF and gives back the plan and its signing time.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from typing import TYPE_CHECKING, Any

from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

from assessment.catalogue import metric_label
from assessment.errors import ReportError
from assessment.plan.apply import LockInfo
from assessment.plan.model import MULTIPLICITY, SCHEMA, Plan, plan_sha256
from reports.attachment import SignatureSlot, finish_pdf
from reports.fonts import SANS_BOLD, register_fonts
from reports.layout import (
    FRAME_WIDTH,
    HEAD_BG,
    RULE,
    Heading,
    ReportTemplate,
    SignatureBox,
    Styles,
    make_styles,
    numbered_canvas,
)
from reports.markup import esc

if TYPE_CHECKING:
    from reports.identity import Identity

PLAN_FILE_NAME = "plan.json"
SIG_BOX = (260.0, 95.0)


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    t = Table(rows, colWidths=widths, repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
                ("FONTNAME", (0, 0), (-1, 0), SANS_BOLD),
                ("GRID", (0, 0), (-1, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return t


def plan_story(
    plan: Plan, sha: str, when: dt.datetime, s: Styles, slots: list[SignatureSlot]
) -> list[Any]:
    def p(text: str, style: Any = None) -> Paragraph:
        return Paragraph(text, style or s.body)

    def cell(text: str) -> Paragraph:
        return Paragraph(esc(text), s.cell)

    model = (
        f"score column {plan.score!r} ({plan.score_kind})" if plan.score else
        f"predicted class column {plan.prediction!r}" if plan.prediction else "not named"
    )  # fmt: skip
    pairs = [
        ("Purpose", plan.purpose or "—"),
        (
            "Outcome",
            f"{plan.outcome or '—'}"
            + (f" (event: {', '.join(plan.positive)})" if plan.positive else ""),
        ),
        ("Model output", model),
        ("Decision threshold", "—" if plan.threshold is None else f"{plan.threshold:g}"),
        ("Attributes", ", ".join(plan.attributes) or "—"),
        ("Intersections", ", ".join("×".join(c) for c in plan.intersections) or "—"),
        (
            "Reference groups",
            ", ".join(f"{k} = {v}" for k, v in plan.references.items()) or "largest group",
        ),
        ("Minimum group size", f"{plan.min_group_size}"),
        ("Family-wise error", f"α = {plan.alpha:g}; {MULTIPLICITY[plan.multiplicity]}"),
        ("Plan SHA-256", sha),
        ("Rendered", f"{when:%Y-%m-%d %H:%M} UTC"),
    ]
    kv = _table([[cell("Field"), cell("Value")]] + [[cell(k), cell(v)] for k, v in pairs],
                [120, FRAME_WIDTH - 120])  # fmt: skip
    rows: list[list[Any]] = [[cell(h) for h in ("Gate", "Metric", "Groups", "Criterion",
                                                "min n", "Assumed")]]  # fmt: skip
    for g in plan.gates:
        groups = g.groups if isinstance(g.groups, str) else ", ".join(g.groups)
        who = "overall" if g.groups == "overall" else f"{g.attribute}: {groups}"
        if g.versus:
            who += " vs reference"
        assumed = "—" if g.assume is None else f"{g.assume:g}"
        if g.assume_reference is not None:
            assumed += f" (reference {g.assume_reference:g})"
        rows.append([cell(g.id), cell(metric_label(g.metric)), cell(who),
                     cell(g.criterion.describe()), cell(str(plan.gate_min_n(g))),
                     cell(assumed)])  # fmt: skip
    gates = _table(rows, [34, 112, 120, 110, 38, FRAME_WIDTH - 414])
    return [
        Heading("Locked evaluation plan", s.title, 0, "Plan"),
        p(esc(plan.title), s.subtitle),
        p(
            "The acceptance criteria below were fixed before the validation data were analysed. "
            "Each gate is judged on its group's interval at the level the multiplicity rule sets: "
            "<b>pass</b> when the whole interval is acceptable, <b>fail</b> when the whole "
            "interval is not, <b>insufficient evidence</b> otherwise or when a group has fewer "
            "rows than its minimum. The plan JSON is attached to this PDF (plan.json) exactly as "
            "hashed; the signature covers it.",
            s.small,
        ),
        kv,
        Spacer(1, 8),
        Heading("Gates", s.h2, 1, "Gates"),
        gates,
        Spacer(1, 14),
        KeepTogether(
            [
                Heading("Signature", s.h2, 1, "Signature"),
                p(
                    "Signing locks the plan: any later change to this PDF or its attached plan "
                    "invalidates the signature (check with <font face='DejaVuSansMono'>probity "
                    "verify PLAN.pdf</font>)."
                ),  # fmt: skip
                SignatureBox("Signature1", "Plan author", *SIG_BOX, slots),
            ]
        ),
    ]


def build_plan_pdf(plan_text: str, generated: dt.datetime | None = None) -> bytes:
    """The unsigned plan PDF (plan JSON attached, one reserved signature box)."""
    register_fonts()
    plan = Plan.from_text(plan_text)
    sha = plan_sha256(plan_text)
    when = (generated or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    buf = BytesIO()
    template = ReportTemplate(
        buf,
        header=f"Probity evaluation plan · {plan.title}",
        title=f"Evaluation plan: {plan.title}",
        author="Probity",
        subject="Locked evaluation plan with statistical acceptance gates",
        keywords=["probity-plan/1", f"plan-sha256:{sha}"],
        creator="Probity",
        lang="en",
    )
    slots: list[SignatureSlot] = []
    template.build(plan_story(plan, sha, when, make_styles(), slots),
                   canvasmaker=numbered_canvas(f"Plan SHA-256 {sha[:16]}…"))  # fmt: skip
    return finish_pdf(buf.getvalue(), plan_text.encode("utf-8"), slots, name=PLAN_FILE_NAME)


def lock_plan(
    plan_text: str, identity: Identity, *, location: str = "", now: dt.datetime | None = None
) -> bytes:
    """Render and sign: the locked plan PDF."""
    from reports.signing import sign_pdf

    pdf = build_plan_pdf(plan_text, now)
    return sign_pdf(pdf, identity, reason="Evaluation plan locked", location=location, now=now).data


def read_locked_plan(
    data: bytes,
    *,
    source: str = "the locked plan",
    now: dt.datetime | None = None,
    extra_trust: tuple[Any, ...] = (),
    use_store: bool = True,
    require_trust: bool = True,
) -> LockInfo:
    """The plan a locked PDF holds, with its signing time; ReportError unless the signature is
    intact, valid, covers the whole file and its signer is trusted (the trusted store or
    ``extra_trust``, as ``probity verify`` judges it): an untrusted self-made identity could
    backdate its clock and forge the lock. ``require_trust=False`` only for reading a PDF
    whose origin is known otherwise (the shipped demo's tests)."""
    import hashlib

    from reports.attachment import read_attachment
    from reports.verify import verify_pdf

    result = verify_pdf(data, source=source, now=now, extra_trust=extra_trust,
                        use_store=use_store)  # fmt: skip
    if not result.signatures:
        raise ReportError(f"{source} is not signed; lock the plan with 'probity plan lock'.")
    first = result.signatures[0]
    bad = [p for p in result.all_problems if "not trusted" not in p]
    if not (first.intact and first.valid) or bad:
        raise ReportError(
            f"{source} does not verify ({(bad or ['the signature is not valid'])[0]}); the plan "
            "may have been changed after locking."
        )
    attachment = read_attachment(data, source=source)
    text = attachment.data.decode("utf-8", errors="replace")
    if attachment.name != PLAN_FILE_NAME or f'"{SCHEMA}"' not in text:
        raise ReportError(
            f"{source} is not a locked plan PDF (it holds no {PLAN_FILE_NAME}); give the PDF "
            "that 'probity plan lock' wrote."
        )
    if require_trust and not first.trusted:
        raise ReportError(
            f"{source}: the signer {first.signer} (certificate SHA-256 {first.fingerprint}) is "
            "not trusted, so the lock's time cannot be relied on; trust that certificate "
            "('probity identity trust CERT') or pass --trust CERT.pem, as 'probity verify' takes "
            "it."
        )
    try:
        text = attachment.data.decode("utf-8")
    except UnicodeDecodeError:
        raise ReportError(f"{source} holds no readable plan (not UTF-8).") from None
    Plan.from_text(text, f"the plan attached to {source}")
    if first.signing_time is None:
        raise ReportError(f"{source}: the signature carries no signing time.")
    return LockInfo(
        plan_text=text,
        sha256=plan_sha256(text),
        signed_at=first.signing_time,
        signer=first.signer,
        pdf_sha256=hashlib.sha256(data).hexdigest(),
        pdf_name=source,
        signer_fingerprint=first.fingerprint,
        trusted=first.trusted,
    )
