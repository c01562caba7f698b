"""A test-only item plugin: base prices and ``price_lists.kind`` without the price lists
plugin (which regional pricing meets only through facts)."""

from decimal import Decimal

from jimu_sdk import BasePrice, Money, PluginMeta, hookimpl, localized

meta = PluginMeta(name="fake_items", version="0.1.0", title=localized("测试商品", "Test items"),
                  description=localized("测试用商品", "Items for tests"), author="tests",
                  requires_core=">=1.0,<2")

ITEMS = {
    # item: (unit price, kind)
    "LAB-OIL": (Decimal("80.00"), "labour"),  # 换机油工时 (per hour)
    "COLA-24": (Decimal("50.00"), "goods"),  # 一箱饮料
    "FILTER": (Decimal("35.00"), "part"),
}


@hookimpl
def resolve_base_price(context):
    found = ITEMS.get(context.item)
    if found is None:
        return None
    return BasePrice(unit_price=Money(found[0], context.currency), rule="list",
                     reason=f"list price {found[0]}")


@hookimpl
def pricing_facts(contexts):
    return [{"price_lists.kind": ITEMS[c.item][1]} if c.item in ITEMS else {}
            for c in contexts]
