"""Business calendars (工作日历) and the business-time arithmetic SLA clocks run on.

A :class:`BusinessCalendar` says when work happens: working hours per weekday (several intervals
a day, e.g. 09:00–12:00 and 13:00–18:00, or 00:00–24:00 for 24×7), in a timezone, minus
holidays, plus make-up working days (调休) that work although they fall on a weekend. Everything
here is pure: no database, no clock.

Both functions walk the same ordered, non-overlapping working spans, so adding N business
minutes and measuring the result gives N again, whatever the calendar. Hours are wall-clock
times of the calendar's timezone; a result is a timezone-aware UTC datetime.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from jimu_sdk import N_

Interval = tuple[int, int]
"""Working hours of one day: minutes after local midnight, ``[start, end)``, end at most 1440."""

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
MAX_DAYS = 366 * 30
"""How far the arithmetic looks for working time (a calendar always has some every week)."""

ZERO = dt.timedelta(0)


class CalendarError(ValueError):
    """Hours that cannot make a calendar; ``field`` names the part at fault. ``message`` is a
    catalog id filled from ``params``."""

    def __init__(self, message: str, field: str, params: Mapping[str, Any] | None = None
                 ) -> None:
        super().__init__(message % dict(params) if params else message)
        self.message = message
        self.field = field
        self.params = dict(params or {})


@dataclass(frozen=True)
class BusinessCalendar:
    """When work happens. ``weekly`` has seven days, Monday first."""

    timezone: str
    weekly: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)
    """Make-up working days (调休): they work the hours of :attr:`makeup_hours`."""

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise CalendarError(N_("weekly hours need seven days, Monday first"),
                                "weekly_hours")
        for index, day in enumerate(self.weekly):
            check_intervals(day, f"weekly_hours.{WEEKDAYS[index]}")
        if not any(self.weekly):
            raise CalendarError(N_("a calendar needs working hours on at least one weekday"),
                                "weekly_hours")
        both = self.holidays & self.workdays
        if both:
            raise CalendarError(N_("%(date)s is both a holiday and a make-up working day"),
                                "days", {"date": min(both).isoformat()})
        try:
            ZoneInfo(self.timezone)
        except (ValueError, KeyError) as exc:
            raise CalendarError(N_("%(timezone)s is not a known timezone (e.g. Asia/Shanghai)"),
                                "timezone", {"timezone": self.timezone}) from exc

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def makeup_hours(self) -> tuple[Interval, ...]:
        """Hours of a make-up working day: those of the first weekday (Monday to Friday, then
        the weekend) that has any."""
        return next(day for day in self.weekly if day)

    def hours_on(self, day: dt.date) -> tuple[Interval, ...]:
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.makeup_hours
        return self.weekly[day.weekday()]

    @classmethod
    def around_the_clock(cls, timezone: str) -> BusinessCalendar:
        """24×7: every minute counts (a policy without a calendar)."""
        return cls(timezone=timezone, weekly=(((0, MINUTES_PER_DAY),),) * 7)


def check_intervals(intervals: Sequence[Interval], field: str) -> None:
    """Intervals of one day are ordered, inside the day and do not overlap."""
    previous_end = -1
    for index, (start, end) in enumerate(intervals):
        where = f"{field}[{index}]"
        if not 0 <= start < end <= MINUTES_PER_DAY:
            raise CalendarError(N_("working hours must start before they end, within the day"),
                                where)
        if start < previous_end:
            raise CalendarError(N_("working hours of a day must be in order and not overlap"),
                                where)
        previous_end = end


# --------------------------------------------------------------------------- hours as text


def parse_clock(text: str, *, end: bool) -> int:
    """``"09:30"`` → 570 minutes; ``"24:00"`` is allowed as an end."""
    hours, sep, minutes = text.partition(":")
    if not sep or not (hours.isdigit() and minutes.isdigit()) or len(minutes) != 2:
        raise ValueError(text)
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > MINUTES_PER_DAY or (value == MINUTES_PER_DAY and not end):
        raise ValueError(text)
    return value


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def weekly_from_text(hours: Mapping[str, Iterable[Sequence[str]]]) -> tuple[
        tuple[Interval, ...], ...]:
    """``{"mon": [["09:00", "12:00"], ["13:00", "18:00"]], …}`` (missing days: closed)."""
    unknown = sorted(set(hours) - set(WEEKDAYS))
    if unknown:
        raise CalendarError(N_("%(day)s is not a weekday; use %(days)s"),
                            f"weekly_hours.{unknown[0]}",
                            {"day": unknown[0], "days": ", ".join(WEEKDAYS)})
    weekly = []
    for name in WEEKDAYS:
        day = []
        for index, pair in enumerate(hours.get(name, ())):
            where = f"weekly_hours.{name}[{index}]"
            if len(pair) != 2:
                raise CalendarError(N_('give each interval as ["HH:MM", "HH:MM"]'), where)
            try:
                day.append((parse_clock(pair[0], end=False), parse_clock(pair[1], end=True)))
            except ValueError as exc:
                raise CalendarError(N_("%(time)s is not a time of day (HH:MM, 00:00–24:00)"),
                                    where, {"time": str(exc)}) from exc
        check_intervals(day, f"weekly_hours.{name}")
        weekly.append(tuple(day))
    return tuple(weekly)


def weekly_to_text(weekly: Sequence[Sequence[Interval]]) -> dict[str, list[list[str]]]:
    return {name: [[format_clock(s), format_clock(e)] for s, e in day]
            for name, day in zip(WEEKDAYS, weekly, strict=True)}


# --------------------------------------------------------------------------- arithmetic


def _at(day: dt.date, minute: int, zone: ZoneInfo) -> dt.datetime:
    if minute >= MINUTES_PER_DAY:
        day, minute = day + dt.timedelta(days=1), minute - MINUTES_PER_DAY
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(dt.UTC)


def working_spans(calendar: BusinessCalendar, start: dt.datetime
                  ) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The calendar's working time from ``start`` on: UTC ``(from, to)`` spans in order, the
    first one clipped to ``start``, none overlapping (also across daylight-saving changes)."""
    if start.tzinfo is None:
        raise ValueError("business time needs a timezone-aware start")
    zone = calendar.zone
    cursor = start.astimezone(dt.UTC)
    day = cursor.astimezone(zone).date()
    for _ in range(MAX_DAYS):
        for begin, end in calendar.hours_on(day):
            span_start = max(_at(day, begin, zone), cursor)
            span_end = _at(day, end, zone)
            if span_end > span_start:
                yield span_start, span_end
                cursor = span_end
        day += dt.timedelta(days=1)
    raise ValueError(f"no working time within {MAX_DAYS} days of {start.isoformat()}")


