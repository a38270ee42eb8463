"""The Validation data page's form: the column mapping and the evaluation settings.

Mixins of :class:`gui.data.page.ValidationDataPage` (they share its widgets and state): the form
shows a :class:`~assessment.evaluation.io.ColumnMapping` and an
:class:`~assessment.evaluation.spec.EvaluationSpec`, reads them back, and shows the engine's
mapping checks next to the fields they concern. Nothing here decides anything: suggestions,
checks and parsing are :mod:`assessment.evaluation`'s.
"""

from __future__ import annotations

import itertools
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from assessment.evaluation.record import document_demographics
from gui.data.parts import (
    DataPageParts,
    _fit_list_height,
    _FormIssue,
    _num,
    _set_messages,
)

NONE_CHOICE = "(none)"
REFERENCE_KINDS = (
    ("largest", "Largest group of each attribute"),
    ("overall", "Overall population"),
    ("best", "Best-performing group (by AUROC)"),
    ("value", "A named group per attribute"),
)
CHECK = "check"  # the page's task lane for mapping checks

# The settings a new document starts with (and the form shows before any file is loaded).
DEFAULT_THRESHOLD = 0.5
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 20240601
DEFAULT_MIN_N = 30
DEFAULT_MIN_EVENTS = 10


class MappingForm(DataPageParts):
    """The "Column mapping" group: outcome, model output, threshold, attributes, bins, missing."""

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

        for combo in (
            self.outcome_combo,
            self.positive_combo,
            self.score_combo,
            self.pred_positive_combo,
            self.cluster_combo,
        ):
            combo.activated.connect(self._form_changed)
        self.outcome_combo.activated.connect(self._fill_positive_choices)
        self.output_kind.activated.connect(self._kind_changed)
        self.score_combo.activated.connect(self._fill_pred_positive_choices)
        self.threshold_spin.valueChanged.connect(self._form_changed)
        self.attr_list.itemChanged.connect(self._attributes_changed)
        self.bins_edit.editingFinished.connect(self._form_changed)
        self.missing_edit.editingFinished.connect(self._form_changed)
        return box

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
                "; ".join(f"{k}: {', '.join(_num(e) for e in v)}" for k, v in mapping.bins.items())
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
                raise DataError(f"Write bin edges as 'column: 30, 50, 70' (got {part.strip()!r}).")
            bins[name.strip()] = parse_bins(edges)
        missing = [
            "" if m.strip() == "(empty)" else m.strip() for m in self.missing_edit.text().split(",")
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
            self.outcome_msg: [],
            self.score_msg: [],
            self.attr_msg: [],
            self.general_msg: [],
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


class SettingsForm(DataPageParts):
    """The "Evaluation settings" group: reference, intersections, bootstrap, seed, minimums."""

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
            group_map=self.ctx.doc.group_maps if getattr(self.ctx, "has_document", False) else {},
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
