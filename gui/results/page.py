"""Subgroup results page: sortable tables, plots, a live threshold slider and table export.

Shows the evaluation snapshot stored in the document (``doc.evaluation.result``). Moving the
threshold recomputes the threshold-dependent metrics through the engine's fast path
(``point_metrics_at_threshold``) when the data of this run is still in memory, and otherwise
reads the snapshot's stored threshold grid. Intervals are only shown at the evaluated threshold:
the fast path gives point estimates, and pretending otherwise would mislead a reviewer.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.data.session import EvaluationSession
from gui.data.table_model import SORT_ROLE, DataFrameModel
from gui.results import frames
from gui.results.live import LiveThreshold
from gui.results.state import Event, ResultShown, ResultsViewModel, ThresholdMoved
from gui.results.views import (  # noqa: F401 - part of the page's interface
    EXPORT_FILTER,
    SLIDER_STEPS,
    ResultExport,
    ResultPlots,
)
from gui.steps import PageDefaults

if TYPE_CHECKING:
    from assessment.evaluation.result import EvaluationResult

PENDING = object()  # sentinel: live values are being computed in the worker
DEFAULT_METRIC = "auroc"


def _decimals(frame: Any) -> dict[str, int]:
    return {str(c): 0 for c in frame.columns if str(c) in ("n", "Events", "Validation n")}


class ResultsPage(LiveThreshold, ResultPlots, ResultExport, PageDefaults, QWidget):
    """Step "Subgroup results". Plots, labels, the slider's scale and the export are mixins
    (:mod:`gui.results.views`) sharing this page's widgets and state."""

    title = "Subgroup results"

    refreshed = Signal()  # tables and plots show the current result / threshold

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session = EvaluationSession.of(ctx)
        # The view-model holds what is shown (result, metric, attribute, threshold); widgets bind.
        self.vm = ResultsViewModel(DEFAULT_METRIC)
        self._binding = False  # True while the page sets widgets from the view-model
        self.live_source = ""  # "engine" | "grid" | "" (how the slider values were obtained)
        self._plots_built = False
        self._frames: dict[str, Any] = {}
        self._view_key: tuple[int, str] | None = None
        self._live_cache: dict[tuple[int, float], Any] = {}
        self._live_pending: tuple[int, float] | None = None
        self.tasks = ctx.task_runner(self)  # one lane: the threshold slider's fast path
        self._plot_request: Any = None
        self._curves_key: tuple[int, str | None] | None = None
        self._view_attribute: str | None = None
        self._build()
        self._slider_timer = QTimer(self)
        self._slider_timer.setSingleShot(True)
        self._slider_timer.setInterval(40)
        self._slider_timer.timeout.connect(self._apply_threshold)
        self._colours: dict[str, list[tuple[QColor | None, QColor | None]]] = {}
        ctx.document_replaced.connect(self._document_replaced)
        ctx.changed.connect(self._document_changed)
        self.session.result_changed.connect(self._session_result)
        self.vm.subscribe(self._on_event)
        if getattr(ctx, "has_document", False):
            self.reload()
        else:
            self._show_empty()

    # ------------------------------------------------------------------ the view-model
    @property
    def result(self) -> EvaluationResult | None:
        return self.vm.result

    @property
    def threshold(self) -> float | None:
        """The slider threshold; None = the evaluated one."""
        return self.vm.threshold

    @property
    def _result_serial(self) -> int:
        return self.vm.serial

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ResultShown):
            if event.result is None:
                self._show_empty()
                return
            self._fill_attributes()
            self._configure_slider()
        elif isinstance(event, ThresholdMoved):
            self._binding = True
            try:
                self.slider.setValue(self._to_slider(self.vm.shown_threshold or 0.0))
            finally:
                self._binding = False
            self._bind_box()
        self.refresh()

    def _selection_changed(self, *, user: bool = False) -> None:
        """A combo was picked (``user``: redraw even when the choice is unchanged); a combo set
        by code is taken over silently at the next redraw."""
        if self._binding:
            return
        metric, attribute = self.metric_combo.currentData(), self.attribute_combo.currentData()
        if not user:
            self.vm.take_over(metric, attribute)
        elif (metric, attribute) == (self.vm.metric, self.vm.attribute):
            self.refresh()
        else:
            self.vm.select(metric=metric, attribute=attribute)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.addWidget(QLabel(f"<h2>{self.title}</h2>"))
        self.source_label = QLabel("")
        self.source_label.setWordWrap(True)
        self.source_label.setTextFormat(Qt.TextFormat.PlainText)
        outer.addWidget(self.source_label)

        controls = QHBoxLayout()
        self.metric_combo = QComboBox()
        for metric_id in frames.METRIC_IDS:
            self.metric_combo.addItem(frames.metric_label(metric_id), metric_id)
        self.metric_combo.setCurrentIndex(self.metric_combo.findData(DEFAULT_METRIC))
        self.metric_combo.setAccessibleName("Metric")
        self.attribute_combo = QComboBox()
        self.attribute_combo.setAccessibleName("Attribute")
        self.attribute_combo.setMinimumContentsLength(14)
        metric_label = QLabel("&Metric:")
        metric_label.setBuddy(self.metric_combo)
        attr_label = QLabel("&Attribute:")
        attr_label.setBuddy(self.attribute_combo)
        controls.addWidget(metric_label)
        controls.addWidget(self.metric_combo)
        controls.addWidget(attr_label)
        controls.addWidget(self.attribute_combo)
        controls.addStretch(1)
        self.export_button = QPushButton("&Export tables…")
        controls.addWidget(self.export_button)
        outer.addLayout(controls)
        # The threshold row of its own: the page fits a 1024 × 768 screen.
        controls = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setAccessibleName("Decision threshold")
        self.slider.setMinimumWidth(160)
        slider_label = QLabel("&Threshold:")
        slider_label.setBuddy(self.slider)
        self.threshold_label = QLabel("")
        self.threshold_label.setMinimumWidth(56)
        self.reset_button = QPushButton("&Reset")
        self.reset_button.setToolTip("Back to the threshold the evaluation used")
        self.threshold_box = QDoubleSpinBox()
        self.threshold_box.setDecimals(4)
        self.threshold_box.setKeyboardTracking(False)  # a typed number counts on Enter
        self.threshold_box.setAccessibleName("Decision threshold value")
        self.threshold_box.setToolTip("Type a threshold; on a discrete score it shows the score "
                                      "value it is equivalent to (score ≥ threshold)")
        self.threshold_label.setVisible(False)  # the box shows the value; the label is kept
        self.rerun_button = QPushButton("Re-run with &intervals at this threshold")
        controls.addWidget(slider_label)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.threshold_box)
        controls.addWidget(self.reset_button)
        controls.addWidget(self.rerun_button)
        outer.addLayout(controls)
        self.threshold_note = QLabel("")
        self.threshold_note.setWordWrap(True)
        outer.addWidget(self.threshold_note)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.table_tabs = QTabWidget()
        self.models: dict[str, DataFrameModel] = {}
        self.proxies: dict[str, QSortFilterProxyModel] = {}
        self.views: dict[str, QTableView] = {}
        for key, label in (("groups", "Groups"), ("disparities", "Disparities"),
                           ("summary", "Summary measures"),
                           ("representativeness", "Representativeness"),
                           ("missingness", "Exclusions")):
            model = DataFrameModel(
                parent=self,
                background=partial(self._cell_colour, key, background=True),
                foreground=partial(self._cell_colour, key, background=False),
            )
            proxy = QSortFilterProxyModel(self)
            proxy.setSourceModel(model)
            proxy.setSortRole(SORT_ROLE)
            view = QTableView()
            view.setModel(proxy)
            view.setSortingEnabled(True)
            # Start in the engine's order (overall first, then groups); a click sorts.
            view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
            proxy.sort(-1)
            view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            view.setAlternatingRowColors(False)
            view.verticalHeader().setVisible(False)
            view.verticalHeader().setDefaultSectionSize(22)
            view.horizontalHeader().setStretchLastSection(True)
            view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
            view.setAccessibleName(f"{label} table")
            self.models[key], self.proxies[key], self.views[key] = model, proxy, view
            self.table_tabs.addTab(view, label)
        self.notes_view = QPlainTextEdit()
        self.notes_view.setReadOnly(True)
        self.notes_view.setAccessibleName("Notes on the evaluation")
        self.table_tabs.addTab(self.notes_view, "Notes")
        self.splitter.addWidget(self.table_tabs)
        self.plot_tabs = QTabWidget()
        self.splitter.addWidget(self.plot_tabs)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([300, 450])
        outer.addWidget(self.splitter, 1)

        self.metric_combo.activated.connect(lambda *_: self._selection_changed(user=True))
        self.attribute_combo.activated.connect(lambda *_: self._selection_changed(user=True))
        self.slider.valueChanged.connect(
            lambda *_: None if self._binding else self._slider_timer.start())
        self.reset_button.clicked.connect(self.reset_threshold)
        self.threshold_box.valueChanged.connect(lambda *_: self._box_committed())
        self.rerun_button.clicked.connect(self.rerun_at_threshold)
        self.export_button.clicked.connect(self.export_tables)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Build the plots when the page is first shown: pyqtgraph's import costs most of a
        second, which must not land on the moment a result arrives."""
        super().showEvent(event)
        if not self._plots_built:
            self._ensure_plots()
            self._curves_key = None
            if self.result is not None:
                self._draw_plots(self.vm.metric, self.vm.attribute, self._frames["groups"])


    # ------------------------------------------------------------------ page protocol
    def is_complete(self) -> bool:
        return self.result is not None

    # ------------------------------------------------------------------ data in
    def _document_changed(self, path: str) -> None:
        # A run the data page is storing was already shown from the session (no deep copy).
        if path.startswith("evaluation") and not self.session.storing:
            self.reload()

    def _session_result(self) -> None:
        # Drawn on the next event-loop turn: the data page stores the run in the document
        # first, so the two UI-thread pieces never add up into one long stall.
        if self.session.result is not None:
            QTimer.singleShot(0, self, lambda: self.show_result(self.session.result))

    def _document_replaced(self) -> None:
        """Another document: tabs, metric, attribute and threshold back to their defaults."""
        self.tasks.discard()
        self._stops = None
        self._live_cache.clear()
        self._live_pending = None
        self._plot_request = None
        self._binding = True
        try:
            self.metric_combo.setCurrentIndex(self.metric_combo.findData(DEFAULT_METRIC))
            self.attribute_combo.clear()
        finally:
            self._binding = False
        self.vm.reset()
        self.table_tabs.setCurrentIndex(0)
        self.plot_tabs.setCurrentIndex(0)
        self.reload()

    def reload(self) -> None:
        """Take the result from the document (the saved truth) and redraw everything."""
        result = None
        if getattr(self.ctx, "has_document", False):
            record = self.ctx.doc.evaluation
            result = record.result if record is not None else None
        self.show_result(result)

    def show_result(self, result: EvaluationResult | dict[str, Any] | None) -> None:
        """Show a result (frozen, typed) and reset the threshold.

        The data page's session still hands over the run's JSON snapshot: it is read into the
        typed result here, once per run.
        """
        if isinstance(result, dict):
            from assessment.evaluation.result import EvaluationResult

            result = EvaluationResult.from_json(result)
        self.vm.show(result)

    def _show_empty(self) -> None:
        self._view_key = None
        self._frames = {}
        self._colours = {}
        for model in self.models.values():
            model.set_frame(None)
        self.source_label.setText(
            "No evaluation yet: load validation data and run the evaluation on the "
            "Validation data step."
        )
        self.notes_view.setPlainText("")
        self.table_tabs.setTabText(self.table_tabs.indexOf(self.notes_view), "Notes")
        self.threshold_note.setText("")
        self.threshold_label.setText("")
        self.threshold_box.blockSignals(True)
        self.threshold_box.setRange(0.0, 99.99)  # as a new page's box: nothing of the last result
        self.threshold_box.setValue(0.0)
        self.threshold_box.blockSignals(False)
        self.rerun_button.setToolTip("")
        self._binding = True
        try:
            self.slider.setValue(0)
        finally:
            self._binding = False
        self._plot_request = None
        self._curves_key = None
        if self._plots_built:
            for plot in (self.forest, self.roc, self.calibration, self.shares):
                plot.clear()
        for w in (self.metric_combo, self.attribute_combo, self.slider, self.reset_button,
                  self.export_button, self.threshold_box, self.rerun_button):
            w.setEnabled(False)
        self.refreshed.emit()

    def _fill_attributes(self) -> None:
        self._binding = True
        try:
            self.attribute_combo.clear()
            for a in self.vm.attributes:
                self.attribute_combo.addItem(a, a)
            self.attribute_combo.addItem("All attributes", None)
            idx = self.attribute_combo.findData(self.vm.attribute)
            self.attribute_combo.setCurrentIndex(
                idx if self.vm.attribute is not None and idx >= 0
                else self.attribute_combo.count() - 1)
        finally:
            self._binding = False


    # ------------------------------------------------------------------ threshold
    def set_threshold(self, threshold: float | None) -> None:
        """Show threshold-dependent metrics at ``threshold`` (None = the evaluated one)."""
        self.vm.move_threshold(threshold)

    def reset_threshold(self) -> None:
        self.set_threshold(None)

    def _apply_threshold(self) -> None:
        self.vm.move_threshold(self._as_shown_threshold(self._from_slider(self.slider.value())))

    def _shows_session_run(self) -> bool:
        return _same_run(self.session.result, self.result)

    def _live_values(self, metric: str) -> Any:
        """Values of ``metric`` at the slider threshold; None at the evaluated threshold;
        :data:`PENDING` while the engine's fast path runs in the worker."""
        assert self.result is not None
        self.live_source = ""
        if self.threshold is None or metric not in frames.THRESHOLD_METRICS:
            return None
        if self.session.inputs is not None and _same_run(self.session.result, self.result):
            key = (self._result_serial, self.threshold)
            cached = self._live_cache.get(key)
            if cached is None:
                self._request_live(self.threshold)
                return PENDING
            self.live_source = "engine"
            return cached.get(metric, {})
        grid = frames.grid_metrics_at(self.result, metric, self.threshold)
        if grid is None:
            return None
        self.vm.snap_to_grid(grid[0])
        self.live_source = "grid"
        return grid[1]

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        """Rebuild the frames for the current metric/attribute/threshold and redraw."""
        if self.result is None:
            self._show_empty()
            return
        for w in (self.metric_combo, self.attribute_combo, self.slider, self.reset_button,
                  self.export_button, self.threshold_box):
            w.setEnabled(True)
        self._update_rerun()
        result = self.result
        self._selection_changed()
        metric, attribute = self.vm.metric, self.vm.attribute
        live = self._live_values(metric)
        if live is PENDING:  # the worker's answer redraws; meanwhile only the label moves
            self.threshold_label.setText(f"{self.threshold:.3g}")
            return
        groups = frames.groups_frame(result, metric, attribute=attribute, override=live)
        view_key = (self._result_serial, metric)
        new_frames = {"groups": groups}
        if view_key != self._view_key or attribute != self._view_attribute:
            new_frames["disparities"] = frames.disparities_frame(result, metric, attribute)
        if view_key != self._view_key:  # the rest depends on the result and metric only
            new_frames.update({
                "summary": frames.summary_frame(result),
                "representativeness": frames.representativeness_frame(result),
                "missingness": frames.missingness_frame(result),
            })
        structure_changed = view_key != self._view_key or attribute != self._view_attribute
        self._view_key, self._view_attribute = view_key, attribute
        for key, frame in new_frames.items():
            self._frames[key] = frame
            self._colours[key] = self._row_colours(key, frame)
            self.models[key].set_frame(frame, decimals=_decimals(frame))
            if structure_changed:
                self.models[key].fit_columns(self.views[key])
        self._update_labels(metric, live)
        if self._plots_built:
            # Plots on the next event-loop turn: tables first, so no single turn is long.
            self._plot_request = (metric, attribute, groups)
            QTimer.singleShot(0, self, self._draw_requested_plots)
        else:
            self.refreshed.emit()


    # ------------------------------------------------------------------ export


def _same_run(ran: Any, shown: EvaluationResult | None) -> bool:
    """True when the shown result is the session's run (same data, same time): only then can
    the in-memory data move the threshold live. The session holds the run's JSON snapshot."""
    if ran is None or shown is None:
        return False
    if isinstance(ran, dict):
        created, sha = ran.get("created"), (ran.get("provenance") or {}).get("sha256")
    else:
        created, sha = ran.created, ran.provenance.get("sha256")
    return bool(created == shown.created and sha == shown.provenance.get("sha256"))
