"""SLA configuration: business calendars (工作日历) and policies. No HTTP here.

Which policy applies to a work order: among the **enabled** policies whose match lists
(priorities, customer levels, work-order types; an empty list matches anything) all cover the
work order, the most specific one (the most non-empty lists) wins; ties go to the lower
``position``, then the older policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from jimu_sdk import N_, Conflict, ValidationFailed, platform
from piccolo.query.functions.aggregate import Count

from jimu_sla import holidays
from jimu_sla.business_time import (
    BusinessCalendar,
    CalendarError,
    add_business_minutes,
    weekly_from_text,
    weekly_to_text,
)
from jimu_sla.tables import Calendar, CalendarDay, Clock, Policy

PRIORITIES = ("low", "normal", "high", "urgent")
CUSTOMER_LEVELS = ("regular", "silver", "gold", "platinum")
"""Core's customer levels (``GET /api/v1/customers?level=``)."""
DAY_KINDS = ("holiday", "workday")
MAX_TARGET_MINUTES = 366 * 24 * 60
MAX_DAYS_PER_YEAR = 366


class FieldErrors:
    """Collects every problem of an input, then raises one 422 naming each field."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str, dict[str, Any]]] = []

    def add(self, field_name: str, message: str, **params: Any) -> None:
        self.found.append((field_name, message, params))

    def raise_any(self) -> None:
        if not self.found:
            return
        field_name, message, params = self.found[0]
        raise ValidationFailed(message, field=field_name, params=params, errors=[
            {"field": f, "message": m % p if p else m} for f, m, p in self.found])


def _json(value: Any) -> Any:
    """A row as audit entries store it (dates as ISO text)."""
    return msgspec.to_builtins(value)


# ----------------------------------------------------------------------------- calendars


@dataclass
class CalendarIn:
    name: str
    weekly_hours: Mapping[str, Sequence[Sequence[str]]]
    timezone: str = ""
    description: str = ""


@dataclass
class DayIn:
    date: dt.date
    kind: str
    name: str = ""


def _check_calendar(data: CalendarIn) -> tuple[Any, ...]:
    errors = FieldErrors()
    if not data.name.strip():
        errors.add("name", N_("give the calendar a name"))
    weekly: tuple[Any, ...] = ()
    try:
        weekly = weekly_from_text(data.weekly_hours)
        BusinessCalendar(timezone=data.timezone or platform().timezone(), weekly=weekly)
    except CalendarError as exc:
        errors.add(exc.field, exc.message, **exc.params)
    errors.raise_any()
    return weekly


async def _calendar_row(calendar_id: int) -> dict[str, Any]:
    return await Calendar.scoped_get(calendar_id, what="calendar")


async def _days_of(calendar_id: int) -> list[dict[str, Any]]:
    return await CalendarDay.scoped_select(CalendarDay.day, CalendarDay.kind,
                                           CalendarDay.name).where(
        CalendarDay.calendar_id == calendar_id).order_by(CalendarDay.day)


def _calendar_out(row: Mapping[str, Any], days: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "description": row["description"],
            "timezone": row["timezone"], "weekly_hours": row["weekly_hours"],
            "days": [{"date": d["day"], "kind": d["kind"], "name": d["name"]} for d in days],
            "years": sorted({d["day"].year for d in days}),
            "created_at": row["created_at"], "updated_at": row["updated_at"]}


async def list_calendars() -> list[dict[str, Any]]:
    rows = await Calendar.scoped_select().order_by(Calendar.name)
    counts = await CalendarDay.scoped_select(CalendarDay.calendar_id,
                                             Count(CalendarDay.id, alias="n")).group_by(
        CalendarDay.calendar_id)
    used = {r["calendar_id"]: r["n"] for r in counts}
    return [{**{k: r[k] for k in ("id", "name", "description", "timezone", "weekly_hours",
                                  "created_at", "updated_at")}, "day_count": used.get(r["id"], 0)}
            for r in rows]


async def get_calendar(calendar_id: int) -> dict[str, Any]:
    row = await _calendar_row(calendar_id)
    return _calendar_out(row, await _days_of(calendar_id))


async def _name_taken(table: Any, name: str, but: int | None = None) -> bool:
    query = table.scoped_count().where(table.name == name)
    if but is not None:
        query = query.where(table.id != but)
    return bool(await query)


async def create_calendar(data: CalendarIn) -> dict[str, Any]:
    weekly = _check_calendar(data)
    name = data.name.strip()
    if await _name_taken(Calendar, name):
        raise Conflict(N_("a calendar named %(name)s already exists"), field="name",
                       params={"name": name})
    now = platform().now()
    row = await Calendar.scoped_insert(name=name, description=data.description,
                                       timezone=data.timezone, weekly_hours=weekly_to_text(weekly),
                                       created_at=now, updated_at=now)
    out = await get_calendar(row["id"])
    await platform().audit("sla.calendar.create", f"calendar:{row['id']}", None, _json(out))
    return out


async def update_calendar(calendar_id: int, data: CalendarIn) -> dict[str, Any]:
    before = await get_calendar(calendar_id)
    weekly = _check_calendar(data)
    name = data.name.strip()
    if await _name_taken(Calendar, name, but=calendar_id):
        raise Conflict(N_("a calendar named %(name)s already exists"), field="name",
                       params={"name": name})
    await Calendar.scoped_update({Calendar.name: name, Calendar.description: data.description,
                                  Calendar.timezone: data.timezone,
                                  Calendar.weekly_hours: weekly_to_text(weekly),
                                  Calendar.updated_at: platform().now()}).where(
        Calendar.id == calendar_id)
    return await _calendar_changed(calendar_id, before, "sla.calendar.update")


async def delete_calendar(calendar_id: int) -> None:
    before = await get_calendar(calendar_id)
    users = await Policy.scoped_select(Policy.name).where(Policy.calendar_id == calendar_id)
    if users:
        raise Conflict(N_("the calendar is used by the policies %(names)s; give them another "
                          "calendar first"), params={"names": ", ".join(
                              sorted(u["name"] for u in users))})
    if await Clock.scoped_count().where((Clock.calendar_id == calendar_id)
                                        & (Clock.status != "stopped")):
        raise Conflict(N_("open work orders' SLA clocks still run on this calendar; delete it "
                          "when they are done"))
    await CalendarDay.scoped_delete().where(CalendarDay.calendar_id == calendar_id)
    await Calendar.scoped_delete().where(Calendar.id == calendar_id)
    await platform().audit("sla.calendar.delete", f"calendar:{calendar_id}", _json(before), None)


def _check_days(year: int, days: Sequence[DayIn], weekly: Any, timezone: str) -> None:
    errors = FieldErrors()
    seen: set[dt.date] = set()
    for index, day in enumerate(days):
        where = f"days[{index}]"
        if day.date.year != year:
            errors.add(f"{where}.date", N_("%(date)s is not in %(year)s"),
                       date=day.date.isoformat(), year=year)
        if day.kind not in DAY_KINDS:
            errors.add(f"{where}.kind", N_("kind must be holiday or workday"))
        if day.date in seen:
            errors.add(f"{where}.date", N_("%(date)s is listed twice"),
                       date=day.date.isoformat())
        seen.add(day.date)
    errors.raise_any()
    try:
        BusinessCalendar(timezone=timezone, weekly=weekly,
                         holidays=frozenset(d.date for d in days if d.kind == "holiday"),
                         workdays=frozenset(d.date for d in days if d.kind == "workday"))
    except CalendarError as exc:
        raise ValidationFailed(exc.message, field=exc.field, params=exc.params) from exc


async def _replace_days(calendar_id: int, dates: Iterable[dt.date], days: Sequence[DayIn]
                        ) -> None:
    """Drop the calendar's rows on ``dates`` and write ``days``."""
    wanted = sorted(set(dates) | {d.date for d in days})
    if wanted:
        await CalendarDay.scoped_delete().where((CalendarDay.calendar_id == calendar_id)
                                                & CalendarDay.day.is_in(wanted))
    for day in days:
        await CalendarDay.scoped_insert(calendar_id=calendar_id, day=day.date, kind=day.kind,
                                        name=day.name)


