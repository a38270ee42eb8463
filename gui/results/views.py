"""The Subgroup results page's views: plots, labels, cell colours, the threshold slider's scale
and the table export.

Mixins of :class:`gui.results.page.ResultsPage` (they share its widgets and state). Every number
comes from the result snapshot through :mod:`gui.results.frames`; nothing here computes a metric.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QColor

from gui.results import frames

if TYPE_CHECKING:
    from assessment.evaluation.result import EvaluationResult

FLAG_BG = QColor("#FBE3E1")
FLAG_FG = QColor("#7F1D1D")
WARN_BG = QColor("#FFF3CD")
WARN_FG = QColor("#5C4400")
SLIDER_STEPS = 1000
EXPORT_FILTER = "Excel workbook (*.xlsx);;CSV, current table (*.csv)"


class ResultsPageParts:
    """What the page or a sibling mixin defines (declared once for the type checker)."""

    @property
    def result(self) -> EvaluationResult | None:  # the page's view-model holds it
        raise NotImplementedError

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


class ThresholdScale(ResultsPageParts):
    """The slider's scale: the evaluated threshold and the range it moves over."""

    @property
    def evaluated_threshold(self) -> float:
        assert self.result is not None
        return self.result.threshold

    def _threshold_range(self) -> tuple[float, float]:
        assert self.result is not None
        grid = self.result.threshold_grid.get("thresholds") or []
        kind = (self.result.provenance.get("mapping") or {}).get("score_kind")
        if grid:
            lo, hi = float(min(grid)), float(max(grid))
        else:
            lo, hi = 0.0, 1.0
        if kind == "probability":
            lo, hi = min(lo, 0.0), max(hi, 1.0)
        t = self.evaluated_threshold
        lo, hi = min(lo, t), max(hi, t)
        return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)

    def _configure_slider(self) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(self._to_slider(self.evaluated_threshold))
        self.slider.blockSignals(False)
        self.threshold_label.setText(f"{self.evaluated_threshold:.3g}")

    def _to_slider(self, t: float) -> int:
        lo, hi = self._threshold_range()
        return round((t - lo) / (hi - lo) * SLIDER_STEPS)

    def _from_slider(self, v: int) -> float:
        lo, hi = self._threshold_range()
        return lo + (hi - lo) * v / SLIDER_STEPS


