"""Small pieces every plugin's routes and pages need: a permission guard, the partner a
partner user is bound to, and a submitted form as a dict.

Example::

    from jimu_sdk.web import needs, partner_scope

    @get("/statements", guards=needs("settlement.read"))
    async def statements() -> list[dict]:
        return await services.list_statements(partner_id=partner_scope())
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from jimu_sdk.context import current_scope, has_permission
from jimu_sdk.errors import PermissionDenied

Guard = Callable[[ASGIConnection, BaseRouteHandler], Any]


def needs(*permissions: str) -> list[Guard]:
    """Route guards refusing (403, naming it) a caller without every one of ``permissions``;
    pass the list as a handler's ``guards``."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        for permission in permissions:
            if not has_permission(permission):
                raise PermissionDenied(f"you need the permission {permission!r}")

    return [guard]


def partner_scope() -> int | None:
    """The partner a partner user acts for (it may see only that partner's records), or
    ``None`` for the tenant's own people, who see every partner's. A partner user bound to
    no partner gets ``-1``, which matches nothing."""
    scope = current_scope()
    if scope is None:
        return None
    if scope.partner_id is not None:
        return scope.partner_id
    return -1 if scope.role == "partner" else None


async def form_data(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The submitted form as ``{name: value}`` without the CSRF token; a repeated name
    gives a list."""
    form = await request.form()
    data: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key == "csrf_token":
            continue
        if key in data:
            held = data[key]
            data[key] = [*held, value] if isinstance(held, list) else [held, value]
        else:
            data[key] = value
    return data
