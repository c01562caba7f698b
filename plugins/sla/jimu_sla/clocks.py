"""SLA clocks: started, paused, resumed, re-targeted and stopped by ``work_order.*`` events;
warnings and breaches fired by durable timers. No HTTP here.

Each work order gets a response clock and a resolution clock from the policy that matches it.
A running clock has two durable timers (``platform().schedule_at``): the warning at
``warn_percent`` of its target and the breach at 100%, both in business time of its calendar,
keyed ``sla:{clock id}:{generation}:warn|breach``. Nothing scans for due clocks: the timers
are the only thing that wakes the plugin up.

Pausing (the work order waits for the customer) banks the business time used so far and
cancels the timers; resuming starts a new *generation* with new timers for what is left.
Re-targeting (priority, type or customer level changed the matching policy) does the same and
keeps the time used. A timer of an older generation, or one delivered twice, finds its clock
changed and does nothing. Events are applied in the order they were emitted: one older than
the last applied for its work order (late, or delivered again) is ignored.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from jimu_sdk import DomainEvent, NotFound, emit, localized, platform

from jimu_sla import services
from jimu_sla.business_time import BusinessCalendar, add_business_time, business_time_between
from jimu_sla.tables import Clock, Policy, TrackedWorkOrder

log = logging.getLogger(__name__)

KINDS = ("response", "resolution")
STATUSES = ("open", "in_progress", "waiting_customer", "completed", "cancelled")
RESPONDED = ("in_progress", "completed")
"""Statuses that count as a response (an assignee does too)."""
LATE_CREATION = dt.timedelta(hours=1)
"""A work order first seen in a later event gets clocks when it was created at most this long
before (its ``created`` event is merely late); older ones predate the plugin and get none."""
KIND_TEXT = {"response": ("响应", "response"), "resolution": ("解决", "resolution")}


# ----------------------------------------------------------------------------- the work order


@dataclass(frozen=True)
class WorkOrderState:
    """What a ``work_order.*`` event says the work order now is."""

    id: int
    number: str
    type: str
    priority: str
    status: str
    customer_id: int | None
    partner_id: int | None
    assignee_id: int | None
    created_at: dt.datetime | None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def state_of(payload: Mapping[str, Any]) -> WorkOrderState | None:
    """The work order in an event's payload (flat, or under ``after``)."""
    data = payload.get("after") if isinstance(payload.get("after"), Mapping) else payload
    work_order_id = _int(data.get("id"))
    if work_order_id is None:
        return None
    return WorkOrderState(
        id=work_order_id, number=str(data.get("number") or f"#{work_order_id}")[:64],
        type=str(data.get("type") or "")[:64], priority=str(data.get("priority") or "normal"),
        status=str(data.get("status") or "open"), customer_id=_int(data.get("customer_id")),
        partner_id=_int(data.get("partner_id")), assignee_id=_int(data.get("assignee_id")),
        created_at=_time(data.get("created_at")))


def responded(work_order: Mapping[str, Any]) -> bool:
    return work_order["assignee_id"] is not None or work_order["status"] in RESPONDED


def condition_met(kind: str, work_order: Mapping[str, Any]) -> bool:
    return responded(work_order) if kind == "response" else work_order["status"] == "completed"


async def _customer_level(customer_id: int | None) -> str | None:
    if customer_id is None:
        return None
    try:
        customer = await platform().get_customer(customer_id)
    except NotFound:
        return None
    return customer.get("level")


# ----------------------------------------------------------------------------- clock state


class Calendars:
    """The calendars one transaction needs, each loaded once."""

    def __init__(self) -> None:
        self._loaded: dict[int | None, BusinessCalendar] = {}

    async def get(self, calendar_id: int | None) -> BusinessCalendar:
        if calendar_id not in self._loaded:
            self._loaded[calendar_id] = await services.business_calendar(calendar_id)
        return self._loaded[calendar_id]


