"""The project library, free of HTTP: packages priced like items, the regional labour step,
and using a package (reserve its parts, book their cost)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from jimu_parts import public as parts
from jimu_price_lists import public as price_lists
from jimu_sdk import (
    N_,
    Conflict,
    Money,
    NotFound,
    PriceAdjustment,
    PriceContext,
    PricePass,
    RuleConsidered,
    ValidationFailed,
    current_tenant_id,
    platform,
)

from jimu_projects.tables import Component, Package, Usage, UsageLine

Q = Decimal("0.0001")
CENT = Decimal("0.01")
KINDS = ("service_package", "campaign_pack")
MATERIALS = ("scripts", "coupon_templates", "grouping_rules")
MAX_COMPONENTS = 50
MAX_QUANTITY = Decimal("100000")
PACKAGES_CACHE = "projects.packages"
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")  # a price_lists SKU
RATE_FACT = "regional_pricing.labour_rate"


def dec(value: Any) -> Decimal:
    if value is None:
        return Decimal(0).quantize(Q)
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(Q, rounding=ROUND_HALF_UP)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def check_quantity(value: Any, field: str) -> Decimal:
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(N_("%(field)s must be a number"), field=field,
                               params={"field": field}) from exc
    if not quantity.is_finite() or quantity <= 0:
        raise ValidationFailed(N_("%(field)s must be greater than zero"), field=field,
                               params={"field": field})
    if quantity > MAX_QUANTITY:
        raise ValidationFailed(N_("%(field)s must be at most %(max)s"), field=field,
                               params={"field": field, "max": MAX_QUANTITY})
    if quantity != quantity.quantize(Q):
        raise ValidationFailed(N_("%(field)s has more than 4 decimal places"), field=field,
                               params={"field": field})
    return quantity.quantize(Q)


# ----------------------------------------------------------------------------- packages


@dataclass(frozen=True)
class ComponentIn:
    sku: str
    quantity: Any


async def package_by_code(code: str) -> dict[str, Any]:
    row = await Package.scoped_select().where(Package.code == code).first()
    if row is None:
        raise NotFound(N_("package %(code)s not found"), field="code", params={"code": code})
    return row


async def components_of(package_id: int) -> list[dict[str, Any]]:
    return await Component.scoped_select().where(Component.package_id == package_id).order_by(
        Component.position)


async def list_packages(*, kind: str = "") -> list[dict[str, Any]]:
    query = Package.scoped_select()
    if kind:
        query = query.where(Package.kind == kind)
    return await query.order_by(Package.code)


def _materials(value: Mapping[str, Any] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, items in (value or {}).items():
        if key not in MATERIALS:
            raise ValidationFailed(N_("materials can hold %(keys)s"), field=f"materials.{key}",
                                   params={"keys": ", ".join(MATERIALS)})
        texts = [str(t).strip() for t in items or [] if str(t).strip()]
        if len(texts) > 100 or any(len(t) > 2000 for t in texts):
            raise ValidationFailed(N_("at most 100 texts of 2000 characters each"),
                                   field=f"materials.{key}")
        out[key] = texts
    return out


async def _priced_components(code: str, components: Sequence[ComponentIn]
                             ) -> list[dict[str, Any]]:
    if len(components) > MAX_COMPONENTS:
        raise ValidationFailed(N_("a package has at most %(max)s components"),
                               field="components", params={"max": MAX_COMPONENTS})
    items = await price_lists.items_by_sku(c.sku for c in components)
    seen: set[str] = set()
    rows = []
    for index, component in enumerate(components):
        field = f"components[{index}]"
        sku = component.sku.strip()
        item = items.get(sku)
        if item is None:
            raise ValidationFailed(N_("%(sku)s is not an item of the price lists"),
                                   field=f"{field}.sku", params={"sku": sku})
        if item["kind"] == "package" or sku == code:
            raise ValidationFailed(N_("a package cannot contain another package (%(sku)s)"),
                                   field=f"{field}.sku", params={"sku": sku})
        if sku in seen:
            raise ValidationFailed(N_("%(sku)s is listed twice"), field=f"{field}.sku",
                                   params={"sku": sku})
        seen.add(sku)
        rows.append({"sku": sku, "quantity": check_quantity(component.quantity,
                                                            f"{field}.quantity"),
                     "item_kind": item["kind"], "unit_list_price": dec(item["list_price"]),
                     "unit_cost": None if item["cost"] is None else dec(item["cost"]),
                     "position": index})
    return rows


def _totals(rows: Sequence[Mapping[str, Any]]) -> tuple[Decimal, Decimal]:
    price = sum((r["unit_list_price"] * r["quantity"] for r in rows), Decimal(0))
    cost = sum(((r["unit_cost"] or Decimal(0)) * r["quantity"] for r in rows), Decimal(0))
    return (price.quantize(CENT, rounding=ROUND_HALF_UP),
            cost.quantize(CENT, rounding=ROUND_HALF_UP))


def _check_header(*, code: str, name: str, kind: str) -> None:
    if not code.strip():
        raise ValidationFailed(N_("enter a code"), field="code")
    if not CODE.match(code):
        raise ValidationFailed(N_("a code is up to 64 letters, digits and . _ / -, starting "
                                  "with a letter or digit"), field="code")
    if not name.strip():
        raise ValidationFailed(N_("enter a name"), field="name")
    if kind not in KINDS:
        raise ValidationFailed(N_("kind must be one of %(kinds)s"), field="kind",
                               params={"kinds": ", ".join(KINDS)})


async def save_package(*, code: str, name: str, kind: str, description: str,
                       components: Sequence[ComponentIn],
                       materials: Mapping[str, Any] | None, active: bool = True,
                       existing: str | None = None) -> dict[str, Any]:
    """Create (``existing`` is ``None``) or replace a package and its components, and mirror
    it as a price_lists item of kind ``package`` priced at the sum of its components."""
    code = (existing or code).strip()
    _check_header(code=code, name=name, kind=kind)
    if existing is None:
        if await Package.scoped_count().where(Package.code == code):
            raise Conflict(N_("a package with the code %(code)s already exists"), field="code",
                           params={"code": code})
        item = await price_lists.get_item(code)
        if item is not None and item["kind"] != "package":
            raise Conflict(N_("%(code)s is already an item of the price lists (%(kind)s)"),
                           field="code", params={"code": code, "kind": item["kind"]})
    clean_materials = _materials(materials)
    rows = await _priced_components(code, components)
    if kind == "service_package" and not rows:
        raise ValidationFailed(N_("a service package needs at least one component"),
                               field="components")
    list_price, cost = _totals(rows)
    before = None
    if existing is None:
        package = await Package.scoped_insert(
            code=code, name=name.strip(), kind=kind, description=description,
            materials=clean_materials, list_price=list_price, cost=cost, active=active,
            updated_at=platform().now())
    else:
        package = await package_by_code(code)
        before = await describe(package)
        await Package.scoped_update({
            Package.name: name.strip(), Package.kind: kind, Package.description: description,
            Package.materials: clean_materials, Package.list_price: list_price,
            Package.cost: cost, Package.active: active, Package.updated_at: platform().now(),
        }).where(Package.id == package["id"])
        await Component.scoped_delete().where(Component.package_id == package["id"])
    for row in rows:
        await Component.scoped_insert(package_id=package["id"], **row)
    await price_lists.upsert_item(
        sku=code, name=name.strip(), kind="package", unit="套",
        category="活动包" if kind == "campaign_pack" else "服务套餐", list_price=list_price,
        cost=cost)
    await platform().invalidate(PACKAGES_CACHE)
    saved = await package_by_code(code)
    await platform().audit("projects.package." + ("update" if before else "create"),
                           f"package:{code}", before, await describe(saved))
    return saved


async def delete_package(code: str) -> None:
    package = await package_by_code(code)
    if await Usage.scoped_count().where(Usage.package_id == package["id"]):
        raise Conflict(N_("package %(code)s has been used; deactivate it instead"),
                       field="code", params={"code": code})
    before = await describe(package)
    await Component.scoped_delete().where(Component.package_id == package["id"])
    await Package.scoped_delete().where(Package.id == package["id"])
    await platform().invalidate(PACKAGES_CACHE)
    await platform().audit("projects.package.delete", f"package:{code}", before, None)


async def describe(package: Mapping[str, Any]) -> dict[str, Any]:
    """A package with its components, as plain JSON-able data."""
    return {
        "code": package["code"], "name": package["name"], "kind": package["kind"],
        "description": package["description"], "materials": package["materials"] or {},
        "list_price": str(dec(package["list_price"]).quantize(CENT)),
        "cost": str(dec(package["cost"]).quantize(CENT)), "active": package["active"],
        "components": [{"sku": c["sku"], "quantity": str(dec(c["quantity"])),
                        "item_kind": c["item_kind"],
                        "unit_list_price": str(dec(c["unit_list_price"])),
                        "unit_cost": None if c["unit_cost"] is None else str(dec(c["unit_cost"]))}
                       for c in await components_of(package["id"])]}


# ----------------------------------------------------------------------------- pricing


@dataclass(frozen=True)
class PackageInfo:
    code: str
    components: tuple[tuple[str, Decimal, str], ...]  # (sku, quantity, item kind)
    labour: tuple[tuple[str, Decimal, Decimal], ...]  # (sku, hours, list price per hour)


async def _load_packages() -> dict[str, PackageInfo]:
    packages = {p["id"]: p for p in await Package.scoped_select(
        Package.id, Package.code, Package.active)}
    comps: dict[int, list[dict[str, Any]]] = {}
    for c in await Component.scoped_select().order_by(Component.position):
        comps.setdefault(c["package_id"], []).append(c)
    out = {}
    for pid, package in packages.items():
        rows = comps.get(pid, [])
        out[package["code"]] = PackageInfo(
            code=package["code"],
            components=tuple((c["sku"], dec(c["quantity"]), c["item_kind"]) for c in rows),
            labour=tuple((c["sku"], dec(c["quantity"]), dec(c["unit_list_price"]))
                         for c in rows if c["item_kind"] == "labour"))
    return out


async def packages_index() -> dict[str, PackageInfo]:
    return await platform().cached(PACKAGES_CACHE, _load_packages)


async def prepare_package_labour(contexts: Sequence[PriceContext]):
    """The ``package-labour`` step (order 45): the labour inside a package costs the region's
    hourly rate (fact ``regional_pricing.labour_rate``) instead of the labour list price."""
    index = await packages_index()
    if not any(c.item in index for c in contexts):
        return None  # no package line: the step sits this call out

    def apply(context: PriceContext, previous: Money):
        package = index.get(context.item)
        if package is None or not package.labour:
            return None
        rate = context.facts.get(RATE_FACT)
        if rate is None:
            if context.explain:
                return PricePass(considered=(RuleConsidered(
                    rule="package-labour",
                    reason="本区域未设置工时费，套餐工时按价目表计"),))
            return None
        rate = Decimal(rate)
        hours = sum((h for _, h, _ in package.labour), Decimal(0))
        delta = sum(((rate - price) * h for _, h, price in package.labour), Decimal(0))
        if delta == 0:
            return None
        list_rates = "、".join(f"{_plain(price.quantize(CENT))}/h" for _, _, price in
                               package.labour)
        return PriceAdjustment(
            total=previous + Money(delta * context.quantity, previous.currency),
            reason=(f"套餐工时 {_plain(hours)}h 按本区域工时费 {rate.quantize(CENT)}/h 计"
                    f"（价目表 {list_rates}）"),
            rule="package-labour",
            facts={RATE_FACT: rate, "projects.labour_hours": hours,
                   "region.code": context.facts.get("region.code")})

    return apply


async def price_breakdown(code: str, *, region_code: str | None, partner_id: int | None,
                          quantity: Decimal = Decimal(1)) -> dict[str, Any]:
    """The package priced for a region/partner through the pipeline, and each component."""
    package = await package_by_code(code)
    components = await components_of(package["id"])
    context = PriceContext(tenant_id=current_tenant_id(), item=code, quantity=quantity,
                           region_code=region_code or None, partner_id=partner_id)
    result = (await platform().price([context], explain=True))[0]
    return {"package": package, "components": components, "result": result,
            "region_code": region_code, "partner_id": partner_id, "quantity": quantity}


# ----------------------------------------------------------------------------- using packages


def _order_expiry() -> dt.datetime:
    hours = int(platform().settings("parts").get("order_reservation_hours", 168))
    return platform().now() + dt.timedelta(hours=hours)


async def _use(*, package: Mapping[str, Any], ref: str, line_ref: str, quantity: Decimal,
               source: str, order_id: int | None = None, line_no: int | None = None,
               partner_id: int | None = None, region_code: str | None = None,
               expires_at: dt.datetime | None = None, field: str = "quantity"
               ) -> dict[str, Any]:
    """Record a use and reserve each stocked component (× ``quantity``). An insufficient part
    raises the parts library's ``Conflict``, refusing the whole use."""
    usage = await Usage.scoped_insert(
        ref=ref, package_id=package["id"], package_code=package["code"], source=source,
        order_id=order_id, line_no=line_no, partner_id=partner_id, region_code=region_code,
        quantity=quantity, status="reserved", created_at=platform().now())
    if source == "direct":
        line_ref = f"use:{usage['id']}"
        await Usage.scoped_update({Usage.ref: line_ref}).where(Usage.id == usage["id"])
        usage["ref"] = line_ref
    for component in await components_of(package["id"]):
        if not await parts.is_stocked(component["sku"]):
            continue
        needed = (dec(component["quantity"]) * quantity).quantize(Q)
        reservation_ref = f"{line_ref}:{component['sku']}"
        await parts.reserve(reservation_ref, component["sku"], needed, None, expires_at,
                            region_code=region_code, field=field)
        await UsageLine.scoped_insert(usage_id=usage["id"], sku=component["sku"],
                                      quantity=needed, reservation_ref=reservation_ref)
    return usage


