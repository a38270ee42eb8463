"""Validation of a form's JSON (model card, datasheet): sections, fields, choice options,
demographics attributes and the fields other modules address by id; builds the :class:`Form`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assessment.instrument_checker import Checker, read_citation
from assessment.instrument_model import (
    CHOICE_TYPES,
    FIELD_TYPES,
    REQUIRED_DEMOGRAPHICS,
    REQUIRED_FORM_FIELDS,
    DemographicAttribute,
    Form,
    FormField,
    FormSection,
)

_FORM_REQUIRED = ("schema", "kind", "id", "version", "name", "citation", "licence", "sections")
_FORM_OPTIONAL = ("title", "wording_source")
_FIELD_REQUIRED = ("id", "label", "type", "guidance", "source")
_FIELD_OPTIONAL = ("required", "options", "attributes", "unit")


def validate_form_data(data: dict[str, Any], source: str) -> Form:
    """Validate raw form JSON (model card, datasheet) and build the :class:`Form`."""
    c = Checker(source)
    c.header(data, "form")
    c.obj(data, "$", _FORM_REQUIRED, _FORM_OPTIONAL)
    for key in ("id", "version", "name", "licence"):
        c.string(data[key], f"$.{key}")
    c.opt_string(data, "wording_source", "$")
    section_ids: dict[str, str] = {}
    field_ids: dict[str, str] = {}
    sections = []
    for i, raw in enumerate(c.array(data["sections"], "$.sections", nonempty=True)):
        path = f"$.sections[{i}]"
        item = c.obj(raw, path, ("id", "title", "source", "fields"), ("description",))
        section_id = c.string(item["id"], f"{path}.id")
        c.unique(section_ids, section_id, f"{path}.id", "section")
        fields = tuple(
            _form_field(c, raw_f, f"{path}.fields[{j}]", section_id, field_ids)
            for j, raw_f in enumerate(c.array(item["fields"], f"{path}.fields", nonempty=True))
        )
        sections.append(FormSection(
            id=section_id, title=c.string(item["title"], f"{path}.title"),
            source=c.string(item["source"], f"{path}.source"),
            description=c.opt_string(item, "description", path) or "", fields=fields,
        ))
    form = Form(id=data["id"], version=data["version"], name=data["name"],
                title=c.opt_string(data, "title", "$") or data["name"],
                citation=read_citation(c, data), licence=data["licence"],
                sections=tuple(sections), source=source)
    _check_required_fields(c, form, field_ids)
    return form


def _form_field(c: Checker, raw: Any, path: str, section_id: str,
                field_ids: dict[str, str]) -> FormField:
    item = c.obj(raw, path, _FIELD_REQUIRED, _FIELD_OPTIONAL)
    field_id = c.string(item["id"], f"{path}.id")
    c.unique(field_ids, field_id, f"{path}.id", "field")
    ftype = item["type"]
    if ftype not in FIELD_TYPES:
        c.fail(f"{path}.type", f"expected one of {', '.join(FIELD_TYPES)}, found {ftype!r}")
    options: tuple[str, ...] = ()
    if ftype in CHOICE_TYPES:
        if "options" not in item:
            c.fail(f"{path}.options", f"a '{ftype}' field needs a list of options")
        options = c.strings(item["options"], f"{path}.options", nonempty=True, what="option")
    elif "options" in item:
        c.fail(f"{path}.options", f"only choice fields have options, this one is '{ftype}'")
    attributes: tuple[DemographicAttribute, ...] = ()
    if ftype == "demographics":
        if "attributes" not in item:
            c.fail(f"{path}.attributes", "a demographics field needs a list of attributes")
        attributes = _attributes(c, item["attributes"], f"{path}.attributes")
    elif "attributes" in item:
        c.fail(f"{path}.attributes", f"only demographics fields have attributes, this one is "
               f"'{ftype}'")
    return FormField(
        id=field_id, section_id=section_id, label=c.string(item["label"], f"{path}.label"),
        type=ftype, guidance=c.string(item["guidance"], f"{path}.guidance"),
        source=c.string(item["source"], f"{path}.source"),
        required=c.boolean(item.get("required", False), f"{path}.required"),
        options=options, attributes=attributes, unit=c.opt_string(item, "unit", path),
    )


def _attributes(c: Checker, value: Any, path: str) -> tuple[DemographicAttribute, ...]:
    seen: dict[str, str] = {}
    out = []
    for i, raw in enumerate(c.array(value, path, nonempty=True)):
        apath = f"{path}[{i}]"
        item = c.obj(raw, apath, ("id", "label", "groups"))
        attr_id = c.string(item["id"], f"{apath}.id")
        c.unique(seen, attr_id, f"{apath}.id", "attribute")
        out.append(DemographicAttribute(
            id=attr_id, label=c.string(item["label"], f"{apath}.label"),
            groups=c.strings(item["groups"], f"{apath}.groups", nonempty=True, what="group"),
        ))
    return tuple(out)


def _check_required_fields(c: Checker, form: Form, field_ids: Mapping[str, str]) -> None:
    """Fields that other modules address by id must exist, with the demographics they compare."""
    for field_id in REQUIRED_FORM_FIELDS.get(form.id, ()):
        if field_id not in field_ids:
            c.fail("$.sections", f"the {form.id} form must define a field '{field_id}'")
    for field_id, attr_ids in REQUIRED_DEMOGRAPHICS.get(form.id, {}).items():
        form_field = form.field(field_id)
        base = field_ids[field_id].removesuffix(".id")
        if form_field.type != "demographics":
            c.fail(f"{base}.type",
                   f"field '{field_id}' must be of type 'demographics'")
        present = {a.id for a in form_field.attributes}
        for attr_id in attr_ids:
            if attr_id not in present:
                c.fail(f"{base}.attributes",
                       f"field '{field_id}' must have the attribute '{attr_id}' "
                       f"(present: {', '.join(sorted(present))})")
