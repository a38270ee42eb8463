"""Step 1–2: the review question, the model's identity, the study type and the reviewer.

The review-question fields, study types and performance types come from the instrument data.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
)

from assessment.catalogue import REVIEWER_LABELS
from assessment.document import Assessment
from assessment.errors import ProbityError
from gui.pages.base import AssessmentPage
from gui.widgets import CommitLineEdit, CommitTextEdit, Heading, Note

MODEL_FIELDS = (("model_name", "Model name"), ("model_version", "Model version"),
                ("developer", "Developer"))


class ReviewPage(AssessmentPage):
    title = "Review question & model"

    def build(self, layout: QVBoxLayout) -> None:
        doc = self.ctx.doc
        instrument = doc.instrument
        layout.addWidget(Heading(self.title))
        layout.addWidget(Note(
            f"Instrument: {instrument.full_name} (version {instrument.version}). "
            "Start here: the study type decides which signalling questions apply."))

        model_box = QGroupBox("Model under review")
        form = QFormLayout(model_box)
        self.model_edits: dict[str, CommitLineEdit] = {}
        for field_id, label in MODEL_FIELDS:
            edit = CommitLineEdit()
            edit.setAccessibleName(label)
            edit.committed.connect(partial(self._set, "model_card", field_id))
            form.addRow(f"{label}:", edit)
            self.model_edits[field_id] = edit
        layout.addWidget(model_box)

        study_box = QGroupBox("Study type")
        study_layout = QVBoxLayout(study_box)
        # instrument.study_type_note describes the paper form's shading; the descriptions
        # below say the same for the app, so it is not shown.
        self.study_group = QButtonGroup(self)
        self.study_buttons: dict[str, QRadioButton] = {}
        for st in instrument.study_types:
            radio = QRadioButton(st.label)
            radio.setAccessibleName(f"Study type: {st.label}")
            radio.setToolTip(st.description)
            self.study_group.addButton(radio)
            self.study_buttons[st.id] = radio
            study_layout.addWidget(radio)
            description = Note(st.description)
            description.setContentsMargins(24, 0, 0, 6)
            study_layout.addWidget(description)
        self.study_group.buttonClicked.connect(self._study_clicked)
        layout.addWidget(study_box)

        self.perf_boxes: dict[str, QCheckBox] = {}
        if instrument.performance_types:
            perf_box = QGroupBox("Performance types the study reports")
            perf_layout = QVBoxLayout(perf_box)
            perf_layout.addWidget(Note(
                "The evaluation part's domain 4 is answered once per performance type."))
            for option in instrument.performance_types:
                box = QCheckBox(option.label)
                box.setToolTip(option.description)
                box.setAccessibleName(f"Performance type: {option.label}")
                box.clicked.connect(self._perf_clicked)
                perf_layout.addWidget(box)
                if option.description:
                    description = Note(option.description)
                    description.setContentsMargins(24, 0, 0, 6)
                    perf_layout.addWidget(description)
                self.perf_boxes[option.id] = box
            layout.addWidget(perf_box)

        rq_box = QGroupBox("Review question")
        rq_layout = QVBoxLayout(rq_box)
        self.rq_edits: dict[str, CommitTextEdit] = {}
        for rq in instrument.review_question:
            rq_label = QLabel(f"{rq.label}:")
            rq_label.setWordWrap(True)
            rq_edit = CommitTextEdit(lines=2)
            rq_edit.setAccessibleName(rq.label)
            rq_edit.setToolTip(rq.guidance)
            rq_label.setBuddy(rq_edit)
            rq_edit.committed.connect(partial(self._set, "review_question", rq.id))
            rq_layout.addWidget(rq_label)
            rq_layout.addWidget(rq_edit)
            if rq.guidance:
                hint = Note(rq.guidance)
                hint.setStyleSheet("QLabel { color: #5a5e66; font-size: 9pt; }")
                rq_layout.addWidget(hint)
            rq_layout.addSpacing(4)
            self.rq_edits[rq.id] = rq_edit
        layout.addWidget(rq_box)

        reviewer_box = QGroupBox("Reviewer")
        reviewer_form = QFormLayout(reviewer_box)
        self.reviewer_edits: dict[str, CommitLineEdit] = {}
        for field_id, label in REVIEWER_LABELS.items():
            edit = CommitLineEdit()
            edit.setAccessibleName(f"Reviewer {label.lower()}")
            edit.committed.connect(partial(self._set, "reviewer", field_id))
            reviewer_form.addRow(f"{label}:", edit)
            self.reviewer_edits[field_id] = edit
        layout.addWidget(reviewer_box)

    # --- editing ---------------------------------------------------------------------------------
    def _apply(self, change: Callable[[Assessment], None]) -> None:
        try:
            change(self.ctx.doc)
        except ProbityError as exc:
            self.ctx.show_error(exc)
            self.refresh_now()

    def _set(self, section: str, field_id: str, value: str) -> None:
        self._apply(lambda doc: doc.set_field(section, field_id, value))

    @Slot(object)
    def _study_clicked(self, button: QRadioButton) -> None:
        study = next(k for k, b in self.study_buttons.items() if b is button)
        if study == self.ctx.doc.study_type:
            return
        self._apply(lambda doc: doc.set_study_type(study))

    @Slot()
    def _perf_clicked(self) -> None:
        chosen = [k for k, box in self.perf_boxes.items() if box.isChecked()]
        self._apply(lambda doc: doc.set_performance_types(chosen))

    # --- state -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        doc = self.ctx.doc
        card = doc.model_card
        for field_id, edit in self.model_edits.items():
            edit.show_value(str(card.get(field_id) or ""))
        for radio in self.study_buttons.values():
            radio.blockSignals(True)
        self.study_group.setExclusive(False)
        for st_id, radio in self.study_buttons.items():
            radio.setChecked(st_id == doc.study_type)
        self.study_group.setExclusive(True)
        for radio in self.study_buttons.values():
            radio.blockSignals(False)
        chosen = set(doc.performance_types)
        for pt, box in self.perf_boxes.items():
            box.setChecked(pt in chosen)
        rq = doc.review_question
        for field_id, rq_edit in self.rq_edits.items():
            rq_edit.show_value(str(rq.get(field_id) or ""))
        reviewer = doc.reviewer
        for field_id, edit in self.reviewer_edits.items():
            edit.show_value(getattr(reviewer, field_id))

    def is_complete(self) -> bool:
        doc = self.ctx.doc
        if doc.study_type is None or not doc.reviewer.name.strip():
            return False
        if self.perf_boxes and "evaluation" in doc.instrument.study_type(doc.study_type).parts \
                and not doc.performance_types:
            return False
        rq = doc.review_question
        return all(str(rq.get(f.id) or "").strip() for f in doc.instrument.review_question)

