"""Routes under /api/v1/work_orders: work orders, their actions, comments and attachments,
teams, saved filters, the calendar and my queue. The rules live in the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import quote

import msgspec
from jimu_sdk import N_, ValidationFailed
from jimu_sdk.params import RecordId, RecordIdFilter, RecordIdParam
from jimu_sdk.web import needs
from litestar import Request, Response, delete, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.openapi import ResponseSpec
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from jimu_work_orders import attachments, comments, filters, presets_api, services, teams
from jimu_work_orders import settings as config

T = TypeVar("T")


READ = needs("work_orders.read")
WRITE = needs("work_orders.write")
ACT = needs("work_orders.act")
ADMIN = needs("work_orders.admin")
Page = Annotated[int, QueryParameter(ge=1, le=100_000)]
PerPage = Annotated[int, QueryParameter(ge=1, le=200)]
Text = Annotated[str | None, QueryParameter(max_length=200)]
UNSET = msgspec.UNSET
Unset = msgspec.UnsetType


# ----------------------------------------------------------------------------- structs


class WorkOrderIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(max_length=200)]
    type: Annotated[str, msgspec.Meta(max_length=40)]
    priority: Annotated[str, msgspec.Meta(max_length=16)] = "normal"
    description: Annotated[str, msgspec.Meta(max_length=10_000)] = ""
    customer_id: RecordId | None = None
    partner_id: RecordId | None = None
    region_code: Annotated[str, msgspec.Meta(max_length=12)] | None = None
    amount: Decimal | None = None
    currency: Annotated[str, msgspec.Meta(max_length=8)] = "CNY"
    assignee_id: RecordId | None = None
    team_id: RecordId | None = None
    scheduled_at: dt.datetime | None = None


class WorkOrderPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change; ``null`` clears assignee, team, appointment, …"""

    title: Annotated[str, msgspec.Meta(max_length=200)] | Unset = UNSET
    description: Annotated[str, msgspec.Meta(max_length=10_000)] | Unset = UNSET
    priority: Annotated[str, msgspec.Meta(max_length=16)] | Unset = UNSET
    assignee_id: RecordId | Unset | None = UNSET
    team_id: RecordId | Unset | None = UNSET
    scheduled_at: dt.datetime | Unset | None = UNSET
    customer_id: RecordId | Unset | None = UNSET
    partner_id: RecordId | Unset | None = UNSET
    region_code: Annotated[str, msgspec.Meta(max_length=12)] | Unset | None = UNSET
    amount: Decimal | Unset | None = UNSET
    currency: Annotated[str, msgspec.Meta(max_length=8)] | Unset = UNSET
    revision: Annotated[int, msgspec.Meta(ge=0)] | None = None


class ActionIn(msgspec.Struct, forbid_unknown_fields=True):
    action: Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
    payload: dict[str, Any] = {}
    revision: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] | None = None


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class CommentIn(msgspec.Struct, forbid_unknown_fields=True):
    body: Annotated[str, msgspec.Meta(max_length=5000)]
    mentions: Annotated[list[RecordId], msgspec.Meta(max_length=50)] = []


class BulkIn(msgspec.Struct, forbid_unknown_fields=True):
    action: Annotated[str, msgspec.Meta(max_length=20)]
    ids: Annotated[list[RecordId], msgspec.Meta(min_length=1, max_length=200)]
    assignee_id: RecordId | None = None
    team_id: RecordId | None = None
    priority: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class TeamIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=100)]
    members: Annotated[list[RecordId], msgspec.Meta(max_length=200)] = []
    skills: Annotated[list[Annotated[str, msgspec.Meta(max_length=40)]],
                      msgspec.Meta(max_length=30)] = []
    region_codes: Annotated[list[Annotated[str, msgspec.Meta(max_length=12)]],
                            msgspec.Meta(max_length=100)] = []
    active: bool = True


class FilterIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=100)]
    query: dict[str, Any] = {}


