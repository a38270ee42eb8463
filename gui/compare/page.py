"""The Comparison page: several vendors' models side by side on the same patients.

Open a dossier written by ``probity compare --json``, or run a comparison here on a data file
(the same analysis, in a worker through the page's task runner). Shows the ranked summary, the
models side by side for the chosen group (table and a forest plot with one colour per model),
the paired differences, overlaid ROC curves and decision curves, and the gates per model.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from assessment.compare.model_form import FormModel
from gui.compare import view
from gui.compare.models_form import ModelTable
from gui.context import AppContext
from gui.steps import PageDefaults

#: The worker lane of opening a dossier (a running comparison is not cancelled by it).
OPEN_LANE = "open"

SIDE_HEADER = ["Model", "n", *[view.SIDE_LABELS[k] for k in view.SIDE_METRICS],
               "Flagged /100", "Events caught /100", "Evaluate per event"]
PAIRED_HEADER = ["Metric", "A − B", "Difference", "95% CI", "p", "p adjusted", "Interval"]


def _table(header: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(header))
    t.setHorizontalHeaderLabels(header)
    t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    t.verticalHeader().setVisible(False)
    t.setMinimumHeight(120)
    return t


def _fill(t: QTableWidget, rows: list[list[str]]) -> None:
    t.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            t.setItem(r, c, QTableWidgetItem(text))
    t.resizeColumnsToContents()


DEMO_FIELDS = {"label": "readmitted_30d", "groups": "race, gender, age_band",
               "cluster": "patient_nbr"}
DEMO_MODELS = [
    FormModel("Logistic (demo)", "predicted_probability", "probability", "0.15"),
    FormModel("Gradient boosting", "gbm_probability", "probability", "0.15"),
]


def demo_data() -> Path | None:
    """The bundled demo's validation file (two models' columns since the demo's rebuild)."""
    from importlib.resources import files

    candidate = files("resources") / "demo" / "validation_predictions.parquet"
    return Path(str(candidate)) if candidate.is_file() else None


def comparison_args(data: str, label: str, models: list[FormModel],
                    groups: str, cluster: str = "", key: str = "",
                    positive: str = "") -> argparse.Namespace:
    """The ``compare`` options the page's fields describe, checked by the CLI's own parser and
    model checks (kinds, thresholds, names) before anything is read."""
    from assessment.compare.cli import add_parser, models_from_args
    from assessment.compare.model_form import column_roles, model_argv
    from assessment.compare.sources import check_models
    from assessment.errors import DataError

    parser = argparse.ArgumentParser(prog="probity", exit_on_error=False)
    add_parser(parser.add_subparsers())
    # every value as --option=VALUE and DATA after "--": a value starting with "-" is a value
    argv = ["compare", f"--label={label}"]
    if positive.strip():  # the outcome value counting as the event
        argv += [f"--positive={positive.strip()}"]
    group_options = [f"--group={g.strip()}" for g in groups.split(",") if g.strip()]
    if cluster.strip():  # several encounters per patient: cluster-robust intervals
        argv += [f"--cluster={cluster.strip()}"]
    model_options = model_argv(models, key, column_roles(label, groups, cluster, key))
    if not data or not label or not group_options or not model_options:
        raise DataError("Give the data file, the outcome column, the models (a name and a "
                        "column each) and at least one group column.")
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # argparse's usage text: not shown
            args = parser.parse_args([*argv, *group_options, *model_options, "--quiet", "--",
                                      data])
    except (argparse.ArgumentError, SystemExit) as exc:
        raise DataError(f"The comparison settings are not valid: {exc}.") from None
    check_models(models_from_args(args))
    return args


