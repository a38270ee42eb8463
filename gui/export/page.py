"""Sign & export page: choose or create a signing identity, export the signed PDF, verify it.

``reports`` builds the PDF (``build_report``), signs it (``sign_pdf``, which re-validates its
own output) and verifies it; this page collects the reviewer's choices, asks for the passphrase
(never stored), runs the work in a worker on a frozen copy of the document, and shows the
verification of the written file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.errors import run_modal
from gui.export.verify_view import VerificationView
from gui.steps import PageDefaults

P12_FILTER = "PKCS#12 identity (*.p12 *.pfx);;All files (*)"
PDF_FILTER = "PDF report (*.pdf)"
DEFAULT_REASON = "I reviewed this risk-of-bias assessment and approve its content."
WARNING_STYLE = (
    "QLabel { color: #6b4a00; background: #fff6dc; border: 1px solid #e0c068;"
    " border-radius: 4px; padding: 8px; }"
)


@dataclass(frozen=True)
class NewIdentity:
    """What the reviewer typed in the create-identity dialog."""

    name: str
    role: str
    organisation: str
    email: str
    passphrase: str


class NewIdentityDialog(QDialog):
    """Name, role, organisation, e-mail and a passphrase typed twice."""

    def __init__(self, parent: QWidget | None, defaults: dict[str, str]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Create a signing identity")
        form = QFormLayout(self)
        intro = QLabel(
            "A self-signed identity is created on this computer and stored encrypted with your "
            "passphrase. Give colleagues its certificate (.pem) so they can trust your signature."
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.name = QLineEdit(defaults.get("name", ""))
        self.role = QLineEdit(defaults.get("role", ""))
        self.organisation = QLineEdit(defaults.get("organisation", ""))
        self.email = QLineEdit(defaults.get("email", ""))
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel("")
        self.message.setStyleSheet("color: #9b1c1c;")
        form.addRow("&Name:", self.name)
        form.addRow("&Role:", self.role)
        form.addRow("&Organisation:", self.organisation)
        form.addRow("&E-mail:", self.email)
        form.addRow("&Passphrase:", self.passphrase)
        form.addRow("&Confirm passphrase:", self.confirm)
        form.addRow(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _accept(self) -> None:
        if not self.name.text().strip():
            self.message.setText("Enter your name.")
        elif self.passphrase.text() != self.confirm.text():
            self.message.setText("The two passphrases differ.")
        elif problem := _identity_problem(self.name.text(), self.passphrase.text()):
            self.message.setText(problem)  # the dialog stays open with everything typed
        else:
            self.accept()

    def value(self) -> NewIdentity:
        return NewIdentity(self.name.text().strip(), self.role.text().strip(),
                           self.organisation.text().strip(), self.email.text().strip(),
                           self.passphrase.text())


def _identity_problem(name: str, passphrase: str) -> str | None:
    from reports.identity import new_identity_problem

    return new_identity_problem(name.strip(), passphrase.encode("utf-8"))


def ask_new_identity(parent: QWidget | None, defaults: dict[str, str]) -> NewIdentity | None:
    """Modal create-identity dialog (module level so tests replace it, like gui.errors.ask_*)."""
    dialog = NewIdentityDialog(parent, defaults)
    return dialog.value() if run_modal(dialog) == QDialog.DialogCode.Accepted else None


@dataclass(frozen=True)
class ExportOutcome:
    """What the worker hands back: where the PDF went, its pages, and its verification."""

    path: Path
    pages: int
    verification: Any


class SignExportPage(PageDefaults, QWidget):
    """Step "Sign & export"."""

    title = "Sign & export"

    exported = Signal(object)  # ExportOutcome
    completion_changed = Signal()  # is_complete() may have changed without a document edit
    export_failed = Signal(object)
    identity_created = Signal(object)  # Path

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.outcome: ExportOutcome | None = None
        self.tasks = ctx.task_runner(self)  # exports only: it cancels nobody else's work
        self._build()
        self.refresh_identities()
        ctx.document_replaced.connect(self._document_replaced)
        ctx.changed.connect(lambda *_: self.refresh_warnings())
        self.refresh_warnings()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.addWidget(QLabel(f"<h2>{self.title}</h2>"))
        intro = QLabel(
            "The report states the whole assessment and carries your digital signature "
            "(PAdES), so anyone can check who signed it and that nothing changed since."
        )
        intro.setWordWrap(True)
        outer.addWidget(intro)

        self.warnings_label = QLabel("")
        self.warnings_label.setObjectName("signingWarnings")
        self.warnings_label.setWordWrap(True)
        self.warnings_label.setTextFormat(Qt.TextFormat.PlainText)
        self.warnings_label.setStyleSheet(WARNING_STYLE)
        self.warnings_label.setAccessibleName("Before signing")
        self.warnings_label.setVisible(False)
        outer.addWidget(self.warnings_label)

        ident_box = QGroupBox("Signing identity")
        ident_form = QFormLayout(ident_box)
        self.identity_combo = QComboBox()
        self.identity_combo.setAccessibleName("Signing identity")
        self.identity_combo.setMinimumContentsLength(30)
        row = QHBoxLayout()
        row.addWidget(self.identity_combo, 1)
        self.create_button = QPushButton("&Create new…")
        self.import_button = QPushButton("&Import .p12…")
        row.addWidget(self.create_button)
        row.addWidget(self.import_button)
        identity_label = QLabel("&Identity:")
        identity_label.setBuddy(self.identity_combo)
        ident_form.addRow(identity_label, row)
        self.identity_info = QLabel("")
        self.identity_info.setWordWrap(True)
        self.identity_info.setTextFormat(Qt.TextFormat.PlainText)
        ident_form.addRow("", self.identity_info)
        self.reason_edit = QLineEdit(DEFAULT_REASON)
        ident_form.addRow("&Reason:", self.reason_edit)
        self.location_edit = QLineEdit("")
        ident_form.addRow("&Location:", self.location_edit)
        outer.addWidget(ident_box)

        run_row = QHBoxLayout()
        self.export_button = QPushButton("&Export signed PDF…")
        self.export_button.setDefault(True)
        self.verify_button = QPushButton("&Verify a report…")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)  # shown (busy) only while a report is being made
        run_row.addWidget(self.export_button)
        run_row.addWidget(self.verify_button)
        self.progress.setMaximumWidth(320)
        run_row.addWidget(self.progress)
        run_row.addStretch(1)
        outer.addLayout(run_row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        outer.addWidget(self.status)

        result_box = QGroupBox("Verification of the exported file")
        result_layout = QVBoxLayout(result_box)
        self.verification = VerificationView()
        result_layout.addWidget(self.verification)
        outer.addWidget(result_box, 1)

        self.identity_combo.currentIndexChanged.connect(self._identity_changed)
        self.identity_combo.activated.connect(lambda *_: self._identity_chosen())
        self.create_button.clicked.connect(self.create_identity)
        self.import_button.clicked.connect(self.import_identity)
        # clicked(bool) would pass its "checked" flag as the first argument: call without it.
        self.export_button.clicked.connect(lambda: self.export_signed_pdf())
        self.verify_button.clicked.connect(lambda: self.open_verify_dialog())

    # ------------------------------------------------------------------ page protocol
    def is_complete(self) -> bool:
        """Complete once a signed report was exported and its verification passed."""
        return self.outcome is not None and bool(self.outcome.verification.ok)

    # ------------------------------------------------------------------ before signing
    def refresh_warnings(self) -> list[str]:
        """Show what the reviewer must know before signing (the Summary page lists the same)."""
        from reports.model import report_warnings

        texts = report_warnings(self.ctx.doc) if getattr(self.ctx, "has_document", False) else []
        self.warnings_label.setText("\n".join(f"⚠ {t}" for t in texts))
        self.warnings_label.setVisible(bool(texts))
        return texts

    def _fill_empty_reviewer(self, signer: dict[str, str]) -> None:
        """The signer becomes the assessment's reviewer where it names none (each empty field)."""
        if not getattr(self.ctx, "has_document", False) or not signer.get("name"):
            return
        doc = self.ctx.doc
        if doc.reviewer.name.strip():
            return
        current = self._reviewer_defaults()
        for key in ("name", "role", "organisation", "email"):
            if signer.get(key) and not current.get(key, "").strip():
                doc.set_field("reviewer", key, signer[key])

    def _identity_chosen(self) -> None:
        """The reviewer picked an identity in the list: it names an unnamed reviewer."""
        path = self.selected_identity()
        if path is not None:
            self._fill_empty_reviewer(_signer_of(path))

    # ------------------------------------------------------------------ identities
    def refresh_identities(self, select: Path | None = None) -> None:
        from reports.identity import list_identities

        current = select or self.identity_combo.currentData()
        self.identity_combo.blockSignals(True)
        self.identity_combo.clear()
        for path in list_identities():
            self.identity_combo.addItem(path.stem, str(path))
        if self.identity_combo.count() == 0:
            self.identity_combo.addItem("(no identity yet — create or import one)", None)
        if current is not None:
            idx = self.identity_combo.findData(str(current))
            if idx >= 0:
                self.identity_combo.setCurrentIndex(idx)
        self.identity_combo.blockSignals(False)
        self._identity_changed()

    def selected_identity(self) -> Path | None:
        data = self.identity_combo.currentData()
        return Path(data) if data else None

    def _identity_changed(self, *_: Any) -> None:
        path = self.selected_identity()
        if path is None:
            self.identity_info.setText(
                "Create a personal identity, or import the PKCS#12 file your organisation issued."
            )
        else:
            pem = path.with_suffix(".pem")
            info = _certificate_summary(pem) if pem.exists() else ""
            self.identity_info.setText(info or str(path))
        self.export_button.setEnabled(path is not None and not self._running())

    def _reviewer_defaults(self) -> dict[str, str]:
        if not getattr(self.ctx, "has_document", False):
            return {}
        r = self.ctx.doc.reviewer
        return {"name": r.name, "role": r.role, "organisation": r.organisation,
                "email": r.email}

    def create_identity(self) -> None:
        from gui.export import page as this

        answer = this.ask_new_identity(self.ctx.window, self._reviewer_defaults())
        if answer is None:
            return
        from reports.identity import create_identity

        try:
            path = create_identity(answer.name, answer.passphrase.encode("utf-8"),
                                   role=answer.role, organisation=answer.organisation,
                                   email=answer.email)
        except Exception as exc:  # IdentityError (short passphrase, exists, ...)
            self.ctx.show_error(exc)
            return
        self._fill_empty_reviewer({"name": answer.name, "role": answer.role,
                                   "organisation": answer.organisation, "email": answer.email})
        self.refresh_identities(select=path)
        self.status.setText(f"Created signing identity {path.name}; its certificate is "
                            f"{path.with_suffix('.pem')}.")
        self.identity_created.emit(path)

    def import_identity(self) -> None:
        src = self.ctx.ask_open_path("Import a signing identity", P12_FILTER)
        if src is None:
            return
        passphrase = self.ctx.ask_passphrase("Import a signing identity",
                                             f"Passphrase of {Path(src).name}:")
        if passphrase is None:
            return
        from reports.identity import import_identity

        try:
            path = import_identity(src, passphrase.encode("utf-8"))
        except Exception as exc:
            self.ctx.show_error(exc)
            return
        self._fill_empty_reviewer(_signer_of(path))
        self.refresh_identities(select=path)
        self.status.setText(f"Imported {path.name}.")

    # ------------------------------------------------------------------ export
    def _running(self) -> bool:
        return self.tasks.running()

    def export_signed_pdf(self, out: Path | None = None) -> None:
        """Sign the saved assessment: checks and questions first, then a worker builds, signs,
        writes and verifies. The report embeds exactly the bytes of the saved file."""
        identity_path = self.selected_identity()
        if identity_path is None:
            from assessment.errors import ReportError

            self.ctx.show_error(ReportError("Choose or create a signing identity first."))
            return
        if not getattr(self.ctx, "has_document", False) or self._running():
            return
        if not self._confirm_signer(identity_path) or not self._confirm_incomplete():
            return
        if not self._saved_first():
            return
        doc_path = self.ctx.path
        assert doc_path is not None
        if out is None:
            out = self.ctx.ask_save_path("Export signed PDF", PDF_FILTER,
                                         doc_path.with_suffix(".pdf").name)
            if out is None:
                return
        out = Path(out)
        if out.suffix.lower() != ".pdf":
            out = out.with_suffix(".pdf")
        from assessment.errors import ProbityError
        from assessment.fileio import refuse_same_file

        try:  # a PDF written over the open assessment or the identity would destroy it
            refuse_same_file(out, [getattr(self.ctx, "path", None), identity_path])
        except ProbityError as exc:
            self.ctx.show_error(exc)
            return
        passphrase = self.ctx.ask_passphrase(
            "Sign the report", f"Passphrase of the signing identity {identity_path.stem}:"
        )
        if passphrase is None:
            return
        try:
            saved = doc_path.read_bytes()  # what is signed is what is on disk, byte for byte
        except OSError as exc:
            from assessment.errors import ReportError

            self.ctx.show_error(ReportError(
                f"Cannot read {doc_path.name} to embed it: {exc.strerror}. Save it again."))
            return
        job_input = (saved, doc_path.name)
        reason = self.reason_edit.text().strip()  # the report model adds the draft status
        location = self.location_edit.text().strip()
        secret = passphrase.encode("utf-8")

        def work(progress: Any, cancelled: Any) -> ExportOutcome:
            return _build_sign_verify(job_input, identity_path, secret, out, reason, location,
                                      progress, cancelled)

        self.verification.clear()
        self.status.setText(f"Building and signing {out.name}…")
        self.progress.setVisible(True)
        self.tasks.run(work, self._exported, on_error=self._failed,
                       on_cancelled=self._cancelled)
        self._identity_changed()

    def _confirm_signer(self, identity_path: Path) -> bool:
        """An unnamed reviewer becomes the signer; a different one is asked about."""
        signer = _signer_of(identity_path)
        self._fill_empty_reviewer(signer)
        reviewer = self.ctx.doc.reviewer.name.strip()
        name = signer.get("name", "").strip()
        if not name or not reviewer or name.casefold() == reviewer.casefold():
            return True
        if self.ctx.ask_yes_no(
            "The signer is not the reviewer",
            f"The assessment names {reviewer} as its reviewer, but the identity "
            f"{identity_path.stem} signs as {name}. The report will show both: assessed by "
            f"{reviewer}, signed by {name}.\n\nSign as {name}?",
        ):
            return True
        self.status.setText(f"Nothing was exported: choose {reviewer}'s identity, or change the "
                            "reviewer on the Review question page.")
        return False

    def _confirm_incomplete(self) -> bool:
        from reports.model import draft_status

        count = self.ctx.judgement().open_items
        if not count:
            return True
        items = f"{count} open item{'s' if count != 1 else ''}"
        if self.ctx.ask_yes_no(
            "Sign an incomplete assessment?",
            f"The assessment is not complete: {items} (unanswered questions, applicability "
            "ratings or decisions; listed on the Summary page). The signature and the report "
            f"will say “{draft_status(count)}”.\n\nSign it as a draft?",
        ):
            return True
        self.status.setText(f"Nothing was exported: {items} left (see Summary & judgement).")
        return False

    def _saved_first(self) -> bool:
        """The report embeds the saved file: unsaved edits are saved first, or nothing is signed."""
        if self.ctx.path is not None and not self.ctx.modified:
            return True
        text = ("The signed report embeds the assessment file exactly as saved, so that anyone "
                "can check it against the file. ")
        text += ("It has unsaved changes. Save them now?" if self.ctx.path is not None
                 else "It has not been saved yet. Save it now?")
        save = getattr(self.ctx, "save_document", None)
        if save is not None and self.ctx.ask_yes_no("Save before signing", text,
                                                    default_yes=True):
            if save() and self.ctx.path is not None and not self.ctx.modified:
                return True
        self.status.setText("Nothing was exported: save the assessment first (File › Save); "
                            "the report embeds the saved file.")
        return False

    def start_export(self) -> None:
        """Menu "Export signed PDF…" (the main window calls this after showing the page)."""
        self.export_signed_pdf()

    def _exported(self, outcome: ExportOutcome) -> None:
        self.outcome = outcome
        self.progress.setVisible(False)
        self.verification.show_result(outcome.verification)
        verdict = "and verified" if outcome.verification.ok else "but verification FAILED"
        self.status.setText(f"Exported {outcome.path} ({outcome.pages} pages), signed {verdict}.")
        self._identity_changed()
        self.exported.emit(outcome)
        self.completion_changed.emit()

    def _failed(self, exc: BaseException) -> None:
        self.progress.setVisible(False)
        self.status.setText("The signed report was not exported.")
        self._identity_changed()
        self.export_failed.emit(exc)
        self.ctx.show_error(exc)

    def _cancelled(self) -> None:
        self.progress.setVisible(False)
        self.status.setText("Export cancelled; nothing was written.")
        self._identity_changed()

    def open_verify_dialog(self, path: Path | None = None) -> Any:
        from gui.export.verify_dialog import VerifyDialog

        dialog = VerifyDialog(self.ctx, self)
        dialog.setModal(False)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # one per click, freed on close
        dialog.show()
        if path is not None:
            dialog.verify(Path(path))
        elif self.outcome is not None:
            dialog.verify(self.outcome.path)
        return dialog

    def _document_replaced(self) -> None:
        """Another document: an export of the previous one is cancelled and forgotten."""
        self.tasks.discard()
        if self.outcome is not None:
            self.completion_changed.emit()
        self.outcome = None
        self.verification.clear()
        self.status.setText("")
        self.progress.setVisible(False)
        self.reason_edit.setText(DEFAULT_REASON)
        self.location_edit.setText("")
        self._identity_changed()