class WorkOrderOut(msgspec.Struct):
    id: int
    number: str
    title: str
    description: str
    type: str
    type_title: str
    priority: str
    customer_id: int | None
    partner_id: int | None
    region_code: str | None
    amount: Decimal | None
    currency: str
    assignee_id: int | None
    assignee_name: str | None
    team_id: int | None
    team_name: str | None
    status: str
    run_status: str
    node_id: str
    node_label: str
    stuck_reason: str
    run_id: int | None
    flow_code: str
    flow_version: int | None
    scheduled_at: dt.datetime | None
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    accepted_at: dt.datetime | None
    completed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    revision: int
    sla_alert: str = ""  # "" | warning | breached: what the SLA plugin said last, if it is on
    sla_clock: str = ""  # response | resolution
    sla_due_at: dt.datetime | None = None


class RunOut(msgspec.Struct):
    id: int
    status: str
    node_id: str
    node_label: str
    node_type: str
    actions: list[str]
    assignees: list[int]
    revision: int
    due_at: dt.datetime | None
    stuck_reason: str
    form_fields: list[dict[str, Any]]


class AttachmentOut(msgspec.Struct):
    id: int
    work_order_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    reference: str
    uploaded_by: int | None
    created_at: dt.datetime


class TimelineEntryOut(msgspec.Struct):
    kind: str  # step | comment | attachment | activity
    at: dt.datetime
    actor_id: int | None
    actor_name: str | None
    detail: dict[str, Any]


class WorkOrderDetail(WorkOrderOut):
    run: RunOut | None = None
    attachments: list[AttachmentOut] = []
    timeline: list[TimelineEntryOut] = []


class CommentOut(msgspec.Struct):
    id: int
    work_order_id: int
    author_id: int | None
    body: str
    mentions: list[int]
    created_at: dt.datetime


class BulkResultOut(msgspec.Struct):
    id: int
    ok: bool
    number: str | None = None
    status: str | None = None
    revision: int | None = None
    error: str | None = None
    status_code: int | None = None
    message: str | None = None


class BulkOut(msgspec.Struct):
    action: str
    done: int
    failed: int
    results: list[BulkResultOut]


class TeamOut(msgspec.Struct):
    id: int
    name: str
    members: list[int]
    skills: list[str]
    region_codes: list[str]
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class FilterOut(msgspec.Struct):
    id: int
    name: str
    query: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class TypeOut(msgspec.Struct):
    key: str
    title: str
    flow: str
    customer_steps: list[str]


