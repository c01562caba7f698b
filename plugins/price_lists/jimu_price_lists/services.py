"""The rules of the price lists plugin: items, price lists, price rules, their save-time
conflicts, the pricing snapshot, and CSV/XLSX import. No HTTP here."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec
from jimu_sdk import N_, NotFound, ValidationFailed, platform
from jimu_sdk.errors import Conflict

from jimu_price_lists import engine
from jimu_price_lists.schemas import (
    ItemIn,
    ItemOut,
    PriceListIn,
    PriceListOut,
    RuleIn,
    RuleOut,
)
from jimu_price_lists.tables import Item, PriceList, PriceListEntry, PriceRule

CACHE = "price_lists.snapshot"
ZONE_CODE = re.compile(r"^[A-Z][A-Z0-9_-]{0,31}$")
DISTRICT_CODE = re.compile(r"^\d{6}$")


def _now() -> dt.datetime:
    return platform().now()


def _plain(value: Any) -> Any:
    return msgspec.to_builtins(value)


# ----------------------------------------------------------------------------- items


def item_out(row: Mapping[str, Any]) -> ItemOut:
    return ItemOut(**{k: row[k] for k in ItemOut.__struct_fields__})


def _like(text: str) -> str:
    return "%" + text.replace("%", "").replace("_", "").strip() + "%"


async def list_items(*, q: str = "", category: str = "", kind: str = "",
                     active: bool | None = None, page: int = 1, per_page: int = 50
                     ) -> tuple[list[dict[str, Any]], int]:
    query = Item.scoped_select()
    count = Item.scoped_count()
    conditions: list[Any] = []
    if q.strip():
        conditions.append(Item.sku.ilike(_like(q)) | Item.name.ilike(_like(q)))
    if category:
        conditions.append(Item.category == category)
    if kind:
        conditions.append(Item.kind == kind)
    if active is not None:
        conditions.append(Item.active == active)
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(Item.sku).limit(per_page).offset((page - 1) * per_page)
    return rows, await count


async def categories() -> list[str]:
    rows = await Item.scoped_select(Item.category).distinct().order_by(Item.category)
    return [r["category"] for r in rows if r["category"]]


async def get_item_row(item_id: int) -> dict[str, Any]:
    return await Item.scoped_get(item_id, what="item")


async def item_by_sku(sku: str) -> dict[str, Any] | None:
    return await Item.scoped_select().where(Item.sku == sku).first()


async def _item_taken(sku: str, except_id: int | None = None) -> None:
    row = await item_by_sku(sku)
    if row is not None and row["id"] != except_id:
        raise ValidationFailed(N_("an item with SKU %(sku)s already exists"), field="sku",
                               params={"sku": sku})


MAX_AMOUNT = Decimal("99999999999999")


def check_amount(field: str, value: Decimal | None, *, upper: Decimal = MAX_AMOUNT) -> None:
    if value is not None and not (value.is_finite() and 0 <= value <= upper):
        raise ValidationFailed(N_("%(field)s must be between 0 and %(max)s"), field=field,
                               params={"field": field, "max": upper})


def check_item(data: ItemIn) -> None:
    check_amount("list_price", data.list_price)
    check_amount("cost", data.cost)
    check_amount("tax_rate", data.tax_rate, upper=Decimal(1))


async def create_item(data: ItemIn) -> dict[str, Any]:
    check_item(data)
    await _item_taken(data.sku)
    values = msgspec.structs.asdict(data)
    row = await Item.scoped_insert(**values, created_at=_now(), updated_at=_now())
    await platform().audit("price_lists.item.create", f"item:{data.sku}", None, _plain(data))
    await platform().invalidate(CACHE)
    return await get_item_row(row["id"])


async def update_item(item_id: int, data: ItemIn) -> dict[str, Any]:
    check_item(data)
    before = await get_item_row(item_id)
    if data.sku != before["sku"]:
        await _item_taken(data.sku, item_id)
        users = await _rules_using_sku(before["sku"])
        if users:
            raise ValidationFailed(N_("the SKU cannot change while rules %(rules)s use it"),
                                   field="sku", params={"rules": ", ".join(users)})
        await PriceListEntry.scoped_update({PriceListEntry.sku: data.sku}).where(
            PriceListEntry.sku == before["sku"])
    await Item.scoped_update({**{getattr(Item, k): v for k, v in
                                 msgspec.structs.asdict(data).items()},
                              Item.updated_at: _now()}).where(Item.id == item_id)
    await platform().audit("price_lists.item.update", f"item:{data.sku}",
                           _plain(item_out(before)), _plain(data))
    await platform().invalidate(CACHE)
    return await get_item_row(item_id)


async def _rules_using_sku(sku: str) -> list[str]:
    rows = await PriceRule.scoped_select(PriceRule.code).where(
        (PriceRule.scope == "item") & (PriceRule.sku == sku)).order_by(PriceRule.code)
    return [r["code"] for r in rows]


async def delete_item(item_id: int) -> None:
    before = await get_item_row(item_id)
    users = await _rules_using_sku(before["sku"])
    if users:
        raise Conflict(N_("item %(sku)s is used by rules %(rules)s; delete or change them "
                          "first (or mark the item inactive)"),
                       field="sku", params={"sku": before["sku"], "rules": ", ".join(users)})
    await PriceListEntry.scoped_delete().where(PriceListEntry.sku == before["sku"])
    await Item.scoped_delete().where(Item.id == item_id)
    await platform().audit("price_lists.item.delete", f"item:{before['sku']}",
                           _plain(item_out(before)), None)
    await platform().invalidate(CACHE)


# ----------------------------------------------------------------------------- price lists


async def list_price_lists() -> list[PriceListOut]:
    rows = await PriceList.scoped_select().order_by(PriceList.code)
    counts: dict[int, int] = {}
    for entry in await PriceListEntry.scoped_select(PriceListEntry.list_id):
        counts[entry["list_id"]] = counts.get(entry["list_id"], 0) + 1
    return [PriceListOut(id=r["id"], code=r["code"], name=r["name"], currency=r["currency"],
                         entries=counts.get(r["id"], 0)) for r in rows]


async def get_price_list(list_id: int) -> dict[str, Any]:
    return await PriceList.scoped_get(list_id, what="price list")


async def price_list_by_code(code: str) -> dict[str, Any] | None:
    return await PriceList.scoped_select().where(PriceList.code == code).first()


async def create_price_list(data: PriceListIn) -> dict[str, Any]:
    if await price_list_by_code(data.code) is not None:
        raise ValidationFailed(N_("a price list with code %(code)s already exists"),
                               field="code", params={"code": data.code})
    row = await PriceList.scoped_insert(**msgspec.structs.asdict(data))
    await platform().audit("price_lists.list.create", f"price_list:{data.code}", None,
                           _plain(data))
    await platform().invalidate(CACHE)
    return row


async def update_price_list(list_id: int, data: PriceListIn) -> dict[str, Any]:
    before = await get_price_list(list_id)
    if data.code != before["code"]:
        other = await price_list_by_code(data.code)
        if other is not None:
            raise ValidationFailed(N_("a price list with code %(code)s already exists"),
                                   field="code", params={"code": data.code})
        users = await PriceRule.scoped_select(PriceRule.code).where(
            PriceRule.price_list == before["code"])
        if users:
            raise ValidationFailed(N_("the code cannot change while rules %(rules)s use it"),
                                   field="code",
                                   params={"rules": ", ".join(sorted(r["code"] for r in users))})
    await PriceList.scoped_update({PriceList.code: data.code, PriceList.name: data.name,
                                   PriceList.currency: data.currency}).where(
        PriceList.id == list_id)
    await platform().audit("price_lists.list.update", f"price_list:{data.code}",
                           {k: before[k] for k in ("code", "name", "currency")}, _plain(data))
    await platform().invalidate(CACHE)
    return await get_price_list(list_id)


async def delete_price_list(list_id: int) -> None:
    before = await get_price_list(list_id)
    users = await PriceRule.scoped_select(PriceRule.code).where(
        PriceRule.price_list == before["code"])
    if users:
        raise Conflict(N_("price list %(code)s is the base of rules %(rules)s"), field="code",
                       params={"code": before["code"],
                               "rules": ", ".join(sorted(r["code"] for r in users))})
    await PriceListEntry.scoped_delete().where(PriceListEntry.list_id == list_id)
    await PriceList.scoped_delete().where(PriceList.id == list_id)
    await platform().audit("price_lists.list.delete", f"price_list:{before['code']}",
                           {k: before[k] for k in ("code", "name", "currency")}, None)
    await platform().invalidate(CACHE)


async def list_entries(list_id: int) -> list[dict[str, Any]]:
    await get_price_list(list_id)
    return await PriceListEntry.scoped_select().where(
        PriceListEntry.list_id == list_id).order_by(PriceListEntry.sku)


async def set_entry(list_id: int, sku: str, price: Decimal) -> dict[str, Any]:
    plist = await get_price_list(list_id)
    check_amount("price", price)
    if await item_by_sku(sku) is None:
        raise ValidationFailed(N_("unknown item %(sku)s"), field="sku", params={"sku": sku})
    existing = await PriceListEntry.scoped_select().where(
        (PriceListEntry.list_id == list_id) & (PriceListEntry.sku == sku)).first()
    if existing is None:
        await PriceListEntry.scoped_insert(list_id=list_id, sku=sku, price=price)
    else:
        await PriceListEntry.scoped_update({PriceListEntry.price: price}).where(
            PriceListEntry.id == existing["id"])
    await platform().audit("price_lists.entry.set", f"price_list:{plist['code']}:{sku}",
                           str(existing["price"]) if existing else None, str(price))
    await platform().invalidate(CACHE)
    row = await PriceListEntry.scoped_select().where(
        (PriceListEntry.list_id == list_id) & (PriceListEntry.sku == sku)).first()
    assert row is not None
    return row


async def delete_entry(list_id: int, sku: str) -> None:
    plist = await get_price_list(list_id)
    existing = await PriceListEntry.scoped_select().where(
        (PriceListEntry.list_id == list_id) & (PriceListEntry.sku == sku)).first()
    if existing is None:
        raise NotFound(f"price list {plist['code']} has no entry for {sku}")
    await PriceListEntry.scoped_delete().where(PriceListEntry.id == existing["id"])
    await platform().audit("price_lists.entry.delete", f"price_list:{plist['code']}:{sku}",
                           str(existing["price"]), None)
    await platform().invalidate(CACHE)


# ----------------------------------------------------------------------------- rules


RULE_FIELDS = [f for f in RuleIn.__struct_fields__]


def rule_out(row: Mapping[str, Any]) -> RuleOut:
    values = {k: row[k] for k in RULE_FIELDS}
    for key in ("regions", "partner_levels", "partner_tiers", "customer_levels", "channels",
                "breaks"):
        values[key] = values[key] or []
    return msgspec.convert({**values, "id": row["id"]}, RuleOut, strict=False)


def region_depth(code: str) -> int:
    """Depth of a national region code (province 1, city 2, district 3); 0 for zones."""
    if DISTRICT_CODE.match(code):
        return len(platform().region_path(code))
    return 0


def engine_rule(data: RuleIn | RuleOut, depths: Mapping[str, int] | None = None) -> engine.Rule:
    depth_of = depths if depths is not None else {c: region_depth(c) for c in data.regions}
    breaks = tuple(sorted((engine.Break(b.min_qty, b.max_qty, b.value) for b in data.breaks),
                          key=lambda b: b.min_qty))
    return engine.Rule(
        code=data.code, scope=data.scope, kind=data.kind,
        sku=data.sku if data.scope == "item" else "",
        category=data.category if data.scope == "category" else "",
        value=data.value, breaks=breaks, base=data.base, price_list=data.price_list,
        surcharge=data.surcharge, rounding_step=data.rounding_step,
        min_margin=data.min_margin, max_margin=data.max_margin,
        valid_from=data.valid_from, valid_to=data.valid_to,
        regions=tuple(data.regions), partner_levels=tuple(data.partner_levels),
        partner_tiers=tuple(data.partner_tiers), customer_levels=tuple(data.customer_levels),
        channels=tuple(data.channels), priority=data.priority,
    ).finish(depth_of)


def _fail(errors: list[dict[str, str]]) -> None:
    if errors:
        first = errors[0]
        raise ValidationFailed(first["message"], errors=errors, field=first["field"])


def check_rule_shape(data: RuleIn) -> list[dict[str, str]]:
    """Errors in the rule itself (no database): values, breaks, margins, dates, codes."""
    errors: list[dict[str, str]] = []

    def add(field: str, message: str, **params: Any) -> None:
        errors.append({"field": field, "message": message % params if params else message})

    if data.scope == "item" and not data.sku:
        add("sku", "an item rule needs a SKU")
    if data.scope == "category" and not data.category:
        add("category", "a category rule needs a category")
    if data.kind == "formula" and data.base == "price_list" and not data.price_list:
        add("price_list", "a formula on a price list needs the price list code")
    values: list[tuple[str, Decimal | None]] = [("value", data.value)]
    values += [(f"breaks[{i}].value", b.value) for i, b in enumerate(data.breaks)]
    if data.kind == "fixed" and not data.breaks and data.value is None:
        add("value", "a fixed rule needs a unit price (value) or quantity breaks")
    if data.kind == "discount" and not data.breaks and data.value is None:
        add("value", "a discount rule needs a percent (value) or quantity breaks")
    for field, value in values:
        if value is None:
            continue
        if not value.is_finite():
            add(field, "must be a number")
        elif data.kind == "fixed" and not 0 <= value <= MAX_AMOUNT:
            add(field, "a price must be between 0 and %(max)s (%(value)s)", value=value,
                max=MAX_AMOUNT)
        elif data.kind in ("discount", "formula") and not 0 <= value <= 100:
            add(field, "a discount must be between 0 and 100 percent (%(value)s)", value=value)
    for field, margin in (("min_margin", data.min_margin), ("max_margin", data.max_margin)):
        if margin is not None:
            if data.kind != "formula":
                add(field, "margins apply to formula rules only")
            elif not (margin.is_finite() and 0 <= margin < 100):
                add(field, "a margin is a percent from 0 up to (not including) 100")
    if (data.min_margin is not None and data.max_margin is not None
            and data.min_margin.is_finite() and data.max_margin.is_finite()
            and data.min_margin > data.max_margin):
        add("min_margin", "rule %(code)s: minimum margin %(min)s%% exceeds maximum margin "
            "%(max)s%%", code=data.code, min=data.min_margin, max=data.max_margin)
    if data.surcharge is not None and data.kind != "formula":
        add("surcharge", "a surcharge applies to formula rules only")
    elif data.surcharge is not None and not (data.surcharge.is_finite()
                                             and abs(data.surcharge) <= MAX_AMOUNT):
        add("surcharge", "the surcharge must be a number no larger than %(max)s",
            max=MAX_AMOUNT)
    if data.rounding_step is not None and data.kind != "formula":
        add("rounding_step", "a rounding step applies to formula rules only")
    if data.valid_from and data.valid_to and data.valid_to < data.valid_from:
        add("valid_to", "valid_to is before valid_from")
    if data.rounding_step is not None and not (data.rounding_step.is_finite()
                                               and 0 < data.rounding_step <= MAX_AMOUNT):
        add("rounding_step", "the rounding step must be greater than zero")
    for i, brk in enumerate(data.breaks):
        if not brk.min_qty.is_finite() or brk.min_qty < 0:
            add(f"breaks[{i}].min_qty", "min_qty must be zero or more")
        elif brk.max_qty is not None and (not brk.max_qty.is_finite()
                                          or brk.max_qty <= brk.min_qty):
            add(f"breaks[{i}].max_qty", "max_qty must be greater than min_qty")
    if not errors:
        ordered = sorted(range(len(data.breaks)), key=lambda i: data.breaks[i].min_qty)
        rule_breaks = [engine.Break(data.breaks[i].min_qty, data.breaks[i].max_qty,
                                    data.breaks[i].value) for i in ordered]
        for a, b in engine.overlapping_breaks(rule_breaks):
            add("breaks", "rule %(code)s: quantity breaks %(a)s and %(b)s overlap",
                code=data.code, a=_range_text(rule_breaks[a]), b=_range_text(rule_breaks[b]))
    for i, code in enumerate(data.regions):
        if DISTRICT_CODE.match(code):
            if not platform().region_path(code):
                add(f"regions[{i}]", "%(code)s is not a known region code", code=code)
        elif not ZONE_CODE.match(code):
            add(f"regions[{i}]", "%(code)s is neither a six-digit region code nor a zone code "
                "(capital letters, digits, _ and -)", code=code)
    for i, level in enumerate(data.partner_levels):
        if level not in ("general_agent", "level1", "level2"):
            add(f"partner_levels[{i}]", "unknown partner level %(level)s (general_agent, "
                "level1 or level2)", level=level)
    return errors


def _range_text(brk: engine.Break) -> str:
    hi = "∞" if brk.max_qty is None else engine._fmt(brk.max_qty)
    return f"[{engine._fmt(brk.min_qty)}, {hi})"


async def _rows_to_rules(rows: Sequence[Mapping[str, Any]]) -> list[engine.Rule]:
    return [engine_rule(rule_out(r)) for r in rows]


async def check_rule_references(data: RuleIn) -> list[dict[str, str]]:
    errors = []
    if data.scope == "item" and data.sku and await item_by_sku(data.sku) is None:
        errors.append({"field": "sku", "message": f"unknown item {data.sku}"})
    if (data.kind == "formula" and data.base == "price_list" and data.price_list
            and await price_list_by_code(data.price_list) is None):
        errors.append({"field": "price_list",
                       "message": f"unknown price list {data.price_list}"})
    return errors


def conflicts_with(candidate: engine.Rule, others: Sequence[engine.Rule]) -> list[str]:
    return sorted(o.code for o in others if engine.competes(candidate, o))


def conflict_error(code: str, others: Sequence[str]) -> dict[str, str]:
    return {"field": "priority",
            "message": (f"rule {code} conflicts with {', '.join(others)}: same scope and "
                        "conditions, equal priority and valid_from, overlapping validity and "
                        "quantities — change the priority, dates, breaks or conditions")}


async def _same_scope_rules(data: RuleIn, except_id: int | None) -> list[engine.Rule]:
    query = PriceRule.scoped_select().where(
        (PriceRule.scope == data.scope) & (PriceRule.enabled == True))  # noqa: E712
    if data.scope == "item":
        query = query.where(PriceRule.sku == data.sku)
    elif data.scope == "category":
        query = query.where(PriceRule.category == data.category)
    rows = [r for r in await query if r["id"] != except_id]
    return await _rows_to_rules(rows)


async def validate_rule(data: RuleIn, except_id: int | None = None) -> None:
    errors = check_rule_shape(data)
    errors += await check_rule_references(data)
    _fail(errors)
    if data.enabled:
        others = conflicts_with(engine_rule(data), await _same_scope_rules(data, except_id))
        if others:
            _fail([conflict_error(data.code, others)])


def _normalise(data: RuleIn) -> RuleIn:
    breaks = sorted(data.breaks, key=lambda b: b.min_qty)
    return msgspec.structs.replace(
        data, sku=data.sku if data.scope == "item" else "",
        category=data.category if data.scope == "category" else "", breaks=breaks)


def _rule_values(data: RuleIn) -> dict[str, Any]:
    values = msgspec.structs.asdict(data)
    values["breaks"] = [msgspec.to_builtins(b) for b in data.breaks]
    return values


async def list_rules(*, sku: str = "", q: str = "", page: int = 1, per_page: int = 50
                     ) -> tuple[list[dict[str, Any]], int]:
    query = PriceRule.scoped_select()
    count = PriceRule.scoped_count()
    conditions: list[Any] = []
    if sku:
        item = await item_by_sku(sku)
        category = item["category"] if item else None
        condition = ((PriceRule.scope == "item") & (PriceRule.sku == sku)) | (
            PriceRule.scope == "all")
        if category:
            condition = condition | ((PriceRule.scope == "category")
                                     & (PriceRule.category == category))
        conditions.append(condition)
    if q.strip():
        conditions.append(PriceRule.code.ilike(_like(q)) | PriceRule.name.ilike(_like(q)))
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(PriceRule.code).limit(per_page).offset((page - 1) * per_page)
    return rows, await count


async def get_rule_row(rule_id: int) -> dict[str, Any]:
    return await PriceRule.scoped_get(rule_id, what="price rule")


async def rule_by_code(code: str) -> dict[str, Any] | None:
    return await PriceRule.scoped_select().where(PriceRule.code == code).first()


async def create_rule(data: RuleIn) -> dict[str, Any]:
    data = _normalise(data)
    if await rule_by_code(data.code) is not None:
        raise ValidationFailed(N_("a rule with code %(code)s already exists"), field="code",
                               params={"code": data.code})
    await validate_rule(data)
    row = await PriceRule.scoped_insert(**_rule_values(data), created_at=_now(),
                                        updated_at=_now())
    await platform().audit("price_lists.rule.create", f"rule:{data.code}", None, _plain(data))
    await platform().invalidate(CACHE)
    return await get_rule_row(row["id"])


async def update_rule(rule_id: int, data: RuleIn) -> dict[str, Any]:
    data = _normalise(data)
    before = await get_rule_row(rule_id)
    if data.code != before["code"]:
        other = await rule_by_code(data.code)
        if other is not None:
            raise ValidationFailed(N_("a rule with code %(code)s already exists"),
                                   field="code", params={"code": data.code})
    await validate_rule(data, except_id=rule_id)
    await PriceRule.scoped_update({**{getattr(PriceRule, k): v
                                      for k, v in _rule_values(data).items()},
                                   PriceRule.updated_at: _now()}).where(PriceRule.id == rule_id)
    await platform().audit("price_lists.rule.update", f"rule:{data.code}",
                           _plain(rule_out(before)), _plain(data))
    await platform().invalidate(CACHE)
    return await get_rule_row(rule_id)


async def delete_rule(rule_id: int) -> None:
    before = await get_rule_row(rule_id)
    await PriceRule.scoped_delete().where(PriceRule.id == rule_id)
    await platform().audit("price_lists.rule.delete", f"rule:{before['code']}",
                           _plain(rule_out(before)), None)
    await platform().invalidate(CACHE)


# ----------------------------------------------------------------------------- snapshot


def engine_item(r: Mapping[str, Any]) -> engine.ItemInfo:
    return engine.ItemInfo(
        sku=r["sku"], name=r["name"], unit=r["unit"], kind=r["kind"],
        category=r["category"], list_price=Decimal(r["list_price"]),
        cost=None if r["cost"] is None else Decimal(r["cost"]), currency=r["currency"],
        tax_rate=Decimal(r["tax_rate"]), active=r["active"])


async def load_snapshot() -> engine.Snapshot:
    items = {r["sku"]: engine_item(r) for r in await Item.scoped_select()}
    codes = {r["id"]: r["code"] for r in await PriceList.scoped_select(PriceList.id,
                                                                        PriceList.code)}
    entries = {(codes[e["list_id"]], e["sku"]): Decimal(e["price"])
               for e in await PriceListEntry.scoped_select() if e["list_id"] in codes}
    rows = await PriceRule.scoped_select().where(PriceRule.enabled == True)  # noqa: E712
    depth_cache: dict[str, int] = {}
    rules = []
    for row in rows:
        data = rule_out(row)
        for code in data.regions:
            if code not in depth_cache:
                depth_cache[code] = region_depth(code)
        rules.append(engine_rule(data, depth_cache))
    return engine.Snapshot(items, entries, rules)


async def snapshot() -> engine.Snapshot:
    return await platform().cached(CACHE, load_snapshot)
