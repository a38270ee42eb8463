"""What the results page or a sibling mixin defines, declared once for the type checker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assessment.evaluation.result import EvaluationResult

SLIDER_STEPS = 1000


class ResultsPageParts:
    """What the page or a sibling mixin defines (declared once for the type checker)."""

    if TYPE_CHECKING:  # defined by the page; declared here only for the type checker

        @property
        def result(self) -> EvaluationResult | None: ...  # the page's view-model holds it

        def _shows_session_run(self) -> bool: ...  # is the shown result the session's run?

    _colours: Any
    _curves_key: Any
    _frames: Any
    _plot_request: Any
    _plots_built: Any
    _result_serial: Any
    attribute_combo: Any
    calibration: Any
    ctx: Any
    forest: Any
    live_source: Any
    metric_combo: Any
    models: Any
    notes_view: Any
    plot_tabs: Any
    proxies: Any
    refreshed: Any
    roc: Any
    shares: Any
    slider: Any
    source_label: Any
    table_tabs: Any
    threshold: Any
    threshold_label: Any
    threshold_note: Any
    views: Any
    _binding: Any
    rerun_button: Any
    session: Any
    threshold_box: Any
    vm: Any
