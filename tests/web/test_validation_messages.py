"""msgspec's validation messages as plain sentences: each shape produced from real bad input, and
the marketplace settings form showing the sentence next to the field."""

from __future__ import annotations

import contextlib
import datetime
import decimal
import enum
import re
import struct
import uuid
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal, NamedTuple

import httpx
import msgspec
import pytest
from jimu.i18n import Catalogs, current_catalogs, current_locale
from jimu.web.pages_support import translate_problem
from jimu.web.validation_messages import humanize_validation_message
from jimu_sdk.testing.platform import DEFAULT_PASSWORD
from msgspec import Meta


class Colour(enum.Enum):
    red = "red"
    blue = "blue"


class Level(enum.IntEnum):
    one = 1
    two = 2


class Pair(NamedTuple):
    first: int
    second: int = 0


@contextlib.contextmanager
def _language(locale: str, messages: dict[str, Any] | None = None) -> Iterator[None]:
    """Translate as a request in ``locale`` would, with a catalog of just ``messages``."""
    catalogs = Catalogs()
    catalogs.add({locale: messages or {}})
    locale_token = current_locale.set(locale)
    catalogs_token = current_catalogs.set(catalogs)
    try:
        yield
    finally:
        current_catalogs.reset(catalogs_token)
        current_locale.reset(locale_token)


@pytest.fixture
def english() -> Iterator[None]:
    with _language("en"):
        yield


def _form(kind: Any) -> type[msgspec.Struct]:
    return msgspec.defstruct("Form", [("x", kind)])


def _raised(decode: Callable[[], Any]) -> str:
    with pytest.raises(msgspec.ValidationError) as caught:
        decode()
    return str(caught.value)


def _raw_message(kind: Any, value: Any) -> str:
    """msgspec's own message for ``value`` in field ``x`` of a struct typed ``kind``."""
    return _raised(lambda: msgspec.convert({"x": value}, _form(kind)))


FIELD_CASES = [
    # numbers
    (Annotated[int, Meta(ge=1)], 0, "Must be at least 1."),
    (Annotated[int, Meta(gt=1)], 1, "Must be at least 2."),  # msgspec states gt as ge for ints
    (Annotated[int, Meta(le=23)], 25, "Must be at most 23."),
    (Annotated[int, Meta(lt=10)], 10, "Must be at most 9."),
    (Annotated[int, Meta(multiple_of=5)], 7, "Must be a multiple of 5."),
    (Annotated[float, Meta(ge=1.5)], 0.5, "Must be at least 1.5."),
    (Annotated[float, Meta(gt=1.5)], 1.5, "Must be greater than 1.5."),
    (Annotated[float, Meta(le=1.5)], 2.0, "Must be at most 1.5."),
    (Annotated[float, Meta(lt=1.5)], 1.5, "Must be less than 1.5."),
    (Annotated[float, Meta(multiple_of=0.5)], 0.3, "Must be a multiple of 0.5."),
    # lengths
    (Annotated[str, Meta(min_length=1)], "", "This field cannot be empty."),
    (Annotated[str, Meta(min_length=3)], "ab", "At least 3 characters."),
    (Annotated[str, Meta(max_length=20)], "x" * 21, "At most 20 characters."),
    (Annotated[str, Meta(max_length=1)], "ab", "At most one character."),
    (Annotated[bytes, Meta(min_length=3)], b"a", "At least 3 bytes."),
    (Annotated[bytes, Meta(max_length=2)], b"abc", "At most 2 bytes."),
    (Annotated[list[int], Meta(min_length=1)], [], "Add at least one item."),
    (Annotated[list[int], Meta(min_length=2)], [1], "At least 2 items."),
    (Annotated[list[int], Meta(max_length=2)], [1, 2, 3], "At most 2 items."),
    (Annotated[list[int], Meta(max_length=1)], [1, 2], "At most one item."),
    (Annotated[dict[str, int], Meta(min_length=1)], {}, "Add at least one entry."),
    (Annotated[dict[str, int], Meta(max_length=2)], {"a": 1, "b": 2, "c": 3},
     "At most 2 entries."),
    (tuple[int, int], [1], "Exactly 2 items."),
    (Pair, [1, 2, 3], "Between 1 and 2 items."),
    # formats
    (Annotated[str, Meta(pattern=r"^[a-z]+$")], "ABC", "Does not match the expected format."),
    (Annotated[datetime.datetime, Meta(tz=True)], "2024-05-01T09:30:00",
     "Include the timezone, such as +08:00."),
    (Annotated[datetime.time, Meta(tz=True)], "09:30:00", "Include the timezone, such as +08:00."),
    (Annotated[datetime.datetime, Meta(tz=False)], "2024-05-01T09:30:00Z",
     "Leave out the timezone."),
    (datetime.datetime, "tomorrow", "Enter a date and time, such as 2024-05-01T09:30:00+08:00."),
    (datetime.date, "2024-13-01", "Enter a date, such as 2024-05-01."),
    (datetime.time, "noon", "Enter a time, such as 09:30:00."),
    (datetime.timedelta, "an hour", "Enter a duration, such as PT30M or P1D."),
    (datetime.timedelta, "P1Y",
     "Use only days, hours, minutes and seconds in a duration, such as P1DT2H30M."),
    (datetime.timedelta, "P99999999999D", "This duration is out of range."),
    (uuid.UUID, "not-a-uuid", "Enter a valid UUID."),
    (decimal.Decimal, "12,5", "Enter a number."),
    (bytes, "!!!", "Enter base64-encoded data."),
    # choices
    (Colour, "green", "Choose one of the listed options."),
    (Level, 3, "Choose one of the listed options."),
    (Literal["a", "b"], "c", "Choose one of the listed options."),
    (Literal[1, 2], 3, "Choose one of the listed options."),
    # wrong types
    (int, "abc", "Enter a whole number."),
    (int, 1.5, "Enter a whole number."),
    (int | None, "abc", "Enter a whole number."),
    (float, "abc", "Enter a number."),
    (int | float, "abc", "Enter a number."),
    (decimal.Decimal, [1], "Enter a number."),
    (str, 1, "Enter text."),
    (bool, "yes", "Choose yes or no."),
    (list[int], "1,2", "Enter a list of values."),
    (list[int], [1, "x"], "Enter a whole number."),
    (dict[str, int], [1], "Enter a JSON object."),
    (dict[str, int], {"a": "x"}, "Enter a whole number."),
    (None, 1, "Leave this empty."),
    (datetime.datetime, 1714555800, "Enter a date and time, such as 2024-05-01T09:30:00+08:00."),
    (int | str, 1.5, "This value is not valid."),
]


