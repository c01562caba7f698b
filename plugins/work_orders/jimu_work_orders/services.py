"""Work orders (工单), free of HTTP: plain async functions returning dicts, for the API, the
pages and other plugins alike.

A work order is the subject of one flow run (``work_orders:<id>``). Creating one starts the
live version of its type's flow; its status follows the run: right after this plugin's own
actions (same transaction), and through the ``flow.*`` event handlers for moves made elsewhere
(timers, the flow API). :func:`sync_run` is both: it reads the run as it is now and writes it
only when the run's revision is newer than the one the work order last saw, so a redelivered
event changes nothing and emits nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from jimu_sdk import (
    N_,
    Conflict,
    JimuError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    current_scope,
    emit,
    has_permission,
    localized,
    platform,
)
from jimu_sdk.web import partner_scope

from jimu_work_orders import presets, runs
from jimu_work_orders import settings as config
from jimu_work_orders.tables import Activity, Attachment, Comment, Team, WorkOrder

SUBJECT_PREFIX = "work_orders:"
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_RANK = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
STATUSES = ("open", "in_progress", "waiting_customer", "completed", "cancelled")
OPEN_STATUSES = ("open", "in_progress", "waiting_customer")
CLOSED_STATUSES = ("completed", "cancelled")
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 12
SORTS = {"id": WorkOrder.id, "number": WorkOrder.number, "created_at": WorkOrder.created_at,
         "updated_at": WorkOrder.updated_at, "priority": WorkOrder.priority_rank,
         "scheduled_at": WorkOrder.scheduled_at, "status": WorkOrder.status}
ATTACHMENT_REF = re.compile(r"^work_orders:attachment:(\d{1,10})$")
BULK_ACTIONS = ("assign", "set_priority", "set_team", "cancel")
MAX_CALENDAR_DAYS = 366


# ----------------------------------------------------------------------------- small helpers


def now() -> dt.datetime:
    return platform().now()


def _zone() -> ZoneInfo:
    return ZoneInfo(platform().timezone())


def today() -> dt.date:
    return now().astimezone(_zone()).date()


def day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the tenant's timezone, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(0), _zone())


def user_id() -> int | None:
    scope = current_scope()
    return scope.user_id if scope else None


def money(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):  # SQLite hands NUMERIC back as float
        value = repr(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def subject_of(work_order_id: int) -> str:
    return f"{SUBJECT_PREFIX}{work_order_id}"


def work_order_id_of(subject: Any) -> int | None:
    """The work order a run's subject names, or ``None`` for any other subject."""
    if not isinstance(subject, str) or not subject.startswith(SUBJECT_PREFIX):
        return None
    rest = subject[len(SUBJECT_PREFIX):]
    return int(rest) if rest.isdigit() and 0 < int(rest) < 2**31 else None


def derive_status(*, run_status: str, node_id: str, accepted_at: Any,
                  customer_steps: Iterable[str]) -> str:
    """A work order's status from its run: completed and cancelled follow the run; waiting
    at one of its type's customer steps is ``waiting_customer``; else in progress once
    someone took it on, open before."""
    if run_status == "completed":
        return "completed"
    if run_status == "cancelled":
        return "cancelled"
    if run_status == "waiting" and node_id in set(customer_steps):
        return "waiting_customer"
    return "in_progress" if accepted_at is not None else "open"


def _customer_steps(type_key: str) -> list[str]:
    return list(config.types().get(type_key, {}).get("customer_steps") or [])


def event_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    """What every ``work_order.*`` event carries (money as a decimal string)."""
    amount = money(row.get("amount"))
    return {"id": row["id"], "number": row["number"], "type": row["type"],
            "priority": row["priority"], "status": row["status"],
            "customer_id": row["customer_id"], "partner_id": row["partner_id"],
            "region_code": row["region_code"], "assignee_id": row["assignee_id"],
            "team_id": row["team_id"], "amount": None if amount is None else str(amount),
            "currency": row["currency"], "run_id": row["run_id"], "flow": row["flow_code"],
            "node_id": row["node_id"], "title": row["title"],
            "created_at": row["created_at"].isoformat() if row.get("created_at") else None}


async def record_activity(work_order_id: int, kind: str, *,
                          changes: Mapping[str, Any] | None = None, note: str = "") -> None:
    await Activity.scoped_insert(work_order_id=work_order_id, kind=kind, actor_id=user_id(),
                                 changes=dict(changes or {}), note=note, at=now())


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# ----------------------------------------------------------------------------- visibility


async def _visibility() -> Any:
    """A condition limiting work orders to what the caller may see, or ``None``."""
    partner_id = partner_scope()
    if partner_id is None:
        return None
    condition: Any = WorkOrder.partner_id == partner_id
    me = user_id()
    if me is not None:
        condition = condition | (WorkOrder.assignee_id == me)
    customers = await platform().visible_customer_ids()
    if customers:
        condition = condition | WorkOrder.customer_id.is_in(customers)
    return condition


