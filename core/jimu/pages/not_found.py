"""The themed 404 for an address no route serves.

Litestar answers an unmatched path before any middleware runs, so its 404 page would not know
who is signed in or which language they chose. This route matches every path no other route
does (litestar prefers static segments and plugin routers over a path parameter), so the
request passes through the request scope first and the 404 page is the user's own.
"""

from __future__ import annotations

from jimu_sdk.errors import NotFound
from litestar import Request, get

from jimu.i18n import N_


@get("/{rest:path}", include_in_schema=False, name="not_found")
async def not_found(request: Request, rest: str) -> None:
    raise NotFound(N_("no such page: %(path)s"), params={"path": request.url.path})


ROUTES = [not_found]
