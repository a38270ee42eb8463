"""Validation data page: load a file, map its columns, set up and run the subgroup evaluation.

Everything that decides anything lives in :mod:`assessment.evaluation` — reading and sniffing the
file (``read_table``), guessing the mapping (``suggest_mapping``), judging it
(``check_mapping``), preparing arrays (``prepare_input``) and computing (``evaluate``). This page
binds widgets to a :class:`ColumnMapping` and an :class:`EvaluationSpec` and runs the slow steps
(reading, checking a big table, evaluating) through the page's own task runner (:mod:`gui.tasks`),
so the window never stalls.
"""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from assessment.catalogue import data_file_filter, data_format
from assessment.evaluation.record import document_demographics, store_evaluation
from gui.data.session import EvaluationSession
from gui.data.table_model import DataFrameModel

DATA_FILTER = data_file_filter()
NONE_CHOICE = "(none)"
REFERENCE_KINDS = (
    ("largest", "Largest group of each attribute"),
    ("overall", "Overall population"),
    ("best", "Best-performing group (by AUROC)"),
    ("value", "A named group per attribute"),
)
ERROR_STYLE = "color: #9b1c1c;"
WARNING_STYLE = "color: #7a4d00;"
INFO_STYLE = "color: #3d4a5c;"
CHECK_DELAY_MS = 250
WORK, CHECK = "work", "check"  # the page's task lanes


def is_data_file(path: str | Path) -> bool:
    return data_format(Path(path).suffix) is not None


@dataclass
class DataDocumentState:
    """What the page holds for the open document only (kept in ``ctx.session.page_state``).

    A new document gets a fresh instance: nothing of the previous study (its data file,
    mapping, stored run, values) can reach the next one.
    """

    table: Any = None  # LoadedTable
    path: Path | None = None
    issues: list[Any] = field(default_factory=list)  # MappingIssue list of the current mapping
    pending_config: dict[str, Any] | None = None  # the stored evaluation's config
    value_cache: dict[str, list[str]] = field(default_factory=dict)
    has_result: bool = False
    stored_candidates: list[Path] = field(default_factory=list)
    auto_reopen: bool = False
    # The stored run's {data attribute: demographics attribute} choices, kept on re-runs.
    stored_demographics_map: dict[str, str] = field(default_factory=dict)


# The settings a new document starts with (and the form shows before any file is loaded).
DEFAULT_THRESHOLD = 0.5
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 20240601
DEFAULT_MIN_N = 30
DEFAULT_MIN_EVENTS = 10


