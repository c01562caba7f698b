"""Prices through the tenant's pricing pipeline: one line, or many at once, explained."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from jimu.api.identity import kernel_of
from jimu.services.directory import check_customer, check_partner
from jimu.services.pricing import MAX_LINES, price_lines
from jimu.web.errors import document_errors
from jimu.web.guards import request_context, requires
from jimu.web.listing import RecordId
from jimu_sdk import N_
from jimu_sdk.context import current_tenant_id, has_permission
from jimu_sdk.errors import PermissionDenied
from jimu_sdk.types import PriceContext, PriceResult
from litestar import Controller, Request, post
from litestar.status_codes import HTTP_200_OK

Quantity = Decimal  # msgspec cannot bound a Decimal: the pricing service checks it
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
RegionCode = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")]
Location = Annotated[list[Decimal], msgspec.Meta(
    min_length=2, max_length=2,
    description="[longitude, latitude] of the place priced for, e.g. a store in a geofence")]


class QuoteIn(msgspec.Struct, forbid_unknown_fields=True):
    item: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    quantity: Quantity = Decimal(1)
    currency: Currency = "CNY"
    partner_id: RecordId | None = None
    customer_id: RecordId | None = None
    region_code: RegionCode | None = None
    channel: Annotated[str, msgspec.Meta(max_length=63)] | None = None
    on_date: dt.date | None = None
    location: Location | None = None
    explain: bool = False


class LineIn(msgspec.Struct, forbid_unknown_fields=True):
    item: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    quantity: Quantity = Decimal(1)


class LinesIn(msgspec.Struct, forbid_unknown_fields=True):
    lines: Annotated[list[LineIn], msgspec.Meta(min_length=1, max_length=MAX_LINES)]
    currency: Currency = "CNY"
    partner_id: RecordId | None = None
    customer_id: RecordId | None = None
    region_code: RegionCode | None = None
    channel: Annotated[str, msgspec.Meta(max_length=63)] | None = None
    on_date: dt.date | None = None
    location: Location | None = None
    explain: bool = False


class TraceLineOut(msgspec.Struct):
    plugin: str
    rule: str
    reason: str
    before: Decimal
    after: Decimal
    change: Decimal
    kind: str
    facts: dict[str, Any]


class ConsideredOut(msgspec.Struct):
    plugin: str
    rule: str
    reason: str


class QuoteOut(msgspec.Struct):
    item: str
    quantity: Decimal
    currency: str
    unit_price: Decimal
    total: Decimal
    net: Decimal
    tax: Decimal
    trace: list[TraceLineOut]
    considered: list[ConsideredOut]
    facts: dict[str, Any]


class LinesOut(msgspec.Struct):
    currency: str
    lines: list[QuoteOut]
    net: Decimal
    tax: Decimal
    total: Decimal


def plain(value: Any) -> Any:
    """A fact as JSON shows it: dates as ISO text, tuples as lists, money as text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def quote_out(context: PriceContext, result: PriceResult, *, detail: bool) -> QuoteOut:
    """``detail``: the facts behind each step (costs, tiers) — for holders of
    ``pricing.simulate`` only; everyone else sees the steps, reasons and amounts."""
    return QuoteOut(
        item=context.item, quantity=context.quantity, currency=context.currency,
        unit_price=result.unit_price.amount, total=result.total.amount,
        net=result.net.amount, tax=result.tax.amount if result.tax else Decimal(0),
        trace=[TraceLineOut(plugin=t.plugin, rule=t.rule, reason=t.reason,
                            before=t.before.amount, after=t.after.amount,
                            change=t.change.amount, kind=t.kind,
                            facts=plain(dict(t.facts)) if detail else {})
               for t in result.trace],
        considered=[ConsideredOut(plugin=c.plugin, rule=c.rule, reason=c.reason)
                    for c in result.considered],
        facts=plain(dict(result.facts)) if detail else {})


def given_facts(location: list[Decimal] | None) -> dict[str, Any]:
    """Facts a caller may state: the location (``location``: [lng, lat]), for geofences."""
    return {} if location is None else {"location": (location[0], location[1])}


def may_see_detail(explain: bool) -> bool:
    """Rules passed over and the facts behind a price are pricing policy (other partners'
    rules, costs): only ``pricing.simulate`` sees them."""
    detail = has_permission("pricing.simulate")
    if explain and not detail:
        raise PermissionDenied(N_("explaining the rules passed over needs the permission "
                                  "pricing.simulate"), field="explain")
    return detail


class PricingController(Controller):
    path = "/api/v1/pricing"
    tags = ["pricing"]
    guards = [requires("pricing.quote")]

    @post("/quote", status_code=HTTP_200_OK,
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
                               on_date=data.on_date, facts=given_facts(data.location))
        detail = may_see_detail(data.explain)
        [result] = await price_lines(kernel_of(request), tenant, [context],
                                     explain=data.explain, single=True)
        return quote_out(context, result, detail=detail)

    @post("/lines", status_code=HTTP_200_OK,
          summary="Price many lines for one partner, customer and region in one call")
    async def lines(self, request: Request, data: LinesIn) -> LinesOut:
        tenant = request_context(request).tenant
        assert tenant is not None
        await check_partner(data.partner_id)
        await check_customer(data.customer_id)
        tenant_id = current_tenant_id()
        contexts = [PriceContext(tenant_id=tenant_id, item=line.item, quantity=line.quantity,
                                 currency=data.currency, partner_id=data.partner_id,
                                 customer_id=data.customer_id, region_code=data.region_code,
                                 channel=data.channel, on_date=data.on_date,
                                 facts=given_facts(data.location))
                    for line in data.lines]
        detail = may_see_detail(data.explain)
        results = await price_lines(kernel_of(request), tenant, contexts, explain=data.explain)
        out = [quote_out(c, r, detail=detail) for c, r in zip(contexts, results, strict=True)]
        return LinesOut(currency=data.currency, lines=out,
                        net=sum((o.net for o in out), Decimal(0)),
                        tax=sum((o.tax for o in out), Decimal(0)),
                        total=sum((o.total for o in out), Decimal(0)))


ROUTES = document_errors([PricingController])
