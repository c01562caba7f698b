"""Depends on list_price: 5% off from 10 units, applied before the regional step."""

from decimal import Decimal

from jimu_sdk import PluginMeta, PriceAdjustment, PriceStep, hookimpl, localized

meta = PluginMeta(name="volume_discount", version="1.0.0",
                  title=localized("量大优惠", "Volume discount"),
                  description=localized("10件起95折", "5% off from 10 units"), author="tests",
                  requires_core=">=1.0", depends=("list_price",))


def discount(context, previous):
    if context.quantity >= 10:
        band = context.facts["volume_discount.band"]
        return PriceAdjustment(previous * Decimal("0.95"), "10件起95折",
                               facts={"volume_discount.band": band})
    return None


@hookimpl
async def pricing_facts(contexts):
    return [{"volume_discount.band": "10+" if c.quantity >= 10 else "1-9"} for c in contexts]


@hookimpl
def register_pricing_steps():
    return [PriceStep(rule="ten-plus", order=100, apply=discount)]
