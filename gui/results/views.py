"""The Subgroup results page's views: plots, labels, cell colours, the threshold slider's scale
and the table export.

Mixins of :class:`gui.results.page.ResultsPage` (they share its widgets and state). Every number
comes from the result snapshot through :mod:`gui.results.frames`; nothing here computes a metric.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QColor

from gui.results import frames
from gui.results.threshold import ThresholdScale
from gui.results.views_parts import SLIDER_STEPS, ResultsPageParts  # noqa: F401 - the page's

FLAG_BG = QColor("#FBE3E1")
FLAG_FG = QColor("#7F1D1D")
WARN_BG = QColor("#FFF3CD")
WARN_FG = QColor("#5C4400")
EXPORT_FILTER = "Excel workbook (*.xlsx);;CSV, current table (*.csv)"

# What an empty plot says instead of bare axes: why, and how to fill it.
ROC_EMPTY = ("No ROC curves: the model gives predicted classes only. Map its score or "
             "probability column on the Validation data step and run again to see them.")
NO_CURVES = "No group has enough cases with both outcomes to draw a curve."
CALIBRATION_EMPTY = {
    "score": "No calibration plot: the model gives a raw score (e.g. deciles or points), not "
             "a predicted risk, so there is no probability to compare with observed rates. If "
             "the model card gives each score's risk, map that probability column on the "
             "Validation data step and run again.",
    "class": "No calibration plot: the model gives predicted classes only. Map a predicted-"
             "probability column on the Validation data step and run again.",
}
SHARES_EMPTY = ("No representativeness figures for {attribute}: enter the training cohort's "
                "group counts on the Training data step, or choose a reference population on "
                "the Reference population & group labels step, then run again.")
NO_TRAINING_SHARES = "no training cohort: enter its counts on the Training data step"


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
        kind = str((result.provenance.get("mapping") or {}).get("score_kind"))
        self.roc.show(curve_attr, roc, empty=ROC_EMPTY if kind == "class" else NO_CURVES)
        self.calibration.show(curve_attr, cal, markers=True,
                              empty=CALIBRATION_EMPTY.get(kind, NO_CURVES))
        rep_attr = (
            attribute
            if attribute and "×" not in attribute
            else (frames.attributes(result) or [""])[0]
        )
        self.shares.show(rep_attr, result.representativeness_of(rep_attr),
                         empty=SHARES_EMPTY.format(attribute=rep_attr or "any attribute"),
                         no_training=NO_TRAINING_SHARES)

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