def _dates_of_year(year: int) -> list[dt.date]:
    first = dt.date(year, 1, 1)
    return [first + dt.timedelta(days=n) for n in range((dt.date(year + 1, 1, 1) - first).days)]


async def set_days(calendar_id: int, year: int, days: Sequence[DayIn]) -> dict[str, Any]:
    """Replace the holidays and make-up working days of ``year``."""
    before = await get_calendar(calendar_id)
    if not 2000 <= year <= 2100:
        raise ValidationFailed(N_("year must be between 2000 and 2100"), field="year")
    weekly = weekly_from_text(before["weekly_hours"])
    _check_days(year, days, weekly, before["timezone"] or platform().timezone())
    await _replace_days(calendar_id, _dates_of_year(year), days)
    return await _calendar_changed(calendar_id, before, "sla.calendar.days")


async def load_china_holidays(calendar_id: int, year: int) -> dict[str, Any]:
    """Replace ``year``'s days with China's public holidays and make-up working days (the
    notice may name a few days of the neighbouring year: they are written too)."""
    before = await get_calendar(calendar_id)
    shipped = holidays.china_days(year)
    if not shipped:
        raise ValidationFailed(
            N_("no public holidays of %(year)s are shipped; available: %(years)s"),
            field="year", params={"year": year,
                                  "years": ", ".join(map(str, holidays.available_years()))})
    days = [DayIn(date=d["date"], kind=d["kind"], name=d["name"]) for d in shipped]
    await _replace_days(calendar_id, _dates_of_year(year), days)
    return await _calendar_changed(calendar_id, before, "sla.calendar.china_holidays")