def add_business_time(start: dt.datetime, duration: dt.timedelta,
                      calendar: BusinessCalendar) -> dt.datetime:
    """The moment ``duration`` of working time after ``start`` (``start`` itself for zero).

    A result that exhausts a span lands on its end (12:00 of a 09:00–12:00 morning), not on
    the next opening.
    """
    if duration < ZERO:
        raise ValueError("business time cannot be negative")
    if duration == ZERO:
        return start.astimezone(dt.UTC)
    remaining = duration
    for span_start, span_end in working_spans(calendar, start):
        available = span_end - span_start
        if available >= remaining:
            return span_start + remaining
        remaining -= available
    raise AssertionError("unreachable: working_spans raises when it runs out")


def business_time_between(a: dt.datetime, b: dt.datetime,
                          calendar: BusinessCalendar) -> dt.timedelta:
    """Working time from ``a`` to ``b`` (zero when ``b`` is not after ``a``)."""
    if b <= a:
        return ZERO
    total = ZERO
    for span_start, span_end in working_spans(calendar, a):
        if span_start >= b:
            break
        total += min(span_end, b) - span_start
    return total


def add_business_minutes(start: dt.datetime, minutes: int,
                         calendar: BusinessCalendar) -> dt.datetime:
    """``start`` plus ``minutes`` of working time (a UTC datetime)."""
    return add_business_time(start, dt.timedelta(minutes=minutes), calendar)


def business_minutes_between(a: dt.datetime, b: dt.datetime,
                             calendar: BusinessCalendar) -> int:
    """Whole minutes of working time from ``a`` to ``b``."""
    return int(business_time_between(a, b, calendar) // dt.timedelta(minutes=1))


def business_seconds_between(a: dt.datetime, b: dt.datetime,
                             calendar: BusinessCalendar) -> int:
    """Whole seconds of working time from ``a`` to ``b``."""
    return int(business_time_between(a, b, calendar) // dt.timedelta(seconds=1))
