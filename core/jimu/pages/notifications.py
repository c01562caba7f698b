"""My notifications (消息通知): newest first, unread ones marked, read one or all.

The bell in the top bar counts the unread ones live (``jimu.js`` listens to
``/api/v1/notifications/stream``); this page is where they are read.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from jimu.api.notifications import notification_out
from jimu.services import notifications as service
from jimu.web.guards import request_context, tenant_member
from jimu.web.pages_support import flash_text, kernel_of, page, redirect, safe_next

PER_PAGE = 30


def _me(request: Request[Any, Any, Any]) -> int:
    principal = request_context(request).principal
    assert principal is not None and principal.user_id is not None
    return principal.user_id


@get("/notifications", include_in_schema=False, guards=[tenant_member])
async def inbox(request: Request[Any, Any, Any]) -> Template:
    me = _me(request)
    before = request.query_params.get("before", "")
    rows = await service.latest(me, limit=PER_PAGE + 1,
                                before_id=int(before) if before.isdigit() else None)
    more = len(rows) > PER_PAGE
    items = [notification_out(row) for row in rows[:PER_PAGE]]
    return page("core/notifications.html", items=items, unread=await service.unread_count(me),
                older=items[-1].id if more else None, flash=flash_text(request))


@post("/notifications/{notification_id:int}/read", include_in_schema=False,
      guards=[tenant_member])
async def read_one(request: Request[Any, Any, Any], notification_id: int) -> Redirect:
    row = await service.mark_read(_me(request), notification_id,
                                  now=kernel_of(request).clock.now())
    form = await request.form()
    # "Open" follows the notification's link once it is marked read.
    target = row["link"] if form.get("open") and row["link"] else "/notifications"
    return redirect(safe_next(target, "/notifications"))


@post("/notifications/read-all", include_in_schema=False, guards=[tenant_member])
async def read_all(request: Request[Any, Any, Any]) -> Redirect:
    await service.mark_all_read(_me(request), now=kernel_of(request).clock.now())
    return redirect("/notifications", flash="All notifications marked read")


ROUTES = [inbox, read_one, read_all]