async def use_package(code: str, *, quantity: Any, partner_id: int | None,
                      region_code: str | None) -> dict[str, Any]:
    """A direct use (e.g. from a work order): reserves the parts; returns the usage."""
    package = await package_by_code(code)
    if not package["active"]:
        raise ValidationFailed(N_("package %(code)s is not active"), field="code",
                               params={"code": code})
    qty = check_quantity(quantity, "quantity")
    if partner_id is not None:
        await platform().get_partner(partner_id)
    if region_code and not platform().region_path(region_code):
        raise ValidationFailed(N_("%(code)s is not a known region code"), field="region_code",
                               params={"code": region_code})
    # A placeholder ref, replaced with "use:<id>" once the id is known.
    return await _use(package=package, ref=f"use:new:{uuid.uuid4().hex}",
                      line_ref="", quantity=qty, source="direct", partner_id=partner_id,
                      region_code=region_code or None)


async def usage_by_id(usage_id: int) -> dict[str, Any]:
    return await Usage.scoped_get(usage_id, what="usage")


async def usage_lines(usage_id: int) -> list[dict[str, Any]]:
    return await UsageLine.scoped_select().where(UsageLine.usage_id == usage_id).order_by(
        UsageLine.id)


async def complete_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    """Consume the reserved parts and book their cost on the usage."""
    if usage["status"] != "reserved":
        raise Conflict(N_("usage %(id)s is already %(status)s"), field="status",
                       params={"id": usage["id"], "status": usage["status"]})
    total = Decimal(0)
    for line in await usage_lines(usage["id"]):
        cost = await parts.consume(line["reservation_ref"])
        qty = dec(line["quantity"])
        unit = (cost / qty).quantize(Q, rounding=ROUND_HALF_UP) if qty else Decimal(0)
        await UsageLine.scoped_update({UsageLine.cost: cost, UsageLine.unit_cost: unit}).where(
            UsageLine.id == line["id"])
        total += cost
    await Usage.scoped_update({Usage.status: "completed", Usage.cost: total,
                               Usage.completed_at: platform().now()}).where(
        Usage.id == usage["id"])
    return await usage_by_id(usage["id"])


