"""The Validation data page's "Column mapping" form.

A mixin of :class:`gui.data.page.ValidationDataPage` (it shares its widgets and state): the form
shows a :class:`~assessment.evaluation.io.ColumnMapping`, reads it back, and shows the engine's
mapping checks next to the fields they concern (the settings are :mod:`gui.data.settings`', a raw
score's threshold :mod:`gui.data.threshold`'s). Nothing here decides anything: suggestions,
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
)

from gui.data.parts import (
    DataPageParts,
    _fit_list_height,
    _FormIssue,
    _num,
    _set_messages,
)
from gui.data.threshold import DEFAULT_THRESHOLD, ThresholdChoice

NONE_CHOICE = "(none)"
CHECK = "check"  # the page's task lane for mapping checks


class MappingForm(ThresholdChoice, DataPageParts):
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
        self.threshold_spin.setRange(0.0, 1.0)
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
        form.addRow("", self._build_threshold_hint())
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
        self.output_kind.activated.connect(self._kind_chosen)
        self.score_combo.activated.connect(self._fill_pred_positive_choices)
        self.score_combo.activated.connect(self._score_column_chosen)
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
            # The range first: a raw score's 5 must not be clamped to a probability's 1.
            self._threshold_mode(kind)
            threshold = mapping.effective_threshold
            if threshold is not None:
                self.threshold_spin.setValue(float(threshold))
            else:
                self.clear_threshold()  # a raw score without one: "(not set)", a suggestion
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
        self._threshold_mode(self.output_kind.currentData())
        if self.output_kind.currentData() != "score":
            self._show_suggestion(None)
        if is_class:
            self._fill_pred_positive_choices()
        if check:
            self._form_changed()

    def _kind_chosen(self, *_: Any) -> None:
        """The reviewer chose a kind: a raw score starts without a threshold."""
        self._kind_changed(check=False)
        self.clear_threshold()
        self._form_changed()

    def _score_column_chosen(self, *_: Any) -> None:
        """Another score column: the previous column's threshold means nothing for it."""
        self.clear_threshold()

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
            threshold=self.threshold_value(),
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
        stated = self._stated_operating_point()

        def work(progress: Any, cancelled: Any) -> tuple[list[Any], Any]:
            from assessment.evaluation.io import check_mapping

            return check_mapping(table, mapping), self._suggestion_for(table, mapping, stated)

        def done(out: tuple[list[Any], Any]) -> None:
            self._show_suggestion(out[1])
            self._show_issues(out[0])

        def failed(exc: BaseException) -> None:
            self._show_issues([_FormIssue(None, getattr(exc, "message", str(exc)))])

        # A newer edit's check cancels this one: its answer is never shown.
        self.tasks.run(work, done, on_error=failed, lane=CHECK, quiet=True)

    def check_now(self) -> list[Any]:
        """Check synchronously (tests; small tables) and show the messages."""
        from assessment.evaluation.io import check_mapping

        self._check_timer.stop()
        self.tasks.cancel(CHECK)  # a check still running in a worker is now out of date
        issues: list[Any]
        try:
            mapping = self.current_mapping()
            issues = check_mapping(self.table, mapping)
            stated = self._stated_operating_point()
            self._show_suggestion(self._suggestion_for(self.table, mapping, stated))
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