async def _calendar_changed(calendar_id: int, before: dict[str, Any], action: str
                            ) -> dict[str, Any]:
    from jimu_sla import clocks

    await Calendar.scoped_update({Calendar.updated_at: platform().now()}).where(
        Calendar.id == calendar_id)
    after = await get_calendar(calendar_id)
    await platform().audit(action, f"calendar:{calendar_id}", _json(before), _json(after))
    await clocks.calendar_changed(calendar_id)
    return after


def business_calendar_of(row: Mapping[str, Any] | None, days: Iterable[Mapping[str, Any]]
                         ) -> BusinessCalendar:
    """The arithmetic's view of a calendar row (none: around the clock, tenant's timezone)."""
    if row is None:
        return BusinessCalendar.around_the_clock(platform().timezone())
    days = list(days)
    return BusinessCalendar(
        timezone=row["timezone"] or platform().timezone(),
        weekly=weekly_from_text(row["weekly_hours"]),
        holidays=frozenset(d["day"] for d in days if d["kind"] == "holiday"),
        workdays=frozenset(d["day"] for d in days if d["kind"] == "workday"))


async def business_calendar(calendar_id: int | None) -> BusinessCalendar:
    """The calendar a clock runs on; a missing one counts around the clock."""
    if calendar_id is None:
        return business_calendar_of(None, ())
    row = await Calendar.scoped_select().where(Calendar.id == calendar_id).first()
    if row is None:
        return business_calendar_of(None, ())
    return business_calendar_of(row, await _days_of(calendar_id))


