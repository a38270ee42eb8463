"""Validation data page: load a file, map its columns, set up and run the subgroup evaluation.

Everything that decides anything lives in :mod:`assessment.evaluation` — reading and sniffing the
file (``read_table``), guessing the mapping (``suggest_mapping``), judging it
(``check_mapping``), preparing arrays (``prepare_input``) and computing (``evaluate``). This page
binds widgets to a :class:`ColumnMapping` and an :class:`EvaluationSpec` and runs the slow steps
(reading, checking a big table, evaluating) through the page's own task runner (:mod:`gui.tasks`),
so the window never stalls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from assessment.evaluation.record import store_evaluation
from gui.data.files import (  # noqa: F401 - names other modules and tests import from here
    DataFileLoading,
    _demo_folder,
    check_cells,
    file_sha256,
    is_data_file,
    plain_tooltip,
    stored_file_candidates,
)
from gui.data.form import CHECK, MappingForm  # noqa: F401 - CHECK: the page's check lane
from gui.data.parts import _fit_list_height, _gui_wording, _set_messages
from gui.data.session import EvaluationSession
from gui.data.settings import (  # noqa: F401 - the defaults are part of the page's interface
    DEFAULT_BOOTSTRAP,
    DEFAULT_MIN_EVENTS,
    DEFAULT_MIN_N,
    DEFAULT_SEED,
    SettingsForm,
)
from gui.data.table_model import DataFrameModel
from gui.data.threshold import DEFAULT_THRESHOLD
from gui.steps import PageDefaults

CHECK_DELAY_MS = 250
WORK = "work"  # the page's task lane for reading files and evaluating


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
    # The threshold suggested for a raw score (ThresholdSuggestion), shown under the box.
    threshold_suggestion: Any = None


class ValidationDataPage(DataFileLoading, MappingForm, SettingsForm, PageDefaults, QWidget):
    """Step "Validation data": file, preview, column mapping, evaluation settings, Run.

    The data file (:mod:`gui.data.files`) and the form (:mod:`gui.data.form`) are mixins
    sharing this page's widgets; the page itself lays them out and runs the evaluation.
    """

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
        self.session.rerun_requested.connect(self.run_at_threshold)
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


    # ------------------------------------------------------------------ mapping form


    # ------------------------------------------------------------------ inline validation


    # ------------------------------------------------------------------ running
    def run_evaluation(self) -> None:
        """Prepare the input and evaluate in a worker; the result goes into the document."""
        if self.table is None:
            self.ctx.show_error(_data_error("Load a validation data file first."))
            return
        if not self.threshold_ready():
            from assessment.evaluation.mapping import THRESHOLD_NEEDED

            self.ctx.show_error(_data_error(_gui_wording(THRESHOLD_NEEDED)))
            return
        try:
            mapping = self.current_mapping()
            spec = self.current_spec()
        except Exception as exc:
            self.ctx.show_error(exc)
            return
        table = self.table
        path = self.path
        cells = int(self.read_limits().max_group_cells)

        def work(progress: Any, cancelled: Any) -> tuple[Any, Any, dict[str, Any]]:
            from assessment.errors import Cancelled
            from assessment.evaluation.engine import evaluate
            from assessment.evaluation.io import prepare_input

            inputs = prepare_input(table, mapping)
            check_cells(inputs, spec.intersections, cells)  # --max-group-cells, before any work
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
        self._start_job("evaluate", work, lambda out: self._evaluated(config, *out),
                        self._offer_raised_cells)

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
        self.run_button.setEnabled(
            has_table and not running and not self.has_errors() and self.threshold_ready()
        )
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
            self.state.has_result = self.ctx.doc.has_evaluation_result

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
        record = self.ctx.doc.evaluation
        self.state.has_result = self.ctx.doc.has_evaluation_result
        config = record.config_json() if record is not None else None
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



def _data_error(message: str) -> Exception:
    from assessment.errors import DataError

    return DataError(message)


