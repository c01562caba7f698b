"""Business-time arithmetic: properties that hold for any calendar, and China's holidays."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jimu_sla import holidays
from jimu_sla.business_time import (
    BusinessCalendar,
    CalendarError,
    add_business_minutes,
    add_business_time,
    business_minutes_between,
    business_time_between,
    weekly_from_text,
    weekly_to_text,
    working_spans,
)

SH = ZoneInfo("Asia/Shanghai")
NINE_TO_SIX = weekly_from_text({d: [["09:00", "12:00"], ["13:00", "18:00"]]
                                for d in ("mon", "tue", "wed", "thu", "fri")})


def shanghai(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def china(year: int = 2026) -> BusinessCalendar:
    days = holidays.china_days(year)
    return BusinessCalendar(
        timezone="Asia/Shanghai", weekly=NINE_TO_SIX,
        holidays=frozenset(d["date"] for d in days if d["kind"] == "holiday"),
        workdays=frozenset(d["date"] for d in days if d["kind"] == "workday"))


# ----------------------------------------------------------------------------- strategies


@st.composite
def day_hours(draw):
    points = draw(st.lists(st.integers(0, 1440), min_size=0, max_size=6, unique=True))
    points.sort()
    if len(points) % 2:
        points.pop()
    return tuple(zip(points[::2], points[1::2], strict=True))


DAYS = st.dates(dt.date(2025, 12, 20), dt.date(2026, 3, 31))


@st.composite
def calendars(draw):
    weekly = tuple(draw(day_hours()) for _ in range(7))
    if sum(end - begin for day in weekly for begin, end in day) < 60:
        # At least an hour a week, so that 30,000 minutes fit in the arithmetic's horizon.
        weekly = (((draw(st.integers(0, 1380)), 1440),), *weekly[1:])
    off = draw(st.sets(DAYS, max_size=25))
    extra = draw(st.sets(DAYS, max_size=10)) - off
    zone = draw(st.sampled_from(["Asia/Shanghai", "UTC", "America/New_York", "Europe/Berlin",
                                 "Australia/Lord_Howe"]))
    return BusinessCalendar(timezone=zone, weekly=weekly, holidays=frozenset(off),
                            workdays=frozenset(extra))


STARTS = st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2026, 3, 1),
                      timezones=st.just(dt.UTC))
MINUTES = st.integers(0, 30_000)


# ----------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(calendars(), STARTS, MINUTES)
def test_adding_n_business_minutes_then_measuring_gives_n(calendar, start, minutes):
    due = add_business_minutes(start, minutes, calendar)
    assert due >= start
    assert business_minutes_between(start, due, calendar) == minutes
    assert business_time_between(start, due, calendar) == dt.timedelta(minutes=minutes)


@settings(max_examples=200, deadline=None)
@given(calendars(), STARTS, MINUTES, MINUTES)
def test_adding_is_monotonic_and_additive(calendar, start, a, b):
    first = add_business_minutes(start, a, calendar)
    both = add_business_minutes(start, a + b, calendar)
    assert first <= both
    assert add_business_minutes(first, b, calendar) == both


@settings(max_examples=200, deadline=None)
@given(calendars(), STARTS, st.integers(0, 20 * 24 * 60), st.integers(0, 20 * 24 * 60))
def test_measuring_is_monotonic_in_the_end(calendar, start, x, y):
    early, late = sorted((x, y))
    a = start + dt.timedelta(minutes=early)
    b = start + dt.timedelta(minutes=late)
    assert business_time_between(start, a, calendar) <= business_time_between(start, b, calendar)
    assert business_time_between(start, b, calendar) == (
        business_time_between(start, a, calendar) + business_time_between(a, b, calendar))


@settings(max_examples=200, deadline=None)
@given(calendars(), STARTS, st.integers(1, 30_000))
def test_a_deadline_never_falls_on_a_holiday_or_outside_working_hours(calendar, start, minutes):
    due = add_business_minutes(start, minutes, calendar)
    # The deadline is inside a working span, or at the end of one.
    just_before = due - dt.timedelta(microseconds=1)
    local = just_before.astimezone(calendar.zone)
    assert local.date() not in calendar.holidays or local.date() in calendar.workdays
    assert business_time_between(just_before, due, calendar) == dt.timedelta(microseconds=1)


@settings(max_examples=100, deadline=None)
@given(calendars(), STARTS)
def test_working_spans_are_ordered_and_never_overlap(calendar, start):
    spans = []
    for span in working_spans(calendar, start):
        spans.append(span)
        if len(spans) == 40:
            break
    assert all(s < e for s, e in spans)
    assert all(e1 <= s2 for (_, e1), (s2, _) in itertools.pairwise(spans))
    assert spans[0][0] >= start


# ----------------------------------------------------------------------------- examples


def test_morning_and_afternoon_with_a_lunch_break():
    calendar = china()
    # Friday 2026-05-08 11:00 + 2 h: one hour before lunch, one after.
    assert add_business_minutes(shanghai(2026, 5, 8, 11), 120, calendar) == shanghai(
        2026, 5, 8, 14)
    # A deadline that uses up the morning lands at 12:00, not at 13:00.
    assert add_business_minutes(shanghai(2026, 5, 8, 11), 60, calendar) == shanghai(
        2026, 5, 8, 12)
    # Started in the evening, it counts from the next opening.
    assert add_business_minutes(shanghai(2026, 5, 7, 20), 30, calendar) == shanghai(
        2026, 5, 8, 9, 30)


def test_labour_day_holidays_are_skipped_and_the_make_up_saturday_counts():
    calendar = china()
    # Thursday 2026-04-30 17:00 + 2 h: one hour that day, then 1–5 May are off (a Friday
    # among them); Saturday 9 May is a make-up working day, but Wednesday 6 May comes first.
    assert add_business_minutes(shanghai(2026, 4, 30, 17), 120, calendar) == shanghai(
        2026, 5, 6, 10)
    # Friday 2026-05-08 17:00 + 2 h: the make-up Saturday 9 May works 09:00–…
    assert add_business_minutes(shanghai(2026, 5, 8, 17), 120, calendar) == shanghai(
        2026, 5, 9, 10)
    # … while an ordinary Saturday does not.
    assert add_business_minutes(shanghai(2026, 5, 15, 17), 120, calendar) == shanghai(
        2026, 5, 18, 10)
    assert business_minutes_between(shanghai(2026, 5, 1), shanghai(2026, 5, 6), calendar) == 0
    assert business_minutes_between(shanghai(2026, 5, 9), shanghai(2026, 5, 10),
                                    calendar) == 8 * 60


def test_spring_festival_2026_spans_nine_days_off():
    calendar = china()
    # Make-up Saturday 14 Feb works; 15–23 Feb are off; Tuesday 24 Feb opens again.
    assert business_minutes_between(shanghai(2026, 2, 14), shanghai(2026, 2, 24),
                                    calendar) == 8 * 60
    assert add_business_minutes(shanghai(2026, 2, 14, 17), 120, calendar) == shanghai(
        2026, 2, 24, 10)


def test_twenty_four_seven_counts_every_minute():
    calendar = BusinessCalendar.around_the_clock("Asia/Shanghai")
    start = shanghai(2026, 10, 1, 8)
    assert add_business_minutes(start, 24 * 60, calendar) == shanghai(2026, 10, 2, 8)
    assert business_minutes_between(start, shanghai(2026, 10, 8, 8), calendar) == 7 * 24 * 60


def test_the_shipped_years_and_their_make_up_days():
    assert holidays.available_years() == [2025, 2026]
    days_2026 = {d["date"]: d for d in holidays.china_days(2026)}
    assert days_2026[dt.date(2026, 1, 1)]["kind"] == "holiday"
    assert {d for d, v in days_2026.items() if v["kind"] == "workday"} == {
        dt.date(2026, 1, 4), dt.date(2026, 2, 14), dt.date(2026, 2, 28), dt.date(2026, 5, 9),
        dt.date(2026, 9, 20), dt.date(2026, 10, 10)}
    assert sum(1 for d in holidays.china_days(2025) if d["kind"] == "holiday") == 28
    assert holidays.china_days(2027) == []
    assert holidays.china_papers(2026) == [
        "https://www.gov.cn/zhengce/zhengceku/202511/content_7047091.htm"]


def test_hours_are_read_and_written_as_text():
    weekly = weekly_from_text({"mon": [["09:00", "12:00"], ["13:30", "24:00"]]})
    assert weekly[0] == ((540, 720), (810, 1440)) and weekly[1:] == ((),) * 6
    assert weekly_to_text(weekly)["mon"] == [["09:00", "12:00"], ["13:30", "24:00"]]


@pytest.mark.parametrize(("hours", "field"), [
    ({"mon": [["09:00", "25:00"]]}, "weekly_hours.mon[0]"),
    ({"mon": [["12:00", "09:00"]]}, "weekly_hours.mon[0]"),
    ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, "weekly_hours.mon[1]"),
    ({"funday": [["09:00", "12:00"]]}, "weekly_hours.funday"),
    ({"mon": [["9", "12:00"]]}, "weekly_hours.mon[0]"),
])
def test_bad_hours_name_the_interval(hours, field):
    with pytest.raises(CalendarError) as error:
        weekly_from_text(hours)
    assert error.value.field == field


def test_a_calendar_without_any_working_hours_is_refused():
    with pytest.raises(CalendarError) as error:
        BusinessCalendar(timezone="Asia/Shanghai", weekly=((),) * 7)
    assert error.value.field == "weekly_hours"
    with pytest.raises(CalendarError) as error:
        BusinessCalendar(timezone="Mars/Olympus", weekly=NINE_TO_SIX)
    assert error.value.field == "timezone"


def test_negative_business_time_is_refused():
    with pytest.raises(ValueError):
        add_business_time(shanghai(2026, 1, 5), dt.timedelta(minutes=-1), china())
