"""Test-only stand-in for the price lists, regional pricing and price tiers plugins (built in
parallel): fixed list prices (``resolve_base_price``) and the facts price factors read."""

from decimal import Decimal

from jimu_sdk import BasePrice, Money, PluginMeta, hookimpl, localized

meta = PluginMeta(name="pf_catalog", version="1.0.0", title=localized("测试价目", "Test catalog"),
                  description=localized("测试用价目表", "Fixed prices for tests"),
                  author="tests", requires_core=">=1.0,<2")

# sku: (list price, cost, category, tax rate, unit)
ITEMS = {
    "TEA-500-CASE": (Decimal("36.00"), Decimal("30.00"), "beverage", None, "箱"),
    "WATER-550-CASE": (Decimal("24.00"), Decimal("18.00"), "beverage", None, "箱"),
    "HOTPOT-BASE-CASE": (Decimal("180.00"), Decimal("150.00"), "condiment", None, "箱"),
    "AC-1.5P": (Decimal("3999.00"), Decimal("3000.00"), "appliance", Decimal("0.13"), "台"),
    "BOOK-1": (Decimal("50.00"), Decimal("20.00"), "books", Decimal("0.09"), "本"),
    "NOCOST": (Decimal("10.00"), None, "misc", None, "件"),
}
ZONES = {"11": "HB", "12": "HB", "13": "HB", "44": "HN", "45": "HN", "46": "HN"}
TIERS: dict[int, str] = {}
"""Partner id → tier, set by tests (stands in for price_tiers)."""


@hookimpl
def resolve_base_price(context):
    item = ITEMS.get(context.item)
    if item is None:
        return None
    return BasePrice(Money(item[0]), rule="list", reason=f"价目表 {context.item}")


@hookimpl
def pricing_facts(contexts):
    answers = []
    for context in contexts:
        facts = {}
        item = ITEMS.get(context.item)
        if item is not None:
            if item[1] is not None:
                facts["price_lists.cost"] = item[1]
            facts["price_lists.category"] = item[2]
            if item[3] is not None:
                facts["price_lists.tax_rate"] = item[3]
            facts["price_lists.unit"] = item[4]
        region = context.facts.get("region.code")
        if region and region[:2] in ZONES:
            facts["regional_pricing.zones"] = [ZONES[region[:2]]]
        if context.partner_id in TIERS:
            facts["price_tiers.tier"] = TIERS[context.partner_id]
        answers.append(facts)
    return answers
