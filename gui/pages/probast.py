"""PROBAST / PROBAST+AI domain pages, generated from the instrument data.

One :class:`DomainPage` per (part, domain). Its questions, answer options (NA only where the
instrument allows it), answer slots (PROBAST 2019's Development/Validation columns, PROBAST+AI's
performance types) and applicability come from ``assessment.instruments`` and
``assessment.judgement.applicable_slots``; the suggested and final judgements from
``judge(doc)``. No question is spelled out here and no rule is decided here.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
)

from assessment.catalogue import LEVELS, NOT_RATED
from assessment.document import Assessment, SourceRef
from assessment.errors import ProbityError
from assessment.instruments import Applicability, Domain, Part, Question
from assessment.judgement import DomainResult, applicable_slots
from assessment.judgement import Slot as AnswerSlot
from gui.context import AppContext
from gui.pages import domain_commands
from gui.pages.answer_bar import AnswerBar
from gui.pages.base import AssessmentPage
from gui.widgets import CommitTextEdit, Heading, LevelChip, Note, level_text

ANSWER_STYLE = """
QWidget#answerBar { border: 2px solid transparent; border-radius: 6px; }
QWidget#answerBar:focus { border: 2px solid #2458a6; background: #f3f6fb; }
QPushButton[answer] { background: #ffffff; border: 1px solid #a9aeb5; border-radius: 4px;
                      padding: 3px 2px; color: #1d1d1f; }
QPushButton[answer]:hover { background: #eef2f8; }
QPushButton[answer][keyed="true"] { border: 2px dashed #2458a6; padding: 2px 1px; }
QPushButton[answer="Y"]:checked, QPushButton[answer="PY"]:checked
    { background: #d7f0de; border: 2px solid #135e2b; color: #135e2b; font-weight: 700; }
QPushButton[answer="N"]:checked, QPushButton[answer="PN"]:checked
    { background: #f9d6d3; border: 2px solid #8c1d18; color: #8c1d18; font-weight: 700; }
QPushButton[answer="NI"]:checked
    { background: #fde9b5; border: 2px solid #6b4a00; color: #6b4a00; font-weight: 700; }
QPushButton[answer="NA"]:checked
    { background: #e2e4e8; border: 2px solid #4a4a4a; color: #1d1d1f; font-weight: 700; }
"""

NEXT_UNANSWERED_KEY = "Ctrl+J"
COPY_DEV_KEY = "Ctrl+Shift+D"

JUDGEMENT_LABEL_WIDTH = 230  # the judgement and applicability boxes share one label column


def format_sources(sources: tuple[SourceRef, ...] | list[SourceRef]) -> str:
    return "; ".join(f"{s.document}, {s.page}" if s.page else s.document for s in sources)


def parse_sources(text: str) -> list[SourceRef]:
    """"Smith 2020, p. 4; Appendix, table 2" -> [SourceRef("Smith 2020", "p. 4"), ...].

    References are separated by ";" or new lines; the text after the last comma is the page.
    """
    refs: list[SourceRef] = []
    for chunk in text.replace("\n", ";").split(";"):
        chunk = chunk.strip()
        if not chunk:
            continue
        document, sep, page = chunk.rpartition(",")
        refs.append(SourceRef(document.strip(), page.strip()) if sep else SourceRef(chunk, ""))
    return refs


def domain_complete(result: DomainResult) -> bool:
    """A domain step is done when the judgement has nothing left to ask about it."""
    return result.complete


class SlotEditor:
    """Answer buttons, rationale and source reference for one answer slot."""

    def __init__(self, page: DomainPage, slot: AnswerSlot, slot_label: str,
                 grid: QGridLayout, row: int, answers: tuple[str, ...],
                 answer_names: dict[str, str], question_id: str) -> None:
        self.page = page
        self.key = slot.key
        self.label = QLabel(slot_label)
        self.label.setFixedWidth(page.slot_label_width)
        where = f" ({slot_label})" if slot_label else ""
        self.bar = AnswerBar(
            answers,
            answer_names,
            f"{question_id}{where}: answer",
            page.answer_button_width,
            on_answer=self._answered,
            on_refused=lambda text: page.ctx.show_status(text, 8000),
            on_move=page.move_from,
        )
        self.bar.slot_key = slot.key
        self.buttons = self.bar.buttons
        box = self.bar
        # Room for the longest answer set (with NA) on every row, so columns line up.
        box.setFixedWidth(page.answer_box_width)
        self.rationale = CommitTextEdit(lines=1, max_lines=12)
        self.rationale.setPlaceholderText("Rationale: why this answer?")
        self.rationale.setAccessibleName(f"{question_id}{where}: rationale")
        self.rationale.committed.connect(self._rationale_committed)
        self.sources = CommitTextEdit(lines=1, max_lines=4)
        self.sources.setPlaceholderText("Source: document, page (separate several with ;)")
        self.sources.setAccessibleName(f"{question_id}{where}: source reference")
        self.sources.committed.connect(self._sources_committed)
        self._grid, self._row, self._box = grid, row, box
        grid.addWidget(self.label, row, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(box, row, 1, Qt.AlignmentFlag.AlignTop)
        self.place(compact=False)

    def place(self, compact: bool) -> None:
        """Wide pages: texts beside the buttons; narrow ones: below them, at full width."""
        grid, row = self._grid, self._row
        grid.removeWidget(self.rationale)
        grid.removeWidget(self.sources)
        if compact:
            grid.addWidget(self.rationale, row + 1, 1, 1, 2)
            grid.addWidget(self.sources, row + 2, 1, 1, 2)
        else:
            grid.addWidget(self.rationale, row, 2)
            grid.addWidget(self.sources, row + 1, 2)

    def _answered(self, value: str | None) -> None:
        self.page.apply(lambda doc: doc.set_answer(self.key, value))

    def _rationale_committed(self, text: str) -> None:
        self.page.apply(lambda doc: doc.set_answer_rationale(self.key, text))

    def _sources_committed(self, text: str) -> None:
        self.page.apply(lambda doc: doc.set_answer_sources(self.key, parse_sources(text)))

    def show(self, value: str | None, rationale: str, sources: str) -> None:
        self.bar.show_value(value)
        self.rationale.show_value(rationale)
        self.sources.show_value(sources)


class QuestionCard(QFrame):
    """One signalling question with its guidance (collapsed) and one editor per slot."""

    def __init__(self, page: DomainPage, question: Question, slots: list[AnswerSlot],
                 slot_labels: dict[str, str], answer_names: dict[str, str]) -> None:
        super().__init__()
        self.setObjectName("questionCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.question_id = question.id
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(6)
        head = QHBoxLayout()
        number = QLabel(question.id)
        number.setObjectName("questionNumber")
        number.setMinimumWidth(44)
        number.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        text = QLabel(question.text)
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.setObjectName("questionText")
        font = text.font()
        font.setWeight(font.Weight.DemiBold)
        text.setFont(font)
        number.setFont(font)
        text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        head.addWidget(number)
        head.addWidget(text, 1)
        layout.addLayout(head)

        self.guidance_toggle = QToolButton()
        self.guidance_toggle.setText("Guidance")
        self.guidance_toggle.setCheckable(True)
        self.guidance_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.guidance_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.guidance_toggle.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.guidance_toggle.setAccessibleName(f"{question.id}: show guidance")
        self.guidance_toggle.setAutoRaise(True)
        self.guidance = Note(question.guidance)
        self.guidance.setObjectName("guidance")
        self.guidance.setVisible(False)
        self.guidance_toggle.toggled.connect(self._toggle_guidance)
        layout.addWidget(self.guidance_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.guidance)

        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(2, 1)
        self.editors: dict[str, SlotEditor] = {}
        for index, slot in enumerate(slots):
            self.editors[slot.key] = SlotEditor(
                page, slot, slot_labels.get(slot.key, ""), grid, index * 3,
                question.answers, answer_names, question.id,
            )
        layout.addLayout(grid)

    def _toggle_guidance(self, shown: bool) -> None:
        self.guidance.setVisible(shown)
        self.guidance_toggle.setArrowType(Qt.ArrowType.DownArrow if shown
                                          else Qt.ArrowType.RightArrow)


class DomainPage(AssessmentPage):
    """All signalling questions of one domain, its judgement and (D1–D3) applicability."""

    def __init__(self, ctx: AppContext, part_id: str, domain_id: str) -> None:
        self.part_id = part_id
        self.domain_id = domain_id
        self.key = f"{part_id}:{domain_id}"
        self.cards: dict[str, QuestionCard] = {}
        self._signature: tuple[str, ...] = ()
        self.title = ""
        super().__init__(ctx)
        self.setStyleSheet(ANSWER_STYLE)

    # --- building --------------------------------------------------------------------------------
    def _slots(self) -> list[AnswerSlot]:
        doc = self.ctx.doc
        return [s for s in applicable_slots(doc.instrument, doc.study_type, doc.performance_types)
                if s.part == self.part_id and s.domain == self.domain_id]

    def build(self, layout: QVBoxLayout) -> None:
        doc = self.ctx.doc
        instrument = doc.instrument
        part = instrument.part(self.part_id)
        domain = instrument.domain(self.part_id, self.domain_id)
        several_parts = len(instrument.parts) > 1
        self.title = f"{domain.id} {domain.name}"
        heading = f"Domain {domain.number}: {domain.name}"
        if several_parts:
            heading = f"{part.label} — {heading}"
        layout.addWidget(Heading(heading))
        subtitle = f"{instrument.title}. {part.judgement_label} for this domain is suggested " \
                   "from your answers; you make the final judgement."
        layout.addWidget(Note(subtitle))

        slots = self._slots()
        self._signature = tuple(s.key for s in slots)
        layout.addLayout(self._build_commands())
        metrics = self.fontMetrics()
        self.answer_button_width = max(metrics.horizontalAdvance("PY") + 26, 46)
        widest = max((len(q.answers) for q in domain.questions), default=6)
        clear_width = metrics.horizontalAdvance("×") + 16
        self.answer_box_width = (widest * self.answer_button_width + widest * 4 + clear_width
                                 + 8)
        labels = [label for label in self._slot_labels(slots).values() if label]
        self.slot_label_width = (max(metrics.horizontalAdvance(label) for label in labels) + 12
                                 if labels else 0)
        self.cards = {}
        self.notice = Note()
        self.notice.setObjectName("domainNotice")
        layout.addWidget(self.notice)
        self.go_review = QPushButton("Go to Review question & study type")
        self.go_review.clicked.connect(lambda: self.ctx.navigate_requested.emit("review"))
        layout.addWidget(self.go_review, 0, Qt.AlignmentFlag.AlignLeft)
        if doc.study_type is None:
            self.notice.setText("Choose the study type on the “Review question & model” page: "
                                "it decides which questions and columns apply.")
        elif not slots:
            self.notice.setText("No question of this domain applies yet. For PROBAST+AI, choose "
                                "the performance types the study reports on the review page.")
        else:
            self.notice.setVisible(False)
            self.go_review.setVisible(False)

        slot_labels = self._slot_labels(slots)
        by_question: dict[str, list[AnswerSlot]] = {}
        for s in slots:
            by_question.setdefault(s.question, []).append(s)
        for question in domain.questions:
            qslots = by_question.get(question.id)
            if not qslots:  # not asked for this study type / these performance types
                continue
            card = QuestionCard(self, question, qslots, slot_labels, dict(instrument.answers))
            self.cards[question.id] = card
            layout.addWidget(card)

        layout.addWidget(self._build_judgement(part, domain))
        self.applicability_box = None
        if domain.applicability is not None:
            self.applicability_box = self._build_applicability(part, domain, domain.applicability)
            layout.addWidget(self.applicability_box)
        self._compact: bool | None = None
        self._apply_compact()

    def _build_commands(self) -> QHBoxLayout:
        """Next unanswered, and (PROBAST 2019) copy Development answers to Validation; the
        page's own actions, so their keys work anywhere on the page."""
        row = QHBoxLayout()
        self.act_next_unanswered = self._page_action(
            "Next unanswered question", NEXT_UNANSWERED_KEY, self.next_unanswered)
        self.act_copy_dev = self._page_action(
            "Copy Development answers to Validation", COPY_DEV_KEY, self.copy_dev_to_val)
        self.copy_pairs = domain_commands.copy_pairs(self._signature)
        self.act_copy_dev.setEnabled(bool(self.copy_pairs))
        for action in (self.act_next_unanswered, self.act_copy_dev):
            button = QPushButton(f"{action.text()} ({action.shortcut().toString()})")
            button.clicked.connect(action.trigger)
            button.setVisible(action.isEnabled())
            row.addWidget(button)
        row.addStretch(1)
        return row

    def _page_action(self, text: str, keys: str, slot: Callable[[], None]) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _slot_labels(self, slots: list[AnswerSlot]) -> dict[str, str]:
        instrument = self.ctx.doc.instrument
        names = {o.id: o.label for o in (*instrument.columns, *instrument.performance_types)}
        multi = len({s.column or s.perf_type for s in slots}) > 1 or any(s.perf_type for s in slots)
        return {s.key: names.get(s.column or s.perf_type or "", "") if multi else ""
                for s in slots}

    def _build_judgement(self, part: Part, domain: Domain) -> QGroupBox:
        box = QGroupBox(part.judgement_label)
        box.setObjectName("judgementBox")
        grid = QGridLayout(box)
        grid.setColumnStretch(1, 1)
        grid.setColumnMinimumWidth(0, JUDGEMENT_LABEL_WIDTH)
        grid.addWidget(QLabel("Suggested from the answers:"), 0, 0)
        suggested_row = QHBoxLayout()
        self.suggested_chip = LevelChip()
        self.suggested_chip.setObjectName("suggestedChip")
        self.progress_label = QLabel()
        suggested_row.addWidget(self.suggested_chip)
        suggested_row.addWidget(self.progress_label)
        suggested_row.addStretch(1)
        grid.addLayout(suggested_row, 0, 1)

        prompt = Note(domain.judgement_prompt)
        grid.addWidget(prompt, 1, 0, 1, 2)
        grid.addWidget(QLabel("Final judgement:"), 2, 0)
        levels = self.ctx.doc.instrument.levels
        self.final_group = QButtonGroup(self)
        row = QHBoxLayout()
        self.final_follow = QRadioButton("Not decided yet")
        self.final_follow.setAccessibleName(f"{domain.id}: final judgement follows the suggestion")
        self.final_group.addButton(self.final_follow)
        row.addWidget(self.final_follow)
        self.final_buttons: dict[str, QRadioButton] = {}
        for level in LEVELS:
            radio = QRadioButton(level_text(level, dict(levels)))
            radio.setAccessibleName(f"{domain.id}: final judgement {level}")
            self.final_group.addButton(radio)
            self.final_buttons[level] = radio
            row.addWidget(radio)
        row.addSpacing(16)
        self.final_chip = LevelChip()
        self.final_chip.setObjectName("finalChip")
        row.addWidget(self.final_chip)
        row.addStretch(1)
        grid.addLayout(row, 2, 1)
        self.final_group.buttonClicked.connect(self._final_clicked)

        grid.addWidget(QLabel(f"{domain.rationale_label}:"), 3, 0, Qt.AlignmentFlag.AlignTop)
        self.domain_rationale = CommitTextEdit(lines=3)
        self.domain_rationale.setAccessibleName(f"{domain.id}: {domain.rationale_label}")
        if domain.describe:
            self.domain_rationale.setPlaceholderText(" ".join(domain.describe))
        self.domain_rationale.committed.connect(
            lambda text: self.apply(lambda doc: doc.set_domain(self.key, rationale=text)))
        grid.addWidget(self.domain_rationale, 3, 1)
        self.judgement_warning = QLabel()
        self.judgement_warning.setObjectName("judgementWarning")
        self.judgement_warning.setWordWrap(True)
        self.judgement_warning.setStyleSheet("QLabel { color: #8c1d18; font-weight: 600; }")
        grid.addWidget(self.judgement_warning, 4, 0, 1, 2)
        return box

    def _build_applicability(self, part: Part, domain: Domain, app: Applicability) -> QGroupBox:
        box = QGroupBox("Concern regarding applicability")
        box.setObjectName("applicabilityBox")
        grid = QGridLayout(box)
        grid.setColumnStretch(1, 1)
        grid.setColumnMinimumWidth(0, JUDGEMENT_LABEL_WIDTH)
        grid.addWidget(Note(app.prompt), 0, 0, 1, 2)
        grid.addWidget(QLabel("Concern:"), 1, 0)
        self.app_group = QButtonGroup(self)
        row = QHBoxLayout()
        self.app_buttons: dict[str | None, QRadioButton] = {}
        levels = dict(self.ctx.doc.instrument.levels)
        for level in (None, *LEVELS):
            radio = QRadioButton(NOT_RATED if level is None else level_text(level, levels))
            radio.setAccessibleName(f"{domain.id}: applicability concern {level or 'not rated'}")
            self.app_group.addButton(radio)
            self.app_buttons[level] = radio
            row.addWidget(radio)
        row.addStretch(1)
        grid.addLayout(row, 1, 1)
        self.app_group.buttonClicked.connect(self._applicability_clicked)
        label = part.applicability_rationale_label or app.rationale_label
        grid.addWidget(QLabel(f"{label}:"), 2, 0, Qt.AlignmentFlag.AlignTop)
        self.app_rationale = CommitTextEdit(lines=2)
        self.app_rationale.setAccessibleName(f"{domain.id}: applicability rationale")
        if app.describe:
            self.app_rationale.setPlaceholderText(app.describe)
        self.app_rationale.committed.connect(
            lambda text: self.apply(
                lambda doc: doc.set_domain(self.key, applicability_rationale=text)))
        grid.addWidget(self.app_rationale, 2, 1)
        return box

    # --- layout ----------------------------------------------------------------------------------
    COMPACT_BELOW_PX = 1000  # narrower pages put rationale and source under the answer buttons

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._apply_compact()

    def _apply_compact(self) -> None:
        # The page's own width: its scroll area's viewport is resized only after this event.
        compact = self.width() < self.COMPACT_BELOW_PX
        if compact == self._compact:
            return
        self._compact = compact
        for card in self.cards.values():
            for editor in card.editors.values():
                editor.place(compact)

    # --- keyboard navigation -----------------------------------------------------------------
    def bars(self) -> list[AnswerBar]:
        return [editor.bar for card in self.cards.values() for editor in card.editors.values()]

    def focus_slot(self, key: str) -> bool:
        """Put the keyboard on slot ``key``'s answers, scrolled into view."""
        bar = next((b for b in self.bars() if b.slot_key == key), None)
        if bar is None:
            return False
        bar.setFocus(Qt.FocusReason.OtherFocusReason)
        self.scroll_area.ensureWidgetVisible(bar, 50, 80)
        return True

    def move_from(self, bar: AnswerBar, step: int) -> None:
        """Up/Down in an answer bar: the previous/next slot of this page."""
        bars = self.bars()
        index = bars.index(bar) + step
        if 0 <= index < len(bars):
            self.focus_slot(bars[index].slot_key)

    def next_unanswered(self) -> None:
        """Jump to the next unanswered slot after the focused one, across domains."""
        domain_commands.next_unanswered(self)

    def copy_dev_to_val(self) -> None:
        """Copy this domain's Development answers to Validation (asks before replacing)."""
        domain_commands.copy_dev_to_val(self)

    # --- editing ---------------------------------------------------------------------------------
    def apply(self, change: Callable[[Assessment], None]) -> None:
        """Run one document mutation; a refused value goes to the error funnel."""
        try:
            change(self.ctx.doc)
        except ProbityError as exc:
            self.ctx.show_error(exc)
            self.refresh_now()

    @Slot(object)
    def _final_clicked(self, button: QRadioButton) -> None:
        final = next((lvl for lvl, b in self.final_buttons.items() if b is button), None)
        self.apply(lambda doc: doc.set_domain(self.key, final=final))

    @Slot(object)
    def _applicability_clicked(self, button: QRadioButton) -> None:
        level = next((lvl for lvl, b in self.app_buttons.items() if b is button), None)
        self.apply(lambda doc: doc.set_domain(self.key, applicability=level))

    # --- state -----------------------------------------------------------------------------------
    def result(self) -> DomainResult | None:
        try:
            return self.ctx.judgement().domain(self.key)
        except KeyError:  # study type not chosen, or this part does not apply
            return None

    def is_complete(self) -> bool:
        result = self.result()
        return result is not None and domain_complete(result)

    def level(self) -> str | None:
        result = self.result()
        if result is None:
            return None
        return result.final or result.suggested

    def needs_attention(self) -> bool:
        result = self.result()
        return result is not None and (result.needs_decision or result.rationale_missing)

    def refresh(self) -> None:
        doc = self.ctx.doc
        if tuple(s.key for s in self._slots()) != self._signature:
            self._rebuild()  # study type or performance types changed the questions asked
            return
        answers = doc.answers
        for card in self.cards.values():
            for key, editor in card.editors.items():
                answer = answers.get(key)
                if answer is None:
                    editor.show(None, "", "")
                else:
                    editor.show(answer.value, answer.rationale, format_sources(answer.sources))
        levels = dict(doc.instrument.levels)
        result = self.result()
        dj = doc.domain_judgement(self.key)
        suggested = result.suggested if result else None
        self.suggested_chip.set_level(suggested, level_text(suggested, levels)
                                      if suggested else "Not yet")
        if result is not None:
            self.progress_label.setText(f"{result.answered} of {result.applicable} answers given")
        # With a low/unclear suggestion "no explicit final" means the suggestion is the final
        # judgement; with a high one (or none yet) it means the reviewer has not decided.
        self.final_follow.setText(
            f"Use the suggestion ({level_text(suggested, levels)})"
            if suggested in ("low", "unclear") else "Not decided yet")
        for widget in (*self.final_buttons.values(), self.final_follow):
            widget.blockSignals(True)
        target = self.final_buttons.get(dj.final) if dj.final else self.final_follow
        self.final_group.setExclusive(True)
        (target or self.final_follow).setChecked(True)
        for widget in (*self.final_buttons.values(), self.final_follow):
            widget.blockSignals(False)
        final = result.final if result else None
        self.final_chip.set_level(final, f"Final: {level_text(final, levels)}")
        self.domain_rationale.show_value(dj.rationale)
        self.judgement_warning.setText(self._warning(result, levels))
        self.judgement_warning.setVisible(bool(self.judgement_warning.text()))
        self.domain_rationale.setProperty("required", bool(result and result.rationale_missing))
        self.domain_rationale.setStyleSheet(
            "QTextEdit { border: 2px solid #8c1d18; }"
            if result and result.rationale_missing else "")
        if self.applicability_box is not None:
            self.app_buttons[dj.applicability].setChecked(True)
            self.app_rationale.show_value(dj.applicability_rationale)

    def _warning(self, result: DomainResult | None, levels: dict[str, str]) -> str:
        if result is None:
            return ""
        if result.rationale_missing:
            return (f"Your final judgement ({level_text(result.final, levels)}) departs from the "
                    f"suggested {level_text(result.suggested, levels)}: write a rationale.")
        if result.needs_decision:
            flagged = ", ".join(sorted({k.split("@")[0] for k in result.flagged}))
            return (f"Answers N/PN on {flagged} suggest {level_text('high', levels)}: confirm it "
                    "or choose another judgement and give a rationale.")
        return ""
