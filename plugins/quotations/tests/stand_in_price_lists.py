"""A test-only stand-in for the price lists plugin (slug ``price_lists``, which quotations
depends on): list prices for a few SKUs, a 13% VAT step, a South China +5% step, and a
counter of pricing calls (``pricing_facts`` runs once per ``platform().price`` call)."""

from __future__ import annotations

from decimal import Decimal

from jimu_sdk import BasePrice, Money, PluginMeta, PriceAdjustment, PriceStep, hookimpl, localized

meta = PluginMeta(name="price_lists", version="0.0.1", title=localized("测试价目", "Test prices"),
                  description=localized("测试用价目", "Test prices"), author="tests",
                  requires_core=">=1.0,<2")

# sku: (name, category, list price)
ITEMS = {
    "TEA-500-CASE": ("冰红茶500ml×15", "drinks", Decimal("52.00")),
    "WATER-550-CASE": ("矿泉水550ml×24", "drinks", Decimal("30.00")),
    "OIL-FILTER": ("机油滤清器", "parts", Decimal("3.333")),
    "LABOUR-H": ("工时", "labour", Decimal("120.00")),
}
CALLS = {"price": 0}
VAT = Decimal("0.13")


@hookimpl
def resolve_base_price(context):
    item = ITEMS.get(context.item)
    if item is None:
        return None
    return BasePrice(unit_price=Money(item[2]), rule="list-price",
                     reason=f"list price {item[2]}")


@hookimpl
def pricing_facts(contexts):
    CALLS["price"] += 1
    return [{"price_lists.category": ITEMS[c.item][1]} if c.item in ITEMS else {}
            for c in contexts]


def south_china(context, previous):
    if "440000" not in (context.facts.get("region.path") or ()):
        return None
    return PriceAdjustment(total=previous * Decimal("1.05"), reason="South China +5%",
                           rule="south-china")


def vat(context, previous):
    return PriceAdjustment(total=previous * (1 + VAT), reason="VAT 13%", rule="vat", kind="tax")


@hookimpl
def register_pricing_steps():
    return [PriceStep(rule="south-china", order=200, apply=south_china),
            PriceStep(rule="vat", order=900, apply=vat)]


async def items_by_sku(skus):
    return {s: {"sku": s, "name": ITEMS[s][0], "category": ITEMS[s][1]}
            for s in dict.fromkeys(skus) if s in ITEMS}


async def search_items(q, limit=20):
    return [{"sku": s, "name": v[0]} for s, v in ITEMS.items()
            if q.lower() in s.lower() or q in v[0]][:limit]
