"""The report model: what the signed PDF will say, built by pure functions from one snapshot.

The snapshot is the saved assessment (its exact bytes, which the PDF embeds) and the evaluation
record inside it. Everything the renderer prints about who assessed and signed, how complete the
assessment is, whether the evaluation still matches the document, and the demographics table
comes from here, so the GUI (Summary and Sign pages), the CLI and the PDF say the same thing and a
test can assert on rows instead of PDF text.

- :func:`stale_inputs` compares what the evaluation used (its own stored spec and mapping) with
  what the document says now: training demographics, reference population, the data→datasheet
  attribute map and the column mapping.
- :func:`demographics_tables` joins the evaluation's representativeness rows with the counts the
  evaluation used, by the engine's normaliser (:func:`group_key`), so "Black" in the data and
  "black" in the datasheet are one row and the counts match the flags beside them.
- :func:`report_warnings` lists everything a reviewer should know before signing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assessment.evaluation.representativeness import group_key
from assessment.evaluation.result import EvaluationResult

if TYPE_CHECKING:
    from assessment.document import Assessment, Reviewer

STALE_PREFIX = "The evaluation is out of date: "
DRAFT_PREFIX = "draft — incomplete"


@dataclass(frozen=True)
class Signer:
    """Who signs: the name, role and organisation in the signing certificate."""

    name: str
    role: str = ""
    organisation: str = ""

    def describe(self) -> str:
        return ", ".join(x for x in (self.name, self.role, self.organisation) if x) or "—"


@dataclass(frozen=True)
class DemographicsRow:
    group: str
    training_n: float | None
    training_share: float | None
    validation_n: int | None
    validation_share: float | None
    reference_share: float | None
    flag: str | None


@dataclass(frozen=True)
class DemographicsTable:
    attribute: str  # the datasheet's attribute name
    columns: tuple[str, ...]  # validation-data columns mapped to it under another name
    rows: tuple[DemographicsRow, ...]

    def row(self, group: str) -> DemographicsRow:
        key = group_key(group)
        for r in self.rows:
            if group_key(r.group) == key:
                return r
        raise KeyError(group)


@dataclass(frozen=True)
class ReportModel:
    """The facts of one report, independent of the renderer."""

    title: str
    assessed_by: Reviewer
    signed_by: Signer | None
    open_items: int
    complete: bool
    status: str
    stale: tuple[str, ...]
    warnings: tuple[str, ...]
    demographics: tuple[DemographicsTable, ...] = field(default=())

    @property
    def stale_banner(self) -> str | None:
        """The summary page's banner when the document changed after the run."""
        if not self.stale:
            return None
        return STALE_PREFIX + "; ".join(self.stale) + ". Run the evaluation again before signing."

    def signature_reason(self, reason: str) -> str:
        """``reason`` for a complete assessment; the draft status in front of it otherwise."""
        return reason if self.complete else f"{draft_status(self.open_items)}: {reason}"

    def table(self, attribute: str) -> DemographicsTable:
        key = group_key(attribute)
        for t in self.demographics:
            if group_key(t.attribute) == key:
                return t
        raise KeyError(attribute)


# ---------------------------------------------------------------------------- comparisons


def _distributions(value: Any) -> dict[str, dict[str, float]]:
    """{attribute key: {group key: count or share}} for comparing like with like."""
    out: dict[str, dict[str, float]] = {}
    if not isinstance(value, dict):
        return out
    for attr, groups in value.items():
        if not isinstance(groups, dict):
            continue
        cells: dict[str, float] = {}
        for g, v in groups.items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                cells[group_key(str(g))] = float(v)
        if cells:
            out[group_key(str(attr))] = cells
    return out


def _changed_attributes(used: Any, now: Any) -> list[str]:
    a, b = _distributions(used), _distributions(now)
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def stale_inputs(doc: Assessment) -> list[str]:
    """What the document says differently now from what its evaluation used (empty: current).

    Each item names the input and the attributes concerned, e.g. "training demographics (race)
    changed in the datasheet". The evaluation's record holds the settings it ran with once
    (schema 2), so only the document's own figures can have moved since.
    """
    record = doc.evaluation
    if record is None or record.result is None:
        return []
    used = record.result.evaluation_spec()
    out: list[str] = []
    training = _changed_attributes(used.training_demographics, doc.training_demographics)
    if training:
        out.append(f"training demographics ({', '.join(training)}) changed in the datasheet")
    population = _changed_attributes(used.reference_population, doc.reference_population)
    if population:
        out.append(f"reference population ({', '.join(population)}) changed")
    return out


# ---------------------------------------------------------------------------- demographics


def _share_map(dist: dict[str, Any]) -> tuple[dict[str, float], float]:
    cells = {g: float(v) for g, v in dist.items() if isinstance(v, int | float)}
    return cells, sum(cells.values())


def _lookup(source: dict[str, Any], attribute: str) -> tuple[str | None, dict[str, Any]]:
    key = group_key(attribute)
    for name, dist in source.items():
        if group_key(name) == key and isinstance(dist, dict):
            return name, dist
    return None, {}


