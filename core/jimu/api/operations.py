"""Audit log, pricing quotes, and the health and readiness probes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from jimu.api.identity import kernel_of
from jimu.services import users
from jimu.services.directory import check_customer, check_partner
from jimu.services.pricing import quote
from jimu.web.errors import document_errors
from jimu.web.guards import request_context, requires
from jimu.web.listing import PageNumber, PerPage, RecordId, SortParam
from jimu_sdk.context import current_tenant_id
from jimu_sdk.types import PriceContext
from litestar import Controller, Request, Response, get, post
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


class QuoteIn(msgspec.Struct, forbid_unknown_fields=True):
    item: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    quantity: Decimal = Decimal(1)
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")] = "CNY"
    partner_id: RecordId | None = None
    customer_id: RecordId | None = None
    region_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")] | None = None
    channel: Annotated[str, msgspec.Meta(max_length=63)] | None = None
    on_date: dt.date | None = None


class TraceLineOut(msgspec.Struct):
    plugin: str
    rule: str
    reason: str
    before: Decimal
    after: Decimal


class QuoteOut(msgspec.Struct):
    item: str
    quantity: Decimal
    currency: str
    unit_price: Decimal
    total: Decimal
    trace: list[TraceLineOut]


class PricingController(Controller):
    path = "/api/v1/pricing"
    tags = ["pricing"]

    @post("/quote", guards=[requires("pricing.quote")], status_code=HTTP_200_OK,
          summary="Price an item through the tenant's pricing steps, explained line by line")
    async def quote(self, request: Request, data: QuoteIn) -> QuoteOut:
        tenant = request_context(request).tenant
        assert tenant is not None
        # Steps get the ids as they are: only the tenant's own (and, for a partner user,
        # visible) records may reach them.
        await check_partner(data.partner_id)
        await check_customer(data.customer_id)
        context = PriceContext(tenant_id=current_tenant_id(), item=data.item,
                               quantity=data.quantity, currency=data.currency,
                               partner_id=data.partner_id, customer_id=data.customer_id,
                               region_code=data.region_code, channel=data.channel,
                               on_date=data.on_date)
        result = quote(kernel_of(request), tenant, context)
        return QuoteOut(item=data.item, quantity=data.quantity, currency=data.currency,
                        unit_price=result.unit_price.amount, total=result.total.amount,
                        trace=[TraceLineOut(plugin=t.plugin, rule=t.rule, reason=t.reason,
                                            before=t.before.amount, after=t.after.amount)
                               for t in result.trace])


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
ROUTES = [*document_errors([AuditController, PricingController]), HealthController]
