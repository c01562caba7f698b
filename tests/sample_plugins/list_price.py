"""Base prices from a fixed list, a Pudong labour surcharge step and a customer fact."""

from decimal import Decimal

from jimu_sdk import BasePrice, Money, PluginMeta, PriceAdjustment, PriceStep, hookimpl, localized

meta = PluginMeta(name="list_price", version="1.0.0", title=localized("价目表", "Price list"),
                  description=localized("固定价目表", "A fixed price list"), author="tests",
                  requires_core=">=1.0,<2")

PRICES = {"oil-filter": Decimal("45.00"), "labour-hour": Decimal("120.00")}


@hookimpl
def resolve_base_price(context):
    price = PRICES.get(context.item)
    if price is None:
        return None
    return BasePrice(Money(price), rule="list", reason=f"价目表 {context.item}")


def pudong(context, previous):
    if context.region_code == "310115" and context.item == "labour-hour":
        return PriceAdjustment(previous * Decimal("1.15"), "浦东新区人工上浮15%")
    return None


@hookimpl
def register_pricing_steps():
    return [PriceStep(rule="pudong-labour", order=200, apply=pudong)]


@hookimpl
def customer_facts(customer):
    return {"list_price.vip": customer["level"] == "platinum"}
