"""Conditions admins write (a branch of a flow, a priority rule, an SLA policy's scope), in CEL,
the Common Expression Language — never Python ``eval``::

    order.amount > 5000 || customer.level == "platinum"
    claim.kind in ["差旅", "招待"] && claim.spent_on > timestamp("2026-01-01T00:00:00Z")

A condition is compiled once (``Condition(text)``: a syntax error is a ``ValidationFailed``
naming the field, with the line and column) and evaluated against a mapping of values.

**Numbers and money.** CEL has no decimal type. Values are given to CEL as they are, except:
``Decimal`` becomes a float, ``date`` a timestamp at midnight UTC, and strings holding exact
numbers (how money is stored, ``"5000.50"``) become floats when ``kinds`` names their path as
``number`` or ``money`` (``{"claim.amount": "money"}``). Comparing amounts with two decimals
is exact this way; arithmetic inside a condition (``a + b > c``) is floating point — do money
arithmetic in Python and compare its result. See decision 0017.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import cel

from jimu_sdk.errors import JimuError, ValidationFailed

MAX_LENGTH = 2000


class ConditionError(JimuError):
    """A condition could not be evaluated against these values (a missing field, a type
    mismatch); the message says which."""

    status_code = 409
    code = "condition_failed"


class Condition:
    """A compiled condition; ``evaluate(values)`` answers ``True`` or ``False``."""

    __slots__ = ("_program", "text")

    def __init__(self, text: str, *, field: str = "condition") -> None:
        text = text.strip()
        if not text:
            raise ValidationFailed("write a condition, e.g. order.amount > 5000", field=field)
        if len(text) > MAX_LENGTH:
            raise ValidationFailed(f"a condition has at most {MAX_LENGTH} characters",
                                   field=field)
        self.text = text
        self._program = _compile(text, field)

    def names(self) -> list[str]:
        """The top-level names the condition reads (``order``, ``customer``)."""
        return sorted(self._program.references().get("variables", []))

    def evaluate(self, values: Mapping[str, Any],
                 kinds: Mapping[str, str] | None = None) -> bool:
        """Whether the condition holds for ``values``; ``ConditionError`` when it cannot be
        told (a field it reads is missing, or a comparison of a text with a number)."""
        context = {key: _to_cel(value, key, kinds or {}) for key, value in values.items()}
        try:
            answer = self._program.execute(context)
        except KeyError as exc:
            raise ConditionError(f"{self.text}: no field {exc.args[0]!r} in these values"
                                 ) from None
        except Exception as exc:  # the binding reports type errors as plain exceptions
            raise ConditionError(f"{self.text}: {_first_line(exc)}") from None
        if not isinstance(answer, bool):
            raise ConditionError(f"{self.text}: answers {answer!r}, not true or false")
        return answer


@functools.lru_cache(maxsize=2048)
def _compile_cached(text: str) -> Any:
    return cel.compile(text)


def _compile(text: str, field: str) -> Any:
    try:
        return _compile_cached(text)
    except Exception as exc:
        raise ValidationFailed(f"the condition is not valid CEL: {_syntax_message(exc)}",
                               field=field) from None


def _syntax_message(exc: Exception) -> str:
    lines = [line.rstrip() for line in str(exc).splitlines() if line.strip()]
    # "Failed to parse expression '…': ERROR: <input>:1:23: Syntax error: …" then a caret
    head = next((line for line in lines if "ERROR:" in line), lines[0] if lines else "")
    message = head.split("ERROR:", 1)[-1].strip().replace("<input>:", "at ")
    return message


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _to_cel(value: Any, path: str, kinds: Mapping[str, str]) -> Any:
    kind = kinds.get(path)
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, str) and kind in ("number", "money"):
        try:
            return float(Decimal(value))
        except InvalidOperation:
            return value
    if isinstance(value, str) and kind == "date":
        try:
            return _to_cel(dt.date.fromisoformat(value), path, {})
        except ValueError:
            return value
    if isinstance(value, Mapping):
        return {key: _to_cel(item, f"{path}.{key}", kinds) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_cel(item, path, kinds) for item in value]
    return value