async def visible_ids() -> list[int] | None:
    """Ids of the work orders the caller may see, or ``None`` when it may see them all."""
    visible = await _visibility()
    if visible is None:
        return None
    return [r["id"] for r in await WorkOrder.scoped_select(WorkOrder.id).where(visible)]


async def row_of(work_order_id: int) -> dict[str, Any]:
    """A work order the caller may see; another tenant's (or an invisible one) is 404."""
    query = WorkOrder.scoped_select().where(WorkOrder.id == work_order_id)
    visible = await _visibility()
    if visible is not None:
        query = query.where(visible)
    row = await query.first()
    if row is None:
        raise NotFound(N_("work order %(id)s not found"), params={"id": work_order_id})
    return row


async def _fresh(work_order_id: int) -> dict[str, Any]:
    row = await WorkOrder.scoped_select().where(WorkOrder.id == work_order_id).first()
    if row is None:
        raise NotFound(N_("work order %(id)s not found"), params={"id": work_order_id})
    return row


async def write_row(row: Mapping[str, Any], values: Mapping[Any, Any]) -> dict[str, Any]:
    """Update the row if nobody changed it since it was read (else 409), moving its
    revision on; returns it as it is now."""
    changes = {**values, WorkOrder.revision: row["revision"] + 1, WorkOrder.updated_at: now()}
    done = await WorkOrder.scoped_update(changes).where(
        (WorkOrder.id == row["id"]) & (WorkOrder.revision == row["revision"])
    ).returning(WorkOrder.id)
    if not done:
        current = await _fresh(row["id"])
        raise Conflict(N_("work order %(number)s changed meanwhile (revision %(revision)s): "
                          "reload it"), params={"number": row["number"],
                                                "revision": current["revision"]},
                       work_order={"id": current["id"], "revision": current["revision"],
                                   "status": current["status"]})
    return await _fresh(row["id"])


# ----------------------------------------------------------------------------- validation


def check_priority(value: str | None, field: str = "priority") -> str:
    priority = (value or "normal").strip().lower()
    if priority not in PRIORITIES:
        raise ValidationFailed(N_("priority must be one of %(allowed)s"), field=field,
                               params={"allowed": ", ".join(PRIORITIES)})
    return priority


def check_type(value: str, field: str = "type") -> dict[str, Any]:
    known = config.types()
    found = known.get((value or "").strip())
    if found is None:
        raise ValidationFailed(N_("%(type)s is not a work order type; the types are "
                                  "%(allowed)s"), field=field,
                               params={"type": value, "allowed": ", ".join(known) or "none"})
    return found


def check_amount(value: Any, field: str = "amount") -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(N_("amount must be a number such as 5000.00"),
                               field=field) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise ValidationFailed(N_("amount must be between 0 and 999999999999.99"), field=field)
    if amount != amount.quantize(CENT):
        raise ValidationFailed(N_("amount has at most 2 decimal places"), field=field)
    return amount.quantize(CENT)


def check_currency(value: str | None) -> str:
    currency = (value or "CNY").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValidationFailed(N_("currency must be a three-letter code such as CNY"),
                               field="currency")
    return currency


def check_title(value: str | None) -> str:
    title = (value or "").strip()
    if not title:
        raise ValidationFailed(N_("give the work order a title"), field="title")
    if len(title) > 200:
        raise ValidationFailed(N_("a title has at most 200 characters"), field="title")
    return title


def check_region(code: str | None) -> str | None:
    code = (code or "").strip() or None
    if code is not None and not platform().region_path(code):
        raise ValidationFailed(N_("%(code)s is not a known region code"), field="region_code",
                               params={"code": code})
    return code


async def check_customer(customer_id: int | None) -> Mapping[str, Any] | None:
    if customer_id is None:
        return None
    try:
        return await platform().get_customer(customer_id)
    except NotFound:
        raise ValidationFailed(N_("customer %(id)s not found"), field="customer_id",
                               params={"id": customer_id}) from None


async def check_partner(partner_id: int | None) -> Mapping[str, Any] | None:
    if partner_id is None:
        return None
    try:
        return await platform().get_partner(partner_id)
    except NotFound:
        raise ValidationFailed(N_("partner %(id)s not found"), field="partner_id",
                               params={"id": partner_id}) from None


async def check_user(user: int | None, field: str = "assignee_id") -> int | None:
    if user is None:
        return None
    if not await platform().list_users([user]):
        raise ValidationFailed(N_("user %(id)s not found (or deactivated)"), field=field,
                               params={"id": user})
    return user


async def check_team(team_id: int | None, field: str = "team_id") -> dict[str, Any] | None:
    if team_id is None:
        return None
    team = await Team.scoped_select().where(Team.id == team_id).first()
    if team is None:
        raise ValidationFailed(N_("team %(id)s not found"), field=field,
                               params={"id": team_id})
    return team


def check_when(value: dt.datetime | None) -> dt.datetime | None:
    """An appointment time; one without an offset is the tenant's local time."""
    if value is None:
        return None
    return value.replace(tzinfo=_zone()) if value.tzinfo is None else value


