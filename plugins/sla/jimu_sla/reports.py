"""What the SLA pages read: a work order's clocks as they stand, the work orders followed, the
open clocks nearest to breach, and the compliance report (chart-ready: categories and series in
the order a chart draws them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from jimu_sdk import N_, NotFound, ValidationFailed, localized, platform

from jimu_sla.clocks import Calendars, consumed_seconds
from jimu_sla.services import PRIORITIES
from jimu_sla.tables import Clock, TrackedWorkOrder

GROUPS = ("priority", "type", "month", "week")
KIND_FILTERS = ("all", "response", "resolution")
CLOCK_STATES = ("running", "paused", "met", "breached", "cancelled")
MAX_REPORT_DAYS = 3 * 366
PRIORITY_LABELS = {"low": localized("低", "Low"), "normal": localized("普通", "Normal"),
                   "high": localized("高", "High"), "urgent": localized("紧急", "Urgent")}
SERIES = {"met": localized("按时", "Met"), "breached": localized("超时", "Breached"),
          "running": localized("进行中", "Running"),
          "compliance_pct": localized("达标率 %", "Compliance %")}


def state_of(clock: Mapping[str, Any]) -> str:
    """running | paused | met | breached | cancelled (a breached clock stays breached)."""
    if clock["outcome"] in ("met", "breached", "cancelled"):
        return str(clock["outcome"])
    return str(clock["status"])


async def clock_view(clock: Mapping[str, Any], now: dt.datetime, calendars: Calendars
                     ) -> dict[str, Any]:
    used = await consumed_seconds(clock, now, calendars)
    target = clock["target_minutes"] * 60
    return {"id": clock["id"], "kind": clock["kind"], "state": state_of(clock),
            "policy_id": clock["policy_id"], "policy_name": clock["policy_name"],
            "calendar_id": clock["calendar_id"], "target_minutes": clock["target_minutes"],
            "warn_percent": clock["warn_percent"],
            "consumed_minutes": used // 60,
            "remaining_minutes": -(-max(target - used, 0) // 60),
            "overdue_minutes": max(used - target, 0) // 60,
            "due_at": clock["due_at"] if clock["status"] == "running" or clock["outcome"] in (
                "met", "breached") else None,
            "warn_at": clock["warn_at"], "warned": clock["warned_at"] is not None,
            "warned_at": clock["warned_at"], "breached_at": clock["breached_at"],
            "started_at": clock["started_at"], "stopped_at": clock["stopped_at"]}


def _work_order_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": row["work_order_id"], "number": row["number"], "type": row["type"],
            "priority": row["priority"], "status": row["status"],
            "customer_id": row["customer_id"], "customer_level": row["customer_level"],
            "assignee_id": row["assignee_id"], "policy_id": row["policy_id"],
            "created_at": row["created_at"], "timed": row["timed"]}


async def work_order_clocks(work_order_id: int) -> dict[str, Any]:
    """A followed work order and its clocks; 404 for one this tenant's SLA never saw."""
    row = await TrackedWorkOrder.scoped_select().where(
        TrackedWorkOrder.work_order_id == work_order_id).first()
    if row is None:
        raise NotFound(N_("work order %(id)s has no SLA record"), params={"id": work_order_id})
    clocks = await Clock.scoped_select().where(Clock.work_order_id == work_order_id)
    now, calendars = platform().now(), Calendars()
    views = [await clock_view(c, now, calendars)
             for c in sorted(clocks, key=lambda c: c["kind"] != "response")]
    return {**_work_order_out(row), "clocks": views}