class ListOut(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


class ErrorBody(msgspec.Struct):
    """The platform's error body (as for every other error answer)."""

    error: str
    message: str
    request_id: str
    field: str | None = None
    errors: list[dict[str, Any]] = []


FORM_OVERHEAD = 64 * 1024  # multipart boundaries and part headers around the file
UPLOAD_ERRORS = {
    413: ResponseSpec(data_container=ErrorBody, generate_examples=False,
                      description="The file is larger than the tenant's limit"),
    415: ResponseSpec(data_container=ErrorBody, generate_examples=False,
                      description="The file's type is not allowed, or not what it claims"),
}


# ----------------------------------------------------------------------------- converters


def _type_titles() -> dict[str, str]:
    return {key: t["title"] for key, t in config.types().items()}


def work_order_out(row: dict[str, Any], known: dict[str, dict[Any, str]] | None = None,
                   cls: type[WorkOrderOut] = WorkOrderOut, **extra: Any) -> Any:
    known = known if known is not None else {"titles": _type_titles()}
    people = known.get("users", {})
    team_names = known.get("teams", {})
    values: dict[str, Any] = {f: row.get(f) for f in WorkOrderOut.__struct_fields__}
    values.update(amount=services.money(row["amount"]),
                  type_title=known.get("titles", {}).get(row["type"], row["type"]),
                  assignee_name=row.get("assignee_name") or people.get(row["assignee_id"]),
                  team_name=row.get("team_name") or team_names.get(row["team_id"]))
    return cls(**values, **extra)


async def many_out(rows: list[dict[str, Any]]) -> list[WorkOrderOut]:
    known: dict[str, dict[Any, str]] = {**await services.names(rows),
                                        "titles": _type_titles()}
    return [work_order_out(r, known) for r in rows]


def attachment_out(row: dict[str, Any]) -> AttachmentOut:
    return AttachmentOut(id=row["id"], work_order_id=row["work_order_id"],
                         filename=row["filename"], content_type=row["content_type"],
                         size=row["size"], sha256=row["sha256"],
                         reference=attachments.reference(row["id"]),
                         uploaded_by=row["uploaded_by"], created_at=row["created_at"])


def detail_out(detail: dict[str, Any]) -> WorkOrderDetail:
    run = detail.get("run")
    return work_order_out(
        detail, cls=WorkOrderDetail, run=RunOut(**run) if run else None,
        attachments=[attachment_out(a) for a in detail["attachments"]],
        timeline=[TimelineEntryOut(**msgspec.to_builtins(e, builtin_types=(
            dt.datetime, Decimal))) for e in detail["timeline"]])


def comment_out(row: dict[str, Any]) -> CommentOut:
    return CommentOut(id=row["id"], work_order_id=row["work_order_id"],
                      author_id=row["author_id"], body=row["body"],
                      mentions=list(row["mentions"] or []), created_at=row["created_at"])


def team_out(row: dict[str, Any]) -> TeamOut:
    return TeamOut(id=row["id"], name=row["name"], members=list(row["members"] or []),
                   skills=list(row["skills"] or []),
                   region_codes=list(row["region_codes"] or []), active=row["active"],
                   created_at=row["created_at"], updated_at=row["updated_at"])


def filter_out(row: dict[str, Any]) -> FilterOut:
    return FilterOut(id=row["id"], name=row["name"], query=dict(row["query"] or {}),
                     created_at=row["created_at"], updated_at=row["updated_at"])


# ----------------------------------------------------------------------------- work orders


@get("/", guards=READ, summary="Work orders, filtered, newest first (list envelope)")
async def list_work_orders(
        status: Text = None, priority: Text = None, type: Text = None,
        assignee_id: RecordIdFilter = None, team_id: RecordIdFilter = None,
        customer_id: RecordIdFilter = None, partner_id: RecordIdFilter = None,
        unassigned: bool | None = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        created_from: dt.date | None = None, created_to: dt.date | None = None,
        scheduled_from: dt.date | None = None, scheduled_to: dt.date | None = None,
        sort: Annotated[str | None, QueryParameter(max_length=20)] = None,
        page: Page = 1, per_page: PerPage = 50) -> ListOut[WorkOrderOut]:
    query = {"status": status, "priority": priority, "type": type, "assignee_id": assignee_id,
             "team_id": team_id, "customer_id": customer_id, "partner_id": partner_id,
             "unassigned": unassigned, "q": q, "created_from": created_from,
             "created_to": created_to, "scheduled_from": scheduled_from,
             "scheduled_to": scheduled_to, "sort": sort}
    rows, total = await services.list_work_orders(query, page=page, per_page=per_page)
    return ListOut(items=await many_out(rows), total=total, page=page, per_page=per_page)


@post("/", guards=WRITE, summary="Create a work order: starts its type's flow")
async def create_work_order(data: WorkOrderIn) -> WorkOrderDetail:
    row = await services.create_work_order(**msgspec.structs.asdict(data))
    return detail_out(await services.get_work_order(row["id"]))


@get("/types", guards=READ, summary="The work order types of this organisation")
async def list_types() -> list[TypeOut]:
    return [TypeOut(key=t["key"], title=t["title"], flow=t["flow"],
                    customer_steps=list(t.get("customer_steps") or []))
            for t in config.types().values()]


@get("/queue", guards=READ,
     summary="My queue: open work orders assigned to me or unassigned in my teams, "
             "not yet accepted first")
async def my_queue(page: Page = 1, per_page: PerPage = 50) -> ListOut[WorkOrderOut]:
    rows, total = await services.my_queue(page=page, per_page=per_page)
    return ListOut(items=await many_out(rows), total=total, page=page, per_page=per_page)


@get("/calendar", guards=READ,
     summary="Work orders with an appointment from one day to another (inclusive)")
async def calendar(start: Annotated[dt.date, QueryParameter(name="from")],
                   end: Annotated[dt.date, QueryParameter(name="to")]) -> list[WorkOrderOut]:
    return await many_out(await services.calendar(start, end))


@post("/bulk", guards=WRITE, status_code=HTTP_200_OK,
      summary="assign, set_priority, set_team or cancel many work orders; each reported")
async def bulk(data: BulkIn) -> BulkOut:
    results = await services.bulk(data.action, data.ids, assignee_id=data.assignee_id,
                                  team_id=data.team_id, priority=data.priority,
                                  reason=data.reason)
    done = sum(1 for r in results if r["ok"])
    return BulkOut(action=data.action, done=done, failed=len(results) - done,
                   results=[BulkResultOut(**r) for r in results])


@get("/{work_order_id:int}", guards=READ,
     summary="A work order with its run's waiting node, actions, form fields and timeline")
async def get_work_order(work_order_id: RecordIdParam) -> WorkOrderDetail:
    return detail_out(await services.get_work_order(work_order_id))


@patch("/{work_order_id:int}", guards=WRITE,
       summary="Change priority, assignee, team, appointment, title … (audited)")
async def update_work_order(work_order_id: RecordIdParam, data: WorkOrderPatch
                            ) -> WorkOrderDetail:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items()
               if v is not UNSET and k != "revision"}
    await services.update_work_order(work_order_id, changes, revision=data.revision)
    return detail_out(await services.get_work_order(work_order_id))