# ----------------------------------------------------------------------------- numbers


async def _next_number() -> str:
    stem = f"WO-{today():%Y%m%d}-"
    last = await WorkOrder.scoped_select(WorkOrder.number).where(
        WorkOrder.number.like(stem + "%")).order_by(WorkOrder.number, ascending=False).first()
    sequence = int(last["number"][len(stem):]) + 1 if last else 1
    return f"{stem}{sequence:04d}"


# ----------------------------------------------------------------------------- creating


def run_data(row: Mapping[str, Any], customer: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a new run starts with: the work order (``work_order.amount > 5000``), the
    customer (``customer.level == "platinum"``), and the keys other nodes read
    (``assignee_id``, ``region_code``, ``number``)."""
    amount = money(row["amount"])
    order = {"id": row["id"], "number": row["number"], "title": row["title"],
             "type": row["type"], "priority": row["priority"],
             "amount": None if amount is None else str(amount), "currency": row["currency"],
             "customer_id": row["customer_id"], "partner_id": row["partner_id"],
             "region_code": row["region_code"], "assignee_id": row["assignee_id"],
             "team_id": row["team_id"]}
    return {"work_order": order,
            "customer": {k: customer.get(k) for k in ("id", "name", "level", "region_code")}
            if customer else {},
            "number": row["number"], "title": row["title"], "priority": row["priority"],
            "region_code": row["region_code"], "assignee_id": row["assignee_id"],
            "team_id": row["team_id"], "_kinds": {"work_order.amount": "money"}}


async def create_work_order(*, title: str, type: str, priority: str | None = "normal",
                            description: str = "", customer_id: int | None = None,
                            partner_id: int | None = None, region_code: str | None = None,
                            amount: Any = None, currency: str | None = "CNY",
                            assignee_id: int | None = None, team_id: int | None = None,
                            scheduled_at: dt.datetime | None = None) -> dict[str, Any]:
    """Create a work order and start its type's flow; 422 naming the field for bad input."""
    kind = check_type(type)
    title = check_title(title)
    priority = check_priority(priority)
    own_partner = partner_scope()
    if own_partner is not None:  # a partner user files work orders for its own organisation
        partner_id = own_partner if own_partner > 0 else partner_id
    customer = await check_customer(customer_id)
    partner = await check_partner(partner_id)
    region = check_region(region_code) or (customer or {}).get("region_code") or (
        partner or {}).get("region_code")
    values = {
        "title": title, "description": (description or "").strip(), "type": kind["key"],
        "priority": priority, "priority_rank": PRIORITY_RANK[priority],
        "customer_id": customer_id, "partner_id": partner_id, "region_code": region,
        "amount": check_amount(amount), "currency": check_currency(currency),
        "assignee_id": await check_user(assignee_id),
        "team_id": (await check_team(team_id) or {}).get("id"),
        "scheduled_at": check_when(scheduled_at),
    }
    at = now()
    row = await WorkOrder.scoped_insert(number=await _next_number(), status="open",
                                        flow_code=kind["flow"], created_by=user_id(),
                                        created_at=at, updated_at=at, **values)
    await record_activity(row["id"], "created", changes={
        k: _jsonable(v) for k, v in values.items() if v not in (None, "")})
    run = await _start(kind, row, customer)
    row = await sync_run(row["id"], run=run, announce=False)
    await emit("work_order.created", event_payload(row))
    # Handlers in this transaction (priority rules) may have changed it meanwhile: later
    # events carry it as it is now, or the last one applied would undo their change.
    row = await _fresh(row["id"])
    if row["assignee_id"] is not None or row["team_id"] is not None:
        await emit("work_order.assigned", {**event_payload(row), "previous_assignee_id": None,
                                           "previous_team_id": None})
    if row["status"] == "completed":  # a flow that ends at once
        await emit("work_order.completed", {**event_payload(row),
                                            "completed_at": _jsonable(row["completed_at"])})
    return row


async def _start(kind: Mapping[str, Any], row: Mapping[str, Any],
                 customer: Mapping[str, Any] | None) -> Mapping[str, Any]:
    code = kind["flow"]
    try:
        await presets.ensure_installed(code)
        return await platform().start_flow(code, subject=subject_of(row["id"]),
                                           data=run_data(row, customer))
    except (NotFound, Conflict) as exc:
        if exc.field or "run" in exc.extra:
            raise  # a node refused (its own field or state), not a missing flow
        raise ValidationFailed(
            N_("work order type %(type)s cannot start its flow %(flow)s: %(reason)s; "
               "publish the flow or fix the type in the settings"), field="type",
            params={"type": kind["key"], "flow": code, "reason": exc.message}) from None


# ----------------------------------------------------------------------------- following the run


async def sync_run(work_order_id: int, *, run: Mapping[str, Any] | None = None,
                   announce: bool = True) -> dict[str, Any]:
    """Bring the work order in step with its run as it is now; a run revision it has seen
    already changes nothing (redelivered events are harmless). Emits ``work_order.moved``,
    ``.completed`` and ``.cancelled`` for what changed (unless ``announce`` is false)."""
    row = await _fresh(work_order_id)
    if run is None:
        if row["run_id"] is None:
            return row
        run = await runs.get(row["run_id"])
    if row["run_id"] is not None and run["id"] != row["run_id"]:
        return row  # not this work order's run
    if run["revision"] <= row["run_revision"]:
        return row
    node = await runs.node(run["id"], run["node_id"])
    status = derive_status(run_status=run["status"], node_id=run["node_id"],
                           accepted_at=row["accepted_at"],
                           customer_steps=_customer_steps(row["type"]))
    values: dict[Any, Any] = {
        WorkOrder.run_id: run["id"], WorkOrder.run_revision: run["revision"],
        WorkOrder.run_status: run["status"], WorkOrder.node_id: run["node_id"],
        WorkOrder.node_label: (node["label"] or "")[:200],
        WorkOrder.stuck_reason: run.get("stuck_reason") or "",
        WorkOrder.flow_version: run.get("version"), WorkOrder.status: status}
    if status == "completed" and row["completed_at"] is None:
        values[WorkOrder.completed_at] = run.get("completed_at") or now()
    if status == "cancelled" and row["cancelled_at"] is None:
        values[WorkOrder.cancelled_at] = now()
    updated = await write_row(row, values)
    if announce:
        payload = event_payload(updated)
        if updated["node_id"] != row["node_id"] and status not in CLOSED_STATUSES:
            await emit("work_order.moved", {**payload, "from_node": row["node_id"],
                                            "to_node": updated["node_id"],
                                            "previous_status": row["status"]})
        if status != row["status"] and status == "completed":
            await emit("work_order.completed", {
                **payload, "completed_at": _jsonable(updated["completed_at"])})
        if status != row["status"] and status == "cancelled":
            await emit("work_order.cancelled", payload)
    return updated


async def follow_flow_event(payload: Mapping[str, Any]) -> None:
    """The ``flow.*`` event handlers: a run of a work order moved (a timer, the flow API)."""
    work_order_id = work_order_id_of(payload.get("subject"))
    if work_order_id is None:
        return
    row = await WorkOrder.scoped_select().where(WorkOrder.id == work_order_id).first()
    if row is None or row["run_id"] is None or row["run_id"] != payload.get("run_id"):
        return
    # Events of one run are handled concurrently (flow.moved and flow.waiting of a move, or
    # of moves in quick succession): a handler that lost the race reads both again — the
    # winner has often brought the work order in step already — instead of failing the
    # event into the broker's retry backoff.
    for attempt in range(FOLLOW_ATTEMPTS):
        try:
            await sync_run(work_order_id)
            return
        except Conflict:
            if attempt == FOLLOW_ATTEMPTS - 1:
                raise


FOLLOW_ATTEMPTS = 5


# ----------------------------------------------------------------------------- reading


def _text(value: str) -> str:
    """A search term without LIKE's wildcards (the API conventions ignore them)."""
    return value.replace("%", "").replace("_", "").strip()


def _split(value: str | None, allowed: Sequence[str] | None, field: str) -> list[str]:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    if allowed is not None:
        for item in items:
            if item not in allowed:
                raise ValidationFailed(N_("%(field)s must be one of %(allowed)s"), field=field,
                                       params={"field": field, "allowed": ", ".join(allowed)})
    return items


def list_conditions(query: Mapping[str, Any]) -> list[Any]:
    """Filters of a list (and of a saved filter): ``status``, ``priority``, ``type``
    (comma-separated lists), ``assignee_id``, ``team_id``, ``customer_id``, ``partner_id``,
    ``unassigned``, ``q`` (number, title, description), ``created_from``/``created_to`` and
    ``scheduled_from``/``scheduled_to`` (days in the tenant's timezone, inclusive)."""
    where: list[Any] = []
    if statuses := _split(query.get("status"), STATUSES, "status"):
        where.append(WorkOrder.status.is_in(statuses))
    if priorities := _split(query.get("priority"), PRIORITIES, "priority"):
        where.append(WorkOrder.priority.is_in(priorities))
    if kinds := _split(query.get("type"), None, "type"):
        where.append(WorkOrder.type.is_in(kinds))
    for name, column in (("assignee_id", WorkOrder.assignee_id), ("team_id", WorkOrder.team_id),
                         ("customer_id", WorkOrder.customer_id),
                         ("partner_id", WorkOrder.partner_id)):
        if query.get(name) is not None:
            where.append(column == query[name])
    if query.get("unassigned"):
        where.append(WorkOrder.assignee_id.is_null())
    if text := _text(query.get("q") or ""):
        like = f"%{text}%"
        where.append(WorkOrder.number.ilike(like) | WorkOrder.title.ilike(like)
                     | WorkOrder.description.ilike(like))
    dated: tuple[tuple[str, Any], ...] = (("created", WorkOrder.created_at),
                                          ("scheduled", WorkOrder.scheduled_at))
    for prefix, column in dated:
        start, end = query.get(f"{prefix}_from"), query.get(f"{prefix}_to")
        if start and end and end < start:
            raise ValidationFailed(N_("%(field)s is before %(start)s"), field=f"{prefix}_to",
                                   params={"field": f"{prefix}_to", "start": f"{prefix}_from"})
        if start:
            where.append(column >= day_start(start))
        if end:
            where.append(column < day_start(end + dt.timedelta(days=1)))
    return where


def order_of(sort: str | None) -> tuple[Any, bool]:
    key = (sort or "-created_at").strip()
    descending = key.startswith("-")
    column = SORTS.get(key.lstrip("-"))
    if column is None:
        raise ValidationFailed(N_("sort by one of %(allowed)s (prefix - for descending)"),
                               field="sort", params={"allowed": ", ".join(SORTS)})
    return column, not descending


async def list_work_orders(query: Mapping[str, Any] | None = None, *, page: int = 1,
                           per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    """Work orders matching ``query`` (see :func:`list_conditions`, plus ``sort``), one page,
    and how many match in all."""
    query = dict(query or {})
    where = list_conditions(query)
    visible = await _visibility()
    if visible is not None:
        where.append(visible)
    column, ascending = order_of(query.get("sort"))
    rows = await WorkOrder.scoped_select().where(*where).order_by(
        column, ascending=ascending).order_by(WorkOrder.id, ascending=ascending).limit(
        per_page).offset((page - 1) * per_page)
    return rows, await WorkOrder.scoped_count().where(*where)


async def my_teams(user: int | None = None) -> list[dict[str, Any]]:
    me = user if user is not None else user_id()
    if me is None:
        return []
    rows = await Team.scoped_select().where(Team.active == True)  # noqa: E712
    return [r for r in rows if me in (r["members"] or [])]


async def my_queue(*, page: int = 1, per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    """Open work orders assigned to me, or to a team of mine with nobody assigned yet; the
    ones not accepted yet first, then by priority, appointment and age."""
    me = user_id()
    if me is None:
        return [], 0
    mine: Any = WorkOrder.assignee_id == me
    teams = [t["id"] for t in await my_teams(me)]
    if teams:
        mine = mine | (WorkOrder.team_id.is_in(teams) & WorkOrder.assignee_id.is_null())
    where = [mine, WorkOrder.status.is_in(list(OPEN_STATUSES))]
    rows = await WorkOrder.scoped_select().where(*where)
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda r: (r["accepted_at"] is not None, -r["priority_rank"],
                             r["scheduled_at"] or far, r["created_at"], r["id"]))
    return rows[(page - 1) * per_page: page * per_page], len(rows)


async def calendar(start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Work orders with an appointment between the two days (inclusive, tenant's timezone),
    by appointment time; cancelled ones left out."""
    if end < start:
        raise ValidationFailed(N_("to is before from"), field="to")
    if (end - start).days > MAX_CALENDAR_DAYS:
        raise ValidationFailed(N_("a calendar spans at most %(days)s days"), field="to",
                               params={"days": MAX_CALENDAR_DAYS})
    where = [WorkOrder.scheduled_at >= day_start(start),
             WorkOrder.scheduled_at < day_start(end + dt.timedelta(days=1)),
             WorkOrder.status != "cancelled"]
    visible = await _visibility()
    if visible is not None:
        where.append(visible)
    return await WorkOrder.scoped_select().where(*where).order_by(
        WorkOrder.scheduled_at).order_by(WorkOrder.id).limit(2000)


async def names(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[int, str]]:
    """Display names of the people and teams the rows name (one query each)."""
    users: set[int] = {r[k] for r in rows for k in ("assignee_id", "created_by", "actor_id",
                                                    "author_id", "uploaded_by")
                       if r.get(k) is not None}
    teams: set[int] = {r["team_id"] for r in rows if r.get("team_id") is not None}
    found = await platform().list_users(sorted(users), active_only=False) if users else []
    team_rows = await Team.scoped_select(Team.id, Team.name).where(
        Team.id.is_in(sorted(teams))) if teams else []
    return {"users": {u["id"]: u.get("display_name") or u["username"] for u in found},
            "teams": {t["id"]: t["name"] for t in team_rows}}


async def get_work_order(work_order_id: int) -> dict[str, Any]:
    """A work order with its run (the node it waits at, the actions there and, at a form,
    the fields to fill), its attachments and its timeline: the run's steps, comments,
    attachments and activity, oldest first."""
    row = await row_of(work_order_id)
    detail: dict[str, Any] = dict(row)
    detail["run"] = None
    steps: list[Mapping[str, Any]] = []
    labels: dict[str, str] = {}
    if row["run_id"] is not None:
        run = await runs.get(row["run_id"])
        node = await runs.node(run["id"], run["node_id"])
        detail["run"] = {
            "id": run["id"], "status": run["status"], "node_id": run["node_id"],
            "node_label": node["label"], "node_type": node["type"],
            "actions": list(run.get("actions") or []),
            "assignees": list(run.get("assignees") or []), "revision": run["revision"],
            "due_at": run.get("due_at"), "stuck_reason": run.get("stuck_reason") or "",
            "form_fields": runs.form_fields(node) if run["status"] == "waiting" else []}
        steps = await runs.steps(run["id"])
        for node_id in {str(s.get("node_id") or "") for s in steps} - {""}:
            labels[node_id] = (await runs.node(run["id"], node_id))["label"]
    comments = await Comment.scoped_select().where(Comment.work_order_id == work_order_id
                                                   ).order_by(Comment.id)
    attachments = await Attachment.scoped_select().where(
        Attachment.work_order_id == work_order_id).order_by(Attachment.id)
    activity = await Activity.scoped_select().where(Activity.work_order_id == work_order_id
                                                    ).order_by(Activity.id)
    everyone = [row, *steps, *comments, *attachments, *activity]
    known = await names(everyone)
    people, teams = known["users"], known["teams"]
    detail["assignee_name"] = people.get(row["assignee_id"]) if row["assignee_id"] else None
    detail["team_name"] = teams.get(row["team_id"]) if row["team_id"] else None
    detail["attachments"] = attachments
    timeline: list[dict[str, Any]] = []
    for step in steps:
        shown = {k: step.get(k) for k in ("seq", "kind", "from_node", "node_id", "outcome",
                                          "action", "note")}
        shown["node_label"] = labels.get(str(step.get("node_id") or ""), "")
        timeline.append({"kind": "step", "at": step["at"], "actor_id": step.get("actor_id"),
                         "detail": shown})
    for comment in comments:
        timeline.append({"kind": "comment", "at": comment["created_at"],
                         "actor_id": comment["author_id"],
                         "detail": {"id": comment["id"], "body": comment["body"],
                                    "mentions": comment["mentions"]}})
    for item in attachments:
        timeline.append({"kind": "attachment", "at": item["created_at"],
                         "actor_id": item["uploaded_by"],
                         "detail": {k: item[k] for k in ("id", "filename", "content_type",
                                                          "size")}})
    for entry in activity:
        timeline.append({"kind": "activity", "at": entry["at"], "actor_id": entry["actor_id"],
                         "detail": {"kind": entry["kind"], "changes": entry["changes"],
                                    "note": entry["note"]}})
    order = {"activity": 0, "step": 1, "attachment": 2, "comment": 3}
    timeline.sort(key=lambda e: (e["at"], order[e["kind"]]))
    for entry in timeline:
        entry["actor_name"] = people.get(entry["actor_id"]) if entry["actor_id"] else None
    detail["timeline"] = timeline
    return detail


# ----------------------------------------------------------------------------- changing


async def _may_work_on(row: Mapping[str, Any]) -> None:
    """Acting on someone else's work order takes ``work_orders.write`` (dispatchers, admins);
    system actors (jobs, demo data) have no user and may."""
    me = user_id()
    if me is None or has_permission("work_orders.write") or row["assignee_id"] in (None, me):
        return
    raise PermissionDenied(N_("work order %(number)s is assigned to someone else; only they "
                              "or a dispatcher may work on it"),
                           params={"number": row["number"]})


def _closed(row: Mapping[str, Any]) -> None:
    if row["status"] in CLOSED_STATUSES:
        raise Conflict(N_("work order %(number)s is %(status)s: it cannot be changed"),
                       params={"number": row["number"], "status": row["status"]},
                       work_order={"id": row["id"], "status": row["status"],
                                   "revision": row["revision"]})


def _attachment_refs(payload: Any, path: str = "payload") -> list[tuple[str, int]]:
    """Attachment references (``work_orders:attachment:<id>``) anywhere in a payload, with
    the field holding each."""
    found: list[tuple[str, int]] = []
    if isinstance(payload, str):
        match = ATTACHMENT_REF.match(payload)
        if match:
            found.append((path, int(match.group(1))))
    elif isinstance(payload, Mapping):
        for key, value in payload.items():
            found += _attachment_refs(value, str(key))
    elif isinstance(payload, list):
        for value in payload:
            found += _attachment_refs(value, path)
    return found


async def check_attachment_refs(work_order_id: int, payload: Mapping[str, Any]) -> None:
    refs = _attachment_refs(payload)
    if not refs:
        return
    ids = sorted({i for _, i in refs if i < 2**31})
    known = {r["id"] for r in await Attachment.scoped_select(Attachment.id).where(
        (Attachment.work_order_id == work_order_id) & Attachment.id.is_in(ids or [-1]))}
    errors = [{"field": field, "message": f"attachment {i} is not one of this work order's"}
              for field, i in refs if i not in known]
    if errors:
        raise ValidationFailed(N_("upload the files to this work order first, then name "
                                  "them"), errors=errors)


async def act(work_order_id: int, action: str, payload: Mapping[str, Any] | None = None, *,
              revision: int | None = None) -> dict[str, Any]:
    """Do ``action`` at the node the work order's run waits at (submit a form, approve).

    ``revision`` is the run's (``run.revision`` of the detail): of two people acting at once
    one wins, the other gets 409 with the run as it is now; a form missing a required field
    answers 422 naming it, and nothing changes.
    """
    row = await row_of(work_order_id)
    await _may_work_on(row)
    if row["run_id"] is None:
        raise Conflict(N_("work order %(number)s has no flow run"),
                       params={"number": row["number"]})
    payload = dict(payload or {})
    await check_attachment_refs(work_order_id, payload)
    me = user_id()
    if me is not None and row["accepted_at"] is None and row["assignee_id"] == me:
        await write_row(row, {WorkOrder.accepted_at: now()})  # working on it is accepting it
    run = await runs.act(row["run_id"], action, payload, revision)
    await sync_run(work_order_id, run=run)
    return await get_work_order(work_order_id)


UPDATABLE = ("title", "description", "priority", "assignee_id", "team_id", "scheduled_at",
             "customer_id", "partner_id", "region_code", "amount", "currency")


async def update_work_order(work_order_id: int, changes: Mapping[str, Any], *,
                            revision: int | None = None) -> dict[str, Any]:
    """Change fields of an open work order (audited); ``revision`` (the work order's) makes
    the change conditional: 409 when someone changed it meanwhile. A new assignee is
    notified and has to accept it again."""
    row = await row_of(work_order_id)
    if revision is not None and revision != row["revision"]:
        raise Conflict(N_("work order %(number)s changed meanwhile (revision %(revision)s): "
                          "reload it"), params={"number": row["number"],
                                                "revision": row["revision"]},
                       work_order={"id": row["id"], "revision": row["revision"],
                                   "status": row["status"]})
    _closed(row)
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise ValidationFailed(N_("%(fields)s cannot be changed here"), field=unknown[0],
                               params={"fields": ", ".join(unknown)})
    wanted: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "title":
            wanted[key] = check_title(value)
        elif key == "description":
            wanted[key] = (value or "").strip()
        elif key == "priority":
            wanted[key] = check_priority(value)
        elif key == "assignee_id":
            wanted[key] = await check_user(value)
        elif key == "team_id":
            wanted[key] = (await check_team(value) or {}).get("id")
        elif key == "scheduled_at":
            wanted[key] = check_when(value)
        elif key == "customer_id":
            await check_customer(value)
            wanted[key] = value
        elif key == "partner_id":
            await check_partner(value)
            wanted[key] = value
        elif key == "region_code":
            wanted[key] = check_region(value)
        elif key == "amount":
            wanted[key] = check_amount(value)
        elif key == "currency":
            wanted[key] = check_currency(value)
    diff = {k: (row[k], v) for k, v in wanted.items()
            if (money(row[k]) if k == "amount" else row[k]) != v}
    if not diff:
        return row
    values: dict[Any, Any] = {getattr(WorkOrder, k): v for k, (_, v) in diff.items()}
    if "priority" in diff:
        values[WorkOrder.priority_rank] = PRIORITY_RANK[diff["priority"][1]]
    reassigned = "assignee_id" in diff
    if reassigned:
        values[WorkOrder.accepted_at] = None
        values[WorkOrder.status] = derive_status(
            run_status=row["run_status"], node_id=row["node_id"], accepted_at=None,
            customer_steps=_customer_steps(row["type"]))
    updated = await write_row(row, values)
    shown = {k: [_jsonable(before), _jsonable(after)] for k, (before, after) in diff.items()}
    await record_activity(work_order_id, "updated", changes=shown)
    await platform().audit("work_orders.update", f"work_order:{row['number']}",
                           {k: _jsonable(b) for k, (b, _) in diff.items()},
                           {k: _jsonable(a) for k, (_, a) in diff.items()})
    await emit("work_order.updated", {**event_payload(updated), "changes": shown})
    if reassigned or "team_id" in diff:
        await announce_assignment(row, updated)
    return updated


async def announce_assignment(before: Mapping[str, Any], after: Mapping[str, Any], *,
                              note: str = "") -> None:
    """``work_order.assigned`` and a notification for whoever is to do it now: the
    assignee, or every member of the team when nobody is assigned."""
    await emit("work_order.assigned", {**event_payload(after),
                                       "previous_assignee_id": before["assignee_id"],
                                       "previous_team_id": before["team_id"], "note": note})
    await notify_assigned(after)


async def notify_assigned(row: Mapping[str, Any]) -> None:
    if row["assignee_id"] is not None:
        people = [row["assignee_id"]]
    elif row["team_id"] is not None:
        team = await Team.scoped_select().where(Team.id == row["team_id"]).first()
        people = list(team["members"] or []) if team else []
    else:
        return
    people = [p for p in people if p != user_id()]
    if not people:
        return
    number, title = row["number"], row["title"]
    await platform().notify(
        people,
        localized(f"新工单：{number} {title}", f"New work order: {number} {title}"),
        body=localized("请尽快接单处理", "Please accept it and get started"),
        link=f"/admin/p/work_orders/{row['id']}",
        level="urgent" if row["priority"] == "urgent" else "info",
        key=f"work_orders:{row['id']}:assigned:{row['revision']}")


async def accept(work_order_id: int) -> dict[str, Any]:
    """I take the work order on: it becomes mine if nobody has it (and it is for my team,
    or for no team); one assigned to someone else answers 409."""
    me = user_id()
    if me is None:
        raise PermissionDenied(N_("sign in to accept a work order"))
    row = await row_of(work_order_id)
    _closed(row)
    if row["assignee_id"] not in (None, me):
        raise Conflict(N_("work order %(number)s is assigned to someone else"),
                       params={"number": row["number"]},
                       work_order={"id": row["id"], "assignee_id": row["assignee_id"],
                                   "revision": row["revision"]})
    if row["assignee_id"] is None and row["team_id"] is not None \
            and row["team_id"] not in {t["id"] for t in await my_teams(me)} \
            and not has_permission("work_orders.write"):
        raise Conflict(N_("work order %(number)s is for a team you are not in"),
                       params={"number": row["number"]})
    if row["assignee_id"] == me and row["accepted_at"] is not None:
        return row
    status = derive_status(run_status=row["run_status"], node_id=row["node_id"],
                           accepted_at=now(), customer_steps=_customer_steps(row["type"]))
    values: dict[Any, Any] = {WorkOrder.assignee_id: me, WorkOrder.accepted_at: now(),
                              WorkOrder.status: status}
    if row["sla_alert"] == "warning" and row["sla_clock"] == "response":
        # Taken on: the warning that nobody had responded yet no longer holds.
        values.update({WorkOrder.sla_alert: "", WorkOrder.sla_clock: "",
                       WorkOrder.sla_due_at: None})
    updated = await write_row(row, values)
    await record_activity(work_order_id, "accepted")
    if row["assignee_id"] != me:
        await emit("work_order.assigned", {**event_payload(updated),
                                           "previous_assignee_id": row["assignee_id"],
                                           "previous_team_id": row["team_id"],
                                           "note": "accepted"})
    return updated


async def cancel(work_order_id: int, *, reason: str = "") -> dict[str, Any]:
    """Cancel the work order and its run (``work_order.cancelled``)."""
    row = await row_of(work_order_id)
    _closed(row)
    await _may_work_on(row)
    reason = (reason or "").strip()[:500]
    if row["run_id"] is None:
        updated = await write_row(row, {WorkOrder.status: "cancelled",
                                     WorkOrder.cancelled_at: now()})
        await emit("work_order.cancelled", event_payload(updated))
    else:
        run = await runs.cancel(row["run_id"], reason)
        updated = await sync_run(work_order_id, run=run)
    await record_activity(work_order_id, "cancelled", note=reason)
    return updated


async def bulk(action: str, ids: Sequence[int], *, assignee_id: int | None = None,
               team_id: int | None = None, priority: str | None = None,
               reason: str = "") -> list[dict[str, Any]]:
    """Do one thing to many work orders; each is done or refused on its own (a refusal is
    rolled back to before that item and reported with its error), never hiding the others."""
    if action not in BULK_ACTIONS:
        raise ValidationFailed(N_("action must be one of %(allowed)s"), field="action",
                               params={"allowed": ", ".join(BULK_ACTIONS)})
    if action == "assign" and assignee_id is None:
        raise ValidationFailed(N_("name the person to assign"), field="assignee_id")
    if action == "set_team" and team_id is None:
        raise ValidationFailed(N_("name the team"), field="team_id")
    if action == "set_priority":
        if priority is None:
            raise ValidationFailed(N_("name the priority"), field="priority")
        priority = check_priority(priority)
    await check_user(assignee_id)
    await check_team(team_id)
    results = []
    for work_order_id in dict.fromkeys(ids):
        savepoint = await _savepoint()
        try:
            if action == "cancel":
                row = await cancel(work_order_id, reason=reason)
            else:
                changes: dict[str, dict[str, Any]] = {
                    "assign": {"assignee_id": assignee_id}, "set_team": {"team_id": team_id},
                    "set_priority": {"priority": priority}}
                change = changes[action]
                row = await update_work_order(work_order_id, change)
        except JimuError as exc:
            if savepoint is not None:
                await savepoint.rollback_to()
            results.append({"id": work_order_id, "ok": False, "error": exc.code,
                            "status_code": exc.status_code, "message": exc.message})
            continue
        if savepoint is not None:
            await savepoint.release()
        results.append({"id": work_order_id, "ok": True, "number": row["number"],
                        "status": row["status"], "revision": row["revision"]})
    return results


async def _savepoint() -> Any:
    transaction = WorkOrder._meta.db.current_transaction.get()
    return await transaction.savepoint() if transaction is not None else None