def _build_sign_verify(
    job_input: tuple[bytes, str],
    identity_path: Path,
    passphrase: bytes,
    out: Path,
    reason: str,
    location: str,
    progress: Any,
    cancelled: Any,
) -> ExportOutcome:
    """Worker body: open the identity, build the report of the saved bytes (which it embeds),
    sign (re-validated by reports), write, verify."""
    from assessment.errors import Cancelled
    from assessment.storage import atomic_write_bytes, loads
    from reports.identity import load_identity
    from reports.model import Signer
    from reports.report import build_report
    from reports.signing import sign_pdf
    from reports.verify import verify_file

    source, name = job_input
    identity = load_identity(identity_path, passphrase)  # wrong passphrase -> IdentityError
    doc = loads(source, source=name)
    progress(0.1)
    signer = Signer(identity.name, identity.role, identity.organisation)
    info = build_report(doc, source_bytes=source, source_name=name, signer=signer)
    if info.model is not None:  # an incomplete assessment is signed as a draft
        reason = info.model.signature_reason(reason)
    if cancelled():
        raise Cancelled()
    progress(0.6)
    signed = sign_pdf(info.data, identity, reason=reason, location=location)
    if cancelled():
        raise Cancelled()
    progress(0.85)
    atomic_write_bytes(out, signed.data)
    verification = verify_file(out)
    progress(1.0)
    return ExportOutcome(out, info.pages, verification)


