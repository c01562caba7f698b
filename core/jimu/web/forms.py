"""Submitted forms into the same msgspec structs the API takes, with errors per field.

A page's form posts strings; ``parse_form`` turns them into the service's input struct with the
struct's own constraints (lengths, patterns, ranges), so a page validates exactly as the API
does. A blank optional field means "not given" (``None``) or its default.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

import msgspec
from jimu_sdk.errors import JimuError, ValidationFailed

from jimu.i18n import gettext
from jimu.web.pages_support import FormState, error_text
from jimu.web.validation_messages import humanize_validation_message

S = TypeVar("S", bound=msgspec.Struct)

_FIELD = re.compile(r" - at `\$\.([A-Za-z0-9_]+)")
_MISSING = re.compile(r"missing required field `([A-Za-z0-9_]+)`")


def parse_form(struct: type[S], data: Mapping[str, Any], *, lists: Collection[str] = (),
               checkboxes: Collection[str] = ()) -> S:
    """``data`` (from ``form_data``) as a ``struct``; unknown fields (buttons …) are ignored.

    ``lists`` names fields that take several values (repeated inputs or checkboxes);
    ``checkboxes`` names booleans, true when present. Raises ``ValidationFailed`` naming the
    field, with a message in the user's language.
    """
    fields = set(struct.__struct_fields__)
    text_fields = _text_fields(struct)
    values: dict[str, Any] = {}
    for name in fields:
        if name in checkboxes:
            values[name] = data.get(name) not in (None, "", "0", "false", "off")
            continue
        raw = data.get(name)
        if name in lists:
            items = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
            values[name] = [str(item).strip() for item in items if str(item).strip()]
            continue
        if isinstance(raw, list):
            raw = raw[-1]
        if raw is None:
            continue
        # Passwords keep their spaces (the API keeps them too); other text is trimmed.
        text = str(raw) if "password" in name else str(raw).strip()
        if text == "" and name not in text_fields:
            continue  # a blank number or id is "not given"; a blank text is empty text
        values[name] = text
    # msgspec stops at the first bad field; drop it and try again, so every bad field of the
    # form is reported at once.
    errors: list[dict[str, str]] = []
    while True:
        try:
            result = msgspec.convert(values, struct, strict=False)
        except msgspec.ValidationError as exc:
            message = str(exc)
            missing = _MISSING.search(message)
            match = _FIELD.search(message) or missing
            field = match.group(1) if match else ""
            if any(e["field"] == field for e in errors):
                break
            errors.append({"field": field, "message": gettext("This field is required.")
                           if missing else humanize_validation_message(message)})
            if field not in values:  # nothing left to drop: stop here
                break
            del values[field]
        else:
            if not errors:
                return result
            break
    first = errors[0]
    raise ValidationFailed(first["message"], field=first["field"] or None, errors=errors)


def _text_fields(struct: type[msgspec.Struct]) -> set[str]:
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    found = set()
    for field in info.fields:
        kinds = field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else (
            field.type,)
        if any(isinstance(kind, msgspec.inspect.StrType) for kind in kinds):
            found.add(field.name)
    return found


def belongs_on_form(exc: JimuError) -> bool:
    """Whether a service's error is the user's to fix on the form (a bad or clashing value),
    rather than a missing record or a fault, which get their own error page."""
    return exc.status_code < 500 and not (exc.status_code == 404 and not exc.field)


def failed_form(values: Mapping[str, Any], exc: JimuError) -> FormState:
    """The form again with the user's input and each error next to its field."""
    errors: dict[str, str] = {}
    for item in getattr(exc, "errors", None) or []:
        if item.get("field"):
            errors[item["field"]] = item.get("message", "")
    if exc.field:
        errors[exc.field] = error_text(exc)
    return FormState(values=dict(values), errors=errors,
                     message="" if errors else error_text(exc))
