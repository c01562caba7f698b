"""Routes under /api/v1/sla: calendars, policies, a work order's clocks and the report."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from jimu_sdk import platform
from jimu_sdk.params import RecordId, RecordIdParam
from jimu_sdk.web import needs
from litestar import delete, get, post, put
from litestar.params import JSONBody, Parameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from jimu_sla import holidays, reports, services

T = TypeVar("T")


READ, ADMIN = needs("sla.read"), needs("sla.admin")
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
Short = Annotated[str, msgspec.Meta(max_length=64)]
TimeOfDay = Annotated[str, msgspec.Meta(max_length=5)]  # "09:00"; "24:00" ends a day
Interval = Annotated[list[TimeOfDay], msgspec.Meta(min_length=2, max_length=2)]
DayHours = Annotated[list[Interval], msgspec.Meta(max_length=24)]
Minutes = Annotated[int, msgspec.Meta(ge=1, le=services.MAX_TARGET_MINUTES)]
Year = Annotated[int, msgspec.Meta(ge=2000, le=2100)]
Page = Annotated[int, Parameter(ge=1, le=100_000)]
PerPage = Annotated[int, Parameter(ge=1, le=200)]


class ListOut(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


# ----------------------------------------------------------------------------- calendars


class CalendarBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    weekly_hours: Annotated[dict[Short, DayHours], msgspec.Meta(max_length=7)]
    timezone: Short = ""
    description: Text = ""


class DayBody(msgspec.Struct, forbid_unknown_fields=True):
    date: dt.date
    kind: Annotated[str, msgspec.Meta(max_length=16)]
    name: Annotated[str, msgspec.Meta(max_length=100)] = ""


class DaysBody(msgspec.Struct, forbid_unknown_fields=True):
    year: Year
    days: Annotated[list[DayBody], msgspec.Meta(max_length=services.MAX_DAYS_PER_YEAR)]


class YearBody(msgspec.Struct, forbid_unknown_fields=True):
    year: Year


class DayOut(msgspec.Struct):
    date: dt.date
    kind: str
    name: str


class CalendarSummaryOut(msgspec.Struct):
    id: int
    name: str
    description: str
    timezone: str
    weekly_hours: dict[str, list[list[str]]]
    day_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


class CalendarOut(msgspec.Struct):
    id: int
    name: str
    description: str
    timezone: str
    weekly_hours: dict[str, list[list[str]]]
    years: list[int]
    days: list[DayOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class DueOut(msgspec.Struct):
    calendar_id: int
    timezone: str
    start: dt.datetime
    minutes: int
    due_at: dt.datetime
    due_local: str


class HolidayYearOut(msgspec.Struct):
    year: int
    papers: list[str]
    days: list[DayOut]


def _calendar_in(data: CalendarBody) -> services.CalendarIn:
    return services.CalendarIn(name=data.name, weekly_hours=data.weekly_hours,
                               timezone=data.timezone, description=data.description)


def _calendar_out(row: dict[str, Any]) -> CalendarOut:
    return CalendarOut(**{**row, "days": [DayOut(**d) for d in row["days"]]})


@get("/calendars", guards=READ, summary="Business calendars (工作日历), by name")
async def list_calendars() -> list[CalendarSummaryOut]:
    return [CalendarSummaryOut(**row) for row in await services.list_calendars()]


@post("/calendars", guards=ADMIN,
      summary="Create a calendar: working hours per weekday (mon…sun: [[\"09:00\", "
              "\"12:00\"], …]; \"24:00\" ends a day) in a timezone (empty: the tenant's)")
async def create_calendar(data: JSONBody[CalendarBody]) -> CalendarOut:
    return _calendar_out(await services.create_calendar(_calendar_in(data)))


@get("/calendars/{calendar_id:int}", guards=READ,
     summary="A calendar with its holidays and make-up working days (调休)")
async def get_calendar(calendar_id: RecordIdParam) -> CalendarOut:
    return _calendar_out(await services.get_calendar(calendar_id))


@put("/calendars/{calendar_id:int}", guards=ADMIN,
     summary="Change a calendar's name, hours or timezone (running clocks are re-timed)")
async def update_calendar(calendar_id: RecordIdParam, data: JSONBody[CalendarBody]
                          ) -> CalendarOut:
    return _calendar_out(await services.update_calendar(calendar_id, _calendar_in(data)))


@delete("/calendars/{calendar_id:int}", guards=ADMIN, status_code=HTTP_204_NO_CONTENT,
        summary="Delete a calendar no policy and no open clock uses")
async def delete_calendar(calendar_id: RecordIdParam) -> None:
    await services.delete_calendar(calendar_id)


@put("/calendars/{calendar_id:int}/days", guards=ADMIN, status_code=HTTP_200_OK,
     summary="Replace one year's holidays and make-up working days (kind: holiday | workday)")
async def set_days(calendar_id: RecordIdParam, data: JSONBody[DaysBody]) -> CalendarOut:
    days = [services.DayIn(date=d.date, kind=d.kind, name=d.name) for d in data.days]
    return _calendar_out(await services.set_days(calendar_id, data.year, days))


@post("/calendars/{calendar_id:int}/china-holidays", guards=ADMIN, status_code=HTTP_200_OK,
      summary="Load China's public holidays and make-up working days of a year (replaces "
              "that year's days)")
async def load_china_holidays(calendar_id: RecordIdParam, data: JSONBody[YearBody]
                              ) -> CalendarOut:
    return _calendar_out(await services.load_china_holidays(calendar_id, data.year))


@get("/calendars/{calendar_id:int}/due", guards=READ,
     summary="When N business minutes after a moment end on this calendar (default: 60 "
             "minutes from now)")
async def due(calendar_id: RecordIdParam,
              start: Annotated[dt.datetime | None, Parameter()] = None,
              minutes: Annotated[int, Parameter(ge=0, le=services.MAX_TARGET_MINUTES)] = 60
              ) -> DueOut:
    row = await services.due_at(calendar_id, start or platform().now(), minutes)
    return DueOut(**row)


@get("/holidays/china", guards=READ,
     summary="China's public holidays and make-up working days shipped with the plugin, per "
             "year (source: NateScarlet/holiday-cn, from the State Council's notices)")
async def china_holidays() -> list[HolidayYearOut]:
    return [HolidayYearOut(year=year, papers=holidays.china_papers(year),
                           days=[DayOut(**d) for d in holidays.china_days(year)])
            for year in holidays.available_years()]


# ----------------------------------------------------------------------------- policies


class PolicyBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None
    priorities: Annotated[list[Short], msgspec.Meta(max_length=4)] = []
    customer_levels: Annotated[list[Short], msgspec.Meta(max_length=20)] = []
    types: Annotated[list[Short], msgspec.Meta(max_length=100)] = []
    calendar_id: RecordId | None = None
    warn_percent: Annotated[int, msgspec.Meta(ge=1, le=99)] = 80
    position: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 100
    enabled: bool = True
    escalate_roles: Annotated[list[Short], msgspec.Meta(max_length=20)] = []
    escalate_user_ids: Annotated[list[RecordId], msgspec.Meta(max_length=100)] = []
    escalate_priority: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    reassign_to_team: RecordId | None = None


class PolicyOut(msgspec.Struct):
    id: int
    name: str
    position: int
    enabled: bool
    priorities: list[str]
    customer_levels: list[str]
    types: list[str]
    response_minutes: int | None
    resolution_minutes: int | None
    calendar_id: int | None
    warn_percent: int
    escalate_roles: list[str]
    escalate_user_ids: list[int]
    escalate_priority: str | None
    reassign_to_team: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


def _policy_in(data: PolicyBody) -> services.PolicyIn:
    return services.PolicyIn(**{name: getattr(data, name) for name in PolicyBody.__struct_fields__})


def _policy_out(row: dict[str, Any]) -> PolicyOut:
    values = {k: v for k, v in row.items() if k != "escalate_team_id"}
    return PolicyOut(**values, reassign_to_team=row["escalate_team_id"])


@get("/policies", guards=READ, summary="SLA policies, by position")
async def list_policies() -> list[PolicyOut]:
    return [_policy_out(row) for row in await services.list_policies()]


@post("/policies", guards=ADMIN,
      summary="Create a policy: response and resolution targets in business minutes for the "
              "work orders it matches (empty lists match anything; the most specific wins)")
async def create_policy(data: JSONBody[PolicyBody]) -> PolicyOut:
    return _policy_out(await services.create_policy(_policy_in(data)))


@get("/policies/match", guards=READ,
     summary="The policy a work order with this priority, customer level and type gets")
async def match_policy(priority: Annotated[str | None, Parameter(max_length=16)] = None,
                       customer_level: Annotated[str | None, Parameter(max_length=32)] = None,
                       type: Annotated[str | None, Parameter(max_length=64)] = None
                       ) -> PolicyOut | None:
    found = await services.matching_policy(priority, customer_level, type)
    return _policy_out(services.policy_out(found)) if found else None


@get("/policies/{policy_id:int}", guards=READ, summary="One policy")
async def get_policy(policy_id: RecordIdParam) -> PolicyOut:
    return _policy_out(await services.get_policy(policy_id))


@put("/policies/{policy_id:int}", guards=ADMIN,
     summary="Replace a policy (applies to work orders created or re-matched from now on)")
async def update_policy(policy_id: RecordIdParam, data: JSONBody[PolicyBody]) -> PolicyOut:
    return _policy_out(await services.update_policy(policy_id, _policy_in(data)))


@delete("/policies/{policy_id:int}", guards=ADMIN, status_code=HTTP_204_NO_CONTENT,
        summary="Delete a policy (running clocks keep their targets)")
async def delete_policy(policy_id: RecordIdParam) -> None:
    await services.delete_policy(policy_id)


# ----------------------------------------------------------------------------- clocks, report


class ClockOut(msgspec.Struct):
    id: int
    kind: str
    state: str
    policy_id: int | None
    policy_name: str
    calendar_id: int | None
    target_minutes: int
    warn_percent: int
    consumed_minutes: int
    remaining_minutes: int
    overdue_minutes: int
    due_at: dt.datetime | None
    warn_at: dt.datetime | None
    warned: bool
    warned_at: dt.datetime | None
    breached_at: dt.datetime | None
    started_at: dt.datetime
    stopped_at: dt.datetime | None


class WorkOrderClocksOut(msgspec.Struct):
    id: int
    number: str
    type: str
    priority: str
    status: str
    customer_id: int | None
    customer_level: str | None
    assignee_id: int | None
    policy_id: int | None
    created_at: dt.datetime
    timed: bool
    clocks: list[ClockOut]


def _clocks_out(row: dict[str, Any]) -> WorkOrderClocksOut:
    return WorkOrderClocksOut(**{**row, "clocks": [ClockOut(**c) for c in row["clocks"]]})


@get("/work-orders", guards=READ,
     summary="Work orders the SLA follows, newest first, with their clocks; state: running, "
             "paused, met, breached, cancelled or warned (warned and still open)")
async def list_work_orders(
        clock_state: Annotated[str | None, QueryParameter(name="state", max_length=16)] = None,
        page: Page = 1, per_page: PerPage = 50) -> ListOut[WorkOrderClocksOut]:
    rows, total = await reports.list_work_orders(clock_state, page, per_page)
    return ListOut(items=[_clocks_out(r) for r in rows], total=total, page=page,
                   per_page=per_page)


@get("/work-orders/{work_order_id:int}", guards=READ,
     summary="A work order's clocks: target, consumed, remaining, due time, state, warned")
async def work_order_clocks(work_order_id: RecordIdParam) -> WorkOrderClocksOut:
    return _clocks_out(await reports.work_order_clocks(work_order_id))


class SeriesOut(msgspec.Struct):
    key: str
    name: dict[str, str]
    data: list[float | None]


class ChartOut(msgspec.Struct):
    categories: list[str]
    series: list[SeriesOut]


class SummaryOut(msgspec.Struct):
    total: int
    met: int
    breached: int
    running: int
    warned: int
    compliance_pct: float | None
    resolved: int
    avg_resolution_minutes: float | None


class RowOut(SummaryOut):
    key: str
    label: dict[str, str] | str


class ReportOut(msgspec.Struct):
    from_: dt.date = msgspec.field(name="from")
    to: dt.date
    group: str
    kind: str
    timezone: str
    rows: list[RowOut]
    totals: SummaryOut
    chart: ChartOut


@get("/report", guards=READ,
     summary="SLA compliance of the clocks started from `from` to `to` (dates, default the "
             "last 30 days), grouped by priority, type or month; kind: all, response or "
             "resolution. Chart-ready: `chart.categories` and `chart.series`")
async def report(date_from: Annotated[dt.date | None, QueryParameter(name="from")] = None,
                 date_to: Annotated[dt.date | None, QueryParameter(name="to")] = None,
                 group: Annotated[str, Parameter(max_length=16)] = "priority",
                 kind: Annotated[str, Parameter(max_length=16)] = "all") -> ReportOut:
    data = await reports.compliance_report(date_from, date_to, group, kind)
    return ReportOut(
        from_=data["from"], to=data["to"], group=data["group"], kind=data["kind"],
        timezone=data["timezone"], rows=[RowOut(**r) for r in data["rows"]],
        totals=SummaryOut(**data["totals"]),
        chart=ChartOut(categories=data["chart"]["categories"],
                       series=[SeriesOut(**s) for s in data["chart"]["series"]]))


ROUTES = [list_calendars, create_calendar, get_calendar, update_calendar, delete_calendar,
          set_days, load_china_holidays, due, china_holidays, list_policies, create_policy,
          match_policy, get_policy, update_policy, delete_policy, list_work_orders,
          work_order_clocks, report]