@post("/{work_order_id:int}/actions", guards=ACT, status_code=HTTP_200_OK,
      summary="Do an action of the node the run waits at (409 with the run's state when it "
              "moved on; 422 naming missing form fields)")
async def act(work_order_id: RecordIdParam, data: ActionIn) -> WorkOrderDetail:
    return detail_out(await services.act(work_order_id, data.action, data.payload,
                                         revision=data.revision))


@post("/{work_order_id:int}/accept", guards=ACT, status_code=HTTP_200_OK,
      summary="Take the work order on (it becomes mine if nobody has it)")
async def accept(work_order_id: RecordIdParam) -> WorkOrderDetail:
    await services.accept(work_order_id)
    return detail_out(await services.get_work_order(work_order_id))


@post("/{work_order_id:int}/cancel", guards=WRITE, status_code=HTTP_200_OK,
      summary="Cancel the work order and its flow run")
async def cancel(work_order_id: RecordIdParam, data: CancelIn) -> WorkOrderDetail:
    await services.cancel(work_order_id, reason=data.reason)
    return detail_out(await services.get_work_order(work_order_id))


# ----------------------------------------------------------------------------- comments


@get("/{work_order_id:int}/comments", guards=READ, summary="Comments, oldest first")
async def list_comments(work_order_id: RecordIdParam) -> list[CommentOut]:
    return [comment_out(c) for c in await comments.list_comments(work_order_id)]


@post("/{work_order_id:int}/comments", guards=ACT, status_code=HTTP_201_CREATED,
      summary="Comment; @username or mentions (user ids) notify those people")
async def add_comment(work_order_id: RecordIdParam, data: CommentIn) -> CommentOut:
    return comment_out(await comments.add_comment(work_order_id, data.body,
                                                  mentions=data.mentions))


# ----------------------------------------------------------------------------- attachments


@post("/{work_order_id:int}/attachments", guards=ACT, status_code=HTTP_201_CREATED,
      request_max_body_size=attachments.HARD_LIMIT + FORM_OVERHEAD, responses=UPLOAD_ERRORS,
      summary="Upload a file: multipart/form-data with a part named file (?filename= names "
              "it otherwise); its reference goes into a form's photo field")
async def upload_attachment(request: Request[Any, Any, Any], work_order_id: RecordIdParam,
                            filename: Text = None) -> AttachmentOut:
    await services.row_of(work_order_id)  # 404 before reading anything
    limit = attachments.max_bytes()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise attachments.too_large()
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise attachments.UnsupportedMediaType(
            N_("send the file as multipart/form-data, in a part named file"), field="file")
    form = await request.form()
    part = form.get("file")
    if not isinstance(part, UploadFile):
        raise ValidationFailed(N_("send the file as the form part named file"), field="file")
    data = await part.read()
    if len(data) > limit:
        raise attachments.too_large()
    row = await attachments.upload(work_order_id, filename=filename or part.filename,
                                   content_type=part.content_type, data=data)
    return attachment_out(row)


@get("/{work_order_id:int}/attachments", guards=READ, summary="A work order's attachments")
async def list_work_order_attachments(work_order_id: RecordIdParam) -> list[AttachmentOut]:
    await services.row_of(work_order_id)
    rows, _ = await attachments.list_attachments(work_order_id, per_page=1000)
    return [attachment_out(r) for r in reversed(rows)]


