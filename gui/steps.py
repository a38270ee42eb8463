"""The workflow's steps, derived from the open document's instrument and study type.

A step names the page class that shows it by module path, so heavy pages (data preview, plots,
signing) are imported only when first needed: the main window's start-up never pays for pandas,
pyqtgraph or reportlab.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from assessment.document import Assessment

DATA_PAGE = "gui.data.page:ValidationDataPage"
RESULTS_PAGE = "gui.results.page:ResultsPage"
EXPORT_PAGE = "gui.export.page:SignExportPage"
COMPARE_PAGE = "gui.compare.page:ComparisonPage"
VERIFY_DIALOG = "gui.export.verify_dialog:VerifyDialog"


@runtime_checkable
class StepPage(Protocol):
    """What the window asks of every page (each implements all of it; see :class:`PageDefaults`)."""

    def is_complete(self) -> bool:
        """Whether the step has nothing left to do (its icon's tick)."""
        ...

    def level(self) -> str | None:
        """The judgement level the step's icon shows, or None."""
        ...

    def needs_attention(self) -> bool:
        """Whether the step waits for the reviewer's decision (its icon's warning)."""
        ...

    def commit_pending(self) -> None:
        """Commit text still being typed (before Save, Undo or close)."""
        ...

    def detach(self) -> None:
        """Stop following the document: the window is about to delete the page."""
        ...


class PageDefaults:
    """The step-page protocol's answers for a page with nothing to add to them."""

    def level(self) -> str | None:
        return None

    def needs_attention(self) -> bool:
        return False

    def commit_pending(self) -> None:
        return None

    def detach(self) -> None:
        return None


@dataclass(frozen=True)
class Step:
    """One entry of the step list: a key, its label and how to build its page."""

    key: str
    title: str
    group: str
    target: str  # "module:Class"
    args: tuple[Any, ...] = field(default=())


def load_symbol(target: str) -> Any:
    """Import ``module:Name`` on first use (heavy pages pull pandas/pyqtgraph in only then)."""
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def page_factory(step: Step) -> Callable[..., Any]:
    return load_symbol(step.target)


def steps_for(doc: Assessment) -> list[Step]:
    """The steps in workflow order; PROBAST domains come from the instrument data."""
    instrument = doc.instrument
    steps = [
        Step("review", "Review question & model", "Assessment", "gui.pages.review:ReviewPage"),
        Step("model_card", "Model card", "Assessment", "gui.pages.forms:ModelCardPage"),
        Step("datasheet", "Training data", "Assessment", "gui.pages.forms:DatasheetPage"),
        Step("evidence", "Evidence", "Assessment", "gui.pages.evidence_page:EvidencePage"),
    ]
    parts = list(instrument.parts)
    if doc.study_type is not None:
        chosen = instrument.study_type(doc.study_type).parts
        parts = [p for p in parts if p.id in chosen]
    several = len(instrument.parts) > 1
    for part in parts:
        group = f"{instrument.name}: {part.label}" if several else instrument.name
        for domain in part.domains:
            steps.append(Step(
                key=f"domain:{part.id}:{domain.id}",
                title=f"{domain.id} {domain.name}",
                group=group,
                target="gui.pages.probast:DomainPage",
                args=(part.id, domain.id),
            ))
    steps += [
        Step("plan", "Evaluation plan", "Evaluation", "gui.plan.page:PlanPage"),
        Step("data", "Validation data", "Evaluation", DATA_PAGE),
        Step("population", "Reference population & group labels", "Evaluation",
             "gui.population.page:PopulationPage"),
        Step("results", "Subgroup results", "Evaluation", RESULTS_PAGE),
        Step("compare", "Procurement comparison", "Evaluation", COMPARE_PAGE),
        Step("summary", "Summary & judgement", "Report", "gui.pages.summary:SummaryPage"),
        Step("export", "Sign & export", "Report", EXPORT_PAGE),
    ]
    return steps
