"""Shared entities: customers, partners (dealers, stores, installers …) and the region tree.

The API (``jimu.api.directory``), the admin pages (``jimu.pages.directory``) and plugins (through
``jimu_sdk.context.platform()``) all go through these functions, so the rules live once.

A partner user (经销商/门店/安装商) sees only its own organisation and the ones under it, and
only their customers. Phone numbers are masked for whoever lacks ``customers.contact``.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import phonenumbers
from jimu_sdk.context import current_scope, emit, has_permission, platform
from jimu_sdk.errors import Conflict, NotFound, ValidationFailed
from jimu_sdk.params import MAX_RECORD_ID, RecordId

from jimu.db.tables import Customer, Partner, Region
from jimu.i18n import N_
from jimu.regions import region_chain
from jimu.web.listing import apply_sort, like_pattern, page_slice

# Pricing keeps the partner and customer rows it reads in memory per revision of these
# (jimu.services.pricing): every write below moves them on.
PARTNER_FACTS_CACHE = "core.partners"
CUSTOMER_FACTS_CACHE = "core.customers"

if TYPE_CHECKING:
    from jimu.kernel import Kernel, TenantState

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,63}$")]
PhoneText = Annotated[str, msgspec.Meta(max_length=32)]
EmailText = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+$")]
RegionCode = Annotated[str, msgspec.Meta(pattern=r"^$|^[0-9]{6}$")]
Level = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]

CUSTOMER_LEVELS = ("regular", "silver", "gold", "platinum")
CUSTOMER_LEVEL_TITLES = {"regular": N_("Regular"), "silver": N_("Silver"), "gold": N_("Gold"),
                         "platinum": N_("Platinum")}
PARTNER_KINDS = ("dealer", "store", "installer", "service_provider", "agent")
PARTNER_KIND_TITLES = {"dealer": N_("Dealer"), "store": N_("Store"),
                       "installer": N_("Installer"),
                       "service_provider": N_("Service provider"), "agent": N_("Agent")}
PARTNER_LEVELS = ("", "general_agent", "level1", "level2")
"""总代 general_agent, 一级 level1, 二级 level2 (empty: no level)."""
PARTNER_LEVEL_TITLES = {"": N_("No level"), "general_agent": N_("General agent"),
                        "level1": N_("Level 1"), "level2": N_("Level 2")}
REGION_LEVEL_TITLES = {"province": N_("Province"), "city": N_("City"),
                       "district": N_("District")}

CUSTOMER_SORTS = ("id", "name", "level", "created_at", "updated_at")
PARTNER_SORTS = ("id", "code", "name", "kind", "level", "created_at")


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


# ------------------------------------------------------------------------------ checks


def normalize_phone(phone: str, field: str = "phone") -> str:
    if not phone:
        return ""
    try:
        parsed = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(N_("%(phone)s is not a phone number"), field=field,
                               params={"phone": phone}) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed(N_("%(phone)s is not a valid phone number"), field=field,
                               params={"phone": phone})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str) -> str:
    """+8613812345678 → +86138****5678: the middle four digits hidden."""
    if has_permission("customers.contact") or len(phone) < 8:
        return phone
    return phone[:-8] + "****" + phone[-4:]


async def check_region(code: str) -> None:
    if code and not await Region.exists().where(Region.code == code):
        raise ValidationFailed(N_("there is no region with code %(code)s"),
                               field="region_code", params={"code": code})


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
    if (visible is not None and partner_id not in visible) or not (
            await Partner.scoped_count().where(Partner.id == partner_id)):
        raise ValidationFailed(N_("partner %(id)s not found"), field=field,
                               params={"id": partner_id})


async def check_customer(customer_id: int | None, field: str = "customer_id") -> None:
    if customer_id is None:
        return
    try:
        await get_customer_row(customer_id)
    except NotFound as exc:
        raise ValidationFailed(exc.message_id, field=field, params=exc.params) from exc


def event_payload(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()
            if k != "tenant_id"}


def _one_of(value: str | None, allowed: Sequence[str], field: str) -> None:
    if value is not None and value not in allowed:
        raise ValidationFailed(N_("choose one of: %(choices)s"), field=field,
                               params={"choices": ", ".join(a or "-" for a in allowed)})


# ------------------------------------------------------------------------------ customers


async def customer_filters(q: str | None, level: str | None, partner_id: int | None,
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


async def list_customers(*, q: str | None = None, level: str | None = None,
                         partner_id: int | None = None, region_code: str | None = None,
                         sort: str | None = None, page: int = 1, per_page: int = 50
                         ) -> tuple[list[dict[str, Any]], int]:
    """One page of the customers this user may see, and how many there are in all."""
    where = await customer_filters(q, level, partner_id, region_code)
    query = apply_sort(Customer.scoped_select().where(*where), Customer, sort,
                       CUSTOMER_SORTS, "-created_at")
    rows = await page_slice(query, page, per_page)
    return rows, await Customer.scoped_count().where(*where)


async def get_customer_row(customer_id: int) -> dict[str, Any]:
    if not 1 <= customer_id <= MAX_RECORD_ID:  # plugins pass ids no route parameter checked
        raise NotFound(N_("customer %(id)s not found"), params={"id": customer_id})
    where = [Customer.id == customer_id, *await customer_filters(None, None, None, None)]
    row = await Customer.scoped_select().where(*where).first()
    if row is None:
        raise NotFound(N_("customer %(id)s not found"), params={"id": customer_id})
    return row


async def customer_facts(tenant: TenantState, row: dict[str, Any]) -> dict[str, Any]:
    """What the tenant's enabled plugins know about a customer (``customer_facts`` hook)."""
    facts: dict[str, Any] = {}
    for answer in tenant.hooks.customer_facts(customer=row):
        if inspect.isawaitable(answer):
            answer = await answer
        if answer:
            facts.update(answer)
    return facts


