"""Every HTTP request runs as one principal, for one tenant, in one transaction.

The response is held until the transaction ends: a request that fails (4xx/5xx, or an error
while committing) is rolled back, so a failed request changes nothing.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, cast

import msgspec
from jimu_sdk.context import Scope as TenantScope
from jimu_sdk.context import use_scope
from jimu_sdk.errors import JimuError, NotAuthenticated, PermissionDenied, TenantSuspended
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Message,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
)

from jimu.services.auth import (
    PLATFORM_PERMISSION,
    Principal,
    principal_from_session,
    principal_from_token,
)
from jimu.services.platform import KernelServices

if TYPE_CHECKING:
    from jimu.kernel import Kernel, TenantState

log = logging.getLogger("jimu.http")

SESSION_COOKIE = "jimu_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_EXEMPT = ("/api/v1/auth/login",)
# Probes and API docs answer without a database transaction (/ready reports the database).
NO_TRANSACTION = ("/health", "/ready", "/schema")


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    principal: Principal | None
    tenant: TenantState | None
    permissions: frozenset[str]


def permissions_for(kernel: Kernel, principal: Principal, tenant: TenantState | None
                    ) -> frozenset[str]:
    if principal.is_platform_operator:
        return frozenset({PLATFORM_PERMISSION})
    if tenant is None or principal.role is None:
        return frozenset()
    from jimu.services.auth import CORE_PERMISSIONS

    available = set(CORE_PERMISSIONS)
    for slug in tenant.enabled:
        available |= {p.key for p in kernel.plugins.plugins[slug].contributed(
            "register_permissions", [])}
    granted = (available if principal.role == "admin"
               else set(tenant.role_permissions.get(principal.role, ())) & available)
    if principal.token_scopes is not None:
        granted &= principal.token_scopes
    return frozenset(granted)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _json_error(status: int, body: dict[str, Any], request_id: str) -> list[Message]:
    payload = msgspec.json.encode({**body, "request_id": request_id})
    start: HTTPResponseStartEvent = {
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"x-request-id", request_id.encode())]}
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": payload,
                                  "more_body": False}
    return [start, end]


NUL_MESSAGE = ("text may not contain NUL characters (\\u0000 or %00); remove them and "
               "send the request again")


def _has_nul(data: bytes) -> bool:
    # PostgreSQL cannot store NUL in text; refusing it everywhere keeps SQLite and PostgreSQL
    # answering the same (400, not a database error).
    return b"\x00" in data or b"%00" in data.lower() or b"\\u0000" in data


class NulInBody(JimuError):
    # A JimuError: it is raised while litestar reads the body, so litestar's exception
    # handlers answer it (a plain exception would become a 500 there).
    status_code = 400
    code = "invalid_request"

    def __init__(self) -> None:
        super().__init__(NUL_MESSAGE)


def _refuse_nul_in_body(receive: Receive) -> Receive:
    async def checked() -> ReceiveMessage:
        message = await receive()
        if message["type"] == "http.request" and _has_nul(message.get("body", b"")):
            raise NulInBody()
        return message

    return checked


async def _send_nul_refusal(send: Send, request_id: str) -> None:
    for message in _json_error(400, {"error": "invalid_request", "message": NUL_MESSAGE},
                               request_id):
        await send(message)


class RequestScopeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kernel: Kernel = scope["app"].state.kernel
        request_id = _header(scope, b"x-request-id") or uuid.uuid4().hex
        if _has_nul(scope.get("query_string", b"")) or _has_nul(scope.get("raw_path", b"")):
            await _send_nul_refusal(send, request_id)
            return
        receive = _refuse_nul_in_body(receive)
        if scope["path"].startswith(NO_TRANSACTION):
            scope.setdefault("state", {})["jimu"] = RequestContext(request_id, None, None,
                                                                  frozenset())
            await self.app(scope, receive, send)
            return
        method = cast("HTTPScope", scope)["method"]
        started = time.perf_counter()
        held: list[Message] = []
        status = 500

        async def hold(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      (b"x-request-id", request_id.encode())]
            held.append(message)

        class _Rollback(Exception):
            pass

        context: RequestContext | None = None
        try:
            async with kernel.db.transaction(write=method not in SAFE_METHODS):
                context = await self._authenticate(kernel, scope, request_id)
                scope.setdefault("state", {})["jimu"] = context
                tenant_scope = TenantScope(
                    tenant_id=context.tenant.id if context.tenant else None,
                    user_id=context.principal.user_id if context.principal else None,
                    role=context.principal.role if context.principal else None,
                    partner_id=context.principal.partner_id if context.principal else None,
                    permissions=context.permissions, request_id=request_id,
                    platform=KernelServices(kernel))
                with use_scope(tenant_scope):
                    await self.app(scope, receive, hold)
                if status >= 400:
                    raise _Rollback
        except _Rollback:
            pass
        except JimuError as exc:
            held = _json_error(exc.status_code, exc.to_dict(), request_id)
            status = exc.status_code
        except Exception:
            log.exception("request failed", extra={"request_id": request_id})
            held = _json_error(500, {"error": "internal_error",
                                     "message": "an unexpected error occurred; quote the "
                                                "request id when you report it"}, request_id)
            status = 500
        finally:
            await kernel.after_transaction()
        for message in held:
            await send(message)
        principal = context.principal if context else None
        log.info("%s %s %s", method, scope["path"], status, extra={
            "request_id": request_id, "status": status,
            "tenant": context.tenant.id if context and context.tenant else None,
            "user": principal.username if principal else None,
            "ms": round((time.perf_counter() - started) * 1000, 1)})

    async def _authenticate(self, kernel: Kernel, scope: Scope, request_id: str
                            ) -> RequestContext:
        principal: Principal | None = None
        authorization = _header(scope, b"authorization")
        if authorization:
            kind, _, token = authorization.partition(" ")
            if kind.lower() != "bearer" or not token:
                raise NotAuthenticated("use 'Authorization: Bearer <API token>'")
            principal = await principal_from_token(kernel, token.strip())
        else:
            cookie_header = _header(scope, b"cookie")
            if cookie_header:
                cookies: SimpleCookie = SimpleCookie()
                cookies.load(cookie_header)
                if SESSION_COOKIE in cookies:
                    principal = await principal_from_session(kernel,
                                                             cookies[SESSION_COOKIE].value)
            if (principal is not None and cast("HTTPScope", scope)["method"] not in SAFE_METHODS
                    and scope["path"] not in CSRF_EXEMPT
                    and _header(scope, b"x-csrf-token") != principal.csrf_token):
                raise PermissionDenied("missing or wrong X-CSRF-Token header; read the token "
                                       "from /api/v1/auth/me")
        tenant = None
        if principal is not None and principal.tenant_id is not None:
            await kernel.db.set_tenant(principal.tenant_id)
            tenant = await kernel.tenant_state(principal.tenant_id)
            if tenant.status != "active":
                raise TenantSuspended("this organisation's account is suspended; contact the "
                                      "platform operator")
        permissions = (permissions_for(kernel, principal, tenant) if principal
                       else frozenset())
        return RequestContext(request_id=request_id, principal=principal, tenant=tenant,
                              permissions=permissions)