async def release_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    if usage["status"] != "reserved":
        raise Conflict(N_("usage %(id)s is already %(status)s"), field="status",
                       params={"id": usage["id"], "status": usage["status"]})
    for line in await usage_lines(usage["id"]):
        reservation = await parts.reservation(line["reservation_ref"])
        if reservation is not None and reservation["status"] == "active":
            await parts.release(line["reservation_ref"])
    await Usage.scoped_update({Usage.status: "released"}).where(Usage.id == usage["id"])
    return await usage_by_id(usage["id"])


async def list_usages(*, package: str = "", status: str = "", limit: int = 100
                      ) -> list[dict[str, Any]]:
    query = Usage.scoped_select()
    if package:
        query = query.where(Usage.package_code == package)
    if status:
        query = query.where(Usage.status == status)
    return await query.order_by(Usage.id, ascending=False).limit(limit)


async def cost_report() -> list[dict[str, Any]]:
    """Per package: how often it was used and completed, and the parts cost booked."""
    report: dict[str, dict[str, Any]] = {}
    for package in await list_packages():
        report[package["code"]] = {"code": package["code"], "name": package["name"],
                                   "list_price": dec(package["list_price"]).quantize(CENT),
                                   "uses": 0, "completed": 0, "quantity": Decimal(0),
                                   "cost": Decimal(0)}
    for usage in await Usage.scoped_select():
        line = report.get(usage["package_code"])
        if line is None:
            continue
        line["uses"] += 1
        if usage["status"] == "completed":
            line["completed"] += 1
            line["quantity"] += dec(usage["quantity"])
            line["cost"] += dec(usage["cost"])
    return [{**line, "cost": line["cost"].quantize(CENT)} for line in report.values()]


