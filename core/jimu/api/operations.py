"""Audit log, and the health and readiness probes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from jimu.api.identity import kernel_of
from jimu.services import users
from jimu.web.errors import document_errors
from jimu.web.guards import requires
from jimu.web.listing import PageNumber, PerPage, SortParam
from litestar import Controller, Request, Response, get
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE


class AuditOut(msgspec.Struct):
    id: int
    user_id: int | None
    username: str
    action: str
    target: str
    before: Any
    after: Any
    created_at: dt.datetime


class AuditPage(msgspec.Struct):
    items: list[AuditOut]
    total: int
    page: int
    per_page: int


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]
    guards = [requires("audit.read")]

    @get("/", summary="Configuration changes: who, what, when, before and after")
    async def list_audit(self, user: str | None = None, action: str | None = None,
                         since: dt.datetime | None = None, until: dt.datetime | None = None,
                         sort: SortParam = None, page: PageNumber = 1,
                         per_page: PerPage = 50) -> AuditPage:
        rows, total = await users.list_audit(user=user, action=action, since=since,
                                             until=until, sort=sort, page=page,
                                             per_page=per_page)
        return AuditPage(items=[AuditOut(**{k: r[k] for k in AuditOut.__struct_fields__})
                                for r in rows], total=total, page=page, per_page=per_page)


class HealthOut(msgspec.Struct):
    status: str
    version: str


class ReadyOut(msgspec.Struct):
    status: str
    database: str
    broker: str
    broken_plugins: list[str]


class HealthController(Controller):
    path = "/"
    tags = ["operations"]

    @get("/health", summary="Liveness: the process answers")
    async def health(self) -> HealthOut:
        from jimu.version import __version__

        return HealthOut(status="ok", version=__version__)

    @get("/ready", summary="Readiness: database and broker reachable",
         responses={503: ResponseSpec(data_container=ReadyOut,
                                      description="database or broker unreachable")})
    async def ready(self, request: Request) -> Response[ReadyOut]:
        kernel = kernel_of(request)
        database = broker = "ok"
        try:
            await kernel.db.ping()
        except Exception as exc:
            database = f"unreachable: {type(exc).__name__}"
        try:
            kernel.jobs.ping()
        except Exception as exc:
            broker = f"unreachable: {type(exc).__name__}"
        ok = database == broker == "ok"
        return Response(ReadyOut(status="ok" if ok else "unavailable", database=database,
                                 broker=broker, broken_plugins=sorted(kernel.plugins.broken)),
                        status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE)


# The probes answer outside the request scope: no sign-in, no tenant, no error bodies.
ROUTES = [*document_errors([AuditController]), HealthController]