async def list_work_orders(state: str | None, page: int, per_page: int
                           ) -> tuple[list[dict[str, Any]], int]:
    """Followed work orders, newest first; ``state`` keeps those with a clock in that state
    (``warned``: warned and still open)."""
    if state is not None and state not in (*CLOCK_STATES, "warned"):
        raise ValidationFailed(N_("state must be one of %(allowed)s"), field="state",
                               params={"allowed": ", ".join((*CLOCK_STATES, "warned"))})
    query = TrackedWorkOrder.scoped_select()
    count = TrackedWorkOrder.scoped_count()
    if state is not None:
        clocks = Clock.scoped_select(Clock.work_order_id)
        if state == "warned":
            clocks = clocks.where(Clock.warned_at.is_not_null() & (Clock.status != "stopped")
                                  & (Clock.outcome == "pending"))
        elif state in ("running", "paused"):
            clocks = clocks.where((Clock.status == state) & (Clock.outcome == "pending"))
        else:
            clocks = clocks.where(Clock.outcome == state)
        ids = sorted({r["work_order_id"] for r in await clocks})
        query = query.where(TrackedWorkOrder.work_order_id.is_in(ids or [-1]))
        count = count.where(TrackedWorkOrder.work_order_id.is_in(ids or [-1]))
    rows = await query.order_by(TrackedWorkOrder.work_order_id, ascending=False).limit(
        per_page).offset((page - 1) * per_page)
    if not rows:
        return [], await count
    clocks_of: dict[int, list[dict[str, Any]]] = {}
    for clock in await Clock.scoped_select().where(
            Clock.work_order_id.is_in([r["work_order_id"] for r in rows])):
        clocks_of.setdefault(clock["work_order_id"], []).append(clock)
    now, calendars = platform().now(), Calendars()
    items = []
    for row in rows:
        views = [await clock_view(c, now, calendars) for c in sorted(
            clocks_of.get(row["work_order_id"], []), key=lambda c: c["kind"] != "response")]
        items.append({**_work_order_out(row), "clocks": views})
    return items, await count


async def open_clocks(kind: str, page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    """Clocks of work orders not done yet, the nearest to breach first: running ones by due
    time (those already breached, still open, at the top), then paused ones by the share of
    their target used. Each comes with ``used_percent`` and its work order."""
    if kind not in KIND_FILTERS:
        raise ValidationFailed(N_("kind must be one of %(allowed)s"), field="kind",
                               params={"allowed": ", ".join(KIND_FILTERS)})
    query = Clock.scoped_select(Clock.id, Clock.status, Clock.due_at, Clock.consumed_seconds,
                                Clock.target_minutes).where(Clock.status != "stopped")
    if kind != "all":
        query = query.where(Clock.kind == kind)
    rows = await query
    never = dt.datetime.max.replace(tzinfo=dt.UTC)

    def nearest_first(row: Mapping[str, Any]) -> tuple[int, dt.datetime, float, int]:
        if row["status"] == "running":
            return 0, row["due_at"] or never, 0.0, row["id"]
        return 1, never, -row["consumed_seconds"] / max(row["target_minutes"] * 60, 1), row["id"]

    rows.sort(key=nearest_first)
    chosen = [r["id"] for r in rows[(page - 1) * per_page:page * per_page]]
    if not chosen:
        return [], len(rows)
    clocks = {c["id"]: c for c in await Clock.scoped_select().where(Clock.id.is_in(chosen))}
    work_orders = {w["work_order_id"]: w for w in await TrackedWorkOrder.scoped_select().where(
        TrackedWorkOrder.work_order_id.is_in(sorted({c["work_order_id"]
                                                     for c in clocks.values()})))}
    now, calendars = platform().now(), Calendars()
    items = []
    for clock_id in chosen:
        clock = clocks[clock_id]
        view = await clock_view(clock, now, calendars)
        work_order = work_orders.get(clock["work_order_id"])
        items.append({**view, "work_order_id": clock["work_order_id"],
                      "paused": clock["status"] == "paused",
                      "used_percent": view["consumed_minutes"] * 100 // max(
                          clock["target_minutes"], 1),
                      "work_order": _work_order_out(work_order) if work_order else None})
    return items, len(rows)


# ----------------------------------------------------------------------------- the report


def _months(first: dt.date, last: dt.date) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _weeks(first: dt.date, last: dt.date) -> list[str]:
    """The Mondays (ISO dates) of the weeks from ``first`` to ``last``."""
    monday = first - dt.timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        weeks.append(monday.isoformat())
        monday += dt.timedelta(days=7)
    return weeks