async def due_at(calendar_id: int, start: dt.datetime, minutes: int) -> dict[str, Any]:
    """When ``minutes`` of the calendar's working time after ``start`` end."""
    await _calendar_row(calendar_id)
    if start.tzinfo is None:
        start = start.replace(tzinfo=ZoneInfo(platform().timezone()))
    if not 0 <= minutes <= MAX_TARGET_MINUTES:
        raise ValidationFailed(N_("minutes must be between 0 and %(max)s"), field="minutes",
                               params={"max": MAX_TARGET_MINUTES})
    calendar = await business_calendar(calendar_id)
    due = add_business_minutes(start, minutes, calendar)
    return {"calendar_id": calendar_id, "start": start.astimezone(dt.UTC), "minutes": minutes,
            "due_at": due, "due_local": due.astimezone(calendar.zone).strftime("%Y-%m-%d %H:%M"),
            "timezone": calendar.timezone}


# ----------------------------------------------------------------------------- policies


@dataclass
class PolicyIn:
    name: str
    response_minutes: int | None = None
    resolution_minutes: int | None = None
    priorities: list[str] = field(default_factory=list)
    customer_levels: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    calendar_id: int | None = None
    warn_percent: int = 80
    position: int = 100
    enabled: bool = True
    escalate_roles: list[str] = field(default_factory=list)
    escalate_user_ids: list[int] = field(default_factory=list)
    escalate_priority: str | None = None
    reassign_to_team: int | None = None


POLICY_FIELDS = ("id", "name", "position", "enabled", "priorities", "customer_levels", "types",
                 "response_minutes", "resolution_minutes", "calendar_id", "warn_percent",
                 "escalate_roles", "escalate_user_ids", "escalate_priority", "escalate_team_id",
                 "created_at", "updated_at")


def policy_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in POLICY_FIELDS}


async def _check_policy(data: PolicyIn, but: int | None = None) -> None:
    errors = FieldErrors()
    if not data.name.strip():
        errors.add("name", N_("give the policy a name"))
    if data.response_minutes is None and data.resolution_minutes is None:
        errors.add("resolution_minutes", N_("give a response target, a resolution target or "
                                            "both (in business minutes)"))
    for name in ("response_minutes", "resolution_minutes"):
        value = getattr(data, name)
        if value is not None and not 1 <= value <= MAX_TARGET_MINUTES:
            errors.add(name, N_("%(field)s must be between 1 and %(max)s minutes"), field=name,
                       max=MAX_TARGET_MINUTES)
    for name, allowed in (("priorities", PRIORITIES), ("customer_levels", CUSTOMER_LEVELS)):
        for index, value in enumerate(getattr(data, name)):
            if value not in allowed:
                errors.add(f"{name}[{index}]", N_("%(value)s is not one of %(allowed)s"),
                           value=value, allowed=", ".join(allowed))
    for index, value in enumerate(data.types):
        if not value.strip():
            errors.add(f"types[{index}]", N_("a work-order type cannot be empty"))
    if not 1 <= data.warn_percent <= 99:
        errors.add("warn_percent", N_("warn_percent must be between 1 and 99"))
    if data.calendar_id is not None and not await Calendar.scoped_count().where(
            Calendar.id == data.calendar_id):
        errors.add("calendar_id", N_("calendar %(id)s not found"), id=data.calendar_id)
    if data.escalate_priority is not None and data.escalate_priority not in PRIORITIES:
        errors.add("escalate_priority", N_("%(value)s is not one of %(allowed)s"),
                   value=data.escalate_priority, allowed=", ".join(PRIORITIES))
    for index, role in enumerate(data.escalate_roles):
        if not role.strip():
            errors.add(f"escalate_roles[{index}]", N_("a role name cannot be empty"))
    if data.escalate_user_ids:
        known = {u["id"] for u in await platform().list_users(data.escalate_user_ids)}
        for index, user_id in enumerate(data.escalate_user_ids):
            if user_id not in known:
                errors.add(f"escalate_user_ids[{index}]", N_("user %(id)s not found"),
                           id=user_id)
    errors.raise_any()
    if await _name_taken(Policy, data.name.strip(), but=but):
        raise Conflict(N_("a policy named %(name)s already exists"), field="name",
                       params={"name": data.name.strip()})


