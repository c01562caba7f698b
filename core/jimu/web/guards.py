"""Route guards: who may call a route, and whether the tenant has the route's plugin on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jimu_sdk.errors import NotAuthenticated, NotFound, PermissionDenied
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from jimu.i18n import N_
from jimu.services.auth import PLATFORM_PERMISSION
from jimu.web.request_scope import RequestContext

Guard = Callable[[ASGIConnection, BaseRouteHandler], Any]


def request_context(connection: ASGIConnection) -> RequestContext:
    return connection.scope["state"]["jimu"]  # type: ignore[no-any-return]


def _check_signed_in(connection: ASGIConnection) -> None:
    if request_context(connection).principal is None:
        raise NotAuthenticated(N_("sign in or send an API token"))


def _check_tenant_member(connection: ASGIConnection) -> None:
    _check_signed_in(connection)
    if request_context(connection).tenant is None:
        raise PermissionDenied(N_("this page belongs to an organisation's workspace; platform "
                                  "operators manage organisations under /operator/tenants"))


# Guards are coroutines: litestar runs a plain function guard through a thread pool.


async def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    _check_signed_in(connection)


async def tenant_member(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    _check_tenant_member(connection)


def requires(permission: str) -> Guard:
    """Guard: a tenant member holding ``permission``."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        _check_tenant_member(connection)
        if permission not in request_context(connection).permissions:
            raise PermissionDenied(N_("your role lacks the permission %(permission)s; ask your "
                                  "administrator"), params={"permission": permission})

    guard.__name__ = f"requires_{permission.replace('.', '_')}"
    return guard


def requires_per_handler(permissions: dict[Any, str]) -> Guard:
    """Guard for a router of several handlers, each with its own permission (keyed by the
    handler's function, which litestar keeps when it copies a handler into a router)."""

    async def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        permission = permissions.get(getattr(handler, "fn", None))
        if permission is not None:
            await requires(permission)(connection, handler)

    return guard


async def platform_operator(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    _check_signed_in(connection)
    if PLATFORM_PERMISSION not in request_context(connection).permissions:
        raise PermissionDenied(N_("only platform operators may manage organisations"))


def plugin_enabled(slug: str) -> Guard:
    """Guard of every plugin route: a tenant without the plugin on gets 404."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        tenant = request_context(connection).tenant
        if tenant is None or slug not in tenant.enabled:
            raise NotFound(N_("no such page: %(path)s"), params={"path": connection.url.path})

    guard.__name__ = f"plugin_enabled_{slug}"
    return guard