def demographics_tables(doc: Assessment) -> list[DemographicsTable]:
    """One table per demographic attribute, from the evaluation's own inputs when it has run.

    With an evaluation, the training counts and reference shares are those the evaluation used
    (so they agree with its flags; :func:`stale_inputs` says when the datasheet has changed
    since); without one, the document's current figures. Groups are joined by
    :func:`group_key`, the engine's normaliser; a row keeps the first spelling seen (the
    datasheet's, then the data's).
    """
    record = doc.evaluation
    result: EvaluationResult | None = record.result if record is not None else None
    training: dict[str, Any]
    reference: dict[str, Any]
    mapped: dict[str, str] = {}
    if result is not None:
        spec = result.evaluation_spec()
        training, reference = dict(spec.training_demographics), dict(spec.reference_population)
        mapped = dict(spec.demographics_map)
    else:
        training = dict(doc.training_demographics)
        reference = dict(doc.reference_population)
    reps = list(result.representativeness) if result is not None else []
    names: dict[str, str] = {}  # attribute key -> display name
    for name in [*training, *reference, *(mapped.get(x.attribute, x.attribute) for x in reps)]:
        names.setdefault(group_key(name), name)
    tables: list[DemographicsTable] = []
    for akey, attr in names.items():
        _, tr = _lookup(training, attr)
        _, ref = _lookup(reference, attr)
        tcells, ttotal = _share_map(tr)
        rcells, rtotal = _share_map(ref)
        rep_rows = [x for x in reps if group_key(mapped.get(x.attribute, x.attribute)) == akey]
        columns = tuple(sorted({x.attribute for x in rep_rows if group_key(x.attribute) != akey}))
        order: dict[str, str] = {}
        for g in [*tcells, *rcells, *(x.group for x in rep_rows)]:
            order.setdefault(group_key(str(g)), str(g))
        by_key_t = {group_key(g): v for g, v in tcells.items()}
        by_key_r = {group_key(g): v for g, v in rcells.items()}
        by_key_v = {group_key(x.group): x for x in rep_rows}
        rows = []
        for gkey, label in order.items():
            t = by_key_t.get(gkey)
            r = by_key_r.get(gkey)
            v = by_key_v.get(gkey)
            rows.append(DemographicsRow(
                group=label,
                training_n=t,
                training_share=(t / ttotal) if t is not None and ttotal else None,
                validation_n=v.validation_n if v is not None else None,
                validation_share=v.validation_share if v is not None else None,
                reference_share=(r / rtotal) if r is not None and rtotal else None,
                flag=v.flag if v is not None else None,
            ))
        tables.append(DemographicsTable(attr, columns, tuple(rows)))
    return tables


# ---------------------------------------------------------------------------- status


def draft_status(open_items: int) -> str:
    """The words a signature reason and the cover use for an incomplete assessment."""
    return f"{DRAFT_PREFIX} ({open_items} open item{'s' if open_items != 1 else ''})"


def signature_reason(doc: Assessment, reason: str) -> str:
    """``reason`` for a complete assessment; the draft status in front of it otherwise."""
    from assessment.judgement import judge

    j = judge(doc)
    return reason if j.complete else f"{draft_status(j.open_items)}: {reason}"


def report_warnings(doc: Assessment, *, glyph_texts: tuple[str, ...] = ()) -> list[str]:
    """What a reviewer should know before signing: fonts, a stale evaluation, open items.

    ``glyph_texts`` are extra texts to check against the bundled font (the document's own
    title, reviewer and answers are always checked).
    """
    from assessment.judgement import judge
    from reports.fonts import missing_glyphs

    out: list[str] = []
    texts = [doc.title, *doc.reviewer.to_json().values(), *glyph_texts]
    texts += [a.rationale for a in doc.answers.values()]
    missing = set().union(*(missing_glyphs(t) for t in texts if t))
    if missing:
        out.append("Characters not in the bundled font print as boxes: " + "".join(sorted(missing)))
    stale = stale_inputs(doc)
    if stale:
        out.append(STALE_PREFIX + "; ".join(stale) + ".")
    j = judge(doc)
    if not j.complete:
        out.append(f"The assessment is incomplete: {j.open_items} open item"
                   f"{'s' if j.open_items != 1 else ''} (unanswered questions, applicability "
                   "ratings and pending decisions); signing it marks the report as a draft.")
    return out


def report_model(doc: Assessment, *, signer: Signer | None = None) -> ReportModel:
    """The report's facts for one snapshot of the document (pure; no PDF is built)."""
    from assessment.judgement import judge

    j = judge(doc)
    status = "Complete" if j.complete else (
        draft_status(j.open_items).capitalize() + ", listed in the summary"
    )
    return ReportModel(
        title=doc.title,
        assessed_by=doc.reviewer,
        signed_by=signer,
        open_items=j.open_items,
        complete=j.complete,
        status=status,
        stale=tuple(stale_inputs(doc)),
        warnings=tuple(report_warnings(doc)),
        demographics=tuple(demographics_tables(doc)),
    )


__all__ = [
    "DemographicsRow",
    "DemographicsTable",
    "ReportModel",
    "Signer",
    "demographics_tables",
    "draft_status",
    "report_model",
    "report_warnings",
    "signature_reason",
    "stale_inputs",
]