@pytest.mark.parametrize(("kind", "value", "expected"), FIELD_CASES,
                         ids=[f"{i}-{case[2]}" for i, case in enumerate(FIELD_CASES)])
def test_msgspec_message_becomes_a_sentence(english, kind, value, expected):
    raw = _raw_message(kind, value)
    assert re.search(r" - at `\$\.x[^`]*`\Z", raw), raw  # the path msgspec adds is dropped
    assert humanize_validation_message(raw) == expected


def _msgpack_timestamp(nanoseconds: int, seconds: int) -> bytes:
    return msgspec.msgpack.encode({"x": msgspec.msgpack.Ext(-1, struct.pack(
        ">IQ", nanoseconds, seconds))})


DECODER_CASES = [  # shapes that the decoders or lax conversion raise
    (lambda: msgspec.json.decode(b'{"x": [1]}', type=_form(tuple[int, int])),
     "Exactly 2 items."),
    (lambda: msgspec.json.decode(b'{"x": 1e400}', type=_form(float)),
     "This number is out of range."),
    (lambda: msgspec.json.decode(b'{"x": %s}' % (b"9" * 4301), type=_form(int)),
     "This number is out of range."),
    (lambda: msgspec.json.decode(b'{"x": {"one": 1}}', type=_form(dict[int, int])),
     "Enter a whole number."),  # a bad key
    (lambda: msgspec.convert({"x": 10**15}, _form(datetime.datetime), strict=False),
     "This date is out of range."),
    (lambda: msgspec.convert({"x": float("inf")}, _form(datetime.datetime), strict=False),
     "Enter a date and time, such as 2024-05-01T09:30:00+08:00."),
    (lambda: msgspec.msgpack.decode(_msgpack_timestamp(2**31, 0), type=_form(datetime.datetime)),
     "Enter a date and time, such as 2024-05-01T09:30:00+08:00."),
    (lambda: msgspec.msgpack.decode(msgspec.msgpack.encode({"x": b"abc"}),
                                    type=_form(uuid.UUID)),
     "Enter a valid UUID."),
]


