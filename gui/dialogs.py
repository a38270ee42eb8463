"""About (instrument citations and licences), Help (workflow and shortcuts) and Preferences."""

from __future__ import annotations

import html
from importlib import metadata
from importlib.resources import files

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QMainWindow,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gui.context import AppContext

# Third-party software shipped with or required by Probity, with its licence.
THIRD_PARTY = (
    ("Qt 6 / PySide6", "LGPL-3.0 (Qt for Python)"),
    ("pandas", "BSD-3-Clause"),
    ("NumPy", "BSD-3-Clause"),
    ("SciPy", "BSD-3-Clause"),
    ("scikit-learn", "BSD-3-Clause"),
    ("pyqtgraph", "MIT"),
    ("ReportLab", "BSD-3-Clause"),
    ("pyHanko", "MIT"),
    ("cryptography", "Apache-2.0 or BSD-3-Clause"),
    ("PyArrow", "Apache-2.0"),
    ("openpyxl", "MIT"),
    ("DejaVu fonts", "Bitstream Vera / Arev fonts licence (free), public domain changes"),
)

HELP_TEXT = """
<h2>Working with Probity</h2>
<p>Work down the steps on the left; a tick marks a finished step, an amber mark a step that
needs your decision.</p>
<ol>
<li><b>Review question &amp; model</b>: name the model, choose the study type (it decides
which signalling questions and columns apply) and describe the review question.</li>
<li><b>Model card</b> and <b>Training data</b>: the model's card and its training data's
datasheet, including the training cohort's demographics (counts per group).</li>
<li><b>Domains</b>: answer each signalling question (Y, PY, PN, N, NI; NA where the instrument
allows it) and give a rationale and the source (document, page). The suggested judgement
updates as you answer; your final judgement needs a rationale when it departs from it.
Rate the concern about applicability for domains 1–3.</li>
<li><b>Validation data</b> and <b>Subgroup results</b>: load the validation predictions,
map the columns and run the subgroup evaluation.</li>
<li><b>Summary &amp; judgement</b>: the overall judgements, what is still open, your notes.</li>
<li><b>Sign &amp; export</b>: sign the report with your identity and export the PDF.</li>
</ol>
<p>Your edits are kept in a recovery file as you type; after a crash Probity offers them back.
Nothing ever leaves this computer: Probity makes no network connection.</p>
"""


def _version() -> str:
    try:
        return metadata.version("probity")
    except metadata.PackageNotFoundError:
        return "development copy"


def _demo_attribution() -> str:
    candidate = files("resources") / "demo" / "ATTRIBUTION.md"
    try:
        return candidate.read_text(encoding="utf-8") if candidate.is_file() else ""
    except OSError:
        return ""


def about_html() -> str:
    from assessment.instruments import (
        available_forms,
        available_instruments,
        load_form,
        load_instrument,
    )

    esc = html.escape
    parts = [f"<h2>Probity {esc(_version())}</h2>",
             "<p>Offline risk-of-bias assessment of clinical prediction models, with subgroup "
             "evaluation and signed PDF reports.</p>", "<h3>Instruments</h3>"]
    for iid, _ in available_instruments():
        inst = load_instrument(iid)
        parts.append(f"<p><b>{esc(inst.title)}</b> (id {esc(inst.id)}, version "
                     f"{esc(inst.version)})<br>")
        parts += [f"{esc(c)}<br>" for c in inst.citation]
        parts.append(f"<i>Licence:</i> {esc(inst.licence)}<br>"
                     f"<i>Wording:</i> {esc(inst.wording_source)}</p>")
    parts.append("<h3>Forms</h3>")
    for fid, _ in available_forms():
        form = load_form(fid)
        parts.append(f"<p><b>{esc(form.title)}</b> (version {esc(form.version)})<br>")
        parts += [f"{esc(c)}<br>" for c in form.citation]
        parts.append(f"<i>Licence:</i> {esc(form.licence)}</p>")
    demo = _demo_attribution()
    if demo:
        parts.append("<h3>Demo data</h3><pre style='white-space: pre-wrap'>"
                     f"{esc(demo)}</pre>")
    parts.append("<h3>Third-party software</h3><ul>")
    parts += [f"<li>{esc(name)}: {esc(licence)}</li>" for name, licence in THIRD_PARTY]
    parts.append("</ul>")
    return "".join(parts)


