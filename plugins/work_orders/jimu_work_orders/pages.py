"""The work order pages under /admin/p/work_orders/: the list (filters, saved filters, bulk
actions; urgent ones in red), a kanban by status, a month calendar of appointments, my queue
(made for a phone), a new work order, and a work order's page: its stage form with photos,
accept, reassign, comments, attachments and the timeline.

Every rule lives in the services; a page reads the form, calls them and shows their errors
beside the fields they name.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jimu_sdk import N_, JimuError, PermissionDenied, ValidationFailed, has_permission, platform
from litestar import Controller, MediaType, Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from jimu_work_orders import attachments, comments, filters, services, teams
from jimu_work_orders import settings as config

BASE = "/admin/p/work_orders"
PER_PAGE = 50
KANBAN_CARDS = 30
LIST_PARAMS = ("status", "priority", "type", "assignee_id", "team_id", "unassigned", "q",
               "sort")
DONE = {
    "created": N_("Work order created."), "moved": N_("Done: the work order has moved on."),
    "accepted": N_("You have accepted the work order."), "saved": N_("Changes saved."),
    "commented": N_("Comment added."), "uploaded": N_("File uploaded."),
    "cancelled": N_("Work order cancelled."), "deleted": N_("File deleted."),
    "filter_saved": N_("Filter saved."), "filter_deleted": N_("Filter deleted."),
}


# ----------------------------------------------------------------------------- helpers


def _require(permission: str) -> None:
    if not has_permission(permission):
        raise PermissionDenied(f"you need the permission {permission!r}")


async def _form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The submitted form: text values stripped; repeated names and files as lists."""
    form = await request.form()
    data: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key == "csrf_token":
            continue
        value = value.strip() if isinstance(value, str) else value
        if key in data:
            data[key] = [*data[key], value] if isinstance(data[key], list) else [data[key],
                                                                                value]
        else:
            data[key] = value
    return data


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, list):
        value = next((v for v in reversed(value) if isinstance(v, str)), "")
    return value if isinstance(value, str) else ""