def _seconds(delta: dt.timedelta) -> int:
    return int(delta // dt.timedelta(seconds=1))


def timer_key(clock: Mapping[str, Any], which: str) -> str:
    return f"sla:{clock['id']}:{clock['generation']}:{which}"


async def _save(clock: dict[str, Any], **changes: Any) -> None:
    clock.update(changes)
    await Clock.scoped_update({getattr(Clock, k): v for k, v in changes.items()}).where(
        Clock.id == clock["id"])


async def _cancel_timers(clock: Mapping[str, Any]) -> None:
    for which in ("warn", "breach"):
        await platform().cancel_timer(timer_key(clock, which))


async def consumed_seconds(clock: Mapping[str, Any], until: dt.datetime,
                           calendars: Calendars) -> int:
    """Business time the clock has used by ``until``."""
    used = clock["consumed_seconds"]
    if clock["status"] == "running" and clock["segment_started_at"] is not None:
        calendar = await calendars.get(clock["calendar_id"])
        used += _seconds(business_time_between(clock["segment_started_at"], until, calendar))
    return used


async def _schedule(clock: dict[str, Any], calendars: Calendars) -> None:
    """Timers of the clock's current generation, from its running stretch's start."""
    calendar = await calendars.get(clock["calendar_id"])
    start = clock["segment_started_at"]
    target = clock["target_minutes"] * 60
    used = clock["consumed_seconds"]
    due = add_business_time(start, dt.timedelta(seconds=max(target - used, 0)), calendar)
    warn_at = None
    args = {"clock_id": clock["id"], "generation": clock["generation"]}
    if clock["outcome"] == "pending":
        if clock["warned_at"] is None:
            threshold = target * clock["warn_percent"] // 100
            warn_at = add_business_time(start, dt.timedelta(seconds=max(threshold - used, 0)),
                                        calendar)
            await platform().schedule_at(warn_at, "sla.warn", args, key=timer_key(clock, "warn"))
        await platform().schedule_at(due, "sla.breach", args, key=timer_key(clock, "breach"))
    await _save(clock, due_at=due, warn_at=warn_at)


async def _checkpoint(clock: dict[str, Any], at: dt.datetime, calendars: Calendars) -> None:
    """Bank the running stretch's business time up to ``at``."""
    used = await consumed_seconds(clock, at, calendars)
    await _save(clock, consumed_seconds=used,
                segment_started_at=at if clock["status"] == "running" else None)


def _escalation_of(policy: Mapping[str, Any]) -> dict[str, Any]:
    return {"roles": list(policy["escalate_roles"]),
            "user_ids": list(policy["escalate_user_ids"]),
            "priority": policy["escalate_priority"], "team_id": policy["escalate_team_id"]}


def _targeting(policy: Mapping[str, Any], kind: str, work_order: Mapping[str, Any]
               ) -> dict[str, Any]:
    return {"policy_id": policy["id"], "policy_name": policy["name"],
            "calendar_id": policy["calendar_id"],
            "target_minutes": policy[f"{kind}_minutes"],
            "warn_percent": policy["warn_percent"], "escalation": _escalation_of(policy),
            "priority": work_order["priority"], "type": work_order["type"]}


@dataclass
class Reconciler:
    """Brings one work order's clocks in line with its new state at time ``at``."""

    work_order: dict[str, Any]
    at: dt.datetime
    calendars: Calendars
    first_sight: bool

    async def run(self, policy_changed: bool) -> None:
        work_order = self.work_order
        clocks = {c["kind"]: c for c in await Clock.scoped_select().where(
            Clock.work_order_id == work_order["work_order_id"])}
        fresh: set[str] = set()  # clocks whose new generation needs timers
        if work_order["status"] == "cancelled":
            for clock in clocks.values():
                if clock["status"] != "stopped":
                    await self.stop(clock, cancelled=True)
            return
        if policy_changed and work_order["timed"]:
            await self.apply_policy(clocks, fresh)
        for clock in clocks.values():
            if clock["status"] != "stopped" and condition_met(clock["kind"], work_order):
                await self.stop(clock)
            elif clock["status"] != "stopped":
                await self.follow_status(clock, fresh)
        for kind in fresh:
            clock = clocks[kind]
            if clock["status"] == "running":
                await _schedule(clock, self.calendars)

    async def apply_policy(self, clocks: dict[str, dict[str, Any]], fresh: set[str]) -> None:
        work_order = self.work_order
        policy = await services.matching_policy(work_order["priority"],
                                                work_order["customer_level"],
                                                work_order["type"])
        await TrackedWorkOrder.scoped_update(
            {TrackedWorkOrder.policy_id: policy["id"] if policy else None}).where(
            TrackedWorkOrder.id == work_order["id"])
        for kind in KINDS:
            clock = clocks.get(kind)
            target = policy[f"{kind}_minutes"] if policy else None
            if target is None:
                if clock is not None and clock["status"] != "stopped":
                    await self.stop(clock, cancelled=True)
                continue
            assert policy is not None
            if clock is None or (clock["status"] == "stopped" and clock["outcome"] == "cancelled"):
                # A new work order's clock is started even when its condition is already met
                # (assigned at creation): it is stopped at once and counts as met.
                if self.first_sight or not condition_met(kind, work_order):
                    clocks[kind] = await self.start(kind, policy, clock)
                    fresh.add(kind)
            elif clock["status"] != "stopped" and await self.retarget(clock, policy):
                fresh.add(kind)
            current = clocks.get(kind)
            if current is not None and current["status"] != "stopped" and (
                    current["priority"], current["type"]) != (work_order["priority"],
                                                              work_order["type"]):
                await _save(current, priority=work_order["priority"], type=work_order["type"])

    async def start(self, kind: str, policy: Mapping[str, Any], old: dict[str, Any] | None
                    ) -> dict[str, Any]:
        """A clock counting from the work order's creation (also when a later change is what
        makes a policy match)."""
        started = self.work_order["created_at"]
        values = {**_targeting(policy, kind, self.work_order), "status": "running",
                  "outcome": "pending", "consumed_seconds": 0, "segment_started_at": started,
                  "started_at": started, "due_at": None, "warn_at": None, "warned_at": None,
                  "breached_at": None, "stopped_at": None}
        if old is None:
            row = await Clock.scoped_insert(work_order_id=self.work_order["work_order_id"],
                                            kind=kind, generation=1, **values)
            return dict(row)
        await _save(old, generation=old["generation"] + 1, **values)
        return old

    async def retarget(self, clock: dict[str, Any], policy: Mapping[str, Any]) -> bool:
        """Another policy (or the same one, changed) now applies: keep the time used."""
        targeting = _targeting(policy, clock["kind"], self.work_order)
        keys = ("policy_id", "target_minutes", "calendar_id", "warn_percent")
        if all(clock[k] == targeting[k] for k in keys):
            return False
        running = clock["status"] == "running"
        if running:
            await _checkpoint(clock, self.at, self.calendars)
            await _cancel_timers(clock)
        await _save(clock, **targeting, generation=clock["generation"] + int(running))
        threshold = clock["target_minutes"] * 60 * clock["warn_percent"] // 100
        if clock["warned_at"] is not None and clock["consumed_seconds"] < threshold:
            await _save(clock, warned_at=None)  # a later warning point warns again
        return running

    async def follow_status(self, clock: dict[str, Any], fresh: set[str]) -> None:
        waiting = self.work_order["status"] == "waiting_customer"
        if waiting and clock["status"] == "running":
            await _checkpoint(clock, self.at, self.calendars)
            await _cancel_timers(clock)
            await _save(clock, status="paused", segment_started_at=None, due_at=None,
                        warn_at=None)
            fresh.discard(clock["kind"])
        elif not waiting and clock["status"] == "paused":
            await _save(clock, status="running", segment_started_at=self.at,
                        generation=clock["generation"] + 1)
            fresh.add(clock["kind"])

    async def stop(self, clock: dict[str, Any], *, cancelled: bool = False) -> None:
        """The clock's condition is met (or the work order is gone): final outcome."""
        await _checkpoint(clock, self.at, self.calendars)
        await _cancel_timers(clock)
        outcome = clock["outcome"]
        late_breach = False
        if outcome == "pending":
            if cancelled:
                outcome = "cancelled"
            elif clock["consumed_seconds"] > clock["target_minutes"] * 60:
                outcome, late_breach = "breached", True  # before its timer came round
            else:
                outcome = "met"
        await _save(clock, status="stopped", outcome=outcome, stopped_at=self.at,
                    segment_started_at=None, warn_at=None,
                    breached_at=clock["due_at"] or self.at if late_breach
                    else clock["breached_at"])
        if late_breach:
            await emit("sla.breached", event_payload(clock, self.work_order))


# ----------------------------------------------------------------------------- events


async def _claim(work_order_id: int, event_id: int) -> tuple[dict[str, Any] | None, bool]:
    """``(the tracked row before this event, whether the event is older than the last one
    applied)``. Claiming first serialises two events of one work order on PostgreSQL."""
    claimed = await TrackedWorkOrder.scoped_update(
        {TrackedWorkOrder.last_event_id: event_id}).where(
        (TrackedWorkOrder.work_order_id == work_order_id)
        & (TrackedWorkOrder.last_event_id < event_id)).returning(TrackedWorkOrder.id)
    row = await TrackedWorkOrder.scoped_select().where(
        TrackedWorkOrder.work_order_id == work_order_id).first()
    return row, bool(row is not None and not claimed)


async def on_work_order_event(event: DomainEvent) -> None:
    """``work_order.created|updated|assigned|moved|completed|cancelled``: the payload is the
    work order as it now is; its clocks follow it as of the event's time."""
    state = state_of(event.payload)
    if state is None:
        log.warning("sla: %s event %s has no work order id; ignored", event.type, event.id)
        return
    at = event.occurred_at if event.occurred_at.tzinfo else event.occurred_at.replace(
        tzinfo=dt.UTC)
    created_event = event.type == "work_order.created"
    before, stale = await _claim(state.id, event.id)
    if stale:
        if created_event and before is not None:
            await _late_creation(before, at)
        return
    level = await _customer_level(state.customer_id)
    values = {"number": state.number, "type": state.type, "priority": state.priority,
              "status": state.status, "customer_id": state.customer_id,
              "customer_level": level, "partner_id": state.partner_id,
              "assignee_id": state.assignee_id, "updated_at": at}
    if before is None:
        created = state.created_at if state.created_at and state.created_at <= at else None
        # First seen in a later event: clocks only when the payload shows the work order is
        # new (else they start when its late created event comes, see _late_creation).
        timed = created_event or (created is not None and at - created <= LATE_CREATION)
        row = await TrackedWorkOrder.scoped_insert(
            work_order_id=state.id, created_at=at if created_event else created or at,
            timed=timed, last_event_id=event.id, **values)
        work_order, policy_changed = dict(row), True
    else:
        await TrackedWorkOrder.scoped_update(
            {getattr(TrackedWorkOrder, k): v for k, v in values.items()}).where(
            TrackedWorkOrder.id == before["id"])
        work_order = {**before, **values}
        policy_changed = any(before[k] != work_order[k]
                             for k in ("priority", "type", "customer_level"))
    await Reconciler(work_order=work_order, at=at, calendars=Calendars(),
                     first_sight=before is None).run(policy_changed)


async def _late_creation(work_order: Mapping[str, Any], created_at: dt.datetime) -> None:
    """A ``work_order.created`` handled after a later event of its work order (two workers
    took them at once): the clocks it did not get then start from this creation, and the
    state already known applies as of the later event."""
    first_seen = work_order["created_at"]
    if work_order["timed"] or not dt.timedelta(0) <= first_seen - created_at <= LATE_CREATION:
        return
    if await Clock.scoped_count().where(Clock.work_order_id == work_order["work_order_id"]):
        return
    await TrackedWorkOrder.scoped_update({TrackedWorkOrder.created_at: created_at,
                                          TrackedWorkOrder.timed: True}).where(
        TrackedWorkOrder.id == work_order["id"])
    adopted = {**work_order, "created_at": created_at, "timed": True}
    await Reconciler(work_order=adopted, at=work_order["updated_at"], calendars=Calendars(),
                     first_sight=True).run(policy_changed=True)


async def calendar_changed(calendar_id: int) -> None:
    """The calendar's hours or days changed: running clocks on it get new timers (a new
    generation) for the same business time left."""
    calendars = Calendars()
    rows = await Clock.scoped_select().where((Clock.calendar_id == calendar_id)
                                             & (Clock.status == "running"))
    for clock in rows:
        await _cancel_timers(clock)
        await _save(clock, generation=clock["generation"] + 1)
        await _schedule(clock, calendars)


# ----------------------------------------------------------------------------- timers


def _local(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(platform().timezone())).strftime("%Y-%m-%d %H:%M")


def duration_text(minutes: int) -> tuple[str, str]:
    """``(Chinese, English)``: 90 → ("1 小时 30 分钟", "1 h 30 min")."""
    hours, rest = divmod(minutes, 60)
    zh = " ".join(p for p in (f"{hours} 小时" if hours else "", f"{rest} 分钟" if rest else "")
                  if p) or "0 分钟"
    en = " ".join(p for p in (f"{hours} h" if hours else "", f"{rest} min" if rest else "")
                  if p) or "0 min"
    return zh, en


def event_payload(clock: Mapping[str, Any], work_order: Mapping[str, Any] | None
                  ) -> dict[str, Any]:
    """What ``sla.warning`` and ``sla.breached`` carry (the README documents it)."""
    return {"work_order_id": clock["work_order_id"],
            "number": work_order["number"] if work_order else "",
            "clock": clock["kind"], "clock_id": clock["id"],
            "due_at": clock["due_at"].isoformat() if clock["due_at"] else None,
            "target_minutes": clock["target_minutes"],
            "policy_id": clock["policy_id"], "policy": clock["policy_name"],
            "assignee_id": work_order["assignee_id"] if work_order else None}


async def _fire(clock_id: int, generation: int,
                values: Callable[[Mapping[str, Any]], Mapping[Any, Any]], *extra: Any
                ) -> dict[str, Any] | None:
    """Claim the clock for a timer in one statement: only while the timer's generation is the
    clock's, the clock runs and nothing has decided it yet (so a timer delivered twice, even
    to two workers at once, acts once). Returns the clock as it was, or ``None``."""
    clock = await Clock.scoped_select().where(Clock.id == clock_id).first()
    if clock is None:
        return None
    claimed = await Clock.scoped_update(values(clock)).where(
        (Clock.id == clock_id) & (Clock.generation == generation)
        & (Clock.status == "running") & (Clock.outcome == "pending"), *extra
    ).returning(Clock.id)
    return dict(clock) if claimed else None


async def _work_order(work_order_id: int) -> dict[str, Any] | None:
    return await TrackedWorkOrder.scoped_select().where(
        TrackedWorkOrder.work_order_id == work_order_id).first()


async def _escalation(clock: Mapping[str, Any]) -> dict[str, Any]:
    """The policy's escalation as it is now, or as it was if the policy is gone."""
    if clock["policy_id"] is not None:
        policy = await Policy.scoped_select().where(Policy.id == clock["policy_id"]).first()
        if policy is not None:
            return _escalation_of(policy)
    return dict(clock["escalation"] or {})


async def _people(escalation: Mapping[str, Any]) -> list[int]:
    people = {int(i) for i in escalation.get("user_ids") or []}
    for role in escalation.get("roles") or []:
        people |= {u["id"] for u in await platform().list_users(role=role)}
    return sorted(people)


async def warn(tenant_id: int, clock_id: int, generation: int) -> None:
    """Timer job ``sla.warn``: the clock reached its warning point."""
    clock = await _fire(clock_id, generation, lambda _: {Clock.warned_at: platform().now()},
                        Clock.warned_at.is_null())
    if clock is None:
        return
    work_order = await _work_order(clock["work_order_id"])
    await emit("sla.warning", event_payload(clock, work_order))
    assignee = work_order["assignee_id"] if work_order else None
    people = [assignee] if assignee is not None else await _people(await _escalation(clock))
    zh, en = KIND_TEXT[clock["kind"]]
    number = work_order["number"] if work_order else f"#{clock['work_order_id']}"
    target_zh, target_en = duration_text(clock["target_minutes"])
    due = _local(clock["due_at"])
    await platform().notify(
        people, localized(f"工单 {number} {zh}时限即将到期", f"Work order {number}: {en} due soon"),
        body=localized(f"{zh}时限 {target_zh}，将于 {due} 到期（{clock['policy_name']}）。",
                       f"The {en} target is {target_en}; it is due at {due} "
                       f"({clock['policy_name']})."),
        link=f"/admin/p/work_orders/{clock['work_order_id']}", level="warning",
        key=timer_key(clock, "warn"))


async def breach(tenant_id: int, clock_id: int, generation: int) -> None:
    """Timer job ``sla.breach``: the clock used up its target."""
    clock = await _fire(clock_id, generation, lambda c: {Clock.outcome: "breached",
                                                         Clock.breached_at: c["due_at"]})
    if clock is None:
        return
    work_order = await _work_order(clock["work_order_id"])
    escalation = await _escalation(clock)
    await emit("sla.breached", {**event_payload(clock, work_order), "escalation": escalation})
    zh, en = KIND_TEXT[clock["kind"]]
    number = work_order["number"] if work_order else f"#{clock['work_order_id']}"
    target_zh, target_en = duration_text(clock["target_minutes"])
    await platform().notify(
        await _people(escalation),
        localized(f"工单 {number} {zh}已超时", f"Work order {number}: {en} overdue"),
        body=localized(f"{zh}时限 {target_zh} 已于 {_local(clock['due_at'])} 到期，"
                       f"请立即处理（{clock['policy_name']}）。",
                       f"The {en} target of {target_en} ran out at {_local(clock['due_at'])}; "
                       f"please act now ({clock['policy_name']})."),
        link=f"/admin/p/work_orders/{clock['work_order_id']}", level="urgent",
        key=f"sla:{clock['id']}:breach")
    request: dict[str, Any] = {}
    raise_to = escalation.get("priority")
    if raise_to in services.PRIORITIES and (
            work_order is None or work_order["priority"] not in services.PRIORITIES
            or services.PRIORITIES.index(raise_to)
            > services.PRIORITIES.index(work_order["priority"])):
        request["priority"] = raise_to  # raise only: never lower a priority
    if escalation.get("team_id") is not None:
        request["team_id"] = escalation["team_id"]
    if request:
        await emit("sla.escalate", {"work_order_id": clock["work_order_id"], **request,
                                    "clock": clock["kind"], "policy_id": clock["policy_id"],
                                    "reason": "sla.breached"})