@pytest.mark.parametrize(("decode", "expected"), DECODER_CASES,
                         ids=["json-tuple", "json-huge-float", "json-huge-int", "json-key",
                              "epoch-range",
                              "epoch-inf", "msgpack-timestamp", "uuid-bytes"])
def test_decoder_message_becomes_a_sentence(english, decode, expected):
    assert humanize_validation_message(_raised(decode)) == expected


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    reminder_hour: int


class Tagged(msgspec.Struct, tag=True):
    hour: int


class Other(msgspec.Struct, tag=True):
    day: int


class Row(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    hour: int


@pytest.mark.parametrize(("kind", "value", "expected"), [
    (Strict, {}, "“reminder_hour” is required."),
    (Strict, {"reminder_hour": 9, "colour": "red"}, "Unknown field “colour”; remove it."),
    (Strict, [], "Enter a JSON object."),
    (Tagged | Other, {"type": "Weekly"}, "Choose one of the listed options."),
    (Tagged | Other, {}, "“type” is required."),
    (Row, [], "Add at least one item."),
    (Row, [1, 2], "At most one item."),
], ids=["missing", "unknown", "not-an-object", "bad-tag", "missing-tag", "row-short",
        "row-long"])
def test_struct_message_becomes_a_sentence(english, kind, value, expected):
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert(value, kind)
    assert humanize_validation_message(str(caught.value)) == expected


def test_enum_message_names_the_choices_when_given(english):
    raw = _raw_message(Literal["daily", "weekly"], "hourly")
    assert humanize_validation_message(raw, choices=["daily", "weekly"]) == (
        "Choose one of: daily, weekly.")


def test_sentence_is_translated_before_the_number_is_filled_in():
    with _language("zh-CN", {"Must be at least %(num)s.": "不能小于 %(num)s。"}):
        raw = _raw_message(Annotated[int, Meta(ge=1)], 0)
        assert humanize_validation_message(raw) == "不能小于 1。"


class Checked(msgspec.Struct):
    hour: int

    def __post_init__(self) -> None:
        if self.hour % 2:
            raise ValueError("hour must be even")


@pytest.mark.parametrize("message", [
    "hour must be even",
    "settings must be a JSON object",
    "Expected something else entirely - at `$.x`",
    "",
])
def test_other_messages_come_back_unchanged(english, message):
    assert humanize_validation_message(message) == message


def test_a_wrapped_post_init_error_comes_back_unchanged(english):
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert({"hour": 1}, Checked)
    assert humanize_validation_message(str(caught.value)) == "hour must be even"


def test_translate_problem_humanizes_msgspec_and_translates_the_rest():
    with _language("zh-CN", {"is required": "必填", "Enter a whole number.": "请输入整数。"}):
        assert translate_problem("Expected `int`, got `str`") == "请输入整数。"
        assert translate_problem("is required") == "必填"
        assert translate_problem("hour must be even") == "hour must be even"


# --------------------------------------------------------------------------- through the form


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf-token" content="([^"]*)"', page.text).group(1)


def _field_error(page: httpx.Response, name: str) -> str:
    found = re.search(rf'<small id="e-{name}" class="field-error">([^<]*)</small>', page.text)
    assert found, f"no error shown for {name}"
    return found.group(1)


async def test_settings_form_shows_the_plain_sentence_next_to_the_field(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["followups"])
    client = jimu_platform.client()
    login = await client.get("/login")
    await client.post("/login", data={
        "username": tenant.admin_username, "password": DEFAULT_PASSWORD, "next": "/admin/",
        "login_csrf": re.search(r'name="login_csrf" value="([^"]+)"', login.text).group(1)})
    page = await client.get("/admin/plugins/followups")
    token = _csrf(page)
    await client.post("/account/language", data={"csrf_token": token, "locale": "en",
                                                  "next": "/admin/"})
    # One field fails to convert, so the page checks the other against the schema itself.
    both = await client.post("/admin/plugins/followups/settings", data={
        "csrf_token": token, "reminder_hour": "25", "recent_days": "abc"})
    assert both.status_code == 422
    assert _field_error(both, "reminder_hour") == "Must be at most 23."
    assert _field_error(both, "recent_days") == "Enter a whole number."
    # Every field converts, so the error comes from saving the settings.
    one = await client.post("/admin/plugins/followups/settings", data={
        "csrf_token": token, "reminder_hour": "8", "recent_days": "0"})
    assert one.status_code == 422
    assert _field_error(one, "recent_days") == "Must be at least 1."
    assert "Expected `int`" not in both.text + one.text
