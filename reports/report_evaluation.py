"""Report sections about the subgroup evaluation: key findings, missingness, exclusions,
metric tables, disparities, charts and provenance (all from the stored result)."""

from __future__ import annotations

import json
import platform
from typing import TYPE_CHECKING, Any

from reportlab.platypus import (
    CondPageBreak,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
)

from assessment.catalogue import (
    FOREST_METRICS,
    METRIC_LABELS,
    metric_label,
    metric_short,
    summary_measure_label,
)
from assessment.evaluation.mirrors import MIRRORS, judged_on
from reports import charts
from reports.layout import (
    FRAME_WIDTH,
)
from reports.markup import esc

if TYPE_CHECKING:
    from assessment.evaluation.result import GroupResult, SummaryMeasure

from reports.report_base import (
    METRICS_PER_TABLE,
    SectionBuilder,
    _ci,
    _clip_cell,
    _fmt,
    _version,
)


def _metric_cell(metric: str, width: float) -> str:
    """The metric's full label, or its short one where the full one would overflow the cell."""
    label = metric_label(metric)
    return label if _clip_cell(label, width) == label else _clip_cell(metric_short(metric), width)


def _summary_ci(x: SummaryMeasure) -> str:
    """Value [CI], or the value with the reason it has no interval (or why it has no value)."""
    if x.value is None:
        return f"— ({x.reason or 'no value'})"
    if x.ci_low is None or x.ci_high is None:
        return f"{_ci(x)} (no CI: {x.reason or 'not available'})"
    return _ci(x)