class ValidationDataPage(QWidget):
    """Step "Validation data": file, preview, column mapping, evaluation settings, Run."""

    title = "Validation data"

    table_loaded = Signal()  # a file was read and previewed
    evaluation_finished = Signal()  # a run completed and its result is in the document
    evaluation_cancelled = Signal()
    evaluation_failed = Signal(object)
    check_finished = Signal()  # inline mapping messages refreshed
    completion_changed = Signal()  # is_complete() may have changed

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session = EvaluationSession.of(ctx)
        # Lanes: "work" (reading a file, evaluating: a new one cancels the old) and "check"
        # (re-checking the mapping after an edit: never cancels, never cancelled by, the work).
        self.tasks = ctx.task_runner(self)
        self._updating = False
        self.setAcceptDrops(True)
        self._build()
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self._start_check)
        ctx.document_replaced.connect(self._document_replaced)
        ctx.changed.connect(self._document_changed)
        ctx.data_file_requested.connect(self.load_file)
        if getattr(ctx, "has_document", False):
            self._document_replaced()
        self._kind_changed(check=False)
        self._update_state()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        heading = QLabel(f"<h2>{self.title}</h2>")
        intro = QLabel(
            "Load the model's validation predictions (CSV, TSV, Excel or Parquet; or drop the "
            "file here), check the column mapping, then run the subgroup evaluation."
        )
        intro.setWordWrap(True)
        outer.addWidget(heading)
        outer.addWidget(intro)

        file_row = QHBoxLayout()
        self.open_button = QPushButton("&Open data file…")
        self.open_button.clicked.connect(self.choose_file)
        self.file_label = QLabel("No data file loaded.")
        self.file_label.setTextFormat(Qt.TextFormat.PlainText)  # file names are not markup
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sheet_label = QLabel("Sheet:")
        self.sheet_combo = QComboBox()
        self.sheet_combo.setMinimumContentsLength(12)
        self.sheet_combo.activated.connect(self._sheet_chosen)
        self.reopen_button = QPushButton("")
        self.reopen_button.setVisible(False)
        self.reopen_button.clicked.connect(self._reopen_clicked)
        file_row.addWidget(self.open_button)
        file_row.addWidget(self.reopen_button)
        file_row.addWidget(self.file_label, 1)
        file_row.addWidget(self.sheet_label)
        file_row.addWidget(self.sheet_combo)
        outer.addLayout(file_row)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.preview_model = DataFrameModel(parent=self)
        self.preview = QTableView()
        self.preview.setModel(self.preview_model)
        self.preview.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectColumns)
        self.preview.setAlternatingRowColors(True)
        self.preview.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.preview.horizontalHeader().setDefaultSectionSize(110)
        self.preview.verticalHeader().setDefaultSectionSize(22)
        self.preview.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.preview.setAccessibleName("Data preview")
        self.placeholder = QLabel(
            "Drop a CSV, TSV, Excel or Parquet file here,\nor use “Open data file…”.\n\n"
            "Expected: one row per patient with the true outcome, the model's score (or "
            "predicted class) and the attributes to compare (e.g. sex, race, age band)."
        )
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet(
            "color: #3d4a5c; border: 2px dashed #9aa5b1; border-radius: 8px; padding: 24px;"
        )
        self.preview_stack = QStackedWidget()
        self.preview_stack.addWidget(self.placeholder)
        self.preview_stack.addWidget(self.preview)
        splitter.addWidget(self.preview_stack)

        form_host = QWidget()
        form_box = QVBoxLayout(form_host)
        form_box.addWidget(self._build_mapping())
        form_box.addWidget(self._build_settings())
        form_box.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form_host)
        scroll.setMinimumWidth(380)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([640, 460])
        _fit_list_height(self.attr_list, 8)
        _fit_list_height(self.intersection_list, 6)
        outer.addWidget(splitter, 1)

        run_row = QHBoxLayout()
        self.run_button = QPushButton("&Run evaluation")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run_evaluation)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p%")
        self.status = QLabel("")
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # it quotes file and sheet names
        self.status.setWordWrap(True)
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.progress, 1)
        outer.addLayout(run_row)
        outer.addWidget(self.status)

    def _message_label(self) -> QLabel:
        label = QLabel("")
        label.setWordWrap(True)
        label.setVisible(False)
        label.setTextFormat(Qt.TextFormat.PlainText)
        return label

    def _build_mapping(self) -> QGroupBox:
        box = QGroupBox("Column mapping")
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.outcome_combo = QComboBox()
        self.outcome_combo.setAccessibleName("Outcome column")
        self.positive_combo = QComboBox()
        self.positive_combo.setAccessibleName("Positive outcome value")
        self.output_kind = QComboBox()
        self.output_kind.addItem("Probability (0–1)", "probability")
        self.output_kind.addItem("Score (any real number)", "score")
        self.output_kind.addItem("Predicted class", "class")
        self.score_combo = QComboBox()
        self.score_combo.setAccessibleName("Score or prediction column")
        self.cluster_combo = QComboBox()
        self.cluster_combo.setAccessibleName("Patient identifier column")
        self.cluster_combo.setToolTip(
            "Optional: rows with the same patient are one patient's encounters; intervals then "
            "treat the patient, not the row, as the unit (cluster-robust)."
        )
        self.pred_positive_combo = QComboBox()
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setDecimals(4)
        self.threshold_spin.setRange(-1e9, 1e9)
        self.threshold_spin.setSingleStep(0.01)
        self.threshold_spin.setValue(DEFAULT_THRESHOLD)
        self.threshold_spin.setToolTip("A case is predicted positive when its score ≥ threshold.")
        self.attr_list = QListWidget()
        self.attr_list.setAccessibleName("Sensitive attributes")
        self.attr_list.setMinimumHeight(60)
        self.bins_edit = QLineEdit()
        self.bins_edit.setPlaceholderText("age: 30, 50, 70")
        self.bins_edit.setToolTip(
            "Bin edges for continuous attributes, one attribute per ';', e.g. "
            "'age: 30, 50, 70; bmi: 25, 30'."
        )
        self.missing_edit = QLineEdit()
        self.missing_edit.setToolTip("Cell values that mean 'missing', separated by commas.")

        self.outcome_msg = self._message_label()
        self.score_msg = self._message_label()
        self.attr_msg = self._message_label()
        self.general_msg = self._message_label()
        form.addRow("&Outcome column:", self.outcome_combo)
        form.addRow("&Positive value:", self.positive_combo)
        form.addRow("", self.outcome_msg)
        form.addRow("Model &output:", self.output_kind)
        self.score_label = QLabel("&Score column:")
        self.score_label.setBuddy(self.score_combo)
        form.addRow(self.score_label, self.score_combo)
        self.pred_positive_label = QLabel("Predicted positive:")
        form.addRow(self.pred_positive_label, self.pred_positive_combo)
        self.threshold_label = QLabel("&Threshold:")
        self.threshold_label.setBuddy(self.threshold_spin)
        form.addRow(self.threshold_label, self.threshold_spin)
        form.addRow("", self.score_msg)
        form.addRow("Pa&tient ID (optional):", self.cluster_combo)
        form.addRow("Sensitive &attributes:", self.attr_list)
        form.addRow("&Bin edges:", self.bins_edit)
        form.addRow("&Missing values:", self.missing_edit)
        form.addRow("", self.attr_msg)
        form.addRow("", self.general_msg)

        for combo in (self.outcome_combo, self.positive_combo, self.score_combo,
                      self.pred_positive_combo, self.cluster_combo):
            combo.activated.connect(self._form_changed)
        self.outcome_combo.activated.connect(self._fill_positive_choices)
        self.output_kind.activated.connect(self._kind_changed)
        self.score_combo.activated.connect(self._fill_pred_positive_choices)
        self.threshold_spin.valueChanged.connect(self._form_changed)
        self.attr_list.itemChanged.connect(self._attributes_changed)
        self.bins_edit.editingFinished.connect(self._form_changed)
        self.missing_edit.editingFinished.connect(self._form_changed)
        return box

    def _build_settings(self) -> QGroupBox:
        box = QGroupBox("Evaluation settings")
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.reference_combo = QComboBox()
        for kind, label in REFERENCE_KINDS:
            self.reference_combo.addItem(label, kind)
        self.reference_combo.activated.connect(self._reference_kind_changed)
        self.reference_values = QWidget()
        self.reference_values_form = QFormLayout(self.reference_values)
        self.reference_values_form.setContentsMargins(0, 0, 0, 0)
        self.reference_value_combos: dict[str, QComboBox] = {}
        self.intersection_list = QListWidget()
        self.intersection_list.setAccessibleName("Intersections")
        self.intersection_list.setMinimumHeight(40)
        self.bootstrap_spin = QSpinBox()
        self.bootstrap_spin.setRange(0, 100_000)
        self.bootstrap_spin.setSingleStep(100)
        self.bootstrap_spin.setValue(DEFAULT_BOOTSTRAP)
        self.bootstrap_spin.setToolTip(
            "Bootstrap replicates for the Brier score, calibration and disparity intervals "
            "(0 = analytic intervals only)."
        )
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2_147_483_647)
        self.seed_spin.setValue(DEFAULT_SEED)
        self.min_n_spin = QSpinBox()
        self.min_n_spin.setRange(0, 1_000_000)
        self.min_n_spin.setValue(DEFAULT_MIN_N)
        self.min_events_spin = QSpinBox()
        self.min_events_spin.setRange(0, 1_000_000)
        self.min_events_spin.setValue(DEFAULT_MIN_EVENTS)
        form.addRow("&Reference group:", self.reference_combo)
        form.addRow("", self.reference_values)
        form.addRow("&Intersections:", self.intersection_list)
        form.addRow("&Bootstrap B:", self.bootstrap_spin)
        form.addRow("Random &seed:", self.seed_spin)
        form.addRow("Minimum group &n:", self.min_n_spin)
        form.addRow("Minimum &events:", self.min_events_spin)
        self.tolerance_table = self._build_tolerance_table()
        form.addRow("Flag &tolerances:", self.tolerance_table)
        self.multiplicity_combo = QComboBox()
        self.multiplicity_combo.addItem("Holm (family-wise error)", "holm")
        self.multiplicity_combo.addItem("Benjamini–Hochberg (false discovery rate)", "bh")
        self.multiplicity_combo.setToolTip(
            "Adjustment of the disparity flags within each metric family (a metric with its "
            "mirror, e.g. TPR/FNR); the report shows the adjusted flag."
        )
        form.addRow("&Multiplicity:", self.multiplicity_combo)
        self.reference_values.setVisible(False)
        return box

    def _build_tolerance_table(self) -> QTableWidget:
        """One editable row per flagged metric: ``ratio:LOW,HIGH`` or ``diff:LIMIT``."""
        from assessment.evaluation.spec import DEFAULT_TOLERANCES

        table = QTableWidget(len(DEFAULT_TOLERANCES), 2)
        table.setHorizontalHeaderLabels(["Metric", "Tolerance"])
        table.setAccessibleName("Flag tolerances")
        table.setToolTip(
            "How large a gap must be to be flagged: ratio:LOW,HIGH (group / reference outside "
            "the band) or diff:LIMIT (|group − reference| above the limit)."
        )
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        for row, (metric, tol) in enumerate(DEFAULT_TOLERANCES.items()):
            name = QTableWidgetItem(metric)
            name.setFlags(name.flags() & ~Qt.ItemFlag.ItemIsEditable)
            table.setItem(row, 0, name)
            table.setItem(row, 1, QTableWidgetItem(tol.to_text()))
        table.setMinimumHeight(120)
        return table

    def tolerances(self) -> dict[str, Any]:
        """{metric: MetricTolerance} for the rows that differ from the defaults (EvaluationError
        naming the metric for text that is not a tolerance)."""
        from assessment.errors import EvaluationError
        from assessment.evaluation.spec import DEFAULT_TOLERANCES, MetricTolerance

        out: dict[str, Any] = {}
        for row in range(self.tolerance_table.rowCount()):
            metric, text = (self._tolerance_item(row, col).text() for col in (0, 1))
            try:
                tol = MetricTolerance.parse(text)
                tol.check(metric)
            except EvaluationError as exc:
                raise EvaluationError(f"Flag tolerance of {metric}: {exc.message}") from None
            if tol != DEFAULT_TOLERANCES[metric]:
                out[metric] = tol
        return out

    def set_tolerances(self, stored: dict[str, Any]) -> None:
        """Show the defaults with a stored spec's overrides (JSON form) on top."""
        from assessment.evaluation.spec import DEFAULT_TOLERANCES, MetricTolerance

        for row, (metric, tol) in enumerate(DEFAULT_TOLERANCES.items()):
            if isinstance(stored.get(metric), dict):
                tol = MetricTolerance.from_json(stored[metric])
            self._tolerance_item(row, 1).setText(tol.to_text())

    def _tolerance_item(self, row: int, column: int) -> QTableWidgetItem:
        item = self.tolerance_table.item(row, column)
        assert item is not None  # every cell is filled when the table is built
        return item

    # ------------------------------------------------------------------ page protocol
    def is_complete(self) -> bool:
        """Complete once an evaluation result is stored in the document.

        Cached: ``doc.evaluation`` returns a deep copy, too costly for every step refresh.
        """
        return self.state.has_result

    @property
    def running(self) -> bool:
        return self.tasks.running(WORK)

    # ------------------------------------------------------------------ per-document state
    @property
    def state(self) -> DataDocumentState:
        return self.ctx.session.page_state("data", DataDocumentState)

    @property
    def table(self) -> Any:
        return self.state.table

    @table.setter
    def table(self, value: Any) -> None:
        self.state.table = value

    @property
    def path(self) -> Path | None:
        return self.state.path

    @path.setter
    def path(self, value: Path | None) -> None:
        self.state.path = value

    @property
    def issues(self) -> list[Any]:
        return self.state.issues

    @issues.setter
    def issues(self, value: list[Any]) -> None:
        self.state.issues = value

    # ------------------------------------------------------------------ file loading
    def choose_file(self) -> None:
        path = self.ctx.ask_open_path("Open validation data", DATA_FILTER)
        if path is not None:
            self.load_file(str(path))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if any(u.isLocalFile() and is_data_file(u.toLocalFile()) for u in urls):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        for url in event.mimeData().urls():
            if url.isLocalFile() and is_data_file(url.toLocalFile()):
                event.acceptProposedAction()
                self.load_file(url.toLocalFile())
                return
        event.ignore()

    def load_file(self, path: str, sheet: str | None = None) -> None:
        """Read ``path`` in a worker; the preview and the suggested mapping follow.

        Everything that scans the table (reading, guessing the mapping, listing each column's
        values for the choosers) happens in the worker, so a million-row file never stalls
        the window.
        """
        target = Path(path)
        pending = self.state.pending_config
        self.state.auto_reopen = False  # the reviewer's own choice wins over the stored file
        limits = self.read_limits()

        def work(progress: Any, cancelled: Any) -> _Loaded:
            from assessment.errors import Cancelled
            from assessment.evaluation.io import (
                ColumnMapping,
                list_sheets,
                read_table,
                suggest_mapping,
            )

            sheets: list[str] = []
            if target.suffix.lower() == ".xlsx":
                sheets = list_sheets(target, limits)
            table = read_table(target, sheet=sheet, limits=limits)
            if cancelled():
                raise Cancelled()
            progress(0.6)
            mapping = None
            if pending and pending.get("sha256") == table.sha256 and pending.get("mapping"):
                mapping = ColumnMapping.from_json(pending["mapping"])
            if mapping is None:
                mapping = suggest_mapping(table)
            values = distinct_values(table)
            return _Loaded(target, table, sheets, mapping, values)

        self.status.setText(f"Reading {target.name}…")
        self._start_job("load", work, self._loaded,
                        on_failed=lambda exc: self._offer_raised_limit(exc, path, sheet))

    def read_limits(self) -> Any:
        """The read limits (assessment.evaluation.limits), as stored in the settings."""
        from assessment.evaluation.limits import ReadLimits

        settings = getattr(self.ctx, "settings", None)
        return ReadLimits.from_json(settings.get("read_limits") if settings else None)

    def _offer_raised_limit(self, exc: BaseException, path: str, sheet: str | None) -> bool:
        """A file over a read limit: say which, and offer to raise it and read again.

        Returns True when the reviewer chose (the error needs no second dialog)."""
        from assessment.evaluation.limits import LimitError

        if not isinstance(exc, LimitError):
            return False
        limits = self.read_limits()
        current = getattr(limits, exc.limit)
        raised = limits.raised(exc.limit, exc.needed if exc.needed else current * 4)
        question = (f"{exc.message}\n\nRaise this limit to {getattr(raised, exc.limit):,g} "
                    "and read the file again? A very large file can take minutes and "
                    "gigabytes of memory.")
        if not self.ctx.ask_yes_no("Data file over a limit", question):
            self.status.setText("The file was not read: " + exc.message)
            return True
        settings = getattr(self.ctx, "settings", None)
        if settings is not None:
            settings.set("read_limits", raised.to_json())
        self.load_file(path, sheet)
        return True

    def _sheet_chosen(self) -> None:
        if self.path is not None and self.table is not None:
            sheet = self.sheet_combo.currentText()
            if sheet and sheet != self.table.sheet:
                self.load_file(str(self.path), sheet)

    def _loaded(self, loaded: _Loaded) -> None:
        table = loaded.table
        self.table, self.path = table, loaded.path
        self.state.value_cache = dict(loaded.values)
        self.preview_model.set_frame(table.frame)
        self.preview_stack.setCurrentWidget(self.preview)
        self.reopen_button.setVisible(False)
        self.preview_model.fit_columns(self.preview, sample=100, max_width=220)
        where = f", sheet {table.sheet}" if table.sheet else ""
        self.file_label.setText(
            f"{table.file_name}{where} — {table.rows_read:,} rows × {len(table.columns)} columns"
        )
        self.file_label.setToolTip(plain_tooltip(f"{loaded.path}\nSHA-256 {table.sha256}"))
        self.sheet_combo.blockSignals(True)
        self.sheet_combo.clear()
        self.sheet_combo.addItems(loaded.sheets)
        if table.sheet:
            self.sheet_combo.setCurrentText(table.sheet)
        self.sheet_combo.blockSignals(False)
        self.set_mapping(loaded.mapping)
        pending = self.state.pending_config
        if pending and pending.get("sha256") == table.sha256 and pending.get("spec"):
            self._apply_spec(pending["spec"])  # the stored run's intersections and reference
        status = f"Loaded {table.file_name}. Check the mapping, then run."
        if len(loaded.sheets) > 1:  # the first sheet is rarely known to be the data
            status = (f"Loaded sheet “{table.sheet}” of {table.file_name}, which has "
                      f"{len(loaded.sheets)} sheets; choose another under Sheet if this is not "
                      "the validation data.")
        self.status.setText(status)
        self.table_loaded.emit()
        self._update_state()

    # ------------------------------------------------------------------ mapping form
    def _column_values(self, column: str) -> list[str]:
        """Distinct values of a column, most frequent first (computed by the load worker)."""
        return self.state.value_cache.get(column, [])

    def set_mapping(self, mapping: Any) -> None:
        """Show ``mapping`` in the form (auto-detected, restored or set by a test)."""
        self._updating = True
        try:
            columns = self.table.columns if self.table is not None else []
            for combo in (self.outcome_combo, self.score_combo, self.cluster_combo):
                combo.clear()
                combo.addItem(NONE_CHOICE, None)
                for c in columns:
                    combo.addItem(c, c)
            self._select(self.outcome_combo, mapping.label or None)
            self._select(self.cluster_combo, getattr(mapping, "cluster", None))
            kind = mapping.kind
            self.output_kind.setCurrentIndex(self.output_kind.findData(kind))
            self._select(self.score_combo, mapping.prediction if kind == "class" else mapping.score)
            self._fill_positive_choices(select=mapping.positive)
            self._fill_pred_positive_choices(select=mapping.prediction_positive)
            threshold = mapping.effective_threshold
            self.threshold_spin.setValue(0.5 if threshold is None else float(threshold))
            self.attr_list.clear()
            chosen = set(mapping.attributes)
            for c in columns:
                item = QListWidgetItem(c)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                checked = c in chosen
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
                self.attr_list.addItem(item)
            self.bins_edit.setText(
                "; ".join(
                    f"{k}: {', '.join(_num(e) for e in v)}" for k, v in mapping.bins.items()
                )
            )
            self.missing_edit.setText(", ".join(m if m else "(empty)" for m in mapping.missing))
        finally:
            self._updating = False
        _fit_list_height(self.attr_list, 8)
        self._kind_changed(check=False)
        self._attributes_changed()

    @staticmethod
    def _select(combo: QComboBox, value: str | None) -> None:
        idx = combo.findData(value) if value is not None else 0
        combo.setCurrentIndex(max(idx, 0))

    def _fill_positive_choices(self, *_: Any, select: str | None = None) -> None:
        column = self.outcome_combo.currentData()
        current = select if select is not None else self.positive_combo.currentData()
        self.positive_combo.blockSignals(True)
        self.positive_combo.clear()
        self.positive_combo.addItem("(automatic: 1 / yes / true)", None)
        if column and self.table is not None:
            for v in self._column_values(column)[:50]:
                self.positive_combo.addItem(v, v)
        self._select(self.positive_combo, current)
        self.positive_combo.blockSignals(False)

    def _fill_pred_positive_choices(self, *_: Any, select: str | None = None) -> None:
        column = self.score_combo.currentData()
        current = select if select is not None else self.pred_positive_combo.currentData()
        self.pred_positive_combo.blockSignals(True)
        self.pred_positive_combo.clear()
        self.pred_positive_combo.addItem("(same as the outcome's)", None)
        if column and self.table is not None and self.output_kind.currentData() == "class":
            for v in self._column_values(column)[:50]:
                self.pred_positive_combo.addItem(v, v)
        self._select(self.pred_positive_combo, current)
        self.pred_positive_combo.blockSignals(False)

    def _kind_changed(self, *_: Any, check: bool = True) -> None:
        is_class = self.output_kind.currentData() == "class"
        self.score_label.setText("Predicted-&class column:" if is_class else "&Score column:")
        self.pred_positive_label.setVisible(is_class)
        self.pred_positive_combo.setVisible(is_class)
        self.threshold_label.setVisible(not is_class)
        self.threshold_spin.setVisible(not is_class)
        if self.output_kind.currentData() == "probability":
            self.threshold_spin.setRange(0.0, 1.0)  # a probability threshold lies in [0, 1]
        else:
            self.threshold_spin.setRange(-1e9, 1e9)
        if is_class:
            self._fill_pred_positive_choices()
        if check:
            self._form_changed()

    def _attributes_changed(self, *_: Any) -> None:
        if self._updating:
            return
        attrs = self.selected_attributes()
        # Intersections: every 2- and 3-way combination of the chosen attributes.
        checked = {
            self.intersection_list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.intersection_list.count())
            if self.intersection_list.item(i).checkState() == Qt.CheckState.Checked
        }
        self.intersection_list.clear()
        for k in (2, 3):
            for combo in itertools.combinations(attrs, k):
                item = QListWidgetItem(" × ".join(combo))
                item.setData(Qt.ItemDataRole.UserRole, combo)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(
                    Qt.CheckState.Checked if combo in checked else Qt.CheckState.Unchecked
                )
                self.intersection_list.addItem(item)
        _fit_list_height(self.intersection_list, 6)
        self._rebuild_reference_values()
        self._form_changed()

    def selected_attributes(self) -> list[str]:
        return [
            self.attr_list.item(i).text()
            for i in range(self.attr_list.count())
            if self.attr_list.item(i).checkState() == Qt.CheckState.Checked
        ]

    def set_attributes(self, names: list[str]) -> None:
        """Check exactly ``names`` in the attribute list (keyboard users and tests)."""
        self._updating = True
        for i in range(self.attr_list.count()):
            item = self.attr_list.item(i)
            item.setCheckState(
                Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked
            )
        self._updating = False
        self._attributes_changed()

    def set_intersections(self, combos: list[tuple[str, ...]]) -> None:
        wanted = {tuple(c) for c in combos}
        for i in range(self.intersection_list.count()):
            item = self.intersection_list.item(i)
            combo = tuple(item.data(Qt.ItemDataRole.UserRole))
            item.setCheckState(
                Qt.CheckState.Checked if combo in wanted else Qt.CheckState.Unchecked
            )

    def _reference_kind_changed(self, *_: Any) -> None:
        self.reference_values.setVisible(self.reference_combo.currentData() == "value")
        self._rebuild_reference_values()

    def _rebuild_reference_values(self) -> None:
        previous = {a: c.currentText() for a, c in self.reference_value_combos.items()}
        while self.reference_values_form.rowCount():
            self.reference_values_form.removeRow(0)
        self.reference_value_combos = {}
        if self.table is None or self.reference_combo.currentData() != "value":
            return
        for attr in self.selected_attributes():
            if attr not in self.table.columns:
                continue
            combo = QComboBox()
            combo.addItem("(largest group)")
            combo.addItems(self._column_values(attr)[:100])
            if attr in previous:
                combo.setCurrentText(previous[attr])
            self.reference_value_combos[attr] = combo
            self.reference_values_form.addRow(f"{attr}:", combo)

    def current_mapping(self) -> Any:
        """The form as a :class:`ColumnMapping` (bin edges parsed by the engine's parser)."""
        from assessment.errors import DataError
        from assessment.evaluation.io import ColumnMapping, parse_bins

        kind = self.output_kind.currentData()
        column = self.score_combo.currentData()
        bins: dict[str, list[float]] = {}
        for part in self.bins_edit.text().split(";"):
            if not part.strip():
                continue
            name, sep, edges = part.partition(":")
            if not sep or not name.strip():
                raise DataError(
                    f"Write bin edges as 'column: 30, 50, 70' (got {part.strip()!r})."
                )
            bins[name.strip()] = parse_bins(edges)
        missing = [
            "" if m.strip() == "(empty)" else m.strip()
            for m in self.missing_edit.text().split(",")
        ]
        return ColumnMapping(
            label=self.outcome_combo.currentData() or "",
            positive=self.positive_combo.currentData(),
            score=column if kind != "class" else None,
            score_kind="score" if kind == "score" else "probability",
            prediction=column if kind == "class" else None,
            prediction_positive=self.pred_positive_combo.currentData() if kind == "class" else None,
            threshold=float(self.threshold_spin.value()) if kind != "class" else None,
            attributes=self.selected_attributes(),
            bins=bins,
            missing=list(dict.fromkeys(missing)),
            cluster=self.cluster_combo.currentData(),
        )

    def current_spec(self) -> Any:
        """The settings as an :class:`EvaluationSpec`, with the document's demographics."""
        from assessment.evaluation.spec import EvaluationSpec, ReferenceSpec

        intersections = tuple(
            tuple(self.intersection_list.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.intersection_list.count())
            if self.intersection_list.item(i).checkState() == Qt.CheckState.Checked
        )
        values = {
            attr: combo.currentText()
            for attr, combo in self.reference_value_combos.items()
            if combo.currentIndex() > 0
        }
        kind = self.reference_combo.currentData()
        training: dict[str, dict[str, float]] = {}
        population: dict[str, dict[str, float]] = {}
        if getattr(self.ctx, "has_document", False):
            training, population = document_demographics(self.ctx.doc)
        kind_choice = self.output_kind.currentData()
        from assessment.evaluation.representativeness import suggest_demographics_map

        attributes = list(self.current_mapping().attributes) if self.table is not None else []
        demographics_map = suggest_demographics_map(attributes, {**population, **training})
        demographics_map.update(
            {a: t for a, t in self.state.stored_demographics_map.items() if a in attributes}
        )
        return EvaluationSpec(
            threshold=float(self.threshold_spin.value()) if kind_choice != "class" else 0.5,
            intersections=intersections,
            reference=ReferenceSpec(kind=kind, values=values if kind == "value" else {}),
            bootstrap=int(self.bootstrap_spin.value()),
            seed=int(self.seed_spin.value()),
            min_n=int(self.min_n_spin.value()),
            min_events=int(self.min_events_spin.value()),
            tolerances=self.tolerances(),
            multiplicity=self.multiplicity_combo.currentData(),
            training_demographics=training,
            reference_population=population,
            demographics_map=demographics_map,
        )

    def _apply_spec(self, spec: dict[str, Any]) -> None:
        """Restore stored settings (threshold, reference, B, seed, minimums) into the form."""
        self.bootstrap_spin.setValue(int(spec.get("bootstrap", DEFAULT_BOOTSTRAP)))
        self.seed_spin.setValue(int(spec.get("seed", DEFAULT_SEED)))
        self.min_n_spin.setValue(int(spec.get("min_n", DEFAULT_MIN_N)))
        self.min_events_spin.setValue(int(spec.get("min_events", DEFAULT_MIN_EVENTS)))
        self.set_tolerances(spec.get("tolerances") or {})
        self.multiplicity_combo.setCurrentIndex(
            max(self.multiplicity_combo.findData(spec.get("multiplicity", "holm")), 0)
        )
        ref = spec.get("reference") or {}
        idx = self.reference_combo.findData(ref.get("kind", "largest"))
        self.reference_combo.setCurrentIndex(max(idx, 0))
        self._reference_kind_changed()
        for attr, value in (ref.get("values") or {}).items():
            if attr in self.reference_value_combos:
                self.reference_value_combos[attr].setCurrentText(str(value))
        self.set_intersections([tuple(c) for c in spec.get("intersections") or []])
        self.state.stored_demographics_map = {
            str(k): str(v) for k, v in (spec.get("demographics_map") or {}).items()
        }

    # ------------------------------------------------------------------ inline validation
    def _form_changed(self, *_: Any) -> None:
        if self._updating or self.table is None:
            return
        self._check_timer.start()
        self._update_state()

    def _start_check(self) -> None:
        """Check the mapping in a worker (a million-row check takes longer than a frame)."""
        if self.table is None:
            return
        try:
            mapping = self.current_mapping()
        except Exception as exc:  # DataError from the bin parser
            self._show_issues([_FormIssue(None, getattr(exc, "message", str(exc)))])
            return
        table = self.table

        def work(progress: Any, cancelled: Any) -> list[Any]:
            from assessment.evaluation.io import check_mapping

            return check_mapping(table, mapping)

        def failed(exc: BaseException) -> None:
            self._show_issues([_FormIssue(None, getattr(exc, "message", str(exc)))])

        # A newer edit's check cancels this one: its answer is never shown.
        self.tasks.run(work, self._show_issues, on_error=failed, lane=CHECK, quiet=True)

    def check_now(self) -> list[Any]:
        """Check synchronously (tests; small tables) and show the messages."""
        from assessment.evaluation.io import check_mapping

        self._check_timer.stop()
        self.tasks.cancel(CHECK)  # a check still running in a worker is now out of date
        issues: list[Any]
        try:
            issues = check_mapping(self.table, self.current_mapping())
        except Exception as exc:
            issues = [_FormIssue(None, getattr(exc, "message", str(exc)))]
        self._show_issues(issues)
        return issues

    def _show_issues(self, issues: list[Any]) -> None:
        self.issues = list(issues)
        mapping_cols = {
            "outcome": {self.outcome_combo.currentData()},
            "score": {self.score_combo.currentData()},
            "attr": set(self.selected_attributes()),
        }
        buckets: dict[QLabel, list[Any]] = {
            self.outcome_msg: [], self.score_msg: [], self.attr_msg: [], self.general_msg: []
        }
        for issue in self.issues:
            col = issue.column
            if col is not None and col in mapping_cols["outcome"]:
                buckets[self.outcome_msg].append(issue)
            elif col is not None and col in mapping_cols["score"]:
                buckets[self.score_msg].append(issue)
            elif col is not None and col in mapping_cols["attr"]:
                buckets[self.attr_msg].append(issue)
            else:
                buckets[self.general_msg].append(issue)
        for label, items in buckets.items():
            _set_messages(label, items)
        self._update_state()
        self.check_finished.emit()

    def has_errors(self) -> bool:
        return any(getattr(i, "severity", "error") == "error" for i in self.issues)

    # ------------------------------------------------------------------ running
    def run_evaluation(self) -> None:
        """Prepare the input and evaluate in a worker; the result goes into the document."""
        if self.table is None:
            self.ctx.show_error(_data_error("Load a validation data file first."))
            return
        try:
            mapping = self.current_mapping()
            spec = self.current_spec()
        except Exception as exc:
            self.ctx.show_error(exc)
            return
        table = self.table
        path = self.path

        def work(progress: Any, cancelled: Any) -> tuple[Any, Any, dict[str, Any]]:
            from assessment.errors import Cancelled
            from assessment.evaluation.engine import evaluate
            from assessment.evaluation.io import prepare_input

            inputs = prepare_input(table, mapping)
            if cancelled():
                raise Cancelled()
            progress(0.05)
            result = evaluate(
                inputs, spec,
                progress=lambda f: progress(0.05 + 0.93 * float(f)),
                cancelled=cancelled,
            )
            snapshot = result.to_json()
            progress(1.0)
            return inputs, spec, snapshot

        from assessment.evaluation.record import evaluation_config

        config = evaluation_config(table, mapping, spec, path)
        self.progress.setValue(0)
        self.status.setText("Evaluating…")
        self._start_job("evaluate", work, lambda out: self._evaluated(config, *out))

    def _evaluated(self, config: dict[str, Any], inputs: Any, spec: Any,
                   snapshot: dict[str, Any]) -> None:
        self.session.set_run(inputs, spec, snapshot)  # the results page draws this snapshot
        self.state.pending_config = config
        if getattr(self.ctx, "has_document", False):
            # Listeners that already have the snapshot skip re-reading (a deep copy) from doc.
            self.session.storing = True
            try:
                store_evaluation(self.ctx.doc, config, snapshot)
            finally:
                self.session.storing = False
            self.state.has_result = True
        prov = snapshot.get("provenance") or {}
        excluded = prov.get("rows_excluded", 0)
        self.status.setText(
            f"Done: {prov.get('rows_used', 0):,} rows evaluated, {excluded:,} excluded, "
            f"{len(snapshot.get('groups') or [])} groups. See Subgroup results."
        )
        self.progress.setValue(1000)
        self.evaluation_finished.emit()
        self.completion_changed.emit()

    def cancel(self) -> None:
        if self.running:
            self.tasks.cancel(WORK)
            self.status.setText("Cancelling…")

    def _start_job(self, kind: str, fn: Any, on_done: Any, on_failed: Any = None) -> None:
        """Run a long step ("load" or "evaluate") in the work lane (a new one cancels the old).

        ``on_failed(exc)`` may handle an error itself (returning True) instead of the dialog."""

        def done(out: Any) -> None:
            try:
                on_done(out)
            finally:
                self._after_job()

        def failed(exc: BaseException) -> None:
            if kind == "evaluate":
                self.status.setText("The evaluation stopped; nothing was changed.")
                self.progress.setValue(0)
                self.evaluation_failed.emit(exc)
            elif kind == "load":
                self.status.setText("The file could not be read.")
            if on_failed is None or not on_failed(exc):
                self.ctx.show_error(exc)
            self._after_job()

        def cancelled() -> None:
            if self.tasks.running(WORK):  # replaced by a newer step: it reports for itself
                return
            if kind == "evaluate":
                self.status.setText("Evaluation cancelled; the previous result is kept.")
                self.progress.setValue(0)
                self.evaluation_cancelled.emit()
            elif kind == "load":
                self.status.setText("Loading cancelled.")
            self._after_job()

        def progressed(value: float) -> None:
            if kind == "evaluate":
                self.progress.setValue(int(value * 1000))

        self.progress.setRange(0, 1000 if kind == "evaluate" else 0)
        self.tasks.run(fn, done, on_progress=progressed, on_error=failed,
                       on_cancelled=cancelled, lane=WORK)
        self._update_state()

    def _after_job(self) -> None:
        self.progress.setRange(0, 1000)
        self._update_state()

    def _update_state(self) -> None:
        running = self.running
        has_table = self.table is not None
        self.open_button.setEnabled(not running)
        self.run_button.setEnabled(has_table and not running and not self.has_errors())
        self.cancel_button.setEnabled(running)
        self.cancel_button.setVisible(True)
        self.sheet_label.setVisible(self.sheet_combo.count() > 1)
        self.sheet_combo.setVisible(self.sheet_combo.count() > 1)
        for w in (self.outcome_combo, self.positive_combo, self.output_kind, self.score_combo,
                  self.pred_positive_combo, self.cluster_combo, self.threshold_spin,
                  self.attr_list, self.bins_edit, self.missing_edit, self.reference_combo,
                  self.reference_values,
                  self.intersection_list, self.bootstrap_spin, self.seed_spin, self.min_n_spin,
                  self.min_events_spin, self.tolerance_table, self.multiplicity_combo):
            w.setEnabled(has_table and not running)

    # ------------------------------------------------------------------ document
    def _document_changed(self, path: str) -> None:
        if path.startswith("evaluation") and not self.session.storing:  # undo/redo
            self.state.has_result = bool((self.ctx.doc.evaluation or {}).get("result"))

    def _reset_form(self) -> None:
        """Every widget back to a new document's defaults; work for the old one is dropped.

        The per-document state (file, mapping, values, issues) is already fresh: the session
        dropped the old one. A load or evaluation still running belonged to the previous
        document: it is cancelled and its result never delivered.
        """
        self.tasks.discard()  # loads, evaluations and checks of the previous document: dropped
        self._check_timer.stop()
        self._updating = True
        try:
            self.preview_model.set_frame(None)
            self.preview_stack.setCurrentWidget(self.placeholder)
            self.file_label.setText("No data file loaded.")
            self.file_label.setToolTip("")
            self.sheet_combo.clear()
            for combo in (self.outcome_combo, self.score_combo, self.positive_combo,
                          self.pred_positive_combo, self.cluster_combo):
                combo.clear()
            self.output_kind.setCurrentIndex(0)
            self.threshold_spin.setValue(DEFAULT_THRESHOLD)
            self.attr_list.clear()
            self.bins_edit.clear()
            self.missing_edit.clear()
            self.reference_combo.setCurrentIndex(0)
            self.intersection_list.clear()
            self.bootstrap_spin.setValue(DEFAULT_BOOTSTRAP)
            self.seed_spin.setValue(DEFAULT_SEED)
            self.min_n_spin.setValue(DEFAULT_MIN_N)
            self.min_events_spin.setValue(DEFAULT_MIN_EVENTS)
            self.set_tolerances({})
            self.multiplicity_combo.setCurrentIndex(0)
            for label in (self.outcome_msg, self.score_msg, self.attr_msg, self.general_msg):
                _set_messages(label, [])
            self.status.setText("")
            self.progress.setRange(0, 1000)
            self.progress.setValue(0)
        finally:
            self._updating = False
        self._reference_kind_changed()
        _fit_list_height(self.attr_list, 8)
        _fit_list_height(self.intersection_list, 6)
        self._kind_changed(check=False)

    def _document_replaced(self) -> None:
        """Show what the new document holds, and nothing of the previous one."""
        self._reset_form()
        evaluation = self.ctx.doc.evaluation or {}
        self.state.has_result = bool(evaluation.get("result"))
        config = evaluation.get("config") or None
        self.state.pending_config = config
        if config and config.get("spec"):
            self._apply_spec(config["spec"])
        if config and self.table is None:
            self.status.setText(
                f"The stored evaluation used {config.get('file_name', 'a data file')}; open it "
                "again to re-run or to move the threshold with live metrics."
            )
        self.state.stored_candidates = stored_file_candidates(
            config, getattr(self.ctx, "path", None), _demo_folder()
        )
        self.state.auto_reopen = bool(self.state.stored_candidates) and self.table is None
        first = self.state.stored_candidates[0] if self.state.stored_candidates else None
        self.reopen_button.setText(f"Load {first.name}" if first else "")
        self.reopen_button.setToolTip(plain_tooltip(
            f"{first}\nLoaded only if its SHA-256 matches the stored evaluation's." if first else ""
        ))
        self.reopen_button.setVisible(first is not None and self.table is None)
        self._update_state()
        if self.state.auto_reopen and self.isVisible():
            self._reopen_stored_file(auto=True)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Load the stored evaluation's data file the first time the page is shown.

        Only a file whose SHA-256 matches the stored one is loaded without asking; the demo
        thereby opens complete (its parquet file sits in the bundled demo folder).
        """
        super().showEvent(event)
        if self.state.auto_reopen and self.table is None and not self.running:
            self._reopen_stored_file(auto=True)

    def _reopen_clicked(self) -> None:
        self._reopen_stored_file(auto=False)

    def _reopen_stored_file(self, auto: bool = False) -> None:
        """Find the stored evaluation's file (stored path, beside the .probity, bundled demo),
        verify its SHA-256 in a worker, then load it; a file that differs is loaded only when the
        reviewer agrees after being told."""
        self.state.auto_reopen = False
        config = self.state.pending_config or {}
        candidates = list(self.state.stored_candidates)
        expected = str(config.get("sha256") or "")
        sheet = config.get("sheet")
        if not candidates:
            return

        def work(progress: Any, cancelled: Any) -> tuple[Path | None, list[tuple[Path, str]]]:
            from assessment.errors import Cancelled, DataError

            differing: list[tuple[Path, str]] = []
            for candidate in candidates:
                if cancelled():
                    raise Cancelled()
                try:
                    digest = file_sha256(candidate)
                except (OSError, DataError):  # unreadable or refused: try the next place
                    continue
                if digest == expected:
                    return candidate, differing
                differing.append((candidate, digest))
            return None, differing

        def verified(out: tuple[Path | None, list[tuple[Path, str]]]) -> None:
            match, differing = out
            if match is not None:
                self.load_file(str(match), sheet)
                return
            if not differing:
                self.status.setText(f"{candidates[0].name} could not be read; use Open data file.")
                return
            path, digest = differing[0]
            text = (
                f"{path} has SHA-256 {digest[:16]}…, but the stored evaluation used a file with "
                f"SHA-256 {expected[:16]}…. It is a different file; results from it will not "
                "match the stored evaluation."
            )
            if auto:
                self.status.setText(text + " Use the Load button to load it anyway.")
                return
            if self.ctx.ask_yes_no("Different data file", text + "\n\nLoad it anyway?"):
                self.load_file(str(path), sheet)
            else:
                self.status.setText("Nothing was loaded. " + text)

        self.status.setText(f"Checking {candidates[0].name}…")
        self._start_job("load", work, verified)


def _demo_folder() -> Path | None:
    """The bundled demo folder (resources/demo), where the demo's data file ships."""
    from importlib.resources import files

    folder = files("resources").joinpath("demo")
    return Path(str(folder)) if folder.is_dir() else None


