"""Demo data from the seeds: FMCG dealers (冰红茶, 矿泉水), a hot-pot chain (火锅底料) on four
city tiers, and a 4S shop's maintenance parts and labour."""

from __future__ import annotations

from decimal import Decimal as D

from jimu_price_lists import services
from jimu_price_lists.schemas import BreakIn, ItemIn, PriceListIn, RuleIn

ITEMS = [
    ItemIn(sku="TEA-500-CASE", name="冰红茶500ml×15", unit="箱", kind="product",
           category="饮料", list_price=D("60.00"), cost=D("42.00")),
    ItemIn(sku="WATER-550-CASE", name="矿泉水550ml×24", unit="箱", kind="product",
           category="饮料", list_price=D("36.00"), cost=D("24.00")),
    ItemIn(sku="HOTPOT-BASE-CASE", name="火锅底料（牛油，箱）", unit="箱", kind="product",
           category="火锅食材", list_price=D("340.00"), cost=D("230.00")),
    ItemIn(sku="OIL-FILTER", name="机油滤芯", unit="件", kind="part", category="保养件",
           list_price=D("45.00"), cost=D("28.00")),
    ItemIn(sku="OIL-5W30-1L", name="全合成机油 1L", unit="L", kind="consumable",
           category="保养件", list_price=D("68.00"), cost=D("40.00")),
    ItemIn(sku="LABOUR-HOUR", name="工时", unit="h", kind="labour", category="工时",
           list_price=D("120.00"), cost=None, tax_rate=D("0.06")),
    ItemIn(sku="AC-1.5P", name="1.5匹变频空调", unit="台", kind="product", category="家电",
           list_price=D("3299.00"), cost=D("2400.00")),
]


def _dealer(code: str, level: str, price: str, bulk: str, name: str) -> RuleIn:
    return RuleIn(code=code, name=name, kind="fixed", scope="item", sku="TEA-500-CASE",
                  partner_levels=[level],
                  breaks=[BreakIn(min_qty=D(0), max_qty=D(100), value=D(price)),
                          BreakIn(min_qty=D(100), max_qty=None, value=D(bulk))])


def _tier(code: str, sku: str, tier: str, price: str, name: str) -> RuleIn:
    return RuleIn(code=code, name=name, kind="fixed", scope="item", sku=sku,
                  partner_tiers=[tier], value=D(price), priority=10)


RULES = [
    # Dealer level prices for tea; from 100 cases 2% off (51.00 × 0.98 = 49.98).
    _dealer("TEA-GA", "general_agent", "48.00", "47.04", "冰红茶 总代价（≥100箱 再降2%）"),
    _dealer("TEA-L1", "level1", "51.00", "49.98", "冰红茶 一级经销价（≥100箱 再降2%）"),
    _dealer("TEA-L2", "level2", "54.00", "52.92", "冰红茶 二级经销价（≥100箱 再降2%）"),
    # Store tiers (the price tiers plugin assigns A/B/C by monthly volume).
    _tier("TEA-TIER-A", "TEA-500-CASE", "A", "50.00", "冰红茶 A档门店价"),
    _tier("TEA-TIER-B", "TEA-500-CASE", "B", "53.00", "冰红茶 B档门店价"),
    _tier("TEA-TIER-C", "TEA-500-CASE", "C", "56.00", "冰红茶 C档门店价"),
    # Hot-pot chain: city tiers T1..T4.
    _tier("HOTPOT-T1", "HOTPOT-BASE-CASE", "T1", "320.00", "火锅底料 一线城市档"),
    _tier("HOTPOT-T2", "HOTPOT-BASE-CASE", "T2", "300.00", "火锅底料 二线城市档"),
    _tier("HOTPOT-T3", "HOTPOT-BASE-CASE", "T3", "285.00", "火锅底料 三线城市档"),
    _tier("HOTPOT-T4", "HOTPOT-BASE-CASE", "T4", "270.00", "火锅底料 县城档"),
    # Beverages for everyone else: 5% off list, to 0.50, margin kept within 25%–40%.
    RuleIn(code="BEV-MARGIN", name="饮料 公式价（保底毛利25%，封顶40%）", kind="formula",
           scope="category", category="饮料", base="list_price", value=D("5"),
           rounding_step=D("0.50"), min_margin=D("25"), max_margin=D("40")),
    # Water for dealers: the 2026 dealer price list, 3% off from 50 cases.
    RuleIn(code="WATER-DEALER", name="矿泉水 经销商价目表（≥50箱 降3%）", kind="formula",
           scope="item", sku="WATER-550-CASE", base="price_list", price_list="DEALER-2026",
           partner_levels=["general_agent", "level1", "level2"],
           breaks=[BreakIn(min_qty=D(0), max_qty=D(50), value=D(0)),
                   BreakIn(min_qty=D(50), max_qty=None, value=D(3))]),
    # 4S: installers and service providers buy parts at cost + 30% margin floor.
    RuleIn(code="4S-PARTS-CHANNEL", name="保养件 服务商渠道价", kind="formula",
           scope="category", category="保养件", base="cost", value=D(0),
           surcharge=D("0"), min_margin=D("30"), channels=["service"]),
]


async def seed(tenant_id: int) -> None:
    for item in ITEMS:
        # Another plugin's demo (the parts library) may have created the part already.
        if await services.item_by_sku(item.sku) is None:
            await services.create_item(item)
    plist = await services.create_price_list(
        PriceListIn(code="DEALER-2026", name="经销商价 2026"))
    await services.set_entry(plist["id"], "TEA-500-CASE", D("52.00"))
    await services.set_entry(plist["id"], "WATER-550-CASE", D("30.00"))
    for rule in RULES:
        await services.create_rule(rule)
