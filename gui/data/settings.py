"""The Validation data page's "Evaluation settings" group: reference, intersections, bootstrap,
seed, minimums, flag tolerances and multiplicity.

A mixin of :class:`gui.data.page.ValidationDataPage` (it shares the page's widgets and state);
the settings become an :class:`~assessment.evaluation.spec.EvaluationSpec`. Nothing here decides
anything: the spec and its checks are :mod:`assessment.evaluation`'s.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from assessment.evaluation.limits import MAX_BOOTSTRAP
from assessment.evaluation.record import document_demographics
from gui.data.parts import DataPageParts

REFERENCE_KINDS = (
    ("largest", "Largest group of each attribute"),
    ("overall", "Overall population"),
    ("best", "Best-performing group (by AUROC)"),
    ("value", "A named group per attribute"),
)
# The settings a new document starts with (and the form shows before any file is loaded).
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 20240601
DEFAULT_MIN_N = 30
DEFAULT_MIN_EVENTS = 10


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
        self.bootstrap_spin.setRange(0, MAX_BOOTSTRAP)
        self.bootstrap_spin.setSingleStep(100)
        self.bootstrap_spin.setValue(DEFAULT_BOOTSTRAP)
        self.bootstrap_spin.setToolTip(
            "Bootstrap replicates for the Brier score, calibration and disparity intervals "
            "(0 = analytic intervals only; otherwise at least 200 for 95% intervals, 1,000 "
            f"recommended; at most {MAX_BOOTSTRAP:,})."
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
        """One editable row per flagged metric: ``ratio:LOW,HIGH`` or ``diff:LIMIT``; a mirror
        member (TNR, FNR) reads "as fpr" (judged on its primary) unless given a difference."""
        from assessment.evaluation.spec import TOLERANCE_METRICS

        table = QTableWidget(len(TOLERANCE_METRICS), 2)
        table.setHorizontalHeaderLabels(["Metric", "Tolerance"])
        table.setAccessibleName("Flag tolerances")
        table.setToolTip(
            "How large a gap must be to be flagged: ratio:LOW,HIGH (group / reference outside "
            "the band) or diff:LIMIT (|group − reference| above the limit). TNR and FNR are "
            "judged on FPR and TPR, their mirrors: \"as fpr\", or diff:LIMIT (the same "
            "difference on FPR)."
        )
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        for row, metric in enumerate(TOLERANCE_METRICS):
            name = QTableWidgetItem(metric)
            name.setFlags(name.flags() & ~Qt.ItemFlag.ItemIsEditable)
            table.setItem(row, 0, name)
            table.setItem(row, 1, QTableWidgetItem(_default_text(metric)))
        table.setMinimumHeight(120)
        return table

    def tolerances(self) -> dict[str, Any]:
        """{metric: MetricTolerance} for the rows that differ from the defaults (EvaluationError
        naming the metric for text that is not a tolerance). A mirror member's difference is
        stored on its primary (the same rule there); a ratio band on it is refused."""
        from assessment.errors import EvaluationError
        from assessment.evaluation.mirrors import MIRRORS, primary_of
        from assessment.evaluation.spec import (
            DEFAULT_TOLERANCES,
            MetricTolerance,
            mirror_tolerance,
        )

        out: dict[str, Any] = {}
        for row in range(self.tolerance_table.rowCount()):
            metric, text = (self._tolerance_item(row, col).text() for col in (0, 1))
            if metric in MIRRORS and text.strip().lower() in ("", _default_text(metric)):
                continue
            try:
                tol = MetricTolerance.parse(text)
                tol.check(metric)
                tol = mirror_tolerance(metric, tol)
            except EvaluationError as exc:
                raise EvaluationError(f"Flag tolerance of {metric}: {exc.message}") from None
            key = primary_of(metric)
            if key in out and out[key] != tol:
                raise EvaluationError(
                    f"Flag tolerances of {key} and {metric} differ, but the pair has one "
                    f"tolerance, judged on {key}: set {metric} to \"{_default_text(metric)}\"."
                )
            if key != metric or tol != DEFAULT_TOLERANCES[metric]:
                out[key] = tol
        return out

    def set_tolerances(self, stored: dict[str, Any]) -> None:
        """Show the defaults with a stored spec's overrides (JSON form) on top."""
        from assessment.evaluation.spec import TOLERANCE_METRICS, MetricTolerance

        for row, metric in enumerate(TOLERANCE_METRICS):
            text = _default_text(metric)
            if isinstance(stored.get(metric), dict):
                text = MetricTolerance.from_json(stored[metric]).to_text()
            self._tolerance_item(row, 1).setText(text)

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
            label = QLabel(f"{attr}:")
            label.setTextFormat(Qt.TextFormat.PlainText)  # a column name is not markup
            self.reference_values_form.addRow(label, combo)

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
        threshold = self.threshold_value()  # None: predicted classes (or not set: Run is off)
        from assessment.evaluation.representativeness import suggest_demographics_map

        attributes = list(self.current_mapping().attributes) if self.table is not None else []
        demographics_map = suggest_demographics_map(attributes, {**population, **training})
        demographics_map.update(
            {a: t for a, t in self.state.stored_demographics_map.items() if a in attributes}
        )
        return EvaluationSpec(
            threshold=threshold if threshold is not None else 0.5,
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


def _default_text(metric: str) -> str:
    """A row's text when it holds no override: the default rule, or "as fpr" for a mirror."""
    from assessment.evaluation.mirrors import MIRRORS
    from assessment.evaluation.spec import DEFAULT_TOLERANCES

    if metric in MIRRORS:
        return f"as {MIRRORS[metric]}"
    return DEFAULT_TOLERANCES[metric].to_text()
