"""Routes under /api/v1/projects: packages with components, uses, the cost report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from jimu_sdk.params import RecordId, RecordIdParam
from jimu_sdk.web import needs
from litestar import delete, get, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from jimu_projects import services

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Texts = Annotated[list[Annotated[str, msgspec.Meta(max_length=2000)]],
                  msgspec.Meta(max_length=100)]


READ = needs("projects.read")
WRITE = needs("projects.write")


class ComponentBody(msgspec.Struct, forbid_unknown_fields=True):
    sku: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    quantity: Decimal


class Materials(msgspec.Struct, forbid_unknown_fields=True):
    scripts: Texts = msgspec.field(default_factory=list)
    coupon_templates: Texts = msgspec.field(default_factory=list)
    grouping_rules: Texts = msgspec.field(default_factory=list)


class PackageIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    kind: str = "service_package"
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    components: Annotated[list[ComponentBody], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list)
    materials: Materials = msgspec.field(default_factory=Materials)
    active: bool = True


class PackageUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    kind: str = "service_package"
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    components: Annotated[list[ComponentBody], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list)
    materials: Materials = msgspec.field(default_factory=Materials)
    active: bool = True


class ComponentOut(msgspec.Struct):
    sku: str
    quantity: Decimal
    item_kind: str
    unit_list_price: Decimal
    unit_cost: Decimal | None


class PackageOut(msgspec.Struct):
    id: int
    code: str
    name: str
    kind: str
    description: str
    materials: dict[str, list[str]]
    list_price: Decimal
    cost: Decimal
    active: bool
    components: list[ComponentOut]


class UseIn(msgspec.Struct, forbid_unknown_fields=True):
    quantity: Decimal = Decimal(1)
    partner_id: RecordId | None = None
    region_code: Annotated[str, msgspec.Meta(max_length=12)] | None = None


class UsageLineOut(msgspec.Struct):
    sku: str
    quantity: Decimal
    reservation_ref: str
    unit_cost: Decimal | None
    cost: Decimal | None


class UsageOut(msgspec.Struct):
    id: int
    ref: str
    package: str
    source: str
    order_id: int | None
    line_no: int | None
    partner_id: int | None
    region_code: str | None
    quantity: Decimal
    status: str
    cost: Decimal
    created_at: dt.datetime
    completed_at: dt.datetime | None
    lines: list[UsageLineOut]


class CostLine(msgspec.Struct):
    code: str
    name: str
    list_price: Decimal
    uses: int
    completed: int
    quantity: Decimal
    cost: Decimal


class TraceOut(msgspec.Struct):
    plugin: str
    rule: str
    reason: str
    before: Decimal
    after: Decimal


class PriceOut(msgspec.Struct):
    code: str
    region_code: str | None
    quantity: Decimal
    total: Decimal
    unit_price: Decimal
    trace: list[TraceOut]


def _money(value: Any) -> Decimal:
    return services.dec(value).quantize(services.CENT)


async def package_out(row: dict[str, Any]) -> PackageOut:
    described = await services.describe(row)
    return PackageOut(
        id=row["id"], code=row["code"], name=row["name"], kind=row["kind"],
        description=row["description"],
        materials={k: list(v) for k, v in (row["materials"] or {}).items()},
        list_price=_money(row["list_price"]), cost=_money(row["cost"]), active=row["active"],
        components=[ComponentOut(sku=c["sku"], quantity=Decimal(c["quantity"]),
                                 item_kind=c["item_kind"],
                                 unit_list_price=Decimal(c["unit_list_price"]),
                                 unit_cost=None if c["unit_cost"] is None
                                 else Decimal(c["unit_cost"]))
                    for c in described["components"]])


async def usage_out(row: dict[str, Any]) -> UsageOut:
    lines = await services.usage_lines(row["id"])
    return UsageOut(
        id=row["id"], ref=row["ref"], package=row["package_code"], source=row["source"],
        order_id=row["order_id"], line_no=row["line_no"], partner_id=row["partner_id"],
        region_code=row["region_code"], quantity=services.dec(row["quantity"]),
        status=row["status"], cost=_money(row["cost"]), created_at=row["created_at"],
        completed_at=row["completed_at"],
        lines=[UsageLineOut(sku=ln["sku"], quantity=services.dec(ln["quantity"]),
                            reservation_ref=ln["reservation_ref"],
                            unit_cost=None if ln["unit_cost"] is None
                            else services.dec(ln["unit_cost"]),
                            cost=None if ln["cost"] is None else _money(ln["cost"]))
               for ln in lines])


def _components(body: PackageIn | PackageUpdate) -> list[services.ComponentIn]:
    return [services.ComponentIn(c.sku, c.quantity) for c in body.components]


@get("/packages", guards=READ, summary="Packages and campaign packs")
async def list_packages(kind: Annotated[str, Parameter(max_length=20)] = ""
                        ) -> list[PackageOut]:
    return [await package_out(r) for r in await services.list_packages(kind=kind)]


@post("/packages", guards=WRITE, summary="Create a package (mirrored into the price lists)")
async def create_package(data: PackageIn) -> PackageOut:
    return await package_out(await services.save_package(
        code=data.code, name=data.name, kind=data.kind, description=data.description,
        components=_components(data), materials=msgspec.to_builtins(data.materials),
        active=data.active))


@get("/packages/{package_code:str}", guards=READ, summary="A package with its components")
async def get_package(package_code: str) -> PackageOut:
    code = await services.package_key(package_code)
    return await package_out(await services.package_by_code(code))


@put("/packages/{package_code:str}", guards=WRITE, summary="Change a package and re-price it")
async def update_package(package_code: str, data: PackageUpdate) -> PackageOut:
    code = await services.package_key(package_code)
    return await package_out(await services.save_package(
        code=code, name=data.name, kind=data.kind, description=data.description,
        components=_components(data), materials=msgspec.to_builtins(data.materials),
        active=data.active, existing=code))


@delete("/packages/{package_code:str}", guards=WRITE, status_code=HTTP_204_NO_CONTENT,
        summary="Delete a package that was never used")
async def delete_package(package_code: str) -> None:
    await services.delete_package(await services.package_key(package_code))


@get("/packages/{package_code:str}/price", guards=READ,
     summary="The package priced for a region or partner, with its explanation")
async def package_price(package_code: str,
                        region_code: Annotated[str, Parameter(max_length=12)] = "",
                        partner_id: Annotated[int | None, Parameter(ge=1, le=2**31 - 1)] = None,
                        quantity: Annotated[str, Parameter(max_length=20)] = "1"
                        ) -> PriceOut:
    code = await services.package_key(package_code)
    qty = services.check_quantity(quantity, "quantity")
    got = await services.price_breakdown(code, region_code=region_code or None,
                                         partner_id=partner_id, quantity=qty)
    result = got["result"]
    return PriceOut(code=code, region_code=result.facts.get("region.code"), quantity=qty,
                    total=result.total.amount, unit_price=result.unit_price.amount,
                    trace=[TraceOut(plugin=t.plugin, rule=t.rule, reason=t.reason,
                                    before=t.before.amount, after=t.after.amount)
                           for t in result.trace])


@post("/packages/{package_code:str}/use", guards=WRITE,
      summary="Use a package directly: reserve its parts")
async def use_package(package_code: str, data: UseIn) -> UsageOut:
    return await usage_out(await services.use_package(
        await services.package_key(package_code), quantity=data.quantity,
        partner_id=data.partner_id, region_code=data.region_code))


@get("/usages", guards=READ, summary="Uses of packages, newest first")
async def list_usages(package: Annotated[str, Parameter(max_length=64)] = "",
                      status: Annotated[str, Parameter(max_length=12)] = "",
                      limit: Annotated[int, Parameter(ge=1, le=500)] = 100
                      ) -> list[UsageOut]:
    return [await usage_out(r) for r in await services.list_usages(
        package=package, status=status, limit=limit)]


@get("/usages/{usage_id:int}", guards=READ, summary="One use of a package")
async def get_usage(usage_id: RecordIdParam) -> UsageOut:
    return await usage_out(await services.usage_by_id(usage_id))


@post("/usages/{usage_id:int}/complete", guards=WRITE,
      summary="Complete a use: consume its parts and book their cost")
async def complete_usage(usage_id: RecordIdParam) -> UsageOut:
    return await usage_out(await services.complete_usage(
        await services.usage_by_id(usage_id)))


@post("/usages/{usage_id:int}/cancel", guards=WRITE,
      summary="Cancel a use: release its parts")
async def cancel_usage(usage_id: RecordIdParam) -> UsageOut:
    return await usage_out(await services.release_usage(await services.usage_by_id(usage_id)))


@get("/reports/cost", guards=READ, summary="Parts cost booked per package")
async def cost_report() -> list[CostLine]:
    return [CostLine(**line) for line in await services.cost_report()]


ROUTES = [list_packages, create_package, get_package, update_package, delete_package,
          package_price, use_package, list_usages, get_usage, complete_usage, cancel_usage,
          cost_report]