def _pct(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


async def compliance_report(date_from: dt.date | None, date_to: dt.date | None, group: str,
                            kind: str) -> dict[str, Any]:
    """Clocks started from ``date_from`` to ``date_to`` (whole days in the tenant's
    timezone; the last 30 days by default), grouped by priority, type, month or week (keyed by
    its Monday, ``2026-05-11``): how many were met, breached or are
    still running, compliance (met of met + breached) and average business minutes to
    resolve (resolution clocks of completed work orders). Cancelled ones are left out."""
    if group not in GROUPS:
        raise ValidationFailed(N_("group must be one of %(allowed)s"), field="group",
                               params={"allowed": ", ".join(GROUPS)})
    if kind not in KIND_FILTERS:
        raise ValidationFailed(N_("kind must be one of %(allowed)s"), field="kind",
                               params={"allowed": ", ".join(KIND_FILTERS)})
    zone = ZoneInfo(platform().timezone())
    today = platform().now().astimezone(zone).date()
    date_to = date_to or today
    date_from = date_from or date_to - dt.timedelta(days=29)
    if date_from > date_to:
        raise ValidationFailed(N_("from must not be after to"), field="from")
    if (date_to - date_from).days >= MAX_REPORT_DAYS:
        raise ValidationFailed(N_("a report covers at most %(days)s days"), field="from",
                               params={"days": MAX_REPORT_DAYS})
    start = dt.datetime.combine(date_from, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    query = Clock.scoped_select().where((Clock.started_at >= start) & (Clock.started_at < end)
                                        & (Clock.outcome != "cancelled"))
    if kind != "all":
        query = query.where(Clock.kind == kind)
    rows = await query

    def key_of(clock: Mapping[str, Any]) -> str:
        if group == "month":
            return clock["started_at"].astimezone(zone).strftime("%Y-%m")
        if group == "week":
            day = clock["started_at"].astimezone(zone).date()
            return (day - dt.timedelta(days=day.weekday())).isoformat()
        return str(clock[group] or "")

    if group == "priority":
        keys = list(reversed(PRIORITIES))
        keys += sorted({key_of(r) for r in rows} - set(keys))
    elif group == "month":
        keys = _months(date_from, date_to)
    elif group == "week":
        keys = _weeks(date_from, date_to)
    else:
        keys = sorted({key_of(r) for r in rows})
    buckets: dict[str, list[Mapping[str, Any]]] = {k: [] for k in keys}
    for row in rows:
        buckets.setdefault(key_of(row), []).append(row)
    result_rows = [_summary(key, buckets[key], group) for key in keys]
    totals = _summary("", rows, group)
    totals.pop("key"), totals.pop("label")
    return {"from": date_from, "to": date_to, "group": group, "kind": kind,
            "timezone": str(zone), "rows": result_rows, "totals": totals,
            "chart": {"categories": keys,
                      "series": [{"key": name, "name": SERIES[name],
                                  "data": [r[name] for r in result_rows]}
                                 for name in ("met", "breached", "running", "compliance_pct")]}}


def _summary(key: str, clocks: list[Mapping[str, Any]], group: str) -> dict[str, Any]:
    met = sum(1 for c in clocks if c["outcome"] == "met")
    breached = sum(1 for c in clocks if c["outcome"] == "breached")
    running = sum(1 for c in clocks if c["outcome"] == "pending")
    resolved = [c["consumed_seconds"] for c in clocks
                if c["kind"] == "resolution" and c["status"] == "stopped"
                and c["outcome"] in ("met", "breached")]
    label: dict[str, str] | str = PRIORITY_LABELS.get(key, key) if group == "priority" else key
    return {"key": key, "label": label, "total": met + breached + running, "met": met,
            "breached": breached, "running": running,
            "warned": sum(1 for c in clocks if c["warned_at"] is not None),
            "compliance_pct": _pct(met, met + breached),
            "resolved": len(resolved),
            "avg_resolution_minutes": round(sum(resolved) / len(resolved) / 60, 1)
            if resolved else None}