class ComparisonPage(PageDefaults, QWidget):
    """Models side by side; the dossier is the page's only state (no document edits)."""

    title = "Procurement comparison"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.doc: dict[str, Any] | None = None
        self.tasks = ctx.task_runner(self)
        outer = QVBoxLayout(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        outer.addWidget(scroll)
        content = QWidget()
        scroll.setWidget(content)
        lay = QVBoxLayout(content)
        heading = QLabel("<h2>Procurement comparison</h2>Several vendors' models on the same "
                         "patients, paired per group. Open a dossier written by "
                         "<tt>probity compare --json</tt>, or run one here.")
        heading.setWordWrap(True)
        lay.addWidget(heading)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open dossier…")
        self.open_button.clicked.connect(self._choose_file)
        row.addWidget(self.open_button)
        self.source = QLabel("No comparison open.")
        self.source.setTextFormat(Qt.TextFormat.PlainText)
        row.addWidget(self.source, 1)
        lay.addLayout(row)
        form = QFormLayout()
        self.data_edit = QLineEdit()
        self.label_edit = QLineEdit()
        self.models = ModelTable()
        self.models.suggest_button.clicked.connect(self._suggest)
        self.groups_edit = QLineEdit()
        self.groups_edit.setPlaceholderText("race, sex")
        form.addRow("Data file", self.data_edit)
        form.addRow("Outcome column", self.label_edit)
        self.positive_edit = QLineEdit()
        self.positive_edit.setPlaceholderText("optional: the outcome value counting as the "
                                              "event (needed unless 0/1, no/yes, false/true)")
        form.addRow("Event value", self.positive_edit)
        form.addRow("Models", self.models)
        self.cluster_edit = QLineEdit()
        self.cluster_edit.setPlaceholderText("optional: several rows per patient, e.g. "
                                             "patient_nbr (cluster-robust intervals)")
        form.addRow("Group columns", self.groups_edit)
        form.addRow("Patient column", self.cluster_edit)
        lay.addLayout(form)
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run comparison")
        self.run_button.clicked.connect(self._run)
        self.demo_button = QPushButton("Use the demo's two models")
        self.demo_button.setEnabled(demo_data() is not None)
        self.demo_button.clicked.connect(self.fill_demo)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        self.status = QLabel("")
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.summary)
        self.notes = QLabel("")  # warnings, clustering and the dossier's notes
        self.notes.setWordWrap(True)
        self.notes.setTextFormat(Qt.TextFormat.RichText)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.notes)
        self.group_box = QComboBox()
        self.group_box.currentIndexChanged.connect(self._show_group)
        lay.addWidget(self.group_box)
        self.side = _table(SIDE_HEADER)
        lay.addWidget(self.side)
        self.paired = _table(PAIRED_HEADER)
        lay.addWidget(self.paired)
        self.gates = QLabel("")
        self.gates.setWordWrap(True)
        lay.addWidget(self.gates)
        from gui.compare.plots import ComparisonPlots

        self.plots = ComparisonPlots()
        lay.addWidget(self.plots)
        self._keys: list[view.GroupKey] = []

    # --- step protocol ---------------------------------------------------------------------
    def is_complete(self) -> bool:
        return self.doc is not None

    # --- actions ---------------------------------------------------------------------------
    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open comparison dossier", "",
                                              "Comparison dossier (*.json)")
        if path:
            self.open_dossier(Path(path))

    def open_dossier(self, path: Path) -> None:
        """Read and check a dossier in the page's worker (its own lane: a running comparison
        goes on; a large dossier's sense checks take seconds); the one shown stays until then."""

        def work(_progress: Any, _cancelled: Any) -> dict[str, Any]:
            from assessment.compare.dossier import load_dossier

            return load_dossier(path)

        self.status.setText(f"Opening {path.name}…")
        self.tasks.run(work, lambda doc: self.show_dossier(doc, path.name),
                       on_error=self._open_failed, lane=OPEN_LANE)

    def _open_failed(self, exc: BaseException) -> None:
        """A dossier refused: the one shown (and a running comparison) stay."""
        self.status.setText("Comparing…" if self.tasks.running() else "")
        self.ctx.show_error(exc)

    def fill_demo(self) -> None:
        path = demo_data()
        if path is None:
            return
        self.data_edit.setText(str(path))
        self.label_edit.setText(DEMO_FIELDS["label"])
        self.models.set_rows(DEMO_MODELS)
        self.groups_edit.setText(DEMO_FIELDS["groups"])
        self.cluster_edit.setText(DEMO_FIELDS["cluster"])

    def _suggest(self) -> None:
        """Suggest every model's kind (and a raw score's threshold) from its column, read in
        the page's worker."""
        from assessment.compare.model_form import column_roles
        from assessment.errors import DataError

        data, label = self.data_edit.text().strip(), self.label_edit.text().strip()
        if not data:
            self.ctx.show_error(DataError("Give the data file first: the suggestions read the "
                                          "models' columns."))
            return
        rows = self.models.rows()
        roles = column_roles(label, self.groups_edit.text(), self.cluster_edit.text(),
                             self.models.key())

        def work(_progress: Any, _cancelled: Any) -> dict[int, Any]:
            from assessment.compare.model_form import suggest_models
            from assessment.evaluation.io import read_table

            return suggest_models(data, label or None, rows, lambda p: read_table(p), roles)

        self.status.setText("Reading the models' columns…")
        # its own lane: suggesting never cancels a running comparison
        self.tasks.run(work, self._suggested, on_error=self._suggest_failed, lane="suggest")

    def _suggested(self, found: dict[int, Any]) -> None:
        self.status.setText("Comparing…" if self.tasks.running() else "")
        self.models.apply_suggestions(found)

    def _suggest_failed(self, exc: BaseException) -> None:
        """A failed suggestion leaves a running comparison (and its buttons) alone."""
        self.status.setText("Comparing…" if self.tasks.running() else "")
        self.ctx.show_error(exc)

    def _run(self) -> None:
        from assessment.compare.model_form import form_error
        from assessment.errors import ProbityError
        from gui.compare.run_limits import app_limits, with_limits

        try:
            args = comparison_args(self.data_edit.text().strip(), self.label_edit.text().strip(),
                                   self.models.rows(), self.groups_edit.text(),
                                   self.cluster_edit.text(), self.models.key(),
                                   self.positive_edit.text())
        except ProbityError as exc:
            self.ctx.show_error(form_error(exc))
            return
        args = with_limits(args, app_limits(self.ctx))  # the app's, as on the data page

        def work(progress: Any, cancelled: Any) -> dict[str, Any]:
            from assessment.compare.cli import analyse

            try:
                return analyse(args, outputs=[], cancelled=cancelled, progress=progress)
            except ProbityError as exc:  # named as the form names the options
                raise form_error(exc) from None

        self.status.setText("Comparing…")
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.tasks.run(work, lambda doc: self.show_dossier(doc, Path(args.data).name),
                       on_error=self._run_failed, on_cancelled=self._cancelled,
                       on_progress=self._progressed)

    def _progressed(self, value: float) -> None:
        if self.cancel_button.isEnabled():  # not after Cancel ("Cancelling…")
            self.status.setText(f"Comparing… {value:.0%}")

    def _run_failed(self, exc: BaseException) -> None:
        """A file over a read limit: offer to raise it and run again; else the error."""
        from gui.compare.run_limits import offer_raised_limit

        offered = offer_raised_limit(self.ctx, exc)
        if offered is None:
            self._failed(exc)
            return
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.setText("" if offered else f"Not compared: {exc}")
        if offered:
            self._run()

    def cancel(self) -> None:
        """Stop a running comparison (or suggestion); the comparison shown stays."""
        if self.tasks.running():
            self.tasks.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling…")

    def _cancelled(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.setText("Comparison cancelled; the comparison shown (if any) is kept.")

    def _failed(self, exc: BaseException) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.setText("")
        self.ctx.show_error(exc)

    # --- display ---------------------------------------------------------------------------
    def show_dossier(self, doc: dict[str, Any], source: str) -> None:
        self.doc = doc
        if self.tasks.running():  # a dossier opened while a comparison runs: it goes on
            self.status.setText("Comparing…")
        else:
            self.run_button.setEnabled(True)
            self.cancel_button.setEnabled(False)
            self.status.setText("")
        self.source.setText(view.source_text(doc, source))
        self.notes.setText(view.notes_html(doc))
        self.summary.setText("<br>".join(html.escape(t) for t in doc["summary"])
                             or "No ranked summary.")
        self.gates.setText(view.gates_text(doc))
        self._keys = view.group_keys(doc)
        self.group_box.blockSignals(True)
        self.group_box.clear()
        self.group_box.addItems([view.key_label(k) for k in self._keys])
        self.group_box.blockSignals(False)
        self._show_group(0)

    def _show_group(self, index: int) -> None:
        if self.doc is None or not 0 <= index < len(self._keys):
            return
        key = self._keys[index]
        _fill(self.side, view.side_rows(self.doc, key))
        _fill(self.paired, view.paired_rows(self.doc, key))
        self.plots.show_group(self.doc, key)
