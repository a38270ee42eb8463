"""The Validation data page's decision threshold: no default for a raw score, a stated suggestion.

A mixin of :class:`gui.data.page.ValidationDataPage`. A probability starts at 0.5. A raw score
(e.g. COMPAS deciles 1–10) has no default: the threshold box shows "(not set)" and Run stays
disabled until the reviewer enters a threshold or accepts the suggestion shown under the box —
the model card's stated operating point when it states one, else one read off the score
distribution (:func:`assessment.evaluation.mapping.suggest_threshold` decides which, and says
so). A new score column or a switch to "Score" clears the threshold again: a threshold chosen for
one column means nothing for another.
"""

from __future__ import annotations

import weakref
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from gui.data.parts import DataPageParts, _num

DEFAULT_THRESHOLD = 0.5
RAW_RANGE = 1e9
NOT_SET = -RAW_RANGE  # the raw-score box's minimum stands for "no threshold chosen"
NOT_SET_TEXT = "(not set: enter a threshold)"


class ThresholdChoice(DataPageParts):
    """The threshold box's modes, the suggestion under it and its "Use" button."""

    _suggestion_memo: tuple[Any, Any, Any] | None = None  # (key, weakref(table), suggestion)

    def _build_threshold_hint(self) -> QWidget:
        host = QWidget()
        row = QHBoxLayout(host)
        row.setContentsMargins(0, 0, 0, 0)
        self.threshold_hint = QLabel("")
        self.threshold_hint.setTextFormat(Qt.TextFormat.PlainText)  # quotes the model card
        self.threshold_hint.setWordWrap(True)
        self.threshold_hint.setStyleSheet("color: #3d4a5c;")
        self.use_suggestion_button = QPushButton("")
        self.use_suggestion_button.setAccessibleName("Use the suggested threshold")
        self.use_suggestion_button.clicked.connect(self.accept_suggested_threshold)
        row.addWidget(self.threshold_hint, 1)
        row.addWidget(self.use_suggestion_button, 0, Qt.AlignmentFlag.AlignTop)
        host.setVisible(False)
        self.threshold_hint_row = host
        return host

    # ---- the box's modes --------------------------------------------------------------------
    def _threshold_mode(self, kind: str) -> None:
        """Range and "(not set)" text for ``kind``; a probability never inherits a raw score's
        threshold (nor "(not set)"): it starts again at 0.5."""
        spin = self.threshold_spin
        unset = self._threshold_unset()
        spin.blockSignals(True)
        try:
            if kind == "score":
                spin.setRange(NOT_SET, RAW_RANGE)
                spin.setSpecialValueText(NOT_SET_TEXT)
            else:
                value = spin.value()
                spin.setSpecialValueText("")
                spin.setRange(0.0, 1.0)  # a probability threshold lies in [0, 1]
                if unset or not 0.0 <= value <= 1.0:
                    spin.setValue(DEFAULT_THRESHOLD)
        finally:
            spin.blockSignals(False)

    def _threshold_unset(self) -> bool:
        spin = self.threshold_spin
        return bool(spin.specialValueText()) and spin.value() == spin.minimum()

    def clear_threshold(self) -> None:
        """A raw score's threshold back to "(not set)" (new column, new kind, new file)."""
        if self.output_kind.currentData() == "score":
            self.threshold_spin.setValue(self.threshold_spin.minimum())

    def threshold_value(self) -> float | None:
        """The threshold the form holds; None for a predicted class or a raw score not set."""
        kind = self.output_kind.currentData()
        if kind == "class" or (kind == "score" and self._threshold_unset()):
            return None
        return float(self.threshold_spin.value())

    def threshold_ready(self) -> bool:
        """May Run start as far as the threshold goes? (A raw score needs one.)"""
        return self.output_kind.currentData() != "score" or not self._threshold_unset()

    # ---- the suggestion ---------------------------------------------------------------------
    def _stated_operating_point(self) -> str | None:
        """The model card's "Decision thresholds" text, where a stated operating point lives."""
        if not getattr(self.ctx, "has_document", False):
            return None
        text = self.ctx.doc.model_card.get("decision_thresholds")
        return str(text) if text else None

    def _suggestion_for(self, table: Any, mapping: Any, stated: str | None) -> Any:
        """The suggestion for this table and mapping; None unless a raw score.

        Runs in the check worker. Remembered per (table, score, outcome, missing tokens, model
        card text): sorting a big score column again on every edit of another field would be
        wasted work, and its answer cannot have changed."""
        from assessment.evaluation.mapping import suggest_threshold

        if table is None or mapping.kind != "score" or not mapping.score:
            return None
        key = (
            id(table),
            mapping.score,
            mapping.label,
            repr(mapping.positive),
            tuple(mapping.missing),
            stated,
        )
        cached = self._suggestion_memo
        if cached is not None and cached[0] == key and cached[1]() is table:
            return cached[2]
        suggestion = suggest_threshold(table, mapping, stated)
        # A weak reference: the memo never keeps a closed document's table alive.
        self._suggestion_memo = (key, weakref.ref(table), suggestion)
        return suggestion

    def _show_suggestion(self, suggestion: Any) -> None:
        self.state.threshold_suggestion = suggestion
        shown = suggestion is not None and self.output_kind.currentData() == "score"
        self.threshold_hint_row.setVisible(shown)
        if shown:
            self.threshold_hint.setText(suggestion.reason)
            self.use_suggestion_button.setText(f"Use {_num(suggestion.value)}")
        else:
            self.threshold_hint.setText("")

    def accept_suggested_threshold(self) -> None:
        suggestion = self.state.threshold_suggestion
        if suggestion is not None and self.output_kind.currentData() == "score":
            self.threshold_spin.setValue(float(suggestion.value))

    # ---- the results page's "Re-run with intervals at this threshold" -----------------------
    def run_at_threshold(self, value: float) -> None:
        """The box takes the results page's threshold, then Run as usual (the document stores
        the run); the two pages then agree on the threshold the intervals belong to."""
        from assessment.errors import DataError as _data_error

        kind = self.output_kind.currentData()
        spin = self.threshold_spin
        if self.table is None:
            self.ctx.show_error(_data_error(
                "Re-running needs the validation data: open the data file on the Validation "
                "data step first."))
            return
        if kind == "class":
            self.ctx.show_error(_data_error(
                "The model gives predicted classes, which have no threshold to move; map a "
                "score column on the Validation data step to re-run at another threshold."))
            return
        if self.running:
            self.ctx.show_error(_data_error(
                "An evaluation is already running; wait for it or cancel it, then re-run."))
            return
        low = 0.0 if kind == "probability" else -RAW_RANGE
        if not low < value <= spin.maximum() and not (kind == "probability" and value == 0.0):
            self.ctx.show_error(_data_error(
                f"The threshold {_num(value)} lies outside what the score allows; choose one "
                "within its range."))
            return
        spin.setValue(float(value))
        self.run_evaluation()  # type: ignore[attr-defined]  # the page's own run path
