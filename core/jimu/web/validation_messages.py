"""msgspec's validation messages as short sentences in the request's language.

msgspec explains a bad value in technical English ("Expected `int` >= 1 - at `$.days`"). Forms
show the field separately, so the path is dropped and the rest becomes a plain instruction.
The shapes are those msgspec raises (``ms_raise_validation_error`` and ``ms_error_with_path``
in msgspec's ``_core.c``); ``tests/web/test_validation_messages.py`` produces each one from
real bad input, so an upgrade that rewords a message shows up there. A message of any other
shape comes back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from jimu.i18n import N_, gettext

# " - at `$.a[0].b`", or for a bad mapping key " - at `key` in `$.a`".
_PATH_SUFFIX = re.compile(r" - at `[^`]*`(?: in `[^`]*`)*\Z")

# What to type, for each name in msgspec's "Expected `…`" (``typenode_simple_repr``).
_ENTER = {
    "int": N_("Enter a whole number."),
    "float": N_("Enter a number."),
    "decimal": N_("Enter a number."),
    "str": N_("Enter text."),
    "bool": N_("Choose yes or no."),
    "bytes": N_("Enter base64-encoded data."),
    "datetime": N_("Enter a date and time, such as 2024-05-01T09:30:00+08:00."),
    "date": N_("Enter a date, such as 2024-05-01."),
    "time": N_("Enter a time, such as 09:30:00."),
    "duration": N_("Enter a duration, such as PT30M or P1D."),
    "uuid": N_("Enter a valid UUID."),
    "object": N_("Enter a JSON object."),
    "array": N_("Enter a list of values."),
    "null": N_("Leave this empty."),
}
_NUMBERS = frozenset({"int", "float", "decimal"})
_NOT_VALID = N_("This value is not valid.")

# Messages without a value in them.
_FIXED = {
    "Invalid RFC3339 encoded datetime": _ENTER["datetime"],
    "Invalid RFC3339 encoded date": _ENTER["date"],
    "Invalid RFC3339 encoded time": _ENTER["time"],
    "Invalid epoch timestamp": _ENTER["datetime"],
    "Invalid MessagePack timestamp": _ENTER["datetime"],
    "Invalid MessagePack timestamp: nanoseconds out of range": _ENTER["datetime"],
    "Timestamp is out of range": N_("This date is out of range."),
    "Invalid ISO8601 duration": _ENTER["duration"],
    "Only units 'D', 'H', 'M', and 'S' are supported when parsing ISO8601 durations":
        N_("Use only days, hours, minutes and seconds in a duration, such as P1DT2H30M."),
    "Duration is out of range": N_("This duration is out of range."),
    "Invalid UUID": _ENTER["uuid"],
    "Invalid UUID bytes": _ENTER["uuid"],
    "Invalid decimal string": _ENTER["float"],
    "Invalid base64 encoded string": _ENTER["bytes"],
    "Integer value out of range": N_("This number is out of range."),
    "Number out of range": N_("This number is out of range."),
}

Sentence = tuple[str, dict[str, Any]]
Rule = Callable[[re.Match[str], Sequence[str]], Sentence]


def _count(one: str, many: str) -> Rule:
    """``one`` when the limit is 1 ("At least one item."), else ``many`` with the number."""
    return lambda m, _choices: (one, {}) if m["num"] == "1" else (many, {"num": m["num"]})


def _number(message_id: str) -> Rule:
    return lambda m, _choices: (message_id, {"num": m["num"]})


def _fixed(message_id: str) -> Rule:
    return lambda _m, _choices: (message_id, {})


def _choose(_m: re.Match[str], choices: Sequence[str]) -> Sentence:
    if choices:
        return N_("Choose one of: %(choices)s."), {"choices": ", ".join(choices)}
    return N_("Choose one of the listed options."), {}


def _wrong_type(m: re.Match[str], _choices: Sequence[str]) -> Sentence:
    kinds = m["expected"].split(" | ")
    if len(kinds) > 1 and "null" in kinds:  # Optional[...]: say what to enter, not "nothing"
        kinds.remove("null")
    if len(kinds) > 1 and set(kinds) <= _NUMBERS:
        return _ENTER["float"], {}
    return (_ENTER.get(kinds[0], _NOT_VALID) if len(kinds) == 1 else _NOT_VALID), {}


_NUM = r"(?P<num>-?[0-9][0-9.e+-]*|-?inf)"
_COUNT = r"(?P<num>[0-9]+)"
_GOT = r"(?:, got [0-9]+)?"

# Tried in order, each against the whole message (without its path).
_PATTERNS: list[tuple[str, Rule]] = [
    (rf"Expected `(?:int|float)` >= {_NUM}", _number(N_("Must be at least %(num)s."))),
    (rf"Expected `float` > {_NUM}", _number(N_("Must be greater than %(num)s."))),
    (rf"Expected `(?:int|float)` <= {_NUM}", _number(N_("Must be at most %(num)s."))),
    (rf"Expected `float` < {_NUM}", _number(N_("Must be less than %(num)s."))),
    (rf"Expected `(?:int|float)` that's a multiple of {_NUM}",
     _number(N_("Must be a multiple of %(num)s."))),
    (rf"Expected `str` of length >= {_COUNT}",
     _count(N_("This field cannot be empty."), N_("At least %(num)s characters."))),
    (rf"Expected `str` of length <= {_COUNT}",
     _count(N_("At most one character."), N_("At most %(num)s characters."))),
    (rf"Expected `bytes` of length >= {_COUNT}", _number(N_("At least %(num)s bytes."))),
    (rf"Expected `bytes` of length <= {_COUNT}", _number(N_("At most %(num)s bytes."))),
    (rf"Expected `array` of (?:length >= |at least length ){_COUNT}{_GOT}",
     _count(N_("Add at least one item."), N_("At least %(num)s items."))),
    (rf"Expected `array` of (?:length <= |at most length ){_COUNT}{_GOT}",
     _count(N_("At most one item."), N_("At most %(num)s items."))),
    (rf"Expected `array` of length {_COUNT}{_GOT}",
     _count(N_("Exactly one item."), N_("Exactly %(num)s items."))),
    (rf"Expected `array` of length (?P<low>[0-9]+) to (?P<high>[0-9]+){_GOT}",
     lambda m, _c: (N_("Between %(low)s and %(high)s items."),
                    {"low": m["low"], "high": m["high"]})),
    (rf"Expected `object` of length >= {_COUNT}",
     _count(N_("Add at least one entry."), N_("At least %(num)s entries."))),
    (rf"Expected `object` of length <= {_COUNT}",
     _count(N_("At most one entry."), N_("At most %(num)s entries."))),
    (r"Expected `str` matching regex .+", _fixed(N_("Does not match the expected format."))),
    (r"Expected `\w+` with a timezone component",
     _fixed(N_("Include the timezone, such as +08:00."))),
    (r"Expected `\w+` with no timezone component", _fixed(N_("Leave out the timezone."))),
    (r"Invalid (?:enum )?value .+", _choose),
    (r"Object missing required field `(?P<name>.+)`",
     lambda m, _c: (N_("“%(name)s” is required."), {"name": m["name"]})),
    (r"Object contains unknown field `(?P<name>.+)`",
     lambda m, _c: (N_("Unknown field “%(name)s”; remove it."), {"name": m["name"]})),
    (r"Expected `(?P<expected>[^`]+)`(?:, got `[^`]+`)?", _wrong_type),
]
_RULES = [(re.compile(pattern, re.DOTALL), rule) for pattern, rule in _PATTERNS]


def humanize_validation_message(message: str, *, choices: Sequence[str] = ()) -> str:
    """A msgspec ``ValidationError`` message as a short sentence in the request's language.

    The `` - at `$.field` `` suffix is dropped (forms show the field). ``choices`` are the
    allowed values of an enum field, named in the sentence when a value is not one of them.
    A message msgspec does not produce is returned unchanged.
    """
    sentence = _sentence(_PATH_SUFFIX.sub("", message).strip(), choices)
    if sentence is None:
        return message
    message_id, params = sentence
    text = gettext(message_id)
    return text % params if params else text


def _sentence(bare: str, choices: Sequence[str]) -> Sentence | None:
    if bare in _FIXED:
        return _FIXED[bare], {}
    for pattern, rule in _RULES:
        found = pattern.fullmatch(bare)
        if found:
            return rule(found, choices)
    return None