class EvaluationSections(SectionBuilder):
    """Sections from the stored evaluation result."""

    def key_findings(self) -> list[Any]:
        r = self.result
        if r is None:
            return [self.p("No subgroup evaluation is attached to this assessment.")]
        out: list[Any] = []
        out += self.headline_measures()
        # the findings use the multiplicity-adjusted flag; a mirror pair (FPR/TNR, TPR/FNR) is
        # one disparity with one verdict: listed once, on its primary, naming the mirror
        flagged = [d for d in r.flagged_adjusted() if d.metric not in MIRRORS]
        mirror_of = {p: m for m, p in MIRRORS.items()}
        small = {(g.attribute, g.group) for g in r.insufficient()}
        # groups with enough data first; a gap of an insufficient-data group is marked
        flagged.sort(key=lambda d: ((d.attribute, d.group) in small
                                    or (d.reason or "").startswith("insufficient")))
        if flagged:
            method = "Benjamini–Hochberg" if r.evaluation_spec().multiplicity == "bh" else "Holm"
            raw = len([d for d in r.flagged() if d.metric not in MIRRORS])
            rows: list[list[Any]] = [["Attribute", "Group vs reference", "Metric",
                                      "Difference [95% CI]", "Ratio [95% CI]"]]
            for d in flagged:
                thin_mark = ((d.attribute, d.group) in small
                             or (d.reason or "").startswith("insufficient"))
                # the mark comes first and the cell wraps: a clipped label must not lose it
                label = ("⚠ insufficient data: " if thin_mark else "") + \
                    f"{d.group} vs {d.reference}"
                mirror = (f" (one verdict with its mirror {metric_short(mirror_of[d.metric])})"
                          if d.metric in mirror_of else "")
                rows.append([_clip_cell(d.attribute, 68), self.cell(label, small=True),
                             self.cell(metric_label(d.metric) + mirror, small=True),
                             _ci(d.difference), _ci(d.ratio)])
            out += [self.p(esc(f"{len(flagged)} flagged disparities after the {method} "
                               "adjustment within each metric family "
                               f"({raw} on unadjusted intervals): the gap is beyond the metric's "
                               "tolerance, its 95% interval excludes parity and its adjusted "
                               "p-value is below 0.05. Rows marked ⚠ involve a group with "
                               "insufficient data: shown, but not firm evidence.")),
                    self.table(rows, [70, 150, 85, 94, FRAME_WIDTH - 399], long=True,
                               extra=self._compact())]
        elif not any(d.p_adjusted is not None for d in r.disparities):  # fixF: none judged
            out.append(self.p(esc(f"No disparity could be judged: none of the "
                                  f"{len(r.disparities):,} group-versus-reference comparisons "
                                  "has an interval and a p-value (see the notes for why), so "
                                  "the absence of flags says nothing about the model's "
                                  "fairness.")))
        else:
            out.append(self.p("No disparity was flagged against the tolerances in the "
                              "evaluation specification after the multiplicity adjustment."))
        thin = r.insufficient()
        if thin:
            out.append(self.p(f"<b>{len(thin)} groups with insufficient data</b> (shown in the "
                              "tables, estimates unreliable):"))
            out += [self.p("• " + esc(f"{g.attribute} = {g.group}: "
                                      + "; ".join(g.flag_reasons)), self.s.small)
                    for g in thin]
        out += self.missingness_findings()
        reps = [x for x in r.representativeness if x.flag]
        if reps:
            out.append(self.p(f"<b>{len(reps)} representativeness flags</b>:"))
            out += [self.p("• " + esc(f"{x.attribute} = {x.group}: "
                                      f"{(x.flag or '').replace('_', ' ')} — {x.reason or ''}"),
                           self.s.small) for x in reps]
        else:
            out.append(self.p("No representativeness flag."))
        return out

    def missingness_findings(self) -> list[Any]:
        """Groups that lose more (or fewer) rows to exclusion than the rest."""
        rows = self.result.missingness if self.result is not None else ()
        hits = [m for m in rows if m.flagged_adjusted or m.flagged]
        if not rows:
            return []
        if not hits:
            return [self.p("No differential missingness: no group's exclusion rate differs "
                           "from the rest beyond the tolerance with an interval excluding 0.")]
        out = [self.p(f"<b>{len(hits)} groups with differential missingness</b> (exclusion "
                      "rate vs the rest, Newcombe 95% CI; their metrics come from a selected "
                      "subset):")]
        for m in hits:
            how = "flagged after adjustment" if m.flagged_adjusted else \
                "unadjusted interval only"
            out.append(self.p("• " + esc(
                f"{m.attribute} = {m.group}: {m.excluded} of {m.rows_read} rows "
                f"excluded ({(m.rate or 0):.1%} vs {(m.rest_rate or 0):.1%}); "
                f"difference {_ci(m.difference)}; {how}"), self.s.small))
        return out

    def exclusions_table(self) -> list[Any]:
        """Excluded rows per group and reason (every group of every attribute)."""
        rows_m = self.result.missingness if self.result is not None else ()
        if not rows_m:
            return []
        rows: list[list[Any]] = [["Attribute", "Group", "Rows read", "Excluded (by reason)",
                                  "Rate vs rest [95% CI]", "Flag"]]
        for m in rows_m:
            reasons = "; ".join(f"{k}: {v}" for k, v in m.by_reason.items())
            flag = ("⚑ adjusted" if m.flagged_adjusted else
                    "unadjusted only" if m.flagged else "")
            rows.append([_clip_cell(m.attribute, 78), _clip_cell(m.group, 98),
                         str(m.rows_read),
                         _clip_cell(f"{m.excluded} ({reasons or 'none'})", 128),
                         _ci(m.difference), flag])
        return [CondPageBreak(80), self.heading("Excluded rows by group", 1),
                self.p("Rows without an outcome, score or prediction are excluded (each under "
                       "its first reason). Each group's exclusion rate is compared with that of "
                       "all other rows (difference, Newcombe 95% CI); ⚑ marks a difference "
                       "beyond the tolerance whose multiplicity-adjusted p-value is below 0.05.",
                       self.s.small),
                self.table(rows, [80, 100, 50, 130, 110, FRAME_WIDTH - 470], long=True,
                           extra=self._compact())]

    # ------------------------------------------------------------------ evaluation
    def subgroups(self) -> list[Any]:
        out: list[Any] = [self.heading("Subgroup evaluation")]
        r = self.result
        if r is None:
            return out + [self.p("No subgroup evaluation is attached to this assessment.")]
        spec = r.evaluation_spec()
        out.append(self.p(esc(
            f"Threshold {spec.threshold}, {round(100 * float(spec.ci_level))}% "
            f"confidence intervals, bootstrap B = {spec.bootstrap}, seed "
            f"{spec.seed}; groups with n < {spec.min_n} or fewer than "
            f"{spec.min_events} events are flagged as insufficient data. "
            "Methods per metric are listed in the provenance section.")))
        groups = [r.overall, *r.groups]
        metrics = [m for m in METRIC_LABELS if any(m in g.metrics for g in groups)]
        metrics += sorted({m for g in groups for m in g.metrics} - set(metrics))
        for attr in dict.fromkeys([r.overall.attribute, *r.attributes()]):
            rows_g = [g for g in groups if g.attribute == attr]
            out += [CondPageBreak(140),
                    self.heading(f"Metrics by {attr}" if attr != "(all)" else
                                 "Metrics for the whole validation set", 1)]
            for i in range(0, len(metrics), METRICS_PER_TABLE):
                chunk = metrics[i : i + METRICS_PER_TABLE]
                out.append(self._metric_table(rows_g, chunk))
                out.append(Spacer(1, 6))
        out += self.disparities()
        out += self.exclusions_table()
        out += self.chart_section()
        notes = r.notes
        if notes:
            out += [self.heading("Notes from the evaluation", 1)]
            out += [self.p("• " + esc(n), self.s.small) for n in notes]
        return out

    def _metric_table(self, groups: list[GroupResult], metrics: list[str]) -> Table:
        """Numbers as plain cell strings (not parsed as markup, and fast to lay out)."""
        header = ["Group", "n", "Events"] + [metric_label(m) + " [95% CI]"
                                             for m in metrics]
        rows: list[list[Any]] = [[Paragraph(esc(h), self.s.cell_bold) for h in header]]
        for g in groups:
            label = g.group + (" ⚑" if g.flags else "")
            row: list[Any] = [self.cell(label, small=True), str(g.n), str(g.n_pos)]
            for m in metrics:
                e = g.metric_or_none(m)
                if e is None:
                    row.append("—")
                elif e.value is None:
                    row.append(self.cell(f"undefined: {e.reason or 'no estimate'}", small=True))
                elif e.ci_low is not None and e.ci_high is not None:
                    row.append(f"{_fmt(e.value)}\n[{_fmt(e.ci_low)}, {_fmt(e.ci_high)}]")
                else:
                    row.append(f"{_fmt(e.value)}\n(no CI)")
            rows.append(row)
        first, nw, ew = 110.0, 36.0, 36.0
        mw = (FRAME_WIDTH - first - nw - ew) / len(metrics)
        return self.table(rows, [first, nw, ew] + [mw] * len(metrics), long=True,
                          extra=self._compact())

    def disparities(self) -> list[Any]:
        r = self.result
        out: list[Any] = [CondPageBreak(120), self.heading("Disparities against the reference "
                                                           "group", 1)]
        refs = r.references if r is not None else {}
        out.append(self.p("Each group is compared with its attribute's reference group "
                          "(difference = group − reference, ratio = group / reference, with 95% "
                          "CIs). ⚑ marks a disparity beyond its metric's tolerance whose "
                          "interval excludes parity and whose multiplicity-adjusted p-value is "
                          "below 0.05 ('unadjusted only': the interval alone); numbered notes "
                          "explain values that are undefined or not judged.", self.s.small))
        dis = r.disparities if r is not None else ()
        for attr in dict.fromkeys(d.attribute for d in dis):
            notes: dict[str, int] = {}
            rows: list[list[Any]] = [["Group", "Metric", "Difference [95% CI]",
                                      "Ratio [95% CI]", "Flag / note"]]
            for d in (x for x in dis if x.attribute == attr):
                flag: Any = ""
                if d.flagged_adjusted:
                    flag = "⚑ flagged"  # the reason restates the tolerance rule given above
                elif d.flagged:
                    flag = "unadjusted only"
                if flag and d.metric in MIRRORS:  # one verdict per mirror pair (issue 9)
                    flag = self.cell(f"{flag} ({judged_on(d.metric)})", small=True)
                elif d.reason:
                    number = notes.setdefault(d.reason, len(notes) + 1)
                    flag = f"note {number}"
                rows.append([_clip_cell(d.group, 108), _metric_cell(d.metric, 100),
                             _ci(d.difference), _ci(d.ratio), flag])
            out += [CondPageBreak(80),
                    self.heading(f"{attr} (reference: {refs[attr] if attr in refs else '—'})",
                                 2),
                    self.table(rows, [110, 100, 110, 110, FRAME_WIDTH - 430], long=True,
                               extra=self._compact())]
            if notes:  # one paragraph, so a page break cannot strand a single note
                out.append(self.p("<br/>".join(esc(f"Note {n}: {text}")
                                               for text, n in notes.items()), self.s.cell_small))
        if not dis:
            out.append(self.p("No disparities computed."))
        summ = r.summary if r is not None else ()
        if summ:
            methods: dict[str, int] = {}
            rows = [["Attribute", "Measure", "Value [95% CI]", "Method"]]
            for s in summ:
                number = methods.setdefault(s.method or "not stated", len(methods) + 1)
                rows.append([self.cell(s.attribute, small=True),
                             summary_measure_label(s.measure),
                             self.cell(_summary_ci(s), small=True), f"method {number}"])
            out += [self.heading("Summary fairness measures", 1),
                    self.table(rows, [110, 150, 130, FRAME_WIDTH - 390],
                               extra=self._compact())]
            out += [self.p(esc(f"Method {n}: {text}"), self.s.cell_small)
                    for text, n in methods.items()]
        return out

    def headline_measures(self) -> list[Any]:
        """Summary fairness measures as the engine computed them: over the groups with
        sufficient data, naming the two groups that set each value and the groups left out
        (results from before that restriction say they include every group)."""
        summ = [x for x in (self.result.summary if self.result is not None else ())
                if x.value is not None]
        if not summ:
            return []
        rows: list[list[Any]] = [["Attribute", "Measure", "Value [95% CI]", "Set by"]]
        left_out: dict[str, dict[str, str]] = {}
        for x in summ:
            left = x.excluded_groups or {}
            left_out.setdefault(x.attribute, {}).update(left)
            note = " vs ".join(x.set_by) or "—"
            rows.append([_clip_cell(x.attribute, 78),
                         summary_measure_label(x.measure),
                         self.cell(_summary_ci(x), small=True),
                         self.cell(note, small=True)])
        restricted = any(x.excluded_groups is not None for x in summ)
        intro = ("Headline measures, over groups with sufficient data only (the two groups "
                 "that set each value are named; a measure without an interval says why):"
                 if restricted else
                 "Headline measures (over every group with a defined value, groups with "
                 "insufficient data included: check the group tables' flags before reading "
                 "them):")
        out: list[Any] = [self.p(intro),
                          self.table(rows, [80, 130, 120, FRAME_WIDTH - 330],
                                     extra=self._compact())]
        for attr, left in left_out.items():
            if left:
                out.append(self.p(esc(f"{attr}: left out of the headline measures — " + "; ".join(
                    f"{g} ({why})" for g, why in left.items())), self.s.small))
        return out

    def chart_section(self) -> list[Any]:
        r = self.result
        out: list[Any] = [PageBreak(), self.heading("Charts", 1)]
        if r is None:
            return out
        groups = r.groups
        for metric in FOREST_METRICS:
            rows = []
            for g in groups:
                e = g.metric_or_none(metric)
                if e is None:
                    continue
                rows.append(charts.ForestRow(
                    label=f"{g.attribute}: {g.group}", value=e.value,
                    low=e.ci_low, high=e.ci_high,
                    flagged=bool(g.flags), note=e.reason or ""))
            if not rows:
                continue
            whole = r.overall.metric_or_none(metric)
            ref = whole.value if whole is not None else None
            out += [CondPageBreak(60 + 13 * len(rows)),
                    self.heading(f"Forest plot: {metric_label(metric)} by group", 2),
                    charts.forest_plot(rows, metric=f"{metric_label(metric)} (95% CI)",
                                       width=FRAME_WIDTH, reference=ref,
                                       reference_label="all patients"),
                    self.p("Squares: estimates; whiskers: 95% CI; dashed line: whole validation "
                           "set; orange and ⚑: group flagged.", self.s.small)]
            self.chart_count += 1
        for attr in r.attributes():
            members = r.groups_of(attr)
            roc = [charts.Series(f"{g.group} (AUROC {_fmt(self._metric(g, 'auroc'))})",
                                 curve["fpr"], curve["tpr"])
                   for g in members if (curve := g.curve("roc")) is not None]
            cal = [charts.Series(g.group, curve["mean_predicted"], curve["observed"])
                   for g in members if (curve := g.curve("reliability")) is not None]
            if not roc and not cal:
                continue
            out += [CondPageBreak(260), self.heading(f"ROC and calibration by {attr}", 2)]
            if roc:
                out.append(charts.curve_chart(roc, title=f"ROC curves by {attr}",
                                              xlabel="False positive rate (1 − specificity)",
                                              ylabel="True positive rate (sensitivity)",
                                              width=FRAME_WIDTH, diagonal="chance"))
                self.chart_count += 1
            if cal:
                out += [Spacer(1, 6),
                        charts.curve_chart(cal, title=f"Calibration by {attr} (reliability "
                                           "diagram)", xlabel="Mean predicted probability",
                                           ylabel="Observed event rate", width=FRAME_WIDTH,
                                           diagonal="perfect calibration", markers=True)]
                self.chart_count += 1
        return out

    @staticmethod
    def _metric(g: GroupResult, metric: str) -> float | None:
        e = g.metric_or_none(metric)
        return e.value if e is not None else None

    # ------------------------------------------------------------------ provenance, audit
    def provenance(self) -> list[Any]:
        out: list[Any] = [self.heading("Provenance")]
        r = self.result
        pairs: list[tuple[str, Any]] = [("Assessment file", self.source_name),
                                        ("Assessment SHA-256", self.sha),
                                        ("Assessment id", self.doc.id),
                                        ("Created / modified",
                                         f"{self.doc.created} / {self.doc.modified}")]
        if r is not None:
            spec = r.evaluation_spec()
            excluded = r.source("excluded") or {}
            pairs += [
                ("Validation data file", r.source("file_name")),
                ("Data SHA-256", r.source("sha256")),
                ("Sheet", r.source("sheet") or "—"),
                ("Rows read / used / excluded", f"{r.source('rows_read')} / "
                 f"{r.source('rows_used')} / {r.source('rows_excluded')}"),
                ("Excluded by reason", "; ".join(f"{k}: {v}" for k, v in excluded.items())
                 or "none"),
                ("Threshold", spec.threshold),
                ("Seed", spec.seed),
                ("Bootstrap replicates B", spec.bootstrap),
                ("Confidence level", spec.ci_level),
                ("Reference group rule", json.dumps(spec.reference.to_json(),
                                                    ensure_ascii=False)),
                ("Tolerance", json.dumps(spec.tolerance.to_json(), ensure_ascii=False)),
                ("Tolerances per metric",
                 r.method("disparity_tolerance")
                 or json.dumps({k: v.to_json() for k, v in spec.tolerances.items()},
                               ensure_ascii=False)),
                ("Multiplicity adjustment", spec.multiplicity),
                ("Intersections", ", ".join("×".join(x) for x in spec.intersections) or "none"),
                ("Minimum n / events", f"{spec.min_n} / {spec.min_events}"),
                ("AUROC method / calibration bins",
                 f"{spec.auroc_method} / {spec.calibration_bins}"),
                ("Evaluation created", r.created),
                ("Engine version", r.engine_version),
            ]
        pairs += [
            ("Software", f"Probity {_version('probity')}, Python {platform.python_version()}"),
            ("Libraries", ", ".join(f"{d} {_version(d)}" for d in (
                "numpy", "pandas", "scipy", "scikit-learn", "reportlab", "pyHanko",
                "cryptography"))),
        ]
        out.append(self.kv_table(pairs, 150))
        if r is not None:
            mapping = r.source("mapping") or {}
            if mapping:
                out += [self.heading("Column mapping", 1),
                        self.kv_table([(k, self._value(v)) for k, v in mapping.items()], 150)]
            methods = r.methods
            if methods:
                out += [self.heading("Statistical methods", 1),
                        self.kv_table([(metric_label(k), v) for k, v in methods.items()],
                                      150)]
        if self.doc.notes.strip():
            out += [self.heading("Reviewer's notes", 1), self.p(esc(self.doc.notes))]
        return out
