"""The price simulator (价格模拟): pick an item, partner, customer, region, quantity, date and
channel, and see the price with every rule and factor applied, the facts it rested on, and the
rules considered that did not apply, and why.

It prices through ``jimu.services.pricing.price_lines``, the same call as quotations and the
API, with ``explain`` on. The result updates in place as the form changes (htmx); without
JavaScript the form submits and the page comes back with the result.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import msgspec
from jimu_sdk.context import current_tenant_id
from jimu_sdk.errors import JimuError, ValidationFailed
from jimu_sdk.types import PriceContext, PriceResult
from litestar import Request, get
from litestar.response import Template

from jimu.i18n import N_
from jimu.regions import region_chain
from jimu.services import directory
from jimu.services.pricing import price_lines
from jimu.web.forms import failed_form, parse_form
from jimu.web.guards import request_context, requires
from jimu.web.pages_support import FormState, _, kernel_of, page

RESULT_TARGET = "sim-result"
FIELDS = ("item", "quantity", "partner_id", "customer_id", "region_code", "on_date", "channel")


class SimulationIn(msgspec.Struct, forbid_unknown_fields=False):
    item: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    quantity: str = "1"
    partner_id: int | None = None
    customer_id: int | None = None
    region_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")] | None = None
    on_date: dt.date | None = None
    channel: Annotated[str, msgspec.Meta(max_length=63)] | None = None


def _quantity(text: str) -> Decimal:
    try:
        value = Decimal(text.strip() or "1")
    except InvalidOperation:
        raise ValidationFailed(N_("quantity must be a number"), field="quantity") from None
    return value


def fact_text(value: Any) -> str:
    if isinstance(value, tuple | list):
        return " › ".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return "—" if value in (None, "") else str(value)


async def simulate(request: Request, values: dict[str, str]
                   ) -> tuple[FormState, PriceResult | None, PriceContext | None]:
    form = FormState(values=values)
    if not values.get("item"):
        return form, None, None
    tenant = request_context(request).tenant
    assert tenant is not None
    try:
        data = parse_form(SimulationIn, {k: v for k, v in values.items() if v != ""})
        await directory.check_partner(data.partner_id)
        await directory.check_customer(data.customer_id)
        context = PriceContext(tenant_id=current_tenant_id(), item=data.item.strip(),
                               quantity=_quantity(data.quantity),
                               partner_id=data.partner_id, customer_id=data.customer_id,
                               region_code=data.region_code, channel=data.channel or None,
                               on_date=data.on_date)
        [result] = await price_lines(kernel_of(request), tenant, [context], explain=True,
                                     single=True)
    except JimuError as exc:
        return failed_form(values, exc), None, None
    return form, result, context


@get("/admin/pricing/simulator", include_in_schema=False,
     guards=[requires("pricing.quote"), requires("pricing.simulate")])
async def simulator(request: Request) -> Template:
    values = {name: request.query_params.get(name, "") for name in FIELDS}
    form, result, context = await simulate(request, values)
    region = (result.facts.get("region.code") if result else None) or values["region_code"]
    region_names = " › ".join(r["name"] for r in region_chain(region)) if region else ""
    only_result = (request.headers.get("HX-Request") == "true"
                   and request.headers.get("HX-Target") == RESULT_TARGET)
    template = "core/pricing_result.html" if only_result else "core/pricing_simulator.html"
    partners = await directory.partner_choices()
    response = page(template, form=form, result=result, context=context,
                    region_names=region_names, fact_text=fact_text,
                    partners=[("", _("— none —")), *[(p["id"], f"{p['name']} ({p['code']})")
                                                       for p in partners]])
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


ROUTES = [simulator]
