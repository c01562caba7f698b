"""Every HTTP request runs as one principal, for one tenant, in one transaction.

The response is held until the transaction ends: a request that fails (4xx/5xx, or an error
while committing) is rolled back, so a failed request changes nothing.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
import urllib.parse
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
LANGUAGE_COOKIE = "jimu_lang"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The sign-in endpoints have no session yet; the login form has its own double-submit check.
CSRF_EXEMPT = ("/api/v1/auth/login", "/login")
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 1 << 20
# Probes, API docs and static files answer without a database transaction (/ready reports the
# database).
NO_TRANSACTION = ("/health", "/ready", "/schema", "/static/")
API_PATHS = ("/api/", "/schema", "/health", "/ready")
# Long-lived answers (server-sent events): signed in within a short transaction, then streamed
# as they come, each check in its own transaction (a held response would never arrive).
STREAM_PATHS = frozenset({"/api/v1/notifications/stream"})

# Every answer carries these. No inline script or style may run (CSP); pages load nothing
# from outside the platform; no other site may frame them.
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
     b"form-action 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


def session_cookie(kernel: Kernel, token: str) -> Any:
    """The session cookie: HttpOnly, SameSite=Lax, Secure when the platform says so."""
    from litestar.datastructures import Cookie

    return Cookie(key=SESSION_COOKIE, value=token, httponly=True, samesite="lax",
                  secure=kernel.settings.secure_cookies, path="/",
                  max_age=kernel.settings.session_days * 86400)


def is_page_path(path: str) -> bool:
    """Pages answer HTML (errors as themed pages); everything else answers JSON."""
    return not path.startswith(API_PATHS)


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    principal: Principal | None
    tenant: TenantState | None
    permissions: frozenset[str]
    data_version: tuple[int, int] | None = None  # (tenant id, version read by this request)


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
    return _raw_response(status, payload, b"application/json", request_id)


def _raw_response(status: int, payload: bytes, content_type: bytes, request_id: str,
                  headers: list[tuple[bytes, bytes]] | None = None) -> list[Message]:
    start: HTTPResponseStartEvent = {
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", content_type),
                    (b"content-length", str(len(payload)).encode()),
                    (b"x-request-id", request_id.encode()), *SECURITY_HEADERS,
                    *(headers or [])]}
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
        # Uploaded files (XLSX is a zip) are binary: only non-multipart bodies are text.
        if not (_header(scope, b"content-type") or "").startswith("multipart/form-data"):
            receive = _refuse_nul_in_body(receive)
        if scope["path"].startswith(NO_TRANSACTION):
            scope.setdefault("state", {})["jimu"] = RequestContext(request_id, None, None,
                                                                  frozenset())

            async def with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
                await send(message)

            await self.app(scope, receive, with_headers)
            return
        method = cast("HTTPScope", scope)["method"]
        if scope["path"] in STREAM_PATHS and method == "GET":
            await self._stream(kernel, scope, receive, send, request_id)
            return
        started = time.perf_counter()
        held: list[Message] = []
        status = 500

        async def hold(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      (b"x-request-id", request_id.encode()),
                                      *SECURITY_HEADERS]
            held.append(message)

        class _Rollback(Exception):
            pass

        context: RequestContext | None = None
        try:
            async with kernel.db.transaction(write=method not in SAFE_METHODS):
                context, receive = await self._authenticate(kernel, scope, receive,
                                                            request_id)
                scope.setdefault("state", {})["jimu"] = context
                enter_ui(kernel, scope, context)
                with use_scope(_tenant_scope(kernel, context)):
                    await self.app(scope, receive, hold)
                if status >= 400:
                    raise _Rollback
        except _Rollback:
            pass
        except JimuError as exc:
            status = exc.status_code
            held = (_page_error(kernel, scope, context, exc, request_id)
                    if is_page_path(scope["path"])
                    else _json_error(exc.status_code, exc.to_dict(), request_id))
        except Exception:
            log.exception("request failed", extra={"request_id": request_id})
            status = 500
            text = "an unexpected error occurred; quote the request id when you report it"
            held = (_page_error(kernel, scope, context, JimuError(text), request_id,
                                status=500)
                    if is_page_path(scope["path"])
                    else _json_error(500, {"error": "internal_error", "message": text},
                                     request_id))
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

    async def _stream(self, kernel: Kernel, scope: Scope, receive: Receive, send: Send,
                      request_id: str) -> None:
        try:
            async with kernel.db.transaction(write=False):
                context, receive = await self._authenticate(kernel, scope, receive,
                                                            request_id)
        except JimuError as exc:
            for message in _json_error(exc.status_code, exc.to_dict(), request_id):
                await send(message)
            return
        finally:
            await kernel.after_transaction()
        scope.setdefault("state", {})["jimu"] = context

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode()),
                                      *SECURITY_HEADERS]
            await send(message)

        enter_ui(kernel, scope, context)
        with use_scope(_tenant_scope(kernel, context)):
            await self.app(scope, receive, with_headers)

    async def _authenticate(self, kernel: Kernel, scope: Scope, receive: Receive,
                            request_id: str) -> tuple[RequestContext, Receive]:
        principal: Principal | None = None
        authorization = _header(scope, b"authorization")
        if authorization:
            kind, _, token = authorization.partition(" ")
            if kind.lower() != "bearer" or not token:
                raise NotAuthenticated("use 'Authorization: Bearer <API token>'")
            principal = await principal_from_token(kernel, token.strip())
        else:
            cookies = _cookies(scope)
            if SESSION_COOKIE in cookies:
                principal = await principal_from_session(kernel, cookies[SESSION_COOKIE].value)
            if (principal is not None and cast("HTTPScope", scope)["method"] not in SAFE_METHODS
                    and scope["path"] not in CSRF_EXEMPT):
                sent = _header(scope, b"x-csrf-token")
                if sent is None and _is_urlencoded_form(scope):
                    sent, receive = await _form_csrf_token(receive)
                elif sent is None and (boundary := _multipart_boundary(scope)):
                    sent, receive = await _multipart_csrf_token(receive, boundary)
                if not sent or not secrets.compare_digest(sent, principal.csrf_token or ""):
                    raise PermissionDenied("missing or wrong X-CSRF-Token header; read the "
                                           "token from /api/v1/auth/me", csrf=True)
        tenant = None
        data_version = None
        if principal is not None and principal.tenant_id is not None:
            await kernel.db.set_tenant(principal.tenant_id)
            tenant, version = await kernel.read_tenant(principal.tenant_id)
            data_version = (tenant.id, version)
            if tenant.status != "active":
                raise TenantSuspended("this organisation's account is suspended; contact the "
                                      "platform operator")
        permissions = (permissions_for(kernel, principal, tenant) if principal
                       else frozenset())
        return RequestContext(request_id=request_id, principal=principal, tenant=tenant,
                              permissions=permissions, data_version=data_version), receive


def _is_urlencoded_form(scope: Scope) -> bool:
    return (_header(scope, b"content-type") or "").startswith(
        "application/x-www-form-urlencoded")


async def _form_csrf_token(receive: Receive) -> tuple[str | None, Receive]:
    """Read a form body for its ``csrf_token`` field, then hand the same body to the app."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise PayloadTooLarge("the form is larger than 1 MB")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    values = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    sent = values.get(CSRF_FIELD)
    return (sent[0] if sent else None), _replaying(receive, body, more_body=False)