def stored_file_candidates(
    config: dict[str, Any] | None, document_path: Path | None, demo_folder: Path | None
) -> list[Path]:
    """Existing files that may be the stored evaluation's data file, most likely first.

    The stored path (absolute, or relative to the open .probity file), then a file with the same
    name beside the .probity file, then one in the bundled demo folder. Only existence is
    checked here; the caller verifies the SHA-256 before trusting any of them.
    """
    if not config:
        return []
    stored = str(config.get("file") or "")
    name = str(config.get("file_name") or Path(stored).name or "")
    folder = document_path.parent if document_path is not None else None
    raw: list[Path] = []
    if stored:
        path = Path(stored)
        if path.is_absolute():
            raw.append(path)
        elif folder is not None:
            raw.append(folder / path)
    if name and Path(name).name == name:  # a bare file name, never a path from the document
        if folder is not None:
            raw.append(folder / name)
        if demo_folder is not None:
            raw.append(demo_folder / name)
    out: list[Path] = []
    for path in raw:
        try:
            resolved = path.resolve()
            exists = resolved.is_file()
        except OSError:
            continue
        if exists and resolved not in out:
            out.append(resolved)
    return out


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` literally: Qt renders a tooltip that looks like HTML as
    HTML, and file paths come from the reviewer's disk."""
    if not text:
        return ""
    return f"<p style='white-space:pre-wrap'>{html.escape(text, quote=False)}</p>"


def file_sha256(path: Path) -> str:
    """SHA-256 of a data file's bytes, through read_table's checks (a regular file within
    the size limit: a stored path that now names a FIFO or /dev/zero cannot hang the page)."""
    from assessment.evaluation.io import file_sha256 as guarded

    return guarded(path)


MAX_CHOICES = 200


@dataclass(frozen=True)
class _Loaded:
    """What the load worker hands to the UI thread."""

    path: Path
    table: Any
    sheets: list[str]
    mapping: Any
    values: dict[str, list[str]]


def distinct_values(table: Any, limit: int = MAX_CHOICES) -> dict[str, list[str]]:
    """Per column, its values exactly as the mapping compares them, most frequent first.

    The engine's ``distinct_values`` decides the spelling ("1" for 1.0, missing tokens left
    out), so a chosen positive value or reference group always matches. Runs in the load
    worker; a column the engine cannot resolve (a duplicated header) simply gets no list.
    """
    from assessment.errors import DataError
    from assessment.evaluation.mapping import distinct_values as engine_values

    out: dict[str, list[str]] = {}
    for name in table.columns:
        try:
            out[name] = [text for text, _count in engine_values(table, name, limit=limit)]
        except DataError:
            continue
    return out


class _FormIssue:
    """A form-level problem found before the engine could look (e.g. malformed bin edges)."""

    def __init__(self, column: str | None, message: str, severity: str = "error") -> None:
        self.column, self.message, self.severity = column, message, severity


def _data_error(message: str) -> Exception:
    from assessment.errors import DataError

    return DataError(message)


def _set_messages(label: QLabel, issues: list[Any]) -> None:
    if not issues:
        label.setVisible(False)
        label.setText("")
        return
    worst = "info"
    for i in issues:
        if i.severity == "error":
            worst = "error"
        elif i.severity == "warning" and worst != "error":
            worst = "warning"
    marks = {"error": "✖", "warning": "⚠", "info": "ℹ"}
    label.setText("\n".join(f"{marks.get(i.severity, '•')} {_gui_wording(i.message)}"
                            for i in issues))
    label.setStyleSheet({"error": ERROR_STYLE, "warning": WARNING_STYLE}.get(worst, INFO_STYLE))
    label.setVisible(True)


def _fit_list_height(widget: QListWidget, max_rows: int) -> None:
    """Show up to ``max_rows`` items without a scroll bar; longer lists scroll."""
    rows = max(1, min(widget.count(), max_rows))
    row_height = widget.sizeHintForRow(0) if widget.count() else widget.fontMetrics().height() + 4
    widget.setFixedHeight(rows * max(row_height, 16) + 2 * widget.frameWidth() + 4)


_CLI_HINT = re.compile(r"\s*\((?:use )?--[a-z][a-z-]*(?: [A-Z]+)?\)")


def _gui_wording(message: str) -> str:
    """The engine's messages also serve the CLI; drop a trailing "(--positive VALUE)" hint,
    which names a command-line option the form shows as a field."""
    return _CLI_HINT.sub("", message)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))