def derived_tags(kernel: Kernel, tenant: TenantState, facts: dict[str, Any]) -> list[str]:
    """Keys of the enabled plugins' tag rules that match ``facts``; a failing rule is
    recorded against its plugin and skipped."""
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


async def create_customer(data: CustomerIn) -> dict[str, Any]:
    _one_of(data.level, CUSTOMER_LEVELS, "level")
    await check_region(data.region_code)
    partner_id = data.partner_id
    scope = current_scope()
    if scope is not None and scope.role == "partner" and partner_id is None:
        partner_id = scope.partner_id
    await check_partner(partner_id)
    row = await Customer.scoped_insert(
        name=data.name.strip(), phone=normalize_phone(data.phone), email=data.email,
        level=data.level, partner_id=partner_id, region_code=data.region_code, tags=[])
    await emit("customer.created", event_payload(row))
    return row


async def update_customer(customer_id: int, data: CustomerPatch) -> dict[str, Any]:
    before = await get_customer_row(customer_id)
    _one_of(data.level, CUSTOMER_LEVELS, "level")
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
    # A masked phone sent back unchanged (the form shows it masked) is not a change.
    if Customer.phone in changes and data.phone == mask_phone(before["phone"]):
        del changes[Customer.phone]
    changed = {column: value for column, value in changes.items()
               if before[column._meta.name] != value}
    if not changed:
        return before
    changed[Customer.updated_at] = platform().now()
    await Customer.scoped_update(changed).where(Customer.id == customer_id)
    await platform().invalidate(CUSTOMER_FACTS_CACHE)
    after = await get_customer_row(customer_id)
    await emit("customer.updated", {"before": event_payload(before),
                                    "after": event_payload(after)})
    return after


async def delete_customer(customer_id: int) -> None:
    row = await get_customer_row(customer_id)
    await Customer.scoped_delete().where(Customer.id == customer_id)
    await platform().invalidate(CUSTOMER_FACTS_CACHE)
    await emit("customer.deleted", event_payload(row))


# ------------------------------------------------------------------------------ partners


async def list_partners(*, q: str | None = None, kind: str | None = None,
                        level: str | None = None, parent_id: int | None = None,
                        sort: str | None = None, page: int = 1, per_page: int = 50
                        ) -> tuple[list[dict[str, Any]], int]:
    where: list[Any] = []
    visible = await visible_partner_ids()
    if visible is not None:
        where.append(Partner.id.is_in(visible or [-1]))
    if q:
        where.append(Partner.name.ilike(like_pattern(q)) | Partner.code.ilike(like_pattern(q)))
    if kind:
        where.append(Partner.kind == kind)
    if level is not None:
        where.append(Partner.level == level)
    if parent_id is not None:
        where.append(Partner.parent_id == parent_id)
    query = apply_sort(Partner.scoped_select().where(*where), Partner, sort, PARTNER_SORTS,
                       "code")
    rows = await page_slice(query, page, per_page)
    return rows, await Partner.scoped_count().where(*where)


async def partner_choices() -> list[dict[str, Any]]:
    """Every partner this user may see (id, code, name, parent_id), for pickers."""
    where: list[Any] = []
    visible = await visible_partner_ids()
    if visible is not None:
        where.append(Partner.id.is_in(visible or [-1]))
    return await Partner.scoped_select(Partner.id, Partner.code, Partner.name,
                                       Partner.parent_id).where(*where).order_by(Partner.code)


async def get_partner_row(partner_id: int) -> dict[str, Any]:
    visible = await visible_partner_ids()
    if visible is not None and partner_id not in visible:
        raise NotFound(N_("partner %(id)s not found"), params={"id": partner_id})
    return await Partner.scoped_get(partner_id, what="partner")


