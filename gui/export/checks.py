"""What a reviewer must know before signing: the one list the Summary and Sign pages show.

Each warning comes from the layer that owns its rule; this module only gathers them (Qt-free,
so it is tested without a screen):

* incomplete assessment: :func:`assessment.judgement.judge` — every unanswered applicable
  question, every applicability rating and every pending decision counts as one open item;
* characters the report's bundled font cannot draw: :func:`reports.fonts.missing_glyphs` over the
  texts the report checks (:func:`reports.fonts.glyph_warnings`);
* an evaluation out of date: the document's training demographics or reference population
  differ from those the stored evaluation was computed with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assessment.document import Assessment
    from assessment.judgement import Judgement


@dataclass(frozen=True)
class SigningWarning:
    kind: str  # "incomplete" | "stale" | "fonts"
    text: str


def open_item_count(judgement: Judgement) -> int:
    """Every open item: each unanswered question, applicability rating and pending decision.

    ``judgement.problems`` lists all unanswered questions as one line; here each counts.
    """
    others = len(judgement.problems) - (1 if judgement.unanswered else 0)
    return len(judgement.unanswered) + others


def _as_floats(groups: Any) -> dict[str, dict[str, float]]:
    if not isinstance(groups, dict):
        return {}
    return {
        str(a): {str(g): float(v) for g, v in (values or {}).items()}
        for a, values in groups.items()
    }


def stale_inputs(doc: Assessment) -> list[str]:
    """What the stored evaluation used that the document has changed since (empty = current)."""
    config = (doc.evaluation or {}).get("config") or {}
    spec = config.get("spec") if isinstance(config, dict) else None
    if not isinstance(spec, dict):
        return []
    changed = []
    if _as_floats(spec.get("training_demographics")) != _as_floats(doc.training_demographics):
        changed.append("the training data's demographics")
    if _as_floats(spec.get("reference_population")) != _as_floats(doc.reference_population):
        changed.append("the reference population")
    return changed


def signing_warnings(doc: Assessment, judgement: Judgement) -> list[SigningWarning]:
    """The warnings to show before signing, most important first."""
    from reports.fonts import glyph_warnings

    out: list[SigningWarning] = []
    count = open_item_count(judgement)
    if count:
        out.append(
            SigningWarning(
                "incomplete",
                f"The assessment is incomplete ({count} open item{'s' if count != 1 else ''}); "
                "a signed report of it is a draft.",
            )
        )
    changed = stale_inputs(doc)
    if changed:
        out.append(
            SigningWarning(
                "stale",
                "The evaluation is out of date: "
                + " and ".join(changed)
                + " changed after it was run. Re-run it on the Validation data page.",
            )
        )
    out += [SigningWarning("fonts", text) for text in glyph_warnings(doc)]
    return out


def draft_reason(reason: str, judgement: Judgement) -> str:
    """The signature's reason: an incomplete assessment is signed as a draft, saying so."""
    count = open_item_count(judgement)
    if not count:
        return reason
    return f"Draft — incomplete ({count} open item{'s' if count != 1 else ''}). {reason}".strip()
