"""Shared entities: customers, partners (dealers, stores, installers …) and the region tree.

A partner user (经销商/门店/安装商) sees only its own organisation and the ones under it, and
only their customers. Phone numbers are masked for whoever lacks ``customers.contact``.
"""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Annotated, Any

import msgspec
import phonenumbers
from jimu.db.tables import Customer, Partner, Region
from jimu.regions import region_path
from jimu.web.errors import document_errors
from jimu.web.guards import request_context, requires
from jimu.web.listing import (
    MAX_RECORD_ID,
    PageNumber,
    PerPage,
    RecordId,
    RecordIdFilter,
    RecordIdParam,
    SearchParam,
    SortParam,
    apply_sort,
    like_pattern,
    page_slice,
)
from jimu_sdk.context import current_scope, emit, has_permission, platform
from jimu_sdk.errors import Conflict, NotFound, ValidationFailed
from litestar import Controller, Request, delete, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,63}$")]
PhoneText = Annotated[str, msgspec.Meta(max_length=32)]
EmailText = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+$")]
RegionCode = Annotated[str, msgspec.Meta(pattern=r"^$|^[0-9]{6}$")]
Level = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]

CUSTOMER_LEVELS = ("regular", "silver", "gold", "platinum")
PARTNER_KINDS = ("dealer", "store", "installer", "service_provider", "agent")
PARTNER_LEVELS = ("", "general_agent", "level1", "level2")
"""总代 general_agent, 一级 level1, 二级 level2 (empty: no level)."""


