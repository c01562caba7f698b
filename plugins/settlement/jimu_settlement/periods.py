"""Settlement periods (结算期): months, open or closed.

A document is booked in the month of its date while that month is open. Once a month is
closed it is locked: a document dated in it (a late order, a correction) is booked in the
next open month as a carried-forward correction, with the month it belongs to kept as its
``origin_period``. Closing and reopening are audited; nothing else changes a period's status.

Postings read their period ``FOR SHARE`` on PostgreSQL, so a close waits for the postings
already under way and every later posting sees the period closed (SQLite has one writer).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from jimu_sdk import (
    N_,
    Conflict,
    NotFound,
    ValidationFailed,
    current_scope,
    current_tenant_id,
    platform,
)

from jimu_settlement.tables import Period, Run, Statement

CODE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def code_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def check_code(code: str, field: str = "period") -> str:
    if not isinstance(code, str) or not CODE.match(code):
        raise ValidationFailed(N_("a period is a month written like 2026-10"), field=field)
    year = int(code[:4])
    if not 2000 <= year <= 2100:
        raise ValidationFailed(N_("a period is a month between 2000 and 2100"), field=field)
    return code


def bounds(code: str) -> tuple[dt.date, dt.date]:
    """The first day of the month and the first day after it."""
    year, month = int(code[:4]), int(code[5:])
    start = dt.date(year, month, 1)
    end = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start, end


def next_code(code: str) -> str:
    return code_of(bounds(code)[1])


def previous_code(code: str) -> str:
    return code_of(bounds(code)[0] - dt.timedelta(days=1))


def local_today() -> dt.date:
    from zoneinfo import ZoneInfo

    return platform().now().astimezone(ZoneInfo(platform().timezone())).date()


def local_date(moment: dt.datetime) -> dt.date:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(platform().timezone())).date()


def _user_id() -> int | None:
    scope = current_scope()
    return scope.user_id if scope else None


async def get_period(code: str, field: str = "period") -> dict[str, Any]:
    check_code(code, field)
    row = await Period.scoped_select().where(Period.code == code).first()
    if row is None:
        raise NotFound(N_("there is no settlement period %(period)s"), field=field,
                       params={"period": code})
    return row


async def ensure_period(code: str) -> dict[str, Any]:
    """The period ``code``, created open if it does not exist yet."""
    row = await Period.scoped_select().where(Period.code == code).first()
    if row is not None:
        return row
    start, end = bounds(code)
    # Two postings may create the same month at once: the loser's insert does nothing.
    await Period.raw(
        "INSERT INTO settlement_period (tenant_id, code, starts_on, ends_on, status, note, "
        "created_at) VALUES ({}, {}, {}, {}, 'open', '', {}) "
        "ON CONFLICT (tenant_id, code) DO NOTHING",
        current_tenant_id(), code, start, end, platform().now())
    return await Period.scoped_select().where(Period.code == code).first()


async def _status_for_booking(code: str) -> str | None:
    """The period's status, read ``FOR SHARE`` on PostgreSQL (a close waits for us)."""
    if Period._meta.db.engine_type == "postgres":
        rows = await Period.raw(
            "SELECT status FROM settlement_period WHERE tenant_id = {} AND code = {} "
            "FOR SHARE", current_tenant_id(), code)
    else:
        rows = await Period.scoped_select(Period.status).where(Period.code == code)
    return rows[0]["status"] if rows else None


async def booking_period(doc_date: dt.date) -> tuple[str, str]:
    """Where a document dated ``doc_date`` is booked: ``(period, origin_period)``."""
    origin = code_of(doc_date)
    status = await _status_for_booking(origin)
    if status == "open":
        return origin, origin
    later_closed = await Period.scoped_count().where(
        (Period.status == "closed") & (Period.code >= origin))
    if status is None and not later_closed:
        await ensure_period(origin)
        if await _status_for_booking(origin) == "open":
            return origin, origin
    # The month is closed (or lies before a closed one): the next open month takes it.
    target = await Period.scoped_select(Period.code).where(
        (Period.status == "open") & (Period.code > origin)).order_by(Period.code).first()
    if target is None:
        last_closed = await Period.scoped_select(Period.code).where(
            Period.status == "closed").order_by(Period.code, ascending=False).first()
        code = next_code(max(origin, last_closed["code"] if last_closed else origin))
        await ensure_period(code)
        target = {"code": code}
    if await _status_for_booking(target["code"]) != "open":
        raise Conflict(N_("period %(period)s was closed while this document was booked; "
                          "try again"), params={"period": target["code"]})
    return target["code"], origin


async def list_periods() -> list[dict[str, Any]]:
    return await Period.scoped_select().order_by(Period.code, ascending=False)


async def create_period(code: str) -> dict[str, Any]:
    check_code(code)
    if await Period.scoped_count().where(Period.code == code):
        raise Conflict(N_("period %(period)s exists already"), field="period",
                       params={"period": code})
    row = await ensure_period(code)
    await platform().audit("settlement.period.create", f"settlement_period:{code}", None,
                           {"code": code, "status": "open"})
    return row


async def close_period(code: str, *, note: str = "") -> dict[str, Any]:
    """Lock ``code``: it needs a completed settlement run that saw every entry booked in it.
    Audited."""
    from jimu_settlement import runs

    period = await get_period(code)
    if period["status"] == "closed":
        raise Conflict(N_("period %(period)s is closed already"), field="period",
                       params={"period": code})
    if await Run.scoped_count().where((Run.period == code) & (Run.status == "running")):
        raise Conflict(N_("a settlement run of %(period)s is still working; close the period "
                          "when it has finished"), field="period", params={"period": code})
    last = await runs.latest_completed(code)
    if last is None:
        raise Conflict(N_("run the settlement of %(period)s before closing it"),
                       field="period", params={"period": code})
    newest = await runs.newest_booked_entry(code)
    if newest > last["last_entry_id"]:
        raise Conflict(N_("documents were booked in %(period)s after its last settlement run; "
                          "run it again before closing"), field="period",
                       params={"period": code})
    now = platform().now()
    await Period.scoped_update({Period.status: "closed", Period.closed_at: now,
                                Period.closed_by: _user_id(), Period.note: note}).where(
        Period.code == code)
    await platform().audit("settlement.period.close", f"settlement_period:{code}",
                           {"status": "open"}, {"status": "closed", "note": note,
                                                "run_id": last["id"]})
    return await get_period(code)


async def reopen_period(code: str, *, reason: str) -> dict[str, Any]:
    """Open a closed period again (a reason is required; audited). Refused when one of its
    statements is paid: correct it in the next period instead."""
    if not reason.strip():
        raise ValidationFailed(N_("say why the period is reopened"), field="reason")
    period = await get_period(code)
    if period["status"] != "closed":
        raise Conflict(N_("period %(period)s is open"), field="period", params={"period": code})
    paid = await Statement.scoped_select(Statement.number).where(
        (Statement.period == code) & (Statement.status == "paid")).first()
    if paid is not None:
        raise Conflict(N_("statement %(number)s of %(period)s is paid: a paid period cannot be "
                          "reopened; book a correction in an open period instead"),
                       field="period", params={"number": paid["number"], "period": code})
    await Period.scoped_update({Period.status: "open", Period.reopened_at: platform().now(),
                                Period.reopened_by: _user_id(), Period.note: reason.strip()}
                               ).where(Period.code == code)
    await platform().audit("settlement.period.reopen", f"settlement_period:{code}",
                           {"status": "closed"}, {"status": "open", "reason": reason.strip()})
    return await get_period(code)
