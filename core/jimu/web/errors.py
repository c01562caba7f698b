"""Turn every failure into a JSON body that says what was wrong (never a 500 for bad input)."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import msgspec
from jimu_sdk.errors import Conflict, JimuError
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec

log = logging.getLogger("jimu.http")


def _request_id(request: Request) -> str:
    context = request.scope.get("state", {}).get("jimu")
    return context.request_id if context else ""


def _page(request: Request) -> bool:
    from jimu.web.request_scope import is_page_path

    return is_page_path(request.url.path)


def _html(request: Request, status: int, exc: JimuError) -> Response[Any]:
    from jimu.web.pages_support import html_error_response

    return html_error_response(request, status, exc)


def jimu_error(request: Request, exc: JimuError) -> Response[Any]:
    if _page(request):
        return _html(request, exc.status_code, exc)
    return Response({**exc.to_dict(), "request_id": _request_id(request)},
                    status_code=exc.status_code)


def validation_error(request: Request, exc: ValidationException) -> Response[Any]:
    if _page(request):
        return _html(request, 400, JimuError(str(exc.detail)))
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            field = item.get("key") or item.get("source") or ""
            errors.append({"field": str(field), "message": str(item.get("message", ""))})
    detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"]
                       for e in errors) or exc.detail
    return Response({"error": "invalid_request", "message": f"invalid request: {detail}",
                     "errors": errors, "request_id": _request_id(request)}, status_code=400)


def http_error(request: Request, exc: HTTPException) -> Response[Any]:
    if _page(request):
        return _html(request, exc.status_code, JimuError(str(exc.detail)))
    if isinstance(exc, NotFoundException):
        body = {"error": "not_found", "message": f"no such resource: {request.url.path}"}
    else:
        body = {"error": "http_error", "message": str(exc.detail)}
    headers = getattr(exc, "headers", None) or {}
    return Response({**body, "request_id": _request_id(request)}, status_code=exc.status_code,
                    headers=headers)


def _is_unique_violation(exc: Exception) -> bool:
    """Two requests writing the same unique value at once (a document number, a code): the
    loser hits the database's unique index after its own check passed."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE constraint failed" in str(exc)
    return type(exc).__name__ == "UniqueViolationError"  # asyncpg, not imported on SQLite


def unexpected_error(request: Request, exc: Exception) -> Response[Any]:
    if _is_unique_violation(exc):
        log.info("unique violation answered 409", extra={"error": str(exc)})
        return jimu_error(request, Conflict(
            "someone else saved the same thing at the same moment; send the request again"))
    log.exception("unhandled error", exc_info=exc)
    if _page(request):
        return _html(request, 500, JimuError("an unexpected error occurred; quote the "
                                             "request id when you report it"))
    return Response({"error": "internal_error",
                     "message": "an unexpected error occurred; quote the request id when "
                                "you report it", "request_id": _request_id(request)},
                    status_code=500)


class FieldProblem(msgspec.Struct):
    field: str
    message: str


class ErrorOut(msgspec.Struct):
    """The body of every error answer. Some errors add details, e.g. ``plugin`` or ``missing``."""

    error: str
    message: str
    request_id: str
    field: str | None = None
    errors: list[FieldProblem] = []


ERROR_RESPONSES: dict[int, ResponseSpec] = {
    status: ResponseSpec(data_container=ErrorOut, description=description,
                         generate_examples=False)
    for status, description in {
        400: "The request does not parse: a parameter or the body is malformed",
        401: "Not signed in, or the API token is unknown, revoked or expired",
        403: "A permission is missing, the CSRF token is wrong or the tenant is suspended",
        404: "No such resource for this tenant (another tenant's ids are not found either)",
        409: "The request clashes with the current state",
        422: "The input breaks a rule; ``errors`` names each field",
    }.items()
}


def document_errors(route_handlers: list[Any]) -> list[Any]:
    """Declare ``ErrorOut`` as the error answers of these routes, given as controllers or as
    route handlers (for OpenAPI; litestar would document its own error body)."""
    for item in route_handlers:
        handlers = [item] if isinstance(item, HTTPRouteHandler) else vars(item).values()
        for handler in handlers:
            if isinstance(handler, HTTPRouteHandler):
                handler.responses = {**ERROR_RESPONSES, **(handler.responses or {})}
    return route_handlers


EXCEPTION_HANDLERS: dict[Any, Any] = {
    JimuError: jimu_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
