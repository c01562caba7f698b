"""Routes under /api/v1/followups and the admin page under /admin/p/followups."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from jimu_sdk import platform
from jimu_sdk.params import RecordId, RecordIdFilter, RecordIdParam
from jimu_sdk.web import needs
from litestar import MediaType, delete, get, post
from litestar.params import Parameter
from litestar.response import Template
from litestar.status_codes import HTTP_204_NO_CONTENT

from jimu_followups import services
from jimu_followups.tables import FollowUp


class FollowUpIn(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: RecordId
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    channel: str = "phone"
    next_contact_on: dt.date | None = None


class FollowUpOut(msgspec.Struct):
    id: int
    customer_id: int
    author_id: int | None
    channel: str
    body: str
    next_contact_on: dt.date | None
    created_at: dt.datetime


def out(row: dict[str, Any]) -> FollowUpOut:
    return FollowUpOut(**{k: row[k] for k in FollowUpOut.__struct_fields__})


@get("/notes", guards=needs("followups.read"), summary="Follow-ups, newest first")
async def list_notes(customer_id: RecordIdFilter = None,
                     limit: Annotated[int, Parameter(ge=1, le=200)] = 50
                     ) -> list[FollowUpOut]:
    query = await services.visible_notes()
    if customer_id is not None:
        await platform().get_customer(customer_id)
        query = query.where(FollowUp.customer_id == customer_id)
    rows = await query.order_by(FollowUp.id, ascending=False).limit(limit)
    return [out(r) for r in rows]


@post("/notes", guards=needs("followups.write"), summary="Log a follow-up")
async def create_note(data: FollowUpIn) -> FollowUpOut:
    row = await services.log_follow_up(customer_id=data.customer_id, body=data.body,
                                       channel=data.channel,
                                       next_contact_on=data.next_contact_on)
    return out(row)


@delete("/notes/{note_id:int}", guards=needs("followups.write"),
        status_code=HTTP_204_NO_CONTENT, summary="Delete a follow-up and its reminder")
async def delete_note(note_id: RecordIdParam) -> None:
    await services.delete_follow_up(note_id)


@get("/", media_type=MediaType.HTML)  # core checks the page's permission (plugin.py)
async def due_page() -> Template:
    today = services.today()
    return Template("followups/due.html", context={"notes": await services.due_on(today),
                                                   "today": today})


ROUTES = [list_notes, create_note, delete_note]