@get("/attachments", guards=READ, summary="Attachments, newest first (list envelope)")
async def list_attachments(work_order_id: RecordIdFilter = None, page: Page = 1,
                           per_page: PerPage = 50) -> ListOut[AttachmentOut]:
    rows, total = await attachments.list_attachments(work_order_id, page=page,
                                                     per_page=per_page)
    return ListOut(items=[attachment_out(r) for r in rows], total=total, page=page,
                   per_page=per_page)


@get("/attachments/{attachment_id:int}", guards=READ,
     summary="Download an attachment (?inline=true shows images in the browser)",
     responses={200: ResponseSpec(data_container=bytes, media_type="*/*",
                                  generate_examples=False, description="The file")})
async def download_attachment(attachment_id: RecordIdParam, inline: bool = False
                              ) -> Response[bytes]:
    row, data = await attachments.read(attachment_id)
    disposition = "inline" if inline and row["content_type"].startswith("image/") else (
        "attachment")
    ascii_name = row["filename"].encode("ascii", "replace").decode().replace('"', "_")
    return Response(data, media_type=row["content_type"], headers={
        "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(row['filename'])}",
        "X-Content-Type-Options": "nosniff"})


@delete("/attachments/{attachment_id:int}", guards=ACT, status_code=HTTP_204_NO_CONTENT,
        summary="Delete an attachment (its uploader or a dispatcher)")
async def delete_attachment(attachment_id: RecordIdParam) -> None:
    await attachments.delete(attachment_id)


# ----------------------------------------------------------------------------- teams


@get("/teams", guards=READ, summary="Teams (班组) with members, skills and regions")
async def list_teams() -> list[TeamOut]:
    return [team_out(t) for t in await teams.list_teams()]


@post("/teams", guards=ADMIN, status_code=HTTP_201_CREATED, summary="Create a team")
async def create_team(data: TeamIn) -> TeamOut:
    return team_out(await teams.create_team(**msgspec.structs.asdict(data)))


@get("/teams/{team_id:int}", guards=READ, summary="A team")
async def get_team(team_id: RecordIdParam) -> TeamOut:
    return team_out(await teams.get_team(team_id))


@put("/teams/{team_id:int}", guards=ADMIN, summary="Replace a team's name, members, skills, "
                                                  "regions and state")
async def update_team(team_id: RecordIdParam, data: TeamIn) -> TeamOut:
    return team_out(await teams.update_team(team_id, **msgspec.structs.asdict(data)))


@delete("/teams/{team_id:int}", guards=ADMIN, status_code=HTTP_204_NO_CONTENT,
        summary="Delete a team without open work orders")
async def delete_team(team_id: RecordIdParam) -> None:
    await teams.delete_team(team_id)


# ----------------------------------------------------------------------------- saved filters


@get("/filters", guards=READ, summary="My saved filters")
async def list_filters() -> list[FilterOut]:
    return [filter_out(f) for f in await filters.list_filters()]


@post("/filters", guards=READ, status_code=HTTP_201_CREATED,
      summary="Save a filter: a name and the list's query (status, priority, q, …)")
async def create_filter(data: FilterIn) -> FilterOut:
    return filter_out(await filters.create_filter(name=data.name, query=data.query))


@get("/filters/{filter_id:int}", guards=READ, summary="One of my saved filters")
async def get_filter(filter_id: RecordIdParam) -> FilterOut:
    return filter_out(await filters.get_filter(filter_id))


@put("/filters/{filter_id:int}", guards=READ, summary="Change one of my saved filters")
async def update_filter(filter_id: RecordIdParam, data: FilterIn) -> FilterOut:
    return filter_out(await filters.update_filter(filter_id, name=data.name,
                                                  query=data.query))


@delete("/filters/{filter_id:int}", guards=READ, status_code=HTTP_204_NO_CONTENT,
        summary="Delete one of my saved filters")
async def delete_filter(filter_id: RecordIdParam) -> None:
    await filters.delete_filter(filter_id)


ROUTES = [list_work_orders, create_work_order, list_types, my_queue, calendar, bulk,
          get_work_order, update_work_order, act, accept, cancel, list_comments, add_comment,
          upload_attachment, list_work_order_attachments, list_attachments,
          download_attachment, delete_attachment, list_teams, create_team, get_team,
          update_team, delete_team, list_filters, create_filter, get_filter, update_filter,
          delete_filter, presets_api.PresetsController]