def _replaying(receive: Receive, body: bytes, *, more_body: bool) -> Receive:
    """``receive`` that first hands the app the ``body`` already read, then the rest."""
    replayed = False

    async def replay() -> ReceiveMessage:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": more_body}

    return replay


def _multipart_boundary(scope: Scope) -> bytes | None:
    kind = _header(scope, b"content-type") or ""
    if not kind.startswith("multipart/form-data"):
        return None
    found = re.search(r'boundary="?([^";]{1,70})"?', kind)
    return found.group(1).encode("latin-1") if found else None


async def _multipart_csrf_token(receive: Receive, boundary: bytes) -> tuple[str | None, Receive]:
    """The ``csrf_token`` part of a file upload form, read from the first part(s) only.

    Browsers send parts in the order of the form, and every page puts the token first, so
    only the start of the body is read (and handed back to the app with the rest untouched);
    a large upload is never held in memory twice.
    """
    # The part's other header lines (never empty), the blank line, the one-line value.
    token = re.compile(rb'name="' + CSRF_FIELD.encode() + rb'"\r\n(?:[^\r\n]+\r\n)*\r\n'
                       rb'([^\r\n]{0,200})\r\n--' + re.escape(boundary), re.IGNORECASE)
    head = b""
    more = True
    found = None
    while more and len(head) <= MAX_FORM_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            break
        head += message.get("body", b"")
        more = message.get("more_body", False)
        if (found := token.search(head)) is not None:
            break
    return ((found.group(1).decode("utf-8", "replace") if found else None),
            _replaying(receive, head, more_body=more))