class _TextDialog(QDialog):
    def __init__(self, title: str, body: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(760, 620)
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)  # offline: never follow a link anywhere
        self.browser.setHtml(body)
        layout.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def text(self) -> str:
        return self.browser.toPlainText()


class AboutDialog(_TextDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("About Probity", about_html(), parent)


class HelpDialog(_TextDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        shortcuts = ""
        if isinstance(parent, QMainWindow):
            rows = [(a.text().replace("&", ""), a.shortcut().toString(
                        a.shortcut().SequenceFormat.NativeText))
                    for a in parent.actions() if not a.shortcut().isEmpty()]
            shortcuts = "<h3>Keyboard shortcuts</h3><table cellpadding='3'>" + "".join(
                f"<tr><td>{html.escape(name.rstrip('…'))}</td><td><b>{html.escape(keys)}</b>"
                "</td></tr>" for name, keys in rows) + "</table>" + (
                "<p>Tab moves between controls; Space ticks a choice; arrow keys move between "
                "the options of a judgement.</p>")
        super().__init__("Probity Help", HELP_TEXT + shortcuts + answer_keys_html(), parent)


def answer_keys_html() -> str:
    """The keys of the domain pages, from the tables the answer bar itself uses."""
    from assessment.catalogue import ANSWER_LABELS
    from gui.pages.answer_bar import ANSWER_KEYS, BAR_KEYS, key_label
    from gui.pages.probast import COPY_DEV_KEY, NEXT_UNANSWERED_KEY

    def row(keys: str, what: str) -> str:
        return f"<tr><td><b>{html.escape(keys)}</b></td><td>{html.escape(what)}</td></tr>"

    answers = [row(key_label(k, shift), f"{code}: {ANSWER_LABELS.get(code, code)}")
               for k, shift, code in ANSWER_KEYS]
    others = [row(keys, what) for keys, what in BAR_KEYS]
    page = [row(NEXT_UNANSWERED_KEY, "next unanswered question, across domains"),
            row(COPY_DEV_KEY, "copy this domain's Development answers to Validation (empty "
                "Validation answers; asks before replacing a different one)")]
    return ("<h3>Answering signalling questions (domain pages)</h3>"
            "<p>Each question's answers are one stop for Tab. With them focused:</p>"
            "<table cellpadding='3'>" + "".join(answers + others + page) + "</table>"
            "<p>Space, Enter or a click on the chosen answer keeps it; NA is refused (with a "
            "note in the status bar) where the instrument does not offer it.</p>")


class PreferencesDialog(QDialog):
    """Defaults for new assessments and autosave; stored as JSON by gui.paths.Settings."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        from assessment.instruments import available_instruments

        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Preferences")
        s = ctx.settings
        form = QFormLayout(self)
        self.name = QLineEdit(s.get("reviewer_name"))
        self.role = QLineEdit(s.get("reviewer_role"))
        self.organisation = QLineEdit(s.get("reviewer_organisation"))
        self.email = QLineEdit(s.get("reviewer_email"))
        form.addRow("Reviewer name:", self.name)
        form.addRow("Role:", self.role)
        form.addRow("Organisation:", self.organisation)
        form.addRow("E-mail:", self.email)
        self.instrument = QComboBox()
        for iid, title in available_instruments():
            self.instrument.addItem(title, iid)
        self.instrument.setCurrentIndex(max(0, self.instrument.findData(
            s.get("default_instrument"))))
        form.addRow("Instrument for new assessments:", self.instrument)
        self.delay = QSpinBox()
        self.delay.setRange(300, 30000)
        self.delay.setSingleStep(250)
        self.delay.setSuffix(" ms")
        self.delay.setValue(int(s.get("autosave_delay_ms")))
        form.addRow("Autosave after a pause of:", self.delay)
        self.demo = QCheckBox("Open the demo assessment when started without a file")
        self.demo.setChecked(bool(s.get("open_demo_at_start")))
        form.addRow(self.demo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.setMinimumWidth(520)
        self.name.setFocus(Qt.FocusReason.OtherFocusReason)

    def accept(self) -> None:
        s = self.ctx.settings
        s.set("reviewer_name", self.name.text().strip())
        s.set("reviewer_role", self.role.text().strip())
        s.set("reviewer_organisation", self.organisation.text().strip())
        s.set("reviewer_email", self.email.text().strip())
        s.set("default_instrument", self.instrument.currentData())
        s.set("autosave_delay_ms", int(self.delay.value()))
        s.set("open_demo_at_start", self.demo.isChecked())
        super().accept()
