"""A test-only plugin giving every item a base price of 10.00 CNY (the price_lists plugin is
built separately; the fact test only needs some base price)."""

from decimal import Decimal

from jimu_sdk import BasePrice, Money, PluginMeta, hookimpl, localized

meta = PluginMeta(name="tier_test_prices", version="0.1.0",
                  title=localized("测试价格", "Test prices"),
                  description=localized("测试用基础价格", "Base prices for tests"),
                  author="Jimu team", requires_core=">=1.0,<2")


@hookimpl
def resolve_base_price(context):
    return BasePrice(Money(Decimal("10.00")), rule="test-price", reason="测试价")