class PayloadTooLarge(JimuError):
    status_code = 413
    code = "payload_too_large"


def _tenant_scope(kernel: Kernel, context: RequestContext) -> TenantScope:
    principal = context.principal
    return TenantScope(
        tenant_id=context.tenant.id if context.tenant else None,
        user_id=principal.user_id if principal else None,
        role=principal.role if principal else None,
        partner_id=principal.partner_id if principal else None,
        permissions=context.permissions, request_id=context.request_id,
        platform=KernelServices(kernel, data_version=context.data_version))


def enter_ui(kernel: Kernel, scope: Scope, context: RequestContext) -> None:
    """Choose the request's language and theme for templates and messages."""
    from jimu.i18n import current_catalogs, current_locale, pick_locale
    from jimu.web.ui import DEFAULT_THEME, UIRequest, current_ui

    cookies = _cookies(scope)
    principal, tenant = context.principal, context.tenant
    locale = pick_locale(principal.locale if principal else None,
                         cookies[LANGUAGE_COOKIE].value if LANGUAGE_COOKIE in cookies else None,
                         tenant.locale if tenant else None,
                         accept_language=_header(scope, b"accept-language"))
    current_locale.set(locale)
    current_catalogs.set(kernel.catalogs)
    current_ui.set(UIRequest(
        locale=locale, theme=tenant.theme if tenant else DEFAULT_THEME, path=scope["path"],
        principal=principal, tenant=tenant, permissions=context.permissions,
        csrf_token=principal.csrf_token or "" if principal else "",
        timezone=tenant.timezone if tenant else "Asia/Shanghai"))


def _cookies(scope: Scope) -> SimpleCookie:
    cookies: SimpleCookie = SimpleCookie()
    header = _header(scope, b"cookie")
    if header:
        try:
            cookies.load(header)
        except Exception:  # a malformed cookie header is treated as no cookies
            return SimpleCookie()
    return cookies


def _page_error(kernel: Kernel, scope: Scope, context: RequestContext | None, exc: JimuError,
                request_id: str, status: int | None = None) -> list[Message]:
    """A failure before or around a page handler, answered as a themed page."""
    from jimu.web.pages_support import error_page_body

    status = status or exc.status_code
    if status == 401:
        location = "/login?next=" + urllib.parse.quote(scope["path"])
        return _raw_response(303, b"", b"text/plain", request_id,
                             [(b"location", location.encode())])
    if context is None:
        enter_ui(kernel, scope, RequestContext(request_id, None, None, frozenset()))
    body = error_page_body(scope["app"], status, exc, request_id)
    return _raw_response(status, body.encode(), b"text/html; charset=utf-8", request_id)
