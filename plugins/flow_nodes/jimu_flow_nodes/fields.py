"""Custom fields of a stage form (表单模板): their settings, and the check of a submission.

A submission is checked as a whole: every field's problem is reported at once (422 listing
them by field key) and nothing is stored unless all pass. Values are stored as JSON holds them:
numbers and money as strings of their exact decimal value, dates as ISO text, phones in E.164.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import msgspec
import phonenumbers
from jimu_sdk import N_, ValidationFailed

FieldKind = Literal["text", "textarea", "number", "money", "date", "choice", "phone",
                    "address", "photo"]
KEY = r"^[a-z][a-z0-9_]{0,39}$"
MAX_TEXT = 2000
MAX_PHOTOS = 9
CENT = Decimal("0.01")


class FormField(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    key: Annotated[str, msgspec.Meta(pattern=KEY, title=N_("Key"),
                                     description=N_("Lower-case letters, digits, '_'"))]
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=100, title=N_("Label"))]
    kind: FieldKind = "text"
    required: bool = False
    choices: Annotated[list[Annotated[str, msgspec.Meta(min_length=1, max_length=100)]],
                       msgspec.Meta(max_length=100, title=N_("Choices"))] = []
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    help: Annotated[str, msgspec.Meta(max_length=300)] = ""


def check_fields(fields: list[FormField]) -> list[str]:
    """Problems of a form's field list that its schema cannot see."""
    problems = []
    seen: set[str] = set()
    for field in fields:
        if field.key in seen:
            problems.append(f"two fields have the key {field.key}")
        seen.add(field.key)
        if field.kind == "choice" and not field.choices:
            problems.append(f"field {field.key} is a choice without choices")
        if (field.minimum is not None and field.maximum is not None
                and field.minimum > field.maximum):
            problems.append(f"field {field.key}: minimum {field.minimum} is above maximum "
                            f"{field.maximum}")
    return problems


def clean_submission(fields: list[FormField], payload: dict[str, Any]) -> dict[str, Any]:
    """The submitted values, converted; ``ValidationFailed`` naming every bad field."""
    errors: list[dict[str, str]] = []
    values: dict[str, Any] = {}
    known = {f.key for f in fields}
    for key in payload:
        if key not in known:
            errors.append({"field": key, "message": f"{key} is not a field of this form"})
    for field in fields:
        raw = payload.get(field.key)
        empty = raw is None or (isinstance(raw, str | list) and not raw)
        if empty:
            if field.required:
                errors.append({"field": field.key, "message": f"{field.label} is required"})
            continue
        try:
            values[field.key] = _clean(field, raw)
        except ValueError as exc:
            errors.append({"field": field.key, "message": f"{field.label}: {exc}"})
    if errors:
        raise ValidationFailed(N_("the form has %(count)s problems"),
                               params={"count": len(errors)}, errors=errors)
    return values


def _clean(field: FormField, raw: Any) -> Any:
    kind = field.kind
    if kind in ("text", "textarea", "address"):
        text = str(raw).strip() if not isinstance(raw, dict | list) else ""
        if not text:
            raise ValueError("give text")
        if len(text) > MAX_TEXT:
            raise ValueError(f"at most {MAX_TEXT} characters")
        return text
    if kind in ("number", "money"):
        number = _decimal(raw)
        if kind == "money":
            if number != number.quantize(CENT):
                raise ValueError("money has at most 2 decimal places")
            number = number.quantize(CENT)
        if field.minimum is not None and number < field.minimum:
            raise ValueError(f"at least {field.minimum}")
        if field.maximum is not None and number > field.maximum:
            raise ValueError(f"at most {field.maximum}")
        return str(number)
    if kind == "date":
        try:
            return dt.date.fromisoformat(str(raw)).isoformat()
        except ValueError:
            raise ValueError("a date such as 2026-12-01") from None
    if kind == "choice":
        if str(raw) not in field.choices:
            raise ValueError(f"one of {', '.join(field.choices)}")
        return str(raw)
    if kind == "phone":
        try:
            parsed = phonenumbers.parse(str(raw), "CN")
        except phonenumbers.NumberParseException:
            raise ValueError("not a phone number") from None
        if not phonenumbers.is_valid_number(parsed):
            raise ValueError("not a valid phone number")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    # photo: references of stored attachments (the attachment store checks size and type)
    refs = raw if isinstance(raw, list) else [raw]
    if len(refs) > MAX_PHOTOS:
        raise ValueError(f"at most {MAX_PHOTOS} photos")
    if not all(isinstance(r, str) and re.fullmatch(r"[A-Za-z0-9_./:-]{1,200}", r)
               for r in refs):
        raise ValueError("photos are attachment references")
    return list(refs)


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool | dict | list):
        raise ValueError("a number")
    # A JSON number may arrive as a float: its shortest text (5000.5) is the number meant.
    try:
        number = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError("a number") from None
    if not number.is_finite() or abs(number) > Decimal(10) ** 12:
        raise ValueError("a number")
    return number