# ----------------------------------------------------------------------------- orders


async def reserve_order(payload: Mapping[str, Any]) -> None:
    """``orders.created``: each line whose item is a package reserves its stocked parts."""
    index = await packages_index()
    expires = None
    for position, line in enumerate(payload.get("lines") or []):
        if str(line["item"]) not in index:
            continue
        package = await package_by_code(str(line["item"]))
        expires = expires or _order_expiry()
        ref = f"order:{payload['order_id']}:{line['line_no']}"
        await _use(package=package, ref=ref, line_ref=ref,
                   quantity=check_quantity(line["quantity"], f"lines[{position}].quantity"),
                   source="order", order_id=payload["order_id"], line_no=line["line_no"],
                   partner_id=payload.get("partner_id"), region_code=payload.get("region_code"),
                   expires_at=expires, field=f"lines[{position}].quantity")


async def _order_usages(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    return await Usage.scoped_select().where(
        (Usage.order_id == payload["order_id"]) & (Usage.source == "order"))


async def complete_order(payload: Mapping[str, Any]) -> None:
    for usage in await _order_usages(payload):
        if usage["status"] == "reserved":
            await complete_usage(usage)


async def cancel_order(payload: Mapping[str, Any]) -> None:
    for usage in await _order_usages(payload):
        if usage["status"] == "reserved":
            await release_usage(usage)


# ----------------------------------------------------------------------------- demo


DEMO_ITEMS = [
    ("OIL-FILTER", "机油滤芯", "part", "个", "保养配件", "45.00", "28.00"),
    ("OIL-5W30-1L", "全合成机油 1L", "consumable", "L", "保养配件", "68.00", "40.00"),
    ("LABOUR-HOUR", "工时", "labour", "h", "工时", "120.00", None),
    ("AIR-FILTER", "空气滤芯", "part", "个", "保养配件", "60.00", "35.00"),
    ("CABIN-FILTER", "空调滤芯", "part", "个", "保养配件", "80.00", "45.00"),
    ("BRAKE-FLUID-1L", "刹车油 1L", "consumable", "L", "保养配件", "90.00", "52.00"),
]


async def seed_demo(tenant_id: int) -> None:
    for sku, name, kind, unit, category, price, cost in DEMO_ITEMS:
        if await price_lists.get_item(sku) is None:
            await price_lists.upsert_item(sku=sku, name=name, kind=kind, unit=unit,
                                          category=category, list_price=Decimal(price),
                                          cost=None if cost is None else Decimal(cost))
    packages = [
        ("PKG-4S-BASIC", "4S基础保养套餐", "service_package",
         "更换机油滤芯、4 L 全合成机油，含 0.5 小时工时（按本区域工时费）。",
         [("OIL-FILTER", "1"), ("OIL-5W30-1L", "4"), ("LABOUR-HOUR", "0.5")], {}),
        ("PKG-4S-DEEP", "4S深度养护包", "service_package",
         "一线城市门店的深度养护：机油、三滤、刹车油，含 1.5 小时工时。",
         [("OIL-FILTER", "1"), ("OIL-5W30-1L", "4"), ("AIR-FILTER", "1"),
          ("CABIN-FILTER", "1"), ("BRAKE-FLUID-1L", "1"), ("LABOUR-HOUR", "1.5")], {}),
        ("PKG-FESTIVAL", "节日促销活动包", "campaign_pack",
         "节日促销活动包: 社群话术、优惠券模板、客户分群规则。", [],
         {"scripts": ["【节日特惠】到店保养立减 50 元，名额有限，回复 1 预约。",
                      "老客户专享：本周到店免费检测 20 项。"],
          "coupon_templates": ["满 300 减 50 保养券（有效期 30 天）", "免费洗车券"],
          "grouping_rules": ["近 6 个月未到店的老客户", "上次保养超过 5000 公里的客户",
                             "本月生日会员"]}),
    ]
    for code, name, kind, description, components, materials in packages:
        if await Package.scoped_count().where(Package.code == code):
            continue
        await save_package(code=code, name=name, kind=kind, description=description,
                           components=[ComponentIn(sku, qty) for sku, qty in components],
                           materials=materials)
    if not await Usage.scoped_count():
        # A maintenance done in the Pudong workshop (cost booked) and one booked for tomorrow.
        done = await use_package("PKG-4S-BASIC", quantity=1, partner_id=None,
                                 region_code="310115")
        await complete_usage(done)
        await use_package("PKG-4S-BASIC", quantity=1, partner_id=None, region_code="310115")


async def package_key(key: str) -> str:
    """A package named in a URL by its code or by its id (ids are what listings carry)."""
    row = await Package.scoped_select(Package.code).where(Package.code == key).first()
    if row is None and key.isdigit() and len(key) < 10:
        row = await Package.scoped_select(Package.code).where(Package.id == int(key)).first()
    if row is None:
        raise NotFound(N_("package %(code)s not found"), params={"code": key})
    return row["code"]