def _all(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _id(text: str, field: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise ValidationFailed(N_("%(field)s must be a record number"), field=field,
                               params={"field": field})
    return int(text)


def _zone() -> ZoneInfo:
    return ZoneInfo(platform().timezone())


def _when(text: str, field: str = "scheduled_at") -> dt.datetime | None:
    """A ``datetime-local`` input, in the tenant's time zone."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(N_("enter a date and time such as 2026-12-01 09:30"),
                               field=field) from None
    return value if value.tzinfo else value.replace(tzinfo=_zone())


def _local_input(value: dt.datetime | None) -> str:
    return value.astimezone(_zone()).strftime("%Y-%m-%dT%H:%M") if value else ""


def problem(exc: JimuError) -> dict[str, Any]:
    return {"id": exc.message_id, "params": exc.params or {}, "field": exc.field or ""}


def field_errors(exc: JimuError) -> dict[str, str]:
    """Each problem a service named by field, for the page to show beside it."""
    found = {item["field"]: item.get("message", "")
             for item in getattr(exc, "errors", None) or [] if item.get("field")}
    if exc.field and exc.field not in found:
        found[exc.field] = ""
    return found


def _status_of(exc: JimuError) -> int:
    return exc.status_code if 400 <= exc.status_code < 500 else 422


def _on_form(exc: JimuError) -> bool:
    """Errors a person can fix on the page; the others (403, 404) go to the error page."""
    return exc.status_code in (409, 413, 415, 422)


def _done(work_order_id: int, what: str, anchor: str = "") -> Redirect:
    return Redirect(f"{BASE}/{work_order_id}?done={what}{anchor}", status_code=303)


async def _people() -> list[dict[str, Any]]:
    return [dict(u) for u in await platform().list_users()]


def _type_titles() -> dict[str, str]:
    return {key: kind["title"] for key, kind in config.types().items()}


async def _common() -> dict[str, Any]:
    """What every page of the plugin shows: types, people and teams for the choices."""
    return {"types": _type_titles(), "people": await _people(),
            "teams": await teams.list_teams(), "priorities": services.PRIORITIES,
            "statuses": services.STATUSES, "base": BASE,
            "can_write": has_permission("work_orders.write"),
            "can_act": has_permission("work_orders.act")}


def _flash(request: Request[Any, Any, Any]) -> str:
    return DONE.get(request.query_params.get("done", ""), "")


async def _customers(rows: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    names: dict[int, str] = {}
    for customer_id in sorted({r["customer_id"] for r in rows if r.get("customer_id")}):
        try:
            names[customer_id] = (await platform().get_customer(customer_id))["name"]
        except JimuError:
            names[customer_id] = f"#{customer_id}"
    return names


# ----------------------------------------------------------------------------- list views


def _query_of(params: Mapping[str, str]) -> dict[str, Any]:
    """The list's filters from the address (the same names as the API's)."""
    query: dict[str, Any] = {}
    for name in LIST_PARAMS:
        value = (params.get(name) or "").strip()
        if not value:
            continue
        if name == "unassigned":
            query[name] = value in ("1", "true")
        elif name in ("assignee_id", "team_id"):
            query[name] = _id(value, name)
        else:
            query[name] = value
    return query


def _address(query: Mapping[str, Any], **extra: Any) -> str:
    values = {k: ("1" if v is True else v) for k, v in {**query, **extra}.items()
              if v not in (None, "", False)}
    return urlencode(values)


async def _listing(request: Request[Any, Any, Any], *, status_code: int = 200,
                   error: dict[str, Any] | None = None, flash: str = "",
                   results: list[dict[str, Any]] | None = None) -> Template:
    params = request.query_params
    saved = await filters.list_filters() if services.user_id() is not None else []
    chosen = None
    try:
        query = _query_of(params)
        if params.get("filter", "").isdigit():
            chosen = await filters.get_filter(int(params["filter"]))
            query = {**chosen["query"], **query}
        filters.parse_query(query)
        page = int(params["page"]) if params.get("page", "").isdigit() else 1
        rows, total = await services.list_work_orders(query, page=max(page, 1),
                                                      per_page=PER_PAGE)
    except JimuError as exc:
        if not _on_form(exc):
            raise
        error, status_code, query, page, rows, total = problem(exc), 422, {}, 1, [], 0
    known = await services.names(rows)
    return Template("work_orders/list.html", status_code=status_code, context={
        **await _common(), "rows": rows, "total": total, "page": page,
        "pages": max((total + PER_PAGE - 1) // PER_PAGE, 1), "query": query,
        "address": _address(query), "saved": saved, "chosen": chosen,
        "names": known, "customers": await _customers(rows), "error": error,
        "flash": flash or _flash(request), "results": results or [], "view": "list"})


async def _bulk(request: Request[Any, Any, Any]) -> Template:
    _require("work_orders.write")
    data = await _form(request)
    try:
        ids = [_id(str(v), "ids") for v in _all(data, "ids") if isinstance(v, str) and v]
        if not ids:
            raise ValidationFailed(N_("tick the work orders to change first"), field="ids")
        results = await services.bulk(
            _text(data, "action"), [i for i in ids if i is not None],
            assignee_id=_id(_text(data, "assignee_id"), "assignee_id"),
            team_id=_id(_text(data, "team_id"), "team_id"),
            priority=_text(data, "priority") or None, reason=_text(data, "reason")[:500])
    except JimuError as exc:
        if not _on_form(exc):
            raise
        return await _listing(request, status_code=_status_of(exc), error=problem(exc))
    # Each item was done or refused on its own; the page answers 200 so the done ones stay.
    return await _listing(request, results=results)


def _month(text: str) -> dt.date:
    try:
        first = dt.date.fromisoformat(f"{text}-01") if text else None
    except ValueError:
        first = None
    if first is None:
        first = dt.datetime.now(_zone()).date().replace(day=1)
    return first


class WorkOrderPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/", media_type=MediaType.HTML)
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        return await _listing(request)

    @post("/bulk", media_type=MediaType.HTML)
    async def bulk(self, request: Request[Any, Any, Any]) -> Template:
        return await _bulk(request)

    @post("/filters", media_type=MediaType.HTML)
    async def save_filter(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        data = await _form(request)
        try:
            query = _query_of({k: _text(data, k) for k in LIST_PARAMS})
            saved = await filters.create_filter(name=_text(data, "name"), query=query)
        except JimuError as exc:
            if not _on_form(exc):
                raise
            return await _listing(request, status_code=_status_of(exc), error=problem(exc))
        return Redirect(f"{BASE}/?filter={saved['id']}&done=filter_saved", status_code=303)

    @post("/filters/{filter_id:int}/delete", media_type=MediaType.HTML)
    async def delete_filter(self, filter_id: int) -> Redirect:
        await filters.delete_filter(filter_id)
        return Redirect(f"{BASE}/?done=filter_deleted", status_code=303)

    @get("/kanban", media_type=MediaType.HTML)
    async def kanban(self, request: Request[Any, Any, Any]) -> Template:
        error = None
        try:
            query = {k: v for k, v in _query_of(request.query_params).items()
                     if k not in ("status", "sort")}
            filters.parse_query(query)
        except JimuError as exc:
            if not _on_form(exc):
                raise
            error, query = problem(exc), {}
        columns = []
        everyone: list[dict[str, Any]] = []
        for status in services.STATUSES:
            rows, total = await services.list_work_orders(
                {**query, "status": status,
                 "sort": "-updated_at" if status in services.CLOSED_STATUSES else "-priority"},
                per_page=KANBAN_CARDS)
            columns.append({"status": status, "rows": rows, "total": total})
            everyone += rows
        return Template("work_orders/kanban.html", status_code=422 if error else 200, context={
            **await _common(), "columns": columns, "names": await services.names(everyone),
            "customers": await _customers(everyone), "query": query,
            "address": _address(query), "error": error, "view": "kanban"})

    @get("/calendar", media_type=MediaType.HTML)
    async def calendar(self, request: Request[Any, Any, Any]) -> Template:
        first = _month(request.query_params.get("month", ""))
        weeks = month_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year,
                                                                           first.month)
        rows = await services.calendar(weeks[0][0], weeks[-1][-1])
        zone = _zone()
        by_day: dict[dt.date, list[dict[str, Any]]] = {}
        for row in rows:
            local = row["scheduled_at"].astimezone(zone)
            by_day.setdefault(local.date(), []).append({**row, "local_time": local})
        previous = (first - dt.timedelta(days=1)).replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        return Template("work_orders/calendar.html", context={
            **await _common(), "weeks": weeks, "by_day": by_day, "month": first,
            "previous": previous.strftime("%Y-%m"), "following": following.strftime("%Y-%m"),
            "today": dt.datetime.now(zone).date(), "names": await services.names(rows),
            "view": "calendar"})

    @get("/queue", media_type=MediaType.HTML)
    async def queue(self, request: Request[Any, Any, Any]) -> Template:
        _require("work_orders.act")
        rows, total = await services.my_queue(per_page=100)
        return Template("work_orders/queue.html", context={
            **await _common(), "rows": rows, "total": total,
            "customers": await _customers(rows), "names": await services.names(rows),
            "me": services.user_id(), "flash": _flash(request), "view": "queue"})

    # ------------------------------------------------------------------------- create

    @get("/new", media_type=MediaType.HTML)
    async def new(self) -> Template:
        _require("work_orders.write")
        first_type = next(iter(config.types()), "")
        return await _new_page({"type": first_type, "priority": "normal"})

    @post("/new", media_type=MediaType.HTML)
    async def create(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        _require("work_orders.write")
        data = await _form(request)
        values = {k: _text(data, k) for k in (
            "title", "type", "priority", "description", "customer_id", "region_code",
            "amount", "assignee_id", "team_id", "scheduled_at")}
        try:
            row = await services.create_work_order(
                title=values["title"], type=values["type"],
                priority=values["priority"] or "normal", description=values["description"],
                customer_id=_id(values["customer_id"], "customer_id"),
                region_code=values["region_code"] or None,
                amount=values["amount"] or None,
                assignee_id=_id(values["assignee_id"], "assignee_id"),
                team_id=_id(values["team_id"], "team_id"),
                scheduled_at=_when(values["scheduled_at"]))
        except JimuError as exc:
            if not _on_form(exc):
                raise
            return await _new_page(values, exc)
        return _done(row["id"], "created")

    # ------------------------------------------------------------------------- one

    @get("/{work_order_id:int}", media_type=MediaType.HTML)
    async def detail(self, request: Request[Any, Any, Any], work_order_id: int) -> Template:
        return await _detail_page(work_order_id, flash=_flash(request))

    @post("/{work_order_id:int}/act", media_type=MediaType.HTML)
    async def act(self, request: Request[Any, Any, Any], work_order_id: int
                  ) -> Template | Redirect:
        _require("work_orders.act")
        data = await _form(request)
        detail = await services.get_work_order(work_order_id)
        run = detail["run"] or {}
        fields = run.get("form_fields") or []
        action = _text(data, "action")[:63]
        text = _text(data, "revision")
        revision = int(text) if text.isdigit() and len(text) < 10 else None
        try:
            payload = await _payload(work_order_id, action, data, fields)
            await services.act(work_order_id, action, payload, revision=revision)
        except JimuError as exc:
            if not _on_form(exc):
                raise
            return await _detail_page(work_order_id, error=exc, values=data,
                                      status_code=_status_of(exc))
        return _done(work_order_id, "moved")

    @post("/{work_order_id:int}/accept", media_type=MediaType.HTML)
    async def accept(self, request: Request[Any, Any, Any], work_order_id: int
                     ) -> Template | Redirect:
        _require("work_orders.act")
        try:
            await services.accept(work_order_id)
        except JimuError as exc:
            if not _on_form(exc):
                raise
            return await _detail_page(work_order_id, error=exc, status_code=_status_of(exc))
        back = (await _form(request)).get("back")
        if back == "queue":
            return Redirect(f"{BASE}/queue?done=accepted", status_code=303)
        return _done(work_order_id, "accepted")

    @post("/{work_order_id:int}/edit", media_type=MediaType.HTML)
    async def edit(self, request: Request[Any, Any, Any], work_order_id: int
                   ) -> Template | Redirect:
        _require("work_orders.write")
        data = await _form(request)
        try:
            text = _text(data, "revision")
            changes: dict[str, Any] = {
                "priority": _text(data, "priority"),
                "assignee_id": _id(_text(data, "assignee_id"), "assignee_id"),
                "team_id": _id(_text(data, "team_id"), "team_id"),
                "scheduled_at": _when(_text(data, "scheduled_at"))}
            await services.update_work_order(
                work_order_id, changes,
                revision=int(text) if text.isdigit() and len(text) < 10 else None)
        except JimuError as exc:
            if not _on_form(exc):
                raise
            return await _detail_page(work_order_id, error=exc, values=data,
                                      status_code=_status_of(exc))
        return _done(work_order_id, "saved")

    @post("/{work_order_id:int}/cancel", media_type=MediaType.HTML)
    async def cancel(self, request: Request[Any, Any, Any], work_order_id: int
                     ) -> Template | Redirect:
        _require("work_orders.write")
        data = await _form(request)
        try:
            await services.cancel(work_order_id, reason=_text(data, "reason")[:500])
        except JimuError as exc:
            if not _on_form(exc):
                raise
            return await _detail_page(work_order_id, error=exc, status_code=_status_of(exc))
        return _done(work_order_id, "cancelled")

    @post("/{work_order_id:int}/comments", media_type=MediaType.HTML)
    async def comment(self, request: Request[Any, Any, Any], work_order_id: int
                      ) -> Template | Redirect:
        _require("work_orders.act")
        data = await _form(request)
        try:
            body = _text(data, "body")
            if not body:
                raise ValidationFailed(N_("write something first"), field="body")
            await comments.add_comment(work_order_id, body[:5000])
        except JimuError as exc:
            if not _on_form(exc):
                raise
            return await _detail_page(work_order_id, error=exc, values=data,
                                      status_code=_status_of(exc))
        return _done(work_order_id, "commented", "#comments")

    @post("/{work_order_id:int}/attachments", media_type=MediaType.HTML)
    async def attach(self, request: Request[Any, Any, Any], work_order_id: int
                     ) -> Template | Redirect:
        _require("work_orders.act")
        data = await _form(request)
        try:
            files = [f for f in _all(data, "file") if isinstance(f, UploadFile) and f.filename]
            if not files:
                raise ValidationFailed(N_("choose a file to upload"), field="file")
            for upload in files:
                await _upload(work_order_id, upload)
        except JimuError as exc:
            if not _on_form(exc):
                raise
            return await _detail_page(work_order_id, error=exc, status_code=_status_of(exc))
        return _done(work_order_id, "uploaded", "#attachments")

    @post("/attachments/{attachment_id:int}/delete", media_type=MediaType.HTML)
    async def delete_attachment(self, attachment_id: int) -> Redirect:
        _require("work_orders.act")
        found = await attachments.get_attachment(attachment_id)
        await attachments.delete(attachment_id)
        return _done(found["work_order_id"], "deleted", "#attachments")


async def _new_page(values: Mapping[str, str], exc: JimuError | None = None) -> Template:
    customers = [dict(c) for c in await platform().list_customers(limit=500)]
    return Template("work_orders/new.html", status_code=_status_of(exc) if exc else 200,
                    context={**await _common(), "values": values, "customers": customers,
                             "error": problem(exc) if exc else None,
                             "errors": field_errors(exc) if exc else {}})


async def _upload(work_order_id: int, upload: UploadFile) -> dict[str, Any]:
    content = await upload.read()
    return await attachments.upload(work_order_id, filename=upload.filename,
                                    content_type=upload.content_type, data=content)


async def _payload(work_order_id: int, action: str, data: Mapping[str, Any],
                   fields: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What the person filled in, as the node takes it: a form's fields by key (blank ones
    left out, so a required one is reported missing); photos uploaded with the form become
    attachments of the work order and join the ones ticked; else a comment."""
    if not fields:
        comment = _text(data, "comment")
        return {"comment": comment[:500]} if comment else {}
    payload: dict[str, Any] = {}
    for spec in fields:
        key = str(spec.get("key"))
        if spec.get("kind") == "photo":
            refs = [v for v in _all(data, f"field.{key}") if isinstance(v, str) and v]
            for upload in _all(data, f"upload.{key}"):
                if isinstance(upload, UploadFile) and upload.filename:
                    refs.append(attachments.reference((await _upload(work_order_id,
                                                                     upload))["id"]))
            if refs:
                payload[key] = refs
            continue
        text = _text(data, f"field.{key}")
        if text:
            payload[key] = text
    return payload


STEP_FIELDS = ("seq", "kind", "node_label", "action", "outcome", "note")


async def _detail_page(work_order_id: int, *, flash: str = "", error: JimuError | None = None,
                       values: Mapping[str, Any] | None = None, status_code: int = 200
                       ) -> Template:
    detail = await services.get_work_order(work_order_id)
    run = detail["run"]
    customer = None
    if detail["customer_id"]:
        try:
            customer = dict(await platform().get_customer(detail["customer_id"]))
        except JimuError:
            customer = None
    me = services.user_id()
    may_work = detail["assignee_id"] in (None, me) or has_permission("work_orders.write")
    is_open = detail["status"] in services.OPEN_STATUSES
    images = [a for a in detail["attachments"] if str(a["content_type"]).startswith("image/")]
    common = await _common()
    return Template("work_orders/detail.html", status_code=status_code, context={
        **common, "wo": detail, "run": run, "customer": customer,
        "timeline": list(reversed(detail["timeline"])), "images": images,
        "reference": attachments.reference,
        "can_stage": bool(run and run["status"] == "waiting" and run["actions"] and is_open
                          and may_work and has_permission("work_orders.act")),
        "can_accept": is_open and has_permission("work_orders.act") and me is not None
        and (detail["assignee_id"] is None
             or (detail["assignee_id"] == me and detail["accepted_at"] is None)),
        "is_open": is_open, "me": me,
        "people_names": {u["id"]: u.get("display_name") or u["username"]
                         for u in common["people"]},
        "team_names": {t["id"]: t["name"] for t in common["teams"]},
        "scheduled_input": _local_input(detail["scheduled_at"]),
        "values": dict(values or {}), "error": problem(error) if error else None,
        "errors": field_errors(error) if error else {}, "flash": flash})
