"""Instruments as data: load and strictly validate ``resources/instruments/*.json``.

PROBAST 2019, PROBAST+AI 2025, the model card and the datasheet are JSON files (schema
``probity-instrument/1``), so that a corrected wording is a data change, not a code change. Every
rule the rest of Probity relies on (unique ids, the allowed answer codes, "NA" only on the
instrument's conditional items, columns / performance types / study types / overall tables that
point at things that exist) is checked here, once, when the file is loaded. A broken file is an
:class:`~assessment.errors.InstrumentError` naming the file and the JSON path of the first problem,
never a ``KeyError`` deep inside the GUI or the report.

The data model is :mod:`assessment.instrument_model`, the JSON checks are
:mod:`assessment.instrument_checker`, :mod:`assessment.instrument_rob` and
:mod:`assessment.instrument_forms`; this module loads the installed files and re-exports every
public name, so ``from assessment.instruments import ...`` keeps working.

This module is pure Python: no Qt, no reportlab.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, TypeVar

from assessment.catalogue import ANSWER_CODES, BASE_ANSWERS, LEVELS, NOT_APPLICABLE
from assessment.errors import InstrumentError
from assessment.instrument_forms import validate_form_data
from assessment.instrument_model import (
    CHOICE_TYPES,
    CONFIDENCE_TAGS,
    FIELD_TYPES,
    FORM_FILES,
    INSTRUMENT_FILES,
    OVERALL_AXES,
    PART_AXES,
    REQUIRED_DEMOGRAPHICS,
    REQUIRED_FORM_FIELDS,
    RESOURCE_FOLDER,
    RESOURCE_PACKAGE,
    SCHEMA,
    Applicability,
    DemographicAttribute,
    Domain,
    Form,
    FormField,
    FormSection,
    Instrument,
    Option,
    OverallRule,
    Part,
    Prompt,
    Question,
    ReviewQuestionField,
    StudyType,
    Variant,
)
from assessment.instrument_rob import validate_instrument_data

# --------------------------------------------------------------------------- public loading


def available_instruments() -> list[tuple[str, str]]:
    """(id, display title) of every risk-of-bias instrument, for pickers."""
    return [(iid, load_instrument(iid).title) for iid in INSTRUMENT_FILES]


def available_forms() -> list[tuple[str, str]]:
    """(id, display title) of every form instrument."""
    return [(fid, load_form(fid).title) for fid in FORM_FILES]


@cache
def load_instrument(instrument_id: str) -> Instrument:
    """Load and validate a risk-of-bias instrument (cached: instruments are immutable)."""
    return _load(instrument_id, INSTRUMENT_FILES, "instrument", validate_instrument_data)


@cache
def load_form(form_id: str) -> Form:
    """Load and validate a form instrument (model card, datasheet); cached like instruments."""
    return _load(form_id, FORM_FILES, "form", validate_form_data)


_Loaded = TypeVar("_Loaded", Instrument, Form)


def _load(
    item_id: str,
    files: Mapping[str, str],
    noun: str,
    validate: Callable[[Any, str], _Loaded],
) -> _Loaded:
    """Read, validate and check that the file declares the id it is installed under."""
    filename = files.get(item_id)
    if filename is None:
        raise InstrumentError(f"Unknown {noun} '{item_id}'; known {noun}s: {', '.join(files)}.")
    source = f"{RESOURCE_PACKAGE}/{RESOURCE_FOLDER}/{filename}"
    loaded = validate(_read_json(filename, source), source)
    if loaded.id != item_id:
        raise InstrumentError(
            f"Instrument file {source} is invalid at $.id: it declares '{loaded.id}' but is "
            f"installed as '{item_id}'. Reinstall Probity or correct the file."
        )
    return loaded


def installed_files() -> list[str]:
    """File names of every instrument and form Probity expects under resources/instruments."""
    from assessment.ubr import RESOURCE_FILE as UBR_FILE  # the datasheet's UBR/checklist items

    return [*INSTRUMENT_FILES.values(), *FORM_FILES.values(), UBR_FILE]


def _folder() -> Traversable:
    """The installed instruments folder (a separate function so tests can point it elsewhere)."""
    return resources.files(RESOURCE_PACKAGE) / RESOURCE_FOLDER


def _read_json(filename: str, source: str) -> Any:
    ref = _folder() / filename
    try:
        text = ref.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InstrumentError(
            f"Instrument file {source} is missing from the installation; reinstall Probity."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InstrumentError(
            f"Instrument file {source} cannot be read ({exc}); reinstall Probity."
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InstrumentError(
            f"Instrument file {source} is not valid JSON (line {exc.lineno}, column "
            f"{exc.colno}: {exc.msg}); reinstall Probity or correct the file."
        ) from None


__all__ = [
    "ANSWER_CODES",
    "BASE_ANSWERS",
    "LEVELS",
    "NOT_APPLICABLE",
    "SCHEMA",
    "RESOURCE_PACKAGE",
    "RESOURCE_FOLDER",
    "PART_AXES",
    "OVERALL_AXES",
    "CONFIDENCE_TAGS",
    "FIELD_TYPES",
    "CHOICE_TYPES",
    "INSTRUMENT_FILES",
    "FORM_FILES",
    "REQUIRED_FORM_FIELDS",
    "REQUIRED_DEMOGRAPHICS",
    "Variant",
    "Option",
    "ReviewQuestionField",
    "Question",
    "Applicability",
    "Domain",
    "Part",
    "StudyType",
    "OverallRule",
    "Prompt",
    "Instrument",
    "DemographicAttribute",
    "FormField",
    "FormSection",
    "Form",
    "available_forms",
    "available_instruments",
    "installed_files",
    "load_form",
    "load_instrument",
    "validate_form_data",
    "validate_instrument_data",
]