def normalize_phone(phone: str) -> str:
    if not phone:
        return ""
    try:
        parsed = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(f"{phone!r} is not a phone number", field="phone") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed(f"{phone!r} is not a valid phone number", field="phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str) -> str:
    """+8613812345678 → +86138****5678: the middle four digits hidden."""
    if has_permission("customers.contact") or len(phone) < 8:
        return phone
    return phone[:-8] + "****" + phone[-4:]


async def check_region(code: str) -> None:
    if code and not await Region.exists().where(Region.code == code):
        raise ValidationFailed(f"no region with code {code!r}", field="region_code")


async def visible_partner_ids() -> list[int] | None:
    """For a partner user: its partner and every partner below it. ``None``: no limit."""
    scope = current_scope()
    if scope is None or scope.role != "partner":
        return None
    if scope.partner_id is None:
        return []
    found = [scope.partner_id]
    frontier = [scope.partner_id]
    while frontier:
        rows = await Partner.scoped_select(Partner.id).where(Partner.parent_id.is_in(frontier))
        frontier = [r["id"] for r in rows if r["id"] not in found]
        found += frontier
    return found


async def check_partner(partner_id: int | None, field: str = "partner_id") -> None:
    if partner_id is None:
        return
    visible = await visible_partner_ids()
    if visible is not None and partner_id not in visible:
        raise ValidationFailed(f"partner {partner_id} not found", field=field)
    if not await Partner.scoped_count().where(Partner.id == partner_id):
        raise ValidationFailed(f"partner {partner_id} not found", field=field)


async def check_customer(customer_id: int | None, field: str = "customer_id") -> None:
    if customer_id is None:
        return
    try:
        await get_customer_row(customer_id)
    except NotFound as exc:
        raise ValidationFailed(exc.message, field=field) from exc


# ------------------------------------------------------------------------------ customers


class CustomerIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    phone: PhoneText = ""
    email: EmailText = ""
    level: Level = "regular"
    partner_id: RecordId | None = None
    region_code: RegionCode = ""


class CustomerPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    phone: PhoneText | None = None
    email: EmailText | None = None
    level: Level | None = None
    partner_id: RecordId | None = None
    region_code: RegionCode | None = None


class CustomerOut(msgspec.Struct):
    id: int
    name: str
    phone: str
    email: str
    level: str
    partner_id: int | None
    region_code: str
    tags: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime


class CustomerDetail(CustomerOut):
    facts: dict[str, Any] = {}
    derived_tags: list[str] = []


class CustomerPage(msgspec.Struct):
    items: list[CustomerOut]
    total: int
    page: int
    per_page: int


def customer_out(row: dict[str, Any]) -> CustomerOut:
    return CustomerOut(id=row["id"], name=row["name"], phone=mask_phone(row["phone"]),
                       email=row["email"], level=row["level"], partner_id=row["partner_id"],
                       region_code=row["region_code"], tags=list(row["tags"] or []),
                       created_at=row["created_at"], updated_at=row["updated_at"])


def _check_level(level: str | None) -> None:
    if level is not None and level not in CUSTOMER_LEVELS:
        raise ValidationFailed(f"level must be one of {', '.join(CUSTOMER_LEVELS)}",
                               field="level")


async def _customer_filters(q: str | None, level: str | None, partner_id: int | None,
                            region_code: str | None) -> list[Any]:
    where: list[Any] = []
    visible = await visible_partner_ids()
    if visible is not None:
        where.append(Customer.partner_id.is_in(visible or [-1]))
    if q:
        pattern = like_pattern(q)
        matches = Customer.name.ilike(pattern) | Customer.email.ilike(pattern)
        if has_permission("customers.contact"):  # else masked digits could be probed
            matches = matches | Customer.phone.ilike(pattern)
        where.append(matches)
    if level:
        where.append(Customer.level == level)
    if partner_id is not None:
        where.append(Customer.partner_id == partner_id)
    if region_code:
        where.append(Customer.region_code.ilike(f"{region_code.rstrip('0')}%"))
    return where


async def get_customer_row(customer_id: int) -> dict[str, Any]:
    if not 1 <= customer_id <= MAX_RECORD_ID:  # plugins pass ids no route parameter checked
        raise NotFound(f"customer {customer_id} not found")
    where = [Customer.id == customer_id, *await _customer_filters(None, None, None, None)]
    row = await Customer.scoped_select().where(*where).first()
    if row is None:
        raise NotFound(f"customer {customer_id} not found")
    return row


async def customer_facts(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    tenant = request_context(request).tenant
    assert tenant is not None
    facts: dict[str, Any] = {}
    for answer in tenant.hooks.customer_facts(customer=row):
        if inspect.isawaitable(answer):
            answer = await answer
        if answer:
            facts.update(answer)
    return facts


def derived_tags(request: Request, facts: dict[str, Any]) -> list[str]:
    kernel = request.app.state.kernel
    tenant = request_context(request).tenant
    assert tenant is not None
    tags = []
    for slug in sorted(tenant.enabled):
        for rule in kernel.plugins.plugins[slug].contributed("register_tag_rules", []):
            try:
                if rule.matches(facts):
                    tags.append(rule.key)
            except Exception as exc:
                kernel.failures.record(tenant_id=tenant.id, plugin=slug,
                                       hook="register_tag_rules", kind="error",
                                       error=f"{rule.key}: {type(exc).__name__}: {exc}")
    return tags


def _event_payload(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()
            if k != "tenant_id"}


class CustomerController(Controller):
    path = "/api/v1/customers"
    tags = ["customers"]

    @get("/", guards=[requires("customers.read")], summary="List customers")
    async def list_customers(self, q: SearchParam = None, level: str | None = None,
                             partner_id: RecordIdFilter = None,
                             region_code: Annotated[str | None, Parameter(
                                 max_length=12)] = None,
                             sort: SortParam = None, page: PageNumber = 1,
                             per_page: PerPage = 50) -> CustomerPage:
        where = await _customer_filters(q, level, partner_id, region_code)
        query = apply_sort(Customer.scoped_select().where(*where), Customer, sort,
                           ("id", "name", "level", "created_at", "updated_at"), "-created_at")
        rows = await page_slice(query, page, per_page)
        total = await Customer.scoped_count().where(*where)
        return CustomerPage(items=[customer_out(r) for r in rows], total=total, page=page,
                            per_page=per_page)

    @post("/", guards=[requires("customers.write")], summary="Create a customer")
    async def create_customer(self, data: CustomerIn) -> CustomerOut:
        _check_level(data.level)
        await check_region(data.region_code)
        partner_id = data.partner_id
        scope = current_scope()
        if scope is not None and scope.role == "partner" and partner_id is None:
            partner_id = scope.partner_id
        await check_partner(partner_id)
        row = await Customer.scoped_insert(
            name=data.name.strip(), phone=normalize_phone(data.phone), email=data.email,
            level=data.level, partner_id=partner_id, region_code=data.region_code, tags=[])
        await emit("customer.created", _event_payload(row))
        return customer_out(row)

    @get("/{customer_id:int}", guards=[requires("customers.read")],
         summary="One customer, with facts and tags from enabled plugins")
    async def get_customer(self, request: Request, customer_id: RecordIdParam) -> CustomerDetail:
        row = await get_customer_row(customer_id)
        facts = await customer_facts(request, row)
        base = msgspec.structs.asdict(customer_out(row))
        return CustomerDetail(**base, facts=facts, derived_tags=derived_tags(request, facts))

    @patch("/{customer_id:int}", guards=[requires("customers.write")],
           summary="Change a customer")
    async def update_customer(self, customer_id: RecordIdParam, data: CustomerPatch
                              ) -> CustomerOut:
        before = await get_customer_row(customer_id)
        _check_level(data.level)
        changes: dict[Any, Any] = {}
        if data.name is not None:
            changes[Customer.name] = data.name.strip()
        if data.phone is not None:
            changes[Customer.phone] = normalize_phone(data.phone)
        if data.email is not None:
            changes[Customer.email] = data.email
        if data.level is not None:
            changes[Customer.level] = data.level
        if data.region_code is not None:
            await check_region(data.region_code)
            changes[Customer.region_code] = data.region_code
        if data.partner_id is not None:
            await check_partner(data.partner_id)
            changes[Customer.partner_id] = data.partner_id
        if changes:
            changes[Customer.updated_at] = platform().now()
            await Customer.scoped_update(changes).where(Customer.id == customer_id)
        after = await get_customer_row(customer_id)
        if changes:
            await emit("customer.updated", {"before": _event_payload(before),
                                            "after": _event_payload(after)})
        return customer_out(after)

    @delete("/{customer_id:int}", guards=[requires("customers.write")],
            summary="Delete a customer", status_code=HTTP_204_NO_CONTENT)
    async def delete_customer(self, customer_id: RecordIdParam) -> None:
        row = await get_customer_row(customer_id)
        await Customer.scoped_delete().where(Customer.id == customer_id)
        await emit("customer.deleted", _event_payload(row))


# ------------------------------------------------------------------------------ partners


class PartnerIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    kind: str = "dealer"
    level: str = ""
    parent_id: RecordId | None = None
    region_code: RegionCode = ""
    contact_phone: PhoneText = ""


class PartnerPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    kind: str | None = None
    level: str | None = None
    parent_id: RecordId | None = None
    region_code: RegionCode | None = None
    contact_phone: PhoneText | None = None


class PartnerOut(msgspec.Struct):
    id: int
    code: str
    name: str
    kind: str
    level: str
    parent_id: int | None
    region_code: str
    contact_phone: str
    created_at: dt.datetime
    updated_at: dt.datetime


class PartnerPage(msgspec.Struct):
    items: list[PartnerOut]
    total: int
    page: int
    per_page: int


def partner_out(row: dict[str, Any]) -> PartnerOut:
    return PartnerOut(id=row["id"], code=row["code"], name=row["name"], kind=row["kind"],
                      level=row["level"], parent_id=row["parent_id"],
                      region_code=row["region_code"],
                      contact_phone=mask_phone(row["contact_phone"]),
                      created_at=row["created_at"], updated_at=row["updated_at"])


def _check_kind_level(kind: str | None, level: str | None) -> None:
    if kind is not None and kind not in PARTNER_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(PARTNER_KINDS)}", field="kind")
    if level is not None and level not in PARTNER_LEVELS:
        raise ValidationFailed("level must be general_agent (总代), level1 (一级), "
                               "level2 (二级) or empty", field="level")


async def get_partner_row(partner_id: int) -> dict[str, Any]:
    visible = await visible_partner_ids()
    if visible is not None and partner_id not in visible:
        raise NotFound(f"partner {partner_id} not found")
    return await Partner.scoped_get(partner_id, what="partner")


async def _check_parent(partner_id: int | None, parent_id: int | None) -> None:
    if parent_id is None:
        return
    await check_partner(parent_id, field="parent_id")
    ancestor: int | None = parent_id
    while ancestor is not None:
        if ancestor == partner_id:
            raise ValidationFailed("a partner cannot sit under itself or its own descendants",
                                   field="parent_id")
        row = await Partner.scoped_select(Partner.parent_id).where(Partner.id == ancestor
                                                                   ).first()
        ancestor = row["parent_id"] if row else None


class PartnerController(Controller):
    path = "/api/v1/partners"
    tags = ["partners"]

    @get("/", guards=[requires("partners.read")], summary="List partners")
    async def list_partners(self, q: SearchParam = None, kind: str | None = None,
                            level: str | None = None, parent_id: RecordIdFilter = None,
                            sort: SortParam = None, page: PageNumber = 1,
                            per_page: PerPage = 50) -> PartnerPage:
        where: list[Any] = []
        visible = await visible_partner_ids()
        if visible is not None:
            where.append(Partner.id.is_in(visible or [-1]))
        if q:
            where.append(Partner.name.ilike(like_pattern(q)) | Partner.code.ilike(
                like_pattern(q)))
        if kind:
            where.append(Partner.kind == kind)
        if level is not None:
            where.append(Partner.level == level)
        if parent_id is not None:
            where.append(Partner.parent_id == parent_id)
        query = apply_sort(Partner.scoped_select().where(*where), Partner, sort,
                           ("id", "code", "name", "kind", "level", "created_at"), "code")
        rows = await page_slice(query, page, per_page)
        return PartnerPage(items=[partner_out(r) for r in rows],
                           total=await Partner.scoped_count().where(*where), page=page,
                           per_page=per_page)

    @post("/", guards=[requires("partners.write")], summary="Create a partner")
    async def create_partner(self, data: PartnerIn) -> PartnerOut:
        _check_kind_level(data.kind, data.level)
        await check_region(data.region_code)
        await _check_parent(None, data.parent_id)
        if await Partner.scoped_count().where(Partner.code == data.code):
            raise Conflict(f"a partner with code {data.code!r} exists", field="code")
        row = await Partner.scoped_insert(
            code=data.code, name=data.name.strip(), kind=data.kind, level=data.level,
            parent_id=data.parent_id, region_code=data.region_code,
            contact_phone=normalize_phone(data.contact_phone))
        await emit("partner.created", _event_payload(row))
        return partner_out(row)

    @get("/{partner_id:int}", guards=[requires("partners.read")], summary="One partner")
    async def get_partner(self, partner_id: RecordIdParam) -> PartnerOut:
        return partner_out(await get_partner_row(partner_id))

    @patch("/{partner_id:int}", guards=[requires("partners.write")], summary="Change a partner")
    async def update_partner(self, partner_id: RecordIdParam, data: PartnerPatch
                             ) -> PartnerOut:
        before = await get_partner_row(partner_id)
        _check_kind_level(data.kind, data.level)
        changes: dict[Any, Any] = {}
        for name in ("name", "kind", "level"):
            value = getattr(data, name)
            if value is not None:
                changes[getattr(Partner, name)] = value.strip() if name == "name" else value
        if data.region_code is not None:
            await check_region(data.region_code)
            changes[Partner.region_code] = data.region_code
        if data.contact_phone is not None:
            changes[Partner.contact_phone] = normalize_phone(data.contact_phone)
        if data.parent_id is not None:
            await _check_parent(partner_id, data.parent_id)
            changes[Partner.parent_id] = data.parent_id
        if changes:
            changes[Partner.updated_at] = platform().now()
            await Partner.scoped_update(changes).where(Partner.id == partner_id)
            after = await get_partner_row(partner_id)
            await emit("partner.updated", {"before": _event_payload(before),
                                           "after": _event_payload(after)})
        return partner_out(await get_partner_row(partner_id))

    @delete("/{partner_id:int}", guards=[requires("partners.write")],
            summary="Delete a partner without children or customers",
            status_code=HTTP_204_NO_CONTENT)
    async def delete_partner(self, partner_id: RecordIdParam) -> None:
        row = await get_partner_row(partner_id)
        if await Partner.scoped_count().where(Partner.parent_id == partner_id):
            raise Conflict(f"partner {row['code']} still has partners under it")
        if await Customer.scoped_count().where(Customer.partner_id == partner_id):
            raise Conflict(f"partner {row['code']} still has customers; move them first")
        await Partner.scoped_delete().where(Partner.id == partner_id)
        await emit("partner.deleted", _event_payload(row))


# ------------------------------------------------------------------------------ regions


class RegionOut(msgspec.Struct):
    code: str
    name: str
    parent_code: str | None
    level: str


class RegionDetail(RegionOut):
    path: list[RegionOut] = []
    children: list[RegionOut] = []


def region_out(row: dict[str, Any]) -> RegionOut:
    return RegionOut(code=row["code"], name=row["name"], parent_code=row["parent_code"],
                     level=row["level"])


class RegionController(Controller):
    path = "/api/v1/regions"
    tags = ["regions"]
    guards = [requires("regions.read")]

    @get("/", summary="Regions (GB/T 2260): provinces by default, or children of a parent")
    async def list_regions(self, parent: Annotated[str | None, Parameter(
                               pattern=r"^[0-9]{6}$")] = None,
                           level: str | None = None, q: SearchParam = None,
                           limit: Annotated[int, Parameter(ge=1, le=500)] = 100
                           ) -> list[RegionOut]:
        where: list[Any] = []
        if parent:
            where.append(Region.parent_code == parent)
        elif not q and not level:
            where.append(Region.level == "province")
        if level:
            where.append(Region.level == level)
        if q:
            where.append(Region.name.ilike(like_pattern(q)))
        rows = await Region.select().where(*where).order_by(Region.code).limit(limit)
        return [region_out(r) for r in rows]

    @get("/{code:str}", summary="One region with its path and children")
    async def get_region(self, code: str) -> RegionDetail:
        row = await Region.select().where(Region.code == code).first()
        if row is None:
            raise NotFound(f"no region with code {code!r}")
        children = await Region.select().where(Region.parent_code == code
                                                ).order_by(Region.code)
        return RegionDetail(**msgspec.structs.asdict(region_out(row)),
                            path=[region_out(r) for r in await region_path(code)],
                            children=[region_out(r) for r in children])


ROUTES = document_errors([CustomerController, PartnerController, RegionController])
