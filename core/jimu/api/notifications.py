"""The signed-in person's in-app notifications: list, unread count, mark read, live stream.

Every tenant member has an inbox; nobody reads another person's. The stream
(``/api/v1/notifications/stream``) runs outside the request transaction (see
``request_scope.STREAM_PATHS``) and opens a short one per check.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from jimu.i18n import current_locale, localized_text
from jimu.services import notifications as service
from jimu.web.errors import document_errors
from jimu.web.guards import request_context, tenant_member
from jimu.web.listing import RecordIdParam
from jimu_sdk.context import current_scope, use_scope
from litestar import Controller, Request, get, post
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

# A stream checks the database this often when nothing was sent by this process (another
# process may have sent something), and closes after a while: EventSource reconnects.
IDLE_CHECK_SECONDS = 5.0
LOCAL_CHECK_SECONDS = 0.5
HEARTBEAT_SECONDS = 20.0


class NotificationOut(msgspec.Struct):
    id: int
    title: str
    body: str
    link: str
    level: str
    source: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class InboxOut(msgspec.Struct):
    unread: int
    items: list[NotificationOut]


class ReadAllOut(msgspec.Struct):
    marked: int


def notification_out(row: dict[str, Any]) -> NotificationOut:
    locale = current_locale.get()
    return NotificationOut(
        id=row["id"], title=_shown(row["title"], locale), body=_shown(row["body"], locale),
        link=row["link"], level=row["level"], source=row["source"],
        created_at=row["created_at"], read_at=row["read_at"])


def _shown(text: dict[str, str] | None, locale: str | None) -> str:
    if not text:
        return ""
    return text[""] if "" in text else localized_text(text, locale)


def _me(request: Request[Any, Any, Any]) -> int:
    principal = request_context(request).principal
    assert principal is not None and principal.user_id is not None  # tenant_member holds
    return principal.user_id


class NotificationController(Controller):
    path = "/api/v1/notifications"
    guards = [tenant_member]

    @get("", summary="My notifications, newest first, with the unread count")
    async def inbox(
        self, request: Request[Any, Any, Any],
        unread: Annotated[bool, Parameter(description="only unread ones")] = False,
        before: Annotated[int | None, Parameter(ge=1, le=2**31 - 1,
                                                description="ids below this one")] = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    ) -> InboxOut:
        me = _me(request)
        rows = await service.latest(me, unread_only=unread, limit=limit, before_id=before)
        return InboxOut(unread=await service.unread_count(me),
                        items=[notification_out(row) for row in rows])

    @post("/{notification_id:int}/read", status_code=200, summary="Mark one read")
    async def read_one(self, request: Request[Any, Any, Any],
                       notification_id: RecordIdParam) -> NotificationOut:
        scope = current_scope()
        assert scope is not None and scope.platform is not None
        return notification_out(await service.mark_read(
            _me(request), notification_id, now=scope.platform.now()))

    @post("/read-all", status_code=200, summary="Mark all of mine read")
    async def read_all(self, request: Request[Any, Any, Any]) -> ReadAllOut:
        scope = current_scope()
        assert scope is not None and scope.platform is not None
        return ReadAllOut(marked=await service.mark_all_read(_me(request),
                                                             now=scope.platform.now()))

    @get("/stream", media_type="text/event-stream",
         summary="Live: an `unread` event whenever my notifications change",
         description="Server-sent events. Each `unread` event carries the unread count and "
                     "the notifications new since the last one. The stream closes after "
                     "`seconds` (EventSource reconnects on its own); a client that does not "
                     "accept `text/event-stream` gets the first event only.")
    async def stream(
        self, request: Request[Any, Any, Any],
        seconds: Annotated[float, Parameter(ge=0, le=3600)] = 300,
    ) -> ServerSentEvent:
        if "text/event-stream" not in request.headers.get("accept", ""):
            seconds = 0  # not an EventSource (a script, a crawler): the state now, then close
        return ServerSentEvent(_events(request, _me(request), seconds))


async def _events(request: Request[Any, Any, Any], user_id: int, seconds: float
                  ) -> AsyncIterator[ServerSentEventMessage]:
    kernel = request.app.state.kernel
    scope = current_scope()
    assert scope is not None
    locale = current_locale.get()
    tenant_id = scope.tenant_id

    async def check(after_id: int) -> tuple[int, list[dict[str, Any]]]:
        async with kernel.db.transaction(tenant_id=tenant_id, write=False):
            with use_scope(scope):
                rows = await service.latest(user_id, after_id=after_id, limit=20)
                return await service.unread_count(user_id), rows

    def message(count: int, rows: list[dict[str, Any]]) -> ServerSentEventMessage:
        token = current_locale.set(locale)
        try:
            items = [msgspec.to_builtins(notification_out(row)) for row in reversed(rows)]
        finally:
            current_locale.reset(token)
        return ServerSentEventMessage(event="unread", data=json.dumps(
            {"unread": count, "items": items}, ensure_ascii=False))

    started = last_check = last_sent = time.monotonic()
    serial = kernel.notification_serial
    count, rows = await check(0)
    newest = rows[0]["id"] if rows else 0
    yield message(count, [])
    while time.monotonic() - started < seconds:
        await asyncio.sleep(min(LOCAL_CHECK_SECONDS, max(seconds, 0.01)))
        now = time.monotonic()
        if kernel.notification_serial == serial and now - last_check < IDLE_CHECK_SECONDS:
            if now - last_sent >= HEARTBEAT_SECONDS:
                last_sent = now
                yield ServerSentEventMessage(comment="keep-alive")
            continue
        serial, last_check = kernel.notification_serial, now
        new_count, rows = await check(newest)
        if rows or new_count != count:
            newest = max([newest, *(row["id"] for row in rows)])
            count, last_sent = new_count, now
            yield message(count, rows)


ROUTES = document_errors([NotificationController])