def _policy_values(data: PolicyIn) -> dict[Any, Any]:
    return {Policy.name: data.name.strip(), Policy.position: data.position,
            Policy.enabled: data.enabled, Policy.priorities: list(dict.fromkeys(data.priorities)),
            Policy.customer_levels: list(dict.fromkeys(data.customer_levels)),
            Policy.types: list(dict.fromkeys(t.strip() for t in data.types)),
            Policy.response_minutes: data.response_minutes,
            Policy.resolution_minutes: data.resolution_minutes,
            Policy.calendar_id: data.calendar_id, Policy.warn_percent: data.warn_percent,
            Policy.escalate_roles: list(dict.fromkeys(r.strip() for r in data.escalate_roles)),
            Policy.escalate_user_ids: sorted(set(data.escalate_user_ids)),
            Policy.escalate_priority: data.escalate_priority,
            Policy.escalate_team_id: data.reassign_to_team}


async def list_policies() -> list[dict[str, Any]]:
    rows = await Policy.scoped_select().order_by(Policy.position).order_by(Policy.id)
    return [policy_out(r) for r in rows]


async def get_policy(policy_id: int) -> dict[str, Any]:
    return policy_out(await Policy.scoped_get(policy_id, what="policy"))


async def create_policy(data: PolicyIn) -> dict[str, Any]:
    await _check_policy(data)
    now = platform().now()
    values = {column._meta.name: value for column, value in _policy_values(data).items()}
    row = await Policy.scoped_insert(**values, created_at=now, updated_at=now)
    out = await get_policy(row["id"])
    await platform().audit("sla.policy.create", f"policy:{row['id']}", None, _json(out))
    return out


async def update_policy(policy_id: int, data: PolicyIn) -> dict[str, Any]:
    before = await get_policy(policy_id)
    await _check_policy(data, but=policy_id)
    await Policy.scoped_update({**_policy_values(data), Policy.updated_at: platform().now()}
                               ).where(Policy.id == policy_id)
    after = await get_policy(policy_id)
    await platform().audit("sla.policy.update", f"policy:{policy_id}", _json(before),
                           _json(after))
    return after


async def delete_policy(policy_id: int) -> None:
    """Running clocks keep the targets they started with (and its escalation)."""
    before = await get_policy(policy_id)
    await Policy.scoped_delete().where(Policy.id == policy_id)
    await platform().audit("sla.policy.delete", f"policy:{policy_id}", _json(before), None)


def specificity(policy: Mapping[str, Any]) -> int:
    return sum(1 for name in ("priorities", "customer_levels", "types") if policy[name])


def covers(policy: Mapping[str, Any], priority: str | None, customer_level: str | None,
           work_order_type: str | None) -> bool:
    return all(not wanted or value in wanted for wanted, value in (
        (policy["priorities"], priority), (policy["customer_levels"], customer_level),
        (policy["types"], work_order_type)))


def best_policy(policies: Iterable[Mapping[str, Any]], priority: str | None,
                customer_level: str | None, work_order_type: str | None
                ) -> Mapping[str, Any] | None:
    """The most specific enabled policy covering the work order (ties: position, then id)."""
    candidates = [p for p in policies
                  if p["enabled"] and covers(p, priority, customer_level, work_order_type)]
    if not candidates:
        return None
    return min(candidates, key=lambda p: (-specificity(p), p["position"], p["id"]))


async def matching_policy(priority: str | None, customer_level: str | None,
                          work_order_type: str | None) -> dict[str, Any] | None:
    found = best_policy(await Policy.scoped_select().where(Policy.enabled == True),  # noqa: E712
                        priority, customer_level, work_order_type)
    return dict(found) if found is not None else None