def _signer_of(identity: Path) -> dict[str, str]:
    """Name, role, organisation and e-mail in an identity's certificate (its .pem beside it)."""
    try:
        from cryptography.x509.oid import NameOID

        from reports.identity import load_certificates, subject_field

        cert = load_certificates(identity.with_suffix(".pem"))[0]
    except Exception:  # no readable certificate: nothing to compare or fill in
        return {}
    fields = {"name": NameOID.COMMON_NAME, "role": NameOID.TITLE,
              "organisation": NameOID.ORGANIZATION_NAME, "email": NameOID.EMAIL_ADDRESS}
    return {key: subject_field(cert, oid) or "" for key, oid in fields.items()}


def _certificate_summary(pem: Path) -> str:
    """Subject and validity of an identity's certificate, for the reviewer to check."""
    try:
        from cryptography.x509.oid import NameOID

        from reports.identity import fingerprint, load_certificates, subject_field

        cert = load_certificates(pem)[0]
    except Exception:  # an unreadable .pem only loses the summary line
        return ""
    parts = [subject_field(cert, oid) for oid in (NameOID.COMMON_NAME, NameOID.TITLE,
                                                  NameOID.ORGANIZATION_NAME,
                                                  NameOID.EMAIL_ADDRESS)]
    who = ", ".join(p for p in parts if p)
    self_signed = " (self-signed)" if cert.issuer == cert.subject else ""
    until = cert.not_valid_after_utc.strftime("%Y-%m-%d")
    return (f"{who}{self_signed} — valid until {until}\n"
            f"Certificate SHA-256 {fingerprint(cert)}")
