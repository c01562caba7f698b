"""The themed 404 for an address no route serves.

Litestar answers an unmatched path before any middleware runs, so its 404 page would not know
who is signed in or which language they chose. These routes match the paths no other route
does (litestar prefers static segments and plugin routers over a path parameter), so the
request passes through the request scope first and the 404 page is the user's own. Litestar's
router does not backtrack: once a path's first segments match a static prefix (``/admin``) only
a catch-all under that prefix can take it, hence one per prefix of the UI.
"""

from __future__ import annotations

from typing import Any

from jimu_sdk.errors import NotFound
from litestar import Request, get

from jimu.i18n import N_

PREFIXES = ("", "/admin", "/admin/p", "/operator", "/account")


def _catch_all(prefix: str) -> Any:
    @get(f"{prefix}/{{rest:path}}", include_in_schema=False,
         name=f"not_found{prefix.replace('/', '_')}")
    async def not_found(request: Request, rest: str) -> None:
        raise NotFound(N_("no such page: %(path)s"), params={"path": request.url.path})

    return not_found


ROUTES = [_catch_all(prefix) for prefix in PREFIXES]