async def _check_parent(partner_id: int | None, parent_id: int | None) -> None:
    if parent_id is None:
        return
    await check_partner(parent_id, field="parent_id")
    ancestor: int | None = parent_id
    while ancestor is not None:
        if ancestor == partner_id:
            raise ValidationFailed(N_("a partner cannot sit under itself or its own "
                                      "descendants"), field="parent_id")
        row = await Partner.scoped_select(Partner.parent_id).where(Partner.id == ancestor
                                                                   ).first()
        ancestor = row["parent_id"] if row else None


async def create_partner(data: PartnerIn) -> dict[str, Any]:
    _one_of(data.kind, PARTNER_KINDS, "kind")
    _one_of(data.level, PARTNER_LEVELS, "level")
    await check_region(data.region_code)
    await _check_parent(None, data.parent_id)
    if await Partner.scoped_count().where(Partner.code == data.code):
        raise Conflict(N_("a partner with code %(code)s exists"), field="code",
                       params={"code": data.code})
    row = await Partner.scoped_insert(
        code=data.code, name=data.name.strip(), kind=data.kind, level=data.level,
        parent_id=data.parent_id, region_code=data.region_code,
        contact_phone=normalize_phone(data.contact_phone, "contact_phone"))
    await platform().invalidate(PARTNER_FACTS_CACHE)
    await emit("partner.created", event_payload(row))
    return row


async def update_partner(partner_id: int, data: PartnerPatch) -> dict[str, Any]:
    before = await get_partner_row(partner_id)
    _one_of(data.kind, PARTNER_KINDS, "kind")
    _one_of(data.level, PARTNER_LEVELS, "level")
    changes: dict[Any, Any] = {}
    for name in ("name", "kind", "level"):
        value = getattr(data, name)
        if value is not None:
            changes[getattr(Partner, name)] = value.strip() if name == "name" else value
    if data.region_code is not None:
        await check_region(data.region_code)
        changes[Partner.region_code] = data.region_code
    if data.contact_phone is not None and data.contact_phone != mask_phone(
            before["contact_phone"]):
        changes[Partner.contact_phone] = normalize_phone(data.contact_phone, "contact_phone")
    if data.parent_id is not None:
        await _check_parent(partner_id, data.parent_id)
        changes[Partner.parent_id] = data.parent_id
    changed = {column: value for column, value in changes.items()
               if before[column._meta.name] != value}
    if not changed:
        return before
    changed[Partner.updated_at] = platform().now()
    await Partner.scoped_update(changed).where(Partner.id == partner_id)
    await platform().invalidate(PARTNER_FACTS_CACHE)
    after = await get_partner_row(partner_id)
    await emit("partner.updated", {"before": event_payload(before),
                                   "after": event_payload(after)})
    return after


async def delete_partner(partner_id: int) -> None:
    row = await get_partner_row(partner_id)
    if await Partner.scoped_count().where(Partner.parent_id == partner_id):
        raise Conflict(N_("partner %(code)s still has partners under it"),
                       params={"code": row["code"]})
    if await Customer.scoped_count().where(Customer.partner_id == partner_id):
        raise Conflict(N_("partner %(code)s still has customers; move them first"),
                       params={"code": row["code"]})
    await Partner.scoped_delete().where(Partner.id == partner_id)
    await platform().invalidate(PARTNER_FACTS_CACHE)
    await emit("partner.deleted", event_payload(row))


# ------------------------------------------------------------------------------ regions


async def list_regions(*, parent: str | None = None, level: str | None = None,
                       q: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Provinces by default; the children of ``parent``; or those matching ``q``/``level``."""
    where: list[Any] = []
    if parent:
        where.append(Region.parent_code == parent)
    elif not q and not level:
        where.append(Region.level == "province")
    if level:
        where.append(Region.level == level)
    if q:
        where.append(Region.name.ilike(like_pattern(q)))
    return await Region.select().where(*where).order_by(Region.code).limit(limit)


async def get_region(code: str) -> tuple[dict[str, Any], list[dict[str, Any]],
                                         list[dict[str, Any]]]:
    """A region, the path from its province down to it, and its children."""
    row = await Region.select().where(Region.code == code).first()
    if row is None:
        raise NotFound(N_("there is no region with code %(code)s"), params={"code": code})
    children = await Region.select().where(Region.parent_code == code).order_by(Region.code)
    return row, region_chain(code), children


async def region_names(codes: Sequence[str]) -> dict[str, str]:
    """``{code: name}`` for the given codes (unknown ones left out)."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    rows = await Region.select(Region.code, Region.name).where(Region.code.is_in(wanted))
    return {r["code"]: r["name"] for r in rows}