class ResultPlots(ThresholdScale):
    """The plots (built on first show), the labels and notes, the tables' row colours."""

    def _ensure_plots(self) -> None:
        """Build the pyqtgraph widgets on first need (pyqtgraph's import is not free)."""
        if self._plots_built:
            return
        from gui.results.plots import CurvePlot, ForestPlot, ShareBars

        self.forest = ForestPlot()
        self.roc = CurvePlot(
            "ROC curves",
            "False positive rate (1 − specificity)",
            "True positive rate (sensitivity)",
        )
        self.calibration = CurvePlot(
            "Calibration",
            "Mean predicted risk",
            "Observed event rate",
            legend_offset=(10, 10),
            fit=True,
        )
        self.shares = ShareBars()
        self.plot_tabs.addTab(self.forest.widget, "Forest plot")
        self.plot_tabs.addTab(self.roc.widget, "ROC by group")
        self.plot_tabs.addTab(self.calibration.widget, "Calibration by group")
        self.plot_tabs.addTab(self.shares.widget, "Representativeness")
        self._plots_built = True

    def _draw_requested_plots(self) -> None:
        if self._plot_request is None or self.result is None:
            return
        metric, attribute, groups = self._plot_request
        self._plot_request = None
        self._draw_plots(metric, attribute, groups)
        self.refreshed.emit()

    def _draw_plots(self, metric: str, attribute: str | None, groups: Any) -> None:
        assert self.result is not None
        result = self.result
        label = frames.metric_label(metric)
        where = attribute or "all attributes"
        rows = []
        overall = None
        for i in range(len(groups)):
            attr, grp = groups["Attribute"].iat[i], groups["Group"].iat[i]
            value = groups["Value"].iat[i]
            if attr == "(all)":
                overall = None if value != value else float(value)
                continue
            flags = str(groups["Flags"].iat[i])
            rows.append(
                {
                    "label": grp if attribute else f"{attr}: {grp}",
                    "value": None if value != value else float(value),
                    "low": groups["CI low"].iat[i],
                    "high": groups["CI high"].iat[i],
                    "flagged": "gap vs reference" in flags,
                    "insufficient": "insufficient" in flags,
                }
            )
        suffix = (
            ""
            if self.threshold is None or metric not in frames.THRESHOLD_METRICS
            else (f" at threshold {self.threshold:.3g}")
        )
        self.forest.show(f"{label} by group ({where}){suffix}", rows, overall)

        # Curves and shares depend on the result and attribute only, not on metric/threshold.
        curves_key = (self._result_serial, attribute)
        if curves_key == self._curves_key:
            return
        self._curves_key = curves_key
        curve_attr = attribute or (frames.attributes(result) or [""])[0]
        roc = []
        cal = []
        for g in result.groups_of(curve_attr):
            curves = g.curves
            auroc = g.metrics.get("auroc")
            auc = auroc.value if auroc is not None else None
            name = f"{g.group} (AUROC {auc:.3f})" if auc is not None else g.group
            if "roc" in curves:
                roc.append((name, curves["roc"].get("fpr") or [], curves["roc"].get("tpr") or []))
            if "reliability" in curves:
                rel = curves["reliability"]
                cal.append((g.group, rel.get("mean_predicted") or [], rel.get("observed") or []))
        self.roc.show(curve_attr, roc)
        self.calibration.show(curve_attr, cal, markers=True)
        rep_attr = (
            attribute
            if attribute and "×" not in attribute
            else (frames.attributes(result) or [""])[0]
        )
        self.shares.show(rep_attr, result.representativeness_of(rep_attr))

    def _update_labels(self, metric: str, live: Any) -> None:
        result = self.result
        assert result is not None
        self.source_label.setText(
            f"Data: {result.provenance.get('file_name') or '?'} — {result.rows_used:,} rows "
            f"used, {result.rows_excluded:,} excluded; evaluated "
            f"{result.created[:16].replace('T', ' ')} at threshold "
            f"{self.evaluated_threshold:.3g}. Reference groups: "
            + ", ".join(f"{a} = {g}" for a, g in result.references.items())
        )
        shown = self.evaluated_threshold if self.threshold is None else self.threshold
        self.threshold_label.setText(f"{shown:.3g}")
        if metric not in frames.THRESHOLD_METRICS:
            note = f"{frames.metric_label(metric)} does not depend on the threshold."
        elif live is None:
            note = (
                f"Values and 95% CIs at the evaluated threshold {self.evaluated_threshold:.3g}."
                if self.threshold is None
                else f"{frames.metric_label(metric)} is not stored at other thresholds; open the "
                "data file and re-run to see it live."
            )
        else:
            how = (
                "computed from the loaded data"
                if self.live_source == "engine"
                else "nearest point of the stored threshold grid"
            )
            note = (
                f"{frames.metric_label(metric)} at threshold {shown:.3g} ({how}); CIs and "
                f"disparity flags refer to the evaluated threshold "
                f"{self.evaluated_threshold:.3g} — re-run to get them here."
            )
        self.threshold_note.setText(note)
        notes = list(result.notes)
        methods = result.methods
        text = "\n\n".join(notes)
        if methods:
            text += "\n\nMethods:\n" + "\n".join(
                f"• {frames.metric_label(k)}: {v}" for k, v in methods.items()
            )
        self.notes_view.setPlainText(text)
        self.table_tabs.setTabText(
            self.table_tabs.indexOf(self.notes_view), f"Notes ({len(notes)})"
        )

    def _cell_colour(self, key: str, row: int, column: int, *, background: bool) -> QColor | None:
        colours = self._colours.get(key)
        if colours is None or row >= len(colours):
            return None
        pair = colours[row]
        return pair[0] if background else pair[1]

    @staticmethod
    def _row_colours(key: str, frame: Any) -> list[tuple[QColor | None, QColor | None]]:
        """(background, foreground) per row, computed once per frame (data() is hot)."""
        plain: tuple[QColor | None, QColor | None] = (None, None)
        flag = (FLAG_BG, FLAG_FG)
        warn = (WARN_BG, WARN_FG)
        if key == "groups":
            return [
                flag if "gap vs reference" in f else warn if f else plain
                for f in frame["Flags"].astype(str)
            ]
        if key == "disparities":
            return [flag if f == "flagged" else warn if f else plain for f in frame["Flagged"]]
        if key == "representativeness":
            return [warn if f else plain for f in frame["Flag"]]
        if key == "missingness":
            return [flag if f == "flagged" else warn if f else plain for f in frame["Flagged"]]
        return [plain] * len(frame)


class ResultExport(ResultsPageParts):
    """Export of the result tables (CSV: the table shown; XLSX: every table)."""

    def current_table_key(self) -> str:
        keys = list(self.models)
        index = self.table_tabs.currentIndex()
        return keys[index] if 0 <= index < len(keys) else "groups"

    def export_tables(self) -> None:
        if self.result is None:
            return
        path = self.ctx.ask_save_path(
            "Export result tables", EXPORT_FILTER, "subgroup-results.xlsx"
        )
        if path is None:
            return
        try:
            self.export_to(Path(path))
        except Exception as exc:  # typed DataError from the writer, or OSError
            self.ctx.show_error(exc)
            return
        self.ctx.show_status(f"Exported {Path(path).name}")

    def export_to(self, path: Path) -> Path:
        """CSV: the table on screen (as sorted); XLSX: every table, all metrics, one sheet each."""
        from assessment.evaluation.export import write_csv, write_xlsx

        assert self.result is not None
        if path.suffix.lower() not in (".csv", ".xlsx"):
            path = path.with_suffix(".xlsx")
        if path.suffix.lower() == ".csv":
            key = self.current_table_key()
            write_csv(self._sorted_frame(key), path)
        else:
            write_xlsx(
                {
                    "Groups (all metrics)": frames.long_groups_frame(self.result),
                    "Groups (shown)": self._sorted_frame("groups"),
                    "Disparities": frames.disparities_frame(self.result),
                    "Summary measures": self._frames["summary"],
                    "Representativeness": self._frames["representativeness"],
                },
                path,
            )
        return path

    def _sorted_frame(self, key: str) -> Any:
        """The frame in the order the proxy shows it (what the reviewer sees)."""
        proxy = self.proxies[key]
        frame = self._frames[key]
        order = [proxy.mapToSource(proxy.index(r, 0)).row() for r in range(proxy.rowCount())]
        return frame.iloc[order].reset_index(drop=True)
